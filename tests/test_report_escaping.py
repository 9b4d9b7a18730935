"""The HTML report shows user text as text (issue #19): a data name, a method parameter and an item id that hold
HTML or a markdown image come out escaped, never as tags."""

from __future__ import annotations

from dataclasses import replace

from recaug.reporting.report import build_report
from tests.runs_fixtures import small_experiment

NAME = "<img src=http://127.0.0.1:9/name.png onerror=alert(1)>![x](http://127.0.0.1:9/md.png)"


def test_user_text_in_the_report_is_escaped() -> None:
    _, result = small_experiment()
    config = replace(
        result.config, data=NAME, augmenter_params={"random": {"target": "</script><img src=http://127.0.0.1:9/p>"}}
    )
    report = build_report(replace(result, config=config), run_id="<b>id</b>")
    assert "&lt;img src=http://127.0.0.1:9/name.png" in report  # shown, as text
    assert "<img" not in report.lower()  # never a tag
    assert "</script><img" not in report and "<b>id</b>" not in report
