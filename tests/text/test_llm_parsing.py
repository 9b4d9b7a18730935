"""Fast unit tests: answer parsing, the response cache, the log, and augmenter decisions with a scripted backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recaug.augment import create_augmenter
from recaug.augment.base import resolve_target
from recaug.augment.llm.llm_common import finalise_log, llm_augmenter_params, log_summary, softmax
from recaug.core.errors import RecaugInputError
from recaug.data.dataset import TrainingData
from recaug.text.llm.base import Generation, LLMBackend, Scores
from recaug.text.llm.cache import ResponseCache
from recaug.text.llm.factory import create_backend
from recaug.text.llm.parsing import TitleMatcher, clean_answer, display_title, parse_choice, parse_yes_no


class ScriptedBackend(LLMBackend):
    """Answers from functions of the prompt, counting how often the uncached methods run."""

    kind = "scripted"

    def __init__(
        self,
        answer: Callable[[str], str] = lambda p: "",
        scores: Callable[[str, list[str]], list[float]] | None = None,
        cache: ResponseCache | bool = False,
    ) -> None:
        super().__init__(model_id="scripted", cache=cache)
        self.answer = answer
        self.scores = scores
        self.generated = 0
        self.scored = 0

    def _generate(self, prompts: list[str], max_new_tokens: int, temperature: float, seed: int) -> list[Generation]:
        self.generated += len(prompts)
        return [Generation(self.answer(p), tokens_in=len(p.split()), tokens_out=3, latency=0.01) for p in prompts]

    def _score(self, prompts: list[str], options_list: list[list[str]]) -> list[Scores]:
        self.scored += len(prompts)
        out = []
        for prompt, options in zip(prompts, options_list, strict=True):
            values = self.scores(prompt, options) if self.scores else [-float(len(o)) for o in options]
            out.append(Scores(np.asarray(values, dtype=float), tokens_in=len(prompt.split()), latency=0.01))
        return out


# --- parsing -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Usual Suspects, The (1995)", "The Usual Suspects"),
        ("Toy Story (1995)", "Toy Story"),
        ("Seven (Se7en) (1995)", "Seven (Se7en)"),
        (
            "Englishman Who Went Up a Hill, But Came Down a Mountain, The (1995)",
            "The Englishman Who Went Up a Hill, But Came Down a Mountain",
        ),
        (
            "City of Lost Children, The (Cité des enfants perdus, La) (1995)",
            "City of Lost Children, The (Cité des enfants perdus, La)",
        ),
    ],
)
def test_display_title_moves_articles_and_drops_the_year(raw: str, shown: str) -> None:
    assert display_title(raw) == shown


def test_clean_answer_strips_chatter_markers_and_quotes() -> None:
    assert clean_answer('  Answer: "The Usual Suspects".\nBecause it is great') == "The Usual Suspects"
    assert clean_answer("2) Heat") == "Heat"
    assert clean_answer("- **Fargo**") == "Fargo"
    assert clean_answer("") == ""


def test_title_matcher_exact_contained_fuzzy_and_none() -> None:
    titles = ["Usual Suspects, The (1995)", "Heat (1995)", "Heat and Dust (1983)", "Toy Story (1995)"]
    matcher = TitleMatcher(titles)
    assert matcher.match("the usual suspects").index == 0
    assert matcher.match("the usual suspects").score == 1.0
    # The longest title contained in a chatty answer wins over a shorter one it contains.
    assert matcher.match("I would pick Heat and Dust, a classic").index == 2
    assert matcher.match("Toy Stroy").index == 3  # misspelt, fuzzy
    assert matcher.match("Toy Stroy").score < 1.0
    assert matcher.match("Jurassic Park") is None
    assert matcher.match("") is None
    # Restricted to allowed indices: an exact title outside them does not match.
    assert matcher.match("Heat", allowed=[0, 3]) is None


def test_parse_choice_numbers_then_titles() -> None:
    options = ["Heat", "Fargo", "Toy Story"]
    assert parse_choice("2", options) == 1
    assert parse_choice("Option 3.", options) == 2
    assert parse_choice("I choose Fargo", options) == 1
    assert parse_choice("7", options) is None
    assert parse_choice("none of them", options) is None
    assert parse_choice("1.5 stars", options) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("Yes", True), ("yes, definitely", True), ("No.", False), ("Probably not", False), ("Maybe", None), ("", None)],
)
def test_parse_yes_no(text: str, value: bool | None) -> None:
    assert parse_yes_no(text) is value


def test_softmax_edge_cases() -> None:
    assert np.allclose(softmax(np.array([0.0, 0.0])), [0.5, 0.5])
    assert np.allclose(softmax(np.array([0.0, -np.inf])), [1.0, 0.0])
    assert np.allclose(softmax(np.array([-np.inf, -np.inf])), [0.5, 0.5])
    assert np.isnan(softmax(np.array([np.nan, 0.0]))).all()
    assert np.isclose(softmax(np.array([-1000.0, -1001.0]))[0], 1 / (1 + np.exp(-1)))


# --- cache and usage --------------------------------------------------------------------------
def test_cache_hits_on_rerun_and_keys_separate_what_changes_the_answer(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    backend = ScriptedBackend(answer=lambda p: p.upper(), cache=cache)
    first = backend.generate_records(["a b", "c"], max_new_tokens=8)
    again = backend.generate_records(["a b", "c"], max_new_tokens=8, seed=5)  # greedy: the seed is irrelevant
    assert [g.text for g in again] == [g.text for g in first] == ["A B", "C"]
    assert backend.generated == 2 and all(g.cache_hit for g in again)
    backend.generate_records(["a b"], max_new_tokens=9)  # a different parameter is a different answer
    backend.generate_records(["a b"], max_new_tokens=8, temperature=0.7, seed=1)
    backend.generate_records(["a b"], max_new_tokens=8, temperature=0.7, seed=2)
    assert backend.generated == 5
    usage = backend.usage.snapshot()
    assert usage["calls"] == 7 and usage["cache_hits"] == 2
    assert usage["tokens_out"] == 5 * 3  # cached calls cost nothing
    # Scores survive the JSON round trip, -inf included.
    scorer = ScriptedBackend(scores=lambda p, o: [0.0, -np.inf], cache=cache)
    assert np.array_equal(scorer.score("q", ["x", "y"]), [0.0, -np.inf])
    assert np.array_equal(scorer.score("q", ["x", "y"]), [0.0, -np.inf])
    assert scorer.scored == 1 and scorer.usage.cache_hits == 1
    # A second process-level cache object on the same file sees the stored answers.
    assert len(ResponseCache(tmp_path / "c.sqlite")) == 5 + 1  # five generations, one scoring


def test_failed_calls_are_not_cached(tmp_path: Path) -> None:
    class Flaky(ScriptedBackend):
        def _generate(self, prompts: list[str], max_new_tokens: int, temperature: float, seed: int) -> list[Generation]:
            self.generated += len(prompts)
            return [Generation("", error="HTTP 500 after 4 attempts") for _ in prompts]

    backend = Flaky(cache=ResponseCache(tmp_path / "c.sqlite"))
    assert backend.generate(["x"]) == [""]
    backend.generate(["x"])
    assert backend.generated == 2 and backend.usage.failures == 2 and backend.usage.cache_hits == 0


def test_create_backend_rejects_unknown_kind_and_local_url() -> None:
    with pytest.raises(RecaugInputError, match="unknown LLM backend"):
        create_backend("gpt-in-a-box")
    with pytest.raises(RecaugInputError, match="no base URL"):
        create_backend("local", base_url="http://127.0.0.1:1/v1")
    with pytest.raises(RecaugInputError, match="not a local Hugging Face model folder"):
        create_backend("local", model="/nonexistent/model")


def test_llm_params_go_only_to_augmenters_that_have_them() -> None:
    params = llm_augmenter_params(
        ["random", "llm-interactions", "llm-item-text"],
        backend="openai",
        base_url="http://127.0.0.1:8000/v1",
        model=None,
        max_users=7,
        max_items=3,
    )
    assert set(params) == {"llm-interactions", "llm-item-text"}
    assert params["llm-interactions"] == {"backend": "openai", "base_url": "http://127.0.0.1:8000/v1", "max_users": 7}
    assert params["llm-item-text"] == {"backend": "openai", "base_url": "http://127.0.0.1:8000/v1", "max_items": 3}


# --- log reconciliation -------------------------------------------------------------------------
def test_finalise_log_marks_prompts_whose_rows_were_all_dropped() -> None:
    records = [
        {"prompt_id": "p1", "user_id": "u1", "accepted": True, "reason": "accepted", "tokens_in": 5},
        {"prompt_id": "p2", "user_id": "u2", "accepted": True, "reason": "accepted", "tokens_in": 5},
        {"prompt_id": "p3", "user_id": "u3", "accepted": False, "reason": "unmapped: nothing", "tokens_in": 5},
    ]
    rows = pd.DataFrame({"user_id": ["u1", "u1"], "item_id": ["i1", "i2"], "prompt_id": ["p1", "p1"]})
    log = finalise_log(records, rows)
    assert log["accepted"].tolist() == [True, False, False]
    assert log.loc[1, "reason"].startswith("dropped")
    assert log.loc[0, "output_item_ids"] == ["i1", "i2"] and log.loc[0, "output_user_ids"] == ["u1", "u1"]
    summary = log_summary(log)
    assert summary["prompts"] == 3 and summary["prompts_accepted"] == 1
    assert summary["rejection_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert summary["rejection_reasons"] == {
        "dropped after cleaning (over budget, duplicate or already in training)": 1,
        "unmapped": 1,
    }


# --- augmenter decisions with a scripted backend ------------------------------------------------------
def _light_users(train: TrainingData, n: int) -> list[str]:
    degree = train.user_degree()
    return [str(u) for u in train.user_ids.to_numpy()[np.argsort(degree, kind="stable")[:n]]]


def test_text_mode_maps_numbers_titles_and_counts_unmapped_and_repeats(ml100k_train: TrainingData) -> None:
    users = _light_users(ml100k_train, 4)
    answers = iter(["garbage that names nothing", "REPEAT", "CANDIDATE", "CANDIDATE"])

    def answer(prompt: str) -> str:
        kind = next(answers)
        history = prompt.split("Candidate")[0].splitlines()[1:]
        candidates = prompt.split("Candidate")[1].splitlines()[1:-1]
        if kind == "REPEAT":
            return f"I recommend {history[0][2:]}."
        if kind == "CANDIDATE":
            return candidates[1][2:].lower() + "!"
        return kind

    backend = ScriptedBackend(answer=answer)
    augmenter = create_augmenter(
        "llm-interactions", backend=backend, choice="text", target=users, shuffle_candidates=False
    ).fit(ml100k_train)
    result = augmenter.augment(100)
    log = result.log
    reasons = log_summary(log)["rejection_reasons"]
    assert reasons == {"unmapped": 1, "repeats history": 1}
    assert len(result.rows) == 2 and result.info["rejection_rate"] == 0.5
    for _, row in log[log["accepted"]].iterrows():
        assert row["parsed_choice"] == row["candidate_item_ids"][1]
        assert row["output_item_ids"] == [row["parsed_choice"]]
    assert backend.generated == 4


def _title_preferring_backend(liked: str, disliked: str) -> ScriptedBackend:
    """Scores by title, whatever the order: ``liked`` best, ``disliked`` worst, the rest in between."""

    def scores(prompt: str, options: list[str]) -> list[float]:
        return [-0.1 if o == liked else -9.0 if o == disliked else -3.0 - 0.01 * len(o) for o in options]

    return ScriptedBackend(scores=scores)


def test_logprob_mode_picks_the_liked_candidate_under_every_order_and_emits_negatives(
    ml100k_train: TrainingData,
) -> None:
    users = _light_users(ml100k_train, 1)
    probe = create_augmenter("llm-interactions", backend=ScriptedBackend(), target=users, n_candidates=5)
    probe.fit(ml100k_train)
    cands = probe.candidates(ml100k_train.user_ids.get_indexer(users), resolve_target(ml100k_train, users))[0]
    titles = [str(probe.titles_[c]) for c in cands]
    backend = _title_preferring_backend(titles[3], titles[1])
    augmenter = create_augmenter(
        "llm-interactions",
        backend=backend,
        target=users,
        n_candidates=5,
        picks_per_user=1,
        choice="logprob",
        negatives=True,
    )
    result = augmenter.fit(ml100k_train).augment(100)
    positives = result.rows[result.rows["polarity"] == 1]
    negatives = result.rows[result.rows["polarity"] == -1]
    assert positives["item_id"].tolist() == augmenter.item_ids([cands[3]])
    assert negatives["item_id"].tolist() == augmenter.item_ids([cands[1]])
    assert result.info["calls"] == 3 and result.info["orders_per_prompt"] == 3  # three candidate orders
    assert result.info["flip_rate"] == 0.0 and result.info["picks_rejected_unstable"] == 0
    assert result.info["kept"] == 1 and result.info["negatives"] == 1
    averaged = np.array([-0.1 if t == titles[3] else -9.0 if t == titles[1] else -3.0 - 0.01 * len(t) for t in titles])
    expected = np.exp(averaged[3]) / np.exp(averaged).sum()
    assert positives["confidence"].iloc[0] == pytest.approx(expected, rel=1e-6)
    assert not result.info["budget_reached"] and "budget not reached: 1 of 100" in result.info["budget_note"]


@pytest.mark.parametrize(("normalise", "expected"), [("none", 0), ("length", 1), ("pmi", 2)])
def test_continuation_scores_are_normalised_before_the_choice(
    ml100k_train: TrainingData, normalise: str, expected: int
) -> None:
    """Raw: the title likely whatever the history (0) wins; per token: the long title (1, -4 over 8 tokens); PMI:
    the title the history makes more likely than a content-free prompt does (2: -3 against -9)."""
    users = _light_users(ml100k_train, 1)
    probe = create_augmenter("llm-interactions", backend=ScriptedBackend(), target=users, n_candidates=4)
    probe.fit(ml100k_train)
    cands = probe.candidates(ml100k_train.user_ids.get_indexer(users), resolve_target(ml100k_train, users))[0]
    titles = [str(probe.titles_[c]) for c in cands]
    user_scores = {titles[0]: -1.0, titles[1]: -4.0, titles[2]: -3.0, titles[3]: -6.0}
    neutral_scores = {titles[0]: -0.5, titles[1]: -4.5, titles[2]: -9.0, titles[3]: -6.5}

    def scores(prompt: str, options: list[str]) -> list[float]:
        table = neutral_scores if "- N/A" in prompt else user_scores
        return [table[o] for o in options]

    class Tokens(ScriptedBackend):
        def count_tokens(self, texts: list[str]) -> np.ndarray:
            return np.array([8 if t == titles[1] else 1 for t in texts])

    augmenter = create_augmenter(
        "llm-interactions",
        backend=Tokens(scores=scores),
        target=users,
        n_candidates=4,
        picks_per_user=1,
        choice="continuation",
        normalise=normalise,
    )
    result = augmenter.fit(ml100k_train).augment(10)
    positives = result.rows
    assert "polarity" not in positives.columns  # negatives are off by default: every row is a positive
    assert positives["item_id"].tolist() == augmenter.item_ids([cands[expected]])
    assert result.info["calls"] == 1 + (normalise == "pmi")  # one user call, one calibration call for 4 titles


def test_a_purely_positional_model_gets_no_picks_and_its_bias_is_counted(ml100k_train: TrainingData) -> None:
    """A backend that always prefers the first-listed candidate: one order accepts it every time (the old
    behaviour), several orders see the pick move with the order and reject it."""
    users = _light_users(ml100k_train, 3)
    backend = ScriptedBackend(scores=lambda prompt, options: [-0.1] + [-3.0] * (len(options) - 1))
    listed = {"choice": "logprob", "n_candidates": 5, "picks_per_user": 1}
    single = create_augmenter("llm-interactions", backend=backend, target=users, n_orders=1, **listed)
    old = single.fit(ml100k_train).augment(100)
    assert old.info["kept"] == 3 and old.info["first_position_pick_rate"] == 1.0
    debiased = create_augmenter("llm-interactions", backend=backend, target=users, **listed)
    new = debiased.fit(ml100k_train).augment(100)
    assert new.info["kept"] == 0 and new.info["flip_rate"] == 1.0 and new.info["picks_rejected_unstable"] == 3
    assert new.info["first_position_pick_rate"] == 1.0  # every order's own pick was its first-listed candidate
    assert set(new.log["reason"]) == {"unstable: the pick changes with the candidate order"}


def test_all_equal_scores_never_make_a_pick(ml100k_train: TrainingData) -> None:
    users = _light_users(ml100k_train, 2)
    backend = ScriptedBackend(scores=lambda prompt, options: [0.0] * len(options))  # a server that ignores echo
    result = create_augmenter("llm-interactions", backend=backend, target=users).fit(ml100k_train).augment(10)
    assert len(result.rows) == 0
    assert set(result.log["reason"]) == {"no signal: every candidate scored the same"}


def test_backend_errors_are_rejected_rows_not_crashes(ml100k_train: TrainingData) -> None:
    class Broken(ScriptedBackend):
        def _score(self, prompts: list[str], options_list: list[list[str]]) -> list[Scores]:
            return [Scores(np.full(len(o), np.nan), error="timeout after 4 attempts") for o in options_list]

    augmenter = create_augmenter(
        "llm-cold-items", backend=Broken(), mode="judge", max_items=2, users_per_item=2, target="cold-items"
    ).fit(ml100k_train)
    result = augmenter.augment(10)
    assert len(result.rows) == 0
    assert len(result.log) == 4 and not result.log["accepted"].any()
    assert result.info["rejection_reasons"] == {"backend error": 4}
    assert result.info["failures"] == 4 + 2  # 4 pairs and the 2 items' calibration questions
