"""Does augmentation help? Each augmenter at the same budget on ML-100k, judged by the pre-declared question.

Protocol: ML-100k, random-811, seeds 0 1 2, budget +10% of the training interactions for every augmenter, aimed at
light users and (a second run) at all users. Each model is early-stopped on validation and evaluated once on test.
Deltas are augmented minus baseline on the same users and seed. Verdicts are the CLI's (issue 17): per (model, arm)
the primary rows NDCG@10 and Recall@20 on slice ``all`` and on the arm's target slice (``activity-q1``, the lightest
quarter of users by training degree, when aimed at light users) are tested over seeds, Benjamini-Hochberg within
that family only; every other row is exploratory (Δ and interval, no verdict). ``mde``: the smallest change the
design detects with 80% power. The A/A control (BPR refitted with fresh seeds) is run as a check. Each seed is
checkpointed in ``--out``, so an interrupted run resumes; seeds run through the CLI's process pool.

    PYTHONPATH=. .venv/bin/python benchmarks/augmenters.py --models bpr --md benchmarks/augmenters.md
    PYTHONPATH=. .venv/bin/python benchmarks/augmenters.py --gan-timing    # default GAN training times only

``--threads`` sets torch's CPU threads (default 1): on a 2-core machine shared with other processes, two
threads spin-wait on each other and made small torch loops up to 10x slower in our measurements.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from recaug.data.loading import load_dataset
from recaug.evaluate.design import Question
from recaug.evaluate.significance import metric_label, significance_from_results
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.models import MODELS

GANS = ("cfgan", "embedding-gan", "rl-gan")
# The README's rows: the control, the heuristics, the graph methods and two GANs (LLM methods: benchmarks/llm.md).
README_AUGMENTERS = [
    "random",
    "itemknn-expansion",
    "ensemble",
    "link-prediction",
    "cfgan",
    "mixup",
    "aggregation",
    "embedding-gan",
    "similarity",
]
TARGET_SLICE = {"light-users": "activity-q1", "all": "all"}
TARGET_WORDS = {"light-users": "light users", "all": "all users"}  # the slice shown, of the run aimed at it


def ensure_lightgcn() -> None:
    """LightGCN lives in its own module; import it if the models package does not register it yet."""
    if "lightgcn" not in MODELS:
        import recaug.models.lightgcn  # noqa: F401


def bench_config(augmenters: list[str], models: list[str], target: str, seeds: list[int]) -> ExperimentConfig:
    """The comparison: the CLI's defaults (primary question included) at +10%, accuracy metrics @10/@20."""
    return ExperimentConfig(
        augmenters=augmenters,
        budget=0.1,
        target=target,
        models=models,
        seeds=seeds,
        ks=[10, 20],
        metrics=["recall", "ndcg"],
        aa_control=True,
    )


def run_seed(seed: int, augmenters: list[str], models: list[str], target: str, out: Path) -> dict:
    """One seed of the comparison, checkpointed as a pickle of its tables (named by the settings)."""
    settings = bench_config(augmenters, models, target, []).to_dict()
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:10]
    path = out / f"{target}-{digest}-seed-{seed}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    dataset, _ = load_dataset("ml-100k")
    last = [0.0]

    def report(fraction: float, message: str) -> None:
        if fraction - last[0] >= 0.02 or fraction >= 1.0:
            last[0] = fraction
            logging.info("%s seed %d %3.0f%% %s", target, seed, 100 * fraction, message)

    started = time.perf_counter()
    result = run_experiment(dataset, bench_config(augmenters, models, target, [seed]), progress=report)
    saved = {
        "results": result.results,
        "info": result.augment_info,
        "timings": result.timings,
        "seconds": time.perf_counter() - started,
        "load": os.getloadavg(),
        "when": time.strftime("%H:%M", time.gmtime()),
    }
    path.write_bytes(pickle.dumps(saved))
    return saved


def primary_rows(runs: list[dict], config: ExperimentConfig) -> pd.DataFrame:
    """The significance table of the seeds in ``runs`` under the run's declared question, every row kept."""
    results = pd.concat([r["results"] for r in runs], ignore_index=True)
    return significance_from_results(results, question=Question.from_config(config))


def cell(row: pd.Series, digits: int = 4) -> str:
    """``-0.0123 [-0.0200, -0.0040] worse``: Δ, the seed-level interval and the verdict (decided Δ in bold)."""
    interval = "" if pd.isna(row["ci_low"]) else f" [{row['ci_low']:+.{digits}f}, {row['ci_high']:+.{digits}f}]"
    word = row["verdict"]
    delta = f"{row['delta']:+.{digits}f}"
    return f"{f'**{delta}**' if word in ('better', 'worse') else delta}{interval} {word}"


def readme_table(tables: dict[str, pd.DataFrame], model: str) -> pd.DataFrame:
    """One row per arm; per target, the target slice's NDCG@10 and Recall@20 cells (primary unless labelled)."""
    rows: dict[str, dict[str, str]] = {}
    for target, table in tables.items():
        part = table[(table["model"] == model) & (table["slice"] == TARGET_SLICE[target])]
        for _, row in part.iterrows():
            key = (row["metric"], int(row["k"]))
            if key not in (("ndcg", 10), ("recall", 20)):
                continue
            column = f"{TARGET_WORDS[target]}: Δ{metric_label(row['metric'], row['k'])}"
            rows.setdefault(str(row["variant"]), {})[column] = cell(row, 3).replace("-", "−")  # README typography
    frame = pd.DataFrame.from_dict(rows, orient="index").fillna("—")
    return frame.rename_axis("augmenter").reset_index()


def detail_table(table: pd.DataFrame) -> pd.DataFrame:
    """Every primary row: model, arm, slice, metric@k, the Δ cell, its BH q and the detectable change."""
    primary = table[table["primary"]].copy()
    primary["metric@k"] = [metric_label(m, k) for m, k in zip(primary["metric"], primary["k"], strict=True)]
    primary["Δ [interval] verdict"] = primary.apply(cell, axis=1)
    primary["detectable ±"] = primary["mde"].map(lambda v: "—" if pd.isna(v) else f"{v:.4f}")
    primary["q"] = primary["q_ttest"].map(lambda v: "—" if pd.isna(v) else f"{v:.3f}")
    return primary[["model", "variant", "slice", "metric@k", "Δ [interval] verdict", "q", "detectable ±"]]


def info_table(runs: list[dict]) -> pd.DataFrame:
    """What each augmenter produced (mean over seeds): rows kept, virtual users, removals, time."""
    rows = []
    for run in runs:
        for info in run["info"]:
            name, seed = info["augmenter"], info["seed"]
            rows.append(
                {
                    "augmenter": name,
                    "kept": info["kept"],
                    "users_touched": info["users_touched"],
                    "removed": info.get("removed", 0),
                    "augment_s": run["timings"][f"augment:{name}:{seed}"],
                }
            )
    return pd.DataFrame(rows).groupby("augmenter").mean().round(1).reset_index()


def gan_timing(threads: list[int]) -> pd.DataFrame:
    """Wall time of each GAN's default fit on ML-100k (seed-0 training split), base BPR fit included."""
    import torch

    from recaug.augment import create_augmenter
    from recaug.augment.graph.train_model import clear_cache
    from recaug.data.splits import make_split

    dataset, _ = load_dataset("ml-100k")
    train = dataset.training_data(make_split(dataset.interactions, "random-811", 0).train)
    rows = []
    for n in threads:
        torch.set_num_threads(n)
        for name in GANS:
            clear_cache()
            started = time.perf_counter()
            augmenter = create_augmenter(name).fit(train)
            fit_s = time.perf_counter() - started
            started = time.perf_counter()
            augmenter.augment(0.1)
            rows.append(
                {
                    "augmenter": name,
                    "torch_threads": n,
                    "fit_s": round(fit_s, 1),
                    "augment_s": round(time.perf_counter() - started, 2),
                }
            )
            logging.info("%s", rows[-1])
    return pd.DataFrame(rows)


def markdown_table(frame: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in frame.to_numpy().tolist()]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=["bpr", "lightgcn"])
    parser.add_argument("--augmenters", nargs="+", default=None, help="default: the README's rows")
    parser.add_argument("--targets", nargs="+", default=["light-users", "all"], help="one run per target")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/recaug-bench-augmenters"))
    parser.add_argument("--md", type=Path, default=None, help="also write the tables as markdown here")
    parser.add_argument("--gan-timing", action="store_true", help="only time the GANs' default training")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    import torch

    torch.set_num_threads(args.threads)
    ensure_lightgcn()
    if args.gan_timing:
        print(gan_timing([1, 2]).to_string(index=False))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    augmenters = args.augmenters or README_AUGMENTERS
    tables: dict[str, pd.DataFrame] = {}
    all_runs: dict[str, list[dict]] = {}
    for target in args.targets:
        runs = [run_seed(seed, augmenters, args.models, target, args.out) for seed in args.seeds]
        all_runs[target] = runs
        tables[target] = primary_rows(runs, bench_config(augmenters, args.models, target, list(args.seeds)))
        tables[target].to_csv(args.out / f"significance-{target}.csv", index=False)
    command = "PYTHONPATH=. .venv/bin/python benchmarks/augmenters.py " + " ".join(sys.argv[1:])
    seeds = ", ".join(map(str, args.seeds))
    fits = [(r["when"], r["seconds"], r["load"][0]) for runs in all_runs.values() for r in runs if "seconds" in r]
    lines = [
        "# Does augmentation help on ML-100k? (issue 17 rule)",
        "",
        f"`{command.strip()}`",
        "",
        f"ML-100k, random-811, seeds {seeds}, +10% training interactions per augmenter, models "
        f"{', '.join(args.models)} at their defaults (early stopping), one run per target ({', '.join(args.targets)}). "
        "Verdicts: per (model, arm) the primary rows NDCG@10 and Recall@20 on `all` and on the arm's target slice "
        "(`activity-q1` when aimed at light users) are tested over seeds, Benjamini–Hochberg within that family "
        "only; every other row is exploratory. The A/A control (the baseline refitted with fresh seeds) is a check: "
        "its primary rows are on `all`, so its light-user cells are exploratory.",
        "",
        "Seeds ran "
        + "; ".join(f"{when} UTC {sec / 60:.1f} min at load {load:.1f}" for when, sec, load in fits)
        + f" (2 cores shared with other agents; {os.cpu_count()} cores seen).",
    ]
    for model in args.models:
        lines += ["", f"## {model}: the README table (Δ [95% interval over seeds] verdict)", ""]
        lines += [
            "Light-user columns: the run aimed at light users, slice `activity-q1`; all-user columns: the run aimed "
            "at all users, slice `all`.",
            "",
        ]
        lines.append(markdown_table(readme_table(tables, model)))
    for target, table in tables.items():
        lines += ["", f"## Every primary row, aimed at {TARGET_WORDS[target]}", ""]
        lines.append(markdown_table(detail_table(table)))
        lines += ["", f"## What each augmenter produced, {target} (mean over seeds)", ""]
        lines.append(markdown_table(info_table(all_runs[target])))
    text = "\n".join(lines) + "\n"
    print(text)
    if args.md:
        args.md.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
