"""Variant names: an augmenter at the experiment's budget (``similarity``) or at its own (``similarity@5%``).

A budget sweep is a list of variants of one method at several budgets, compared against one shared baseline in a
single experiment, so every budget is judged on the same splits, seeds and baseline models.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from recaug.core.errors import RecaugInputError

SEPARATOR = "@"
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")


def budget_label(budget: float | int) -> str:
    """``0.05`` → ``5%``, ``2000`` → ``2000``: how a budget appears in a variant name."""
    if isinstance(budget, float):
        return f"{budget * 100:g}%"
    return str(int(budget))


def budget_words(budget: float | int) -> str:
    """``0.1`` → ``10% of training``, ``150`` → ``150 rows``: a budget in a sentence (a share is a float, a count an
    int, as the config keeps them)."""
    if isinstance(budget, float):
        return f"{budget:.0%} of training"
    return f"{int(budget):,} rows"


def parse_budget(text: str) -> float | int:
    """``5%`` or ``0.05`` → 0.05 (a share of the training interactions); ``2000`` → 2000 rows."""
    value = text.strip()
    percent = _PERCENT.match(value)
    try:
        if percent:
            return float(percent.group(1)) / 100
        if re.fullmatch(r"\d+", value):
            return int(value)
        return float(value)
    except ValueError:
        raise RecaugInputError(
            f"cannot read the budget '{text}'", fix="write a share (5% or 0.05) or a number of rows (2000)"
        ) from None


def variant_name(method: str, budget: float | int | None = None) -> str:
    """``similarity`` or ``similarity@5%``."""
    return method if budget is None else f"{method}{SEPARATOR}{budget_label(budget)}"


@dataclass(frozen=True)
class Variant:
    """One augmented arm: a method at the experiment's budget (``budget`` None) or at its own budget.

    The experiment config stores variants by :attr:`name` (``similarity@5%``) so config.json stays plain text;
    everything that needs the parts parses the name here, once.
    """

    method: str
    budget: float | int | None = None

    @classmethod
    def parse(cls, name: str) -> Variant:
        """``similarity@5%`` → Variant("similarity", 0.05); ``similarity`` → Variant("similarity")."""
        method, separator, budget = name.partition(SEPARATOR)
        return cls(method, parse_budget(budget) if separator else None)

    @property
    def name(self) -> str:
        return variant_name(self.method, self.budget)


def split_variant(name: str) -> tuple[str, float | int | None]:
    """``similarity@5%`` → (``similarity``, 0.05); ``similarity`` → (``similarity``, None)."""
    variant = Variant.parse(name)
    return variant.method, variant.budget


def sweep(methods: list[str], budgets: list[float | int]) -> list[str]:
    """Every method at every budget, budgets in the order given (as variant names)."""
    return [Variant(method, budget).name for method in methods for budget in budgets]


def variant_order(name: str) -> tuple[str, int, float]:
    """Sort key: method, then budget (share budgets before row counts), so ``x@2%`` comes before ``x@10%``."""
    method, budget = split_variant(name)
    if budget is None:
        return (method, -1, 0.0)
    return (method, 0 if isinstance(budget, float) else 1, float(budget))


def ordered_variants(names: Iterable[str]) -> list[str]:
    """Distinct variant names in display order (see ``variant_order``)."""
    return sorted(dict.fromkeys(names), key=variant_order)
