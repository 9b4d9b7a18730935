"""Progress estimates: the time-left arithmetic, its formatting and the CLI bar line."""

from __future__ import annotations

from recaug.core.progress import ProgressClock, describe_progress, format_duration, render_bar


def test_remaining_is_linear_in_the_fraction_done_and_silent_early() -> None:
    now = [100.0]
    clock = ProgressClock(now=lambda: now[0])
    assert clock.remaining(0.5) is None  # no time has passed yet
    now[0] = 130.0
    assert clock.remaining(0.005) is None  # too little done to extrapolate
    assert clock.remaining(0.25) == 90.0
    assert clock.remaining(1.0) == 0.0


def test_durations_and_lines_read_well() -> None:
    assert format_duration(8.4) == "8 s"
    assert format_duration(185) == "3 min 05 s"
    assert format_duration(3840) == "1 h 04 min"
    assert describe_progress(0.3, "fitting bpr", None) == "fitting bpr"
    assert describe_progress(0.3, "fitting bpr", 70) == "fitting bpr · about 1 min 10 s left"
    line = render_bar(0.5, "seed 0: fitting bpr on baseline", 70, width=10)
    assert line == "[#####.....]  50% · 1 min 10 s left · seed 0: fitting bpr on baseline"
    assert "estimating" in render_bar(0.0, "reading", None)
