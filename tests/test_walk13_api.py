"""recaug.compare / load_run as a notebook user meets them (walk 13 E): the CLI's reading options under Python
names (and errors that name them), an items DataFrame beside a data file, figure() and before_after() that refuse
what the comparison lacks instead of drawing nothing, and report_html() of a reloaded run."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import recaug
from recaug.core.errors import RecaugInputError
from recaug.data.readers import CLI

FAST = {"augment": ["random"], "models": ["pop"], "executor": "serial"}


def _rows(n_users: int = 100) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = [(f"u{u}", f"i{i}") for u in range(n_users) for i in rng.choice(60, size=10 + u % 12, replace=False)]
    return pd.DataFrame(rows, columns=["user", "item"])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """dates.csv: dates no day above 12 decides (05/06/2024); items.csv for the same items."""
    root = tmp_path_factory.mktemp("walk13api")
    rows = _rows()
    rng = np.random.default_rng(4)
    rows["date"] = [
        f"{d:02d}/{m:02d}/2024"
        for d, m in zip(rng.integers(1, 13, len(rows)), rng.integers(1, 13, len(rows)), strict=True)
    ]
    rows.to_csv(root / "dates.csv", index=False)
    items = pd.DataFrame({"item_id": [f"i{i}" for i in range(60)], "title": [f"Film {i}" for i in range(60)]})
    items.to_csv(root / "items.csv", index=False)
    return {"dates": root / "dates.csv", "items": root / "items.csv", "root": root}


@pytest.fixture(scope="module")
def live(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> recaug.Comparison:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return recaug.compare(
            files["dates"], seeds=3, dayfirst=True, save=True, runs_dir=tmp_path_factory.mktemp("runs"), **FAST
        )


@pytest.fixture(scope="module")
def saved(live: recaug.Comparison) -> recaug.Comparison:
    assert live.path is not None
    return recaug.load_run(str(live.run_id), live.path.parent)


def test_ambiguous_dates_name_the_python_argument_and_it_reads_them(files: dict[str, Path]) -> None:
    with pytest.raises(RecaugInputError, match="date_format='day-first'") as refused:
        recaug.compare(files["dates"], seeds=3, **FAST)
    assert "--dayfirst" not in str(refused.value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        day = recaug.compare(files["dates"], seeds=2, date_format="day-first", **FAST)
        month = recaug.compare(files["dates"], seeds=2, date_format="month-first", **FAST)
    assert day.dataset is not None and month.dataset is not None
    written = pd.read_csv(files["dates"])["date"]  # 05/06/2024: 5 June day-first, 6 May month-first
    for comparison, form in ((day, "%d/%m/%Y"), (month, "%m/%d/%Y")):
        expected = (pd.to_datetime(written, format=form, utc=True) - pd.Timestamp(0, tz="UTC")) // pd.Timedelta("1s")
        assert comparison.dataset is not None
        assert set(comparison.dataset.interactions["timestamp"]) == set(expected), form


def test_header_and_columns_read_a_file_without_a_header(files: dict[str, Path]) -> None:
    plain = files["root"] / "plain.csv"
    _rows().to_csv(plain, index=False, header=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read = recaug.compare(plain, seeds=2, header=False, columns=["user_id", "item_id"], **FAST)
    assert read.dataset is not None and len(read.dataset.interactions) == len(_rows())


def test_an_items_frame_goes_with_a_data_file(files: dict[str, Path]) -> None:
    plain = files["root"] / "noitems.csv"
    _rows().to_csv(plain, index=False)
    items = pd.read_csv(files["items"]).rename(columns={"item_id": "sku", "title": "name"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read = recaug.compare(plain, items=items, item_columns={"item_id": "sku", "title": "name"}, seeds=2, **FAST)
    assert read.dataset is not None and read.dataset.items.set_index("item_id").loc["i7", "title"] == "Film 7"


def test_figure_and_before_after_refuse_what_the_comparison_lacks(saved: recaug.Comparison) -> None:
    title = saved.figure("ndcg", 10).layout.title.text
    assert "ndcg@10" in title and "ndcg@10@10" not in title
    for same in (saved.figure("ndcg@10"), saved.figure("NDCG", 10), saved.figure("NDCG")):
        assert same.layout.title.text == title and len(same.data) == len(saved.figure("ndcg", 10).data) > 0
    with pytest.raises(RecaugInputError, match=r"no metric@k 'ndcg@5'.*use one of: .*ndcg@10, ndcg@20"):
        saved.figure("ndcg", 5)
    with pytest.raises(RecaugInputError, match="disagree"):
        saved.figure("ndcg@10", 20)
    with pytest.raises(RecaugInputError, match=r"no slice 'bogus'.*use one of: .*all"):
        saved.before_after("bogus")
    assert saved.before_after("ALL").equals(saved.before_after("all")) and len(saved.before_after())


def test_a_reloaded_run_says_what_it_lacks_and_still_gives_its_report(
    live: recaug.Comparison, saved: recaug.Comparison, tmp_path: Path
) -> None:
    assert saved.cost is None and saved.experiment is None
    assert "missing=['cost', 'experiment', 'dataset']" in repr(saved) and "missing" not in repr(live)
    assert saved.run_id is not None and saved.run_id in saved.report_html()  # built from the saved tables
    live.write(tmp_path / "out")  # the files the CLI writes, report.html included
    folder = recaug.load_run(tmp_path / "out")
    assert folder.report_html() == (tmp_path / "out" / "report.html").read_text(encoding="utf-8")  # was "rerun it"
    assert "missing=['experiment', 'dataset']" in repr(folder)  # an --out folder keeps cost.csv


def test_settings_the_run_writes_are_not_offered() -> None:
    with pytest.raises(RecaugInputError) as refused:
        recaug.compare("ml-100k", seeds_run=[0])
    assert "seeds_run" in refused.value.problem and "seeds_run" not in str(refused.value.fix)
    assert "stopped" not in str(refused.value.fix) and "max_seeds" in str(refused.value.fix)


def test_load_dataset_names_its_own_argument_for_ambiguous_dates(tmp_path: Path) -> None:
    from recaug.data.loading import load_dataset

    path = tmp_path / "dates.csv"
    rows = [f"u{u},i{i},4,0{1 + i % 9}/0{1 + u % 9}/2021" for u in range(12) for i in range(6)]
    path.write_text("user_id,item_id,rating,timestamp\n" + "\n".join(rows) + "\n")
    with pytest.raises(RecaugInputError) as raised:
        load_dataset(str(path))
    assert "regional=RegionalFormat(dates='day-first')" in str(raised.value) and "--dayfirst" not in str(raised.value)
    with pytest.raises(RecaugInputError) as from_cli:
        load_dataset(str(path), caller=CLI)
    assert "--dayfirst" in str(from_cli.value)
