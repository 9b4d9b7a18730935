"""Has the LLM memorised this catalogue? A quick title-completion check for public benchmarks.

Large models have read MovieLens: GPT-4 recalls a large share of ML-1M's titles, so a gain an LLM augmenter shows on a
public benchmark can be recall of the benchmark rather than skill that transfers to private data. The check: for a
seeded sample of catalogue titles with two or more words, the model sees the first half of a title and scores its
true ending against the endings of other catalogue titles (same number of words where possible). Scores are
calibrated as PMI (each ending's log-likelihood after the prefix minus after an empty prefix), so short or common
endings win no more often than chance by themselves. A model that picks the true ending clearly more often than
chance knows the catalogue.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from recaug.core.errors import RecaugInputError
from recaug.core.paths import cache_dir
from recaug.core.progress import ProgressFn, no_progress
from recaug.text.llm.base import LLMBackend
from recaug.text.llm.parsing import display_title

PUBLIC_BENCHMARKS = frozenset({"ml-100k", "ml-1m", "ml-20m", "movielens", "amazon-books", "yelp", "lastfm"})
NO_PREFIX = "(nothing yet)"
# SmolLM2-135M on ML-100k, 200 titles, 5 endings (docs/notes/issue-20-servers.md): a reference for what fluency and a
# few famous titles give without real knowledge of the catalogue.
SMALL_MODEL_REFERENCE = 0.28
PACKAGED_MODEL_NAME = "SmolLM2-135M"  # how the packaged model's id reads (the reference above is its own result)
# Titles scored per step (one progress step, one place a stop takes effect): 8 titles are 16 prompts x 5 endings, 80
# echo texts, which a server taking lists gets as 5 full requests of 16.
STEP_TITLES = 8


@dataclass(frozen=True)
class MemorisationCheck:
    """How often the model completed a catalogue title (hit rate, bootstrap 95% interval) next to chance."""

    n_titles: int  # titles scored (those whose calls failed are left out and counted in ``failed``)
    n_options: int
    hit_rate: float
    ci_low: float
    ci_high: float
    calls: int
    failed: int = 0
    seconds: float = 0.0  # wall time of the check (the server probe included when it ran first)
    requests: int = 0  # HTTP requests a server was sent (0 for a local model)
    model: str = ""

    @property
    def chance(self) -> float:
        return 1.0 / self.n_options

    @property
    def memorised(self) -> bool:
        """The interval lies above chance: the model completes this catalogue's titles from memory."""
        return self.ci_low > self.chance

    def record(self) -> dict[str, Any]:
        """Plain values (chance, verdict and line included) to store with an augmentation and show again."""
        return {**asdict(self), "chance": self.chance, "memorised": self.memorised, "line": self.line()}

    def line(self) -> str:
        """One sentence for the CLI, the Augment page and the report; the verdict is worded by the interval."""
        reference = (
            f"this packaged 135M model measured {SMALL_MODEL_REFERENCE:.2f} on 200 ML-100k titles, which fluency "
            "and a few famous titles can give"
            if PACKAGED_MODEL_NAME.lower() in self.model.lower()
            else f"the packaged 135M model reaches {SMALL_MODEL_REFERENCE:.2f} on ML-100k"
        )
        if self.memorised:
            verdict = (
                "above chance: the model completes this catalogue's titles (from memory, or from fluency with their "
                f"first words; {reference}), so an LLM gain here may be memorisation"
            )
        elif self.ci_high >= self.chance + 0.1:  # a wide interval: "no sign" would claim more than was measured
            verdict = (
                f"not shown to be above chance, but the interval reaches {self.ci_high:.2f}, so some memorisation is "
                "not ruled out (score more titles with --titles to narrow it)"
            )
        else:
            verdict = (
                "not above chance, and the interval stays close to it: no sign that the model memorised these titles"
            )
        return (
            f"title completion: {self.hit_rate:.2f} [{self.ci_low:.2f}, {self.ci_high:.2f}] of {self.n_titles} titles "
            f"completed right among {self.n_options} endings (chance {self.chance:.2f}); {verdict}"
            + (f" ({self.failed} titles left out: their calls failed)" if self.failed else "")
        )


def memorisation_note(data_name: str, backend_kind: str) -> str | None:
    """The warning shown where a server model meets a public benchmark (None elsewhere)."""
    if backend_kind == "local" or str(data_name).lower() not in PUBLIC_BENCHMARKS:
        return None
    return (
        f"{data_name} is a public benchmark that large models have read: a gain from an LLM server here can be "
        "memorisation of the benchmark, not skill that carries over to your own data. Run the title-completion "
        "check (the Augment page's button, or `python -m recaug memorisation`) before trusting it."
    )


def memorisation_line(data_name: str, backend_kind: str, infos: Iterable[Mapping[str, Any]]) -> str | None:
    """What a comparison's report says about memorisation for the methods that used ``backend_kind``: the line of
    each check their info carries, or the note and plainly that no check was run; None where no note applies."""
    note = memorisation_note(data_name, backend_kind)
    if note is None:
        return None
    checks = {
        str(record.get("model") or "the model"): record
        for info in infos
        if info.get("backend") == backend_kind and isinstance(record := info.get("memorisation"), Mapping)
    }
    if not checks:
        return f"{note} No memorisation check was run on the {backend_kind} model of this comparison."
    return " ".join(f"Memorisation check of {model} on {data_name}: {r['line']}." for model, r in checks.items())


def _check_path(model: str, titles: Iterable[str]) -> Any:
    """Where the last check of ``model`` on the catalogue ``titles`` is kept (the titles' order does not matter)."""
    digest = hashlib.sha256("\x1f".join([model, *sorted({str(t) for t in titles})]).encode()).hexdigest()[:24]
    return cache_dir("memorisation-checks") / f"{digest}.json"


def keep_check(check: MemorisationCheck, titles: Iterable[str]) -> None:
    """Keep ``check``'s record for its model and catalogue, so later runs with that model on that catalogue
    (Augment page, Compare page, CLI) carry it in their info and report."""
    path = _check_path(check.model, titles)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(check.record(), indent=2))
    tmp.replace(path)


def kept_check(model: str, titles: Iterable[str]) -> dict[str, Any] | None:
    """The record of the last check of ``model`` on the catalogue ``titles``, or None when none was run."""
    path = _check_path(model, titles)
    return json.loads(path.read_text()) if path.exists() else None


def split_title(title: str) -> tuple[str, str] | None:
    """(first half of the words, the rest) of a display title; None for one-word titles."""
    words = display_title(title).split()
    if len(words) < 2:
        return None
    cut = len(words) // 2
    return " ".join(words[:cut]), " ".join(words[cut:])


def title_completion_check(
    backend: LLMBackend,
    titles: Sequence[str],
    *,
    n_titles: int = 40,
    n_options: int = 5,
    item_noun: str = "movie",
    seed: int = 0,
    n_boot: int = 1000,
    progress: ProgressFn | None = None,
) -> MemorisationCheck:
    """Score each sampled title's true ending against ``n_options - 1`` endings of other titles (PMI).

    ``titles`` is the catalogue (any order, duplicates ignored). Makes ``2 * n_titles`` scoring calls, reported to
    ``progress`` every :data:`STEP_TITLES` titles; titles whose calls failed are left out (``failed``), never counted
    as misses. Raises :class:`RecaugInputError` when fewer than ``n_options`` titles have two or more words,
    :class:`RecaugInputError` when no call gave usable scores.
    """
    progress = progress or no_progress
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    pairs = title_pairs(titles, n_options)
    chosen = rng.choice(len(pairs), size=min(n_titles, len(pairs)), replace=False)
    endings = [suffix for _, suffix in pairs]
    if len(set(endings)) < n_options:
        raise ValueError(f"need at least {n_options} different title endings, got {len(set(endings))}")
    words = np.array([len(e.split()) for e in endings])
    prompts, empty_prompts, options_list = [], [], []
    for index in chosen:
        prefix, truth = pairs[int(index)]
        differs = np.array([e != truth for e in endings])  # another title with the same ending is no distractor
        same = np.flatnonzero((words == words[index]) & differs)
        pool = same if len(same) >= n_options - 1 else np.flatnonzero(differs)
        others = list(dict.fromkeys(endings[int(j)] for j in rng.permutation(pool)))[: n_options - 1]
        options = [truth, *others]
        rng.shuffle(options)
        options_list.append(options)
        prompts.append(_prompt(item_noun, prefix))
        empty_prompts.append(_prompt(item_noun, NO_PREFIX))
    scored: list[tuple[Any, Any]] = []
    for start in range(0, len(chosen), STEP_TITLES):
        progress(start / len(chosen), f"title completion: {start}/{len(chosen)} titles scored")
        step = slice(start, start + STEP_TITLES)
        records = backend.score_many(prompts[step] + empty_prompts[step], options_list[step] + options_list[step])
        half = len(records) // 2
        scored += zip(records[:half], records[half:], strict=True)
    progress(1.0, f"title completion: {len(chosen)}/{len(chosen)} titles scored")
    hits, failed = [], []
    for k, index in enumerate(chosen):
        with_prefix, without = scored[k]
        pmi = with_prefix.logprobs - without.logprobs
        if with_prefix.error or without.error or not np.isfinite(pmi).all():
            failed.append(with_prefix.error or without.error or "no usable scores")  # not a miss: no answer
            continue
        hits.append(options_list[k][int(np.argmax(pmi))] == pairs[int(index)][1])
    if not hits:
        raise RecaugInputError(
            f"the title-completion check got no usable scores ({len(failed)} of {len(chosen)} titles failed: "
            f"{failed[0]})",
            fix="check the server (or raise the request timeout) and run the check again",
        )
    outcome = np.asarray(hits, dtype=np.float64)
    boots = rng.choice(outcome, size=(n_boot, len(outcome)), replace=True).mean(axis=1)
    return MemorisationCheck(
        n_titles=len(outcome),
        n_options=n_options,
        hit_rate=float(outcome.mean()),
        ci_low=float(np.quantile(boots, 0.025)),
        ci_high=float(np.quantile(boots, 0.975)),
        calls=2 * len(scored),
        failed=len(failed),
        seconds=time.perf_counter() - started,
        model=backend.model_id,
    )


def check_memorisation(
    titles: Sequence[str],
    backend: str | LLMBackend = "local",
    model: str | None = None,
    base_url: str | None = None,
    *,
    n_titles: int = 40,
    seed: int = 0,
    progress: ProgressFn | None = None,
    **options: Any,
) -> MemorisationCheck:
    """Build the backend (``options`` as :func:`recaug.text.llm.factory.create_backend` takes them), make sure it
    scores endings by their own likelihood, and run :func:`title_completion_check` on ``titles``: what the CLI's
    ``memorisation`` command and the Augment page's button run. The result's cost includes the server probe; its
    record is kept (:func:`keep_check`) for later runs with the same model on the same catalogue.

    Raises :class:`RecaugInputError` when the server cannot be reached or cannot score likelihoods.
    """
    from recaug.text.llm.factory import create_backend

    progress = progress or no_progress
    started = time.perf_counter()
    title_pairs(titles)  # no usable titles: said before a model is loaded or a server is probed
    progress(0.0, "connecting to the model and checking how it scores")
    llm = create_backend(backend, model, base_url, **options)
    llm.check_scoring(likelihoods=True)  # the check compares endings' log-likelihoods across prompts
    check = title_completion_check(llm, titles, n_titles=n_titles, seed=seed, progress=progress)
    usage = llm.usage.snapshot()
    check = replace(
        check, seconds=time.perf_counter() - started, requests=int(usage["requests"] + usage["setup_requests"])
    )
    keep_check(check, titles)
    return check


def title_pairs(titles: Sequence[str], n_options: int = 5) -> list[tuple[str, str]]:
    """(first half, ending) of each title of two or more words, one per first half (it must not name two endings).

    Raises :class:`RecaugInputError` when fewer than ``n_options`` are left: data without item titles (their ids
    stand in) crashed the CLI with "need at least 5 titles of two or more words, got 0"."""
    splits: dict[str, tuple[str, str]] = {}
    for title in dict.fromkeys(str(t) for t in titles):
        parts = split_title(title)
        if parts is not None:
            splits.setdefault(parts[0], parts)
    pairs = list(splits.values())
    if len(pairs) < n_options:
        raise RecaugInputError(
            f"this data has no usable item titles: {len(pairs)} of {len(set(map(str, titles))):,} items have a title "
            f"of two or more words, and the title-completion check needs at least {n_options}",
            fix="pass --items FILE with the items' titles (on the Augment page: an items file with a title column)",
        )
    return pairs


def _prompt(item_noun: str, prefix: str) -> str:
    return (
        f"Complete the title of a {item_noun} from the catalogue. The title begins: {prefix}\nThe full title ends with:"
    )
