"""Readers: alias detection, overrides, and a clear message for every kind of bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from recaug.core.errors import RecaugInputError
from recaug.data.readers import read_interactions, read_items
from recaug.data.schema import detect_columns


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["userId", "movieId", "rating", "timestamp"], {"user_id": "userId", "item_id": "movieId"}),
        (["uid", "asin", "score", "time"], {"user_id": "uid", "item_id": "asin", "rating": "score"}),
        (["user_id:token", "item_id:token"], {"user_id": "user_id:token", "item_id": "item_id:token"}),
        (["Customer ID", "Product-ID"], {"user_id": "Customer ID", "item_id": "Product-ID"}),
    ],
)
def test_detects_common_aliases(header: list[str], expected: dict[str, str]) -> None:
    found = detect_columns(header)
    for canonical, column in expected.items():
        assert found[canonical] == column


def test_override_wins_over_detection() -> None:
    found = detect_columns(["user", "item", "other"], overrides={"item_id": "other"})
    assert found["item_id"] == "other"
    assert found["user_id"] == "user"


def test_reads_csv_with_semicolons_and_dates() -> None:
    data = b"user;item;stars;date\n1;a;4;2024-01-02\n2;b;5;2024-01-03\n"
    frame = read_interactions(data, name="shop.csv")
    assert list(frame.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert frame["rating"].tolist() == [4.0, 5.0]
    assert frame["timestamp"].iloc[0] == 1704153600  # 2024-01-02T00:00:00Z
    assert pd.api.types.is_string_dtype(frame["user_id"])


def test_spreadsheet_float_ids_match_integer_ids() -> None:
    frame = read_interactions(b"user_id,item_id\n1.0,12.0\n1,12\n", name="x.csv")
    assert set(frame["item_id"]) == {"12"}


def test_reads_parquet(tmp_path) -> None:
    path = tmp_path / "inter.parquet"
    pd.DataFrame({"userId": ["u1", "u2"], "movieId": ["m1", "m2"], "rating": [3.0, 4.0]}).to_parquet(path)
    frame = read_interactions(path)
    assert frame["item_id"].tolist() == ["m1", "m2"]


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (b"", ["empty.csv", "empty"]),
        (b"user_id,item_id\n", ["empty.csv", "no data rows"]),
        (b"user_id item_id\n1 2\n", ["empty.csv", "only one column", "comma"]),
        (b"visitor,thing\n1,2\n", ["empty.csv", "no user_id column", "visitor, thing"]),
        (b"user_id,item_id,rating\n1,2,5\n1,3,great\n", ["empty.csv", "row 3", "column 'rating'", "'great'"]),
        (b"user_id,item_id\n1,2\n\x00\x01,3\n", ["empty.csv", "binary data", "line 3"]),
        (b"user_id,item_id,rating\n1,,5\n", ["empty.csv", "row 2", "column 'item_id'", "no id"]),
        (b"user_id,item_id,ts\n1,2,yesterday\n", ["empty.csv", "row 2", "column 'ts'"]),
    ],
)
def test_bad_input_names_file_row_column(content: bytes, fragments: list[str]) -> None:
    with pytest.raises(RecaugInputError) as info:
        read_interactions(content, name="empty.csv")
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert "—" in message  # every message says what to do


def test_an_upload_over_the_limit_is_refused_but_a_file_on_disk_is_read(tmp_path) -> None:
    """The limit is the browser's upload limit; the CLI reads real-sized files from disk (10M rows are ~270 MB)."""
    content = b"user_id,item_id\n" + b"".join(f"{u},{u % 7}\n".encode() for u in range(1000))
    with pytest.raises(RecaugInputError, match="over the 100 bytes limit"):
        read_interactions(content, name="big.csv", max_bytes=100)
    path = tmp_path / "big.csv"
    path.write_bytes(content)
    assert len(read_interactions(path, max_bytes=100)) == 1000
    gzipped = tmp_path / "big.csv.gz"
    gzipped.write_bytes(__import__("gzip").compress(content))
    assert len(read_interactions(gzipped, max_bytes=100)) == 1000


def test_items_text_falls_back_to_title() -> None:
    items = read_items(b"movieId,title\n1,Toy Story\n2,Heat\n", name="items.csv")
    assert items["text"].tolist() == ["Toy Story", "Heat"]
    with pytest.raises(RecaugInputError, match="no title or text column"):
        read_items(b"movieId,price\n1,3\n", name="items.csv")
