"""Are recaug's verdicts calibrated under the rule and defaults analysts run? Repeated null comparisons on ML-100k.

A null comparison pits the baseline against an arm that cannot truly differ from it:

* ``A/A control``: the baseline refitted with fresh model seeds on the same training data (``--aa-control``);
* ``random``: one uniformly random unseen row added to ~80k training interactions (``--augment random --budget 1``).

Each experiment is exactly the CLI's ``compare --augment random --budget 1 --aa-control --seeds a,b,c`` with every
other setting at its default: random-811, models pop, itemknn and BPR at their defaults (BPR early-stopped at its
real epochs), every default metric and slice, the default primary question (NDCG@10 and Recall@20 on slice ``all``
and on the arm's target slice, light users = ``activity-q1``; the A/A control: ``all``), judged by
``significance_from_results`` with the run's own question, as the CLI does. Experiment ``g`` uses seeds
``3g, 3g+1, 3g+2``: the experiments share no seed, so they are independent. Every "better"/"worse" verdict on a
primary row is false; exploratory rows never get one (checked too).

    PYTHONPATH=. .venv/bin/python benchmarks/null_calibration.py --reps 30   # ~30 min of fits under load 2-8

Per-seed outcomes (result rows, timings, load) are cached under ``$RECAUG_HOME/benchmarks/null_calibration`` keyed
by the settings, so a re-run (or more ``--reps``) only fits the seeds it lacks. Seeds run a batch at a time through
the same process pool as the CLI (``run_seed_batch``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from recaug.core.runtime import prefer_single_thread_on_small_machines
from recaug.evaluate.design import Question
from recaug.evaluate.significance import DIRECTIONS, NO_CHANGE, NO_DIFFERENCE, significance_from_results
from recaug.experiment import ExperimentConfig
from recaug.experiment.config import RESULT_COLUMNS
from recaug.experiment.run import run_seed_batch

NULL_ARM = "random"
SEEDS_PER_EXPERIMENT = 3
BATCH = 3  # seeds per pool batch (one experiment): the pool overlaps one seed's augmenting with another's fits
CACHE_VERSION = 2  # 1: issue 9's capped-BPR design


def experiment_config(seeds: list[int]) -> ExperimentConfig:
    """The CLI's ``--augment random --budget 1 --aa-control``; everything else at its default."""
    return ExperimentConfig(augmenters=[NULL_ARM], budget=1, aa_control=True, seeds=seeds)


def cache_folder(root: str) -> Path | None:
    """Per-settings cache folder (None: no cache); the key is the config without its seeds."""
    if root == "none":
        return None
    settings = {**experiment_config([]).to_dict(), "seeds": None, "version": CACHE_VERSION}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:12]
    if root:
        base = Path(root)
    else:
        from recaug.core.paths import cache_dir

        base = cache_dir("benchmarks") / "null_calibration"
    folder = base / digest
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_seeds(dataset: Any, seeds: list[int], folder: Path | None) -> dict[int, dict[str, Any]]:
    """Every seed's record (rows, fit timings, seconds, load), from the cache where present."""
    records: dict[int, dict[str, Any]] = {}
    for seed in seeds:
        path = folder / f"seed_{seed}.pkl" if folder else None
        if path is not None and path.exists():
            records[seed] = pickle.loads(path.read_bytes())
    todo = [s for s in seeds if s not in records]
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        began = time.perf_counter()
        outcomes = run_seed_batch(dataset, experiment_config(batch), batch)
        seconds = (time.perf_counter() - began) / len(batch)
        load = os.getloadavg()
        for outcome in outcomes:
            record = {"rows": outcome.rows, "timings": outcome.timings, "seconds": seconds, "load": load}
            records[outcome.seed] = record
            if folder is not None:
                tmp = folder / f"seed_{outcome.seed}.tmp"
                tmp.write_bytes(pickle.dumps(record))
                tmp.replace(folder / f"seed_{outcome.seed}.pkl")
        print(f"seeds {batch}: {seconds:.1f} s per seed, load {load[0]:.1f}", flush=True)
    return records


def experiment_groups(reps: int) -> list[list[int]]:
    """Disjoint groups of seeds: group g is one 3-seed experiment."""
    return [list(range(g * SEEDS_PER_EXPERIMENT, (g + 1) * SEEDS_PER_EXPERIMENT)) for g in range(reps)]


def judged(records: Mapping[int, dict[str, Any]], groups: list[list[int]]) -> pd.DataFrame:
    """Every experiment's significance table under its own declared question, stacked (column ``experiment``)."""
    tables = []
    for number, seeds in enumerate(groups):
        results = pd.DataFrame([row for s in seeds for row in records[s]["rows"]], columns=RESULT_COLUMNS)
        question = Question.from_config(experiment_config(seeds))
        tables.append(significance_from_results(results, question=question).assign(experiment=number))
    return pd.concat(tables, ignore_index=True)


def rate(hits: pd.Series, experiment: pd.Series) -> str:
    """A share with its binomial and cluster (per-experiment) Monte-Carlo SEs; the 95% upper bound at 0 hits."""
    n, k = len(hits), int(hits.sum())
    if n == 0:
        return "—"
    if k == 0:
        return f"0/{n} = 0% (95% upper bound {100 * (1 - 0.05 ** (1 / n)):.1f}%)"
    share = k / n
    per = hits.groupby(experiment).mean()
    cluster = per.std(ddof=1) / np.sqrt(len(per)) if len(per) > 1 else np.nan
    return (
        f"{k}/{n} = {100 * share:.1f}% ± {100 * np.sqrt(share * (1 - share) / n):.1f} (cluster ± {100 * cluster:.1f})"
    )


def primary_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and arm (and overall): primary rows, how they were judged, false verdicts, and the raw t-test's
    rejections at 0.05 (a calibrated test rejects ~5% of testable null rows: the rule is not dead, BH is the
    margin)."""
    primary = table[table["primary"]]
    parts = [((m, v), p) for (m, v), p in primary.groupby(["model", "variant"], sort=False)]
    parts.append((("all models", "both arms"), primary))
    rows = []
    for (model, arm), part in parts:
        false = part["verdict"].isin(DIRECTIONS)
        testable = part["p_ttest"].notna()
        rows.append(
            {
                "model": model,
                "arm": arm,
                "primary rows": len(part),
                "no clear difference": int(part["verdict"].eq(NO_DIFFERENCE).sum()),
                "no change in any seed": int(part["verdict"].eq(NO_CHANGE).sum()),
                "other (no test)": int((~part["verdict"].isin([NO_DIFFERENCE, NO_CHANGE, *DIRECTIONS])).sum()),
                "false better/worse": rate(false, part["experiment"]),
                "experiments with ≥ 1": f"{int(false.groupby(part['experiment']).any().sum())}/"
                f"{part['experiment'].nunique()}",
                "raw t-test p < 0.05 (testable rows)": rate(
                    part.loc[testable, "p_ttest"] < 0.05, part.loc[testable, "experiment"]
                ),
            }
        )
    return pd.DataFrame(rows)


def noise_table(table: pd.DataFrame) -> pd.DataFrame:
    """BPR's primary rows: the seed noise and detectable change each experiment reports (mean over experiments)."""
    bpr = table[table["primary"] & table["model"].eq("bpr")]
    grouped = bpr.groupby(["variant", "slice", "metric", "k"], sort=False)
    out = grouped.agg(delta_mean=("delta", "mean"), delta_sd=("delta", "std"), noise=("noise_floor", "mean"))
    out = out.join(grouped["mde"].mean().rename("mde"))
    return out.reset_index().rename(
        columns={
            "delta_mean": "mean Δ over experiments",
            "delta_sd": "SD of the experiments' Δ",
            "noise": "mean seed noise (per-seed SD)",
            "mde": "mean detectable change (3 seeds)",
        }
    )


def markdown_table(frame: pd.DataFrame, floats: str = "{:.4f}") -> str:
    if frame.empty:
        return "(none)"
    cells = frame.map(lambda v: floats.format(v) if isinstance(v, float) else str(v))
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells.to_numpy().tolist()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=30, help="independent 3-seed experiments (3 x reps seeds)")
    parser.add_argument("--out", default=str(Path(__file__).with_suffix(".md")), help="markdown report")
    parser.add_argument("--cache", default="", help="cache folder ('none' = no cache)")
    args = parser.parse_args()
    prefer_single_thread_on_small_machines()
    from recaug.data.loading import load_dataset

    load_before = os.getloadavg()
    started = time.perf_counter()
    dataset, _ = load_dataset("ml-100k")
    groups = experiment_groups(args.reps)
    seeds = [s for g in groups for s in g]
    records = run_seeds(dataset, seeds, cache_folder(args.cache))
    table = judged(records, groups)
    exploratory = table[~table["primary"]]
    primary = table[table["primary"]]
    testable = primary[primary["verdict"].isin([NO_DIFFERENCE, *DIRECTIONS])]
    share = testable["verdict"].eq(NO_DIFFERENCE).mean() if len(testable) else float("nan")
    bpr_fits = [v for s in seeds for k, v in records[s]["timings"].items() if k.startswith("fit:bpr:")]
    loads = [records[s]["load"][0] for s in seeds]
    command = "PYTHONPATH=. .venv/bin/python benchmarks/null_calibration.py " + " ".join(sys.argv[1:])
    lines = [
        "# Null calibration of recaug's verdicts (issue 17 rule, the CLI's defaults)",
        "",
        f"`{command.strip()}`",
        "",
        f"ML-100k (built-in), random-811; {args.reps} independent experiments × {SEEDS_PER_EXPERIMENT} seeds (seeds "
        f"0–{len(seeds) - 1}, each used once). Each experiment is `python -m recaug compare --augment random "
        "--budget 1 --aa-control --seeds a,b,c` with every other setting at its default: models pop, itemknn, bpr "
        "(BPR early-stopped at its real epochs), every default metric, k and slice, the default primary question "
        "(NDCG@10 and Recall@20 on `all` and on the arm's target slice `activity-q1`, light users; the A/A control "
        "on `all`), Benjamini–Hochberg within each (model, arm) family.",
        "",
        f"Compute: {sum(records[s]['seconds'] for s in seeds) / 60:.1f} min for {len(seeds)} seeds "
        f"({len(bpr_fits)} BPR fits, median {np.median(bpr_fits) if bpr_fits else float('nan'):.1f} s wall); "
        f"1-minute load while fitting {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores shared with "
        f"other agents; this invocation {(time.perf_counter() - started) / 60:.1f} min (cached seeds are not "
        f"refitted), load before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}.",
        "",
        "## Result",
        "",
        f'* **Primary rows judged "no clear difference": {testable["verdict"].eq(NO_DIFFERENCE).sum()} of '
        f"{len(testable)} testable rows = {100 * share:.1f}%** (target ≥ 95%); false better/worse: "
        f"{rate(primary['verdict'].isin(DIRECTIONS), primary['experiment'])} of all {len(primary)} primary rows. "
        'Rows that are no test at all (deterministic models whose A/A delta is exactly 0: "no change in any '
        'seed"; a constant delta) are counted apart.',
        f"* Exploratory rows ({len(exploratory)}) never get better/worse: "
        f"{int(exploratory['verdict'].isin(DIRECTIONS).sum())} did.",
        "* The raw per-row t-test (before BH) rejects about its nominal 5% of testable null rows: the rule can say "
        "yes, and the family correction is the margin.",
        "",
        "## Primary rows by model and arm",
        "",
        markdown_table(primary_table(table)),
        "",
        "## BPR's primary rows: what one experiment sees",
        "",
        markdown_table(noise_table(table)),
        "",
        "Rates: binomial Monte-Carlo SE over rows and the cluster SE over experiments (rows of one experiment share "
        "seeds). With 0 hits the 95% upper bound is shown. Power (edge-dropout, planted effects, `--max-seeds`) is "
        "measured in `benchmarks/power.md`.",
    ]
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
