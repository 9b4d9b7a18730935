"""A pair rated 10 and later re-rated 2 is a 2: repeated rows merge into the latest before the rating threshold
(walk 13: 50 stale positives of 50 were kept, with ``duplicate_pairs`` 0 and no "rows repeat" note)."""

from __future__ import annotations

import pandas as pd

from recaug.data.prepare import prepare


def _rerated(with_time: bool) -> pd.DataFrame:
    rows = [(f"u{u}", f"i{i}", 8.0, 100 + u + i) for u in range(20) for i in range(6)]
    # Later, every user re-rates item i0 down to 2 (the file order puts the re-rating last).
    rows += [(f"u{u}", "i0", 2.0, 10_000 + u) for u in range(20)]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])
    return frame if with_time else frame.drop(columns="timestamp")


def test_the_latest_rating_decides_the_threshold() -> None:
    for with_time in (True, False):
        prepared, report = prepare(_rerated(with_time), rating_threshold=5.0)
        assert not (prepared["item_id"] == "i0").any()  # the stale 8s are gone with their pairs
        assert len(prepared) == 20 * 5 and report.duplicate_pairs == 20 and report.rows_below_threshold == 20
        assert report.rows_in - report.rows_below_threshold - report.duplicate_pairs == report.rows_out


def test_an_earlier_rating_does_not_win_when_the_file_is_out_of_order() -> None:
    frame = _rerated(True).iloc[::-1].reset_index(drop=True)  # the re-ratings first in the file, latest by time
    prepared, _ = prepare(frame, rating_threshold=5.0)
    assert not (prepared["item_id"] == "i0").any()
