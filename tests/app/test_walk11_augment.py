"""Walk 11, Augment page: edge-dropout says what it removed, users are counted as what they are (real or virtual),
the row accounting adds up and names the trim to the budget, unfilled budgets and item collapse are flagged, CFGAN's
parameters have readable labels, and the training-data download keeps integers and drops empty columns."""

from __future__ import annotations

import io
import re
from functools import cache

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from recaug.augment import AugmentResult, create_augmenter
from recaug.data.builtin import load_ml100k
from recaug.data.dataset import VIRTUAL_PREFIX, Dataset, TrainingData
from recaug.data.splits import make_split
from recaug.reporting.export import augmented_training_data, to_csv_bytes
from tests.app.conftest import no_errors
from ui.augment_view import concentration_warning, rows_summary, shortfall_warning
from ui.param_form import param_label


@cache
def _ml100k(users: int = 0) -> tuple[Dataset, pd.DataFrame, TrainingData]:
    """ML-100k, or its first ``users`` users (denoising trains a BPR: on the small data it takes a second)."""
    interactions, items = load_ml100k()
    if users:
        interactions = interactions[interactions["user_id"].astype(int) <= users]
    dataset = Dataset.from_frames(interactions, items, name="ml-100k")
    train = make_split(dataset.interactions, "random-811", 0).train
    return dataset, train, dataset.training_data(train)


def _accounted(sentence: str) -> tuple[int, int, int]:
    """(proposed, dropped in all, kept) read back from a summary sentence."""
    proposed = int(re.search(r"proposed ([\d,]+)", sentence)[1].replace(",", ""))  # type: ignore[index]
    kept = int(re.search(r"kept ([\d,]+)", sentence)[1].replace(",", ""))  # type: ignore[index]
    dropped = re.search(r"dropped (.*?); kept", sentence)
    counts = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) \(", dropped[1])] if dropped else []
    return proposed, sum(counts), kept


def test_the_walks_summary_names_the_trim_to_the_budget_and_adds_up() -> None:
    # The walk's CFGAN: "proposed 10,824, kept 8,081 after dropping … and 2,020 least plausible" did not add up.
    info = {"proposed": 10_824, "kept": 8_081, "budget": 8_081, "denoise_scored": 10_102, "denoise_dropped": 2_020}
    sentence = rows_summary(info, 0.2)
    assert _accounted(sentence) == (10_824, 10_824 - 8_081, 8_081)
    assert "722 (already in training, duplicates, unknown items or past the 10,102 rows denoising scores)" in sentence
    assert "2,020 (least plausible: denoise) and 1 (past the budget)" in sentence
    # The walk's ensemble on the upload: far short of its budget, and the sentence gives the share.
    short = rows_summary(
        {"proposed": 107, "kept": 86, "budget": 1_616, "denoise_scored": 107, "denoise_dropped": 21}, 0.2
    )
    assert _accounted(short) == (107, 21, 86) and "past" not in short and "(5%)" in short


def test_summary_adds_up_for_real_runs_with_caps_and_denoise() -> None:
    _, _, training = _ml100k(users=150)
    for params in ({"denoise": 0.2, "max_per_item": 3}, {"max_per_user": 2}, {}):
        result = create_augmenter("random", seed=0, **params).fit(training).augment(500)
        proposed, dropped, kept = _accounted(rows_summary(result.info, params.get("denoise", 0.0)))
        assert (proposed, kept) == (result.info["proposed"], len(result.rows))
        assert proposed == dropped + kept, rows_summary(result.info, params.get("denoise", 0.0))


def test_unfilled_budgets_warn_with_the_reason_the_method_knows() -> None:
    _, _, training = _ml100k()
    dropout = create_augmenter("edge-dropout", seed=0).fit(training).augment(0.2)
    assert dropout.removed is not None and 0 < len(dropout.removed) < 0.5 * dropout.info["budget"]
    assert dropout.info["removable"] == len(dropout.removed)
    warning = shortfall_warning("edge-dropout", dropout)
    assert (
        warning is not None
        and f"removed only {len(dropout.removed):,} of its {dropout.info['budget']:,}-edge budget" in warning
    )
    assert "keeps at least 1 (min_keep)" in warning
    aggregation = create_augmenter("aggregation", seed=0, threshold=0.9).fit(training).augment(0.1)
    note = shortfall_warning("aggregation", aggregation)
    assert note is not None and "one virtual user per targeted user" in note and "lower threshold" in note
    filled = create_augmenter("random", seed=0).fit(training).augment(500)
    assert shortfall_warning("random", filled) is None


def test_ensemble_in_vote_mode_says_its_members_seldom_agree() -> None:
    _, _, training = _ml100k()
    members = ["popularity", "random"]
    result = create_augmenter("ensemble", seed=0, members=members, min_votes=2).fit(training).augment(0.1)
    assert result.info["kept"] < 0.5 * result.info["budget"]
    warning = shortfall_warning("ensemble", result)
    assert warning is not None and "proposed by at least 2 of its 2 members" in warning


def _result(items: list[str], **params: int) -> AugmentResult:
    rows = pd.DataFrame({"user_id": [f"u{i}" for i in range(len(items))], "item_id": items, "confidence": 1.0})
    return AugmentResult(rows=rows, info={"kept": len(rows), "budget": len(rows)}, params=params)


def test_rows_piled_onto_few_items_point_to_the_per_item_cap() -> None:
    # The walk: CFGAN's 8,081 rows on ML-100k reached 172 distinct items.
    collapsed = _result(["a"] * 4_000 + ["b"] * 2_000 + [f"i{i % 170}" for i in range(2_081)])
    hint = concentration_warning(collapsed, n_items=1_682)
    assert hint is not None and "172 distinct items in 8,081 rows (10% of the 1,682-item catalog)" in hint
    assert "max_per_item" in hint and "e.g. to 81" in hint and "10 most frequent hold 76%" in hint
    capped = concentration_warning(_result(["a"] * 600 + [f"i{i % 50}" for i in range(400)], max_per_item=600), 1_682)
    assert capped is not None and "cap is 600 already" in capped
    assert concentration_warning(_result([f"i{i % 500}" for i in range(8_081)]), n_items=1_682) is None
    assert concentration_warning(_result([f"i{i % 60}" for i in range(300)]), n_items=1_682) is None  # 300 rows


def test_training_data_keeps_whole_numbers_and_drops_empty_columns() -> None:
    _, train, _ = _ml100k()
    floats = train.head(50).assign(timestamp=lambda t: t["timestamp"].astype(float))  # as a restored split holds it
    synthetic = pd.DataFrame({"user_id": ["1"], "item_id": ["999"], "origin": ["random"], "confidence": [0.5]})
    synthetic["prompt_id"] = ""  # what non-LLM augmenters write
    csv = pd.read_csv(io.BytesIO(to_csv_bytes(augmented_training_data(floats, synthetic))), dtype=str)
    assert "prompt_id" not in csv.columns
    assert csv["timestamp"].dropna().str.fullmatch(r"\d+").all() and csv["rating"].dropna().str.fullmatch(r"\d").all()
    llm = synthetic.assign(prompt_id="p1")
    assert augmented_training_data(floats, llm)["prompt_id"].tolist()[-1] == "p1"
    halves = floats.assign(rating=np.where(np.arange(50) % 2, 3.5, 4.0))
    assert augmented_training_data(halves, synthetic)["rating"].dtype == float  # 3.5 stays 3.5


def test_cfgan_form_fields_have_readable_labels_that_keep_the_parameter_name(app: AppTest) -> None:
    assert param_label("zr_ratio") == "Zero-reconstruction share" and param_label("min_keep") == "Min keep"
    app.switch_page("pages/1_Augment.py").run()
    app.multiselect(key="aug_methods").set_value(["cfgan"]).run()
    no_errors(app)
    fields = {field.key: field for field in app.number_input}
    for name, label in (("zr_ratio", "Zero-reconstruction share"), ("pm_ratio", "Partial-masking share")):
        field = fields[f"aug_param:cfgan:{name}"]
        assert field.label == label and f"`{name}`" in field.help


def test_edge_dropout_and_virtual_users_are_counted_as_what_they_are(app: AppTest) -> None:
    app.switch_page("pages/1_Augment.py").run()
    app.multiselect(key="aug_methods").set_value(["edge-dropout", "mixup"]).run()
    app.slider(key="aug_budget_pct").set_value(20).run()  # more than light users' edges can spare
    app.button(key="run_augment").click().run()
    no_errors(app)
    results = app.session_state["augment_results"]
    removed, mixup = results["edge-dropout"].removed, results["mixup"].rows
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Real edges removed"] == f"{len(removed):,}" and len(removed) > 0
    assert metrics["Real users who lost edges"] == f"{removed['user_id'].nunique():,}"
    assert mixup["user_id"].str.startswith(VIRTUAL_PREFIX).all()
    assert metrics["Virtual users created"] == f"{mixup['user_id'].nunique():,}"
    assert "Real users given rows" not in metrics  # mixup gives no real user a row
    captions = [c.value for c in app.caption]
    assert any(
        f"removes real training edges instead (the negative control), {len(removed):,} of" in c for c in captions
    )
    assert any(w.value.startswith("edge-dropout removed only") for w in app.warning)
    shown = app.dataframe[0].value  # the edge-dropout tab previews the real edges it removed
    assert shown[["user_id", "item_id"]].head(5).equals(removed.head(5)) and "title" in shown
    assert any(f"real ({len(removed):,} real edges removed) + 0 synthetic" in m.value for m in app.markdown)
