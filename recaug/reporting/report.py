"""A standalone HTML report of one comparison: protocol, seeds, data fingerprint, tables and figures.

The file works offline and can be mailed: plotly.js is embedded once, inline (never from a CDN),
and every later figure reuses it. All text from data or config is HTML-escaped.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from recaug.analysis.fidelity import fidelity_wide, result_split
from recaug.analysis.fidelity.metrics import metric_label as fidelity_label
from recaug.augment.llm.skill import skill_notes
from recaug.augment.options import describe_methods
from recaug.core.variants import budget_label
from recaug.data.dataset import Dataset
from recaug.data.splits import protocol_summary, seed_effect
from recaug.evaluate.design import parse_primary
from recaug.evaluate.significance import (
    AA_CONTROL,
    DIRECTIONS,
    KEYS,
    complete,
    metric_label,
    primary_first,
    skipped_arms,
    verdict_sentence,
    weak_baseline_warning,
    without_skipped,
)
from recaug.experiment import ExperimentResult, compare_table
from recaug.experiment.cost import cost_table
from recaug.experiment.result import model_use_notes
from recaug.models.tuned import UNTUNED_WARNING, strong_baselines
from recaug.reporting.export import redact_secrets
from recaug.reporting.figures import budget_curve, delta_bars, fidelity_histograms, sweep_points
from recaug.reporting.labels import AUGMENTER_LABELS, column_label, readable_table

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#111827}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.3rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}th,td{border:1px solid #e5e7eb;padding:.25rem .5rem}
th{background:#f9fafb;text-align:left}td{text-align:right}.note{color:#4b5563;font-size:.9rem}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
.error{color:#b91c1c}
"""
LEAKAGE_NOTE = (
    "Augmenters saw only the training split; early stopping and model selection used validation only; "
    "the test split was scored once. Baseline and augmented models share the same split and seeds, "
    "and synthetic rows never enter validation or test."
)


class _Figures:
    """Renders figures as HTML divs, embedding plotly.js with the first one only."""

    def __init__(self) -> None:
        self.count = 0

    def render(self, fig: go.Figure) -> str:
        div = pio.to_html(
            fig, include_plotlyjs=self.count == 0, full_html=False, default_width="100%", config={"displaylogo": False}
        )
        self.count += 1
        return div


def _table(
    frame: pd.DataFrame, *, floatfmt: str = "{:.4f}", index: bool = False, labels: Mapping[str, str] | None = None
) -> str:
    """An HTML table with the dashboard's headers and percentages (:mod:`recaug.reporting.labels`; ``labels``
    first), never the ids."""
    extra = [labels] if labels else []
    shown = readable_table(frame, *extra)
    names = [None if name is None else column_label(str(name), *extra) for name in shown.index.names]
    shown.index = shown.index.set_names(names)
    page = shown.to_html(index=index, escape=True, border=0, na_rep="–", float_format=lambda v: floatfmt.format(v))
    return _BETWEEN_TAGS.sub("><", page)  # pandas indents every cell on its own line: a third of a table's bytes


_BETWEEN_TAGS = re.compile(r">\s+<")


def _short_table(key: pd.DataFrame) -> pd.DataFrame:
    """The primary rows as the Compare page shows them: metric@k in one column, the interval in one column."""
    shown = key.assign(
        metric=key["metric"].astype(str) + "@" + key["k"].astype(str),
        interval=[
            "–" if pd.isna(lo) else f"[{lo:+.4f}, {hi:+.4f}]"
            for lo, hi in zip(key["ci_low"], key["ci_high"], strict=True)
        ],
        q_ttest=["–" if pd.isna(q) else f"{q:.3g}" for q in key["q_ttest"]],  # 0.000114 is not '0.0001'
    )
    return shown[[c for c in SHORT_COLUMNS if c not in ("k", "ci_low", "ci_high")]]


def _protocol_text(name: str, params: Mapping[str, Any]) -> str:
    """The protocol in words, with the parameters the run used and what a seed changed: the split function's
    docstring, shown before, carried raw RST markup (``test``) and the default parameters only."""
    summary, seeds = protocol_summary(name, dict(params)), seed_effect(name)
    return f"{name} — {summary[:1].upper()}{summary[1:]}. {seeds[:1].upper()}{seeds[1:]}."


def _pick_metric(results: pd.DataFrame) -> tuple[str, int] | None:
    if results.empty:
        return None
    for metric, k in (("ndcg", 10), ("recall", 10), ("ndcg", 20), ("recall", 20)):
        if ((results["metric"] == metric) & (results["k"] == k)).any():
            return metric, k
    first = results.iloc[0]
    return str(first["metric"]), int(first["k"])


KEY_ROWS = (("ndcg", 10), ("recall", 10), ("ndcg", 20), ("recall", 20))
SHORT_COLUMNS = [*KEYS, "delta", "interval", "ci_low", "ci_high", "noise_floor", "mde"]
SHORT_COLUMNS += ["q_ttest", "n_seeds", "n_users", "verdict"]


def _key_rows(significance: pd.DataFrame) -> pd.DataFrame:
    """The primary rows of the real variants (the question declared before the run), or for a table saved before
    primary rows existed, slice ``all`` at the key accuracy metrics."""
    real = significance["variant"] != AA_CONTROL
    if significance["primary"].any():
        return significance[significance["primary"] & real]
    keys = pd.MultiIndex.from_tuples(KEY_ROWS)
    pairs = pd.MultiIndex.from_frame(significance[["metric", "k"]])
    return significance[(significance["slice"] == "all") & pairs.isin(keys) & real]


def _question_text(result: ExperimentResult) -> str:
    """The primary question in words, e.g. 'Does each arm change NDCG@10 and Recall@20 of each model ...?'."""
    labels = " and ".join(metric_label(m, k) for m, k in parse_primary(result.config.primary))
    return (
        f"The question declared before the run: does each arm change {labels} of each model, on all test users and "
        "on the arm's target slice? Benjamini–Hochberg corrects within each model and arm only, so these verdicts "
        "do not depend on what else is in the run; every other row is exploratory (Δ and interval, no verdict)."
    )


def _verdict_section(result: ExperimentResult, significance: pd.DataFrame | None, figures: _Figures) -> list[str]:
    """The primary question and its verdicts (with power), the Δ chart, a short table; every other row behind a
    toggle."""
    parts = ["<h2>Verdict: the primary question</h2>"]
    table = compare_table(result.results)
    if table.empty or significance is None or significance.empty:
        return [*parts, "<p>No augmented variant was compared.</p>"]
    # An arm that made no row says so once; its rows (the baseline against itself) are left out of every table.
    significance = complete(significance)
    skipped = skipped_arms(significance)
    left_out = int(significance["variant"].isin(list(skipped)).sum())
    significance = without_skipped(significance, skipped)
    table = without_skipped(table, skipped)
    key = _key_rows(significance)
    parts.append(f"<p><b>{html.escape(_question_text(result))}</b></p>")
    fragile = weak_baseline_warning(result.results)
    if fragile:
        parts.append(f"<p class='error'>{html.escape(fragile)}</p>")
    sentences = [verdict_sentence(row) for _, row in key.iterrows()] + list(skipped.values())
    parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in sentences) + "</ul>")
    if skipped:
        parts.append(
            f"<p class='note'>{html.escape(', '.join(skipped))} made no rows, so the tables and chart below leave out "
            f"their {left_out:,} significance rows (each the baseline against itself); significance.csv and "
            "results.csv keep them.</p>"
        )
    if result.stopping is not None:
        parts.append(f"<p class='note'>Seeds: {html.escape(result.stopping.sentence())}.</p>")
    parts.append(
        "<p class='note'>The seed is the unit of inference: intervals and t-tests are over seeds; each row's interval "
        "is its own 95% t-interval and <b>seed noise</b> its own seed-to-seed spread (SD), drawn with the same "
        "pairing as its Δ. <b>Detectable</b> is the smallest change the design finds with 80% power. Fewer than 3 "
        "seeds gives deltas but no verdict; slices under 30 users get none.</p>"
    )
    control = significance[(significance["variant"] == AA_CONTROL) & significance["primary"]]
    if len(control):
        false = int(control["verdict"].isin(DIRECTIONS).sum())
        parts.append(
            f"<p class='note'>A/A control: {false} of {len(control)} primary rows were judged different from the "
            "baseline; a calibrated verdict keeps this near 0.</p>"
        )
    chosen = _pick_metric(result.results)
    if chosen is not None:
        parts.append(figures.render(delta_bars(significance, *chosen)))
        if len(sweep_points(significance, *chosen)):
            parts.append(figures.render(budget_curve(significance, *chosen)))
    parts.append(_table(_short_table(key)))
    if not strong_baselines(result.config.models):
        parts.append(f"<p class='error'>{html.escape(UNTUNED_WARNING)}</p>")
    parts.append(
        "<details><summary>Every slice and metric (exploratory; also in significance.csv and results.csv)</summary>"
        + "<h3>Before vs after, slice all (mean over seeds)</h3>"
        + _table(table)
        + "<h3>Significance, every slice (primary rows first)</h3>"
        + _table(primary_first(significance))
        + "</details>"
    )
    return parts


def build_report(
    result: ExperimentResult,
    *,
    dataset: Dataset | None = None,
    fidelity: pd.DataFrame | None = None,
    significance: pd.DataFrame | None = None,
    run_id: str | None = None,
    title: str = "recaug: does augmentation help?",
    extra_figures: dict[str, go.Figure] | None = None,
) -> str:
    """The report as one HTML string. ``dataset`` adds the real-vs-augmented histograms (first seed)."""
    significance = significance if significance is not None else getattr(result, "significance", None)
    config = result.config
    figures = _Figures()
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>Generated {datetime.now(tz=UTC).isoformat(timespec='seconds')}"
        + (f" · run <code>{html.escape(run_id)}</code>" if run_id else "")
        + "</p>",
    ]

    metrics = ", ".join(f"{m}@{k}" for m in config.metrics for k in config.ks)
    facts: list[tuple[str, Any]] = [
        ("data", config.data),
        ("data fingerprint", result.fingerprint),
        ("protocol", _protocol_text(config.protocol, config.protocol_params)),
        ("seeds", ", ".join(map(str, config.seeds_run or config.seeds))),
        ("augmenters", describe_methods(config.augmenters, config.augmenter_params)),
        ("budget", _budget_text(config.budget)),
        ("target", config.target),
        ("models", ", ".join(config.models)),
        ("metrics", metrics),
    ]
    parts.append(
        "<h2>Protocol and reproducibility</h2><dl>"
        + "".join(f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(str(v))}</dd>" for k, v in facts)
        + "</dl>"
    )
    parts.append(f"<p class='note'>{html.escape(LEAKAGE_NOTE)}</p>")
    parts.extend(f"<p class='note'>{html.escape(note)}</p>" for note in model_use_notes(result))
    parts.extend(f"<p class='note'>LLM skill check: {html.escape(n)}</p>" for n in skill_notes(result.augment_info))
    config_json = json.dumps(redact_secrets(config.to_dict()), indent=2, sort_keys=True, default=str)
    parts.append(
        f"<details><summary>Full configuration (JSON)</summary><pre>{html.escape(config_json)}</pre></details>"
    )

    parts.extend(_verdict_section(result, significance, figures))

    parts.append("<h2>Fidelity of the synthetic data</h2>")
    if fidelity is not None and len(fidelity):
        meta = fidelity.drop_duplicates("metric").set_index("metric")[["range", "higher_is_better"]]
        wide = fidelity_wide(fidelity).reset_index().merge(meta, left_on="metric", right_index=True, how="left")
        wide["higher_is_better"] = [_yes_no(v) for v in wide["higher_is_better"]]
        wide["metric"] = wide["metric"].map(fidelity_label)  # as the Fidelity page names them; the CSV keeps ids
        parts.append(_table(wide))
        errors = fidelity[fidelity["error"].fillna("").astype(str) != ""]
        for _, row in errors.iterrows():
            parts.append(
                f"<p class='error'>{html.escape(str(row['method']))} · "
                f"{html.escape(fidelity_label(str(row['metric'])))}: "
                f"{html.escape(str(row['error']))}</p>"
            )
    else:
        parts.append("<p class='note'>Not computed for this run.</p>")
    if dataset is not None and len(result.synthetic):
        seed = config.seeds[0]
        train = result_split(result, dataset, seed).train
        synthetic = result.synthetic
        if "seed" in synthetic.columns:
            synthetic = synthetic[synthetic["seed"] == seed]
        for fig in fidelity_histograms(dataset, train, synthetic).values():
            parts.append(figures.render(fig))
    for name, fig in (extra_figures or {}).items():
        parts.append(f"<h2>{html.escape(name)}</h2>" + figures.render(fig))

    if result.config.augmenters:
        cost = cost_table(result).dropna(axis=1, how="all")
        parts.append(
            "<h2>Cost</h2><p class='note'>Means over seeds; seconds are wall-clock on the machine that ran this."
            "</p>" + _table(cost, floatfmt="{:,.4g}")
        )
    if result.augment_info:
        augmenters = _table(pd.DataFrame(result.augment_info), floatfmt="{:.3g}", labels=AUGMENTER_LABELS)
        parts.append("<h2>Augmenters</h2>" + augmenters)
    if result.timings:
        timings = pd.DataFrame(sorted(result.timings.items()), columns=["step", "seconds"])
        parts.append("<h2>Timings</h2>" + _table(timings, floatfmt="{:.2f}"))
    body = "\n".join(parts)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )


def _budget_text(budget: float | int) -> str:
    """The budget as the dashboard writes it: a share as '10% of the training rows', a count as rows."""
    if isinstance(budget, float):
        return f"{budget_label(budget)} of the training rows"
    return f"{int(budget):,} rows"


def _yes_no(value: Any) -> str:
    """A fidelity metric's direction: 'yes' / 'no', or 'neither' for a metric with no better side (None)."""
    if isinstance(value, str):
        value = {"true": True, "false": False}.get(value.strip().lower())
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "neither (a description, not a score)"
    return "yes" if bool(value) else "no"


def write_report(path: str | Path, report_html: str) -> Path:
    """Write the report to ``path`` (UTF-8) and return it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(report_html, encoding="utf-8")
    return target
