"""The CLI maps an items file's columns (--item-columns), prints the catalogue's never-bought items as a note, and
words mapping errors with its own flags (walk 13 D); recaug.compare does the same with item_columns=."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import recaug
from recaug.__main__ import main

FAST = ["--augment", "random", "--models", "pop", "--seeds", "0", "--quiet", "--no-llm-estimate", "--no-save"]
FAST += ["--executor", "serial"]


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """orders.csv (customer, sku, stars, purchased_on) and a catalogue whose columns no name detection knows, with
    two never-bought codes."""
    folder = tmp_path_factory.mktemp("shop")
    rng = np.random.default_rng(7)
    n = 400
    orders = pd.DataFrame(
        {
            "customer": [f"C{u}" for u in rng.integers(0, 30, n)],
            "sku": [f"P{i}" for i in rng.integers(0, 20, n)],
            "stars": rng.integers(1, 6, n),
        }
    )
    catalogue = pd.DataFrame(
        {
            "code": [f"P{i}" for i in range(22)],
            "label": [f"Product {i}" for i in range(22)],
            "blurb": [f"Thing {i} for the kitchen and the garden." for i in range(22)],
        }
    )
    orders.to_csv(folder / "orders.csv", index=False)
    catalogue.to_csv(folder / "catalogue.csv", index=False)
    return {"orders": folder / "orders.csv", "catalogue": folder / "catalogue.csv", "root": folder}


def _compare(shop: dict[str, Path], out: str, *flags: str) -> list[str]:
    where = ["--data", str(shop["orders"]), "--items", str(shop["catalogue"]), "--out", str(shop["root"] / out)]
    return ["compare", *where, *flags]


def test_item_columns_map_the_catalogue_and_its_unbought_items_are_a_note(
    shop: dict[str, Path], capsys: pytest.CaptureFixture
) -> None:
    args = _compare(shop, "mapped", "--item-columns", "item_id=code,title=label,text=blurb", *FAST)
    assert main(args) == 0
    err = capsys.readouterr().err
    assert (
        "note: 2 items in catalogue.csv have no interactions and were left out of the catalogue (e.g. P20, P21); "
        "evaluation cannot score items nobody interacted with; use What-if → New item to see where one would rank"
    ) in err.splitlines()
    record = json.loads((shop["root"] / "mapped" / "config.json").read_text())
    # recorded with the run, so `--config` reads the catalogue the same way
    assert record["load"]["item_columns"] == {"item_id": "code", "title": "label", "text": ["blurb"]}


def test_an_unmapped_catalogue_is_an_error_naming_the_cli_flag(
    shop: dict[str, Path], capsys: pytest.CaptureFixture
) -> None:
    assert main(_compare(shop, "unmapped", *FAST)) == 2
    err = capsys.readouterr().err
    assert "no item_id column found among code, label, blurb" in err
    assert "--item-columns item_id=code,title=label" in err
    assert "by hand" not in err and "Home" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("value", "says"),
    [("code,label", "expected KEY=COLUMN pairs"), ("item_id=code,name=label", "'name', which is not an items column")],
)
def test_a_malformed_item_columns_is_refused_before_anything_runs(
    shop: dict[str, Path], capsys: pytest.CaptureFixture, value: str, says: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(_compare(shop, "bad", "--item-columns", value, *FAST))
    assert stopped.value.code == 2 and says in capsys.readouterr().err
    assert not (shop["root"] / "bad").exists()


def test_the_python_api_maps_the_catalogue_and_warns_about_unbought_items(shop: dict[str, Path]) -> None:
    with pytest.warns(UserWarning, match=r"2 items in catalogue\.csv have no interactions and were left out"):
        comparison = recaug.compare(
            str(shop["orders"]),
            augment=["random"],
            models=["pop"],
            seeds=[0],
            items=str(shop["catalogue"]),
            item_columns={"item_id": "code", "title": "label"},
            executor="serial",
            budget=50,
        )
    assert comparison.dataset is not None and comparison.dataset.n_items == 20
    assert comparison.dataset.unused_items is not None and list(comparison.dataset.unused_items["item_id"]) == [
        "P20",
        "P21",
    ]
