"""Scatter figure of projected points, coloured by a column, with titles on hover."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from recaug.charts import PALETTE, QUALITATIVE

ORIGIN_COLOURS = {
    "real": PALETTE["real"],
    "real only": "#cbd5e1",
    "augmented": PALETTE["synthetic"],
    "received synthetic": PALETTE["synthetic"],
    "virtual": PALETTE["virtual"],
}


def scatter(coords: np.ndarray, table: pd.DataFrame, colour_by: str = "origin", title: str = "") -> go.Figure:
    """One trace per colour group, real points drawn first so synthetic ones stay visible on top."""
    fig = go.Figure()
    groups = sorted(table[colour_by].astype(str).unique(), key=lambda g: (g not in ("real", "real only"), g))
    for position, group in enumerate(groups):
        mask = (table[colour_by].astype(str) == group).to_numpy()
        colour = ORIGIN_COLOURS.get(group, QUALITATIVE[position % len(QUALITATIVE)])
        faded = group in ("real", "real only")
        fig.add_trace(
            go.Scattergl(
                x=coords[mask, 0],
                y=coords[mask, 1],
                mode="markers",
                name=f"{group} ({int(mask.sum()):,})",
                marker={"size": 5 if faded else 7, "color": colour, "opacity": 0.45 if faded else 0.9},
                text=table.loc[mask, "hover"],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.update_layout(
        height=560,
        title=title,
        legend_title=colour_by,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"showticklabels": False, "title": ""},
        yaxis={"showticklabels": False, "title": ""},
    )
    return fig
