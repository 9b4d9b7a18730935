"""Export helpers: spreadsheet-safe CSV, lossless Parquet, augmented training data with provenance."""

from __future__ import annotations

import io

import pandas as pd

from recaug.data.splits import make_split
from recaug.reporting.export import augmented_training_data, neutralise_formulas, to_csv_bytes, to_parquet_bytes
from tests.runs_fixtures import small_experiment

RISKY = ['=HYPERLINK("http://x")', "+1+2", "-3*4", "@SUM(A1)", "\tcmd", "plain", "a=b"]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    frame = pd.DataFrame({"text": RISKY, "number": [-1.5, 2, -3, 4, 5, 6, 7]})
    parsed = pd.read_csv(io.BytesIO(to_csv_bytes(frame)), keep_default_na=False)
    assert parsed["text"].tolist() == ["'" + v for v in RISKY[:5]] + ["plain", "a=b"]
    assert parsed["number"].tolist() == [-1.5, 2, -3, 4, 5, 6, 7]  # numbers are data, not formulas
    assert frame["text"].tolist() == RISKY  # the input is not modified
    assert neutralise_formulas(pd.DataFrame({"n": [1, 2]})).equals(pd.DataFrame({"n": [1, 2]}))


def test_parquet_round_trips_values_verbatim_and_survives_mixed_objects() -> None:
    frame = pd.DataFrame({"text": RISKY, "x": range(len(RISKY))})
    assert pd.read_parquet(io.BytesIO(to_parquet_bytes(frame))).equals(frame)
    mixed = pd.DataFrame({"payload": [{"a": 1}, [1, 2], "text"]})
    back = pd.read_parquet(io.BytesIO(to_parquet_bytes(mixed)))
    assert back["payload"].tolist() == ["{'a': 1}", "[1, 2]", "text"]


def test_augmented_training_data_has_provenance_on_every_row() -> None:
    dataset, result = small_experiment()
    train = make_split(dataset.interactions, result.config.protocol, 0).train
    synthetic = result.synthetic[result.synthetic["seed"] == 0]
    out = augmented_training_data(train, synthetic)
    assert len(out) == len(train) + len(synthetic)
    assert list(out.columns[:6]) == ["user_id", "item_id", "rating", "timestamp", "origin", "confidence"]
    assert out["origin"].notna().all() and out["confidence"].between(0, 1).all()
    real = out[out["origin"] == "real"]
    assert len(real) == len(train) and (real["confidence"] == 1.0).all() and real["rating"].notna().all()
    fake = out[out["origin"] == "random"]
    assert len(fake) == len(synthetic) and fake["rating"].isna().all()
    assert (fake["confidence"] == 0.5).all()
    # CSV and Parquet exports of the same table agree on the safe cells.
    csv = pd.read_csv(io.BytesIO(to_csv_bytes(out)), dtype={"user_id": str, "item_id": str})
    assert csv["user_id"].tolist() == out["user_id"].tolist()
    assert len(pd.read_parquet(io.BytesIO(to_parquet_bytes(out)))) == len(out)


def test_ids_a_spreadsheet_would_run_are_neutralised_and_kept_exactly_in_parquet(tmp_path) -> None:
    # An item id '=HYPERLINK(...)' was written raw to split.csv: ids are quoted like text; numbers stay numbers.
    from recaug.reporting.export import write_experiment

    dataset, result = small_experiment()
    train = make_split(dataset.interactions, result.config.protocol, 0).train.head(3)
    synthetic = pd.DataFrame(
        {
            "user_id": ["-5", "=cmd|' /C calc'!A0"],
            "item_id": ["+12", "@evil"],
            "origin": ["llm", "llm"],
            "confidence": [0.7, 0.6],
            "prompt_id": ["-p1", "p2"],
        }
    )
    csv = pd.read_csv(
        io.BytesIO(to_csv_bytes(augmented_training_data(train, synthetic))), dtype=str, keep_default_na=False
    )
    assert csv["user_id"].tolist()[-2:] == ["-5", "'=cmd|' /C calc'!A0"]
    assert csv["item_id"].tolist()[-2:] == ["+12", "'@evil"]
    assert csv["prompt_id"].tolist()[-2:] == ["'-p1", "p2"]
    log = pd.DataFrame(
        {"prompt": ["=1+1", "-5", "-x"], "answer": ["@SUM(A1)", "ok", "+3"], "item_ids": ["-1", "2", "=3"]}
    )
    back = pd.read_csv(io.BytesIO(to_csv_bytes(log)), dtype=str, keep_default_na=False)
    assert back["prompt"].tolist() == ["'=1+1", "-5", "'-x"]  # numbers stay numbers, formulas are quoted
    assert back["answer"].tolist() == ["'@SUM(A1)", "ok", "+3"]
    assert back["item_ids"].tolist() == ["-1", "2", "'=3"]
    hostile = result.split.assign(item_id=result.split["item_id"].where(result.split.index % 7 != 0, "=HYPERLINK(1)"))
    write_experiment(type(result)(**{**result.__dict__, "split": hostile, "synthetic": synthetic}), tmp_path)
    split_csv = pd.read_csv(tmp_path / "split.csv", dtype=str, keep_default_na=False)
    assert set(split_csv.loc[hostile.index % 7 == 0, "item_id"]) == {"'=HYPERLINK(1)"}
    exact = pd.read_parquet(tmp_path / "split.parquet")
    assert exact["item_id"].tolist() == hostile["item_id"].astype(str).tolist()
    assert pd.read_parquet(tmp_path / "augmented.parquet")["user_id"].tolist() == ["-5", "=cmd|' /C calc'!A0"]


def test_split_export_keeps_ids_of_every_seed(tmp_path) -> None:
    from recaug.reporting.export import write_experiment

    _, result = small_experiment()
    write_experiment(result, tmp_path)
    split = pd.read_csv(tmp_path / "split.csv", dtype=str, keep_default_na=False)
    expected = result.split.astype(str).reset_index(drop=True)
    assert split[["user_id", "item_id"]].equals(expected[["user_id", "item_id"]])
    if "seed" in result.split.columns:
        assert set(split["seed"]) == {str(s) for s in result.config.seeds}


def test_secrets_in_base_urls_are_redacted() -> None:
    from recaug.reporting.export import redact_secrets

    config = {
        "augmenter_params": {"llm-interactions": {"base_url": "http://user:sk-SECRET@host:8000/v1?api_key=sk-2&x=1"}},
        "models": ["pop"],
    }
    text = str(redact_secrets(config))
    assert "SECRET" not in text and "sk-2" not in text
    assert "http://***@host:8000/v1?api_key=***&x=1" in text
    assert redact_secrets("http://127.0.0.1:8000/v1") == "http://127.0.0.1:8000/v1"


def test_each_arm_downloads_as_compare_trains_it_with_integer_timestamps() -> None:
    """A user downloaded real rows plus every method's rows in one file (no arm Compare evaluates, duplicated
    pairs) with timestamps as '880415766.0': each method's file is now its own arm, and integers stay integers."""
    from recaug.augment import create_augmenter
    from recaug.data.builtin import load_ml100k
    from recaug.data.dataset import Dataset
    from recaug.reporting.export import arm_training_data

    interactions, items = load_ml100k()
    dataset = Dataset.from_frames(interactions, items, name="ml-100k")
    train = make_split(dataset.interactions, "random-811", 0).train
    training = dataset.training_data(train)
    results = {
        name: create_augmenter(name, seed=0).fit(training).augment(500)
        for name in ("itemknn-expansion", "popularity", "edge-dropout")
    }
    for name, result in results.items():
        arm = arm_training_data(dataset, train, result)
        removed = 0 if result.removed is None else len(result.removed)
        assert len(arm) == len(train) - removed + len(result.rows)
        assert set(arm["origin"]) <= {"real", name}, "one method's rows only, never a mix"
        assert not arm.duplicated(["user_id", "item_id"]).any()
        csv = pd.read_csv(io.BytesIO(to_csv_bytes(arm)), dtype=str, keep_default_na=False)
        real = csv[csv["origin"] == "real"]
        assert real["timestamp"].str.fullmatch(r"\d+").all(), real["timestamp"].head().tolist()
        assert (csv.loc[csv["origin"] != "real", "timestamp"] == "").all()
    assert results["edge-dropout"].removed is not None and len(results["edge-dropout"].removed) > 0
