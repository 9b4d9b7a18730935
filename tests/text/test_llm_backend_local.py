"""The local transformers backend with the REAL packaged SmolLM2-135M-Instruct."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recaug.core.torch_utils import torch_threads
from recaug.text.llm.factory import create_backend
from recaug.text.llm.local import PACKAGED_MODEL, LocalBackend, load_model
from tests.servers.llm_fixtures import converted_models_dir, llm_home  # noqa: F401  (fixture)

PROMPT = "A user liked: Toy Story, Aladdin, The Lion King. Which movie should we recommend next?"
OPTIONS = ["Beauty and the Beast", "Scream", "Pulp Fiction", "Die Hard 2"]


@pytest.fixture()
def backend(llm_home: Path) -> LocalBackend:  # noqa: F811
    """fp32, so that exactness checks are not blurred by bfloat16 rounding."""
    return LocalBackend(cache=False, dtype="float32")


def naive_option_logprob(backend: LocalBackend, prompt: str, option: str) -> float:
    """Reference: one plain forward pass over prompt + option, no packing, no custom mask."""
    import torch

    model, tokenizer, _ = load_model(str(backend.folder), backend.device, backend.dtype)
    prompt_ids = tokenizer(backend.format_prompt(prompt), add_special_tokens=False)["input_ids"]
    option_ids = tokenizer(option, add_special_tokens=False)["input_ids"]
    with torch_threads(1), torch.inference_mode():
        logits = model(input_ids=torch.tensor([prompt_ids + option_ids])).logits[0]
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    return float(sum(logprobs[len(prompt_ids) + k - 1, t] for k, t in enumerate(option_ids)))


def test_packaged_gguf_is_converted_to_a_plain_hf_folder(llm_home: Path) -> None:  # noqa: F811
    folder = converted_models_dir() / "SmolLM2-135M-Instruct"
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "llama"
    assert (folder / "model.safetensors").stat().st_size > 400e6  # fp32 weights of 135M parameters
    assert (folder / "tokenizer.json").exists()
    backend = create_backend("local")
    assert backend.model_id.startswith(PACKAGED_MODEL) and backend.folder == folder.resolve()


def test_packed_scoring_equals_one_forward_pass_per_option(backend: LocalBackend) -> None:
    packed = backend.score(PROMPT, OPTIONS)
    reference = np.array([naive_option_logprob(backend, PROMPT, option) for option in OPTIONS])
    assert packed.shape == (4,)
    np.testing.assert_allclose(packed, reference, atol=2e-3)
    assert (packed < 0).all()


def test_prompts_sharing_a_prefix_score_as_if_encoded_alone(backend: LocalBackend) -> None:
    """One user's prompt in three candidate orders: the shared history is packed once (a tree), and every option
    still gets exactly its plain forward-pass log-likelihood."""
    head = "A user liked these movies:\n- Toy Story\n- Aladdin\n- The Lion King\nCandidate movies:\n"
    orders = [OPTIONS, OPTIONS[1:] + OPTIONS[:1], OPTIONS[2:] + OPTIONS[:2]]
    prompts = [head + "\n".join(f"- {o}" for o in order) + "\nWhich one?" for order in orders]
    _, tokenizer, _ = load_model(str(backend.folder), backend.device, backend.dtype)
    from recaug.text.llm.local import group_by_prefix

    ids = [tokenizer(backend.format_prompt(p), add_special_tokens=False)["input_ids"] for p in prompts]
    assert group_by_prefix(ids, 8) == [[0, 1, 2]]  # really packed as one tree
    shared = backend.score_many(prompts, orders)
    alone = LocalBackend(cache=False, dtype="float32", share_prefix=False).score_many(prompts, orders)
    for tree, single, prompt, order in zip(shared, alone, prompts, orders, strict=True):
        np.testing.assert_allclose(tree.logprobs, single.logprobs, atol=2e-3)
        assert tree.logprobs[0] == pytest.approx(naive_option_logprob(backend, prompt, order[0]), abs=2e-3)


def test_prompts_are_packed_as_a_tree_only_where_it_is_cheaper() -> None:
    """Three orders of one user's prompt share a long history: one tree. Prompts of different users share only
    the system text (30 of 130 tokens): packed apart, since one long sequence costs more attention than it saves."""
    from recaug.text.llm.local import group_by_prefix

    system = list(range(30))
    orders = [system + list(range(100, 200)) + [300 + k] * 60 for k in range(3)]
    users = [system + [1000 * (k + 1) + t for t in range(100)] for k in range(8)]
    assert group_by_prefix(orders, 8, [80] * 3) == [[0, 1, 2]]
    assert group_by_prefix(users, 8, [80] * 8) == [[k] for k in range(8)]
    assert group_by_prefix(orders + users, 8, [80] * 11)[0] == [0, 1, 2]


def test_batched_scoring_is_independent_of_batch_companions(backend: LocalBackend) -> None:
    other = "Is the sky blue? Answer Yes or No."
    together = backend.score_many([PROMPT, other], [OPTIONS, ["Yes", "No"]])
    alone = [backend.score(PROMPT, OPTIONS), backend.score(other, ["Yes", "No"])]
    for batched, single in zip(together, alone, strict=True):
        np.testing.assert_allclose(batched.logprobs, single, atol=2e-3)
    assert together[0].tokens_in > together[1].tokens_in > 10


def test_scores_prefer_the_sensible_answer_and_bfloat16_agrees(backend: LocalBackend) -> None:
    question = "What is the capital of France? Answer with the city name."
    scores = backend.score(question, ["Paris", "Banana bread"])
    assert scores[0] > scores[1] + 3.0
    # The default on CPUs with native bf16 is bfloat16: faster, and it must make the same choices.
    fast = LocalBackend(cache=False, dtype="bfloat16")
    assert fast.model_id.endswith("@bfloat16")
    np.testing.assert_allclose(fast.score(question, ["Paris", "Banana bread"]), scores, atol=0.6)
    np.testing.assert_allclose(fast.score(PROMPT, OPTIONS), backend.score(PROMPT, OPTIONS), atol=0.6)


def test_token_counts_are_the_tokens_an_option_is_scored_with(backend: LocalBackend) -> None:
    _, tokenizer, _ = load_model(str(backend.folder), backend.device, backend.dtype)
    texts = ["Toy Story", "Englishman Who Went Up a Hill, But Came Down a Mountain, The", ""]
    counts = backend.count_tokens(texts)
    assert counts.tolist() == [len(tokenizer(texts[0])["input_ids"]), len(tokenizer(texts[1])["input_ids"]), 1]
    assert 1 < counts[0] < counts[1]


def test_greedy_generation_is_deterministic_and_batch_independent(backend: LocalBackend) -> None:
    prompts = ["Name one fruit.", "Describe Toy Story in three keywords.", "Say hello."]
    batched = backend.generate_records(prompts, max_new_tokens=12)
    assert [g.text for g in batched] == [backend.generate([p], max_new_tokens=12)[0] for p in prompts]
    for record in batched:
        assert record.text and 0 < record.tokens_out <= 12 and record.tokens_in > 5 and record.error is None


def test_sampling_is_seeded_per_prompt(backend: LocalBackend) -> None:
    prompt = "Write a one-line tagline for a space movie."
    first = backend.generate([prompt], max_new_tokens=12, temperature=1.0, seed=1)
    assert backend.generate([prompt], max_new_tokens=12, temperature=1.0, seed=1) == first
    # The same prompt in a batch with another one samples the same text: the noise is seeded per prompt.
    assert backend.generate([prompt, "Say hello."], max_new_tokens=12, temperature=1.0, seed=1)[0] == first[0]
    others = {backend.generate([prompt], max_new_tokens=12, temperature=1.0, seed=s)[0] for s in (2, 3)}
    assert others - set(first)


def test_rerun_hits_the_disk_cache(llm_home: Path) -> None:  # noqa: F811
    cold = LocalBackend()  # default dtype and the default response cache in RECAUG_HOME
    first = cold.generate_records(["Name one fruit."], max_new_tokens=8)
    scores = cold.score(PROMPT, OPTIONS)
    warm = LocalBackend()  # a new backend object: the answers come from the sqlite file in RECAUG_HOME
    again = warm.generate_records(["Name one fruit."], max_new_tokens=8)
    assert again[0].cache_hit and again[0].text == first[0].text and again[0].tokens_out == first[0].tokens_out
    np.testing.assert_array_equal(warm.score(PROMPT, OPTIONS), scores)
    assert warm.usage.cache_hits == 2 and warm.usage.seconds == 0.0
    assert (llm_home / "llm" / "responses.sqlite").exists()
