"""Widgets for the Augment page: method picker, budget, LLM settings, and the result panels."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from recaug.augment import AUGMENTERS, AugmentResult
from recaug.augment.llm.llm_common import llm_augmenter_params, llm_warnings
from recaug.augment.options import merge_params, param_specs, shared_options
from recaug.core.errors import RecaugInputError
from recaug.data.builtin import item_noun_for
from recaug.data.dataset import VIRTUAL_PREFIX, Dataset
from recaug.data.schema import ITEM, POLARITY, USER
from recaug.data.splits import (
    PROTOCOL_PARAMETERS,
    SPLITS,
    ProtocolParam,
    check_protocol_params,
    protocol_params,
    protocol_summary,
    seed_effect,
)
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


def protocol_help() -> str:
    """The 'Split protocol' hover: every protocol, what it does with its defaults, what a seed changes under it and
    its parameters, all from recaug.data.splits (the hover named three of the five protocols and no parameter)."""
    lines = []
    for name in SPLITS.names():
        specs = PROTOCOL_PARAMETERS.get(name, ())
        settable = f" Parameters (below the protocol): {', '.join(s.name for s in specs)}." if specs else ""
        lines.append(f"- **{name}**: {protocol_summary(name)}; {seed_effect(name)}.{settable}")
    return "How train/validation/test are split; used here and on every page after it.\n\n" + "\n".join(lines)


def protocol_param_key(protocol: str, name: str) -> str:
    """The widget (and form memory) key of one protocol parameter."""
    return f"aug_protocol_param:{protocol}:{name}"


def _param_input(container: Any, protocol: str, spec: ProtocolParam, start: Any, on_change: Callable[[], None]) -> Any:
    """One parameter's number input, bounded as :class:`ProtocolParam` allows (a share's open 0 is checked after)."""
    default = protocol_params(protocol)[spec.name]
    where = f"{spec.meaning[:1].upper()}{spec.meaning[1:]}: {spec.span()}, default {default}"
    hover = f"{where} (the CLI's --protocol-params {spec.name}=…; recorded in the run's config)."
    key = protocol_param_key(protocol, spec.name)
    if spec.whole:
        return container.number_input(
            f"{protocol}: {spec.name}",
            int(spec.low),
            int(spec.high),
            int(start),
            1,
            key=key,
            help=hover,
            on_change=on_change,
        )
    return container.number_input(
        f"{protocol}: {spec.name}",
        0.0,
        float(spec.high),
        float(start),
        0.05,
        format="%.3f",
        key=key,
        help=hover,
        on_change=on_change,
    )


def protocol_params_form(protocol: str, current: dict[str, Any]) -> dict[str, Any]:
    """Number inputs for ``protocol``'s parameters (none for random-811 and leave-last-out), checked as the CLI and
    config reruns check them. Returns what the split uses: the values that differ from the defaults, plus any that
    ``current`` (a reopened run) set explicitly, so the form gives back exactly the parameters a run was made with."""
    specs = PROTOCOL_PARAMETERS.get(protocol, ())
    if not specs:
        return {}
    defaults = protocol_params(protocol)
    given = dict(current.get("protocol_params") or {}) if protocol == current.get("protocol") else {}

    by_name = {spec.name: spec for spec in specs}

    def used(values: dict[str, Any]) -> dict[str, Any]:
        """The allowed values that differ from the defaults or that the shown run set explicitly."""
        return {
            name: value
            for name, value in values.items()
            if by_name[name].problem(value) is None and (value != defaults[name] or given.get(name) == value)
        }

    def keep() -> None:  # in the widget's callback, as the protocol is: a sidebar click may cut the page's run short
        values = {
            s.name: remember(
                protocol_param_key(protocol, s.name), st.session_state[protocol_param_key(protocol, s.name)]
            )
            for s in specs
        }
        keep_augment_setting("protocol_params", used(values))

    *inputs, note = st.columns([1] * len(specs) + [4 - len(specs)], vertical_alignment="bottom")
    values: dict[str, Any] = {}
    for column, spec in zip(inputs, specs, strict=True):
        key = protocol_param_key(protocol, spec.name)
        start = recalled(key, given.get(spec.name, defaults[spec.name]))
        values[spec.name] = remember(key, _param_input(column, protocol, spec, start, keep))
        try:
            check_protocol_params(protocol, {spec.name: values[spec.name]})
        except RecaugInputError as err:
            st.error(f"{err}. Until then the split uses the default {spec.name}={defaults[spec.name]}.")
    out = used(values)
    note.caption(f"`{protocol}`: {protocol_summary(protocol, out)}; {seed_effect(protocol)}.")
    return out


def default_count(n_interactions: int) -> int:
    """The count budget a switch to "count" starts at: 10% of the data, rounded to a round number, at most 5,000
    (walk 13: a fixed 5,000 asked for more rows than a 4,828-row training split)."""
    tenth = max(1, n_interactions // 10)
    step = 10 ** max(0, len(str(tenth)) - 1)
    return int(min(5000, max(1, tenth // step * step)))


def method_form(current: dict[str, Any], dataset_name: str = "", n_interactions: int = 50_000) -> dict[str, Any]:
    """The augmentation settings; returns a new config dict (the caller stores it). ``dataset_name`` picks what
    LLM prompts call an item ("movie" for MovieLens); ``n_interactions`` sizes the count budget's start."""
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
        count = recalled("aug_budget_count", default_count(n_interactions))
        budget: float | int = remember(
            "aug_budget_count",
            int(
                mid.number_input(
                    "Synthetic interactions",
                    1,
                    1_000_000,
                    count,
                    step=500,
                    key="aug_budget_count",
                    on_change=lambda: keep_augment_setting("budget", int(st.session_state["aug_budget_count"])),
                )
            ),
        )
    else:
        pct = mid.slider(
            "Budget (% of training interactions)",
            1,
            50,
            round(float(current["budget"]) * 100) if isinstance(current["budget"], float) else 10,
            key="aug_budget_pct",
            on_change=lambda: keep_augment_setting("budget", st.session_state["aug_budget_pct"] / 100),
        )
        budget = pct / 100
    target = right.selectbox(
        "Who receives synthetic data",
        list(TARGET_LABELS),
        index=list(TARGET_LABELS).index(current["target"]),
        format_func=TARGET_LABELS.get,
        key="aug_target",
        # Kept by the change's callback, like the methods and protocol: a sidebar click right after the change cuts
        # this script short (walk 13 lost "cold items" twice, right after switching the protocol to cold-items).
        on_change=lambda: keep_augment_setting("target", st.session_state["aug_target"]),
    )
    seed_column, protocol_column, user_column, item_column, denoise_column = st.columns([1, 1.2, 1, 1, 1.2])
    seed = int(
        seed_column.number_input(
            "Seed",
            0,
            10_000,
            int(current["seed"]),
            key="aug_seed",
            on_change=lambda: keep_augment_setting("seed", int(st.session_state["aug_seed"])),
            help="Seeds every augmenter and the split where the protocol draws one (the Split protocol's help says "
            "what a seed changes under each).",
        )
    )
    protocol = remembered_choice(
        protocol_column.selectbox,
        "Split protocol",
        SPLITS.names(),
        key="aug_protocol",
        default=current.get("protocol", "random-811"),
        on_pick=lambda value: keep_augment_setting("protocol", value),
        help=protocol_help(),
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
    split_params = protocol_params_form(protocol, current)
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
        "protocol_params": split_params,
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
    protocol = config.get("protocol", "random-811")
    memory: dict[str, Any] = {"aug_protocol": protocol}
    if protocol in SPLITS:  # every parameter, defaults too: a value typed before must not outlive the reopen
        for name, value in (protocol_params(protocol) | dict(config.get("protocol_params") or {})).items():
            memory[protocol_param_key(protocol, name)] = value
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


# Below this share of its budget a method's tab warns: a comparison against a method that filled its budget is then
# not like for like (Compare's cost table shows the same share as "budget filled").
SHORTFALL_WARN = 0.5
# The synthetic rows "concentrate on few items" when they reach fewer distinct items than this share of what they
# could reach (the catalog, or the rows themselves when fewer). On ML-100k at a 10% budget CFGAN and embedding-gan
# reach 9% of the catalog, every other method 23-99%.
CONCENTRATION_WARN = 0.15
CONCENTRATION_MIN_ROWS = 100


def positive_rows(result: AugmentResult) -> pd.DataFrame:
    """The rows a method adds as training edges (LLM negatives, ``polarity`` -1, are not edges)."""
    rows = result.rows
    return rows[rows[POLARITY] >= 0] if POLARITY in rows else rows


def _count_cards(result: AugmentResult) -> list[tuple[str, str, str]]:
    """(label, value, hover text) of the count cards. Users are counted as what they are: real users who got rows
    and virtual users a method created are different things (Compare's cost table counts them apart too)."""
    info = result.info
    if "items_with_start_vectors" in info:  # a method that gives item start vectors instead of rows (llm-init)
        return [
            ("Items with start vectors", f"{info['items_with_start_vectors']:,}", ""),
            ("LLM-enriched items", f"{info.get('items_enriched', 0):,}", ""),
            ("Synthetic rows", "0", "this method changes how models start, not what they train on"),
        ]
    if result.removed is not None:  # removes real edges instead of adding rows (edge-dropout)
        removed = len(result.removed)
        return [
            ("Real edges removed", f"{removed:,}", f"budget {info.get('budget', 0):,}; adds no synthetic rows"),
            ("Real users who lost edges", f"{result.removed[USER].nunique():,}", "each keeps at least min_keep edges"),
            ("Budget filled", f"{removed / max(int(info.get('budget', 0)), 1):.0%}", ""),
        ]
    rows = positive_rows(result)
    if "virtual_users" in info:  # counted where the rows are made (recaug.augment.base), as Compare's cost table
        real, virtual = int(info.get("users_touched", 0)), int(info["virtual_users"])
    else:  # kept from before the count was split: real users and virtual ones were one number
        is_virtual = rows[USER].astype(str).str.startswith(VIRTUAL_PREFIX)
        real, virtual = rows.loc[~is_virtual, USER].nunique(), rows.loc[is_virtual, USER].nunique()
    cards = [("Synthetic rows", f"{len(rows):,}", f"budget {info.get('budget', 0):,}")]
    if real or not virtual:
        cards.append(("Real users given rows", f"{real:,}", "existing users"))
    if virtual:
        cards.append(
            (
                "Virtual users created",
                f"{virtual:,}",
                f"new users made only of synthetic rows (ids {VIRTUAL_PREFIX}…); real users keep their history",
            )
        )
    cards.append(("Share of training data", f"{info.get('synthetic_share', 0):.1%}", "synthetic rows / real rows"))
    return cards


def rows_summary(info: dict[str, Any], denoise: float) -> str:
    """From proposed to kept, every step that cut rows, with counts that add up (proposed = dropped + kept).

    Cleaning (pairs already in training, duplicates, unknown items) also trims to the pool it was asked for: the
    budget, or with ``denoise`` the larger pool that denoising scores; its step says so when that pool was full.
    """
    proposed, kept, budget = int(info.get("proposed", 0)), int(info.get("kept", 0)), int(info.get("budget", 0))
    capped = {unit: int(info.get(f"dropped_by_{unit}_cap", 0)) for unit in ("user", "item")}
    denoised = int(info.get("denoise_dropped", 0))
    cleaned = int(info.get("denoise_scored", kept))  # rows out of cleaning and the caps
    pool = math.ceil(budget / (1.0 - denoise)) if 0 < denoise < 1 else budget
    full = f" or past the {pool:,} rows denoising scores" if pool > budget else " or past the budget"
    steps = [
        (
            proposed - sum(capped.values()) - cleaned,
            "already in training, duplicates, unknown items" + (full if cleaned >= pool else ""),
        ),
        *((count, f"over the per-{unit} cap") for unit, count in capped.items()),
        (denoised, "least plausible: denoise"),
        (cleaned - denoised - kept, "past the budget"),
    ]
    named = [f"{count:,} ({what})" for count, what in steps if count > 0]
    dropped = f"dropped {', '.join(named[:-1])}{' and ' if len(named) > 1 else ''}{named[-1]}; " if named else ""
    share = f" ({kept / budget:.0%})" if budget and kept < budget else ""
    return f"proposed {proposed:,}; {dropped}kept {kept:,} of a budget of {budget:,}{share}."


def _removes_only(result: AugmentResult) -> bool:
    """Whether the method removes real edges and adds no rows (edge-dropout)."""
    return result.removed is not None and positive_rows(result).empty


def _summary(result: AugmentResult) -> str:
    """The sentence under the cards: rows from proposed to kept, or for edge-dropout the real edges removed."""
    info = result.info
    if result.removed is not None:
        removed, budget = len(result.removed), int(info.get("budget", 0))
        return (
            f"adds no rows: removes real training edges instead (the negative control), {removed:,} of a budget of "
            f"{budget:,} from {result.removed[USER].nunique():,} users."
        )
    return rows_summary(info, float(result.params.get("denoise", 0.0) or 0.0))


def shortfall_warning(name: str, result: AugmentResult) -> str | None:
    """A warning when a method filled far less than its budget, with the reason where its info knows one; None when
    it filled enough, or when an LLM method's own budget note already says so."""
    info = result.info
    budget = int(info.get("budget", 0))
    done = len(result.removed) if result.removed is not None else int(info.get("kept", 0))
    if not budget or done >= SHORTFALL_WARN * budget or info.get("budget_note") or result.item_init is not None:
        return None
    did, unit = ("removed", "edge") if result.removed is not None else ("filled", "row")
    reason = info.get("supply_note")
    if not reason and int(info.get("proposed", 0)) < budget and result.removed is None:
        reason = f"it proposed only {int(info.get('proposed', 0)):,} rows for the targeted users and items"
    why = f": {reason}" if reason else ""
    return (
        f"{name} {did} only {done:,} of its {budget:,}-{unit} budget ({done / budget:.1%}){why}. "
        "A comparison with a method that filled its budget is not like for like."
    )


def concentration_warning(result: AugmentResult, n_items: int) -> str | None:
    """A hint when the synthetic rows pile onto few of the ``n_items`` catalog items (a generator's mode collapse),
    pointing to the per-item cap; None when they spread, or when the target is the cold items (the rows go to
    those few items by design)."""
    rows = positive_rows(result)
    if len(rows) < CONCENTRATION_MIN_ROWS or str(result.info.get("target", "")).startswith("cold items"):
        return None
    counts = rows[ITEM].value_counts()
    if len(counts) >= CONCENTRATION_WARN * min(len(rows), n_items):
        return None
    cap = int(result.params.get("max_per_item", 0) or 0)
    fix = (
        f"the per-item cap is {cap:,} already; lower it"
        if cap
        else f"set 'Max rows per item' (max_per_item) above, e.g. to {math.ceil(len(rows) / 100):,} (1% of the rows)"
    )
    return (
        f"The synthetic rows concentrate on few items: {len(counts):,} distinct items in {len(rows):,} rows "
        f"({len(counts) / n_items:.0%} of the {n_items:,}-item catalog), and the 10 most frequent hold "
        f"{counts.head(10).sum() / len(rows):.0%} of them. Training on them adds popularity bias; to spread them, "
        f"{fix}: each item then keeps its most confident rows, and the budget may go unfilled where the method "
        "has little else to propose."
    )


def _info_cards(result: AugmentResult) -> None:
    info = result.info
    cards = _count_cards(result)
    cols = st.columns(len(cards) + 1)
    for col, (label, value, why) in zip(cols, cards, strict=False):
        col.metric(label, value, help=why)
    fit, generate = float(info.get("fit_seconds", 0.0)), float(info.get("seconds", 0.0))
    # The skill check runs before the generation and is timed apart; a check reused from "Check skill now" cost
    # this run nothing. Left out, a run that only checked showed "0.0 s" after a 45 s wait.
    skill = 0.0 if info.get("skill_cached") else float(info.get("skill_seconds", 0.0))
    checked = f" + skill check {skill:.1f} s" if "skill_seconds" in info else ""
    cols[-1].metric(
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
    for warning in (shortfall_warning(name, result), concentration_warning(result, len(dataset.item_ids))):
        if warning:
            st.warning(markdown_prose(warning), icon=":material/warning:")
    _info_cards(result)
    run_skill_panel(info)  # the LLM's measured skill next to what it cost and decided, not only in the raw info
    if isinstance(info.get("memorisation"), dict):  # kept by ui.augment_memorisation
        st.caption(f"Memorisation check of this server model: {markdown_prose(info['memorisation']['line'])}")
    tuning_costs_panel(info)
    if result.item_init is not None:
        _start_vectors_panel(name, result)
        return
    st.caption(f"Target: {markdown_prose(info.get('target', ''))} · {markdown_prose(_summary(result))}")
    # A method that only removes edges (edge-dropout) shows the real edges it removed: an empty table of synthetic
    # rows made the negative control look as if it did nothing.
    shown, what = (result.removed, "removed edges") if _removes_only(result) else (result.rows, "synthetic rows")
    preview = with_titles(shown, dataset)
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
        f"Download {name} {what} (CSV)",
        to_csv_bytes(preview),
        f"{'removed' if shown is result.removed else 'synthetic'}_{name}.csv",
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
