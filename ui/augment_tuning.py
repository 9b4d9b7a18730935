"""The Augment page's training cost of components tuned on the data (issue 20: "with its training cost on the page").

A method run with ``encoder="tuned"`` first trains the tuned encoder on its training split (or loads it from the
cache when that split was tuned before). Before the run :func:`tuning_panel` says which: the cached model's recorded
cost, or an estimate of the training it will do. After the run :func:`tuning_costs_panel` shows the cost records
the method stored in its info (``info["tuning"]``, :mod:`recaug.text.tuning_cost`): one row per tuned component,
whatever the component, so a tuned LLM's record shows here with no new code.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from recaug.data.dataset import Dataset
from recaug.text.finetune import TUNED, cached_tuning, tuning_estimate
from recaug.text.llm.lora import DEFAULT_SETTINGS, TUNED_LLM
from recaug.text.tuning_cost import COST_FIELDS, tuning_costs
from ui.escape import markdown_prose
from ui.state import DEFAULT_PROTOCOL, current_split

LABELS = {
    "component": "tuned component",
    "cpu_s": "CPU-s",
    "wall_s": "wall s",
    "examples": "training examples",
    "steps": "steps",
    "users": "split users",
    "items": "split items",
    "interactions": "split interactions",
    "seed": "seed",
    "cached": "this run",
    "first_loss": "first loss",
    "last_loss": "last loss",
}


def tuned_methods(config: dict[str, Any]) -> list[str]:
    """The chosen methods that run with the tuned encoder."""
    params = config.get("augmenter_params") or {}
    return [name for name in config["augmenters"] if (params.get(name) or {}).get("encoder") == TUNED]


def planned_tuning(dataset: Dataset, config: dict[str, Any]) -> str | None:
    """One line on what the tuned encoder of ``config``'s training split costs: its recorded cost when it is cached,
    else an estimate of the training the run will do; None when no chosen method uses it."""
    methods = tuned_methods(config)
    if not methods:
        return None
    seed, protocol = int(config["seed"]), str(config.get("protocol", DEFAULT_PROTOCOL))
    split = current_split(dataset, seed, protocol, config.get("protocol_params"))
    train = dataset.training_data(split.train, cold_items=split.cold_items)
    texts = train.items["text"].tolist()
    who = ", ".join(methods)
    seen = f"the training split of {protocol} seed {seed} ({train.matrix.shape[0]:,} users, {train.matrix.nnz:,} rows)"
    record = cached_tuning(train.matrix, texts, seed=seed)
    if record is not None:
        return (
            f"Tuned encoder for {who}: already tuned on {seen}; a run loads it from the cache at no training cost. "
            f"Training it cost {record['cpu_s']} CPU-s ({record['wall_s']} s wall): {record['steps']:,} steps on "
            f"{record['examples']:,} co-interaction pairs."
        )
    plan = tuning_estimate(train.matrix, texts)
    return (
        f"Tuned encoder for {who}: not tuned on {seen} yet, so the run trains it first: {plan['steps']:,} steps on "
        f"{plan['examples']:,} co-interaction pairs, about {plan['train_cpu_s']} CPU-s, plus up to "
        f"{plan['embed_cpu_s']} CPU-s to embed {plan['texts']:,} item texts if no text method has embedded them yet "
        "(an estimate; the run records what it cost). Later runs on this split load it from the cache."
    )


def planned_llm_tuning(config: dict[str, Any]) -> str | None:
    """One line on the tuned LLM (``model="tuned"``) of ``config``'s LLM methods: what its training is; None when no
    chosen method uses it. Whether this split's adapter is cached is known only once the method builds its prompts,
    so the run's record says what it cost."""
    params = config.get("augmenter_params") or {}
    methods = [name for name in config["augmenters"] if (params.get(name) or {}).get("model") == TUNED_LLM]
    if not methods:
        return None
    s = DEFAULT_SETTINGS
    return (
        f"Tuned LLM for {', '.join(methods)}: the packaged SmolLM2 with LoRA adapters on its top {s.layers} layers, "
        f"trained on this training split's histories ({s.steps} steps on {s.examples:,} history -> next-item "
        "examples) before the run, or loaded from the cache when this split was tuned before; the skill check tunes "
        "its own on its reduced split. The run records what each cost."
    )


def cost_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The cost records as a table: the shared fields first (readable names), anything else a component adds after."""
    frame = pd.DataFrame(records)
    extra = [c for c in frame.columns if c not in COST_FIELDS]
    frame = frame[[c for c in COST_FIELDS if c in frame.columns] + extra]
    if "cached" in frame:
        frame["cached"] = frame["cached"].map({True: "loaded from cache (paid earlier)", False: "trained now"})
    return frame.rename(columns=LABELS)


def tuning_panel(dataset: Dataset, config: dict[str, Any], where: Any = st) -> None:
    """Before running: the tuned encoder's cost for this split (cached) or what training it will take, and what the
    tuned LLM trains, drawn in
    ``where`` (a container placed next to the skill check and filled after a finished run, so it is current)."""
    for line in (planned_tuning(dataset, config), planned_llm_tuning(config)):
        if line is not None:
            where.info(markdown_prose(line), icon=":material/model_training:")


def tuning_costs_panel(info: dict[str, Any]) -> None:
    """After a run: what tuning the method's components on the training split cost (nothing when none was tuned)."""
    records = tuning_costs(info)
    if not records:
        return
    st.markdown("**Tuned on this training split** (the training cost; a cached component was paid for earlier)")
    st.dataframe(cost_frame(records), hide_index=True, width="stretch")
