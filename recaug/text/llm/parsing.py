"""Turning an LLM's free text back into catalog items, option numbers and yes/no answers.

Small models repeat prompt items, add chatter and misspell titles, so every parser here either returns a match it
can justify (exact, contained or close title; a number in range) or ``None``, which callers count as unmapped.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_YEAR = re.compile(r"\s*\((?:\d{4}|\d{4}\s*-\s*\d{0,4})\)\s*$")
_TRAILING_ARTICLE = re.compile(
    r"^(?P<body>.*?),\s*(?P<article>the|a|an|le|la|les|il|el|der|die|das)\s*$", re.IGNORECASE
)
_NON_WORD = re.compile(r"[^0-9a-z]+")
_NUMBER = re.compile(r"(?<![\d.])(\d{1,3})(?!\d|\.\d)")  # "3", "3." and "(3)", not "1.5" or "2024"
_YES = re.compile(r"^\W*(yes|yeah|yep|sure|definitely|likely|probably yes)\b", re.IGNORECASE)
_NO = re.compile(r"^\W*(no|nope|not|unlikely|probably not)\b", re.IGNORECASE)


def display_title(title: str) -> str:
    """A title as a person writes it: 'Usual Suspects, The (1995)' -> 'The Usual Suspects'.

    The year is dropped because a digit costs one token each in most tokenizers; prompts stay short.
    """
    text = _YEAR.sub("", str(title)).strip()
    match = _TRAILING_ARTICLE.match(text)
    if match:
        article = match.group("article")
        text = f"{article[0].upper()}{article[1:]} {match.group('body')}"
    return text or str(title).strip()


def normalise_title(title: str) -> str:
    """Lower-case words only, for matching: 'The Usual Suspects (1995)' -> 'the usual suspects'."""
    return _NON_WORD.sub(" ", display_title(title).lower()).strip()


def clean_answer(text: str) -> str:
    """The first line of an answer without list markers, quotes and a trailing full stop."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    first = lines[0] if lines else ""
    first = re.sub(r"^(answer|recommendation|title)\s*:\s*", "", first, flags=re.IGNORECASE)
    first = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", first)
    first = first.strip().rstrip(".!?").strip()
    return first.strip("\"'“”‘’*").strip()


@dataclass(frozen=True)
class TitleMatch:
    """Index into the matcher's titles and how sure the match is (1.0 exact, else the fuzzy ratio)."""

    index: int
    score: float


class TitleMatcher:
    """Maps free text to one of a fixed list of titles: exact, then contained, then fuzzy (difflib) match."""

    def __init__(self, titles: Iterable[str], *, cutoff: float = 0.85) -> None:
        self.titles = [str(t) for t in titles]
        self.keys = [normalise_title(t) for t in self.titles]
        self.cutoff = cutoff
        self._exact: dict[str, int] = {}
        for i, key in enumerate(self.keys):
            self._exact.setdefault(key, i)

    def match(self, text: str, allowed: Sequence[int] | None = None) -> TitleMatch | None:
        """The best title for ``text`` among ``allowed`` indices (all when None), or None."""
        answer = normalise_title(clean_answer(text))
        if not answer:
            return None
        pool = range(len(self.titles)) if allowed is None else [int(i) for i in allowed]
        exact = self._exact.get(answer)
        if exact is not None and (allowed is None or exact in set(pool)):
            return TitleMatch(exact, 1.0)
        padded = f" {answer} "
        contained = [i for i in pool if self.keys[i] and f" {self.keys[i]} " in padded]
        if contained:  # the longest title named inside the answer ("I'd pick The Usual Suspects because ...")
            best = max(contained, key=lambda i: len(self.keys[i]))
            return TitleMatch(best, 0.95)
        best_i, best_ratio = -1, 0.0
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(answer)
        for i in pool:
            matcher.set_seq1(self.keys[i])
            if matcher.real_quick_ratio() < self.cutoff or matcher.quick_ratio() < self.cutoff:
                continue
            ratio = matcher.ratio()
            if ratio > best_ratio:
                best_i, best_ratio = i, ratio
        return TitleMatch(best_i, round(best_ratio, 4)) if best_ratio >= self.cutoff else None


def parse_choice(text: str, options: Sequence[str]) -> int | None:
    """Index of the option an answer picks: a number in 1..n first, else a title match, else None."""
    for match in _NUMBER.finditer(str(text)):
        number = int(match.group(1))
        if 1 <= number <= len(options):
            return number - 1
    found = TitleMatcher(options).match(text)
    return None if found is None else found.index


def parse_yes_no(text: str) -> bool | None:
    """True for a yes-like answer, False for a no-like one, None when the answer is neither."""
    answer = clean_answer(text)
    if _NO.match(answer):
        return False
    if _YES.match(answer):
        return True
    return None
