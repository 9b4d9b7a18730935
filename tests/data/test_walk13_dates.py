"""Timestamps come back as the user wrote them, and a date column nobody mapped gets a hint (session 13, fixer B)."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest

from recaug.augment import create_augmenter
from recaug.core.errors import RecaugInputError
from recaug.data.loading import RawData, build_dataset
from recaug.data.readers import NOTES, REGIONAL, read_interactions
from recaug.data.regional import RegionalFormat
from recaug.data.schema import ISO_DATE, ISO_DATETIME, UNIX_SECONDS
from recaug.data.splits import make_split
from recaug.data.store import load_saved_dataset, save_dataset
from recaug.reporting.export import arm_training_data, to_csv_bytes, to_parquet_bytes

_RNG = np.random.default_rng(13)
_N = 400
_TIMES = pd.Timestamp("2021-01-01") + pd.to_timedelta(_RNG.integers(0, 30_000_000, _N), unit="s")
_ROWS = pd.DataFrame(
    {"user_id": _RNG.integers(0, 25, _N), "item_id": _RNG.integers(0, 30, _N), "rating": _RNG.integers(1, 6, _N)}
)


def _csv(timestamps: pd.Index | np.ndarray, column: str = "timestamp") -> bytes:
    return _ROWS.assign(**{column: timestamps}).to_csv(index=False).encode()


def _arm_csv(data: bytes, regional: RegionalFormat = REGIONAL) -> tuple[pd.DataFrame, str]:
    """The Augment page's training-data download of one method, read back as text, and the dataset's form."""
    interactions = read_interactions(data, name="upload.csv", regional=regional)
    dataset, _ = build_dataset(RawData(interactions, None, "upload.csv", ("upload.csv",)))
    train = make_split(dataset.interactions, "random-811", 0).train
    result = create_augmenter("popularity", seed=0).fit(dataset.training_data(train)).augment(40)
    arm = arm_training_data(dataset, train, result)
    return pd.read_csv(io.BytesIO(to_csv_bytes(arm)), dtype=str, keep_default_na=False), dataset.timestamp_form


def _source_of(csv: pd.DataFrame, source: bytes) -> pd.Series:
    """The timestamp each real row of ``csv`` had in the uploaded file (the latest row of its user-item pair)."""
    given = pd.read_csv(io.BytesIO(source), dtype=str).drop_duplicates(["user_id", "item_id"], keep="last")
    real = csv[csv["origin"] == "real"]
    return real.merge(given, on=["user_id", "item_id"], suffixes=("", "_given"))


def test_iso_datetimes_are_written_back_as_iso_utc_and_synthetic_rows_stay_empty() -> None:
    source = _csv(_TIMES.strftime("%Y-%m-%dT%H:%M:%S"))
    csv, form = _arm_csv(source)
    assert form == ISO_DATETIME
    real, synthetic = csv[csv["origin"] == "real"], csv[csv["origin"] == "popularity"]
    assert len(real) > 200 and len(synthetic) > 0
    assert real["timestamp"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all(), real["timestamp"].head()
    assert (synthetic["timestamp"] == "").all()
    # The same instants as the file (a later row of a repeated pair wins, as in the data): joins back on time.
    joined = _source_of(csv, source)
    later = joined["timestamp"].str.rstrip("Z") >= joined["timestamp_given"]
    assert later.all() and (joined["timestamp"].str.rstrip("Z") == joined["timestamp_given"]).mean() > 0.8


@pytest.mark.parametrize(
    ("written", "regional"),
    [("%Y-%m-%d", REGIONAL), ("%d/%m/%Y", RegionalFormat(dates="day-first"))],
    ids=["iso-date", "day-first"],
)
def test_dates_without_a_time_are_written_back_as_iso_dates(written: str, regional: RegionalFormat) -> None:
    source = _csv(_TIMES.strftime(written))
    csv, form = _arm_csv(source, regional)
    assert form == ISO_DATE
    real = csv[csv["origin"] == "real"]
    assert real["timestamp"].str.fullmatch(r"\d{4}-\d\d-\d\d").all(), real["timestamp"].head()
    joined = _source_of(csv, source)
    as_given = pd.to_datetime(joined["timestamp_given"], format=written).dt.strftime("%Y-%m-%d")
    assert (joined["timestamp"] >= as_given).all() and (joined["timestamp"] == as_given).mean() > 0.8


def test_unix_seconds_stay_numbers_in_csv_and_parquet() -> None:
    seconds = (_TIMES - pd.Timestamp(0)) // pd.Timedelta(seconds=1)
    csv, form = _arm_csv(_csv(seconds))
    assert form == UNIX_SECONDS
    assert csv.loc[csv["origin"] == "real", "timestamp"].str.fullmatch(r"\d{10}").all()


def test_a_dates_parquet_download_carries_the_same_iso_text() -> None:
    interactions = read_interactions(_csv(_TIMES.strftime("%Y-%m-%d %H:%M")), name="upload.csv")
    dataset, _ = build_dataset(RawData(interactions, None, "upload.csv", ("upload.csv",)))
    train = make_split(dataset.interactions, "random-811", 0).train
    result = create_augmenter("popularity", seed=0).fit(dataset.training_data(train)).augment(10)
    back = pd.read_parquet(io.BytesIO(to_parquet_bytes(arm_training_data(dataset, train, result))))
    real = back.loc[back["origin"] == "real", "timestamp"]
    assert real.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00Z").all() and back["timestamp"].isna().any()


def test_the_form_survives_saving_and_reopening_the_data(tmp_path) -> None:
    interactions = read_interactions(_csv(_TIMES.strftime("%Y-%m-%d")), name="upload.csv")
    dataset, _ = build_dataset(RawData(interactions, None, "upload.csv", ("upload.csv",)))
    save_dataset(dataset, tmp_path)
    reopened = load_saved_dataset(dataset.fingerprint(), tmp_path)
    assert reopened.timestamp_form == ISO_DATE and dataset.fingerprint() == reopened.fingerprint()


def test_an_unmapped_date_column_gets_a_hint_naming_the_flag_that_maps_it() -> None:
    source = _csv(_TIMES.strftime("%Y-%m-%d"), column="watched_on")
    interactions = read_interactions(source, name="upload.csv")
    assert "timestamp" not in interactions.columns
    hints = [n for n in interactions.attrs[NOTES] if "looks like dates" in n]
    assert len(hints) == 1 and "column 'watched_on'" in hints[0] and "temporal protocols" in hints[0]
    flag = re.search(r"CLI: --columns (\S+);", hints[0])
    assert flag is not None and flag.group(1) == "user_id,item_id,rating,timestamp"
    # The hint's flag does what it says: the same file read with it has the dates as its timestamp.
    mapped = read_interactions(source, name="upload.csv", columns=flag.group(1).split(","))
    assert mapped["timestamp"].between(1.6e9, 1.7e9).all()
    _, report = build_dataset(RawData(interactions, None, "upload.csv", ("upload.csv",)))
    assert hints[0] in report.notes  # the load summary (CLI "note:", Home's preparation notes) shows it


def test_no_hint_for_words_numbers_times_of_day_or_when_a_timestamp_is_mapped() -> None:
    frame = _ROWS.assign(
        genre=np.where(_RNG.random(_N) < 0.5, "Comedy", "Drama"),
        price=_RNG.random(_N).round(2).astype(str),
        year=_RNG.integers(1990, 2020, _N),
        slot=np.where(_RNG.random(_N) < 0.5, "10:30", "18:00"),
        sku=[f"{a}-{b}" for a, b in zip(_RNG.integers(1, 12, _N), _RNG.integers(1, 12, _N), strict=True)],
    )
    interactions = read_interactions(frame.to_csv(index=False).encode(), name="upload.csv")
    assert not [n for n in interactions.attrs[NOTES] if "looks like dates" in n]
    both = _csv(_TIMES.strftime("%Y-%m-%d"), column="ts")
    with_second = pd.read_csv(io.BytesIO(both)).assign(released=_TIMES.strftime("%Y-%m-%d"))
    read = read_interactions(with_second.to_csv(index=False).encode(), name="upload.csv")
    assert "timestamp" in read.columns and not [n for n in read.attrs[NOTES] if "looks like dates" in n]


def test_a_timestamp_like_12_3_is_refused_by_row_not_a_crash() -> None:
    """'12-3' parsed as 3 December of year 1, which nanoseconds cannot hold: OutOfBoundsDatetime stopped the read."""
    values = np.where(np.arange(_N) == 7, "12-3", _TIMES.strftime("%Y-%m-%d"))
    with pytest.raises(RecaugInputError, match="'12-3' is neither a Unix time nor a date"):
        read_interactions(_csv(values), name="upload.csv")
