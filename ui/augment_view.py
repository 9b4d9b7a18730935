"""Widgets for the Augment page: method picker, budget, LLM settings, and the result panels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from recaug.augment import AUGMENTERS, AugmentResult
from recaug.augment.llm.llm_common import llm_augmenter_params, llm_warnings
from recaug.augment.options import merge_params, param_specs, shared_options
from recaug.data.builtin import item_noun_for
from recaug.data.dataset import Dataset
from recaug.data.splits import SPLITS
from recaug.experiment import with_titles
from recaug.reporting.export import to_csv_bytes
from recaug.text.llm.memorisation import memorisation_note
from ui.augment_tuning import tuning_costs_panel
from ui.errors import friendly_errors
from ui.escape import markdown_prose
from ui.param_form import method_params_form, param_key
from ui.skill_view import INSIST_HINT, run_skill_panel
from ui.state import keep_augment_setting, recalled, remember, remembered_choice

TARGET_LABELS = {
    "light-users": "Light users (bottom 25% by activity)",
    "all": "All users",
    "cold-items": "Cold items (bottom 25% by popularity)",
}


def describe(name: str) -> str:
    return f"{name} — {AUGMENTERS.get(name).description}"


def _cap_input(container: Any, unit: str, why: str) -> int:
    """A 'max synthetic rows per user/item' input (0 = no cap) that keeps its value across pages."""
    key = f"aug_max_per_{unit}"
    value = container.number_input(
        f"Max rows per {unit}", 0, 10_000, recalled(key, 0), key=key, help=f"Synthetic rows; 0 = no cap. {why}"
    )
    return remember(key, int(value))


def method_form(current: dict[str, Any], dataset_name: str = "") -> dict[str, Any]:
    """The augmentation settings; returns a new config dict (the caller stores it). ``dataset_name`` picks what
    LLM prompts call an item ("movie" for MovieLens)."""
    names = sorted(AUGMENTERS.names(), key=lambda n: (n != "random", AUGMENTERS.get(n).family, n))  # control first
    chosen = st.multiselect(
        "Augmentation methods",
        names,
        default=[n for n in current["augmenters"] if n in names],
        format_func=describe,
        key="aug_methods",
        on_change=lambda: keep_augment_setting("augmenters", list(st.session_state["aug_methods"])),
        help="Each method adds synthetic interactions to the training split only.",
    )
    left, mid, right = st.columns(3)
    modes = ["% of training interactions", "count"]
    mode = remembered_choice(left.radio, "Budget as", modes, key="aug_budget_mode", default=modes[0], horizontal=True)
    if mode == "count":
        count = recalled("aug_budget_count", 5000)
        budget: float | int = remember(
            "aug_budget_count",
            int(mid.number_input("Synthetic interactions", 1, 1_000_000, count, step=500, key="aug_budget_count")),
        )
    else:
        pct = mid.slider(
            "Budget (% of training interactions)",
            1,
            50,
            round(float(current["budget"]) * 100) if isinstance(current["budget"], float) else 10,
            key="aug_budget_pct",
        )
        budget = pct / 100
    target = right.selectbox(
        "Who receives synthetic data",
        list(TARGET_LABELS),
        index=list(TARGET_LABELS).index(current["target"]),
        format_func=TARGET_LABELS.get,
        key="aug_target",
    )
    seed_column, protocol_column, user_column, item_column, denoise_column = st.columns([1, 1.2, 1, 1, 1.2])
    seed = int(
        seed_column.number_input(
            "Seed", 0, 10_000, int(current["seed"]), key="aug_seed", help="Seeds the split and every augmenter."
        )
    )
    protocol = remembered_choice(
        protocol_column.selectbox,
        "Split protocol",
        SPLITS.names(),
        key="aug_protocol",
        default=current.get("protocol", "random-811"),
        on_pick=lambda value: keep_augment_setting("protocol", value),
        help="How train/validation/test are split; used here and on every page after it. random-811 is RecBole's "
        "default; cold-items holds out whole items (their text is all a method can use); cold-users keeps only "
        "a few interactions of some users.",
    )
    max_per_user = _cap_input(
        user_column,
        "user",
        "Each user keeps their most confident rows; a cap stops light users' real history being drowned out, "
        "at the price of a smaller budget actually used.",
    )
    max_per_item = _cap_input(
        item_column,
        "item",
        "Each item keeps its most confident rows; a cap stops a generator that collapses onto a few popular "
        "items from adding popularity bias.",
    )
    denoise_pct = remember(
        "aug_denoise",
        denoise_column.slider(
            "Denoise (%)",
            0,
            50,
            recalled("aug_denoise", 0),
            key="aug_denoise",
            help="Drop this share of the least plausible synthetic rows: extra rows are proposed, scored by a BPR "
            "trained on the training split only, and the worst dropped.",
        ),
    )
    params: dict[str, dict[str, Any]] = {}
    llm_methods = [n for n in chosen if n.startswith("llm-")]
    if llm_methods:
        with st.expander("LLM settings", expanded=False):
            backend = remembered_choice(
                st.selectbox,
                "Backend",
                ["local", "openai"],
                key="llm_backend",
                default="local",
                help="local: the packaged SmolLM2-135M-Instruct (offline) or a local HF folder; "
                "openai: any OpenAI-compatible server (vLLM, Ollama, llama.cpp, OpenAI).",
            )
            model = st.text_input(
                "Model (folder, server model name, or 'tuned'; empty = packaged default)",
                recalled("llm_model", ""),
                key="llm_model",
                help="'tuned' (local backend): the packaged SmolLM2 with LoRA adapters trained on this training "
                "split's histories; its training cost is shown before and after the run.",
            )
            base_url = st.text_input(
                "Server base URL (openai backend)",
                recalled("llm_base_url", ""),
                placeholder="http://127.0.0.1:8000/v1",
                key="llm_base_url",
            )
            key_from_url = remember(
                "llm_key_from_url",
                st.checkbox(
                    "Use the key in the URL",
                    bool(recalled("llm_key_from_url", False)),
                    key="llm_key_from_url",
                    help="A key typed into the base URL (http://user:KEY@host/v1 or ?key=...) is dropped unless "
                    "this is ticked; then it is sent as the API key (a Bearer header), never in the URL, and "
                    "never written to disk or shown.",
                ),
            )
            cap_column, timeout_column, concurrency_column = st.columns(3)
            max_calls = int(
                cap_column.number_input(
                    "LLM-call cap per method",
                    0,
                    1_000_000,
                    recalled("llm_max_calls", 2000),
                    step=100,
                    key="llm_max_calls",
                    help="Every targeted user (or item) is prompted until this many calls; 0 = no cap. The packaged "
                    "135M model makes a few calls per second on 2 cores; a server scales this up. Press "
                    "**Estimate LLM cost** to see calls, tokens and time before running.",
                )
            )
            timeout = int(
                timeout_column.number_input(
                    "Request timeout (s)",
                    1,
                    600,
                    int(recalled("llm_timeout", 60)),
                    key="llm_timeout",
                    help="openai backend: a request slower than this is retried.",
                )
            )
            concurrency = int(
                concurrency_column.number_input(
                    "Concurrent requests / batch",
                    1,
                    64,
                    recalled("llm_concurrency", 8),
                    key="llm_concurrency",
                    help="openai backend: requests in flight at once; local backend: prompts per batch.",
                )
            )
            noun_key = f"llm_item_noun:{dataset_name}"  # per data set: uploaded products are not movies
            noun = st.text_input(
                "Prompts call an item a",
                recalled(noun_key, item_noun_for(dataset_name)),
                key=noun_key,
                help="The word prompts use for an item: movie, product, book, song…",
            )
            st.caption(
                "API keys are read from the RECAUG_LLM_API_KEY / OPENAI_API_KEY environment variable or "
                "Streamlit secrets, never typed here or stored."
            )
            if memorised := memorisation_note(dataset_name, backend):
                st.warning(memorised)
        for key, value in (("llm_model", model), ("llm_base_url", base_url), (noun_key, noun)):
            remember(key, value)
        for key, number in (("llm_max_calls", max_calls), ("llm_timeout", timeout), ("llm_concurrency", concurrency)):
            remember(key, number)
        params = llm_augmenter_params(
            llm_methods,
            backend=backend,
            model=model or None,
            base_url=base_url or None,
            key_from_url=True if key_from_url else None,  # unticked: the default, so settings stay as they were
            max_calls=max_calls,
            timeout=float(timeout),
            batch_size=concurrency,
            item_noun=noun.strip() or None,
        )
    params = merge_params(
        shared_options(chosen, denoise=denoise_pct / 100, max_per_user=max_per_user, max_per_item=max_per_item),
        params,
        method_params_form(chosen),
    )
    return {
        "augmenters": chosen,
        "budget": budget,
        "target": target,
        "seed": seed,
        "protocol": protocol,
        # Not in the form (the CLI sets them): kept while the protocol is, so a reopened run's split stays its own.
        "protocol_params": dict(current.get("protocol_params") or {}) if protocol == current.get("protocol") else {},
        "augmenter_params": params,
    }


# The "LLM settings" widgets and the augmenter parameter each one sets (shared by every LLM method).
LLM_WIDGETS = {
    "llm_backend": "backend",
    "llm_model": "model",
    "llm_base_url": "base_url",
    "llm_key_from_url": "key_from_url",
    "llm_max_calls": "max_calls",
    "llm_timeout": "timeout",
    "llm_concurrency": "batch_size",
}
SHARED_WIDGETS = {"aug_max_per_user": "max_per_user", "aug_max_per_item": "max_per_item"}


def remember_form(config: dict[str, Any], dataset_name: str) -> None:
    """Make :func:`method_form` show ``config`` (a reopened run's or a refreshed page's settings): the inverse of
    the form, so every value it reads from its memory (caps, LLM settings, parameters) comes back as it was."""
    budget = config["budget"]
    memory: dict[str, Any] = {"aug_protocol": config.get("protocol", "random-811")}
    if isinstance(budget, int):
        memory |= {"aug_budget_mode": "count", "aug_budget_count": budget}
    else:
        memory["aug_budget_mode"] = "% of training interactions"
    params = config.get("augmenter_params") or {}
    for method in config["augmenters"]:
        values = params.get(method, {})
        for key, name in (SHARED_WIDGETS | LLM_WIDGETS).items():
            if name in values:
                memory.setdefault(key, "" if values[name] is None else values[name])
        if "denoise" in values:
            memory.setdefault("aug_denoise", round(float(values["denoise"]) * 100))
        if "item_noun" in values:
            memory.setdefault(f"llm_item_noun:{dataset_name}", values["item_noun"])
        if "min_skill" in values:  # the skill panel (ui/skill_view.py): check on unless "off", and insist
            memory.setdefault("llm_skill_check", values["min_skill"] != "off")
            memory.setdefault("llm_insist", bool(values.get("insist", False)))
        if method in AUGMENTERS:
            for spec in param_specs(method):
                if spec.name in values:
                    memory.setdefault(param_key(method, spec.name), values[spec.name])
    for key, value in memory.items():
        remember(key, value)


def _info_cards(info: dict[str, Any]) -> None:
    cols = st.columns(4)
    if "items_with_start_vectors" in info:  # a method that gives item start vectors instead of rows (llm-init)
        cols[0].metric("Items with start vectors", f"{info['items_with_start_vectors']:,}")
        cols[1].metric("LLM-enriched items", f"{info.get('items_enriched', 0):,}")
        cols[2].metric("Synthetic rows", "0", help="this method changes how models start, not what they train on")
    else:
        cols[0].metric("Synthetic rows", f"{info.get('kept', 0):,}", help=f"budget {info.get('budget', 0):,}")
        cols[1].metric("Users touched", f"{info.get('users_touched', 0):,}")
        cols[2].metric("Share of training data", f"{info.get('synthetic_share', 0):.1%}")
    fit, generate = float(info.get("fit_seconds", 0.0)), float(info.get("seconds", 0.0))
    # The skill check runs before the generation and is timed apart; a check reused from "Check skill now" cost
    # this run nothing. Left out, a run that only checked showed "0.0 s" after a 45 s wait.
    skill = 0.0 if info.get("skill_cached") else float(info.get("skill_seconds", 0.0))
    checked = f" + skill check {skill:.1f} s" if "skill_seconds" in info else ""
    cols[3].metric(
        "Time",
        f"{fit + skill + generate:.1f} s",
        help=f"fitting the augmenter {fit:.1f} s{checked} + generating rows {generate:.1f} s (LLM calls included)",
    )
    llm_keys = [k for k in LLM_CARDS if k in info]
    if llm_keys:
        for col, key in zip(st.columns(len(llm_keys)), llm_keys, strict=True):
            value = info[key]
            label, why = LLM_CARDS[key]
            if key == "skill_calls" and info.get("skill_cached"):
                value, why = 0, f"{why} This run reused the check measured earlier ({info[key]:,} calls then)."
            col.metric(label, f"{value:.1%}" if key.endswith("rate") else f"{value:,}", help=why)


# The LLM cards after a run: (label, hover text). The skill check's calls are listed apart from the augmentation's,
# so "0 calls" after a failed check never hides the calls the check made.
LLM_CARDS = {
    "calls": (
        "LLM calls",
        "Calls the augmentation spent generating rows, cache hits included; the skill check's are counted apart.",
    ),
    "skill_calls": (
        "skill-check calls",
        "Calls the skill check made before any spending; not counted against the LLM-call cap.",
    ),
    "tokens_in": ("tokens in", "Prompt tokens of the augmentation calls."),
    "tokens_out": ("tokens out", "Generated tokens of the augmentation calls."),
    "cache_hit_rate": ("cache hit rate", "Share of augmentation calls answered from the response cache."),
    "rejection_rate": ("rejection rate", "Share of prompts that added no row."),
    "flip_rate": ("flip rate", "Share of users whose pick changed with the candidate order."),
    "negatives": ("negatives", "Negative rows (polarity -1) kept."),
}


def result_panel(name: str, result: AugmentResult, dataset: Dataset) -> None:
    """Info cards, a preview with titles, the CSV download and (for LLM methods) sample prompts."""
    info = result.info
    for warning in llm_warnings([info], INSIST_HINT):  # unfilled budget, failed calls: never a silent shortfall
        st.warning(markdown_prose(warning.split(": ", 1)[1]), icon=":material/warning:")
    _info_cards(info)
    run_skill_panel(info)  # the LLM's measured skill next to what it cost and decided, not only in the raw info
    if isinstance(info.get("memorisation"), dict):  # kept by ui.augment_memorisation
        st.caption(f"Memorisation check of this server model: {markdown_prose(info['memorisation']['line'])}")
    tuning_costs_panel(info)
    if result.item_init is not None:
        _start_vectors_panel(name, result)
        return
    dropped = ["pairs already in training", "duplicates"]
    for unit in ("user", "item"):
        if info.get(f"dropped_by_{unit}_cap"):
            dropped.append(f"{info[f'dropped_by_{unit}_cap']:,} over the per-{unit} cap")
    if info.get("denoise_dropped"):
        dropped.append(f"{info['denoise_dropped']:,} least plausible (denoise)")
    st.caption(
        f"Target: {markdown_prose(info.get('target', ''))} · proposed {info.get('proposed', 0):,}, "
        f"kept {info.get('kept', 0):,} "
        f"after dropping {', '.join(dropped[:-1])} and {dropped[-1]}."
    )
    preview = with_titles(result.rows, dataset)
    if "prompt_id" in preview and not preview["prompt_id"].astype(str).str.len().gt(0).any():
        preview = preview.drop(columns="prompt_id")  # only LLM methods have prompts
    st.dataframe(
        preview.head(200),
        width="stretch",
        hide_index=True,
        column_config={
            "confidence": st.column_config.ProgressColumn("confidence", min_value=0.0, max_value=1.0, format="%.2f")
        },
    )
    st.download_button(
        f"Download {name} synthetic rows (CSV)",
        to_csv_bytes(preview),
        f"synthetic_{name}.csv",
        "text/csv",
        key=f"download_{name}",
    )
    if isinstance(result.log, pd.DataFrame) and not result.log.empty:
        with st.expander(f"Sample prompts and answers ({len(result.log):,} prompts)"):
            cols = [
                c
                for c in ("prompt", "response", "parsed_choice", "accepted", "reason", "cache_hit")
                if c in result.log.columns
            ]
            st.dataframe(result.log[cols].head(20), width="stretch", hide_index=True)
    other = {k: v for k, v in info.items() if k not in ("augmenter",)}
    with st.expander("All run info"):
        st.json(other)


def _start_vectors_panel(name: str, result: AugmentResult) -> None:
    """For methods that give item start vectors instead of rows (``llm-init``): what they give and who uses it."""
    from recaug.models import MODELS

    vectors = result.item_init
    if vectors is None:
        return
    users = ", ".join(n for n in MODELS.names() if MODELS.get(n).uses_item_init)
    enriched = result.artifacts.get("item_text")
    st.info(
        f"**{name} adds no rows.** It gives start vectors for {len(vectors):,} items (sentence embeddings of their "
        f"text, {0 if enriched is None else len(enriched):,} of them LLM-enriched first). In Compare, {users} "
        "start their item factors from them (projected to their dimension by PCA); other models ignore them, "
        "so their results for this variant equal the baseline's.",
        icon=":material/info:",
    )
    if isinstance(enriched, pd.DataFrame) and len(enriched):
        st.dataframe(enriched.drop(columns="prompt_id", errors="ignore"), width="stretch", hide_index=True)
    st.download_button(
        f"Download {name} item start vectors (CSV)",
        to_csv_bytes(vectors.reset_index()),
        f"item_start_vectors_{name}.csv",
        "text/csv",
        key=f"download_{name}",
    )
    with st.expander("All run info"):
        st.json({k: v for k, v in result.info.items() if k != "augmenter"})


def llm_estimate_panel(experiment: Any, estimate: Callable[[], list[str] | None]) -> None:
    """For LLM methods: a button that measures a short probe and shows calls, tokens and time before running.

    ``estimate()`` runs the probe (a stoppable job) and returns the lines to show, None when stopped.
    """
    if not any(name.startswith("llm-") for name in experiment.augmenters):
        return
    if st.button("Estimate LLM cost", key="estimate_llm", help="Runs one batch of real calls on this backend."):
        with friendly_errors("estimate the LLM cost"):
            lines = estimate()
            if lines is not None:
                st.session_state["llm_estimates"] = (experiment.to_dict(), lines)
    saved = st.session_state.get("llm_estimates")
    if saved and saved[0] == experiment.to_dict():
        st.info("  \n".join(markdown_prose(line) for line in saved[1]), icon=":material/schedule:")
