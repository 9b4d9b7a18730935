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
    assert render_bar(1.0, "run recorded", None, width=4) == "[####] 100% · done · run recorded"  # not 'estimating'


class _Timeline:
    """A fake clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _run(clock: ProgressClock, timeline: _Timeline, costs: list[float], upto: int) -> None:
    """Let the first ``upto`` of equal-width steps take ``costs`` seconds each, reporting at every step start."""
    for index in range(upto):
        clock.observe(index / len(costs))
        timeline.now += costs[index]
    clock.observe(upto / len(costs))


def test_time_left_is_priced_by_what_each_kind_of_step_took() -> None:
    """Two seeds of [augment, fit pop, fit bpr]: once seed 0 is timed, seed 1's time left is its real cost, where
    the linear estimate (every step equal) is off by the cheap steps' share."""
    plan = ["augment", "fit pop", "fit bpr"] * 2
    costs = [30.0, 1.0, 9.0] * 2
    timeline = _Timeline()
    clock = ProgressClock(now=timeline, plan=plan)
    _run(clock, timeline, costs, upto=4)  # seed 0 done, seed 1's augment done
    assert clock.remaining(4 / 6) == 10.0  # fit pop + fit bpr, as measured in seed 0
    linear = ProgressClock(now=timeline)
    timeline.now += 70.0  # 70 s for 4 of 6 steps
    assert abs((linear.remaining(4 / 6) or 0) - 35.0) < 1e-9  # the old estimate: 3.5 times too long


def test_a_slow_first_step_is_priced_once_not_for_every_step_after_it() -> None:
    """An LLM step of 60 s, then four quick steps already timed in an earlier run of this process."""
    timeline = _Timeline()
    earlier = ProgressClock(now=timeline, plan=["quick step"] * 2)
    _run(earlier, timeline, [2.0, 2.0], upto=2)  # the process has seen 'quick step' take 2 s
    clock = ProgressClock(now=timeline, plan=["llm calls", *["quick step"] * 4])
    _run(clock, timeline, [60.0, 2.0, 2.0, 2.0, 2.0], upto=1)
    assert clock.remaining(1 / 5) == 8.0  # linear would say 240 s
    assert clock.cost("llm calls") == 60.0


def test_a_step_that_reports_its_own_progress_is_extrapolated_inside() -> None:
    timeline = _Timeline()
    clock = ProgressClock(now=timeline, plan=["embed", "llm calls"])
    _run(clock, timeline, [4.0, 0.0], upto=1)
    timeline.now += 30.0  # 30 s into the LLM step, a quarter of its calls done
    assert clock.remaining(0.5 + 0.25 * 0.5) == 90.0
    assert ProgressClock(now=timeline, plan=["x"]).remaining(0.5) is None  # nothing timed, under a second


def test_a_step_just_starting_to_report_is_not_priced_by_another_run() -> None:
    """An LLM step timed at 1 s in an earlier run (its answers were cached then) ran 45 s of skill check here; 5 s
    in, with 2% of its calls made, the Augment page said "about 1 s left"."""
    timeline = _Timeline()
    earlier = ProgressClock(now=timeline, plan=["augment llm on a cache"])
    _run(earlier, timeline, [1.0], upto=1)
    clock = ProgressClock(now=timeline, plan=["augment llm on a cache"])
    timeline.now += 5.0
    assert clock.remaining(0.02) is None  # estimating, until it has said enough to extrapolate
    timeline.now += 5.0
    assert clock.remaining(0.1) == 90.0  # 10 s for a tenth


def test_a_step_slower_than_before_never_shows_zero_left() -> None:
    timeline = _Timeline()
    clock = ProgressClock(now=timeline, plan=["fit bpr-tuned on x"] * 2)
    _run(clock, timeline, [10.0, 0.0], upto=1)
    timeline.now += 4.0
    assert clock.remaining(0.5) == 6.0  # as long as the first one took
    timeline.now += 11.0  # 15 s in: slower than the 10 s before
    assert clock.remaining(0.5) == 1.5  # a tenth as long again as it has run: never 0 s
    timeline.now += 15.0
    assert clock.remaining(0.5) == 3.0  # and it grows while the step keeps running


def test_steps_finishing_out_of_order_are_priced_by_the_kind_that_finished() -> None:
    """A pool finishes fits in any order; the message names which one did, and the sum over what is left holds."""
    timeline = _Timeline()
    clock = ProgressClock(now=timeline, plan=["fit bpr", "fit pop"] * 2, kind_of=lambda m: m.split(" done")[0])
    timeline.now += 8.0
    clock.observe(0.25, "fit bpr done")
    timeline.now += 1.0
    clock.observe(0.5, "fit pop done")
    assert clock.remaining(0.5) == 9.0  # one bpr (8 s) and one pop (1 s) are left, in whichever order
    timeline.now += 1.0
    clock.observe(0.75, "fit pop done")  # the pop finished first this time
    assert clock.remaining(0.75) == 8.0  # the bpr that is left


def _pool_timeline(seconds_per_bpr: list[float]) -> list[tuple[float, float, str]]:
    """Three seeds on a two-worker pool, as ``run_seed_batch`` reports them: the seed's augmentation, its two BPR
    fits side by side (the second ends 2 s after the first), then its two pop fits (1 s each). Returns (time,
    fraction, message) for every report."""
    plan_len, t, done, calls = 15, 0.0, 0, []
    for seed, bpr in enumerate(seconds_per_bpr):
        for step, (cost, model, arm) in enumerate(
            [
                (3.0, "", ""),
                (bpr, "bpr", "baseline"),
                (2.0, "bpr", "similarity"),
                (1.0, "pop", "baseline"),
                (1.0, "pop", "similarity"),
            ]
        ):
            t += cost
            done += 1
            message = f"seed {seed}: augmented" if step == 0 else f"fitted {model} on {arm}, seed {seed}"
            calls.append((t, done / plan_len, message))
    return calls


def _plan_clock(timeline: _Timeline, data: str) -> ProgressClock:
    """A comparison's clock on ``data`` (kinds name the data, so runs of other tests in this process never price
    this one's)."""
    plan = [f"{step} on {data}" for step in ["augment similarity", "fit bpr", "fit bpr", "fit pop", "fit pop"] * 3]
    return ProgressClock(
        now=timeline,
        plan=plan,
        kind_of=lambda m: f"fit {m.split()[1]} on {data}" if m.startswith("fitted") else None,
        warm_up=5,
    )


def test_fits_side_by_side_are_priced_only_once_a_replicate_is_timed() -> None:
    """The first BPR fit to end carries the time of both running beside it: priced by it alone, the 1M long-tail
    run's time left climbed to 3x the truth. Nothing is shown until the first seed's kinds are all timed; from then
    on the estimate stays within half the truth either way on a pool whose seeds cost the same (the pair's second
    fit costs 2 s of throughput, priced at the pair's mean of 26 s), and it falls while fits run."""
    timeline = _Timeline()
    clock = _plan_clock(timeline, "side by side")
    calls = _pool_timeline([50.0, 50.0, 50.0])
    end = calls[-1][0]
    shown: list[tuple[float, float]] = []
    fraction = 0.0
    for t, next_fraction, message in calls:
        while timeline.now + 1.0 < t:  # the bar is redrawn every second while fits run
            timeline.now += 1.0
            estimate = clock.remaining(fraction)
            if estimate is not None:
                shown.append((timeline.now, estimate))
        timeline.now = t
        fraction = next_fraction
        clock.observe(fraction, message)
    first_seed_done = calls[4][0]
    assert shown and min(at for at, _ in shown) >= first_seed_done  # silent while seed 0 runs
    for at, estimate in shown:
        assert abs(estimate - (end - at)) <= 0.5 * (end - at) + 1.0, (at, estimate, end - at)
    during_bpr = [estimate for at, estimate in shown if calls[5][0] < at < calls[6][0]]
    assert during_bpr == sorted(during_bpr, reverse=True)  # it counts down while the long fits run


def test_an_earlier_run_prices_the_first_replicate_and_a_run_never_prices_itself_as_history() -> None:
    timeline = _Timeline()
    clock = _plan_clock(timeline, "priced by an earlier run")
    calls = _pool_timeline([50.0, 50.0, 50.0])
    for t, fraction, message in calls[:2]:  # this run's first BPR fit ended: not a replicate yet
        timeline.now = t
        clock.observe(fraction, message)
    timeline.now += 1.0
    assert clock.remaining(2 / 15) is None  # its own first BPR does not count as an earlier run
    for t, fraction, message in calls[2:]:
        timeline.now = t
        clock.observe(fraction, message)
    again = _plan_clock(timeline, "priced by an earlier run")
    timeline.now += 5.0
    estimate = again.remaining(0.0)  # a second run on the same data, 5 s in: priced by the first
    assert estimate is not None and abs(estimate - (calls[-1][0] - 5.0)) <= 0.25 * calls[-1][0]
