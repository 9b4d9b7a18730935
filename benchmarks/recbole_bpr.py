"""RecBole 1.2.1's own BPR on ML-100k next to recaug's, same protocol, one torch thread each: accuracy and wall time.

RecBole's dependencies are heavy (ray, tensorboard) and it predates NumPy 2 and torch's ``weights_only`` default,
so this runs it from a scratch folder of its light dependencies with small shims, without touching ``.venv``:

    .venv/bin/pip install --target /tmp/rbdeps --no-deps colorlog==4.7.2 colorama==0.4.4 thop tabulate texttable
    PYTHONPATH=. .venv/bin/python benchmarks/recbole_bpr.py --deps /tmp/rbdeps [--seeds 0,1,2]

Shims: ``np.float``-style aliases (removed in NumPy 2), a no-op ``torch.utils.tensorboard`` (tensorboard is not
installed), ``torch.load(weights_only=False)`` for RecBole's own checkpoint. ``ray`` is only imported by
``recbole.quick_start``, which this script does not use. RecBole's config: its BPR defaults (lr 0.001, batch 2048,
embedding 64, 300 epochs max, stopping step 10, evaluation every epoch), random 8:1:1 per user, full ranking.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def install_shims(deps: str) -> None:
    """Make RecBole 1.2.1 importable against NumPy 2 / torch 2.13 without tensorboard or ray."""
    import numpy as np
    import torch

    sys.path.insert(0, deps)
    for name, value in (
        ("float", float),
        ("int", int),
        ("bool", bool),
        ("long", int),
        ("float_", np.float64),
        ("complex_", np.complex128),
        ("unicode_", np.str_),
    ):
        if name not in np.__dict__:
            setattr(np, name, value)

    class SummaryWriter:  # RecBole only logs scalars to tensorboard
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def add_scalar(self, *args: Any, **kwargs: Any) -> None:
            pass

        def add_hparams(self, *args: Any, **kwargs: Any) -> None:
            pass

    board = types.ModuleType("torch.utils.tensorboard")
    board.SummaryWriter = SummaryWriter  # type: ignore[attr-defined]
    sys.modules["torch.utils.tensorboard"] = board
    original_load = torch.load
    torch.load = lambda *a, **k: original_load(*a, **{**k, "weights_only": False})  # RecBole's own checkpoint
    torch.set_num_threads(1)


def recbole_bpr(seed: int, checkpoints: str) -> dict[str, float]:
    import recbole
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.general_recommender import BPR
    from recbole.trainer import Trainer
    from recbole.utils import init_seed

    config = Config(
        model="BPR",
        dataset="ml-100k",
        config_dict={
            "data_path": os.path.join(os.path.dirname(recbole.__file__), "dataset_example"),
            "seed": seed,
            "epochs": 300,
            "eval_step": 1,
            "stopping_step": 10,
            "train_batch_size": 2048,
            "learning_rate": 0.001,
            "embedding_size": 64,
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
    init_seed(config["seed"], config["reproducibility"])
    train, valid, test = data_preparation(config, create_dataset(config))
    trainer = Trainer(config, BPR(config, train.dataset))
    started = time.perf_counter()
    trainer.fit(train, valid, saved=True, show_progress=False)
    fit = time.perf_counter() - started
    result = trainer.evaluate(test, load_best_model=True, show_progress=False)
    epochs = len(trainer.train_loss_dict)
    return {
        "fit_s": fit,
        "epochs": epochs,
        "s_per_epoch": fit / epochs,
        "recall@10": float(result["recall@10"]),
        "ndcg@10": float(result["ndcg@10"]),
    }


def recaug_bpr(seed: int) -> dict[str, float]:
    from recaug.data.loading import load_dataset
    from recaug.data.splits import make_split
    from recaug.evaluate.protocol import mean_metric
    from recaug.models import create_model

    dataset, _ = load_dataset("ml-100k")
    split = make_split(dataset.interactions, "random-811", seed)
    train, valid, test = (dataset.matrix(p) for p in (split.train, split.valid, split.test))
    model = create_model("bpr", seed=seed)
    started = time.perf_counter()
    model.fit(train, valid)
    fit = time.perf_counter() - started
    epochs = model.history_[-1][0]
    return {
        "fit_s": fit,
        "epochs": epochs,
        "s_per_epoch": fit / epochs,
        "recall@10": mean_metric(model, test, train + valid, "recall", 10),
        "ndcg@10": mean_metric(model, test, train + valid, "ndcg", 10),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deps", default="/tmp/rbdeps", help="folder of RecBole's light dependencies")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    install_shims(args.deps)
    print("| implementation | seed | epochs run | fit s | s / epoch (incl. validation) | Recall@10 | NDCG@10 |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as checkpoints:
        for seed in (int(s) for s in args.seeds.split(",")):
            for name, run in (("RecBole 1.2.1 BPR", lambda s: recbole_bpr(s, checkpoints)), ("recaug BPR", recaug_bpr)):
                r = run(seed)
                print(
                    f"| {name} | {seed} | {r['epochs']} | {r['fit_s']:.1f} | {r['s_per_epoch']:.3f} | "
                    f"{r['recall@10']:.4f} | {r['ndcg@10']:.4f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
