"""Plotly figures for the dashboard's Home and Compare pages (plotly only; no streamlit here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from recaug.data.dataset import Dataset
from recaug.data.schema import ITEM, USER

PALETTE = {"baseline": "#94a3b8", "real": "#2563eb", "synthetic": "#f97316", "virtual": "#a855f7"}
QUALITATIVE = ["#2563eb", "#f97316", "#10b981", "#a855f7", "#ef4444", "#eab308", "#14b8a6", "#ec4899"]


def degree_histograms(dataset: Dataset) -> go.Figure:
    """Side-by-side histograms of interactions per user and per item (log-scaled counts), with hover."""
    inter = dataset.interactions
    user_degree = inter.groupby(USER).size()
    item_pop = inter.groupby(ITEM).size()
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Interactions per user", "Interactions per item"))
    fig.add_trace(
        go.Histogram(
            x=user_degree.to_numpy(),
            nbinsx=50,
            marker_color=PALETTE["real"],
            name="users",
            hovertemplate="%{x} interactions: %{y} users<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Histogram(
            x=item_pop.to_numpy(),
            nbinsx=50,
            marker_color=PALETTE["synthetic"],
            name="items",
            hovertemplate="%{x} interactions: %{y} items<extra></extra>",
        ),
        row=1,
        col=2,
    )
    fig.update_yaxes(type="log", title_text="count (log)")
    fig.update_xaxes(title_text="interactions")
    fig.update_layout(showlegend=False, height=340, margin={"l": 40, "r": 10, "t": 40, "b": 40}, bargap=0.05)
    return fig


def compare_bars(table: pd.DataFrame, metric: str, k: int) -> go.Figure:
    """Grouped bars: one group per model, one bar per variant (baseline first); hover shows the delta."""
    frame = table[(table["metric"] == metric) & (table["k"] == k)]
    variants = ["baseline", *sorted(v for v in frame["variant"].unique() if v != "baseline")]
    fig = go.Figure()
    for position, variant in enumerate(variants):
        part = frame[frame["variant"] == variant]
        colour = PALETTE["baseline"] if variant == "baseline" else QUALITATIVE[(position - 1) % len(QUALITATIVE)]
        fig.add_trace(
            go.Bar(
                x=part["model"],
                y=part["value"],
                name=variant,
                marker_color=colour,
                error_y={
                    "type": "data",
                    "array": part["std"].fillna(0).to_numpy(),
                    "visible": bool(part["std"].notna().any()),
                },
                customdata=np.stack([part["delta"].fillna(0).to_numpy(), part["n_seeds"].to_numpy()], axis=1),
                hovertemplate=(
                    f"<b>%{{x}}</b> · {variant}<br>{metric}@{k} = %{{y:.4f}}"
                    "<br>Δ vs baseline = %{customdata[0]:+.4f}<br>seeds: %{customdata[1]}<extra></extra>"
                ),
            )
        )
    fig.update_layout(
        barmode="group",
        height=380,
        yaxis_title=f"{metric}@{k}",
        legend_title="variant",
        margin={"l": 40, "r": 10, "t": 30, "b": 40},
    )
    return fig


def bar_table(results: pd.DataFrame, slice_name: str = "all") -> pd.DataFrame:
    """Mean/std over seeds per model x variant x metric@k, with the delta against the same model's baseline."""
    frame = results[results["slice"] == slice_name]
    stats = frame.groupby(["model", "variant", "metric", "k"], as_index=False).agg(
        value=("value", "mean"), std=("value", "std"), n_seeds=("seed", "nunique")
    )
    base = stats[stats["variant"] == "baseline"][["model", "metric", "k", "value"]].rename(columns={"value": "base"})
    stats = stats.merge(base, on=["model", "metric", "k"], how="left")
    stats["delta"] = stats["value"] - stats["base"]
    return stats.drop(columns="base")
