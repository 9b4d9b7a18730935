"""A retail catalogue (walk 13 D): its never-bought items are reported and kept apart, not dropped in silence; its
columns (sku, product_name, purchased_on...) are detected or mapped with item_columns; mapping errors say how to map
where they are read (Home, CLI, Python)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recaug.core.errors import RecaugInputError
from recaug.data.dataset import Dataset
from recaug.data.loading import load_dataset
from recaug.data.readers import CLI, HOME, PYTHON, item_columns_choice, items_from_frame, read_interactions, read_table
from recaug.data.schema import ISO_DATETIME, detect_columns
from recaug.data.store import UNUSED_ITEMS, load_saved_dataset, save_dataset

COLD = ["SKU-00026", "SKU-00027", "SKU-00028"]  # in the catalogue, bought by nobody


def _shop(folder: Path, *, id_column: str = "sku", title_column: str = "product_name") -> tuple[Path, Path]:
    """orders.csv as the walk's: ';', decimal commas, dd/mm/yyyy HH:MM; catalogue.csv with 3 never-bought SKUs."""
    rng = np.random.default_rng(13)
    n = 400
    days = pd.Timestamp("1997-09-20") + pd.to_timedelta(rng.integers(0, 200 * 86_400, n), unit="s")
    orders = pd.DataFrame(
        {
            "customer": [f"CUST-{u:05d}" for u in rng.integers(0, 30, n)],
            "sku": [f"SKU-{i:05d}" for i in rng.integers(1, 26, n)],
            "stars": [f"{s},0" for s in rng.integers(1, 6, n)],
            "purchased_on": days.strftime("%d/%m/%Y %H:%M"),
        }
    )
    orders.loc[orders["sku"] == "SKU-00025", "stars"] = "1,0"  # bought, never liked: a threshold empties it
    catalogue = pd.DataFrame(
        {
            id_column: [f"SKU-{i:05d}" for i in range(1, 29)],
            title_column: [f"Product {i}" for i in range(1, 29)],
            "description": [f"A sturdy thing number {i}, made to last." for i in range(1, 29)],
            "category": np.where(np.arange(28) % 2 == 0, "Garden", "Kitchen"),
        }
    )
    (folder / "orders.csv").write_text(orders.to_csv(sep=";", index=False))
    (folder / "catalogue.csv").write_text(catalogue.to_csv(index=False))
    return folder / "orders.csv", folder / "catalogue.csv"


def test_never_bought_items_are_noted_kept_apart_and_left_out_of_the_catalogue(tmp_path: Path) -> None:
    orders, catalogue = _shop(tmp_path)
    dataset, report = load_dataset(str(orders), items=str(catalogue))
    assert dataset.n_items == 25 and not set(COLD) & set(dataset.item_ids)  # what the models see is unchanged
    assert dataset.unused_items is not None and list(dataset.unused_items["item_id"]) == COLD
    assert dataset.unused_items["title"].tolist() == ["Product 26", "Product 27", "Product 28"]
    assert dataset.unused_items["text"].iloc[0].startswith("Product 26. A sturdy thing number 26")  # What-if's text
    assert (
        "3 items in catalogue.csv have no interactions and were left out of the catalogue (e.g. SKU-00026, "
        "SKU-00027); evaluation cannot score items nobody interacted with; use What-if → New item to see where one "
        "would rank"
    ) in report.notes
    # The same data without the never-bought rows: the same catalogue and fingerprint (results cannot move).
    bought = pd.read_csv(catalogue)
    bought = bought[~bought["sku"].isin(COLD)]
    bought.to_csv(tmp_path / "bought.csv", index=False)
    same, same_report = load_dataset(str(orders), items=str(tmp_path / "bought.csv"))
    assert same.fingerprint() == dataset.fingerprint() and same.unused_items is not None and same.unused_items.empty
    assert not [n for n in same_report.notes if "left out of the catalogue" in n]


def test_the_note_says_when_the_rating_threshold_emptied_an_item(tmp_path: Path) -> None:
    orders, catalogue = _shop(tmp_path)
    dataset, report = load_dataset(str(orders), items=str(catalogue), rating_threshold=4)
    (note,) = [n for n in report.notes if "left out of the catalogue" in n]
    assert dataset.unused_items is not None and list(dataset.unused_items["item_id"]) == ["SKU-00025", *COLD]
    assert note.startswith("4 items in catalogue.csv have no interactions left after the rating threshold and were")


def test_the_kept_apart_items_survive_saving_and_reopening_the_data(tmp_path: Path) -> None:
    orders, catalogue = _shop(tmp_path)
    dataset, _ = load_dataset(str(orders), items=str(catalogue))
    folder = save_dataset(dataset, tmp_path / "store")
    assert (folder / UNUSED_ITEMS).is_file()
    reopened = load_saved_dataset(dataset.fingerprint(), tmp_path / "store")
    assert reopened.fingerprint() == dataset.fingerprint() and reopened.n_items == 25
    assert reopened.unused_items is not None and list(reopened.unused_items["item_id"]) == COLD
    assert reopened.unused_items["text"].tolist() == dataset.unused_items["text"].tolist()  # type: ignore[index]


def test_without_an_items_file_nothing_is_kept_apart() -> None:
    frame = pd.DataFrame({"user_id": ["u1", "u2"], "item_id": ["a", "b"]})
    assert Dataset.from_frames(frame, name="tiny").unused_items is None


def test_retail_names_are_detected_and_public_layouts_are_not_moved(tmp_path: Path) -> None:
    orders, _ = _shop(tmp_path)
    interactions = read_interactions(orders)
    assert list(interactions.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert interactions.attrs["recaug_timestamp_form"] == ISO_DATETIME and interactions["rating"].max() == 5.0
    for header, expected in [
        (["customer_id", "sku", "order_date"], {"user_id": "customer_id", "item_id": "sku", "timestamp": "order_date"}),
        (["customer", "sku", "created_at"], {"user_id": "customer", "item_id": "sku", "timestamp": "created_at"}),
        (["Customer", "SKU", "Purchased On"], {"user_id": "Customer", "item_id": "SKU", "timestamp": "Purchased On"}),
        # an earlier name still wins where a file has both
        (["userId", "movieId", "sku", "timestamp", "created_at"], {"user_id": "userId", "item_id": "movieId"}),
        (["user_id", "product_id", "sku", "date", "order_date"], {"item_id": "product_id", "timestamp": "date"}),
    ]:
        found = detect_columns(header)
        assert {k: found.get(k) for k in expected} == expected, header
    assert detect_columns(["sku", "product_name", "description"], wanted=("item_id", "title", "text")) == {
        "item_id": "sku",
        "title": "product_name",
        "text": "description",
    }


def test_item_columns_map_a_catalogue_whose_names_are_unknown(tmp_path: Path) -> None:
    orders, catalogue = _shop(tmp_path, id_column="code", title_column="label")
    with pytest.raises(RecaugInputError) as refused:
        load_dataset(str(orders), items=str(catalogue))
    message = str(refused.value)
    assert "no item_id column found among code, label, description, category" in message
    assert "pass item_columns={'item_id': 'code', 'title': 'label'}" in message
    dataset, _ = load_dataset(
        str(orders), items=str(catalogue), item_columns={"item_id": "code", "title": "label", "text": "category"}
    )
    assert dataset.n_items == 25 and dataset.items["title"].iloc[0] == "Product 1"
    assert dataset.items["text"].iloc[0] == "Product 1. Category: Garden."  # text: only the column named
    with pytest.raises(RecaugInputError, match="'name', which is not an items column"):
        load_dataset(str(orders), items=str(catalogue), item_columns={"item_id": "code", "name": "label"})
    with pytest.raises(RecaugInputError, match="no items file was given"):
        load_dataset(str(orders), item_columns={"item_id": "code"})
    assert item_columns_choice({"item_id": "code", "text": ["a", "b"]}) == ({"item_id": "code"}, ["a", "b"])


@pytest.mark.parametrize(
    ("caller", "interactions_fix", "items_fix"),
    [
        (CLI, "--columns user_id,item_id,rating", "--item-columns item_id=code,title=label"),
        (PYTHON, "mapping={'user_id': 'client', 'item_id': 'article'}", "item_columns={'item_id': 'code'"),
        (HOME, "Column mapping on Home", "item id column under the items file on Home"),
    ],
)
def test_a_mapping_error_says_how_to_map_where_it_is_read(caller: str, interactions_fix: str, items_fix: str) -> None:
    words = {CLI: ("--",), PYTHON: ("=",), HOME: ("on Home",)}[caller]  # type: ignore[index]
    table = read_table(b"client,article,stars\nc1,a1,4\nc2,a2,5\n", name="shop.csv")
    with pytest.raises(RecaugInputError) as interactions_error:
        from recaug.data.readers import interactions_from_frame

        interactions_from_frame(table, name="shop.csv", caller=caller)  # type: ignore[arg-type]
    items = read_table(b"code,label\nSKU-1,Lamp\n", name="catalogue.csv")
    with pytest.raises(RecaugInputError) as items_error:
        items_from_frame(items, name="catalogue.csv", caller=caller)  # type: ignore[arg-type]
    for error, fix in ((interactions_error, interactions_fix), (items_error, items_fix)):
        text = str(error.value)
        assert fix in text and all(w in text for w in words), text
        assert "by hand" not in text  # the dashboard's old wording, printed by the CLI too
        if caller != HOME:
            assert "Home" not in text
