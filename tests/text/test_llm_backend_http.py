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
from recaug.text.llm.factory import create_backend
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
    # A generous timeout: on a loaded machine the stub's model can take tens of seconds (a retry would change counts).
    options = {"cache": False, "retry_base_delay": 0.01, "timeout": 180.0, **options}
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
    client(stub).check_scoring()  # probed with the generous timeout; the short-timeout client below reuses it
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
    # Model list and call of each client (GETs are recorded too).
    assert stub.authorization[-4:] == ["Bearer sk-test-from-env"] * 2 + ["Bearer sk-test-explicit"] * 2
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
    # 2 users (one call each) and one calibration call for their 8 candidate titles, after the probe's questions;
    # the two users' candidates go to the server in one batched echo request, the calibration in another.
    assert result.info["backend"] == "openai" and result.info["calls"] == 3 and result.info["failures"] == 0
    assert stub.requests == ["/v1/completions"] * (len(PROBE) + 2)
    assert result.info["requests"] == 2 and result.info["setup_requests"] == 1 + len(PROBE)


# --- credentials in the URL (issue 19) ---------------------------------------------------------------------------
def test_credentials_in_the_base_url_are_never_sent_unless_asked(stub: OpenAIStub, llm_home: Path) -> None:  # noqa: F811
    port = stub.url.split(":")[2].split("/")[0]
    raw = f"http://user:SECRET1pw@127.0.0.1:{port}/v1?key=SECRET2q&api-version=7"
    remote = OpenAIBackend(base_url=raw, cache=True, retry_base_delay=0.01)
    remote.generate(["Say hello."], max_new_tokens=4)
    remote.score(QUESTION, ["Paris", "Rome"])
    # No Basic auth, no key in any URL; the harmless query goes after the path of every request.
    assert all(a is None for a in stub.authorization), stub.authorization
    assert stub.urls[0] == "/v1/models?api-version=7" and "/v1/completions?api-version=7" in stub.urls
    assert not any("SECRET" in u for u in stub.urls)
    assert remote.base_url == f"http://127.0.0.1:{port}/v1" and "SECRET" not in remote.model_id
    assert "SECRET" not in repr(remote) and "SECRET" not in str(vars(remote)) and "credentials" in remote.url_note
    asked = OpenAIBackend(base_url=raw, key_from_url=True, cache=False)
    asked.generate(["Say hello."], max_new_tokens=4)
    assert stub.authorization[-1] == "Bearer SECRET1pw"
    assert b"SECRET" not in (llm_home / "llm" / "responses.sqlite").read_bytes()


def test_unreachable_server_error_names_the_url_without_its_credentials() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RecaugInputError) as refused:
        create_backend("openai", base_url=f"http://u:SECRETx1@127.0.0.1:{port}/v1?token=SECRETx2", model="m")
    assert f"cannot reach the LLM server at http://127.0.0.1:{port}/v1 " in str(refused.value)
    assert "SECRET" not in str(refused.value)


# --- the request budget (issue 19) -------------------------------------------------------------------------------
def test_a_failing_server_trips_the_breaker_and_every_request_is_counted(stub: OpenAIStub) -> None:
    remote = client(stub, max_calls=20, breaker_failures=5, breaker_cooldown=60.0, batch_size=1)
    remote.check_scoring()
    assert remote.usage.setup_requests == 1 + len(PROBE) == len(stub.requests) + 1  # model list + probe
    before = len(stub.requests)
    scored = remote.score_many([f"Question {i}: {QUESTION}" for i in range(4)], [["Paris", "Rome"]] * 4)
    assert all(r.error is None for r in scored) and len(stub.requests) - before == 1  # 8 texts, one echo request
    stub.always = "500"
    before, counted = len(stub.requests), remote.usage.requests
    records = remote.generate_records([f"Say hello {i}." for i in range(20)], 4)
    assert all(r.error for r in records) and "circuit open" in (records[-1].error or "")
    # The first call's 4 attempts and the second's first trip the breaker; nothing else is sent.
    assert len(stub.requests) - before == 5 == remote.usage.requests - counted  # was 80; 1,210 in issue 19
    assert remote.usage.failures == 20


def test_retries_come_from_one_allowance_of_max_calls(stub: OpenAIStub) -> None:
    remote = client(stub, max_calls=6, breaker_failures=1000)
    remote.check_scoring()  # set-up: its requests (and any retry) spend no allowance
    before, retried = len(stub.requests), remote.usage.retries
    stub.always = "500"
    remote.generate_records([f"Say hello {i}." for i in range(6)], 4)
    # 6 calls, each sent once, plus at most 6 retries in all: total <= 2 x max_calls.
    assert len(stub.requests) - before == 12 == remote.usage.requests and remote.usage.retries - retried == 6


def test_the_breaker_lets_one_trial_through_after_the_cooldown_and_closes_on_success(stub: OpenAIStub) -> None:
    import time

    remote = client(stub, breaker_failures=2, breaker_cooldown=0.5, max_retries=0, batch_size=1)
    stub.always = "500"
    assert all(r.error for r in remote.generate_records(["a", "b", "c"], 4))
    assert len(stub.requests) == 2 and remote.guard.is_open
    stub.always = None
    time.sleep(0.6)
    assert remote.generate_records(["Say hello."], 4)[0].error is None and not remote.guard.is_open


# --- servers as they can score (issue 20) --------------------------------------------------------------------------
def test_probe_gives_llama_cpp_python_the_bos_it_needs_and_scores_one_text_per_request(
    served: LocalBackend,
) -> None:
    with OpenAIStub(served, echo="needs-bos", list_prompts=False) as server:
        remote = client(server)
        assert remote.scoring_mode() == "logprobs" and remote.scores_text
        assert remote.bos_text == "<|im_start|>" and remote.texts_per_request == 1
        assert remote.probe_report == ["logprobs: ok"]
        options = ["Paris", "Banana bread", "Rome"]
        scores = remote.score(QUESTION, options)
        # The echoed scores are the model's own log-likelihoods of the same text behind the BOS token.
        texts = [t.text for t in remote.echo_texts(QUESTION, options)]
        reference = []
        for text, echo in zip(texts, remote.echo_texts(QUESTION, options), strict=True):
            tokens, values, offsets = served.text_logprobs([text])[0]
            reference.append(
                sum(v for t, v, o in zip(tokens, values, offsets, strict=True) if o + len(t) > echo.prefix_length and v)
            )
        np.testing.assert_allclose(scores, reference, atol=1e-3)
        assert int(np.argmax(scores)) == 0
        # Set-up stayed bounded: model list, the plain probe (failing on its first question), one BOS check per
        # candidate tried, and the probe behind the BOS, one text per request.
        assert remote.usage.setup_requests <= 1 + 2 + 3 + 1 + len(PROBE) * 3


def test_lettered_modes_refuse_long_option_lists_and_callers_needing_likelihoods(served: LocalBackend) -> None:
    def top(text: str) -> dict[str, float]:
        return {f" {_right_letter(text)}": -0.1, " Z": -3.0}

    with OpenAIStub(served, echo="ignored", top_logprobs=top) as server:
        remote = client(server)
        assert remote.scoring_mode() == "top-logprobs" and not remote.scores_text
        record = remote.score_many(["Pick one."], [[f"Title {i}" for i in range(32)]])[0]  # was an IndexError
        assert record.error is not None and "at most 26" in record.error and np.isnan(record.logprobs).all()
        with pytest.raises(RecaugInputError, match="only by a lettered choice"):
            remote.check_scoring(likelihoods=True)


def test_cold_item_judging_is_refused_on_a_lettered_only_server_before_any_call(
    served: LocalBackend, ml100k_train: TrainingData
) -> None:
    from recaug.augment import create_augmenter

    def top(text: str) -> dict[str, float]:
        return {f" {_right_letter(text)}": -0.1, " Z": -3.0}

    with OpenAIStub(served, echo="ignored", top_logprobs=top) as server:
        options = {"backend": "openai", "base_url": server.url, "timeout": 180.0, "max_items": 2}
        judge = create_augmenter("llm-cold-items", mode="judge", **options)
        with pytest.raises(RecaugInputError) as refused:
            judge.fit(ml100k_train)
        # The judge's own reason and its way out, then the server's (its mode and the probe's report).
        message = str(refused.value)
        assert "mode 'judge' compares yes/no log-likelihoods across calls" in message
        assert "only by a lettered choice (top-logprobs)" in message and "use mode 'one-pass'" in message
        assert server.requests and set(server.requests) == {"/v1/completions"}  # the probe only: no judging
        assert not any("Would this user like the new" in str(body) for body in server.bodies)
        create_augmenter("llm-cold-items", mode="one-pass", **options).fit(ml100k_train)  # generation only: fine


def test_constrained_choice_sends_a_grammar_and_guided_choice(served: LocalBackend) -> None:
    with OpenAIStub(served, echo="ignored", top_logprobs=False, chat_reply=_right_letter) as server:
        remote = client(server)
        assert remote.scoring_mode() == "choice"
        body = server.bodies[-1]
        assert body["guided_choice"] == ["A", "B", "C"] and body["grammar"] == 'root ::= "A" | "B" | "C"'


def test_the_memorisation_check_runs_from_the_cli_against_a_server(
    stub: OpenAIStub, capsys: pytest.CaptureFixture[str]
) -> None:
    from recaug.__main__ import main

    url = ["--llm-base-url", stub.url, "--llm-timeout", "600"]  # a loaded machine must not turn this into retries
    assert main(["memorisation", "--data", "ml-100k", *url, "--titles", "6"]) == 0
    line, err = capsys.readouterr()
    assert "title completion: " in line and "of 6 titles completed right among 5 endings (chance 0.20)" in line
    assert "left out" not in line  # every call answered: no title dropped
    # 12 prompts x 5 endings = 60 echo texts, 16 to a request: 4 requests after the probe.
    assert stub.requests.count("/v1/completions") == len(PROBE) + 4
    # Its cost, the server's probe and model list included: every request the server saw.
    assert f"cost: 12 scoring calls, {len(stub.urls)} requests, " in err
