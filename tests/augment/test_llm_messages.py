"""The sentences an LLM run's shortfall is explained with: true numbers, and each surface names its own override.

Pure text units over the info dicts an LLM augmenter stores (the numbers are those of a real run on an uploaded
3,263-row budget: 41 users prompted under a cap of 60, 45 calls of which 4 calibration, a 123-call skill check).
"""

from __future__ import annotations

from typing import Any

from recaug.augment.llm.llm_common import budget_note, llm_warnings

FAILED_CHECK: dict[str, Any] = {
    "augmenter": "llm-interactions",
    "budget": 3263,
    "kept": 0,
    "calls": 0,
    "max_calls": 60,
    "llm_skill_passed": False,
    "llm_insisted": False,
    "skill_calls": 123,
    "skill_seconds": 45.2,
}
INSISTED = {
    **FAILED_CHECK,
    "kept": 205,
    "calls": 45,
    "calibration_calls": 4,
    "users_targeted": 100,
    "users_prompted": 41,
    "calls_capped": True,
    "llm_insisted": True,
}


def test_a_failed_check_says_what_the_check_itself_spent() -> None:
    note = budget_note(FAILED_CHECK)["budget_note"]
    assert "123 LLM calls in 45.2 s" in note
    assert "no LLM call was spent on augmentation" in note and "no LLM call was spent (" not in note
    reused = budget_note({**FAILED_CHECK, "skill_cached": True})["budget_note"]
    assert "reused from the check measured earlier, no new LLM calls" in reused and "123" not in reused


def test_each_caller_names_its_own_override() -> None:
    page = 'tick "Spend anyway, even if it fails" to spend anyway'
    [line] = llm_warnings([{**FAILED_CHECK, **budget_note(FAILED_CHECK)}], page)
    assert line.endswith(page) and "insist to run it" not in line
    [cli] = llm_warnings([{**FAILED_CHECK, **budget_note(FAILED_CHECK)}], "pass --llm-insist to spend anyway")
    assert cli.endswith("pass --llm-insist to spend anyway")
    assert budget_note(FAILED_CHECK)["budget_note"].endswith("set insist=True to spend anyway")  # the API's


def test_the_cap_sentence_gives_the_numbers_that_are_true() -> None:
    """Cap 60, 45 calls: the cap did not stop it after 45 calls; it planned 41 users with room for calibration."""
    note = budget_note(INSISTED)["budget_note"]
    assert "stopped it after" not in note
    assert "the LLM-call cap (60) left room to prompt only 41 of 100 targeted users" in note
    assert "45 calls made, 4 of them calibration" in note
    assert "the skill check's 123 calls are not counted against the cap" in note


def test_a_check_answered_from_the_response_cache_says_so() -> None:
    """A 123-call check that took 0.0 s reads as a bug unless the sentence says the answers were cached."""
    note = budget_note({**FAILED_CHECK, "skill_seconds": 0.01, "skill_cache_hits": 123})["budget_note"]
    assert "123 LLM calls in 0.0 s, all from the response cache" in note
