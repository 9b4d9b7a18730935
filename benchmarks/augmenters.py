"""Every augmenter at the same budget on ML-100k: Recall@20 / NDCG@20 deltas for BPR and LightGCN, with CIs.

Protocol: ML-100k, random-811, seeds 0 1 2, budget +10% of the training interactions for every augmenter, the
project's default target (light users). Each model is early-stopped on validation and evaluated once on test.
Deltas are augmented minus baseline on the same users and seed; intervals and verdicts are the project's
seed-level statistics (:mod:`recaug.evaluate.significance`: t over seeds, Benjamini-Hochberg within each slice,
false-coverage-adjusted intervals, the A/A control's noise floor); ``activity-q1`` is the lightest quarter of
users by training degree. Each seed is checkpointed in ``--out``, so an interrupted run resumes.

    PYTHONPATH=. .venv/bin/python benchmarks/augmenters.py                 # the full table (about an hour)
    PYTHONPATH=. .venv/bin/python benchmarks/augmenters.py --gan-timing    # default GAN training times only

``--threads`` sets torch's CPU threads (default 1): on a 2-core machine shared with other processes, two
threads spin-wait on each other and made small torch loops up to 10x slower in our measurements.
"""

from __future__ import annotations

import argparse
import logging
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from recaug.augment import AUGMENTERS
from recaug.data.loading import load_dataset
from recaug.evaluate.significance import significance_from_results
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.models import MODELS

GANS = ("cfgan", "embedding-gan", "rl-gan")
SLICES = {"all": "all users", "activity-q1": "light users (q1)"}


def ensure_lightgcn() -> None:
    """LightGCN lives in its own module; import it if the models package does not register it yet."""
    if "lightgcn" not in MODELS:
        import recaug.models.lightgcn  # noqa: F401


def run_seed(seed: int, augmenters: list[str], models: list[str], target: str, out: Path) -> dict:
    """One seed of the comparison, checkpointed as a pickle of its tables."""
    path = out / f"{target}-seed-{seed}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    dataset, _ = load_dataset("ml-100k")
    config = ExperimentConfig(
        augmenters=augmenters,
        budget=0.1,
        target=target,
        models=models,
        seeds=[seed],
        ks=[20],
        metrics=["recall", "ndcg"],
    )
    last = [0.0]

    def report(fraction: float, message: str) -> None:
        if fraction - last[0] >= 0.02 or fraction >= 1.0:
            last[0] = fraction
            logging.info("seed %d %3.0f%% %s", seed, 100 * fraction, message)

    result = run_experiment(dataset, config, progress=report)
    saved = {
        "results": result.results,
        "slice_values": result.slice_values,
        "info": result.augment_info,
        "timings": result.timings,
    }
    path.write_bytes(pickle.dumps(saved))
    return saved


def delta_table(runs: list[dict]) -> pd.DataFrame:
    """Wide table: per augmenter, model and slice, baseline and delta (CI) of Recall@20 and NDCG@20."""
    results = pd.concat([r["results"] for r in runs], ignore_index=True)
    store = {key: value for r in runs for key, value in r["slice_values"].items()}
    sig = significance_from_results(results, store)
    sig = sig[sig["slice"].isin(SLICES) & sig["metric"].isin(["recall", "ndcg"]) & (sig["k"] == 20)]
    base = (
        results[(results["variant"] == "baseline") & results["slice"].isin(SLICES) & (results["k"] == 20)]
        .groupby(["model", "slice", "metric"])["value"]
        .mean()
        .rename("baseline")
        .reset_index()
    )
    sig = sig.merge(base, on=["model", "slice", "metric"])

    def cell(r: pd.Series) -> str:
        interval = "" if pd.isna(r["ci_low"]) else f" [{r['ci_low']:+.4f}, {r['ci_high']:+.4f}]"
        return f"{r['delta']:+.4f}{interval} {r['verdict']}"

    sig["cell"] = sig.apply(cell, axis=1)
    wide = sig.pivot_table(index=["model", "slice", "variant"], columns="metric", values="cell", aggfunc="first")
    floor = sig[sig["metric"] == "recall"].set_index(["model", "slice", "variant"])["noise_floor"].rename("A/A noise ±")
    wide = wide.join(floor)
    return wide.reset_index()[["model", "slice", "variant", "recall", "ndcg", "A/A noise ±"]].rename(
        columns={"recall": "ΔRecall@20 [interval] verdict", "ndcg": "ΔNDCG@20 [interval] verdict"}
    )


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--models", nargs="+", default=["bpr", "lightgcn"])
    parser.add_argument("--augmenters", nargs="+", default=None, help="default: every registered augmenter")
    parser.add_argument("--target", default="light-users", help="who receives synthetic rows (light-users, all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/recaug-bench-augmenters"))
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
    augmenters = args.augmenters or AUGMENTERS.names()
    runs = [run_seed(seed, augmenters, args.models, args.target, args.out) for seed in args.seeds]
    table = delta_table(runs)
    table.to_csv(args.out / f"deltas-{args.target}.csv", index=False)
    print(f"## Deltas vs baseline (ML-100k, random-811, seeds {args.seeds}, budget +10%, target {args.target})\n")
    print(table.to_string(index=False))
    print("\n## What each augmenter produced (mean over seeds)\n")
    print(info_table(runs).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
