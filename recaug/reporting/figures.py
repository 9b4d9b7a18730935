"""Plotly figures for fidelity, comparison, the embedding explorer and the HTML report (no streamlit here).

Histograms of counts use log2 bins (0, 1, 2–3, 4–7, ...) on a categorical axis: a true log scale
that still shows items with zero interactions, and overlays real and augmented as shares so
graphs of different sizes compare.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from recaug.analysis.fidelity import REAL_METHOD, FidelityInputs, log2_bin_edges
from recaug.core.variants import SEPARATOR, ordered_variants, split_variant
from recaug.data.dataset import Dataset
from recaug.data.schema import ORIGIN, USER
from recaug.evaluate.significance import AA_CONTROL, EXPLORATORY, complete, without_skipped

PALETTE = {"baseline": "#94a3b8", "real": "#2563eb", "synthetic": "#f97316", "virtual": "#a855f7"}
# The Embeddings page's groups keep the colours of what they are: real users blue, users with synthetic rows
# orange, generated users purple; items are the grey backdrop the users sit in. Cold/warm never share a figure with
# those, so they borrow blue and orange.
RESERVED_COLOURS = {
    **PALETTE,
    "user": PALETTE["real"],
    "item": "#94a3b8",
    "user + synthetic": PALETTE["synthetic"],
    "virtual user": PALETTE["virtual"],
    "cold": PALETTE["real"],  # the temperature reading: cold blue, warm orange
    "warm": PALETTE["synthetic"],
}
BACKGROUND = ("real", "item", "user", "warm")  # drawn first in a scatter: the crowd the others stand out from
# Everything else (methods, arms, models) in this order: none is a reserved colour, and neighbours differ in hue
# and lightness, so six methods never share a colour or a near-identical teal (walk 11: cfgan was real's blue).
QUALITATIVE = [
    "#dc2626",  # red
    "#16a34a",  # green
    "#111827",  # near black
    "#eab308",  # yellow
    "#22d3ee",  # cyan
    "#92400e",  # brown
    "#f472b6",  # pink
    "#84cc16",  # lime
    "#1e3a8a",  # navy
    "#86efac",  # mint
]

_LAYOUT = {"margin": {"l": 50, "r": 10, "t": 40, "b": 40}, "legend_title": ""}


def log2_bin_labels(edges: np.ndarray) -> list[str]:
    """Human labels of :func:`recaug.analysis.fidelity.log2_bin_edges` bins: 0, 1, 2–3, 4–7, ..."""
    labels = []
    for low, high in itertools.pairwise(edges):
        low, last = int(low), int(high) - 1
        labels.append(str(low) if last <= low else f"{low}–{last}")
    return labels


def category_colours(names: Iterable[str]) -> dict[str, str]:
    """One colour per name: reserved names (real, synthetic, the Embeddings groups) keep theirs, the others take
    :data:`QUALITATIVE` in order, so no method is drawn in real's colour and up to ten methods all differ."""
    colours: dict[str, str] = {}
    others = 0
    for name in dict.fromkeys(names):
        if name in RESERVED_COLOURS:
            colours[name] = RESERVED_COLOURS[name]
        else:
            colours[name] = QUALITATIVE[others % len(QUALITATIVE)]
            others += 1
    return colours


def log_histogram_traces(samples: Mapping[str, np.ndarray], *, noun: str, unit: str) -> list[go.Bar]:
    """One overlaid bar trace per sample: share of ``noun`` per log2 bin, hover with count and share."""
    top = max((float(np.max(v)) for v in samples.values() if len(v)), default=1.0)
    edges = log2_bin_edges(top)
    labels = log2_bin_labels(edges)
    traces = []
    colours = category_colours(samples)
    for name, values in samples.items():
        counts = np.histogram(np.asarray(values), bins=edges)[0]
        share = counts / max(counts.sum(), 1)
        traces.append(
            go.Bar(
                x=labels,
                y=share,
                name=name,
                marker_color=colours[name],
                opacity=0.6,
                customdata=counts,
                hovertemplate=(
                    f"<b>{name}</b><br>%{{x}} {unit}<br>%{{y:.1%}} of {noun} (%{{customdata}})<extra></extra>"
                ),
            )
        )
    return traces


STEP_DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
STEP_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "star"]
REFERENCE_OPACITY = 0.35  # the first sample's bars, light enough that every outline over them stays visible


def overlaid_log_histogram(
    samples: Mapping[str, np.ndarray], *, title: str, x_title: str, noun: str, unit: str = "interactions"
) -> go.Figure:
    """Log2-binned histograms (shares) of several count samples, e.g. real vs real+synthetic of each method.

    The first sample (real) is drawn as light bars and every other as a step outline with its own colour, dash
    and marker: overlaid filled bars blended into one colour and hid series that sat under others.
    """
    bars = log_histogram_traces(samples, noun=noun, unit=unit)
    traces: list[go.Bar | go.Scatter] = []
    for position, bar in enumerate(bars):
        if position == 0:
            bar.opacity = REFERENCE_OPACITY
            bar.marker.line = {"width": 0}
            traces.append(bar)
            continue
        style = (position - 1) % len(STEP_DASHES)
        traces.append(
            go.Scatter(
                x=bar.x,
                y=bar.y,
                name=bar.name,
                mode="lines+markers",
                line={"shape": "hvh", "width": 2.5, "color": bar.marker.color, "dash": STEP_DASHES[style]},
                marker={"symbol": STEP_SYMBOLS[style], "size": 7, "color": bar.marker.color},
                customdata=bar.customdata,
                hovertemplate=bar.hovertemplate,
            )
        )
    fig = go.Figure(traces)
    fig.update_layout(
        barmode="overlay",
        bargap=0.05,
        title=title,
        xaxis_title=x_title,
        yaxis_title=f"share of {noun}",
        yaxis_tickformat=".0%",
        xaxis_type="category",
        height=360 + 22 * max(len(samples) - 2, 0),  # room for the legend's extra rows below the plot
        **_LAYOUT,
    )
    # The legend below the plot, in rows: beside it, long names ("real + itemknn-expansion") squeezed a column.
    fig.update_layout(legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0})
    return fig


def fidelity_histograms(dataset: Dataset, train: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, go.Figure]:
    """``{"user degree": fig, "item popularity": fig}``: real vs real+synthetic of every method (one seed)."""
    training = dataset.training_data(train)
    users: dict[str, np.ndarray] = {REAL_METHOD: training.user_degree()}
    items: dict[str, np.ndarray] = {REAL_METHOD: training.item_popularity()}
    for method, part in synthetic.groupby(ORIGIN, sort=False) if len(synthetic) else []:
        inputs = FidelityInputs.from_rows(dataset, training, str(method), part)
        users[f"real + {method}"] = inputs.augmented_user_degree
        items[f"real + {method}"] = inputs.augmented_item_popularity
    return {
        "user degree": overlaid_log_histogram(
            users, title="Interactions per user", x_title="interactions (log2 bins)", noun="users"
        ),
        "item popularity": overlaid_log_histogram(
            items, title="Interactions per item", x_title="interactions (log2 bins)", noun="items"
        ),
    }


def dataset_histograms(dataset: Dataset) -> go.Figure:
    """Home page: log2-binned interactions per user and per item, side by side."""
    inter = dataset.interactions
    user_degree = inter.groupby(USER).size().to_numpy()
    item_pop = np.zeros(dataset.n_items)
    np.add.at(item_pop, inter["item_idx"].to_numpy(), 1)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Interactions per user", "Interactions per item"))
    for col, (name, values, noun) in enumerate((("users", user_degree, "users"), ("items", item_pop, "items")), 1):
        for trace in log_histogram_traces({name: values}, noun=noun, unit="interactions"):
            trace.marker.color = PALETTE["real"] if col == 1 else PALETTE["synthetic"]
            fig.add_trace(trace, row=1, col=col)
    # Bin labels "0" and "1" look numeric: with few bins plotly would pick a linear axis and drop "2–3", "4–7".
    fig.update_xaxes(title_text="interactions (log2 bins)", type="category")
    fig.update_yaxes(tickformat=".0%")
    fig.update_layout(showlegend=False, height=340, **_LAYOUT)
    return fig


VERDICT_COLOURS = {"better": "#15803d", "worse": "#b91c1c", "higher": "#2563eb", "lower": "#2563eb"}
UNSURE_COLOUR = "#cbd5e1"  # a primary row the test did not decide (or could not judge)
EXPLORATORY_COLOUR = "#f8fafc"  # not in the declared question: Δ and interval only, drawn hollow
NOISE_COLOUR = "rgba(148, 163, 184, 0.25)"


def _sig_rows(significance: pd.DataFrame, metric: str, k: int, slice_name: str) -> pd.DataFrame:
    """The rows of one chart: one slice, one metric@k, the real variants (the A/A control is a check, not a bar)."""
    return significance[
        (significance["slice"] == slice_name)
        & (significance["metric"] == metric)
        & (significance["k"] == k)
        & (significance["variant"] != AA_CONTROL)
    ]


def _fmt(value: float, pattern: str) -> str:
    return "–" if pd.isna(value) else pattern.format(value)


def verdict_colour(word: str, primary: bool) -> str:
    """Bar colour: decided primary rows green/red (blue without a good direction), undecided grey, exploratory
    hollow; a row is never coloured as significant without a verdict."""
    if not primary or word == EXPLORATORY:
        return EXPLORATORY_COLOUR
    return VERDICT_COLOURS.get(str(word), UNSURE_COLOUR)


def _hover(row: Any) -> str:
    # 0 says only that every seed gave the same Δ (both arms at 0, say), not that the model has no training noise
    noise = "0 (same Δ every seed)" if row.noise_floor == 0 else f"±{_fmt(row.noise_floor, '{:.4f}')}"
    role = "primary" if row.primary else "exploratory"
    return (
        f"<br>interval [{_fmt(row.ci_low, '{:+.4f}')}, {_fmt(row.ci_high, '{:+.4f}')}]"
        f"<br>seed noise {noise} · detectable ±{_fmt(row.mde, '{:.4f}')}"
        f"<br>{_fmt(row.n_seeds, '{:.0f}')} seeds · {_fmt(row.n_users, '{:,.0f}')} users<br><b>{row.verdict}</b> "
        f"({role})"
    )


def colour_key(colours: Iterable[str]) -> str:
    """The verdict colours that occur, as a coloured one-line key for a figure title (a plotly legend could only
    list them as faded, data-less entries)."""
    meaning = {
        VERDICT_COLOURS["better"]: ("■", "better"),
        VERDICT_COLOURS["worse"]: ("■", "worse"),
        VERDICT_COLOURS["higher"]: ("■", "higher / lower"),
        UNSURE_COLOUR: ("■", "undecided"),
        EXPLORATORY_COLOUR: ("□", "exploratory"),
    }
    present = set(colours)
    shown = [
        f"<span style='color:{'#334155' if colour == EXPLORATORY_COLOUR else colour}'>{mark}</span> {word}"
        for colour, (mark, word) in meaning.items()
        if colour in present
    ]
    return "colour = verdict: " + " · ".join(shown)


def delta_bars(significance: pd.DataFrame, metric: str, k: int, *, slice_name: str = "all") -> go.Figure:
    """Δ metric@k per model and arm (variant) with its interval, coloured by the verdict.

    The colour is the verdict, as everywhere else in recaug: primary rows decided better/worse are green/red
    (blue: higher/lower for metrics with no good direction), undecided ones grey, exploratory rows hollow; the
    title's second line keys the colours that occur. Each bar's arm is written under it (a two-level axis: model,
    then arm), so six arms are told apart by position and name, not by a legend of hatch patterns in one colour.
    Hover: Δ, interval, seed noise, detectable change, seeds, users and the verdict.
    """
    # An arm that made no row is no bar at 0: its verdict lines say it was skipped.
    rows = _sig_rows(without_skipped(complete(significance)), metric, k, slice_name)
    models = list(dict.fromkeys(rows["model"]))
    variants = ordered_variants(rows["variant"])
    fig = go.Figure()
    fig.add_hline(y=0, line_color="#64748b", line_width=1)
    used: list[str] = []
    # One trace per arm; models outermost, so an arm's bars sit under their model in the same order every time.
    for variant in variants:
        part = rows[rows["variant"] == variant].set_index("model").reindex(models).dropna(subset=["delta"])
        colours = [verdict_colour(w, bool(p)) for w, p in zip(part["verdict"], part["primary"], strict=True)]
        used.extend(colours)
        fig.add_trace(
            go.Bar(
                x=[list(part.index), [variant] * len(part)],
                y=part["delta"],
                name=variant,
                showlegend=False,
                marker_color=colours,
                marker_line_color="#334155",
                marker_line_width=1,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["ci_high"] - part["delta"]).fillna(0).to_numpy(),
                    "arrayminus": (part["delta"] - part["ci_low"]).fillna(0).to_numpy(),
                    "color": "#334155",
                },
                text=[f"{model} · {variant}" for model in part.index],
                textposition="none",  # hover only: the axis already names model and arm
                customdata=[_hover(r) for r in part.itertuples()],
                hovertemplate=f"<b>%{{text}}</b><br>Δ {metric}@{k} = %{{y:+.4f}}%{{customdata}}<extra></extra>",
            )
        )
    n_bars = len(used)
    longest = max((len(str(v)) for v in variants), default=0)
    # Arm names under narrow bars would overlap: upright while they fit, slanted when many bars share the width.
    angle = 0 if n_bars <= 6 or longest * n_bars <= 120 else -45
    fig.update_layout(
        barmode="overlay",  # each (model, arm) category holds one bar: "group" would leave gaps for the others
        height=380 + (6 * longest if angle else 0),
        yaxis_title=f"Δ {metric}@{k} vs baseline",
        title=f"Δ {metric}@{k} by model and arm · slice {slice_name}<br><sup>{colour_key(used)}</sup>",
        xaxis={"tickangle": angle},
        **_LAYOUT,
    )
    return fig


def sweep_points(significance: pd.DataFrame | None, metric: str, k: int, slice_name: str = "all") -> pd.DataFrame:
    """The budget-sweep rows (variants named ``method@budget``) of a significance table, with method and budget.

    ``budget`` is in % of the training interactions for share budgets, rows for count budgets; empty when the
    comparison had no sweep.
    """
    if significance is None or significance.empty:
        columns = ["model", "variant", "delta", "ci_low", "ci_high", "verdict", "primary", "method", "budget", "share"]
        return pd.DataFrame(columns=columns)
    rows = significance[
        (significance["slice"] == slice_name)
        & (significance["metric"] == metric)
        & (significance["k"] == k)
        & significance["variant"].str.contains(SEPARATOR, regex=False)
    ].copy()
    parsed = [split_variant(variant) for variant in rows["variant"]]
    rows["method"] = [method for method, _ in parsed]
    rows["budget"] = [budget * 100 if isinstance(budget, float) else budget for _, budget in parsed]
    rows["share"] = [isinstance(budget, float) for _, budget in parsed]
    return rows.sort_values(["method", "model", "budget"], kind="stable").reset_index(drop=True)


def budget_curve(significance: pd.DataFrame, metric: str, k: int, slice_name: str = "all") -> go.Figure:
    """Δ metric against budget, one line per (method, model), 95% CI as error bars, a zero line for reference;
    each point filled by its verdict (as in :func:`delta_bars`: green/red decided, grey undecided, hollow exploratory).

    The dose-response of augmentation: where it starts to help, where it starts to hurt.
    """
    points = sweep_points(complete(significance), metric, k, slice_name)
    unit = "% of training interactions" if points["share"].all() else "synthetic rows"
    fig = go.Figure()
    fig.add_hline(y=0, line_color=PALETTE["baseline"], line_dash="dot")
    for position, ((method, model), part) in enumerate(points.groupby(["method", "model"], sort=False)):
        fills = [verdict_colour(w, bool(f)) for w, f in zip(part["verdict"], part["primary"], strict=True)]
        p_value = part["p_ttest"].map(lambda p: f"<br>p (t-test over seeds) = {p:.3f}" if pd.notna(p) else "")
        fig.add_trace(
            go.Scatter(
                x=part["budget"],
                y=part["delta"],
                mode="lines+markers",
                name=f"{method} · {model}",
                line_color=QUALITATIVE[position % len(QUALITATIVE)],
                marker={
                    "size": 10,
                    "color": fills,
                    "line": {"color": QUALITATIVE[position % len(QUALITATIVE)], "width": 2},
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["ci_high"] - part["delta"]).to_numpy(),
                    "arrayminus": (part["delta"] - part["ci_low"]).to_numpy(),
                },
                customdata=np.stack([part["ci_low"], part["ci_high"], p_value], axis=1),
                hovertemplate=(
                    f"<b>{method} · {model}</b><br>budget %{{x:g}} {unit}<br>Δ {metric}@{k} = %{{y:+.4f}}"
                    "<br>95% CI [%{customdata[0]:+.4f}, %{customdata[1]:+.4f}]%{customdata[2]}<extra></extra>"
                ),
            )
        )
    fig.update_layout(
        height=380,
        xaxis_title=f"budget ({unit})",
        yaxis_title=f"Δ {metric}@{k} vs baseline",
        title=f"Δ {metric}@{k} by augmentation budget · slice {slice_name}",
        **_LAYOUT,
    )
    return fig


def projection_scatter(points: pd.DataFrame, *, color_by: str = "origin", title: str = "") -> go.Figure:
    """Explorer scatter: one WebGL trace per colour group (or a log colour scale for popularity).

    Every point carries its ``point_id`` as customdata, so a lasso selection maps back to the table.
    """
    symbols = {"item": "circle", "user": "diamond"}

    def trace(part: pd.DataFrame, name: str, marker: dict[str, object]) -> go.Scattergl:
        marker = {"size": 6, "symbol": part["kind"].map(symbols), **marker}
        return go.Scattergl(
            x=part["x"],
            y=part["y"],
            mode="markers",
            name=name,
            text=part["hover"],
            customdata=part["point_id"],
            hovertemplate="%{text}<extra></extra>",
            marker=marker,
        )

    fig = go.Figure()
    if color_by == "popularity":
        scale = {
            "color": np.log1p(points["popularity"]),
            "colorscale": "Viridis",
            "colorbar": {"title": "log(1+count)"},
        }
        fig.add_trace(trace(points, "points", scale))
    else:
        # Real data (real, item, user) first, so the methods' points are drawn over it, not hidden under it.
        groups = sorted(points.groupby(color_by, sort=True), key=lambda pair: str(pair[0]) not in BACKGROUND)
        colours = category_colours(str(group) for group, _ in groups)
        for group, part in groups:
            fig.add_trace(trace(part, str(group), {"color": colours[str(group)], "opacity": 0.75}))
    fig.update_layout(
        title=title,
        height=560,
        dragmode="lasso",
        xaxis={"showticklabels": False},
        yaxis={"showticklabels": False},
        **_LAYOUT,
    )
    return fig


def mark_point(fig: go.Figure, position: tuple[float, float], label: str) -> go.Figure:
    """Add a what-if point (e.g. a new item) as a star on an explorer figure."""
    fig.add_trace(
        go.Scattergl(
            x=[position[0]],
            y=[position[1]],
            mode="markers+text",
            text=[label],
            textposition="top center",
            name=label,
            hovertemplate=f"<b>{label}</b><extra></extra>",
            marker={"symbol": "star", "size": 18, "color": "#111827"},
        )
    )
    return fig
