"""Headless CLI: ``python -m recaug compare ...`` runs the dashboard's pipeline and writes the same tables."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from recaug.errors import RecaugInputError


def _csv_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _budget(text: str) -> float | int:
    value = float(text)
    return int(value) if value >= 1 and value.is_integer() and "." not in text else value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m recaug", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser("compare", help="baseline vs augmented models on one split; writes results.csv etc.")
    cmp.add_argument("--data", default="ml-100k", help="built-in name (ml-100k) or a CSV/Parquet path")
    cmp.add_argument("--items", default=None, help="optional items CSV (item id + title/text)")
    cmp.add_argument("--protocol", default="random-811", help="split protocol")
    cmp.add_argument("--augment", type=_csv_list, default=["similarity"], help="comma-separated augmenters")
    cmp.add_argument("--budget", type=_budget, default=0.1, help="count (int) or fraction of train (float)")
    cmp.add_argument("--target", default="light-users", help="light-users, all, cold-items")
    cmp.add_argument("--models", type=_csv_list, default=["pop", "itemknn", "bpr"])
    cmp.add_argument("--seeds", type=lambda s: [int(x) for x in _csv_list(s)], default=[0])
    cmp.add_argument("--rating-threshold", type=float, default=None, help="keep ratings >= this (default: all)")
    cmp.add_argument("--kcore", type=int, default=0)
    cmp.add_argument("--out", required=True, help="output folder")
    cmp.add_argument("--quiet", action="store_true")
    sub.add_parser("augmenters", help="list registered augmenters")
    sub.add_parser("models", help="list registered models")
    warm = sub.add_parser("warmup", help="pre-compile UMAP/numba and cache text embeddings")
    warm.add_argument("--background", action="store_true")
    return parser


def _cmd_compare(args: argparse.Namespace) -> int:
    from recaug.data.loading import load_dataset
    from recaug.experiment import ExperimentConfig, run_experiment
    from recaug.export import write_experiment

    dataset, report = load_dataset(args.data, items=args.items, rating_threshold=args.rating_threshold,
                                   kcore=args.kcore)
    config = ExperimentConfig(data=args.data, protocol=args.protocol, augmenters=args.augment, budget=args.budget,
                              target=args.target, models=args.models, seeds=args.seeds)

    def progress(fraction: float, message: str) -> None:
        if not args.quiet:
            print(f"\r[{fraction:6.1%}] {message[:70]:<70}", end="", file=sys.stderr, flush=True)

    result = run_experiment(dataset, config, progress=progress)
    if not args.quiet:
        print(file=sys.stderr)
    out = write_experiment(result, Path(args.out), prepare_report=report)
    print(f"wrote {', '.join(sorted(p.name for p in out))} to {args.out}")
    return 0


def _cmd_list(kind: str) -> int:
    if kind == "augmenters":
        from recaug.augment import AUGMENTERS as registry
    else:
        from recaug.models import MODELS as registry  # type: ignore[assignment]
    for name in registry.names():
        print(f"{name:<20} {registry.get(name).description}")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        if args.command == "compare":
            return _cmd_compare(args)
        if args.command in ("augmenters", "models"):
            return _cmd_list(args.command)
        if args.command == "warmup":
            from recaug.warmup import warm_up

            warm_up(background=args.background)
            return 0
    except RecaugInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
