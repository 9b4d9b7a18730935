"""The Augment page with a server model on MovieLens: the key-from-URL checkbox, and the title-memorisation check
run from the page against a real OpenAI-compatible server (the packaged model behind the stub), shown with its
interval and cost, and stored with the augmentation (on screen and in the kept copy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from recaug.text.llm.local import LocalBackend
from tests.app.conftest import no_errors
from tests.augment.test_llm_augment_page import augment_page
from tests.servers.llm_fixtures import llm_home  # noqa: F401  (fixture)
from tests.servers.openai_stub import OpenAIStub
from ui.augment_store import load_augmentation
from ui.state import AUGMENT_DIGEST, AUGMENT_RESULTS


def test_memorisation_check_runs_from_the_page_and_is_kept_with_the_augmentation(
    llm_home: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    with OpenAIStub(LocalBackend(cache=False, dtype="float32")) as server:
        app = augment_page(monkeypatch, tmp_path, "llm-interactions")
        assert not [b for b in app.button if b.key == "llm_memorisation_now"], "no check for the local model"
        app.checkbox(key="llm_skill_check").uncheck().run()  # the skill check has its own tests
        app.selectbox(key="llm_backend").set_value("openai").run()
        host = server.url.removeprefix("http://")
        app.text_input(key="llm_base_url").set_value(f"http://user:SECRETk9@{host}").run()
        app.number_input(key="llm_timeout").set_value(600).run()  # a loaded machine must not turn into retries
        app.number_input(key="llm_max_calls").set_value(2).run()
        app.number_input(key="aug_param:llm-interactions:n_candidates").set_value(4).run()  # short prompts: fast
        app.number_input(key="aug_param:llm-interactions:history_size").set_value(3).run()
        app.checkbox(key="llm_key_from_url").check().run()
        no_errors(app)
        assert "memorisation of the benchmark" in " ".join(w.value for w in app.warning)
        app.button(key="run_augment").click().run()
        no_errors(app)
        assert app.session_state[AUGMENT_RESULTS]["llm-interactions"].info["calls"] == 2
        # Ticked, the URL's password is the key, sent as a Bearer header (unticked it would be dropped).
        assert server.authorization[-1] == "Bearer SECRETk9" and all("SECRET" not in u for u in server.urls)

        app.number_input(key="llm_memorisation_titles").set_value(5).run()
        asked = len(server.urls)
        app.button(key="llm_memorisation_now").click().run()
        no_errors(app)
        sent = len(server.urls) - asked
    verdict = " ".join(m.value for m in [*app.success, *app.warning])
    assert "title completion: " in verdict and "of 5 titles completed right among 5 endings (chance 0.20)" in verdict
    cards = {m.label: m for m in app.metric}
    assert cards["Titles completed right"].delta.endswith("vs chance 20%")
    assert "10 scoring calls" in cards["Cost"].help
    # The model list, then 10 prompts x 5 endings = 50 echo texts, 16 to a request: 4 (the server's probe is reused).
    assert sent == 1 + 4 and f"{sent} requests" in cards["Cost"].help
    record = app.session_state[AUGMENT_RESULTS]["llm-interactions"].info["memorisation"]
    assert record["n_titles"] == 5 and record["calls"] == 10 and 0.0 <= record["ci_low"] <= record["hit_rate"]
    assert record["hit_rate"] <= record["ci_high"] <= 1.0 and record["chance"] == 0.2
    _, _, kept = load_augmentation(app.session_state[AUGMENT_DIGEST])
    assert kept["llm-interactions"].info["memorisation"] == record, "stored with the kept augmentation"
    assert any("Memorisation check of this server model" in c.value for c in app.caption)
    for path in (llm_home / "augmentations").rglob("*"):
        assert not path.is_file() or b"SECRET" not in path.read_bytes(), path
