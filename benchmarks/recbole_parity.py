"""Accuracy parity with RecBole 1.2.1 on RecBole's own split: its ML-100k 8:1:1 split exported and fed to recaug.

For each seed: RecBole builds its split and trains its model (its defaults, one torch thread); the same
train / valid / test rows, mapped to recaug's ids, train recaug's model of the same name with the same seed; both
are scored on test (full ranking, train and validation items excluded). A third line scores RecBole's trained
factors with recaug's evaluator, which checks that the two evaluators agree (so a gap is the training's, not the
metrics'). Writes ``benchmarks/recbole_parity.md``.

    .venv/bin/pip install --target /tmp/rbdeps --no-deps colorlog==4.7.2 colorama==0.4.4 thop tabulate texttable
    PYTHONPATH=. .venv/bin/python benchmarks/recbole_parity.py --deps /tmp/rbdeps [--seeds 0,1,2] [--models bpr]

RecBole runs in the project's venv (installed there without its dependencies) with the shims of
``benchmarks/recbole_bpr.py``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.recbole_bpr import install_shims
from recaug.data.dataset import Dataset
from recaug.data.loading import load_dataset
from recaug.evaluate.protocol import mean_metric
from recaug.models import create_model

OUT = Path(__file__).with_name("recbole_parity.md")
RECBOLE_MODELS = {"bpr": "BPR", "lightgcn": "LightGCN"}
METRICS = (("recall", 10), ("ndcg", 10))


def recbole_config(model: str, seed: int, checkpoints: str) -> Any:
    """RecBole's config for ``model`` on its bundled ML-100k: its defaults, random 8:1:1 per user, full ranking."""
    import recbole
    from recbole.config import Config

    return Config(
        model=RECBOLE_MODELS[model],
        dataset="ml-100k",
        config_dict={
            "data_path": os.path.join(os.path.dirname(recbole.__file__), "dataset_example"),
            "seed": seed,
            "epochs": 300,
            "eval_step": 1,
            "stopping_step": 10,
            "metrics": ["Recall", "NDCG"],
            "topk": [10],
            "valid_metric": "NDCG@10",
            "eval_args": {"split": {"RS": [0.8, 0.1, 0.1]}, "order": "RO", "group_by": "user", "mode": "full"},
            "show_progress": False,
            "checkpoint_dir": checkpoints,
            "device": "cpu",
            "use_gpu": False,
            "state": "WARNING",
        },
    )


def exported_part(part: Any, recaug: Dataset) -> pd.DataFrame:
    """One RecBole split part as rows with recaug's user_idx / item_idx (RecBole ids -> tokens -> recaug index)."""
    dataset = part.dataset
    users = dataset.id2token(dataset.uid_field, dataset.inter_feat[dataset.uid_field].numpy())
    items = dataset.id2token(dataset.iid_field, dataset.inter_feat[dataset.iid_field].numpy())
    rows = pd.DataFrame(
        {"user_idx": recaug.user_ids.get_indexer(users.astype(str)), "item_idx": recaug.item_ids.get_indexer(items)}
    )
    if (rows < 0).any().any():
        raise ValueError("a RecBole token is not in recaug's ML-100k ids")
    return rows


class RecBoleScorer:
    """RecBole's trained model behind recaug's ``score(user_indices)``, in recaug's index space."""

    def __init__(self, model: Any, dataset: Any, recaug: Dataset) -> None:
        import torch

        with torch.no_grad():
            if hasattr(model, "restore_user_e"):  # LightGCN: the propagated embeddings
                users, items = model.forward()
            else:
                users, items = model.user_embedding.weight, model.item_embedding.weight
        self.users = users.detach().numpy()
        self.items = items.detach().numpy()
        self.user_row = dataset.token2id(dataset.uid_field, np.asarray(recaug.user_ids, dtype=str))
        self.item_row = dataset.token2id(dataset.iid_field, np.asarray(recaug.item_ids, dtype=str))

    def score(self, user_indices: np.ndarray) -> np.ndarray:
        return self.users[self.user_row[np.asarray(user_indices)]] @ self.items[self.item_row].T


def one_seed(model_name: str, seed: int, recaug: Dataset, checkpoints: str) -> list[dict[str, Any]]:
    """RecBole's fit, recaug's fit on RecBole's split, and RecBole's factors scored by recaug, for one seed."""
    from recbole.data import create_dataset, data_preparation
    from recbole.model.general_recommender import BPR, LightGCN
    from recbole.trainer import Trainer
    from recbole.utils import init_seed

    config = recbole_config(model_name, seed, checkpoints)
    init_seed(config["seed"], config["reproducibility"])
    train_data, valid_data, test_data = data_preparation(config, create_dataset(config))
    model = {"bpr": BPR, "lightgcn": LightGCN}[model_name](config, train_data.dataset)
    trainer = Trainer(config, model)
    started = time.process_time()
    trainer.fit(train_data, valid_data, saved=True, show_progress=False)
    recbole_cpu = time.process_time() - started
    result = trainer.evaluate(test_data, load_best_model=True, show_progress=False)
    rows = [
        {
            "model": model_name,
            "run": "RecBole 1.2.1",
            "seed": seed,
            "epochs": len(trainer.train_loss_dict),
            "cpu_s": recbole_cpu,
            **{f"{m}@{k}": float(result[f"{m}@{k}"]) for m, k in METRICS},
        }
    ]
    train, valid, test = (recaug.matrix(exported_part(part, recaug)) for part in (train_data, valid_data, test_data))
    exclude: sp.csr_matrix = train + valid
    scorer = RecBoleScorer(trainer.model, train_data.dataset, recaug)
    rows.append(
        {
            "model": model_name,
            "run": "RecBole's factors, recaug's evaluator",
            "seed": seed,
            **{f"{m}@{k}": mean_metric(scorer, test, exclude, m, k) for m, k in METRICS},
        }
    )
    ours = create_model(model_name, seed=seed)
    started = time.process_time()
    ours.fit(train, valid)
    rows.append(
        {
            "model": model_name,
            "run": "recaug on RecBole's split",
            "seed": seed,
            "epochs": ours.history_[-1][0],
            "cpu_s": time.process_time() - started,
            **{f"{m}@{k}": mean_metric(ours, test, exclude, m, k) for m, k in METRICS},
        }
    )
    return rows


def report(frame: pd.DataFrame, seeds: list[int], load: str) -> str:
    """The markdown: per-seed rows, the means, and recaug / RecBole ratios per model."""
    lines = [
        "## Accuracy parity with RecBole 1.2.1 on RecBole's own split",
        "",
        "ML-100k, RecBole's random 8:1:1 per user (`RS: [0.8, 0.1, 0.1]`, order RO, grouped by user), exported row "
        "by row to recaug; full ranking with train and validation items excluded. Both libraries use their own "
        "defaults and one torch thread; CPU seconds are the fit alone (RecBole's includes its validation every "
        f"epoch). Seeds {', '.join(map(str, seeds))}. Load average when run: {load}.",
        "",
        "| model | run | seed | epochs | fit CPU-s | Recall@10 | NDCG@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in frame.itertuples(index=False):
        epochs = "" if pd.isna(row.epochs) else f"{int(row.epochs)}"
        cpu = "" if pd.isna(row.cpu_s) else f"{row.cpu_s:.1f}"
        lines.append(
            f"| {row.model} | {row.run} | {row.seed} | {epochs} | {cpu} | {row[5]:.4f} | {row[6]:.4f} |"  # type: ignore[index]
        )
    lines += ["", "| model | run | Recall@10 (mean) | NDCG@10 (mean) | × RecBole's Recall@10 | × RecBole's NDCG@10 |"]
    lines.append("|---|---|---|---|---|---|")
    for model, part in frame.groupby("model", sort=False):
        means = part.groupby("run", sort=False)[["recall@10", "ndcg@10"]].mean()
        base = means.loc["RecBole 1.2.1"]
        for run, values in means.iterrows():
            ratio = values / base
            lines.append(
                f"| {model} | {run} | {values['recall@10']:.4f} | {values['ndcg@10']:.4f} | "
                f"{ratio['recall@10']:.3f} | {ratio['ndcg@10']:.3f} |"
            )
    lines += [
        "",
        "Produced by `PYTHONPATH=. .venv/bin/python benchmarks/recbole_parity.py "
        f"--seeds {','.join(map(str, seeds))}`.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deps", default="/tmp/rbdeps", help="folder of RecBole's light dependencies")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--models", default="bpr")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    install_shims(args.deps)
    seeds = [int(s) for s in args.seeds.split(",")]
    recaug, _ = load_dataset("ml-100k")
    rows = []
    with tempfile.TemporaryDirectory() as checkpoints:
        for model_name in args.models.split(","):
            for seed in seeds:
                for row in one_seed(model_name, seed, recaug, checkpoints):
                    rows.append(row)
                    print(row, flush=True)
    frame = pd.DataFrame(rows, columns=["model", "run", "seed", "epochs", "cpu_s", "recall@10", "ndcg@10"])
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip().split("load average:")[-1]
    args.out.write_text(report(frame, seeds, load.strip()))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
