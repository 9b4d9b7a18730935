"""The skill check: before an LLM augmenter spends its budget, does the LLM know this data better than chance?

On the *training* split only (never validation or test): ``n_users`` seeded users each lose one training item
(their latest by time; a seeded random one without timestamps); that held-out item is put among ``n_candidates``
- 1 seeded random items the user has not seen and the training split may show. Each scorer ranks the candidates
from what is left of the training split:

* the configured LLM, scoring exactly as ``llm-interactions`` does (candidate-free continuation + PMI by default);
* the sentence encoder: cosine of a candidate's text to the mean of the user's history texts (free); when the
  augmenter uses another encoder (``encoder="tuned"``: MiniLM + a map trained on the interactions), a second row
  with that encoder -- tuned on the check's reduced split, so it never saw the held-out items -- and the verdict
  compares the LLM with the encoder the run uses;
* popularity (training counts) and chance (1 / ``n_candidates``).

A scorer's hit rate is how often its top candidate is the held-out item (ties share the hit), with a bootstrap
interval over users. The verdict (``min_skill``): ``"chance"`` needs the LLM's interval above chance; ``"encoder"``
(the CLI's and the Augment page's default) also needs its hit rate at least the free encoder's; a number needs at
least that hit rate (and above chance); ``"off"`` runs no check. An LLM that fails is not used: the augmenter's
call cap becomes 0 (``llm-init`` keeps its encoder vectors), unless ``insist`` is set. The check's own calls are
counted in the augmenter's info (``skill_calls``, ``skill_seconds``, ``skill_tokens_in``) and in ``cost.csv``.
Users whose calls failed (timeout, HTTP error) count as misses and are reported by cause (``failed``,
``skill_failures``); when more than half failed the check gives no verdict (:data:`MAX_FAILED_SHARE`), because an
unanswered check says nothing about the LLM. The check does not follow the run's seed (:data:`SKILL_SEED`): on one
training split it is measured once and reused by later seeds and the other ``llm-*`` methods, in this process and
in every other recaug process on the machine (:class:`SkillStore`: a Ray worker, the next CLI run, the dashboard
after a restart). A seed whose training split differs (a random split) measures its own: see :func:`_split_digest`.

Measured on ML-100k (issue 20): the packaged SmolLM2-135M picks the held-out item about as often as chance
(0.097 of 257 light users, chance 0.10), the encoder 0.35, popularity 0.49.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import os
import pickle
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from recaug.core.errors import RecaugInputError
from recaug.core.paths import cache_dir
from recaug.core.progress import ProgressFn, no_progress, sub_progress
from recaug.data.dataset import TrainingData
from recaug.data.schema import TIMESTAMP
from recaug.text.encoder import DEFAULT_ENCODER, encode_texts
from recaug.text.finetune import PACKAGED, TUNED, encoder_for
from recaug.text.llm.base import failure_summary
from recaug.text.llm.lora import TUNED_LLM
from recaug.text.tuning_cost import TUNING

try:  # a lock between processes measuring the same check (POSIX); elsewhere each process may measure it
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from recaug.augment.llm.llm_common import LLMAugmenter

log = logging.getLogger(__name__)

SKILL_COLUMNS = ["scorer", "hit_rate", "ci_low", "ci_high", "chance", "n_users", "failed"]
SKILL_RULES = ("off", "chance", "encoder")
LLM, ENCODER, POPULARITY, CHANCE = "llm", "encoder", "popularity", "chance"
TUNED_ENCODER, OWN_ENCODER = "tuned encoder", "run's encoder"  # the rows of an augmenter's non-default encoder
BOOTSTRAP_DRAWS = 2000
SKILL_CANDIDATES = 10
SKILL_FILE = "llm_skill.csv"
# The check's task and bootstrap do not follow the run's seed: on the same training split with the same model the
# check is the same question, so later seeds and the other llm-* methods reuse it instead of paying for it again.
SKILL_SEED = 0
# More failed users than this share leaves no verdict: their misses would say "no skill" about an unanswered check.
MAX_FAILED_SHARE = 0.5
STORE_KIND = "skill"  # measured checks on disk: $RECAUG_HOME/skill
MAX_STORED = 256  # checks kept on disk (the oldest go first); each is a few kB
WAIT_POLL_S = 0.5  # how often a process waiting for another's measurement of the same check looks again


def parse_min_skill(value: str | float) -> str | float:
    """``"off"``, ``"chance"``, ``"encoder"`` or a hit rate in (0, 1); anything else is a clear input error."""
    text = str(value).strip().lower()
    if text in SKILL_RULES:
        return text
    try:
        number = float(text)
    except ValueError:
        number = -1.0
    if not 0.0 < number < 1.0:
        raise RecaugInputError(
            f"min_skill {value!r} is not a skill rule",
            fix="use off, chance, encoder or a hit rate between 0 and 1 (e.g. 0.2)",
        )
    return number


@dataclass(frozen=True)
class HeldOut:
    """The check's task: per user, the training split minus one item, and candidates with that item among them."""

    train: TrainingData  # the training split without the held-out items
    users: np.ndarray
    held: np.ndarray  # the held-out item per user
    candidates: np.ndarray  # (n_users, n_candidates) item indices, the held-out item at a seeded position

    @property
    def chance(self) -> float:
        return 1.0 / self.candidates.shape[1]


def held_out_task(
    train: TrainingData,
    users: np.ndarray,
    *,
    n_users: int = 100,
    n_candidates: int = 10,
    seed: int = 0,
    hard: bool = False,
) -> HeldOut:
    """Hold out one training item for up to ``n_users`` seeded users among ``users`` (falling back to all users
    when fewer than 20 of them have two or more training items), with ``n_candidates`` candidates each: random
    unseen items, or (``hard``) item-kNN's top unseen items on what is left of the training split, the near misses
    a base recommender would offer (``llm-interactions``' own candidates)."""
    rng = np.random.default_rng(seed)
    degree = train.user_degree()
    pool = users[degree[users] >= 2]
    if len(pool) < min(20, n_users):
        pool = np.flatnonzero(degree >= 2)
    visible = np.flatnonzero(train.item_visible())
    if len(pool) == 0 or len(visible) < n_candidates + 1:
        raise RecaugInputError(
            "the skill check needs users with two or more training items and more items than candidates",
            fix="use a larger data set, fewer skill candidates, or min_skill=off",
        )
    chosen = np.sort(rng.choice(pool, size=min(n_users, len(pool)), replace=False))
    rows = train.interactions
    by_user = rows[rows["user_idx"].isin(chosen)]
    if TIMESTAMP in rows.columns:  # the latest by time (ties: the last in file order)
        latest = by_user.sort_values(["user_idx", TIMESTAMP], kind="stable").groupby("user_idx").tail(1)
        held_rows = latest.set_index("user_idx").loc[chosen]
        drop = latest.index
    else:
        picks = by_user.groupby("user_idx", sort=True).sample(n=1, random_state=seed)
        held_rows = picks.set_index("user_idx").loc[chosen]
        drop = picks.index
    held = held_rows["item_idx"].to_numpy(dtype=np.int64)
    reduced = rows.drop(index=drop)
    matrix = train.matrix.copy().tolil()
    matrix[chosen, held] = 0
    matrix = matrix.tocsr()
    matrix.eliminate_zeros()
    kept = TrainingData(
        interactions=reduced.reset_index(drop=True),
        items=train.items,
        user_ids=train.user_ids,
        item_ids=train.item_ids,
        matrix=matrix,
        visible_items=train.item_visible(),
    )
    ranked = _knn_ranking(kept, chosen) if hard else None
    candidates = np.empty((len(chosen), n_candidates), dtype=np.int64)
    for k, user in enumerate(chosen):
        unseen = visible[~np.isin(visible, train.history(int(user)))]
        if ranked is None:
            others = rng.choice(unseen, size=n_candidates - 1, replace=False)
        else:
            order = ranked[k][np.isin(ranked[k], unseen) & (ranked[k] != held[k])]
            others = order[: n_candidates - 1]
        candidates[k] = rng.permutation(np.append(others, held[k]))
    return HeldOut(kept, chosen, held, candidates)


def _knn_ranking(train: TrainingData, users: np.ndarray) -> np.ndarray:
    """Each user's items ranked by item-kNN fitted on ``train`` (best first)."""
    from recaug.augment.graph.train_model import fit_train_model

    scores = np.asarray(fit_train_model(train, model="itemknn").score(users), dtype=np.float64)
    return np.argsort(-scores, axis=1, kind="stable")


def encoder_scores(task: HeldOut, encoder: str = DEFAULT_ENCODER) -> np.ndarray:
    """Cosine of each candidate's text embedding to the mean embedding of the user's remaining history."""
    from recaug.augment.text.similarity import history_profiles

    vectors = encode_texts(task.train.items["text"].astype(str).tolist(), model=encoder)
    profiles = history_profiles(task.train.matrix[task.users], vectors)
    return np.einsum("ud,ucd->uc", profiles, vectors[task.candidates])


def popularity_scores(task: HeldOut) -> np.ndarray:
    return task.train.item_popularity()[task.candidates].astype(np.float64)


def hits(scores: np.ndarray, task: HeldOut) -> np.ndarray:
    """Per user: 1 / (candidates tied at the top) when the held-out item is among them, else 0. A row with a
    missing score (a failed call) is a miss: filled with -inf, all its candidates tied at the top and a failed
    call scored as a chance-level answer (walk 12)."""
    failed = np.isnan(scores).any(axis=1)
    clean = np.where(np.isnan(scores), -np.inf, scores)
    top = clean == clean.max(axis=1, keepdims=True)
    is_held = task.candidates == task.held[:, None]
    out = (top & is_held).sum(axis=1) / top.sum(axis=1)
    out[failed] = 0.0
    return out


def failure_advice(causes: str) -> str:
    """What to do about failed calls of the given causes (see :func:`recaug.text.llm.base.failure_summary`)."""
    steps = []
    if "timeout" in causes:
        steps.append("raise the request timeout (--llm-timeout; the page's Request timeout)")
    if "timeout" in causes or "HTTP 429" in causes:
        steps.append(
            "lower the concurrency so the server is not overloaded (--llm-concurrency; the page's Concurrent requests)"
        )
    steps.append("check that the server is up and healthy (its log), then check again")
    return "; ".join(steps)


def bootstrap_interval(values: np.ndarray, seed: int, draws: int = BOOTSTRAP_DRAWS) -> tuple[float, float]:
    """95% percentile interval of the mean, resampling users."""
    if len(values) == 0:
        return float("nan"), float("nan")
    index = np.random.default_rng(seed).integers(0, len(values), size=(draws, len(values)))
    means = values[index].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


@dataclass
class SkillReport:
    """The check's outcome: one row per scorer (``SKILL_COLUMNS`` + cost), the verdict and a plain sentence."""

    table: pd.DataFrame
    passed: bool
    verdict: str
    llm_label: str
    calls: int = 0
    seconds: float = 0.0
    per_user: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    # Cost records (recaug.text.tuning_cost) of encoders the check tuned on its reduced split: part of its price.
    tuning: list[dict[str, Any]] = field(default_factory=list)
    # Reused from an earlier check in this process (the page's "Check skill now"): the run made none of its calls.
    cached: bool = False
    cache_hits: int = 0  # of ``calls``, answered from the response cache (why a 123-call check can take 0.0 s)
    failed: int = 0  # users whose LLM calls failed (counted as misses)
    failures: str = ""  # their causes ("timeout", "HTTP 500 for 30, timeout for 11")
    tokens_in: int = 0
    tokens_out: int = 0
    scoring: str = ""  # how the backend scored the options (a server's probed mode), for the reader

    @property
    def measured(self) -> bool:
        """False when most users' calls failed: the check then gives no verdict on the LLM's skill."""
        return failed_share(self.table) <= MAX_FAILED_SHARE

    def row(self, scorer: str) -> pd.Series:
        return self.table.set_index("scorer").loc[scorer]

    def lines(self) -> list[str]:
        """The table as text lines plus the verdict, for the CLI."""
        cached = f", {self.cache_hits} from the response cache" if self.cache_hits else ""
        failed = f", {self.failed} users' calls failed ({self.failures})" if self.failed else ""
        scoring = f", scored by {self.scoring}" if self.scoring else ""
        out = [
            f"LLM skill check ({self.llm_label}{scoring}; {self.calls} calls{cached}{failed}, {self.seconds:.1f} s):"
        ]
        for record in self.table.to_dict("records"):
            span = f" [{record['ci_low']:.3f}, {record['ci_high']:.3f}]" if record["scorer"] != CHANCE else " (1/N)"
            out.append(f"  {record['scorer']:<22} hit rate {record['hit_rate']:.3f}{span}")
        return [*out, self.verdict]

    def info(self) -> dict[str, Any]:
        """What an augmenter's info carries (saved with the run; ``skill_table`` rebuilds llm_skill.csv)."""
        return {
            "llm_skill": self.table[SKILL_COLUMNS].to_dict("records"),
            "llm_skill_passed": self.passed,
            "llm_skill_verdict": self.verdict,
            "llm_skill_measured": self.measured,
            "skill_calls": self.calls,
            "skill_seconds": round(self.seconds, 3),
            "skill_cache_hits": self.cache_hits,
            "skill_tokens_in": self.tokens_in,
            "skill_tokens_out": self.tokens_out,
            "skill_failed": self.failed,
            "skill_failures": self.failures,
            "skill_scoring": self.scoring,
            **({"skill_cached": True} if self.cached else {}),
        }


def failed_share(table: pd.DataFrame) -> float:
    """Share of the check's users whose LLM calls failed (0 for a table saved before failures were counted)."""
    if "failed" not in table:
        return 0.0
    rows = table.set_index("scorer")
    failed = pd.to_numeric(pd.Series([rows.loc[LLM, "failed"]]), errors="coerce").fillna(0).iloc[0]
    return float(failed) / max(int(rows.loc[LLM, "n_users"]), 1)


def judge(
    table: pd.DataFrame, rule: str | float, llm_label: str, against: str = ENCODER, failures: str = ""
) -> tuple[bool, str]:
    """(passed, one plain sentence) for the LLM row of ``table`` under ``rule``; ``against`` names the encoder
    row the ``encoder`` rule compares with (the encoder the run uses). ``failures`` names the causes of the users'
    failed calls (the table's ``failed``): they count as misses, and when more than half failed there is no
    verdict -- an unanswered check says nothing about the LLM, so it must not say "not better than chance"."""
    rows = table.set_index("scorer")
    llm, chance = rows.loc[LLM], float(rows.loc[CHANCE, "hit_rate"])
    n_users, share = int(llm["n_users"]), failed_share(table)
    failed = round(share * n_users)
    causes = f" ({failures})" if failures else ""
    if share > MAX_FAILED_SHARE:
        return False, (
            f"The skill check of {llm_label} could not be measured: {failed} of {n_users} users' LLM calls "
            f"failed{causes}, so there is no verdict on the LLM's skill and no LLM call is spent on augmentation. "
            f"To measure it: {failure_advice(failures)}."
        )
    encoder = float(rows.loc[against, "hit_rate"])
    named = "free sentence encoder" if against == ENCODER else f"{against} (the encoder this run uses)"
    others = "".join(
        f", the {'packaged encoder' if label == ENCODER else label} {float(rows.loc[label, 'hit_rate']):.1%}"
        for label in (ENCODER, TUNED_ENCODER, OWN_ENCODER)
        if label in rows.index and label != against
    )
    measured = (
        f"{llm_label} picked the held-out training item for {llm['hit_rate']:.1%} of {int(llm['n_users'])} users "
        f"[{llm['ci_low']:.1%}, {llm['ci_high']:.1%}]; chance is {chance:.0%}, the {named} "
        f"{encoder:.1%}{others}, popularity {float(rows.loc[POPULARITY, 'hit_rate']):.1%}"
        + (f" ({failed} of {n_users} users' calls failed{causes} and count as misses)" if failed else "")
    )
    if llm["ci_low"] <= chance:
        return False, f"{measured}: the LLM is not better than chance, so its calls would be spent on noise."
    if rule == "encoder" and llm["hit_rate"] < encoder:
        shown = "free encoder" if against == ENCODER else against
        return False, f"{measured}: the LLM is worse than the {shown}, so its calls would not pay."
    if isinstance(rule, float) and llm["hit_rate"] < rule:
        return False, f"{measured}: below the required hit rate {rule:.1%}."
    return True, f"{measured}: the LLM passes the skill check."


# The skill dial (benchmarks/skill_dial.md): simulated judges of known skill feed llm-interactions on ML-100k, BPR
# (one pick per light user, 3 seeds; one pick per user, 10 seeds). The lowest check hit rate whose picks improved a
# primary metric with a verdict; None: no skill did, not even a perfect judge's (the measured outcome).
PAYOFF_HIT_RATE: float | None = None
DIAL_NOTE = (
    "on ML-100k even a perfect judge's picks left BPR's NDCG@10 and Recall@20 within noise (one pick per light "
    "user, about 245 rows, 3 seeds; one per user, about 940 rows, 10 seeds); with the larger budget the deltas "
    "turn from negative to positive between hit rates of about 55% and 80%, without a verdict "
    "(benchmarks/skill_dial.md)"
)


def payoff_line(measured: float) -> str:
    """ "On data like this, picks pay off above ≈ X; yours measured Y" -- or, as measured, that they did not."""
    if PAYOFF_HIT_RATE is None:
        return f"On data like this, no skill paid off: {DIAL_NOTE}. Yours measured {measured:.0%}."
    return (
        f"On data like this (ML-100k, BPR; benchmarks/skill_dial.md), LLM picks pay off above a hit rate of "
        f"≈ {PAYOFF_HIT_RATE:.0%}; yours measured {measured:.0%}."
    )


class SkillStore:
    """Measured checks by key: this process's in memory, and every recaug process's on this machine on disk.

    Why on disk: a check is reused by the seeds and methods of a run only where they run in one process. Where they
    augment elsewhere (Ray's workers, on this machine), in a later CLI run of the same comparison, or in the
    dashboard after a restart, it was measured again: up to a minute of LLM calls each time on the packaged model.
    Entries are pickles this package writes to the user's own cache folder (``$RECAUG_HOME/skill``) and only it
    reads, as the fit cache does: each written to a temporary file and renamed (a crash never leaves half of one),
    under a name that adds a hash of recaug's source (an edited check never reads a table of the old code). One
    process (or thread) measures a check at a time (:meth:`claim`); the others wait and read its result.

    What is kept: a check that gave no verdict (most calls failed) nowhere, since its advice is to fix the server
    and check again; one where some calls failed only in this process (another may find the server back); a fully
    answered one in both.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder  # None: $RECAUG_HOME/skill, looked up when first needed
        self._memory: dict[str, SkillReport] = {}

    @property
    def folder(self) -> Path:
        if self._folder is None:
            return cache_dir(STORE_KIND)
        self._folder.mkdir(parents=True, exist_ok=True)
        return self._folder

    def _path(self, key: str, suffix: str) -> Path:
        from recaug.experiment.fit_cache import code_fingerprint

        name = hashlib.sha256(f"{key}:{code_fingerprint()}".encode()).hexdigest()[:32]
        return self.folder / f"{name}{suffix}"

    def get(self, key: str) -> SkillReport | None:
        known = self._memory.get(key)
        if known is not None:
            return known
        try:
            with self._path(key, ".pkl").open("rb") as handle:
                known = pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception as error:  # an unreadable entry is measured again (and replaced), never a failed run
            log.warning("skill check cache entry for %s unreadable (%s); measuring again", key[:12], error)
            return None
        if not isinstance(known, SkillReport):
            return None
        self._memory[key] = known
        return known

    def __setitem__(self, key: str, report: SkillReport) -> None:
        self._memory[key] = report
        if report.failed:
            return
        try:
            target = self._path(key, ".pkl")
            handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as stream:
                pickle.dump(dataclasses.replace(report, cached=False), stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, target)
            self._prune()
        except OSError as error:  # a read-only cache only costs a later process a new measurement
            log.warning("could not keep the skill check on disk: %s", error)

    def _prune(self) -> None:
        """Keep the newest :data:`MAX_STORED` checks (and drop temporary files of writers that died)."""
        entries = sorted(self.folder.glob("*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
        stale = [p for p in self.folder.glob("*.tmp") if time.time() - p.stat().st_mtime > 3600]
        for path in [*entries[MAX_STORED:], *stale]:
            path.unlink(missing_ok=True)
            path.with_suffix(".lock").unlink(missing_ok=True)

    @contextlib.contextmanager
    def claim(self, key: str, progress: ProgressFn) -> Iterator[None]:
        """Hold ``key`` while it is looked up and measured: a process or thread asking for the same check meanwhile
        waits here, saying so (a stop still ends the wait: ``progress`` raises), then reads the measured one."""
        if fcntl is None:  # pragma: no cover - Windows
            yield
            return
        with self._path(key, ".lock").open("a+b") as handle:  # one open file each: threads exclude each other too
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    progress(0.0, "skill check: waiting for the same check, being measured by another run")
                    time.sleep(WAIT_POLL_S)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


# Tests replace it with a plain dict: a cache of their process only, none on disk.
_CACHE: SkillStore | dict[str, SkillReport] = SkillStore()
# The checks asked for in this process, without their split and users: a new split says why it is measured again.
_SEEN: set[str] = set()


def _claimed(key: str, progress: ProgressFn) -> contextlib.AbstractContextManager[None]:
    store = _CACHE
    return store.claim(key, progress) if isinstance(store, SkillStore) else contextlib.nullcontext()


def check_skill(
    augmenter: LLMAugmenter,
    *,
    rule: str | float = "encoder",
    users: np.ndarray | None = None,
    n_users: int = 100,
    n_candidates: int = SKILL_CANDIDATES,
    encoders: Sequence[tuple[str, str]] | None = None,
    progress: ProgressFn | None = None,
) -> SkillReport:
    """Run the check for a fitted LLM augmenter's backend and settings on its training split (see the module).

    ``encoders`` are the (row label, encoder name) rows, the last being the one the ``encoder`` rule compares with;
    by default :func:`skill_encoders` of the augmenter. Results are kept (:class:`SkillStore`: in this process and
    on disk for the others), keyed by the training split (:func:`_split_digest`), the users, the backend and the
    scoring settings (not the run's seed, nor the rule, which only judges the measurement: :data:`SKILL_SEED`), so
    the seeds of a fixed split and the several ``llm-*`` variants of one run pay for one check wherever they run.
    """
    from recaug.augment.base import create_augmenter

    report = progress or no_progress
    train, seed = augmenter.train_, SKILL_SEED
    users = np.arange(train.n_users) if users is None else np.asarray(users, dtype=np.int64)
    scoring = _scoring_params(augmenter)
    encoders = list(encoders or skill_encoders(augmenter))
    own = {"backend": "local", "model": TUNED_LLM} if augmenter.model == TUNED_LLM else {"backend": augmenter.llm_}
    scorer = cast("LLMAugmenter", create_augmenter("llm-interactions", seed=seed, **own, **scoring))
    asked = {k: getattr(scorer, k) for k in ("choice", "normalise", "n_orders", "history_size", "item_noun")}
    question = _key(augmenter, asked, n_users, n_candidates, encoders)  # the same check on any split
    users_digest = hashlib.sha256(users.tobytes()).hexdigest()  # its repr elides long arrays ("...")
    key = hashlib.sha256(f"{_split_digest(train)}:{users_digest}:{question}".encode()).hexdigest()
    again = question in _SEEN
    _SEEN.add(question)
    with _claimed(key, report):
        known = _CACHE.get(key)
        if known is not None:  # marked as reused, so the run does not claim the check's calls and seconds as its own
            passed, verdict = judge(known.table, rule, known.llm_label, encoders[-1][0], known.failures)
            return dataclasses.replace(known, cached=True, passed=passed, verdict=verdict)
        outcome = _measure(scorer, train, users, n_users, n_candidates, encoders, rule, report, again)
        if outcome.measured:  # no verdict (most calls failed) is not kept: its advice is to fix it and check again
            _CACHE[key] = outcome
        return outcome


def _measure(
    scorer: LLMAugmenter,
    train: TrainingData,
    users: np.ndarray,
    n_users: int,
    n_candidates: int,
    encoders: list[tuple[str, str]],
    rule: str | float,
    report: ProgressFn,
    again: bool,
) -> SkillReport:
    """Measure the check (see :func:`check_skill`); ``again``: the same check was asked for on another split."""
    seed = SKILL_SEED
    task = held_out_task(train, users, n_users=n_users, n_candidates=n_candidates, seed=seed)
    # By name: this module is imported by the LLM augmenters' base, so it must not import their modules. A tuned
    # LLM is tuned again on the reduced split (its run's adapter learned the held-out items).
    scorer.fit(task.train)
    before, started = scorer.llm_.usage.snapshot(), time.perf_counter()
    labelled = _relabelled(sub_progress(report, 0.0, 0.9), again)
    llm = scorer.candidate_scores(task.users, list(task.candidates), labelled)
    used = scorer.llm_.usage.since(before)
    seconds = time.perf_counter() - started
    errors = [e for e in getattr(scorer, "candidate_errors_", []) if e is not None]
    per_user = {LLM: hits(llm, task)}
    texts = task.train.items["text"].astype(str).tolist()
    tuned: dict[str, Any] = {TUNING: list(scorer.info_.get(TUNING, []))}  # the tuned LLM's cost, if tuned
    for label, name in encoders:  # "tuned" is tuned here, on the reduced split: it never sees the held-out items
        model = encoder_for(name, task.train.matrix, texts, seed=seed, info=tuned)
        per_user[label] = hits(encoder_scores(task, model), task)
    per_user[POPULARITY] = hits(popularity_scores(task), task)
    rows = []
    for label, values in per_user.items():
        low, high = bootstrap_interval(values, seed)
        rows.append((label, float(values.mean()), low, high))
    rows.append((CHANCE, task.chance, task.chance, task.chance))
    table = pd.DataFrame(rows, columns=SKILL_COLUMNS[:4]).assign(chance=task.chance, n_users=len(task.users))
    table = table.assign(
        failed=[len(errors) if r[0] == LLM else 0 for r in rows],
        calls=[int(used["calls"]) if r[0] == LLM else 0 for r in rows],
    ).round(4)
    label = f"{scorer.llm_.kind} LLM {scorer.llm_.model_id}"
    failures = failure_summary(errors) if errors else ""
    passed, verdict = judge(table, rule, label, against=encoders[-1][0], failures=failures)
    report(1.0, "skill check done")
    tuning = [
        {**r, "component": f"{r['component']} (skill check: split minus held-out items)"} for r in tuned.get(TUNING, [])
    ]
    return SkillReport(
        table,
        passed,
        verdict,
        label,
        int(used["calls"]),
        seconds,
        per_user,
        tuning,
        cache_hits=int(used["cache_hits"]),
        failed=len(errors),
        failures=failures,
        tokens_in=int(used["tokens_in"]),
        tokens_out=int(used["tokens_out"]),
        scoring=scorer.llm_.scoring_description(),
    )


def _relabelled(progress: ProgressFn, again: bool = False) -> ProgressFn:
    """The check's progress under its own name: its scorer is an ``llm-interactions`` augmenter, whose name in
    "llm-interactions: 8/70 skill" misnamed the method being checked (``llm-profiles`` too runs this check).
    ``again``: the same check was measured on another training split (a random split's earlier seed), so the
    reader, told the check is reused, learns why this one is not (walk 13)."""
    name = "skill check (new training split: measured again)" if again else "skill check"

    def report(fraction: float, message: str = "") -> None:
        _, _, rest = message.partition(": ")
        progress(fraction, f"{name}: {rest.replace(' skill', ' users scored')}" if rest else message)

    return report


def skill_encoders(augmenter: LLMAugmenter) -> list[tuple[str, str]]:
    """The encoder rows of the augmenter's check: the packaged encoder, then the augmenter's own when it uses
    another (``encoder="tuned"`` -> a ``tuned encoder`` row), which the verdict then compares with."""
    own = str(getattr(augmenter, "encoder", DEFAULT_ENCODER))
    if own in (DEFAULT_ENCODER, PACKAGED):
        return [(ENCODER, DEFAULT_ENCODER)]
    return [(ENCODER, DEFAULT_ENCODER), (TUNED_ENCODER if own == TUNED else OWN_ENCODER, own)]


def _scoring_params(augmenter: LLMAugmenter) -> dict[str, Any]:
    """The settings the check scores with: the augmenter's own when it picks (``llm-interactions`` in a scoring
    mode), else the default continuation + PMI; history, noun and batch size always the augmenter's."""
    params: dict[str, Any] = {
        "history_size": augmenter.history_size,
        "item_noun": augmenter.item_noun,
        "batch_size": augmenter.batch_size,  # how many calls at once: not part of the check's key
        "max_calls": 0,
    }
    if augmenter.name == "llm-interactions" and getattr(augmenter, "choice", "") in ("continuation", "logprob"):
        params.update({k: getattr(augmenter, k) for k in ("choice", "normalise", "n_orders")})
    return params


def _split_digest(train: TrainingData) -> str:
    """Everything of the training split the check reads: its rows (with their times and order, which decide the
    held-out item), the matrix, the items that may be candidates and their texts.

    The split is in the check's key on purpose, so a check is reused only where the training split is the same:
    the ``llm-*`` methods of one seed, the seeds of a fixed split (temporal, leave-last-out) and the Augment page's
    check with a comparison's first seed. The seeds of a random split (random-811, cold-items, cold-users) each
    measure their own. Reusing seed 0's check for seed 1 would be cheaper but not honest: seed 0's training rows
    hold about a tenth of seed 1's validation and test rows (as the check's held-out items and histories), and the
    check is a gate on seed 1's arm, which may read seed 1's training split only (DESIGN: skill before spend,
    never valid/test). Measured per seed, each seed's gate is its own decision, as each seed's fits are.
    """
    digest = hashlib.sha256()
    rows = train.interactions
    columns = [c for c in ("user_idx", "item_idx", TIMESTAMP) if c in rows.columns]
    digest.update(pd.util.hash_pandas_object(rows[columns], index=False).to_numpy().tobytes())
    for part in (train.matrix.indptr, train.matrix.indices, train.matrix.data, train.item_visible()):
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update(pd.util.hash_pandas_object(train.items["text"], index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _key(augmenter: LLMAugmenter, *parts: Any) -> str:
    """The check's key apart from its split and users: the LLM and what the check asks of it (not the rule, which
    only judges the measurement, nor the batch size)."""
    return hashlib.sha256(repr((augmenter.llm_.kind, augmenter.llm_.model_id, parts)).encode()).hexdigest()


def skill_table(infos: Sequence[dict[str, Any]]) -> pd.DataFrame | None:
    """``llm_skill.csv`` of a run: the skill rows of every seed's check (one check per seed, however many LLM
    variants shared it), ``SKILL_COLUMNS`` + seed; None when no check ran."""
    frames = {}
    for info in infos:
        if info.get("llm_skill"):
            seed = info.get("seed", 0)
            frames[seed] = pd.DataFrame(info["llm_skill"]).assign(seed=seed)
    if not frames:
        return None
    # Checks saved before failures were counted have no "failed" column: none was known.
    table = pd.concat(frames.values(), ignore_index=True).reindex(columns=[*SKILL_COLUMNS, "seed"])
    return table.assign(failed=table["failed"].fillna(0).astype(int))


def skill_notes(infos: Sequence[dict[str, Any]], insist: str = "insist to run it") -> list[str]:
    """One sentence per seed and outcome for the CLI and the report: what the check measured and what it did.
    ``insist`` is how the reader overrides a failed check (the CLI names its flag)."""
    out: dict[str, str] = {}
    for info in infos:
        verdict = info.get("llm_skill_verdict")
        if not verdict:
            continue
        where = f"seed {info['seed']}: " if "seed" in info else ""
        done = (
            ""
            if info.get("llm_skill_passed")
            else (
                f" {info.get('augmenter', 'The augmenter')} ran anyway (insist)."
                if info.get("llm_insisted")
                else f" {info.get('augmenter', 'The augmenter')} made no LLM calls beyond the check's own "
                f"(skipped; {insist})."
            )
        )
        scored = f" (options scored by {info['skill_scoring']})" if info.get("skill_scoring") else ""
        out[f"{where}{verdict}{done}{scored}"] = ""
    return list(out)
