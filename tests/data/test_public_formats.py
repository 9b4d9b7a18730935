"""Issue #21's field data: the JSON dumps LLM-for-recommendation papers use, and Book-Crossing's CSV files.

Each fixture is generated here in the published schema of its data set (field names, types, the 2014 metadata's
Python literals, Goodreads' date strings, Amazon 2023's millisecond times, Book-Crossing's Latin-1 ';' quoting);
the ids and texts are made up. The readers were also checked on real public sample records of each format
(docs/notes/issue-21-formats.md); those are never committed.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from recaug.__main__ import main
from recaug.core.errors import RecaugInputError
from recaug.data.loading import build_dataset, load_raw
from recaug.data.prepare import suggested_threshold
from recaug.data.readers import NOTES, read_interactions, read_items
from ui.data_form import UPLOAD_TYPES


def _lines(records: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _notes(frame: pd.DataFrame) -> str:
    return " | ".join(frame.attrs[NOTES])


def test_amazon_2014_reviews_gzipped_and_metadata_as_python_literals(tmp_path: Path) -> None:
    reviews = [
        {"reviewerID": f"A{u}X", "asin": f"00000{i}", "reviewerName": "R", "helpful": [0, 1], "reviewText": "ok",
         "overall": float(1 + (u + i) % 5), "summary": "s", "unixReviewTime": 1252800000 + i,
         "reviewTime": "09 13, 2009"}
        for u in range(3) for i in range(2)
    ]  # fmt: skip
    path = tmp_path / "reviews_Books_5.json.gz"
    path.write_bytes(gzip.compress(_lines(reviews)))
    frame = read_interactions(path)
    assert frame["user_id"].tolist()[:2] == ["A0X", "A0X"] and frame["item_id"].tolist()[:2] == ["000000", "000001"]
    assert frame["rating"].tolist()[:2] == [1.0, 2.0] and frame["timestamp"].tolist()[:2] == [1252800000, 1252800001]
    assert "recognised as Amazon Reviews 2014/2018" in _notes(frame)
    meta = (
        "{'asin': '000000', 'title': 'Tom &amp; Jerry&amp;#39;s Puzzle', 'price': 3.17, 'salesRank': {'Toys': 2}, "
        "'imUrl': 'http://x/y.jpg', 'brand': 'Acme', 'categories': [['Toys & Games', 'Puzzles'], ['Kids']], "
        "'description': \"A 'fun' puzzle.\"}\n{'asin': '000001', 'categories': [['Books']], 'title': 'Atlas'}\n"
    )
    items = read_items(meta.encode(), name="meta_Books.json")
    assert items["title"].tolist() == ["Tom & Jerry's Puzzle", "Atlas"]
    assert items["text"].iloc[0] == (
        "Tom & Jerry's Puzzle. Categories: Toys & Games, Puzzles, Kids. A 'fun' puzzle. Brand: Acme."
    )
    assert "nested fields left out: salesRank" in _notes(items) and "Amazon metadata 2014" in _notes(items)


def test_amazon_2023_reviews_use_parent_asin_and_millisecond_times() -> None:
    reviews = [
        {"rating": 5.0, "title": "Nice", "text": "Lovely.", "images": [], "asin": "B01VARIANT",
         "parent_asin": "B01PARENT", "user_id": "AGKHLEW2", "timestamp": 1588687728923, "helpful_vote": 0,
         "verified_purchase": True},
        {"rating": 3.0, "title": "Hm", "text": "Fine.", "images": [{"small_image_url": "https://x"}], "asin": "B02",
         "parent_asin": "B02", "user_id": "AXYZ", "timestamp": 1683295728000, "helpful_vote": 2,
         "verified_purchase": False},
    ]  # fmt: skip
    frame = read_interactions(_lines(reviews), name="All_Beauty.jsonl")
    assert frame["item_id"].tolist() == ["B01PARENT", "B02"]  # variants of one product are one item
    assert frame["timestamp"].tolist() == [1588687728, 1683295728]
    assert "Unix times in milliseconds" in _notes(frame) and "Amazon Reviews 2023" in _notes(frame)
    meta = [
        {"main_category": "All Beauty", "title": "Cream", "average_rating": 4.2, "rating_number": 15,
         "features": ["Formulation: Cream", "Type: Day"], "description": ["Soft.", "For dry skin."], "price": None,
         "images": [{"thumb": "https://x", "variant": "MAIN"}], "videos": [], "store": "Bissport",
         "categories": ["Beauty", "Skin Care"], "details": {"Brand": "B"}, "parent_asin": "B01PARENT",
         "bought_together": None},
    ]  # fmt: skip
    items = read_items(json.dumps(meta).encode(), name="meta_All_Beauty.json")  # a JSON array this time
    assert items["item_id"].tolist() == ["B01PARENT"]
    assert items["text"].iloc[0] == (
        "Cream. Main category: All Beauty. Categories: Beauty, Skin Care. Features: Formulation: Cream, Type: Day. "
        "Soft. For dry skin. Store: Bissport."
    )
    assert "read as JSON array" in _notes(items) and "images, details" in _notes(items)


def test_goodreads_interactions_zero_is_unrated_and_books_use_book_id(tmp_path: Path) -> None:
    rows = [
        {"user_id": f"u{u:02d}", "book_id": str(100 + (u * 7 + k) % 40), "review_id": f"r{u}{k}", "is_read": k % 3 > 0,
         "rating": (u + k) % 6, "review_text_incomplete": "",
         "date_added": f"Fri Apr {1 + k % 28:02d} 08:15:15 -0700 2013",
         "date_updated": "Fri Apr 19 08:15:15 -0700 2013", "read_at": "", "started_at": ""}
        for u in range(12) for k in range(30)
    ]  # fmt: skip
    data = tmp_path / "goodreads_interactions_poetry.json.gz"
    data.write_bytes(gzip.compress(_lines(rows)))
    frame = read_interactions(data)
    zeros = sum(r["rating"] == 0 for r in rows)
    assert frame["rating"].isna().sum() == zeros and frame["rating"].min() == 1
    assert f"'rating' 0 means the user did not rate the item: {zeros:,} of 360 rows" in _notes(frame)
    assert frame["timestamp"].iloc[0] == int(dt.datetime(2013, 4, 1, 15, 15, 15, tzinfo=dt.UTC).timestamp())
    assert suggested_threshold(frame["rating"]) == 4.0
    dataset, report = build_dataset(load_raw(str(data)), rating_threshold="auto")
    assert (
        dataset.interactions["rating"].min() >= 4 and report.rows_below_threshold == 360 - (frame["rating"] >= 4).sum()
    )
    book = {"isbn": "0151686564", "asin": "", "kindle_asin": "", "country_code": "US", "similar_books": ["1", "2"],
            "popular_shelves": [{"count": "3", "name": "to-read"}], "authors": [{"author_id": "1", "role": ""}],
            "description": "Playful cat poems.", "publisher": "Harcourt", "publication_year": "1982", "book_id": "100",
            "work_id": "372536", "title": "Practical Cats", "link": "https://example.org/100"}  # fmt: skip
    items = read_items(_lines([book]), name="goodreads_books_poetry.json")
    assert items["item_id"].tolist() == ["100"]  # not its isbn, not its empty asin
    assert items["text"].iloc[0] == "Practical Cats. Playful cat poems. Publisher: Harcourt. Publication year: 1982."


def test_yelp_reviews_and_businesses() -> None:
    reviews = [
        {"review_id": "KU_O5", "user_id": "mh_-eMZ6", "business_id": "XQfwVwDr", "stars": 3.0, "useful": 0,
         "funny": 0, "cool": 0, "text": "Slow but good.", "date": "2018-07-07 22:09:11"},
    ]  # fmt: skip
    frame = read_interactions(_lines(reviews), name="yelp_academic_dataset_review.json")
    assert frame.iloc[0].tolist() == ["mh_-eMZ6", "XQfwVwDr", 3.0, 1531001351]
    business = {"business_id": "XQfwVwDr", "name": "Diner &amp; Bar", "address": "1 Main St", "city": "Reno",
                "state": "NV", "postal_code": "T2E 3K1", "stars": 4.0, "attributes": {"WiFi": "free"},
                "categories": "Diners, Breakfast & Brunch", "hours": None}  # fmt: skip
    items = read_items(_lines([business]), name="yelp_academic_dataset_business.json")
    assert items.iloc[0][["item_id", "title", "text"]].tolist() == [
        "XQfwVwDr",
        "Diner & Bar",
        "Diner & Bar. Categories: Diners, Breakfast & Brunch. City: Reno.",
    ]


def test_book_crossing_headers_latin1_zero_implicit_and_a_ten_point_threshold(tmp_path: Path) -> None:
    rows = [f'"{276700 + u}";"03454{i:05d}X";"{(u * 3 + i) % 11}"' for u in range(12) for i in range(40)]
    ratings = tmp_path / "BX-Book-Ratings.csv"
    ratings.write_bytes(("\n".join(['"User-ID";"ISBN";"Book-Rating"', *rows]) + "\n").encode("latin-1"))
    books = tmp_path / "BX-Books.csv"
    books.write_bytes(
        '"ISBN";"Book-Title";"Book-Author";"Year-Of-Publication";"Publisher";"Image-URL-S"\n'
        '"0345400000X";"Harry Potter &amp; the Café";"Zoë Rowling";"1999";"Scholastic";"http://x/s.jpg"\n'.encode(
            "latin-1"
        )
    )
    frame = read_interactions(ratings)
    assert list(frame.columns) == ["user_id", "item_id", "rating"]
    assert frame["rating"].isna().sum() == sum((u * 3 + i) % 11 == 0 for u in range(12) for i in range(40))
    assert "recognised as Book-Crossing ratings" in _notes(frame)
    assert suggested_threshold(frame["rating"]) == 8.0
    items = read_items(books)
    assert items.iloc[0][["title", "text"]].tolist() == [
        "Harry Potter & the Café",
        "Harry Potter & the Café. Book-author: Zoë Rowling. Year-of-publication: 1999. Publisher: Scholastic.",
    ]
    dataset, _ = build_dataset(load_raw(str(ratings), items=str(books)), rating_threshold="auto")
    assert dataset.interactions["rating"].min() == 8.0


def test_broken_json_is_named_by_line_and_jsonl_is_an_upload_type() -> None:
    with pytest.raises(RecaugInputError, match=r"row 2: line 2 is not a JSON record \('\{\"user_id\": \"u2\", \"item"):
        read_interactions(b'{"user_id": "u1", "item_id": "i1"}\n{"user_id": "u2", "item_id": \n', name="r.jsonl")
    with pytest.raises(RecaugInputError, match="record 2 is a list, not an object"):
        read_interactions(b'[{"user_id": "u1", "item_id": "i1"}, [1, 2]]', name="r.json")
    with pytest.raises(RecaugInputError, match="holds no records with fields"):
        read_interactions(b'{"data": {"user_id": "u1"}}', name="r.json")  # one object wrapping the records
    assert {"json", "jsonl", "gz"} <= set(UPLOAD_TYPES)


def test_cli_reads_jsonl_gz_with_the_auto_threshold(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rows = [
        {"user_id": f"u{u}", "parent_asin": f"B{(u * 5 + k) % 40:03d}", "rating": float(1 + (u + k) % 5),
         "timestamp": 1_600_000_000_000 + 60_000 * (u * 30 + k), "asin": "x"}
        for u in range(12) for k in range(30)
    ]  # fmt: skip
    data = tmp_path / "Beauty.jsonl.gz"
    data.write_bytes(gzip.compress(_lines(rows)))
    args = ["compare", "--data", str(data), "--rating-threshold", "auto", "--augment", "random", "--models", "pop"]
    assert main([*args, "--seeds", "0", "--out", str(tmp_path / "out"), "--no-save", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "recognised as Amazon Reviews 2023" in err and "milliseconds" in err
    split = pd.read_csv(tmp_path / "out" / "split.csv", dtype=str)
    assert len(split) == sum(r["rating"] >= 4 for r in rows)  # 'auto' kept 4 and 5 of 5


_json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**14) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.dictionaries(st.sampled_from(["user_id", "item_id", "rating", "date", "title", "x"]), _json_value),
        max_size=5,
    ),
    st.booleans(),
)
@example(records=[{"user_id": [None, "0"]}], as_array=False)  # pyarrow's to_pylist raised SystemError (CI, session 11)
@example(records=[{"user_id": [None, "0"], "item_id": "1"}], as_array=False)
def test_fuzz_json_records_only_raise_the_product_error(records: list[dict], as_array: bool) -> None:
    data = json.dumps(records).encode() if as_array else _lines(records)
    for read in (read_interactions, read_items):
        try:
            frame = read(data or b"{}", name="fuzz.jsonl")
        except RecaugInputError:
            continue
        assert frame["item_id"].notna().all()


def test_an_unknown_json_item_file_takes_worded_fields_not_id_lists() -> None:
    record = {"item": "1", "title": "Cats", "similar": ["884306", "234"], "genre": ["poetry", "cats"], "pages": 56}
    items = read_items(_lines([record]), name="catalog.jsonl")
    assert items["text"].tolist() == ["Cats. Genre: poetry, cats."]
