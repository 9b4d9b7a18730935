"""What tuning a component on the data cost: one record shape for every tuned part (the tuned encoder, a tuned LLM).

A run that uses a component trained on its training split pays for that training once (later runs on the same
split load it from the cache). So the cost is part of the run's honest price and the Augment page shows it next to
the skill check. Every tuned component reports the same fields, so a second one (a LoRA-tuned LLM beside the tuned
encoder) shows with no new page code:

* ``component`` -- what was tuned ("tuned encoder", "tuned LLM", ...);
* ``cpu_s``, ``wall_s`` -- CPU seconds (all threads) and wall seconds of the training when it ran;
* ``examples`` -- training examples (the encoder's co-interaction pairs, an LLM's history -> next-item texts);
* ``steps`` -- optimiser steps;
* ``users``, ``items``, ``interactions`` -- the training split it saw (never validation or test);
* ``seed`` -- the seed it was trained with;
* ``cached`` -- True when this run loaded it from the cache (the cost was paid by an earlier run).

Anything else a component wants to add (losses, settings) rides along in the same dict. The records live in an
augmenter's ``info["tuning"]`` (a list); :func:`add_tuning_cost` is the one place that appends to it.
"""

from __future__ import annotations

from typing import Any

import scipy.sparse as sp

TUNING = "tuning"  # the info key: a list of cost records, one per tuned component
COST_FIELDS = ("component", "cpu_s", "wall_s", "examples", "steps", "users", "items", "interactions", "seed", "cached")


def split_shape(matrix: sp.spmatrix) -> dict[str, int]:
    """The training split a component saw, as the record's ``users``, ``items`` and ``interactions``."""
    return {"users": int(matrix.shape[0]), "items": int(matrix.shape[1]), "interactions": int(matrix.nnz)}


def cost_record(
    component: str,
    *,
    cpu_s: float,
    wall_s: float,
    examples: int,
    steps: int,
    matrix: sp.spmatrix,
    seed: int,
    cached: bool,
    **extra: Any,
) -> dict[str, Any]:
    """One component's training cost in the shared field names (``extra`` is kept after them)."""
    return {
        "component": component,
        "cpu_s": round(float(cpu_s), 1),
        "wall_s": round(float(wall_s), 1),
        "examples": int(examples),
        "steps": int(steps),
        **split_shape(matrix),
        "seed": int(seed),
        "cached": bool(cached),
        **extra,
    }


def add_tuning_cost(info: dict[str, Any] | None, record: dict[str, Any]) -> None:
    """Append ``record`` to ``info["tuning"]`` (no-op without ``info``); a component tuned twice for one fit is
    listed once."""
    if info is None:
        return
    records = info.setdefault(TUNING, [])
    if record not in records:
        records.append(record)


def tuning_costs(info: dict[str, Any]) -> list[dict[str, Any]]:
    """The cost records of an augmenter's info (empty when nothing was tuned)."""
    records = info.get(TUNING) or []
    return [r for r in records if isinstance(r, dict)]
