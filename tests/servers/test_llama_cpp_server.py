"""The HTTP backend against a REAL third-party server: llama-cpp-python's OpenAI-compatible server serving the
packaged SmolLM2 GGUF on 127.0.0.1 (``make test-server``; skipped in ``make test``, which has no such server).

llama-cpp-python scores echoed prompt tokens with the wrong positions' logits unless the prompt starts with the
model's BOS token (issue #1983), and answers a list of prompts with HTTP 500: the probe must find both, and the mode
it picks must agree with the model. The build is portable (AMX off, see the Makefile): ``make test-server`` prints
the CPU features and the build flags before these tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from recaug.data.dataset import TrainingData
from recaug.text.llm.openai_http import OpenAIBackend
from tests.servers.llm_fixtures import llm_home  # noqa: F401  (fixture)

SERVER_PYTHON = os.environ.get("RECAUG_LLAMA_SERVER_PYTHON", "")
pytestmark = pytest.mark.skipif(
    not SERVER_PYTHON, reason="needs llama-cpp-python[server]: run `make test-server` (RECAUG_LLAMA_SERVER_PYTHON)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import httpx

    from recaug.text.llm.local import PACKAGED_GGUF, packaged_gguf_folder

    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    command = [SERVER_PYTHON, "-m", "llama_cpp.server", "--model", str(packaged_gguf_folder() / PACKAGED_GGUF)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2-gguf"]
    command += ["--logits_all", "true"]  # without it, echo + logprobs is an HTTP 500; with it, the buggy scores
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        else:
            pytest.fail(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def client(url: str, **options: object) -> OpenAIBackend:
    return OpenAIBackend(base_url=url, **{"cache": False, "retry_base_delay": 0.05, **options})  # type: ignore[arg-type]


def test_chat_generation_through_the_real_server(server_url: str, llm_home: Path) -> None:  # noqa: F811
    remote = client(server_url, batch_size=4)
    assert remote.model == "smollm2-gguf"
    answers = remote.generate_records(["Say hello.", "Name one fruit.", "Name a colour.", "Count to three."], 12)
    assert all(a.error is None and a.text and a.tokens_in > 5 and 0 < a.tokens_out <= 12 for a in answers)
    assert remote.usage.failures == 0 and remote.usage.calls == 4


def test_probe_finds_the_bos_and_scores_like_the_model(server_url: str, llm_home: Path) -> None:  # noqa: F811
    """llama-cpp-python's echo log-probs are right only behind the model's BOS token (SmolLM2's GGUF adds none;
    llama-cpp-python issue #1983) and it refuses a list of prompts: the probe must find both, and the picked mode's
    scores must be the model's."""
    from recaug.text.llm.local import LocalBackend

    remote = client(server_url)
    mode = remote.scoring_mode()
    print(
        f"\nllama-cpp-python server scores by {mode} (BOS {remote.bos_text!r}, {remote.texts_per_request} text(s)"
        f" per request, probe {remote.probe_seconds:.1f} s, {remote.usage.setup_requests} set-up requests): "
        f"{remote.probe_report}"
    )
    assert mode == "logprobs" and remote.bos_text == "<|im_start|>" and remote.texts_per_request == 1
    question, options = "What is the capital of France?", ["Paris", "Tokyo", "A banana"]
    scores = remote.score(question, options)
    assert int(np.argmax(scores)) == 0
    local = LocalBackend(cache=False, dtype="float32")
    reference = []
    for echo in remote.echo_texts(question, options):  # the same text, scored by the local fp32 model
        tokens, values, offsets = local.text_logprobs([echo.text])[0]
        reference.append(
            sum(v for t, v, o in zip(tokens, values, offsets, strict=True) if o + len(t) > echo.prefix_length and v)
        )
    np.testing.assert_allclose(scores, reference, atol=0.5)  # Q4_1 GGUF against fp32 weights


def test_timeouts_are_failures_counted_not_crashes(server_url: str, llm_home: Path) -> None:  # noqa: F811
    remote = client(server_url, timeout=0.001, max_retries=1)
    record = remote.generate_records(["Write a long story about a dragon."], 64)[0]
    assert record.error is not None and "timeout" in record.error
    assert remote.usage.failures == 1 and remote.usage.retries == 1


def test_llm_interactions_through_the_real_server(
    server_url: str,
    llm_home: Path,  # noqa: F811
    ml100k_train: TrainingData,
) -> None:
    from recaug.augment import create_augmenter

    users = [str(u) for u in ml100k_train.user_ids[:2]]
    # The server works one request at a time: 8 concurrent requests queue there, so on a loaded machine the last
    # waits ~8 requests' time. A long timeout keeps this a test of the scoring path, not of the machine's load.
    augmenter = create_augmenter(
        "llm-interactions",
        backend="openai",
        base_url=server_url,
        target=users,
        n_candidates=4,
        item_noun="movie",
        timeout=600.0,
    )
    augmenter.fit(ml100k_train)  # the probe passes (logprobs behind the BOS): continuation + PMI may run
    import time

    started = time.perf_counter()
    result = augmenter.augment(10)
    seconds = time.perf_counter() - started
    info = result.info
    print(
        f"\nllm-interactions through llama-cpp-python ({augmenter.llm_.scoring_mode()}): {info['calls']} calls, "
        f"{info['requests']} requests (+{info['setup_requests']} set-up) in {seconds:.1f} s: "
        f"{info['users_prompted'] / seconds:.2f} users/s, {info['requests'] / seconds:.1f} requests/s"
    )
    assert info["backend"] == "openai" and info["failures"] == 0 and info["calls"] == 3
    # One request per option on this server (it refuses prompt lists): 2 users x 4 candidates, then one per distinct
    # candidate title for the PMI calibration; no retries.
    assert 2 * 4 < info["requests"] <= 2 * 4 + 8 and info["retries"] == 0
    assert set(result.rows["user_id"]) <= set(users)
