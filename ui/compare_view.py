"""The Compare page's table (primary rows first; intervals, q-values, seeds, users, seed noise, power) and the
verdict in words, starting from the question declared before the run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from recaug.core.variants import ordered_variants
from recaug.evaluate.design import AUGMENTATION_DRAW, MODEL_SEED, NOTHING, SPLIT_AND_MODEL, TIES_AND_MODEL
from recaug.evaluate.metrics import ACCURACY_METRICS
from recaug.evaluate.power import MAX_SEEDS_SHOWN
from recaug.evaluate.significance import (
    AA_CONTROL,
    DIRECTIONS,
    EXPLORATORY,
    MIN_SEEDS,
    NO_VERDICT,
    REPLICATE_NOTES,
    complete,
    delta_text,
    skipped_arms,
    verdict_words,
    without_skipped,
)
from recaug.experiment import compare_table
from recaug.reporting.labels import PERCENT_COLUMNS, column_label
from recaug.reporting.labels import percent as _percent
from ui.tables import MISSING, as_text, right_aligned

GREY = "color: #9ca3af"
# A zero seed noise says only that every seed gave the same Δ (both arms at 0 on cold items, say): a model with
# training noise can have it too, so it is not called deterministic (the verdict says where a row is).
SAME_EVERY_SEED = "0 (same Δ every seed)"
VERDICT_STYLE = {
    "better": "color: #15803d",
    "worse": "color: #b91c1c",
    "higher": "color: #1d4ed8",
    "lower": "color: #1d4ed8",
}
METRIC_ORDER = ["ndcg", "recall", "precision", "hit", "mrr", "map"]  # accuracy first, beyond-accuracy after
SIG_COLUMNS = ["ci_low", "ci_high", "p_ttest", "p_wilcoxon", "q_ttest", "n_seeds", "n_users", "se", "noise_floor"]
SIG_COLUMNS += ["verdict", "primary", "replicate", "mde", "seeds_to_decide", "level", "decided_at"]


def merged_table(
    results: pd.DataFrame, significance: pd.DataFrame | None, slice_name: str, metrics: list[str] | None = None
) -> pd.DataFrame:
    """compare_table + interval, q-value, seeds, users, seed noise, power and verdict for one slice, primary first.

    The verdicts are the significance table's: the primary question was declared before the run, so what is on
    screen never changes them. The A/A control is not a row here (it is a check, in significance.csv).
    """
    table = compare_table(results, slice_name)
    table = table[table["variant"] != AA_CONTROL]
    if metrics is not None:
        table = table[table["metric"].isin(metrics)]
    if significance is None or significance.empty:
        sig = pd.DataFrame(columns=["model", "variant", "metric", "k", *SIG_COLUMNS])
    else:
        sig = complete(significance)
        sig = sig[sig["slice"] == slice_name][["model", "variant", "metric", "k", *SIG_COLUMNS]]
    table = table.merge(sig, on=["model", "variant", "metric", "k"], how="left")
    if table["n_seeds"].isna().all():  # a table written before n_seeds existed
        table["n_seeds"] = results["seed"].nunique()
    table["verdict"] = table["verdict"].fillna(NO_VERDICT)
    table["primary"] = table["primary"].fillna(False).astype(bool)
    return _ordered(table)


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    rank = {name: position for position, name in enumerate(METRIC_ORDER)}
    order = table["metric"].map(lambda m: rank.get(m, len(rank)))
    variant_rank = {name: position for position, name in enumerate(ordered_variants(table["variant"]))}
    return (
        table.assign(_order=order, _variant=table["variant"].map(variant_rank), _later=~table["primary"])
        .sort_values(["_later", "_order", "metric", "k", "model", "_variant"], kind="stable")
        .drop(columns=["_order", "_variant", "_later"])
        .reset_index(drop=True)
    )


LABELS = {
    "delta_pct": "Δ %",
    "delta": "Δ",
    "noise_floor": "seed noise ±",
    "q_ttest": "q (BH)",
    "mde": "detectable ±",
    "n_seeds": "seeds",
    "n_users": "users",
    "interval_over": "interval over",
}
# What a row's interval is over, per kind of replicate (significance.csv's ``replicate``): the page said "over seeds"
# for every row, also for rows whose seeds vary nothing (interval over test users) or only the augmentation's draw.
INTERVAL_OVER = {
    SPLIT_AND_MODEL: "seeds",
    TIES_AND_MODEL: "seeds (ties)",
    MODEL_SEED: "seeds (training)",
    AUGMENTATION_DRAW: "seeds (augmentation)",
    NOTHING: "test users",
}
# The verdict next to its Δ: last of 15 columns it was off-screen at 1400 px, with the sentence that explains it.
SHOWN = ["model", "variant", "metric", "baseline", "augmented", "delta", "delta_pct", "verdict", "interval"]
SHOWN += ["interval_over", "noise_floor", "mde", "q_ttest", "n_seeds", "n_users", "primary"]


def _number(pattern: str) -> Callable[[float], str]:
    return lambda value: pattern.format(value)


FORMATS = {
    "baseline": _number("{:.4f}"),
    "augmented": _number("{:.4f}"),
    "delta": _number("{:+.4f}"),
    "delta_pct": _number("{:+.1f}%"),
    "noise_floor": lambda value: SAME_EVERY_SEED if value == 0 else f"{value:.4f}",
    "mde": _number("{:.4f}"),
    "q_ttest": lambda value: f"{value:.3g}",  # 0.0496 is not '0.050': a decided row must not read as undecided
    "n_seeds": _number("{:.0f}"),
    "n_users": _number("{:,.0f}"),
}
HELP = {
    "interval": "95% interval of Δ (t), for this row alone (not corrected for the other rows), over what 'interval "
    "over' names. A primary verdict is corrected within its family (q), so an interval that excludes 0 can still be "
    "'no clear difference': the verdict cell says when",
    "interval over": "What the interval's replicates are. seeds: each seed re-draws the split, the model's training "
    "and any random augmentation; seeds (ties): the split is fixed except same-time ties; seeds (training): one test "
    "set, seeds vary the model's training and any random augmentation; seeds (augmentation): one test set and a "
    "baseline that did not move, so what varied is the augmentation's draw; test users: nothing moved between seeds "
    "on this row, so the Δ is exact and the interval is over test users",
    "seed noise ±": "This row's own seed-to-seed spread of Δ (SD over seeds): how far one replicate moves it",
    "detectable ±": "Smallest change this design detects with 80% power at the row's level (its family's for "
    "primary rows)",
    "q (BH)": "t-test p-value over seeds, Benjamini-Hochberg-adjusted within the model and arm's primary rows",
    "verdict": "Primary rows (declared before the run): better/worse in the metric's own direction, or no clear "
    "difference; every other row is exploratory (Δ and interval, no verdict). Needs ≥ 3 seeds and ≥ 30 users",
}


def display_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The table as text: metric@k in one column, the interval in one column, missing values as a dash."""
    shown = table.assign(
        metric=table["metric"] + "@" + table["k"].astype(str),
        interval=[
            MISSING if pd.isna(lo) else f"[{lo:+.4f}, {hi:+.4f}]"
            for lo, hi in zip(table["ci_low"], table["ci_high"], strict=True)
        ],
    )
    if "replicate" in table.columns:
        shown["interval_over"] = [
            MISSING if pd.isna(lo) else INTERVAL_OVER.get(kind, MISSING)
            for lo, kind in zip(table["ci_low"], table["replicate"], strict=True)
        ]
    if "verdict" in table.columns:
        shown["verdict"] = [verdict_words(row) for row in table.to_dict("records")]
    shown = as_text(shown[[c for c in SHOWN if c in shown.columns]], FORMATS).fillna(MISSING)
    return shown.rename(columns=LABELS)


def comparison_table(table: pd.DataFrame, key: str = "compare_table") -> None:
    """Before/after table: Δ coloured by the verdict in the metric's own direction, unclear rows grey. An arm that
    made no row is left out (the verdict says it once)."""
    table = without_skipped(table).reset_index(drop=True)
    words = table["verdict"].fillna(NO_VERDICT).to_numpy()
    shown = display_frame(table)

    def row_style(row: pd.Series) -> list[str]:
        word = words[row.name]
        if word not in DIRECTIONS:
            return [GREY] * len(row)
        return [VERDICT_STYLE.get(word, "") if c in ("Δ", "Δ %", "verdict") else "" for c in row.index]

    config = {
        c: st.column_config.TextColumn(c, alignment="right", help=HELP.get(c))
        for c in [*(LABELS.get(c, c) for c in FORMATS), "interval", "interval over"]
        if c in shown.columns
    }
    config["verdict"] = st.column_config.TextColumn("verdict", width="medium", help=HELP["verdict"])
    config["primary"] = st.column_config.CheckboxColumn("primary", help="In the question declared before the run")
    st.dataframe(shown.style.apply(row_style, axis=1), width="stretch", hide_index=True, key=key, column_config=config)


def never_ranked(table: pd.DataFrame, arm: str = "both") -> list[str]:
    """Models whose accuracy is 0 on this slice (every seed: means of non-negative values) in both arms, or (``arm``
    "baseline") in the baseline only."""
    rows = table[table["metric"].isin(list(ACCURACY_METRICS))]
    zero = rows["baseline"].fillna(0).eq(0)
    if arm == "both":
        zero &= rows["augmented"].fillna(0).eq(0)
    by_model = zero.groupby(rows["model"], sort=False).all()
    return [str(model) for model, none in by_model.items() if none]


def never_ranked_note(table: pd.DataFrame, slice_name: str) -> str | None:
    """Why a slice shows 0 for some models (cold items: no model that learns from interactions alone can recommend
    them), in both arms or in the baseline only; None when every model ranked something there in both arms."""
    both = never_ranked(table)
    baseline_only = [m for m in never_ranked(table, arm="baseline") if m not in both]
    if not both and not baseline_only:
        return None
    parts = []
    if both:
        parts.append(
            f"{', '.join(both)} scored 0 in both arms in every seed: {'it' if len(both) == 1 else 'they'} never "
            "placed these users' test items in the top lists, so the arms cannot differ here."
        )
    if baseline_only:
        parts.append(
            f"{', '.join(baseline_only)} scored 0 without augmentation, so every hit here comes from the synthetic "
            "rows (Δ % is undefined against 0)."
        )
    note = f"On slice `{slice_name}`, " + " ".join(parts)
    if slice_name == "cold-items":
        note += (
            " These test items have no training interactions, so a model that learns from interactions alone "
            "cannot recommend them without augmentation. Any method that adds rows on them can change that: one "
            "that draws items from the whole catalogue (`random`, for one) by chance, one that reads their text "
            "(similarity, the LLM methods) by design. Choose slice `all` above for the verdict on every test user."
        )
        if scored := [m for m in dict.fromkeys(table["model"]) if m not in never_ranked(table, arm="baseline")]:
            note += (
                f" {', '.join(scored)} scored above 0 here without augmentation all the same, but not from knowing "
                "these items: a model like BPR starts every item with random factors, and one nobody trained on is "
                "only ever pushed down as a sampled negative, so a few still land in top lists by chance."
            )
    return note


def decided_elsewhere(significance: pd.DataFrame | None, slice_name: str) -> str | None:
    """The primary rows decided (better / worse) on slices other than the shown one, in a sentence: a verdict is
    per slice, and one slice's 'no change' must not hide another's 'worse'."""
    if significance is None or significance.empty or "primary" not in significance:
        return None
    table = complete(significance)
    decided = table[
        table["primary"].fillna(False).astype(bool)
        & table["verdict"].isin(DIRECTIONS)
        & table["slice"].ne(slice_name)
        & table["variant"].ne(AA_CONTROL)
    ]
    if decided.empty:
        return None
    parts = []
    for slice_shown, rows in decided.groupby("slice", sort=False):
        words = ", ".join(f"{r.model} + {r.variant} {r.metric}@{r.k} {r.verdict}" for r in rows.itertuples(index=False))
        parts.append(f"`{slice_shown}`: {words}")
    return "Decided on the question's other slices (choose one above to see it): " + "; ".join(parts) + "."


def short_power(row: dict[str, Any]) -> str:
    """'detectable ±0.011, about 9 seeds would decide this Δ': an undecided row's power, short enough for one line
    per arm (the sentence behind it is the report's and the CLI's ``row_power_sentence``)."""
    mde_value, needed = row.get("mde"), row.get("seeds_to_decide")
    if mde_value is None or pd.isna(mde_value):
        return ""
    text = f"detectable ±{mde_value:.3g}"
    if needed is not None and pd.notna(needed):
        text += f", more than {MAX_SEEDS_SHOWN} seeds" if needed > MAX_SEEDS_SHOWN else f", about {int(needed)} seeds"
        text += " would decide this Δ"
    return text


def verdict(table: pd.DataFrame, slice_name: str, stopping: str = "") -> None:
    """The verdict in words, from the primary question: per arm, which models it helps or hurts on the primary rows
    of this slice, each undecided one with what the design can detect; then a line on the exploratory rows."""
    primary = table[table["primary"]]
    if primary.empty:
        st.markdown(
            f"**Verdict: slice `{slice_name}` holds no primary row**: every row here is exploratory (Δ and interval, "
            "no verdict). The question declared before the run is on slice `all` and the arms' target slices."
        )
        return
    n_seeds = int(primary["n_seeds"].max())
    labels = ", ".join(dict.fromkeys(f"{m.upper()}@{k}" for m, k in zip(primary["metric"], primary["k"], strict=True)))
    skipped = skipped_arms(table)  # the baseline against itself in every row: said once, after the arms that ran
    lines = []
    for variant in [v for v in ordered_variants(primary["variant"]) if v not in skipped]:
        part = primary[primary["variant"] == variant]
        words = []
        for row in part.to_dict("records"):
            if row["replicate"] == NOTHING:
                what = f"exact Δ {delta_text(row['delta'])}, {row['verdict']} ({REPLICATE_NOTES[NOTHING]})"
            else:
                what = f"{verdict_words(row)} (Δ {delta_text(row['delta'])})"  # says when it was decided
            power = short_power(row) if row["verdict"] not in DIRECTIONS else ""
            words.append(f"{row['model']} {row['metric']}@{row['k']}: {what}" + (f", {power}" if power else ""))
        lines.append(f"- **{variant}** — " + "; ".join(words) + ".")
    lines += [f"- **{variant}**: {line.removeprefix(f'{variant}: ')}." for variant, line in skipped.items()]
    if n_seeds < MIN_SEEDS:
        plural = "s" if n_seeds != 1 else ""
        caveat = f"With {n_seeds} seed{plural} these are deltas only: a verdict needs ≥ {MIN_SEEDS} seeds."
    else:
        caveat = (
            f"{interval_legend(table['replicate'])} Each model and arm is one question, Benjamini-Hochberg-corrected "
            f"over its primary rows only. Other rows ({EXPLORATORY}) show Δ and interval without a verdict. "
            "'Detectable' is the smallest change these seeds tell apart with 80% power."
        )
    users = primary["n_users"].dropna()
    count = f", {int(users.min()):,} users" if len(users) else ""
    seeds = f" {stopping}." if stopping else ""
    st.markdown(
        f"**Verdict on the question declared before the run: does each arm change {labels}?** Slice `{slice_name}` "
        f"({n_seeds} seed{'s' if n_seeds != 1 else ''}{count}).{seeds} Grey rows are undecided or exploratory. "
        f"{caveat}\n" + "\n".join(lines)
    )


def interval_legend(replicates: pd.Series) -> str:
    """What the intervals and tests are over, one clause per kind of replicate among ``replicates`` (the rows on
    screen): on a fixed split some rows' seeds vary only the augmentation, others' nothing at all."""
    present = set(replicates.dropna())
    kinds = [kind for kind in INTERVAL_OVER if kind in present]
    if kinds == [SPLIT_AND_MODEL] or not kinds:
        return (
            "Intervals and tests are over seeds, each re-drawing the split, the model's training and any random "
            "augmentation."
        )
    clauses = []
    for kind in kinds:
        why = REPLICATE_NOTES.get(kind, "seeds re-draw the split, the model's training and any random augmentation")
        over = "test users, not seeds" if kind == NOTHING else "seeds"
        clauses.append(f"*{INTERVAL_OVER[kind]}*: over {over} ({why})")
    return "Intervals and tests, by the column *interval over*: " + "; ".join(clauses) + "."


def _seconds(value: float) -> str:
    return f"{value:,.2f}"


def _count(value: float) -> str:
    return f"{value:,.0f}"


SKILL_BESIDE = {"llm_calls": "skill_check_calls", "llm_tokens_in": "skill_check_tokens_in"}


def cost_view(cost: pd.DataFrame) -> None:
    """The price of each method next to its verdict: rows, seconds, extra training time, LLM usage."""
    st.markdown(
        "**Cost** — means over seeds; seconds are wall-clock on this machine and vary between runs. Extra fit time "
        "can be negative: early stopping may stop sooner on augmented data."
    )
    if "virtual_users" in cost and not cost["virtual_users"].fillna(0).any():  # no method made virtual users
        cost = cost.drop(columns="virtual_users")
    cost = cost.dropna(axis=1, how="all").reset_index(drop=True)
    labels = {column: column_label(column) for column in cost.columns}
    shown = cost.rename(columns=labels)
    formats = {
        label: _percent if column in PERCENT_COLUMNS else _seconds if "seconds" in column else _count
        for column, label in labels.items()
        if column != "variant" and pd.api.types.is_numeric_dtype(cost[column])
    }
    text = as_text(shown, formats)
    # The skill check's calls sit in the last columns, off the first screen: an arm it stopped read "LLM calls 0"
    # beside a check that cost 77 calls a seed. Its count goes beside the augmentation's.
    for column, skill in SKILL_BESIDE.items():
        if column in cost and skill in cost:
            extra = pd.to_numeric(cost[skill], errors="coerce").fillna(0)
            text[labels[column]] = [
                f"{cell} (+{n:,.0f} skill check)" if n > 0 and cell != MISSING else cell
                for cell, n in zip(text[labels[column]], extra, strict=True)
            ]
    for column in text.columns.difference(list(formats)):  # any other column (e.g. added later): text, never "None"
        text[column] = [MISSING if pd.isna(v) else str(v) for v in text[column]]
    st.dataframe(
        text,
        hide_index=True,
        width="stretch",
        column_config=right_aligned(list(formats)),
        key="cost_table",
    )
