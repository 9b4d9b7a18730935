"""Walk 11b items 4 and 5: a user's ``--theme.*`` flags win over the shipped light colours, and the A/A control's
outcome is said in words (and says when deterministic models make it a check of nothing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from recaug.dashboard import streamlit_command
from recaug.evaluate.significance import AA_CONTROL, BASELINE, EXPLORATORY, NO_CHANGE, NO_DIFFERENCE
from ui.aa_view import aa_control_note

REPO = Path(__file__).resolve().parents[2]
SHIPPED_COLOURS = ("#2563eb", "#ffffff", "#f4f6fa", "#1f2937")
# Streamlit resolves the theme as `streamlit run` would: the config.toml beside app.py, then the flags.
RESOLVE = """
import json, sys
from streamlit import config
from streamlit.web import bootstrap
config._main_script_path = sys.argv[1]
flags = {}
for flag in sys.argv[2:]:
    name, _, value = flag[2:].partition("=")
    flags[name.replace(".", "_")] = value
bootstrap.load_config_options(flags)
print(json.dumps({o: config.get_option(f"theme.{o}") for o in ("base", "backgroundColor", "textColor")}))
"""


def _theme(command: list[str], cwd: Path) -> dict[str, str | None]:
    """The theme options Streamlit ends up with for ``command`` (run from ``cwd``, as a user would)."""
    flags = [flag for flag in command if flag.startswith("--theme.")]
    script = str(REPO / "app.py")
    out = subprocess.run([sys.executable, "-c", RESOLVE, script, *flags], cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("extra", [["--theme.base=dark"], ["--theme.base", "dark"]])
def test_a_users_dark_theme_gets_no_light_colours(extra: list[str]) -> None:
    command = streamlit_command(REPO, extra=extra)
    theme_flags = [flag for flag in command if flag.startswith("--theme.")]
    assert not [flag for flag in theme_flags if flag.endswith(SHIPPED_COLOURS)], theme_flags
    assert "--theme.base=light" not in command
    assert command[-len(extra) :] == extra
    assert "--server.maxUploadSize=200" in command  # the other shipped settings stay


def test_streamlit_resolves_a_users_dark_base_to_dark_colours(tmp_path: Path) -> None:
    """The config.toml beside app.py is read too, so leaving our flags out would still give a white page."""
    theme = _theme(streamlit_command(REPO, extra=["--theme.base=dark"]), tmp_path)
    assert theme["base"] == "dark"
    assert not theme["backgroundColor"] and not theme["textColor"]


def test_without_theme_flags_the_shipped_theme_is_passed(tmp_path: Path) -> None:
    command = streamlit_command(REPO, extra=["--server.runOnSave=false"])
    assert {"--theme.base=light", "--theme.backgroundColor=#ffffff", "--theme.textColor=#1f2937"} <= set(command)
    assert _theme(command, tmp_path) == {"base": "light", "backgroundColor": "#ffffff", "textColor": "#1f2937"}


def _rows(model: str, slice_name: str, verdicts: list[str], primary: list[bool]) -> list[dict[str, object]]:
    metrics = [("ndcg", 10), ("recall", 20), ("ndcg", 20), ("hit", 10)]
    return [
        {"model": model, "variant": AA_CONTROL, "slice": slice_name, "metric": m, "k": k, "verdict": v, "primary": p}
        for (m, k), v, p in zip(metrics, verdicts, primary, strict=False)
    ]


def _table(*groups: list[dict[str, object]]) -> pd.DataFrame:
    arm = {"model": "pop", "variant": "popularity", "slice": "all", "metric": "ndcg", "k": 10, "primary": True}
    return pd.DataFrame([*(row for group in groups for row in group), {**arm, "verdict": "worse"}])


SAME = [NO_CHANGE] * 4
PRIMARY = [True, True, False, False]


def test_noise_free_control_says_calibrated_for_the_noisy_model_only() -> None:
    bpr = _rows("bpr", "all", [NO_DIFFERENCE, NO_DIFFERENCE, EXPLORATORY, EXPLORATORY], PRIMARY)
    note = aa_control_note(_table(_rows("pop", "all", SAME, PRIMARY), bpr), "all")
    assert note is not None
    assert "0 of 2 primary rows of bpr judged different" in note and "calibrated" in note
    assert "nothing about calibration for pop; it does for bpr" in note
    assert "care" not in note


def test_a_control_judged_different_warns() -> None:
    bpr = _rows("bpr", "all", ["worse", NO_DIFFERENCE, EXPLORATORY, EXPLORATORY], PRIMARY)
    note = aa_control_note(_table(bpr), "all")
    assert note is not None
    assert "1 of 2 primary rows of bpr judged different" in note and "treat verdicts with care" in note
    assert "calibrated" not in note.replace("calibration", "")


def test_only_deterministic_models_check_nothing() -> None:
    table = _table(_rows("pop", "all", SAME, PRIMARY), _rows("itemknn", "all", SAME, PRIMARY))
    note = aa_control_note(table, "all")
    assert note is not None
    assert "nothing about calibration for pop and itemknn" in note
    assert "primary rows" not in note and "calibrated" not in note


def test_another_slice_reports_the_control_where_it_is_judged() -> None:
    bpr = _rows("bpr", "all", [NO_DIFFERENCE, NO_DIFFERENCE, EXPLORATORY, EXPLORATORY], PRIMARY)
    q1 = _rows("bpr", "activity-q1", [EXPLORATORY] * 4, [False] * 4)
    note = aa_control_note(_table(bpr, q1), "activity-q1")
    assert note is not None and "on slice all, where it is judged" in note and "0 of 2" in note


def test_no_control_no_note() -> None:
    assert aa_control_note(_table(), "all") is None
    assert aa_control_note(None, "all") is None
    assert aa_control_note(pd.DataFrame(), "all") is None


def _draw(table: "pd.DataFrame") -> None:  # noqa: UP037  (AppTest runs this source alone, without the imports)
    from ui.aa_view import show_aa_control

    show_aa_control(table, "all")


def test_show_draws_info_when_calibrated_and_warning_when_it_checks_nothing() -> None:
    bpr = _rows("bpr", "all", [NO_DIFFERENCE, NO_DIFFERENCE, EXPLORATORY, EXPLORATORY], PRIMARY)
    calm = AppTest.from_function(_draw, args=(_table(bpr),)).run()
    assert len(calm.info) == 1 and not calm.warning
    empty = AppTest.from_function(_draw, args=(_table(_rows("pop", "all", SAME, PRIMARY)),)).run()
    assert len(empty.warning) == 1 and not empty.info


@pytest.fixture(scope="module")
def ml100k_aa() -> pd.DataFrame:
    """A real A/A run: ML-100k, pop (deterministic) and a short BPR (seeded), 3 seeds."""
    import recaug

    comparison = recaug.compare(
        "ml-100k",
        augment=["popularity"],
        models=["pop", "bpr"],
        seeds=3,
        aa_control=True,
        model_params={"bpr": {"max_epochs": 4}},
        executor="serial",
    )
    assert comparison.significance is not None
    return comparison.significance


def test_real_run_tells_the_deterministic_model_from_the_noisy_one(ml100k_aa: pd.DataFrame) -> None:
    control = ml100k_aa[(ml100k_aa["variant"] == AA_CONTROL) & (ml100k_aa["slice"] == "all")]
    assert (control.loc[control["model"] == "pop", "delta"] == 0).all()  # pop refits identically
    assert (control.loc[control["model"] == "bpr", "delta"] != 0).any()  # BPR's seed changes its fit
    bpr_primary = control[(control["model"] == "bpr") & control["primary"].astype(bool)]
    different = int(bpr_primary["verdict"].isin(["better", "worse"]).sum())
    note = aa_control_note(ml100k_aa, "all")
    assert note is not None
    assert f"{different} of {len(bpr_primary)} primary rows of bpr judged different" in note
    assert "nothing about calibration for pop; it does for bpr" in note
    assert BASELINE not in set(control["variant"])


def test_compare_reports_what_the_aa_control_found(app: AppTest) -> None:
    """The A/A control's outcome was only in significance.csv; pop refits identically, so it checks nothing."""
    app.switch_page("pages/3_Compare.py").run()
    app.multiselect(key="cmp_models").set_value(["pop"]).run()
    app.checkbox(key="cmp_aa_control").check().run()
    app.button(key="run_compare").click().run()
    assert not app.exception and not app.error, [e.value for e in [*app.exception, *app.error]]
    shown = " ".join(w.value for w in app.warning)
    assert "pop is deterministic" in shown and "says nothing about calibration for pop" in shown, shown
