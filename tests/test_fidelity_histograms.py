"""Fidelity histograms stay readable with several methods: real as light bars, each method a step outline in its
own colour, dash and marker (four overlaid filled bar series blended into one purple and hid the orange one)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from recaug.augment.base import create_augmenter
from recaug.data.dataset import Dataset
from recaug.data.splits import Split
from recaug.reporting.figures import REFERENCE_OPACITY, fidelity_histograms

METHODS = ["random", "popularity", "itemknn-expansion"]


@pytest.fixture(scope="module")
def synthetic(ml100k: Dataset, ml100k_split: Split) -> pd.DataFrame:
    """Three real augmenters' rows on the ML-100k training split (10% budget each, as the Augment page makes)."""
    train = ml100k.training_data(ml100k_split.train)
    rows = [create_augmenter(name, seed=0).fit(train).augment(0.1).rows for name in METHODS]
    return pd.concat(rows, ignore_index=True)


def test_each_method_is_a_distinct_outline_over_light_real_bars(
    ml100k: Dataset, ml100k_split: Split, synthetic: pd.DataFrame
) -> None:
    for figure in fidelity_histograms(ml100k, ml100k_split.train, synthetic).values():
        real, *methods = figure.data
        assert isinstance(real, go.Bar) and real.name == "real" and real.opacity == REFERENCE_OPACITY <= 0.4
        assert [t.name for t in methods] == [f"real + {m}" for m in METHODS]
        for trace in methods:
            assert isinstance(trace, go.Scatter) and trace.mode == "lines+markers" and trace.line.shape == "hvh"
            assert trace.fill is None  # an outline: nothing painted over the others
            assert sum(trace.y) == pytest.approx(1.0) and "%{customdata}" in trace.hovertemplate
        styles = [(t.line.color, t.line.dash, t.marker.symbol) for t in methods]
        assert len({s[0] for s in styles}) == len(METHODS) and real.marker.color not in {s[0] for s in styles}
        assert len({s[1] for s in styles}) == len(METHODS)  # coinciding outlines still tell apart by dash
        assert figure.layout.legend.orientation == "h" and figure.layout.xaxis.type == "category"
