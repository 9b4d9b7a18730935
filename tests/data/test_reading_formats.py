"""Issue #12's reading cases: every common interaction file reads correctly, nothing is silently shifted.

Each test is one file a new user brought (MovieLens CSV, '::' with zero-padded ids and 0-10 ratings, CRLF,
header-less, Latin-1, UTF-16, gzip, zip, quoted newlines, mixed-precision dates) or one malformed file whose
message must name what is wrong and where.
"""

from __future__ import annotations

import gzip
import io
import zipfile

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recaug.core.errors import RecaugInputError
from recaug.data.readers import NOTES, read_interactions, read_items, read_table

ML_DAT = b"1::0114709::10::1381620027\r\n1::0113277::8::1379466669\r\n2::0114709::7::1389230000\r\n"


def _notes(frame: pd.DataFrame) -> str:
    return " ".join(frame.attrs.get(NOTES, []))


def test_header_with_fewer_fields_than_rows_is_refused_naming_the_line() -> None:
    # pandas would make column 1 the index and shift every column left (users became item ids).
    data = b"userId,movieId,rating\n1,10,4,999\n2,11,5,998\n"
    with pytest.raises(RecaugInputError, match=r"line 2 has 4 fields but the header has 3"):
        read_interactions(data, name="ratings.csv")


def test_mismatch_line_counts_quoted_newlines_and_blank_lines() -> None:
    data = b'user,item,comment\n1,2,"two\nlines"\n\n3,4,x\n5,6,7,8\n'
    with pytest.raises(RecaugInputError) as info:
        read_interactions(data, name="c.csv")
    assert "line 6 has 4 fields" in str(info.value)
    assert info.value.row == 6


def test_header_names_with_spaces_are_stripped() -> None:
    frame = read_interactions(b" User ID , Item ID , Rating \n 1 , 10 , 4 \n2,11,5\n", name="s.csv")
    assert frame["user_id"].tolist() == ["1", "2"]
    assert frame["item_id"].tolist() == ["10", "11"]
    assert frame["rating"].tolist() == [4.0, 5.0]


def test_double_colon_headerless_with_zero_padded_ids_and_crlf() -> None:
    frame = read_interactions(ML_DAT, name="ratings.dat")
    assert frame["user_id"].tolist() == ["1", "1", "2"]
    assert frame["item_id"].tolist() == ["0114709", "0113277", "0114709"]  # ids are never numbers
    assert frame["rating"].tolist() == [10.0, 8.0, 7.0]
    assert frame["timestamp"].tolist() == [1381620027, 1379466669, 1389230000]
    assert "first line holds data" in _notes(frame)


def test_double_colon_inside_a_title_stays_in_the_title() -> None:
    items = read_items(
        b"1::Toy Story (1995)::Animation|Children's|Comedy\n2::Cry:: the Beloved Country (1995)::Drama\n",
        name="movies.dat",
    )
    assert items["title"].tolist() == ["Toy Story (1995)", "Cry:: the Beloved Country (1995)"]
    assert items["text"].tolist() == [
        "Toy Story (1995). Animation, Children's, Comedy.",
        "Cry:: the Beloved Country (1995). Drama.",
    ]


def test_no_header_option_reads_the_first_row_as_data() -> None:
    data = b"alice,apple,5\nbob,pear,3\n"
    frame = read_interactions(data, name="x.csv", header=False)
    assert frame["user_id"].tolist() == ["alice", "bob"]
    assert frame["rating"].tolist() == [5.0, 3.0]
    named = read_interactions(data, name="x.csv", header=False, columns=["user", "item", "stars"])
    assert named["item_id"].tolist() == ["apple", "pear"]
    with pytest.raises(RecaugInputError, match="2 column names were given"):
        read_table(data, name="x.csv", header=False, columns=["a", "b"])


def test_header_detected_when_the_first_row_is_numbers() -> None:
    frame = read_table(b"1,10,4\n2,11,5\n", name="x.csv")
    assert frame.attrs["header"] is False
    assert len(frame) == 2


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16", "utf-8-sig"])
def test_encodings(encoding: str) -> None:
    data = "user,item,rating\nJosé,Café Crème,5\nZoë,Naïve,4\n".encode(encoding)
    frame = read_interactions(data, name="e.csv")
    assert frame["user_id"].tolist() == ["José", "Zoë"]
    assert frame["item_id"].tolist() == ["Café Crème", "Naïve"]
    assert ("not UTF-8" in _notes(frame)) == (encoding not in ("utf-8-sig",))


def test_gzip_and_zip_and_suffixes(tmp_path) -> None:
    text = b"userId\tmovieId\trating\n1\t10\t4\n2\t11\t5\n"
    (tmp_path / "r.tsv.gz").write_bytes(gzip.compress(text))
    assert read_interactions(tmp_path / "r.tsv.gz")["item_id"].tolist() == ["10", "11"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ml/ratings.dat", ML_DAT)
    assert len(read_interactions(buffer.getvalue(), name="ml.zip")) == 3
    (tmp_path / "r.txt").write_bytes(text)
    assert len(read_interactions(tmp_path / "r.txt")) == 2


def test_damaged_gzip_and_office_files_name_the_format() -> None:
    with pytest.raises(RecaugInputError, match="gzip file is damaged"):
        read_interactions(b"\x1f\x8b\x08\x00garbage", name="r.csv.gz")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<x/>")
        archive.writestr("xl/workbook.xml", "<x/>")
    with pytest.raises(RecaugInputError, match="Excel"):
        read_interactions(buffer.getvalue(), name="r.xlsx")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"<!DOCTYPE html><html><body>ratings</body></html>", "web page"),
        (b"%PDF-1.4 ratings", "document or image"),
    ],
)
def test_non_tables_are_named_not_called_empty(content: bytes, fragment: str) -> None:
    with pytest.raises(RecaugInputError, match=fragment):
        read_interactions(content, name="page.csv")


def test_quoted_fields_with_newlines_and_delimiters() -> None:
    frame = read_table(b'item,title\n1,"Heat, the\nmovie"\n2,Up\n', name="i.csv")
    assert frame["title"].tolist() == ["Heat, the\nmovie", "Up"]


def test_iso_dates_of_mixed_precision() -> None:
    frame = read_interactions(b"user,item,time\n1,2,2020-01-02\n3,4,2021-03-04 05:06:07\n", name="d.csv")
    assert frame["timestamp"].tolist() == [1577923200, 1614834367]


@pytest.mark.parametrize("value", ["inf", "-inf", "1e308", "nan"])
def test_non_finite_or_absurd_ratings_are_refused(value: str) -> None:
    with pytest.raises(RecaugInputError, match="column 'rating'"):
        read_interactions(f"user,item,rating\n1,2,4\n1,3,{value}\n".encode(), name="r.csv")


def test_size_limit_message_uses_the_configured_unit() -> None:
    # 210e6 bytes against the 200 MB (200 * 2**20) limit read "over the 210 MB limit".
    from recaug.data.readers import DEFAULT_MAX_BYTES, _too_large

    message = str(_too_large("big.csv", 250 * 2**20, DEFAULT_MAX_BYTES))
    assert "250 MB, over the 200 MB limit" in message


def test_polarity_column_is_kept() -> None:
    frame = read_interactions(b"user,item,polarity\n1,2,1\n1,3,-1\n", name="p.csv")
    assert frame["polarity"].tolist() == [1.0, -1.0]


def test_parquet_suffix_and_columns(tmp_path) -> None:
    path = tmp_path / "x.parquet"
    pd.DataFrame({"a": ["u1", "u2"], "b": [1, 2]}).to_parquet(path)
    frame = read_interactions(path, columns=["user", "item"])
    assert frame["item_id"].tolist() == ["1", "2"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_fuzz_bytes_only_raise_the_product_error(data: bytes) -> None:
    for read in (read_interactions, read_items):
        try:
            frame = read(data, name="fuzz.csv")
        except RecaugInputError:
            continue
        assert "item_id" in frame.columns


_cell = st.text(alphabet=st.sampled_from(list("ab1 2.-e:,;|\t\"'\r\nx9é")), max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(_cell, min_size=1, max_size=5), min_size=1, max_size=6),
    st.sampled_from([",", "\t", ";", "|", "::"]),
    st.sampled_from(["user,item,rating,time", "user_id;item_id", "a|b|c", ""]),
)
def test_fuzz_tables_only_raise_the_product_error(rows: list[list[str]], delimiter: str, header: str) -> None:
    text = "\n".join([header, *(delimiter.join(row) for row in rows)])
    for read in (read_interactions, read_items):
        try:
            frame = read(text.encode(), name="fuzz.csv")
        except RecaugInputError:
            continue
        assert frame["item_id"].notna().all()


def test_mixed_id_types_and_long_fields() -> None:
    frame = read_interactions(b"user,item\n1,a\nx,2.0\n-5,007\n", name="m.csv")
    assert frame["user_id"].tolist() == ["1", "x", "-5"] and frame["item_id"].tolist() == ["a", "2", "007"]
    long_title = "word " * 40_000
    items = read_items(f'item,title\n1,"{long_title}"\n2,Short\n'.encode(), name="long.csv")
    assert items["title"].iloc[0] == long_title.strip() and len(items) == 2
