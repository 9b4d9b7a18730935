"""Do the issue-17 verdicts hold on real runs? False verdicts, power, seeds used: resampled from a pool of seeds.

Fitting thousands of experiments is not affordable on 2 shared cores, so ``benchmarks/power_pool.py`` runs each seed
once (the CLI's defaults: pop, itemknn, BPR with early stopping, every metric and slice; arms baseline, A/A control,
``random@1`` aimed at light users, ``edge-dropout@10%`` aimed at all users) and this script draws seed sets from that
pool and judges each exactly as a run is judged (:func:`recaug.evaluate.significance.significance_from_results` with
the run's declared question, and for ``--max-seeds`` the same looks and stopping rule as ``run_experiment``).
The null arms are centred on the pool (their pool-mean delta removed) so that they are exactly null in the
resampled world. Experiments drawn from one pool share seeds: the ± is the binomial Monte-Carlo error over
repetitions, which does not cover the pool's own sampling error (N seeds of real fits).

    PYTHONPATH=. .venv/bin/python benchmarks/power.py --reps 400 --out benchmarks/power.md
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from benchmarks.power_pool import CACHE, POOL_ARMS, pool_config
from recaug.evaluate.design import Question, seed_plan
from recaug.evaluate.sequential import stop_reason
from recaug.evaluate.significance import AA_CONTROL, DIRECTIONS, significance_from_results

NULL_ARMS = (AA_CONTROL, "random@1")
HARM = "edge-dropout@10%"
MAX_SEEDS = 10
PLANTED = 0.02  # a planted relative effect (2% of the baseline mean) for the power curve
KEY = ("bpr", "all", "ndcg", 10)


def load_pool(data: str, protocol: str) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Every cached seed's primary-cell rows, and each seed's timing record."""
    records = [pickle.loads(p.read_bytes()) for p in sorted((CACHE / data / protocol).glob("seed*.pkl"))]
    rows = pd.DataFrame([row for record in records for row in record["rows"]])
    primary = ((rows["metric"] == "ndcg") & (rows["k"] == 10)) | ((rows["metric"] == "recall") & (rows["k"] == 20))
    rows = rows[primary & rows["slice"].isin(["all", "activity-q1"])].reset_index(drop=True)
    return rows, [{k: v for k, v in r.items() if k in ("seconds", "load", "when")} for r in records]


def centred(rows: pd.DataFrame) -> pd.DataFrame:
    """The pool with each null arm's mean delta over the pool removed, row by row: in the resampled world the null
    arms are then exactly null. Without this the pool's own chance mean (e.g. BPR's A/A NDCG@10 -0.003 over 22
    seeds) becomes the truth that larger resampled experiments detect, and "false verdicts" grow with the seeds."""
    out = rows.copy()
    keys = ["model", "slice", "metric", "k", "seed"]
    base = out[out["variant"] == "baseline"].set_index(keys)["value"]
    null = out["variant"].isin(NULL_ARMS)
    delta = out.loc[null, "value"].to_numpy() - base.reindex(pd.MultiIndex.from_frame(out.loc[null, keys])).to_numpy()
    mean = (
        pd.Series(delta, index=out.index[null])
        .groupby([out.loc[null, c] for c in ("variant", "model", "slice", "metric", "k")])
        .transform("mean")
    )
    # Rows whose deltas are mostly exactly 0 (a deterministic model the arm barely touches) are left alone: shifting
    # them makes a constant, spread-free offset that the t-test then "finds".
    zeros = (
        pd.Series(delta == 0, index=out.index[null])
        .groupby([out.loc[null, c] for c in ("variant", "model", "slice", "metric", "k")])
        .transform("mean")
    )
    out.loc[null, "value"] = out.loc[null, "value"] - mean.where(zeros < 0.5, 0.0)
    return out


def pool_question(protocol: str) -> Question:
    config = pool_config()
    config.protocol = protocol
    return Question.from_config(config)


def stacked(rows: pd.DataFrame, seed_sets: list[list[int]]) -> pd.DataFrame:
    """One results table holding every repetition: repetition ``r``'s models are renamed ``model#r`` (so each is its
    own family) and its seeds renumbered 0..n-1 in draw order; one significance call then judges them all."""
    by_seed = {seed: part for seed, part in rows.groupby("seed")}
    parts = []
    for r, seeds in enumerate(seed_sets):
        for position, seed in enumerate(seeds):
            part = by_seed[seed]
            parts.append(part.assign(model=part["model"] + f"#{r}", seed=position))
    return pd.concat(parts, ignore_index=True)


def judge_all(rows: pd.DataFrame, seed_sets: list[list[int]], question: Question) -> pd.DataFrame:
    """Primary rows of every repetition (column ``rep``), each judged as a run with exactly its seeds."""
    n = max(len(s) for s in seed_sets)
    plan = replace(question, seed_order=tuple(range(n)))  # what each row's seeds varied is read from its rows
    table = significance_from_results(stacked(rows, seed_sets), question=plan)
    table = table[table["primary"]].copy()
    parts = table["model"].str.rsplit("#", n=1)
    return table.assign(model=parts.str[0], rep=parts.str[1].astype(int))


def sequential_all(
    rows: pd.DataFrame, orders: list[list[int]], question: Question, limit: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """The seeds-until-decided rule (start 3, add at the looks) for every seed order at once, as run_experiment
    applies it to one run: (each repetition's final primary rows, seeds each used)."""
    plan = replace(question, looks=seed_plan(3, limit))
    active = list(range(len(orders)))
    finals, used = [], np.zeros(len(orders), dtype=int)
    for n in plan.looks:
        table = judge_all(rows, [orders[r][:n] for r in active], plan)
        table["rep"] = [active[i] for i in table["rep"]]
        still = []
        for r, part in table.groupby("rep"):
            if stop_reason(part, n, limit) is not None:
                finals.append(part)
                used[r] = n
            else:
                still.append(r)
        active = still
        if not active:
            break
    return pd.concat(finals, ignore_index=True), used


def rate(hits: np.ndarray, seed_sets: list[list[int]], pool: list[int]) -> str:
    """The share with its binomial Monte-Carlo SE over repetitions (they share pool seeds: see the module note)."""
    p = float(hits.mean())
    return f"{p:.1%} ± {np.sqrt(p * (1 - p) / len(hits)):.1%}"


def per_rep(table: pd.DataFrame, reps: int, test: Any) -> np.ndarray:
    """A bool per repetition: does any of its rows pass ``test`` (a function of the table giving a bool Series)?"""
    hit = test(table).groupby(table["rep"]).any()
    return hit.reindex(range(reps), fill_value=False).to_numpy()


def family_false_rate(table: pd.DataFrame) -> str:
    """The share of null questions (one per model and null arm, in every repetition) with any false verdict: the
    rate the rule bounds at 5%, with its binomial error."""
    null = table[table["variant"].isin(NULL_ARMS) & ~table["verdict"].str.startswith("no change")]
    hits = null["verdict"].isin(DIRECTIONS).groupby([null["rep"], null["model"], null["variant"]]).any()
    p = float(hits.mean()) if len(hits) else float("nan")
    return f"{p:.1%} ± {np.sqrt(p * (1 - p) / max(len(hits), 1)):.1%} of {len(hits)}"


def false_null(table: pd.DataFrame) -> pd.Series:
    return table["variant"].isin(NULL_ARMS) & table["verdict"].isin(DIRECTIONS)


def found(variant: str, word: str) -> Any:
    model, slice_name, metric, k = KEY

    def test(table: pd.DataFrame) -> pd.Series:
        return (
            (table["variant"] == variant)
            & (table["model"] == model)
            & (table["slice"] == slice_name)
            & (table["metric"] == metric)
            & (table["k"] == k)
            & (table["verdict"] == word)
        )

    return test


def plant(rows: pd.DataFrame) -> pd.DataFrame:
    """The pool with ``random@1``'s BPR rows raised by 2% of the baseline's mean: a known small real gain on top of
    the real seed noise of an arm paired with the baseline's model seed."""
    out = rows.copy()
    base = out[out["variant"] == "baseline"].groupby(["model", "slice", "metric", "k"])["value"].mean()
    arm = (out["variant"] == "random@1") & (out["model"] == "bpr")
    keys = out.loc[arm, ["model", "slice", "metric", "k"]].itertuples(index=False, name=None)
    out.loc[arm, "value"] = out.loc[arm, "value"] + PLANTED * np.array([base[key] for key in keys])
    return out


def fixed_design(rows: pd.DataFrame, question: Question, n: int, reps: int, rng: np.random.Generator) -> dict[str, Any]:
    """``reps`` experiments of ``n`` seeds drawn without replacement: false verdicts, harm found, planted power."""
    pool = sorted(rows["seed"].unique())
    sets = [list(rng.choice(pool, size=n, replace=False)) for _ in range(reps)]
    table = judge_all(rows, sets, question)
    planted = judge_all(plant(rows), sets, question)
    return {
        "family": family_false_rate(table),
        "sets": sets,
        "pool": pool,
        "false_any": per_rep(table, reps, false_null),
        "harm": per_rep(table, reps, found(HARM, "worse")),
        "planted": per_rep(planted, reps, found("random@1", "better")),
    }


def seq_design(
    rows: pd.DataFrame, question: Question, reps: int, rng: np.random.Generator, limit: int
) -> dict[str, Any]:
    """``reps`` runs of the sequential rule (start 3, up to ``limit``) over random seed orders from the pool."""
    pool = sorted(rows["seed"].unique())
    orders = [list(rng.permutation(pool)[:limit]) for _ in range(reps)]
    table, used = sequential_all(rows, orders, question, limit)
    planted, planted_used = sequential_all(plant(rows), orders, question, limit)
    return {
        "family": family_false_rate(table),
        "sets": [order[:n] for order, n in zip(orders, used, strict=True)],
        "pool": pool,
        "false_any": per_rep(table, reps, false_null),
        "harm": per_rep(table, reps, found(HARM, "worse")),
        "planted": per_rep(planted, reps, found("random@1", "better")),
        "seeds": used,
        "planted_seeds": planted_used,
    }


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def section(data: str, protocol: str, reps: int, seed: int) -> list[str]:
    rows, records = load_pool(data, protocol)
    if rows.empty:
        return [f"## {data}, {protocol}", "", "(no pool)", ""]
    question = pool_question(protocol)
    lines_raw = summary_of_pool(rows, question)  # the pool as it is, before the null arms are centred
    rows = centred(rows)
    rng = np.random.default_rng(seed)
    pool = sorted(rows["seed"].unique())
    seconds = [r["seconds"] for r in records]
    loads = [r["load"][0] for r in records]
    lines = [
        f"## {data}, {protocol}",
        "",
        f"Pool: {len(pool)} seeds ({', '.join(map(str, pool))}), {np.median(seconds):.0f} s per seed (median; "
        f"1-min load {min(loads):.1f}–{max(loads):.1f} while they ran, {records[0]['when']}–{records[-1]['when']} "
        "UTC). Replicates vary: "
        + ("the split and the model seed" if question.split_varies else "the model seed only (fixed split)")
        + ".",
        "",
    ]
    lines += lines_raw
    lines += [
        "| design | experiments | null questions with a false verdict (per model and null arm) | runs with any "
        "false verdict | edge-dropout 10% BPR NDCG@10 'worse' | planted +2% BPR NDCG@10 'better' | seeds used (mean) |",
        "|---|---|---|---|---|---|---|",
    ]
    sizes = [n for n in (3, 5, 7, 10) if n <= len(pool) - 2]
    for n in sizes:
        result = fixed_design(rows, question, n, reps, rng)
        sets = result["sets"]
        lines.append(
            f"| fixed {n} seeds | {len(sets)} | {result['family']} | {rate(result['false_any'], sets, pool)} | "
            f"{rate(result['harm'], sets, pool)} | {rate(result['planted'], sets, pool)} | {n} |"
        )
    limit = min(MAX_SEEDS, len(pool))
    result = seq_design(rows, question, reps // 2, rng, limit)
    sets = result["sets"]
    lines.append(
        f"| 3 seeds, --max-seeds {limit} | {len(sets)} | {result['family']} | "
        f"{rate(result['false_any'], sets, pool)} | "
        f"{rate(result['harm'], sets, pool)} | {rate(result['planted'], sets, pool)} | "
        f"{result['seeds'].mean():.1f} (planted: {result['planted_seeds'].mean():.1f}) |"
    )
    lines += ["", f"(analysed at load {load()})", ""]
    return lines


def summary_of_pool(rows: pd.DataFrame, question: Question) -> list[str]:
    """Every seed of the pool at once: the primary rows' deltas, per-seed noise, mde and verdict."""
    pool = sorted(rows["seed"].unique())
    table = judge_all(rows, [pool], question)
    shown = table[["model", "variant", "slice", "metric", "k", "delta", "ci_low", "ci_high", "noise_floor", "mde"]]
    shown = shown.assign(verdict=table["verdict"], replicate=table["replicate"])
    out = ["All pool seeds as one run (primary rows):", "", "| " + " | ".join(shown.columns) + " |"]
    out.append("|" + "---|" * len(shown.columns))
    for row in shown.itertuples(index=False):
        out.append("| " + " | ".join(f"{v:+.4f}" if isinstance(v, float) else str(v) for v in row) + " |")
    return [*out, ""]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--only", default="", help="data/protocol, e.g. ml-100k/random-811")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    started = time.perf_counter()
    lines = [f"(pool arms: {', '.join(POOL_ARMS)}; load at start {load()})", ""]
    targets = [tuple(p.parts[-2:]) for p in sorted(CACHE.glob("*/*")) if p.is_dir()]
    for data, protocol in targets:
        if args.only and args.only != f"{data}/{protocol}":
            continue
        lines += section(data, protocol, args.reps, args.seed)
        print("\n".join(lines[-12:]), flush=True)
    lines.append(f"analysis {time.perf_counter() - started:.0f} s, load at end {load()}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
