"""report.html's protocol line and the untuned-baseline warning (walk 12, items 16 and 17): the protocol was the
split function's docstring with raw RST markup ("``test``") and default parameters only, and the warning quoted a
pair of numbers that had long left the README."""

from __future__ import annotations

import re
from pathlib import Path

from recaug.data.dataset import Dataset
from recaug.experiment import run_experiment
from recaug.models.tuned import UNTUNED_WARNING
from recaug.reporting.report import build_report
from tests.conftest import quick_config

REPO = Path(__file__).resolve().parents[1]


def test_the_report_describes_the_protocol_with_its_parameters_and_no_markup(ml100k: Dataset) -> None:
    config = quick_config(protocol="temporal", protocol_params={"test": 0.2})
    page = build_report(run_experiment(ml100k, config))
    protocol = re.search(r"<dt>protocol</dt><dd>(.*?)</dd>", page)
    assert protocol is not None
    assert "``" not in protocol.group(1)
    assert "latest 10% + 20%" in protocol.group(1)  # valid at its default, test as the run set it
    assert "The split is fixed" in protocol.group(1)  # what a seed changes under temporal


def test_the_untuned_warning_quotes_the_readme_measurement_with_its_date_and_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("**Against a tuned baseline")
    paragraph = " ".join(readme[start : readme.index("\n\n", start)].split())
    numbers = re.findall(r"[+−-]\d\.\d+", UNTUNED_WARNING)
    assert numbers, UNTUNED_WARNING
    for number in numbers:
        assert number in paragraph, number
    date = re.search(r"\d{4}-\d{2}-\d{2}", UNTUNED_WARNING)
    assert date is not None and date.group() in paragraph
    command = re.search(r"python -m recaug compare .*?--seeds [\d,]*\d", UNTUNED_WARNING)
    assert command is not None and command.group() in paragraph
