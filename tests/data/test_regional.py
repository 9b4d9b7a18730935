"""Issue #19's regional formats: day-first dates, decimal commas, a late NUL byte and repeated header names.

A three-week file ending 10 December read month-first swapped 123 of 300 dates and moved 120 of 300 rows across
a temporal split; these tests hold the rule that replaced the guess: a day above 12 decides, a file that both
readings fit is refused with the choice offered.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recaug.__main__ import main
from recaug.core.errors import RecaugInputError
from recaug.data.readers import NOTES, read_interactions
from recaug.data.regional import RegionalControls, RegionalFormat, RegionalSettingError

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _seconds(day: dt.datetime) -> int:
    return int((day.replace(tzinfo=dt.UTC) - EPOCH).total_seconds())


def _file(dates: list[str], delimiter: str = ";") -> bytes:
    rows = [f"u{i % 7}{delimiter}i{i}{delimiter}{d}" for i, d in enumerate(dates)]
    return ("\n".join([f"user{delimiter}item{delimiter}date", *rows]) + "\n").encode()


def test_three_weeks_ending_10_december_day_first_are_read_right() -> None:
    # The file: 20 Nov .. 10 Dec written dd.mm.yyyy; days 20..30 decide day-first for the whole column.
    days = [dt.datetime(2024, 11, 20) + dt.timedelta(days=d) for d in range(21)]
    frame = read_interactions(_file([d.strftime("%d.%m.%Y") for d in days]), name="shop.csv")
    assert frame["timestamp"].tolist() == [_seconds(d) for d in days]


def test_month_first_is_detected_from_a_second_field_above_12() -> None:
    frame = read_interactions(_file(["12/01/2024 2:30 PM", "12/13/2024", "01/02/24"], ","), name="us.csv")
    expected = [dt.datetime(2024, 12, 1, 14, 30), dt.datetime(2024, 12, 13), dt.datetime(2024, 1, 2)]
    assert frame["timestamp"].tolist() == [_seconds(d) for d in expected]


def test_dates_both_readings_fit_are_refused_with_the_choice_offered() -> None:
    data = _file(["01.12.2024", "05.12.2024", "10.12.2024"])
    with pytest.raises(RecaugInputError) as info:
        read_interactions(data, name="shop.csv")
    message = str(info.value)
    assert "row 2" in message and "column 'date'" in message and "'01.12.2024'" in message
    assert "day-first (1 Dec) or month-first (Jan 12)" in message
    assert "--dayfirst" in message and "Home" not in message  # the CLI's words; the dashboard's are its own
    day_first = read_interactions(data, name="shop.csv", regional=RegionalFormat(dates="dayfirst"))
    assert day_first["timestamp"].tolist() == [_seconds(dt.datetime(2024, 12, d)) for d in (1, 5, 10)]
    month_first = read_interactions(data, name="shop.csv", regional=RegionalFormat(dates="month-first"))
    assert month_first["timestamp"].tolist() == [_seconds(dt.datetime(2024, m, 12)) for m in (1, 5, 10)]
    explicit = read_interactions(data, name="shop.csv", regional=RegionalFormat(dates="%d.%m.%Y"))
    assert explicit["timestamp"].tolist() == day_first["timestamp"].tolist()


def test_dates_equal_either_way_and_unambiguous_styles_need_no_choice() -> None:
    frame = read_interactions(
        _file(["01.01.2024", "05.05.2024", "2024-03-04", "Mon Aug 01 13:41:57 -0700 2016"]), name="x"
    )
    expected = [
        dt.datetime(2024, 1, 1),
        dt.datetime(2024, 5, 5),
        dt.datetime(2024, 3, 4),
        dt.datetime(2016, 8, 1, 20, 41, 57),
    ]
    assert frame["timestamp"].tolist() == [_seconds(d) for d in expected]


def test_mixed_orders_and_a_contradicting_setting_name_the_rows() -> None:
    data = _file(["13.12.2024", "01.02.2024", "12.13.2024"])
    with pytest.raises(
        RecaugInputError, match=r"mix day-first \('13\.12\.2024', row 2\) and month-first \('12\.13\.2024', row 4\)"
    ):
        read_interactions(data, name="x.csv")
    with pytest.raises(RecaugInputError, match=r"row 4.*'12\.13\.2024'.*read as day-first"):
        read_interactions(data, name="x.csv", regional=RegionalFormat(dates="day-first"))
    with pytest.raises(RecaugInputError, match="unknown date format"):
        RegionalFormat(dates="sometimes")


def test_decimal_commas_in_semicolon_files_and_the_option() -> None:
    frame = read_interactions(b"user;item;rating\n1;2;4,5\n1;3;1.234,5\n2;2;3\n", name="de.csv")
    assert frame["rating"].tolist() == [4.5, 1234.5, 3.0]
    assert "decimal commas read as decimal points ('4,5' is 4.5)" in " ".join(frame.attrs[NOTES])
    quoted = b'user,item,rating\n1,2,"4,5"\n1,3,3\n'
    with pytest.raises(RecaugInputError, match=r"'4,5' is not a number.*--decimal ,"):
        read_interactions(quoted, name="q.csv")  # in a comma file, 4,5 may be a thousands separator: never guessed
    assert read_interactions(quoted, name="q.csv", regional=RegionalFormat(decimal=","))["rating"].tolist() == [4.5, 3]
    with pytest.raises(RecaugInputError, match="'4,5' is not a number"):
        read_interactions(b"user;item;rating\n1;2;4,5\n", name="de.csv", regional=RegionalFormat(decimal="."))


def test_a_nul_byte_far_into_the_file_is_binary_data() -> None:
    rows = b"".join(f"{u},{u % 50}\n".encode() for u in range(20_000))  # ~170 KB, past the old 64 KiB window
    with pytest.raises(RecaugInputError, match=r"binary data \(a NUL byte on line 20002\)"):
        read_interactions(b"user,item\n" + rows + b"1\x00,2\n", name="late.csv")


def test_repeated_header_names_are_refused_where_they_matter_and_noted_elsewhere() -> None:
    with pytest.raises(
        RecaugInputError, match=r"2 columns are named 'rating' \(columns 3, 4\); which one holds the rating"
    ):
        read_interactions(b"user,item,rating,rating\n1,2,3,4\n", name="r.csv")
    chosen = read_interactions(b"user,item,rating,rating\n1,2,3,4\n", name="r.csv", mapping={"rating": "rating_2"})
    assert chosen["rating"].tolist() == [4.0]
    harmless = read_interactions(b"user,item,genre,genre\n1,2,a,b\n", name="g.csv")
    assert "a second column is named 'genre'; it is read as 'genre_2'" in " ".join(harmless.attrs[NOTES])
    with pytest.raises(RecaugInputError, match="2 columns are named 'user'"):
        read_interactions(b"user,user,item\n1,2,3\n", name="u.csv")


def test_unix_milliseconds_are_read_as_seconds_with_a_note() -> None:
    frame = read_interactions(
        b"user_id,parent_asin,rating,timestamp\nA,B1,5,1588687728923\nC,B2,4,1588687729000\n", name="a.csv"
    )
    assert frame["timestamp"].tolist() == [1588687728, 1588687729]
    assert "Unix times in milliseconds" in " ".join(frame.attrs[NOTES])


def test_cli_dayfirst_flag(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    days = [dt.datetime(2024, 1, 1) + dt.timedelta(hours=3 * i) for i in range(300)]
    rows = [f"u{i % 12};i{i % 50};{d.strftime('%d/%m/%Y %H:%M')}" for i, d in enumerate(days) if d.day <= 12]
    data = tmp_path / "eu.csv"
    data.write_text("\n".join(["user;item;date", *rows]) + "\n")
    args = ["compare", "--data", str(data), "--augment", "random", "--models", "pop", "--seeds", "0", "--protocol"]
    args += ["temporal", "--out", str(tmp_path / "out"), "--no-save", "--quiet", "--no-llm-estimate"]
    assert main(args) == 2
    assert "--dayfirst" in capsys.readouterr().err
    assert main([*args, "--dayfirst"]) == 0
    split = pd.read_csv(tmp_path / "out" / "split.csv", dtype=str)
    assert len(split) == len(rows)


_orders = st.sampled_from(["%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%y", "%m-%d-%Y %H:%M", "%Y-%m-%d"])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2060, 12, 31)), min_size=1, max_size=12
    ),
    _orders,
)
def test_fuzz_dates_are_read_exactly_or_refused_only_when_ambiguous(days: list[dt.datetime], layout: str) -> None:
    days = [
        d.replace(second=0, microsecond=0) if "%H" in layout else d.replace(hour=0, minute=0, second=0, microsecond=0)
        for d in days
    ]
    data = _file([d.strftime(layout) for d in days])
    day_first = layout.startswith("%d")
    decides = any((d.day if day_first else d.month) > 12 for d in days) or any(
        (d.month if day_first else d.day) > 12 for d in days
    )
    try:
        frame = read_interactions(data, name="fuzz.csv")
    except RecaugInputError as err:
        assert layout != "%Y-%m-%d" and not decides, str(err)  # refused only when nothing decides
        assert "can be read day-first" in str(err) and "--dayfirst" in str(err)
        return
    assert frame["timestamp"].tolist() == [_seconds(d) for d in days]


def test_a_regional_fix_is_worded_per_surface_and_rows_are_counted_in_words() -> None:
    """The CLI's message names its flag; the same error reworded names another surface's control."""
    rows = "".join(f"u{n},i{n},{'five' if n in (3, 7) else 4}\n" for n in range(12))
    with pytest.raises(RegionalSettingError) as info:
        read_interactions(f"user,item,rating\n{rows}".encode(), name="r.csv")
    assert "value 'five' is not a number (2 such rows)" in str(info.value) and "pass --decimal ," in str(info.value)
    shown = str(info.value.for_surface(RegionalControls(dates="the Dates menu", decimal="open the Decimal menu")))
    assert shown.endswith("if it writes decimal commas (4,5), open the Decimal menu") and "--decimal" not in shown
    assert info.value.row == 5 and info.value.column == "rating"
    with pytest.raises(RecaugInputError, match=r"\(1 such row\)") as one:
        read_interactions(b"user,item,rating\n1,2,five\n", name="r.csv", regional=RegionalFormat(decimal="."))
    assert not isinstance(one.value, RegionalSettingError)  # the decimal mark was chosen: no setting to suggest
