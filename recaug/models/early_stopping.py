"""Early stopping on a validation score, shared by the iterative models.

Only validation numbers ever reach it, so the chosen epoch cannot depend on the test split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class EarlyStopping:
    """Track the best validation score, snapshot the state that produced it, stop after ``patience`` misses."""

    patience: int
    best_score: float = -1.0
    best_epoch: int = 0
    best_state: Any = None
    bad_rounds: int = 0
    history: list[tuple[int, float]] = field(default_factory=list)

    def step(self, epoch: int, score: float, snapshot: Callable[[], Any]) -> bool:
        """Record ``score`` for ``epoch``; ``snapshot()`` is called only on improvement. True means stop."""
        self.history.append((epoch, score))
        if score > self.best_score:
            self.best_score, self.best_epoch, self.bad_rounds = score, epoch, 0
            self.best_state = snapshot()
            return False
        self.bad_rounds += 1
        return self.bad_rounds >= self.patience
