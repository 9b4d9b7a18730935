"""Validation before compute (issue #12): sizes, duplicates, items that match nothing, and item text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recaug.core.errors import RecaugInputError
from recaug.data.loading import RawData, build_dataset, load_dataset
from recaug.data.prepare import check_sizes, prepare_checked
from recaug.data.readers import read_items


def _grid(users: int, items: int) -> pd.DataFrame:
    """Every user rates every item: the smallest clean dataset of that shape."""
    pairs = [(f"u{u}", f"i{i}") for u in range(users) for i in range(items)]
    return pd.DataFrame(pairs, columns=["user_id", "item_id"]).assign(rating=4.0)


@pytest.mark.parametrize(
    ("frame", "fragment"),
    [
        (pd.DataFrame({"user_id": ["1"], "item_id": ["2"], "rating": [-3.0]}), "1 users (at least 10 needed)"),
        (_grid(1, 200), "1 users (at least 10 needed)"),  # a single-user file ran to meaningless numbers
        (_grid(200, 1), "1 items (at least 10 needed)"),
        (_grid(9, 9), "81 interactions (at least 100 needed)"),
    ],
)
def test_too_small_data_is_refused_saying_what_is_short(frame: pd.DataFrame, fragment: str) -> None:
    with pytest.raises(RecaugInputError) as info:
        check_sizes(frame, name="tiny.csv")
    assert fragment in str(info.value) and "tiny.csv" in str(info.value) and "—" in str(info.value)


def test_enough_data_passes_and_duplicates_are_counted() -> None:
    frame = pd.concat([_grid(12, 12), _grid(2, 3)], ignore_index=True)
    prepared, report = prepare_checked(frame, name="d.csv")
    assert len(prepared) == report.rows_out == 144 and report.duplicate_pairs == 6  # merged, so counted once
    assert any("6 rows repeat a user–item pair" in note for note in report.notes)


def test_items_that_match_no_interaction_warn() -> None:
    items = pd.DataFrame({"item_id": ["x1", "x2"], "title": ["A", "B"], "text": ["A", "B"]})
    _, report = prepare_checked(_grid(12, 12), items, name="d.csv", items_name="movies.csv")
    assert any("none of its 2 item ids" in warning and "movies.csv" in warning for warning in report.warnings)


def test_items_file_title_and_every_descriptive_column() -> None:
    # Only the genres were used as text: every item of a genre tied and a new item reached nobody.
    items = read_items(
        b"movieId,title,genres,imdbId,url\n1,Toy Story (1995),Adventure|Animation|Children,114709,http://x/1\n"
        b"2,Jumanji (1995),Adventure|Children|Fantasy,113497,http://x/2\n3,Heat (1995),(no genres listed),1,http://x\n",
        name="movies.csv",
    )
    assert items["text"].tolist() == [
        "Toy Story (1995). Genres: Adventure, Animation, Children.",
        "Jumanji (1995). Genres: Adventure, Children, Fantasy.",
        "Heat (1995)",
    ]
    assert items["title"].tolist() == ["Toy Story (1995)", "Jumanji (1995)", "Heat (1995)"]
    described = read_items(b"asin,name,description\nB1,Mug,A large mug.\n", name="p.csv")
    assert described["text"].tolist() == ["Mug. A large mug."]
    untitled = read_items(b"asin,description\nB1,A large mug.\n", name="p.csv")
    assert untitled["text"].tolist() == ["A large mug."] and untitled["title"].tolist() == ["A large mug."]


def test_duplicate_item_ids_are_counted_not_silently_dropped() -> None:
    items = read_items(b"item,title\n1,A\n1,A again\n2,B\n", name="items.csv")
    assert items["title"].tolist() == ["A", "B"]
    assert any("1 duplicate item id" in note for note in items.attrs["recaug_notes"])


def test_items_file_failure_fails_the_whole_load(tmp_path: Path) -> None:
    data = tmp_path / "r.csv"
    _grid(12, 12).to_csv(data, index=False)
    bad = tmp_path / "items.csv"
    bad.write_bytes(b"<html>not items</html>")
    with pytest.raises(RecaugInputError, match="web page"):
        load_dataset(str(data), items=str(bad))
    dataset, report = load_dataset(str(data), name="my shop")
    assert dataset.name == "my shop" and dataset.sources == ("r.csv",) and report.rows_out == 144


def test_repeated_pairs_are_merged_before_the_kcore_and_the_counts_add_up() -> None:
    """A user with one item three times is one interaction to the k-core; the report's rows_out is the dataset's."""
    frame = pd.concat(
        [_grid(12, 12), _grid(3, 4).assign(rating=5.0), pd.DataFrame({"user_id": ["solo"] * 3, "item_id": ["i0"] * 3})],
        ignore_index=True,
    )
    dataset, report = build_dataset(RawData(frame, None, "d.csv", ("d.csv",)), kcore=2)
    assert (report.rows_in, report.duplicate_pairs, report.rows_removed_by_kcore, report.rows_out) == (159, 14, 1, 144)
    assert len(dataset.interactions) == report.rows_out
    rows_in = report.rows_in - report.rows_below_threshold - report.duplicate_pairs - report.rows_removed_by_kcore
    assert rows_in == report.rows_out


@pytest.mark.parametrize(
    ("timestamps", "kept", "rule"),
    [
        (None, 5.0, "its last row in the file, as the file has no timestamp column"),
        ([300, 100], 1.0, "its latest row by timestamp"),  # the later row in the file is the older one
    ],
)
def test_the_duplicate_note_names_the_rule_that_chose_the_row_kept(
    timestamps: list[int] | None, kept: float, rule: str
) -> None:
    frame = _grid(12, 12)
    repeat = pd.DataFrame({"user_id": ["u0"], "item_id": ["i0"], "rating": [5.0]})
    original = frame.assign(rating=1.0)
    if timestamps is not None:
        original, repeat = original.assign(timestamp=timestamps[0]), repeat.assign(timestamp=timestamps[1])
    dataset, report = build_dataset(RawData(pd.concat([original, repeat], ignore_index=True), None, "d.csv", ()))
    rows = dataset.interactions
    assert rows.loc[(rows["user_id"] == "u0") & (rows["item_id"] == "i0"), "rating"].tolist() == [kept]
    assert f"1 row repeats a user–item pair; each pair is kept once ({rule})" in report.notes
