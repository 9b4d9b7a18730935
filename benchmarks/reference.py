"""Parity with RecBole: ML-100k under RecBole's protocol, 3 seeds, mean ± std.

Protocol (RecBole's ML-100k defaults): all 100,000 ratings as implicit feedback, per-user random 8:1:1
(``random-811``), full ranking over all 1,682 items with training and validation items excluded, embedding size 64
for the factor models, early stopping / hyper-parameter choice on validation NDCG@10 only, test touched once.
Every model uses recaug's defaults. Writes the markdown table to ``benchmarks/reference.md``.

    PYTHONPATH=. .venv/bin/python benchmarks/reference.py [--seeds 0,1,2] [--models pop,itemknn,bpr,lightgcn,ease]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from recaug.data.loading import load_dataset
from recaug.data.splits import make_split
from recaug.evaluate.catalog import ALL_METRICS, METRIC_INFO
from recaug.evaluate.slices import SliceContext, evaluate_sliced, overall_slice
from recaug.models import create_model

OUT = Path(__file__).with_name("reference.md")
COLUMNS = [
    ("recall", 10),
    ("ndcg", 10),
    ("mrr", 10),
    ("hit", 10),
    ("precision", 10),
    ("recall", 20),
    ("ndcg", 20),
    ("coverage", 10),
    ("avg_pop", 10),
]
RECBOLE = {"bpr": {("recall", 10): 0.2368, ("ndcg", 10): 0.2768}}  # RecBole's published ML-100k results


def chosen(model: object) -> str:
    """What validation chose: a tuned model's grid point, the epoch, EASE's L2, or the content model's scale."""
    grid_point = getattr(model, "chosen_", None)
    prefix = " ".join(f"{k} {v:g}" for k, v in grid_point.items()) + " " if grid_point else ""
    for attribute, label in (
        ("best_epoch_", "epoch"),
        ("best_iteration_", "iteration"),
        ("reg_", "reg"),
        ("scale_", "scale"),
    ):
        if hasattr(model, attribute) and not (grid_point and attribute[:-1] in grid_point):
            return f"{prefix}{label} {getattr(model, attribute):g}"
    return prefix.strip()


def run(seeds: list[int], models: list[str]) -> pd.DataFrame:
    dataset, _ = load_dataset("ml-100k")
    rows = []
    for seed in seeds:
        split = make_split(dataset.interactions, "random-811", seed)
        train, valid, test = (dataset.matrix(p) for p in (split.train, split.valid, split.test))
        context = SliceContext.build(dataset, split, train, test, ks=(10, 20, 50))
        for name in models:
            model = create_model(name, seed=seed)
            if getattr(model, "needs_item_texts", False):
                model.set_item_texts(dataset.items["text"].tolist())
            started = time.perf_counter()
            model.fit(train, valid)
            fit = time.perf_counter() - started
            started = time.perf_counter()
            _, slices = evaluate_sliced(model, test, train + valid, context, ALL_METRICS, overall_slice)
            evaluation = time.perf_counter() - started
            values = {key: float(v.mean()) for key, v in slices["all"].values.items()} | slices["all"].lists
            rows.append(
                {
                    "model": name,
                    "seed": seed,
                    "fit_s": fit,
                    "eval_s": evaluation,
                    "chosen": chosen(model),
                    **{f"{m}@{k}": values[(m, k)] for m, k in COLUMNS},
                }
            )
            print(
                f"seed {seed} {name:<9} fit {fit:6.1f}s  eval {evaluation:.3f}s  recall@10 "
                f"{values[('recall', 10)]:.4f}  ndcg@10 {values[('ndcg', 10)]:.4f}  {chosen(model)}",
                flush=True,
            )
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame, models: list[str]) -> str:
    metric_cols = [f"{m}@{k}" for m, k in COLUMNS]
    head = ["Model", *(f"{METRIC_INFO[m].label}@{k}" for m, k in COLUMNS), "Fit s", "Eval s @50", "Chosen on valid"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in models:
        part = frame[frame["model"] == name]
        cells = [name]
        for col in metric_cols:
            digits = 1 if col.startswith("avg_pop") else 4
            cells.append(
                f"{part[col].mean():.{digits}f} ± {part[col].std(ddof=1):.{digits}f}"
                if len(part) > 1
                else f"{part[col].mean():.{digits}f}"
            )
        choices = ", ".join(c for c in part["chosen"].fillna("") if c) or "—"
        cells += [f"{part['fit_s'].mean():.1f}", f"{part['eval_s'].mean():.3f}", choices]
        lines.append("| " + " | ".join(cells) + " |")
    for name, published in RECBOLE.items():
        cells = [f"{name} (RecBole, published)"]
        cells += [f"{published[(m, k)]:.4f}" if (m, k) in published else "" for m, k in COLUMNS]
        lines.append("| " + " | ".join([*cells, "", "", ""]) + " |")
    seeds = ", ".join(str(s) for s in sorted(frame["seed"].unique()))
    return (
        "## ML-100k under RecBole's protocol\n\n"
        f"All 100k ratings as implicit feedback, per-user random 8:1:1, full ranking over all items (train and "
        f"validation items excluded), embedding size 64, early stopping / hyper-parameters on validation NDCG@10. "
        f"Mean ± std over seeds {seeds}. Fit and evaluation times in seconds on {os.cpu_count()} CPU cores "
        f"({platform.processor() or platform.machine()}), shared with other work, so treat them as upper bounds.\n\n"
        + "\n".join(lines)
        + "\n\nProduced by `PYTHONPATH=. .venv/bin/python benchmarks/reference.py`.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--models", default="pop,itemknn,bpr,lightgcn,ease")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--from-csv", default=None, help="re-render the table from a previous run's CSV")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    models = args.models.split(",")
    frame = pd.read_csv(args.from_csv) if args.from_csv else run(seeds, models)
    text = markdown(frame, models)
    Path(args.out).write_text(text)
    frame.to_csv(Path(args.out).with_suffix(".csv"), index=False)
    print("\n" + text)


if __name__ == "__main__":
    main()
