"""Cached wrappers around recaug calls, keyed by data fingerprint + configuration (never by global state)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

import streamlit as st

from recaug.core.progress import ProgressFn
from recaug.data.dataset import Dataset
from recaug.data.loading import load_dataset
from recaug.data.prepare import PrepareReport
from recaug.experiment import ExperimentConfig, ExperimentResult, run_experiment

_MAX_EXPERIMENTS = 16


@st.cache_resource(show_spinner="Loading the built-in dataset…")
def builtin_dataset(name: str) -> tuple[Dataset, PrepareReport]:
    """Built-in data is read once per server process."""
    return load_dataset(name)


class ResultStore:
    """Process-wide LRU of experiment results; a re-run with the same data and config is instant."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


@st.cache_resource
def result_store() -> ResultStore:
    return ResultStore(_MAX_EXPERIMENTS)


def config_key(dataset: Dataset, payload: dict[str, Any]) -> str:
    """Cache key: data fingerprint + canonical JSON of the configuration."""
    return dataset.fingerprint() + ":" + json.dumps(payload, sort_keys=True, default=str)


def cached_experiment(
    dataset: Dataset, config: ExperimentConfig, progress: ProgressFn, executor: Any = None
) -> tuple[ExperimentResult, bool]:
    """(result, was_cached). Models are kept so what-ifs can reuse them. ``executor`` (e.g. Ray) does not enter
    the cache key: results are identical wherever they run."""
    key = config_key(dataset, config.to_dict())
    store = result_store()
    hit = store.get(key)
    if hit is not None:
        return hit, True
    result = run_experiment(dataset, config, progress=progress, keep_models=True, executor=executor, fidelity=True)
    store.put(key, result)
    return result, False


def cached_value(key: str, compute: Any) -> Any:
    """Generic memo in the process-wide store (e.g. augmentation previews, projections)."""
    store = result_store()
    hit = store.get(key)
    if hit is None:
        hit = compute()
        store.put(key, hit)
    return hit
