"""Text methods on a catalog without item text: the notebook and the CLI say why their rows mean nothing (the pages:
``tests/app/test_item_text_pages.py``)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recaug.augment.item_text import default_methods, id_text_warning, reads_item_text
from recaug.data.dataset import Dataset

ROOT = Path(__file__).resolve().parents[2]


def shop(item_ids: list[str] | None = None, titles: bool = False) -> Dataset:
    """400 interactions of 40 users over 30 items with code-like ids (or ``item_ids``), optionally with titles."""
    rng = np.random.default_rng(0)
    ids = item_ids or [f"P{1000 + i}" for i in range(30)]
    frame = pd.DataFrame(
        {"user_id": [f"c{u}" for u in rng.integers(0, 40, 400)], "item_id": rng.choice(ids, 400)}
    ).drop_duplicates()
    named = [f"Mug no. {i} in blue" for i in range(30)]
    items = pd.DataFrame({"item_id": ids, "title": named, "text": named}) if titles else None
    return Dataset.from_frames(frame, items, name="shop.csv")


def test_which_methods_read_item_text() -> None:
    assert reads_item_text("similarity") and reads_item_text("similarity@5%") and reads_item_text("llm-profiles")
    assert not reads_item_text("itemknn-expansion") and not reads_item_text("random") and not reads_item_text("x")


def test_the_warning_names_the_text_methods_and_the_way_out(ml100k: Dataset) -> None:
    message = id_text_warning(shop(), ["similarity", "itemknn-expansion", "llm-profiles@5%"])
    assert message is not None
    assert message.startswith("similarity, llm-profiles@5% read item text, and 'shop.csv' has none")
    assert "Add an items file" in message and "itemknn-expansion" in message
    assert id_text_warning(shop(), ["itemknn-expansion", "random"]) is None  # nothing reads text
    assert id_text_warning(shop(titles=True), ["similarity"]) is None  # an items file with titles
    assert id_text_warning(ml100k, ["similarity"]) is None
    ensemble = id_text_warning(shop(), ["ensemble"], {"ensemble": {"members": ["similarity", "popularity"]}})
    assert ensemble is not None and ensemble.startswith("ensemble (similarity) reads item text")
    assert id_text_warning(shop(), ["ensemble"]) is None  # its default members learn from interactions
    names = [f"Blue mug {i}" for i in range(30)]  # ids that are names read as text
    assert id_text_warning(shop(item_ids=names), ["similarity"]) is None


def test_the_default_method_reads_text_only_where_items_have_it(ml100k: Dataset) -> None:
    assert default_methods(ml100k) == ["similarity"]
    assert default_methods(shop(titles=True)) == ["similarity"]
    assert default_methods(shop(item_ids=[f"Blue mug {i}" for i in range(30)])) == ["similarity"]  # names
    assert default_methods(shop()) == ["itemknn-expansion"]  # codes: similarity would match their spelling
    from recaug.api import compare

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chosen = compare(shop(), models=["pop"], seeds=[0], executor="serial", aa_control=False)
    assert chosen.config.augmenters == ["itemknn-expansion"]
    assert not [w for w in caught if "reads item text" in str(w.message)]  # its default is not warned about


def test_the_notebook_api_warns(recwarn: pytest.WarningsRecorder) -> None:
    from recaug.api import compare

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        compare(shop(), augment=["similarity"], models=["pop"], seeds=[0], executor="serial", aa_control=False)
    assert any("has none: its item ids stand in" in str(w.message) for w in recwarn.list)


def test_the_cli_warns_before_it_runs(tmp_path: Path) -> None:
    data = tmp_path / "shop.csv"
    frame = pd.DataFrame(
        {"customer": [f"c{i % 40}" for i in range(400)], "product": [f"P{i % 30}" for i in range(400)]}
    )
    frame.drop_duplicates().to_csv(data, index=False)
    command = [sys.executable, "-m", "recaug", "compare", "--data", str(data), "--augment", "similarity"]
    command += ["--models", "pop", "--seeds", "0", "--out", str(tmp_path / "out"), "--no-save", "--quiet"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "warning: similarity reads item text, and 'shop.csv' has none" in done.stderr
    by_default = [arg for arg in command if arg not in ("--augment", "similarity")]
    done = subprocess.run(by_default, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "reads item text" not in done.stderr and "itemknn-expansion" in done.stdout
