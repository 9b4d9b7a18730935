"""Every page under AppTest: loads, runs its main action, shows the expected elements, survives bad input."""

from __future__ import annotations

import base64
import json

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.app.conftest import no_errors


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _chart_json(at: AppTest, index: int = 0) -> dict:
    element = at.get("plotly_chart")[index]
    return json.loads(element.proto.spec)


def _array(value: object) -> np.ndarray:
    """Plotly 7 stores arrays as {'dtype', 'bdata'} (base64); older figures use plain lists."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value)


def test_home_has_movielens_ready(app: AppTest) -> None:
    no_errors(app)
    metrics = _metrics(app)
    assert metrics["Users"] == "943" and metrics["Items"] == "1,682" and metrics["Interactions"] == "100,000"
    assert any("GroupLens" in c.value for c in app.caption)
    figure = _chart_json(app)
    users, items = (_array(trace["customdata"]) for trace in figure["data"])
    assert users.sum() == 943 and items.sum() == 1682  # every user and item lands in exactly one log2 bin
    assert users[0] == 0  # no user has zero interactions


def test_upload_replaces_dataset_and_bad_upload_keeps_it(app: AppTest) -> None:
    app.radio(key="data_source").set_value("Upload my data").run()
    bad = b"visitor;thing\n1;2\n"
    app.file_uploader(key="upload_interactions").set_value(("bad.csv", bad, "text/csv")).run()
    app.button(key="load_upload").click().run()
    assert any("bad.csv" in e.value and "no user_id column" in e.value for e in app.error)
    assert not app.exception
    assert _metrics(app)["Users"] == "943"  # the previous dataset is still loaded

    # Big enough to split (issue #12 refuses fewer than 10 users, 10 items or 100 interactions before compute).
    good = (
        b"uid,asin,score\n" + "".join(f"u{u},a{i},{1 + (u + i) % 5}\n" for u in range(12) for i in range(12)).encode()
    )
    app.file_uploader(key="upload_interactions").set_value(("shop.csv", good, "text/csv")).run()
    assert app.selectbox(key="map_user_id_shop.csv").value == "uid"
    assert app.selectbox(key="map_item_id_shop.csv").value == "asin"
    app.button(key="load_upload").click().run()
    no_errors(app)
    metrics = _metrics(app)
    assert metrics["Users"] == "12" and metrics["Items"] == "12" and metrics["Interactions"] == "144"


def test_augment_embeddings_compare_flow(app: AppTest) -> None:
    app.switch_page("pages/1_Augment.py").run()
    no_errors(app)
    assert app.multiselect(key="aug_methods").value == ["similarity"]
    app.button(key="run_augment").click().run()
    no_errors(app)
    preview = app.dataframe[0].value
    assert {"user_id", "item_id", "title", "origin", "confidence"} <= set(preview.columns)
    assert (preview["origin"] == "similarity").all() and (preview["title"] != "").all()
    assert _metrics(app)["Share of training data"] == "10.0%"
    labels = [b.label for b in app.get("download_button")]
    assert any("Download similarity" in label for label in labels)
    # One training-data file per method (the arm Compare trains), never every method's rows mixed.
    assert {"similarity (CSV)", "similarity (Parquet)"} <= set(labels)
    kept = int(_metrics(app)["Synthetic rows"].replace(",", ""))
    expected = f"{80_808 + kept:,} rows = 80,808 real + {kept:,} synthetic"  # random-811 seed 0 training split
    assert any(expected in m.value for m in app.markdown), expected

    app.switch_page("pages/2_Embeddings.py").run()
    no_errors(app)
    app.radio(key="emb_method").set_value("pca").run()
    figure = _chart_json(app)
    names = " ".join(trace["name"] for trace in figure["data"])
    assert "item" in names and "user + synthetic" in names
    assert all(trace.get("hovertemplate") or trace.get("hovertext") or trace.get("text") for trace in figure["data"])
    counts = app.dataframe[-1].value
    assert counts.set_index(["kind", "origin"])["points"][("item", "real")] == 1682

    app.switch_page("pages/4_Fidelity.py").run()
    no_errors(app)
    fidelity = app.dataframe[0].value
    assert 0.5 < float(fidelity.loc[("Detection", "Detectable as synthetic (AUC)"), "similarity"]) <= 1.0
    assert 0.0 <= float(fidelity.loc[("Distribution", "Item popularity: KS distance"), "similarity"]) <= 1.0
    assert fidelity.loc[("Distribution", "Item popularity: KS distance"), "real"] == "–"  # n/a: a dash, not "None"

    app.switch_page("pages/3_Compare.py").run()
    no_errors(app)
    app.multiselect(key="cmp_models").set_value(["pop", "itemknn"]).run()
    app.button(key="run_compare").click().run()
    no_errors(app)
    assert any("random-811" in c.value and "seeds" in c.value for c in app.caption)
    assert any("add bpr-tuned or ease" in c.value for c in app.caption)  # untuned models only: a warning
    table = app.dataframe[0].value
    assert set(table["variant"]) == {"similarity"} and set(table["model"]) == {"pop", "itemknn"}
    accuracy = table[table["metric"].str.split("@").str[0].isin(["recall", "ndcg", "precision", "hit"])]
    assert len(accuracy) and accuracy["baseline"].astype(float).between(0, 1).all()
    assert (accuracy["seeds"] == "3").all() and (accuracy["users"] == "943").all()  # the default is 3 seeds
    words = accuracy["verdict"].str.split(" \\(").str[0]  # the word, before any explanation in brackets
    assert set(words) <= {"better", "worse", "no clear difference", "exploratory"}
    bounds = accuracy["interval"].str.strip("[]").str.split(", ", expand=True).astype(float)  # every row has one
    delta = accuracy["Δ"].astype(float)
    assert ((bounds[0] <= delta + 1e-12) & (delta <= bounds[1] + 1e-12)).all()
    assert not table.astype(str).isin(["None", "nan"]).any().any()
    bars = _chart_json(app)
    assert [t["name"] for t in bars["data"]] == ["similarity"]  # Δ per model; the A/A control is the grey band
    assert any("Verdict" in m.value and "3 seeds" in m.value for m in app.markdown)
    assert any("Saved as run" in c.value for c in app.caption)
    labels = [b.label for b in app.get("download_button")]
    assert {"Results (CSV)", "Significance (CSV)", "HTML report", "Cost (CSV)"} <= set(labels)
    assert "Synthetic rows (augmented.csv)" in labels  # Fidelity and Embeddings point here after a comparison
    app.number_input(key="cmp_seeds").set_value(2).run()
    assert any("other settings" in w.value for w in app.warning)  # results shown are from 3 seeds
    cost = next(frame.value for frame in app.dataframe if "extra fit s" in frame.value.columns)
    assert list(cost["variant"]) == ["baseline", "similarity"] and list(cost["synthetic rows"]) == ["–", f"{kept:,}"]

    app.switch_page("pages/5_What_if.py").run()
    no_errors(app)
    app.text_input(key="whatif_title").set_value("Space Rescue (1997)").run()
    app.text_area(key="whatif_text").set_value("Space Rescue (1997). Genres: Action, Adventure, Sci-Fi.").run()
    app.button(key="whatif_item_run").click().run()
    no_errors(app)
    neighbours = app.dataframe[0].value
    assert neighbours["similarity"].is_monotonic_decreasing and neighbours["similarity"].iloc[0] > 0.5
    assert any("Sci-Fi" in text for text in neighbours["title"].astype(str)) or neighbours["title"].notna().all()
    app.multiselect(key="whatif_liked").set_value(["50", "181"]).run()  # Star Wars, Return of the Jedi
    no_errors(app)
    recs = app.dataframe[-1].value
    assert len(recs) == 10
    assert not recs.astype(str).apply(lambda col: col.str.contains("Star Wars \\(1977\\)")).any().any()

    app.switch_page("pages/6_Runs.py").run()
    no_errors(app)
    assert len(app.dataframe[0].value) == 1


def test_whatif_new_item_asks_the_packaged_llm(app: AppTest) -> None:
    app.switch_page("pages/5_What_if.py").run()
    app.text_input(key="whatif_title").set_value("Space Rescue (1997)").run()
    app.text_area(key="whatif_text").set_value("Space Rescue (1997). Genres: Action, Adventure, Sci-Fi.").run()
    app.checkbox(key="whatif_llm").check().run()
    app.button(key="whatif_item_run").click().run()
    no_errors(app)
    before = int(_metrics(app)["Users with it in top-K (before)"].replace(",", ""))
    verdicts = app.dataframe[-1].value
    assert list(verdicts.columns) == ["user_id", "p_yes", "accepted"]
    assert len(verdicts) == min(before, 20) and verdicts["p_yes"].between(0, 1).all()
    assert any("LLM cold-item judgement" in m.value for m in app.markdown)


def test_method_parameters_reach_the_run_and_survive_leaving_the_page(app: AppTest) -> None:
    app.switch_page("pages/1_Augment.py").run()
    app.number_input(key="aug_max_per_user").set_value(3).run()
    app.number_input(key="aug_param:similarity:min_similarity").set_value(0.2).run()
    no_errors(app)
    assert any("min_similarity=0.2" in c.value for c in app.caption)  # the form says what differs from defaults
    app.button(key="run_augment").click().run()
    no_errors(app)
    result = app.session_state["augment_results"]["similarity"]
    assert result.params["max_per_user"] == 3 and result.params["min_similarity"] == 0.2
    assert result.rows.groupby("user_id").size().max() == 3
    assert int(_metrics(app)["Synthetic rows"].replace(",", "")) == len(result.rows) <= 3 * result.info["users_touched"]

    app.switch_page("pages/2_Embeddings.py").run()
    app.switch_page("pages/1_Augment.py").run()
    no_errors(app)
    assert app.number_input(key="aug_max_per_user").value == 3
    assert app.number_input(key="aug_param:similarity:min_similarity").value == 0.2
    assert app.session_state["augment_config"]["augmenter_params"] == {
        "similarity": {"max_per_user": 3, "min_similarity": 0.2}
    }


def test_compare_budget_sweep_draws_delta_against_budget(app: AppTest) -> None:
    app.switch_page("pages/3_Compare.py").run()
    app.multiselect(key="cmp_models").set_value(["pop", "itemknn"]).run()
    app.multiselect(key="cmp_sweep").set_value(["10%", "2%"]).run()
    assert any("budgets 2%, 10%" in c.value for c in app.caption)
    app.button(key="run_compare").click().run()
    no_errors(app)
    assert set(app.dataframe[0].value["variant"]) == {"similarity@2%", "similarity@10%"}
    assert [t["name"] for t in _chart_json(app, 0)["data"]] == ["similarity@2%", "similarity@10%"]
    curve = _chart_json(app, 1)
    assert curve["layout"]["xaxis"]["title"]["text"] == "budget (% of training interactions)"
    lines = {trace["name"]: trace for trace in curve["data"]}
    assert set(lines) == {"similarity · pop", "similarity · itemknn"}
    for trace in lines.values():
        assert list(_array(trace["x"])) == [2.0, 10.0] and np.all(np.abs(_array(trace["y"])) < 1)
    # Leaving the page and coming back keeps the models and the sweep.
    app.switch_page("pages/6_Runs.py").run()
    app.switch_page("pages/3_Compare.py").run()
    assert app.multiselect(key="cmp_models").value == ["pop", "itemknn"]
    assert app.multiselect(key="cmp_sweep").value == ["10%", "2%"]


def test_the_protocol_chosen_on_augment_drives_every_page(app: AppTest) -> None:
    app.switch_page("pages/1_Augment.py").run()
    app.selectbox(key="aug_protocol").set_value("cold-items").run()
    app.selectbox(key="aug_target").set_value("cold-items").run()
    assert any("split `cold-items`" in c.value and "held out" in c.value for c in app.caption)
    app.button(key="run_augment").click().run()
    no_errors(app)
    result = app.session_state["augment_results"]["similarity"]
    assert len(result.rows) > 0 and result.info["target"].startswith("cold items")
    assert not app.warning, "fresh results: no staleness warning"
    app.number_input(key="aug_seed").set_value(1).run()
    assert any("settings changed" in w.value for w in app.warning)  # results are from seed 0

    app.switch_page("pages/2_Embeddings.py").run()
    no_errors(app)
    assert any("split cold-items, seed 0" in c.value for c in app.caption), [c.value for c in app.caption]
    app.switch_page("pages/3_Compare.py").run()
    no_errors(app)
    assert any("protocol **cold-items**" in c.value for c in app.caption)
    app.multiselect(key="cmp_models").set_value(["pop"]).run()
    app.button(key="run_compare").click().run()
    no_errors(app)
    assert app.selectbox(key="cmp_slice").value == "cold-items"  # the protocol's own slice is shown first


def test_fidelity_follows_a_change_of_target_at_the_same_row_count(app: AppTest) -> None:
    """The cache key comes from the results' whole config: 'random' on light users and on all users (same number
    of rows) are two tables, not one stale one."""
    tables = []
    for target in ("light-users", "all"):
        app.switch_page("pages/1_Augment.py").run()
        app.multiselect(key="aug_methods").set_value(["random"]).run()
        app.selectbox(key="aug_target").set_value(target).run()
        app.button(key="run_augment").click().run()
        no_errors(app)
        app.switch_page("pages/4_Fidelity.py").run()
        no_errors(app)
        tables.append(app.dataframe[0].value)
    assert not tables[0].equals(tables[1])
