"""How many HTTP requests a server backend may send: a retry allowance tied to ``max_calls`` and a circuit breaker.

Without them one failing server turns a small job into thousands of requests (issue 19 measured 1,210 requests in
405 s for ``max_calls=20``: every call retried four times, then re-sent one option at a time). The rule here:

* every call sends the requests it needs (one per call; one per option on a server that scores one text per
  request), and **retries come from one allowance of ``max_calls`` retries in all**, so a run sends at most
  ``2 × max_calls`` requests on one-request-per-call modes, plus the set-up (model list and scoring probe);
* after ``open_after`` (10) server failures in a row the **circuit opens**: requests fail at once without being sent,
  except one trial every ``cooldown`` seconds; a success closes it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RequestGuard:
    """Admits or refuses each HTTP attempt; thread-safe (requests run concurrently)."""

    def __init__(
        self,
        max_calls: int = 0,
        *,
        open_after: int = 10,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.retry_allowance = int(max_calls) if max_calls and max_calls > 0 else None
        self.open_after = max(1, int(open_after))
        self.cooldown = float(cooldown)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures_in_a_row = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False
        self.retries_used = 0
        self.refused = 0

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None

    def admit(self, *, retry: bool) -> str | None:
        """None when this attempt may be sent; otherwise why not (the caller fails the call with that reason)."""
        with self._lock:
            if self._opened_at is not None:
                waited = self._clock() - self._opened_at
                if waited < self.cooldown or self._trial_in_flight:
                    self.refused += 1
                    return (
                        f"circuit open: the server failed {self.open_after} requests in a row "
                        f"(next trial in {max(self.cooldown - waited, 0):.0f} s)"
                    )
                self._trial_in_flight = True  # half-open: exactly one trial request goes
            if retry:
                if self.retry_allowance is not None and self.retries_used >= self.retry_allowance:
                    self.refused += 1
                    return f"retry allowance spent ({self.retry_allowance} retries in all, one per allowed call)"
                self.retries_used += 1
            return None

    def record(self, *, server_failed: bool) -> None:
        """The outcome of a sent attempt: a server failure (5xx, timeout, broken connection or answer) or not."""
        with self._lock:
            self._trial_in_flight = False
            if not server_failed:
                self._failures_in_a_row = 0
                self._opened_at = None
                return
            self._failures_in_a_row += 1
            if self._failures_in_a_row >= self.open_after:
                self._opened_at = self._clock()  # (re)open: a failed trial restarts the cooldown
