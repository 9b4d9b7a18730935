"""The OpenAI-compatible HTTP backend against a REAL local server (tests/servers/openai_stub.py) on 127.0.0.1.

The stub serves the packaged SmolLM2 through /v1/chat/completions and /v1/completions and can misbehave on demand
(HTTP 500/429, malformed JSON, a JSON without choices, a slow answer, a dropped connection).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from recaug.core.errors import RecaugInputError
from recaug.data.dataset import TrainingData
from recaug.text.llm.base import create_backend
from recaug.text.llm.local import LocalBackend
from recaug.text.llm.openai_http import PROBE, OpenAIBackend
from tests.servers.llm_fixtures import llm_home  # noqa: F401  (fixture)
from tests.servers.openai_stub import OpenAIStub

QUESTION = "What is the capital of France? Answer with the city name."


@pytest.fixture()
def served(llm_home: Path) -> LocalBackend:  # noqa: F811
    return LocalBackend(cache=False, dtype="float32")


@pytest.fixture()
def stub(served: LocalBackend) -> Iterator[OpenAIStub]:
    with OpenAIStub(served) as server:
        yield server


def client(stub: OpenAIStub, **options: object) -> OpenAIBackend:
    options = {"cache": False, "retry_base_delay": 0.01, "timeout": 30.0, **options}
    return OpenAIBackend(base_url=stub.url, **options)  # type: ignore[arg-type]


def test_chat_generation_matches_the_local_model(stub: OpenAIStub, served: LocalBackend) -> None:
    remote = client(stub)
    assert remote.model == "smollm2-stub"  # the first model the server lists
    prompts = ["Name one fruit.", "Say hello."]
    answers = remote.generate_records(prompts, max_new_tokens=10)
    # Same chat template, same greedy decoding: the server's answer is the local model's answer.
    assert [a.text for a in answers] == [served.generate([p], max_new_tokens=10)[0] for p in prompts]
    assert all(a.tokens_in > 5 and 0 < a.tokens_out <= 10 and a.error is None for a in answers)
    assert stub.requests == ["/v1/chat/completions"] * 2


def test_logprob_scoring_over_completions(stub: OpenAIStub) -> None:
    remote = client(stub)
    scores = remote.score(QUESTION, ["Paris", "Banana bread"])
    assert np.isfinite(scores).all() and scores[0] > scores[1] + 3.0
    # The probe's known-answer questions first, then one request for all options of a prompt.
    assert remote.scoring_mode() == "logprobs" and remote.probe_report == ["logprobs: ok"]
    assert stub.requests == ["/v1/completions"] * (len(PROBE) + 1)
    # Option scores do not depend on which other options are scored with them.
    np.testing.assert_allclose(remote.score(QUESTION, ["Paris"]), scores[:1], atol=1e-4)


@pytest.mark.parametrize("faults", [["500", "429"], ["malformed", "shape"], ["drop"]])
def test_transient_faults_are_retried(stub: OpenAIStub, faults: list[str]) -> None:
    remote = client(stub)
    clean = remote.generate(["Say hello."], max_new_tokens=6)
    stub.faults.extend(faults)
    record = remote.generate_records(["Say hello."], max_new_tokens=6)[0]
    assert record.error is None and record.text == clean[0]
    assert remote.usage.retries == len(faults) and remote.usage.failures == 0


def test_slow_answers_time_out_and_are_retried(stub: OpenAIStub) -> None:
    remote = client(stub, timeout=5.0)
    stub.slow_seconds = 8.0
    stub.faults.append("slow")
    scores = remote.score(QUESTION, ["Paris", "Banana bread"])
    assert np.isfinite(scores).all() and remote.usage.retries == 1


def test_persistent_faults_are_counted_not_raised(stub: OpenAIStub) -> None:
    remote = client(stub, max_retries=2)
    remote.check_scoring()  # the probe, before the faults
    stub.faults.extend(["500"] * 3)
    failed = remote.generate_records(["Say hello."], max_new_tokens=6)[0]
    assert failed.text == "" and "HTTP 500 after 3 attempts" in (failed.error or "")
    stub.faults.extend(["malformed"] * 3)
    scores = remote.score_many([QUESTION], [["Paris", "Rome"]])[0]
    assert np.isnan(scores.logprobs).all() and "malformed JSON" in (scores.error or "")
    # The run goes on: the next call succeeds, and the failures are counted.
    assert remote.generate(["Say hello."], max_new_tokens=6)[0]
    assert remote.usage.failures == 2 and remote.usage.retries == 4 and remote.usage.calls == 3 + len(PROBE)


def test_failed_answers_are_not_cached(stub: OpenAIStub, llm_home: Path) -> None:  # noqa: F811
    remote = client(stub, cache=True, max_retries=0)
    stub.faults.append("500")
    assert remote.generate_records(["Say hello."], max_new_tokens=6)[0].error
    again = remote.generate_records(["Say hello."], max_new_tokens=6)[0]
    assert again.error is None and not again.cache_hit and again.text
    assert remote.generate_records(["Say hello."], max_new_tokens=6)[0].cache_hit


def _right_letter(text: str) -> str:
    """A stand-in for a strong model: the letter of the right answer to a probe question, else "A"."""
    for question, _, right in PROBE:
        if question in text:
            return "ABC"[right]
    return "A"


def test_probe_skips_an_echo_that_ignores_the_prompt_and_uses_top_logprobs(served: LocalBackend) -> None:
    def top(text: str) -> dict[str, float]:
        letter = _right_letter(text)
        return {f" {letter}": -0.2, letter: -2.0, " B" if letter != "B" else " C": -1.5, "The": -3.0}

    with OpenAIStub(served, echo="ignored", top_logprobs=top) as server:
        remote = client(server)
        assert remote.scoring_mode() == "top-logprobs"
        assert remote.probe_report[0] == "logprobs: options tied (the server ignores the question)"
        scores = remote.score("Which is a fruit?", ["Apple", "Hammer", "Chair"])
        # " A" and "A" are one answer (log-sum-exp); letters outside the top list are -inf.
        assert scores[0] == pytest.approx(np.logaddexp(-0.2, -2.0)) and scores[1] == -1.5 and scores[2] == -np.inf


def test_probe_catches_llama_cpp_python_echo_scores_and_falls_back_to_constrained_choice(
    served: LocalBackend,
) -> None:
    with OpenAIStub(served, echo="own-position", top_logprobs=False, chat_reply=_right_letter) as server:
        remote = client(server)
        assert remote.scoring_mode() == "choice"
        assert remote.probe_report[0].startswith("logprobs: wrong answer")
        assert remote.probe_report[1].startswith("top-logprobs: failed")
        record = remote.score_many(["Which is a fruit?"], [["Apple", "Hammer"]])[0]
        assert record.logprobs.tolist() == [0.0, -np.inf] and record.raw == "A"


def test_a_server_that_fails_every_mode_is_refused_before_any_work(
    served: LocalBackend, ml100k_train: TrainingData
) -> None:
    from recaug.augment import create_augmenter

    with OpenAIStub(served, echo="ignored", top_logprobs=False, chat_reply="I would rather not say.") as server:
        augmenter = create_augmenter("llm-interactions", backend="openai", base_url=server.url, max_users=2)
        with pytest.raises(RecaugInputError, match="cannot score options reliably") as refused:
            augmenter.fit(ml100k_train)
        message = str(refused.value)
        assert "options tied" in message and "invalid choice" in message and "use a server" in message
        assert "/v1/chat/completions" in server.requests and len(server.requests) <= 3 + 2 + 1


def test_retry_after_is_honoured(stub: OpenAIStub) -> None:
    remote = client(stub)
    stub.retry_after = "1.5"
    stub.faults.extend(["429"])
    record = remote.generate_records(["Say hello."], max_new_tokens=4)[0]
    assert record.error is None and remote.usage.retries == 1
    # The retry waited for the server's Retry-After, not for our 0.01 s backoff.
    assert stub.request_times[1] - stub.request_times[0] >= 1.4


def test_unreachable_server_is_a_clear_input_error() -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RecaugInputError, match=r"cannot reach the LLM server at http://127\.0\.0\.1:\d+/v1"):
        create_backend("openai", base_url=f"http://127.0.0.1:{port}/v1", model="any")
    with pytest.raises(RecaugInputError, match="needs a server URL"):
        create_backend("openai")


def test_api_key_is_sent_but_never_shown_or_cached(
    stub: OpenAIStub,
    llm_home: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RECAUG_LLM_API_KEY", "sk-test-from-env")
    remote = create_backend("openai", base_url=stub.url, retry_base_delay=0.01)
    remote.generate(["Say hello."], max_new_tokens=4)
    explicit = OpenAIBackend(base_url=stub.url, api_key="sk-test-explicit", cache=False)
    explicit.generate(["Say hello."], max_new_tokens=4)
    assert stub.authorization[-2:] == ["Bearer sk-test-from-env", "Bearer sk-test-explicit"]
    for backend in (remote, explicit):
        assert "sk-test" not in repr(backend) and "sk-test" not in str(vars(backend))
    assert b"sk-test" not in (llm_home / "llm" / "responses.sqlite").read_bytes()


def test_llm_interactions_runs_through_the_server(stub: OpenAIStub, ml100k_train: TrainingData) -> None:
    from recaug.augment import create_augmenter

    users = [str(u) for u in ml100k_train.user_ids[:2]]
    augmenter = create_augmenter(
        "llm-interactions", backend="openai", base_url=stub.url, target=users, n_candidates=4, item_noun="movie"
    ).fit(ml100k_train)
    result = augmenter.augment(10)
    positives = result.rows  # negatives are off by default: every row is a positive
    assert 0 < len(positives) <= 4 and set(positives["user_id"]) <= set(users)
    # 2 users (one call each) and one calibration call for their 8 candidate titles, after the probe's questions.
    assert result.info["backend"] == "openai" and result.info["calls"] == 3 and result.info["failures"] == 0
    assert stub.requests == ["/v1/completions"] * (len(PROBE) + 3)
