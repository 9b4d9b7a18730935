"""Two saved runs side by side when they are not like for like (a temporal-style split vs cold items): the
comparison says so, and the table people read shows whole seed counts and a dash where a run lacks a row, never
"None", NaN or "3.0". Real runs on ML-100k (random-811 and cold-items), no fakes."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

from recaug.__main__ import main
from recaug.experiment import ExperimentConfig, ExperimentResult, run_experiment
from recaug.reporting.run_verdicts import primary_side_by_side
from recaug.reporting.runs import MISSING, Run, compare_runs, readable_comparison, save_run
from tests.runs_fixtures import small_experiment


@lru_cache(maxsize=1)
def cold_items_experiment() -> ExperimentResult:
    """The small experiment's data and arm under the cold-items protocol (Pop only, seeds 0 and 1)."""
    dataset, _ = small_experiment()
    config = ExperimentConfig(
        data="ml-100k", protocol="cold-items", augmenters=["random"], models=["pop"], seeds=[0, 1], budget=0.05
    )
    return run_experiment(dataset, replace(config, target="all"))


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run, Run, Run]:
    """A random-811 run, a cold-items run on the same data, and a copy of the first (same protocol)."""
    _, result = small_experiment()
    root = tmp_path_factory.mktemp("runs")
    return root, save_run(result, root=root), save_run(cold_items_experiment(), root=root), save_run(result, root=root)


def test_runs_on_other_protocols_are_flagged_and_like_for_like_runs_are_not(pair) -> None:
    root, random_811, cold_items, again = pair
    table = compare_runs(random_811.run_id, cold_items.run_id, root=root)
    assert table.attrs["same_data"] is True  # same data: the fingerprint check alone said nothing
    assert "different split protocol: A random-811 vs B cold-items" in table.attrs["warnings"]
    assert compare_runs(random_811.run_id, again.run_id, root=root).attrs["warnings"] == []
    primary = primary_side_by_side(random_811.run_id, cold_items.run_id, root=str(root))
    assert primary.attrs["warnings"] == table.attrs["warnings"]


def test_side_by_side_counts_are_whole_and_missing_cells_are_a_dash(pair) -> None:
    root, random_811, cold_items, _ = pair
    table = primary_side_by_side(random_811.run_id, cold_items.run_id, root=str(root))
    assert (table["in"] == "B only").any()  # the cold-items slice exists only in run B
    assert str(table["n_seeds_a"].dtype) == "Int64" and str(table["n_seeds_b"].dtype) == "Int64"
    shown = readable_comparison(table)
    cells = set(shown.astype(str).to_numpy().ravel())
    assert not cells & {"None", "nan", "NaN", "<NA>", "2.0"}
    assert set(shown["n_seeds_a"]) <= {"2", MISSING} and MISSING in set(shown["n_seeds_a"])
    b_only = shown[table["in"] == "B only"]
    assert (b_only[["baseline_a", "delta_a", "verdict_a"]] == MISSING).all().all()


def test_cli_runs_compare_warns_and_prints_no_nan(pair, capsys: pytest.CaptureFixture[str]) -> None:
    root, random_811, cold_items, _ = pair
    for extra in ([], ["--all-rows"]):
        assert main(["runs", "compare", random_811.run_id, cold_items.run_id, "--dir", str(root), *extra]) == 0
        printed = capsys.readouterr()
        assert "warning: These runs are not like for like" in printed.err
        assert "different split protocol: A random-811 vs B cold-items" in printed.err
        assert "NaN" not in printed.out and " None " not in printed.out
    main(["runs", "compare", random_811.run_id, cold_items.run_id, "--dir", str(root)])
    rows = capsys.readouterr().out.splitlines()
    end = rows[1].index("seeds B") + len("seeds B")  # to_string right-aligns a column under its name
    assert {line[:end].split()[-1] for line in rows[2:]} == {"2", MISSING}  # whole, not "2.0"; itemknn: A only


def test_readable_comparison_of_a_tiny_frame() -> None:
    """Counts whole, floats to four places, missing text and numbers as the dash; attrs kept."""
    frame = pd.DataFrame({"k": [10, 20], "n_seeds_a": [3.0, None], "delta": [0.123456, None], "verdict": ["x", None]})
    frame.attrs["warnings"] = ["w"]
    shown = readable_comparison(frame)
    assert shown.to_dict("list") == {
        "k": ["10", "20"],
        "n_seeds_a": ["3", MISSING],
        "delta": ["+0.1235", MISSING],
        "verdict": ["x", MISSING],
    }
    assert shown.attrs["warnings"] == ["w"]


def test_side_by_side_headers_read_as_the_compare_page_names_them() -> None:
    from recaug.reporting.runs import comparison_labels

    labels = comparison_labels(["model", "k", "delta_a", "ci_low_b", "mde_a", "n_seeds_b", "verdict_a", "delta"])
    assert labels == {
        "delta_a": "Δ A",
        "ci_low_b": "interval low B",
        "mde_a": "detectable ± A",
        "n_seeds_b": "seeds B",
        "verdict_a": "verdict A",
        "delta": "Δ (B - A)",
    }
