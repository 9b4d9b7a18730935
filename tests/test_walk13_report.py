"""Walk 13 (D): an arm its LLM skill check stopped made no row, yet the verdicts said so once per model, metric and
slice ("skipped: ..., so it made 0 rows (Δ +0.0000)" six times per arm on Compare; 1,428 of report.html's 2,616 table
rows), and report.html was 5.9 MB for 6,000 interactions, a fifth of it whitespace and skipped rows in its tables."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from recaug.data.dataset import Dataset
from recaug.evaluate.significance import significance_table, verdict_summary
from recaug.experiment import ExperimentResult, run_experiment
from recaug.reporting.figures import delta_bars
from recaug.reporting.report import build_report
from tests.conftest import quick_config

STOPPED = "popularity"  # a cheap arm, recorded below as one its skill check stopped (as the LLM arms are)
LINE = f"{STOPPED}: no rows — the LLM failed its skill check; nothing to compare"


@pytest.fixture(scope="module")
def stopped_run(ml100k: Dataset) -> tuple[ExperimentResult, pd.DataFrame]:
    """pop on ML-100k with ``random`` and an arm marked as stopped by its skill check in every seed."""
    config = quick_config(augmenters=["random", STOPPED], seeds=[0, 1, 2])
    result = run_experiment(ml100k, config)
    for info in result.augment_info:
        if info["augmenter"] == STOPPED:
            info.update(llm_skill_passed=False, kept=0)
    return result, significance_table(result)


def test_the_csv_keeps_the_stopped_arm_rows(stopped_run: tuple[ExperimentResult, pd.DataFrame]) -> None:
    _, table = stopped_run
    mine = table[table["variant"] == STOPPED]
    assert len(mine) > 20 and mine["verdict"].str.startswith("skipped: the LLM failed the skill check").all()


def test_the_cli_summary_says_a_stopped_arm_once(stopped_run: tuple[ExperimentResult, pd.DataFrame]) -> None:
    text = verdict_summary(stopped_run[1])
    assert text.count(STOPPED) == 1 and LINE in text
    assert "made 0 rows" not in text
    assert text.count("random ") >= 2  # the arm that ran keeps its primary rows


def test_the_report_says_it_once_and_leaves_its_rows_out_of_the_tables(
    stopped_run: tuple[ExperimentResult, pd.DataFrame],
) -> None:
    result, table = stopped_run
    page = build_report(result, significance=table)
    assert page.count(LINE) == 1
    assert "made 0 rows" not in page
    verdicts = page[page.index("Verdict: the primary question") : page.index("Fidelity of the synthetic data")]
    cells = re.findall(r"<td>([^<]*)</td>", verdicts)
    assert STOPPED not in cells, "no verdict table row for the stopped arm (its cost stays in the cost table)"
    assert "random" in cells
    left_out = int((table["variant"] == STOPPED).sum())
    assert f"leave out their {left_out:,} significance rows" in page
    assert page.count("plotly.js v") == 1  # still standalone: plotly.js inline, once
    assert not re.findall(r"<script[^>]*\bsrc=", page)  # nothing fetched


def test_report_tables_carry_no_indentation(stopped_run: tuple[ExperimentResult, pd.DataFrame]) -> None:
    """pandas writes each cell on its own indented line: 30% of a table's bytes, in a table of thousands of rows."""
    result, table = stopped_run
    page = build_report(result, significance=table)
    tables = re.findall(r"<table.*?</table>", page, re.S)
    assert tables and not any(re.search(r">\s+<", t) for t in tables)


def test_the_chart_draws_no_bar_for_a_stopped_arm(stopped_run: tuple[ExperimentResult, pd.DataFrame]) -> None:
    fig = delta_bars(stopped_run[1], "ndcg", 10)
    assert [trace.name for trace in fig.data] == ["random"]
