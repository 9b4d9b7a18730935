"""Scale benchmark: the default demo on seeded long-tail data of growing size, with peers on the same data.

For each size (``benchmarks/scale_data.py`` generates and caches the data):

1. the CLI's default demo (``--augment similarity --models pop,itemknn,bpr``, 1 seed; 3 seeds where asked) as
   a child process: wall time and peak RSS (``/usr/bin/time``), and per-step times from the saved run;
2. peers on the same split, in this process: our ALS against ``implicit``'s own ALS for the same number of
   iterations; our BPR's seconds per epoch against ``implicit``'s BPR and RecBole's BPR (RecBole only when its
   light dependencies are installed, see ``benchmarks/recbole_bpr.py``; skipped otherwise).

The machine is shared, so every row records the load average when it was measured, and ratios are taken within
one run. Results go to ``benchmarks/scale.md``.

    PYTHONPATH=. .venv/bin/python benchmarks/scale.py 100k 1m --three-seeds 1m [--data /tmp/recaug-scale]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[0]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scale_data import SIZES, write

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    **os.environ,
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "PYTHONHASHSEED": "0",
    "OMP_WAIT_POLICY": "PASSIVE",
    "PYTHONPATH": str(ROOT),
}


def load() -> str:
    """The 1/5/15-minute load averages as text."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def run_demo(inter: Path, items: Path, seeds: str, work: Path) -> dict[str, Any]:
    """The CLI's default demo as a child process: wall s, peak RSS GB, and the saved run's step timings."""
    out, runs, timing = work / "out", work / "runs", work / "time.txt"
    command = [
        "/usr/bin/time",
        "-f",
        "%e %M %U %S",
        "-o",
        str(timing),
        sys.executable,
        "-m",
        "recaug",
        "compare",
        "--data",
        str(inter),
        "--items",
        str(items),
        "--augment",
        "similarity",
        "--models",
        "pop,itemknn,bpr",
        "--seeds",
        seeds,
        "--out",
        str(out),
        "--runs-dir",
        str(runs),
        "--quiet",
    ]
    started_load = load()
    done = subprocess.run(command, env=ENV, cwd=ROOT, capture_output=True, text=True, check=False)
    wall, rss_kb, user, system = timing.read_text().split()[-4:]
    timings: dict[str, float] = {}
    for config in runs.glob("*/config.json"):
        timings = json.loads(config.read_text()).get("timings", {})
    return {
        "ok": done.returncode == 0,
        "error": done.stderr.strip().splitlines()[-1] if done.returncode else "",
        "wall_s": float(wall),
        "cpu_s": float(user) + float(system),
        "rss_gb": int(rss_kb) / 1024**2,
        "timings": timings,
        "load": f"{started_load} → {load()}",
    }


def step_summary(timings: dict[str, float]) -> str:
    """'augment 12 s; fit pop 0.1 s, itemknn 3 s, bpr 40 s (sum over arms and seeds)'."""
    totals: dict[str, float] = {}
    for key, seconds in timings.items():
        parts = key.split(":")
        name = "augment" if parts[0] == "augment" else f"fit {parts[1]}" if parts[0] == "fit" else parts[0]
        totals[name] = totals.get(name, 0.0) + seconds
    return "; ".join(f"{name} {seconds:.1f} s" for name, seconds in sorted(totals.items()))


def matrices(inter: Path, items: Path) -> tuple[Any, Any, Any]:
    """The seed-0 random-811 train/valid/test matrices, as the demo builds them."""
    from recaug.data.loading import load_dataset
    from recaug.data.splits import make_split

    dataset, _ = load_dataset(str(inter), items=str(items))
    split = make_split(dataset.interactions, "random-811", 0)
    return tuple(dataset.matrix(part) for part in (split.train, split.valid, split.test))  # type: ignore[return-value]


def timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def peers(train: Any, valid: Any, test: Any, recbole_deps: str | None, name: str) -> list[dict[str, Any]]:
    """Fit times of our ALS/BPR and the peers' on one split (same process, same load)."""
    import numpy as np
    from implicit.bpr import BayesianPersonalizedRanking

    from recaug.evaluate.protocol import mean_metric
    from recaug.models import create_model
    from recaug.models.als import implicit_als

    rows: list[dict[str, Any]] = []
    exclude = train + valid
    # Untimed warm-up: imports (torch, implicit's extension) and first-call costs are not fitting.
    create_model("bpr", max_epochs=1).fit(train)
    create_model("als", max_iterations=1).fit(train)
    BayesianPersonalizedRanking(factors=8, iterations=1, random_state=0).fit(
        train.astype(np.float32), show_progress=False
    )
    ours_s, als = timed(lambda: create_model("als").fit(train, valid))
    iterations = max(it for it, _ in als.history_)
    peer = implicit_als(64, 10.0, 1.0, iterations, seed=0, gpu=False)
    peer_s, _ = timed(lambda: peer.fit(train.astype(np.float32), show_progress=False))
    rows.append(
        {
            "what": f"ALS fit ({iterations} iterations, ours with validation every 3)",
            "ours": ours_s,
            "peer": peer_s,
            "peer_name": "implicit ALS, same iterations",
            "ndcg": mean_metric(als, test, exclude, "ndcg", 10),
        }
    )
    bpr_s, bpr = timed(lambda: create_model("bpr", max_epochs=6, patience=100).fit(train, valid))
    implicit_bpr = BayesianPersonalizedRanking(factors=64, iterations=6, random_state=0)
    implicit_s, _ = timed(lambda: implicit_bpr.fit(train.astype(np.float32), show_progress=False))
    rows.append(
        {
            "what": "BPR s/epoch (6 epochs, ours incl. its validation: every 2 epochs, every epoch above 2M)",
            "ours": bpr_s / 6,
            "peer": implicit_s / 6,
            "peer_name": "implicit BPR (multithreaded SGD)",
            "ndcg": mean_metric(bpr, test, exclude, "ndcg", 10),
        }
    )
    if recbole_deps and Path(recbole_deps).exists():
        rows[-1]["recbole"] = recbole_epoch_seconds(train, valid, recbole_deps, name)
    return rows


def recbole_epoch_seconds(train: Any, valid: Any, deps: str, name: str, epochs: int = 3) -> float:
    """RecBole 1.2.1 BPR (its defaults) on the same interactions (its own 9:1 train/valid re-split of our train +
    valid, so it trains on about as many rows as ours): seconds per epoch incl. its validation."""
    from recbole_bpr import install_shims

    install_shims(deps)
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.model.general_recommender import BPR
    from recbole.trainer import Trainer
    from recbole.utils import init_seed

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / name
        data.mkdir()
        both = (train + valid).tocoo()
        lines = ["user_id:token\titem_id:token\ttimestamp:float"]
        lines += [f"u{u}\ti{i}\t{k}" for k, (u, i) in enumerate(zip(both.row, both.col, strict=True))]
        (data / f"{name}.inter").write_text("\n".join(lines))
        config = Config(
            model="BPR",
            dataset=name,
            config_dict={
                "data_path": folder,
                "seed": 0,
                "epochs": epochs,
                "eval_step": 1,
                "stopping_step": 100,
                "train_batch_size": 2048,
                "learning_rate": 0.001,
                "embedding_size": 64,
                "metrics": ["NDCG"],
                "topk": [10],
                "valid_metric": "NDCG@10",
                "eval_args": {"split": {"RS": [0.9, 0.1, 0.0]}, "order": "RO", "group_by": "user", "mode": "full"},
                "show_progress": False,
                "checkpoint_dir": folder,
                "device": "cpu",
                "use_gpu": False,
                "state": "WARNING",
            },
        )
        init_seed(0, True)
        train_data, valid_data, _ = data_preparation(config, create_dataset(config))
        trainer = Trainer(config, BPR(config, train_data.dataset))
        seconds, _ = timed(lambda: trainer.fit(train_data, valid_data, saved=False, show_progress=False))
    return seconds / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", choices=sorted(SIZES))
    parser.add_argument("--three-seeds", nargs="*", default=["1m"], help="sizes also run with seeds 0,1,2")
    parser.add_argument("--data", type=Path, default=Path("/tmp/recaug-scale"))
    parser.add_argument("--recbole-deps", default="/tmp/rbdeps")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--no-demo", action="store_true", help="peers only")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "scale.md")
    args = parser.parse_args()
    from recaug.core.runtime import prefer_single_thread_on_small_machines

    prefer_single_thread_on_small_machines()
    demo_rows, peer_rows = [], []
    for name in args.sizes:
        size = SIZES[name]
        inter, items = write(size, args.data)
        for seeds in [] if args.no_demo else ["0", *(["0,1,2"] if name in args.three_seeds else [])]:
            with tempfile.TemporaryDirectory() as work:
                result = run_demo(inter, items, seeds, Path(work))
            row = {"size": name, "seeds": seeds, **result}
            demo_rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "timings"}), step_summary(result["timings"]))
        if not args.no_peers:
            loaded = load()
            for row in peers(*matrices(inter, items), args.recbole_deps, f"scale{name}"):
                peer_rows.append({"size": name, "load": loaded, **row})
                print(json.dumps(peer_rows[-1]))
    write_markdown(args.out, demo_rows, peer_rows)


def write_markdown(path: Path, demo_rows: list[dict[str, Any]], peer_rows: list[dict[str, Any]]) -> None:
    lines = [
        "# Scale benchmark",
        "",
        "Produced by `PYTHONPATH=. .venv/bin/python benchmarks/scale.py " + " ".join(sys.argv[1:]) + "` on 2 shared "
        "CPU cores (other agents' work running; load average 1/5/15 min at the start → end of each row). CPU s "
        "(user + system of the whole CLI process) is what an idle machine's wall time would be for this mostly "
        "single-threaded run; wall s is inflated by the other load.",
        "",
        "## Default demo (similarity; pop, itemknn, bpr; with the A/A control), CLI wall time and peak RSS",
        "",
        "| size | seeds | ok | wall s | CPU s | peak RSS GB | load | step wall times (sum over arms and seeds) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in demo_rows:
        status = "yes" if r["ok"] else f"no: {r['error']}"
        lines.append(
            f"| {r['size']} | {r['seeds']} | {status} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} | {r['rss_gb']:.2f} | "
            f"{r['load']} | "
            f"{step_summary(r['timings'])} |"
        )
    lines += [
        "",
        "## Peers on the same split (same process)",
        "",
        "| size | what | ours s | peer s | ours / peer | peer | RecBole BPR s/epoch | ours / RecBole | ours NDCG@10 "
        "| load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in peer_rows:
        recbole = r.get("recbole")
        rb = f"{recbole:.2f} | {r['ours'] / recbole:.2f}" if recbole else "not run | –"
        lines.append(
            f"| {r['size']} | {r['what']} | {r['ours']:.2f} | {r['peer']:.2f} | {r['ours'] / r['peer']:.2f} | "
            f"{r['peer_name']} | {rb} | {r['ndcg']:.4f} | {r['load']} |"
        )
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
