"""Headless CLI: ``python -m recaug compare ...`` runs the dashboard's pipeline and writes the same tables."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recaug.core.errors import RecaugInputError
from recaug.core.progress import Cancelled, reporting
from recaug.core.runtime import prefer_single_thread_on_small_machines
from recaug.core.secrets import redact_text

if TYPE_CHECKING:
    from recaug.core.progress import ProgressClock


def _csv_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _key_values(text: str) -> dict[str, int | float | str]:
    """'n=3,fraction=0.2' -> {'n': 3, 'fraction': 0.2} (numbers typed, other values kept as text)."""
    out: dict[str, int | float | str] = {}
    for part in _csv_list(text):
        key, sep, value = part.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got '{part}'")
        try:
            out[key.strip()] = int(value)
        except ValueError:
            try:
                out[key.strip()] = float(value)
            except ValueError:
                out[key.strip()] = value.strip()
    return out


def _item_columns(text: str) -> dict[str, str | list[str]]:
    """--item-columns: 'item_id=sku,title=product_name,text=description+category' -> the items file's columns
    (several text columns joined by '+')."""
    from recaug.data.readers import CLI, item_columns_choice

    chosen: dict[str, str | list[str]] = {}
    for part in _csv_list(text):
        key, sep, value = (piece.strip() for piece in part.partition("="))
        if not sep or not key or not value:
            raise argparse.ArgumentTypeError(
                f"expected KEY=COLUMN pairs such as item_id=sku,title=product_name, got '{part}'"
            )
        chosen[key] = [c.strip() for c in value.split("+") if c.strip()] if key == "text" else value
    try:
        item_columns_choice(chosen, caller=CLI)
    except RecaugInputError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return chosen


def _budget(text: str) -> float | int:
    """--budget and each of --budgets: a share (10%% or 0.1) or a number of rows (2000), one parser for both."""
    from recaug.core.variants import parse_budget

    try:
        return parse_budget(text)
    except RecaugInputError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _budgets(text: str) -> list[float | int]:
    """--budgets: comma-separated budgets, each read as --budget is."""
    return [_budget(part) for part in _csv_list(text)]


def _seeds(text: str) -> list[int]:
    """--seeds: comma-separated whole numbers."""
    try:
        return [int(part) for part in _csv_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers separated by commas such as 0,1,2, got {text!r}"
        ) from None


def _non_negative(text: str, what: str = "a whole number") -> int:
    """A count that may be 0 (--kcore, --max-per-user ...); ``what`` names it in the error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


TARGET_IDS = "ids:"  # --target ids:u1,u2,u3: these users, by id, instead of a named target


def _target(text: str) -> str | list[str]:
    """--target: a named target (light-users, all, cold-items) or ``ids:`` and a comma-separated list of user ids."""
    from recaug.augment.targets import TARGETS

    if text.strip().lower().startswith(TARGET_IDS):
        ids = _csv_list(text.strip()[len(TARGET_IDS) :])
        if not ids:
            raise argparse.ArgumentTypeError("expected user ids after 'ids:', e.g. ids:u1,u2,u3")
        return ids
    if text not in TARGETS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(TARGETS)} or ids:ID1,ID2,..., got {text!r}")
    return text


def _prog() -> str:
    """What the user typed to run the CLI: ``recaug`` (the console script) or ``python -m recaug``."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return "python -m recaug" if name in ("", "__main__.py", "-c") or name.startswith("python") else name


def _task_cpus(text: str) -> float:
    """--ray-task-cpus: CPUs each Ray task declares (a fraction packs more fits per core)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of CPUs, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 CPUs, got {text}")
    return value


def _task_memory(text: str) -> int:
    """--ray-task-memory: bytes each Ray task declares, with an optional K/M/G suffix (powers of 1024)."""
    number, unit = text.strip().upper().rstrip("B"), 1
    if number[-1:] in ("K", "M", "G"):
        number, unit = number[:-1], 1024 ** (" KMG".index(number[-1]))
    try:
        value = int(float(number) * unit)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected bytes such as 2G or 512M, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 bytes, got {text}")
    return value


def _workers(text: str) -> int:
    """--workers: a count of processes; 0 or 'auto' means one per core."""
    if text.strip().lower() == "auto":
        return 0
    return _non_negative(text, "a number of processes or 'auto'")


def build_parser() -> argparse.ArgumentParser:
    from recaug.models import MODELS
    from recaug.reporting.runs import RUNS_DIR_HELP

    parser = argparse.ArgumentParser(prog=_prog(), description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser("compare", help="baseline vs augmented models on one split; writes results.csv etc.")
    cmp.add_argument(
        "--data",
        default="ml-100k",
        help="built-in name (ml-100k) or a path: CSV/TSV/TXT/DAT (delimiter incl. ::, header and encoding detected), "
        "Parquet, JSON lines or a JSON array (Amazon Reviews, Goodreads, Yelp), or any of them gzipped or zipped "
        "(default: ml-100k)",
    )
    cmp.add_argument("--items", default=None, help="optional items file (item id + title, genres, description...)")
    cmp.add_argument(
        "--item-columns",
        type=_item_columns,
        default=None,
        help="which of the items file's columns are the item id, the title and the text, e.g. "
        "item_id=sku,title=product_name,text=description+category (default: detected from their names; text: "
        "every worded column)",
    )
    cmp.add_argument("--name", default=None, help="what runs and reports call the data (default: the file name)")
    cmp.add_argument("--label", default="", help="a label for this run in the run store")
    cmp.add_argument(
        "--no-header", action="store_true", help="the interactions file has no header row (the first line is data)"
    )
    cmp.add_argument(
        "--columns",
        type=_csv_list,
        default=None,
        help="names of the interactions file's columns in order, e.g. user_id,item_id,rating,timestamp "
        "(for files without a header, or to replace it)",
    )
    cmp.add_argument(
        "--date-format",
        default="auto",
        help="how the file writes dates: auto (a day above 12 decides; a file both readings fit is refused), "
        "day-first (31.12.2024), month-first (12/31/2024) or a strftime format such as %%d.%%m.%%Y",
    )
    cmp.add_argument(
        "--dayfirst", action="store_true", help="dates are written day first (same as --date-format day-first)"
    )
    cmp.add_argument(
        "--decimal", default="auto", choices=["auto", ".", ","], help="decimal mark (auto: a comma in ';' files)"
    )
    from recaug.data.splits import SPLITS

    cmp.add_argument("--protocol", default="random-811", choices=SPLITS.names(), help="split protocol")
    cmp.add_argument(
        "--protocol-params",
        type=_key_values,
        default={},
        help="protocol parameters, e.g. 'n=3,share=0.2' (cold-users) or 'fraction=0.15' (cold-items)",
    )
    cmp.add_argument(
        "--augment",
        type=_csv_list,
        default=None,
        help="comma-separated augmenters (default: similarity where items have text, else itemknn-expansion)",
    )
    cmp.add_argument(
        "--budget",
        type=_budget,
        default=0.1,
        help="synthetic rows: a share of the training rows (10%% or 0.1) or a count (2000) (default: 10%%)",
    )
    cmp.add_argument(
        "--budgets",
        type=_budgets,
        default=[],
        help="budget sweep: every --augment method at each of these budgets, one shared baseline "
        "(e.g. 2%%,5%%,10%%,20%% or 500,2000); variants are named method@budget",
    )
    cmp.add_argument(
        "--target",
        type=_target,
        default="light-users",
        help="who receives synthetic rows: light-users (the lightest quarter), all, cold-items, or listed users as "
        "ids:u1,u2,u3 (default: light-users)",
    )
    cmp.add_argument(
        "--max-per-user",
        type=_non_negative,
        default=0,
        help="at most this many synthetic rows per user, each user's most confident first (default 0: no cap)",
    )
    cmp.add_argument(
        "--max-per-item",
        type=_non_negative,
        default=0,
        help="at most this many synthetic rows per item, against generators that collapse onto popular items "
        "(default 0: no cap)",
    )
    cmp.add_argument(
        "--denoise",
        type=float,
        default=0.0,
        help="drop this fraction of synthetic rows a train-only BPR finds least plausible (default 0)",
    )
    cmp.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="METHOD.KEY=VALUE",
        help="an augmenter parameter, repeatable: cfgan.epochs=30, ensemble.members=random+popularity, "
        "*.max_per_user=5 (`python -m recaug augmenters --params` lists them)",
    )
    cmp.add_argument(
        "--models",
        type=_csv_list,
        default=["pop", "itemknn", "bpr"],
        help=f"comma-separated, from: {', '.join(MODELS.names())} (`{_prog()} models` describes them) "
        "(default: pop,itemknn,bpr)",
    )
    cmp.add_argument(
        "--seeds",
        type=_seeds,
        default=[0, 1, 2],
        help="split and model seeds, the same for baseline and augmented (default 0,1,2)",
    )
    cmp.add_argument(
        "--primary",
        type=_csv_list,
        default=["ndcg@10", "recall@20"],
        help="the question declared before the run: these metric@k rows on slice all and on each arm's target "
        "slice are tested (Benjamini-Hochberg per model and arm); every other row is exploratory "
        "(default ndcg@10,recall@20)",
    )
    cmp.add_argument(
        "--max-seeds",
        type=_non_negative,
        default=0,
        help="add seeds (2 at a time, up to this many in all) while a primary row is undecided and could still be "
        "decided; looks share alpha so false verdicts stay <= 5%% (default 0: exactly --seeds)",
    )
    cmp.add_argument(
        "--rating-threshold",
        type=lambda text: text if text == "auto" else float(text),
        default=None,
        help="keep ratings >= this; 'auto' follows the rating scale (4 of 5, 8 of 10) (default: all)",
    )
    cmp.add_argument(
        "--kcore",
        type=_non_negative,
        default=0,
        help="keep only users and items with at least this many interactions, repeatedly (0: keep all)",
    )
    cmp.add_argument(
        "--llm-backend",
        choices=["local", "openai"],
        default=None,
        help="LLM backend of the llm-* augmenters (default: local, the packaged SmolLM2)",
    )
    cmp.add_argument("--llm-model", default=None, help="local HF model folder, or the model name on the server")
    cmp.add_argument("--llm-base-url", default=None, help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1")
    cmp.add_argument(
        "--llm-key-from-url",
        action="store_true",
        help="send credentials typed into --llm-base-url (user:KEY@ or ?key=KEY) as the API key; without it they are "
        "dropped (never sent, always redacted)",
    )
    cmp.add_argument("--llm-target", default=None, help="target of the llm-* augmenters (default: --target)")
    cmp.add_argument("--llm-max-users", type=int, default=None, help="users the llm-* augmenters prompt about")
    cmp.add_argument(
        "--llm-max-items", type=int, default=None, help="items llm-item-text, llm-cold-items and llm-init prompt about"
    )
    cmp.add_argument(
        "--llm-max-calls", type=int, default=None, help="most LLM calls per augmentation and seed (0: no cap; 2000)"
    )
    cmp.add_argument("--llm-timeout", type=float, default=None, help="seconds per server request (default 60)")
    cmp.add_argument(
        "--llm-concurrency", type=int, default=None, help="concurrent server requests / local batch size (default 8)"
    )
    cmp.add_argument(
        "--llm-item-noun",
        default=None,
        help="what prompts call an item, e.g. product or book (default: movie for ml-100k, else item)",
    )
    cmp.add_argument(
        "--no-llm-estimate", action="store_true", help="skip the measured cost estimate printed before LLM runs"
    )
    cmp.add_argument(
        "--llm-min-skill",
        default="encoder",
        help="skill check before any LLM call is spent: encoder (default: the LLM must beat chance and the free "
        "sentence encoder at picking a held-out training item), chance, a hit rate such as 0.2, or off",
    )
    cmp.add_argument(
        "--llm-insist", action="store_true", help="spend the LLM budget even when the LLM fails the skill check"
    )
    cmp.add_argument(
        "--aa-control",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also refit the baseline with fresh seeds (the A/A control: a calibration check of its own family; off "
        "by default because its fits, a third of the run, buy more power spent as seeds)",
    )
    cmp.add_argument("--out", required=True, help="output folder")
    cmp.add_argument("--runs-dir", default=None, help=RUNS_DIR_HELP)
    cmp.add_argument("--no-save", action="store_true", help="do not save this comparison in the run store")
    cmp.add_argument("--quiet", action="store_true")
    cmp.add_argument(
        "--executor",
        choices=["local", "serial", "ray"],
        default="local",
        help="where the fits run: a local process pool (default), this process only, or tasks on a Ray cluster "
        "(identical results)",
    )
    cmp.add_argument(
        "--workers",
        type=_workers,
        default=0,
        help="processes of the local pool: a number, or 0/auto for one per core (default)",
    )
    cmp.add_argument(
        "--ray-address",
        default=None,
        help="a running Ray cluster, HOST:PORT (default with --executor ray: a local head on 127.0.0.1)",
    )
    cmp.add_argument(
        "--ray-task-cpus",
        type=_task_cpus,
        default=None,
        help="CPUs each fit declares on Ray (default 1; every fit runs single-threaded)",
    )
    cmp.add_argument(
        "--ray-task-memory",
        type=_task_memory,
        default=None,
        help="memory each fit declares on Ray, e.g. 4G (default: none declared), so Ray packs no more fits on a "
        "node than fit in its memory",
    )
    cmp.add_argument(
        "--config",
        default=None,
        metavar="CONFIG",
        help="rerun a saved comparison: its config.json, an --out folder, or a saved run's id (or the start or "
        "last 6 characters of it, as `runs show` takes): same settings, "
        "same data (found again and checked by its fingerprint; --data PATH if the file moved), identical "
        "results files; only output flags may be added",
    )
    cmp.add_argument(
        "--top-k-out",
        type=int,
        default=0,
        metavar="K",
        help="also write every model's top-K lists for the test users, per arm and seed, as Parquet under "
        "OUT/top_k/model=.../variant=.../seed=.../ (read back with pandas.read_parquet(OUT/top_k))",
    )
    cmp.add_argument(
        "--mlflow",
        nargs="?",
        const="",
        default=None,
        metavar="URI",
        help="log parameters, metrics, verdicts and the result files to MLflow (default store: "
        "$MLFLOW_TRACKING_URI or sqlite:///<recaug home>/mlflow.db); needs `pip install 'recaug[mlflow]'`",
    )
    cmp.add_argument("--mlflow-experiment", default="recaug", help="MLflow experiment name (default recaug)")
    sub.add_parser("augmenters", help="list registered augmenters").add_argument(
        "--params", action="store_true", help="also list each augmenter's settable parameters and defaults"
    )
    sub.add_parser("models", help="list registered models")
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--dir", "--runs-dir", dest="dir", default=None, help=RUNS_DIR_HELP)
    runs = sub.add_parser("runs", help="saved runs: list (the default), show ID, delete ID, compare A B")
    # `recaug runs --dir X` (no subcommand: list): its own dest, as a subcommand's default would overwrite it
    runs.add_argument("--dir", "--runs-dir", dest="store_dir", default=None, help=RUNS_DIR_HELP)
    runs_sub = runs.add_subparsers(dest="runs_command")
    runs.set_defaults(runs_command="list", dir=None)  # after add_subparsers: `recaug runs` alone lists the runs
    runs_sub.add_parser("list", help="list saved runs, newest first", parents=[store])
    show = runs_sub.add_parser("show", help="one run's verdicts and notes (--full: every table)", parents=[store])
    show.add_argument("run_id")
    show.add_argument(
        "--full", action="store_true", help="also print the settings, before/after, significance and fidelity tables"
    )
    delete = runs_sub.add_parser("delete", help="delete a saved run (damaged ones too)", parents=[store])
    delete.add_argument("run_id")
    delete.add_argument(
        "--yes", "-y", action="store_true", help="delete without asking (needed when not on a terminal)"
    )
    runs_cmp = runs_sub.add_parser("compare", help="results of two runs side by side", parents=[store])
    runs_cmp.add_argument("run_a")
    runs_cmp.add_argument("run_b")
    runs_cmp.add_argument("--all-rows", action="store_true", help="every cell of both runs, not only the primary rows")
    memo = sub.add_parser("memorisation", help="does an LLM complete the data's item titles from memory? (quick)")
    memo.add_argument("--data", default="ml-100k", help="built-in name or a file with an item title column")
    memo.add_argument("--items", default=None, help="item metadata file (title column)")
    memo.add_argument(
        "--item-columns", type=_item_columns, default=None, help="as compare's: e.g. item_id=sku,title=product_name"
    )
    memo.add_argument(
        "--llm-backend",
        choices=["local", "openai"],
        default=None,
        help="default: openai when --llm-base-url is given, else the packaged local model (as compare)",
    )
    memo.add_argument("--llm-model", default=None)
    memo.add_argument("--llm-base-url", default=None)
    memo.add_argument("--llm-key-from-url", action="store_true")
    memo.add_argument("--llm-timeout", type=float, default=60.0, help="seconds a server request may take")
    memo.add_argument("--titles", type=int, default=40, help="titles to test (two scoring calls each)")
    memo.add_argument("--seed", type=int, default=0)
    warm = sub.add_parser("warmup", help="pre-compile UMAP/numba and cache text embeddings")
    warm.add_argument("--background", action="store_true")
    dash = sub.add_parser("dashboard", help="start the Streamlit dashboard (on 127.0.0.1:8501 by default)")
    dash.add_argument("--port", type=int, default=8501)
    dash.add_argument("--address", default="127.0.0.1", help="interface to listen on (default: this machine only)")
    dash.add_argument("streamlit_args", nargs="*", help="more Streamlit flags after --, e.g. -- --theme.base=dark")
    sub.add_parser(
        "assets", help="the packages carrying MovieLens-100k and the offline models: status, --install"
    ).add_argument("--install", action="store_true", help="pip-install the missing ones (--no-deps, pinned)")
    return parser


def _cmd_memorisation(args: argparse.Namespace) -> int:
    from recaug.data.loading import load_dataset
    from recaug.data.readers import CLI
    from recaug.text.llm.memorisation import check_memorisation

    dataset, _ = load_dataset(args.data, items=args.items, item_columns=args.item_columns, caller=CLI)
    backend = args.llm_backend or ("openai" if args.llm_base_url else "local")
    options = {"key_from_url": args.llm_key_from_url, "timeout": args.llm_timeout} if backend == "openai" else {}
    titles = dataset.items["title"].tolist()
    check = check_memorisation(
        titles, backend, args.llm_model, args.llm_base_url, n_titles=args.titles, seed=args.seed, **options
    )
    print(check.line())
    print(f"cost: {check.calls} scoring calls, {check.requests} requests, {check.seconds:.1f} s", file=sys.stderr)
    return 0


def _cmd_assets(install: bool) -> int:
    from recaug.core.carriers import install_command, missing, status_lines

    print("\n".join(status_lines()))
    absent = missing()
    if not absent:
        return 0
    command = install_command(absent)
    if not install:
        shown = " ".join(["python", *command[1:]])
        print(f"install the missing ones with `recaug assets --install` ({shown})", file=sys.stderr)
        return 1
    import subprocess

    return subprocess.call(command)


def _cmd_compare(args: argparse.Namespace) -> int:
    from recaug.augment.llm.llm_common import llm_augmenter_params
    from recaug.augment.options import merge_params, parse_param_assignments, shared_options
    from recaug.core.variants import sweep
    from recaug.data.builtin import item_noun_for
    from recaug.data.loading import load_dataset
    from recaug.data.readers import CLI
    from recaug.data.regional import RegionalFormat
    from recaug.evaluate.significance import significance_table, verdict_summary, weak_baseline_warning
    from recaug.experiment import ExperimentConfig, run_experiment
    from recaug.experiment.rerun import LOAD_KEY, load_arguments
    from recaug.experiment.result import model_use_notes
    from recaug.reporting.export import redact_secrets, to_csv_bytes, write_experiment
    from recaug.reporting.runs import record_comparison

    reading = dict(
        items=args.items,
        item_columns=args.item_columns,
        rating_threshold=args.rating_threshold,
        kcore=args.kcore,
        name=args.name,
        header=False if args.no_header else None,
        columns=args.columns,
        regional=RegionalFormat(dates="day-first" if args.dayfirst else args.date_format, decimal=args.decimal),
    )
    if not args.config:  # bad protocol parameters and seeds are refused before the data loads (walks 12, 13)
        from recaug.data.splits import SplitSpec

        SplitSpec.of(args.protocol, args.protocol_params)
        ExperimentConfig(seeds=args.seeds, max_seeds=args.max_seeds).check_seeds()
    saved = _saved_comparison(args)  # --config: the recorded experiment, on its own data
    dataset, report = saved.data if saved else load_dataset(args.data, **reading, caller=CLI)
    for note in report.notes if report else ():
        print(f"note: {note}", file=sys.stderr)
    for data_warning in report.warnings if report else ():
        print(f"warning: {data_warning}", file=sys.stderr)
    if args.augment is None:
        from recaug.augment.item_text import default_methods

        args.augment = default_methods(dataset)
    config = (
        saved.config
        if saved
        else ExperimentConfig(
            data=args.name or args.data,  # a path reruns the comparison; --name is what the user calls it
            protocol=args.protocol,
            protocol_params=args.protocol_params,
            augmenters=sweep(args.augment, args.budgets) if args.budgets else args.augment,
            budget=args.budget,
            target=args.target,
            models=args.models,
            seeds=args.seeds,
            primary=args.primary,
            max_seeds=args.max_seeds,
            aa_control=args.aa_control,
            augmenter_params=merge_params(
                shared_options(
                    args.augment, denoise=args.denoise, max_per_user=args.max_per_user, max_per_item=args.max_per_item
                ),
                llm_augmenter_params(
                    args.augment,
                    backend=args.llm_backend,
                    model=args.llm_model,
                    base_url=args.llm_base_url,
                    key_from_url=args.llm_key_from_url or None,
                    target=args.llm_target,
                    max_users=args.llm_max_users,
                    max_items=args.llm_max_items,
                    max_calls=args.llm_max_calls,
                    timeout=args.llm_timeout,
                    batch_size=args.llm_concurrency,
                    item_noun=args.llm_item_noun or item_noun_for(dataset.name),
                    min_skill=args.llm_min_skill,
                    insist=args.llm_insist or None,
                ),
                parse_param_assignments(args.param, args.augment),
            ),
        )
    )
    config.save_top_k = args.top_k_out or config.save_top_k

    from recaug.experiment.steps import comparison_clock

    progress = _terminal_progress(args.quiet, comparison_clock(config, dataset.fingerprint()))
    from recaug.augment.item_text import id_text_warning

    if (id_warning := id_text_warning(dataset, config.augmenters, config.augmenter_params)) is not None:
        print(f"warning: {id_warning}", file=sys.stderr)
    if not args.no_llm_estimate:
        from recaug.augment.llm.llm_estimate import estimate_llm_variants

        estimates = estimate_llm_variants(dataset, config)
        for estimate in estimates:
            print(f"estimate per seed: {redact_text(estimate.line())}", file=sys.stderr)
    from recaug.experiment.executor import make_executor

    executor = make_executor(  # bad combinations fail here
        args.executor,
        args.ray_address,
        workers=args.workers,
        task_cpus=args.ray_task_cpus,
        task_memory=args.ray_task_memory,
    )
    interrupted = False
    with stop_on_ctrl_c(progress) as watched:
        try:
            result = run_experiment(dataset, config, progress=watched, executor=executor, fidelity=True)
        except Cancelled as stop:
            if stop.partial is None:
                print("\nstopped (Ctrl-C) before any seed finished: nothing written", file=sys.stderr)
                return INTERRUPTED
            result = stop.partial
            kept = ", ".join(map(str, result.config.seeds))
            print(
                f"\nstopped (Ctrl-C): writing the {len(result.config.seeds)} finished seed(s) ({kept})", file=sys.stderr
            )
            interrupted = True
    if (placement := getattr(executor, "placement", None)) is not None and not args.quiet:
        print(f"\nray: {placement()}", file=sys.stderr)  # where the fits ran: a cluster's nodes
    if not args.no_llm_estimate:
        from recaug.experiment.cost import count_estimate_requests

        count_estimate_requests(result, estimates)
    if not args.quiet:
        print(file=sys.stderr)
    from recaug.augment.llm.llm_common import llm_warnings

    for warning in llm_warnings(result.augment_info, insist="pass --llm-insist to spend anyway"):
        print(f"warning: {warning}", file=sys.stderr)
    from recaug.augment.llm.skill import SKILL_FILE, skill_notes, skill_table

    for skill_note in skill_notes(result.augment_info, insist="pass --llm-insist to run it"):
        print(f"LLM skill check: {skill_note}")
    load = saved.load if saved else load_arguments(args.data, **reading)
    out = write_experiment(result, Path(args.out), prepare_report=report, extra={LOAD_KEY: load})
    out += _write_top_k(result, Path(args.out))
    if (skill := skill_table(result.augment_info)) is not None:
        (Path(args.out) / SKILL_FILE).write_bytes(to_csv_bytes(skill))
        out.append(Path(args.out) / SKILL_FILE)
    significance = significance_table(result)
    recorded = record_comparison(
        dataset,
        result,
        out=args.out,
        save=not args.no_save,
        root=args.runs_dir,
        significance=significance,
        label=args.label,
        progress=_terminal_progress(args.quiet, stage="saving"),
    )
    out += recorded.written
    if not args.quiet:
        print(file=sys.stderr)
    stopping = result.stopping.sentence() if result.stopping else ""
    print(verdict_summary(significance, stopping=stopping, protocol=result.config.protocol))
    if weak_baseline_warning(result.results):
        print(f"warning: {weak_baseline_warning(result.results)}")
    for model_note in model_use_notes(result):
        print(f"note: {model_note}")
    print(f"wrote {written_names(out, Path(args.out))} to {args.out}")
    if recorded.run is not None:
        print(f"saved run {recorded.run.run_id} in {recorded.run.path.parent}")
    if args.mlflow is not None:
        from recaug.reporting.mlflow_export import log_comparison, run_tags

        run_id = recorded.run.run_id if recorded.run else None
        logged = log_comparison(
            redact_secrets(result.config.to_dict()),
            result.results,
            significance,
            folder=Path(args.out),
            tracking_uri=args.mlflow or None,
            experiment=args.mlflow_experiment,
            run_name=run_id,
            tags=run_tags(dataset.name, result.fingerprint, run_id),
        )
        print(f"logged to MLflow run {logged.run_id} (experiment {args.mlflow_experiment}, {logged.tracking_uri})")
    return INTERRUPTED if interrupted else 0


# With --config the experiment comes from the file: only these flags (where output goes, how it runs) may be added.
RERUN_FLAGS = frozenset(
    {"command", "config", "data", "out", "runs_dir", "no_save", "quiet", "label", "executor", "ray_address"}
    | {"ray_task_cpus", "ray_task_memory", "top_k_out", "mlflow", "mlflow_experiment", "no_llm_estimate"}
)


@dataclass
class _Saved:
    data: tuple[Any, Any]  # (Dataset, PrepareReport | None)
    config: Any  # ExperimentConfig
    load: dict[str, Any] | None


def _saved_comparison(args: argparse.Namespace) -> _Saved | None:
    """With --config: the saved experiment and its data (fingerprint-checked); None without it.

    Refuses flags that would change the experiment: the rerun must be the saved one (edit the file to change it).
    """
    if not args.config:
        return None
    from recaug.data.readers import CLI
    from recaug.experiment.rerun import read_saved, saved_dataset

    defaults = vars(build_parser().parse_args(["compare", "--out", args.out]))
    changed = sorted(k for k, v in vars(args).items() if k not in RERUN_FLAGS and v != defaults.get(k))
    if changed:
        flags = ", ".join("--" + k.replace("_", "-") for k in changed)
        raise RecaugInputError(
            f"--config reruns the saved experiment exactly; {flags} would change it",
            file=args.config,
            fix="drop those flags, or edit the config file (or run without --config)",
        )
    saved = read_saved(_config_path(args.config, args.runs_dir))
    saved.config.split_spec()  # its protocol parameters are checked before its data loads
    default_data = defaults["data"]
    data = saved_dataset(
        saved, runs_dir=args.runs_dir, data=None if args.data == default_data else args.data, caller=CLI
    )
    return _Saved(data=data, config=saved.config, load=saved.load)


def _config_path(config: str, runs_dir: str | None) -> Path:
    """--config: a config.json or a folder holding one, else a saved run's id (or part of it, as `runs show`)."""
    if Path(config).exists() or config.endswith(".json") or any(sep in config for sep in ("/", "\\")):
        return Path(config)  # a path: read_saved says what is wrong with it
    from recaug.reporting.runs import resolve_run_id

    try:
        return resolve_run_id(config, runs_dir)
    except RecaugInputError as err:
        raise RecaugInputError(
            f"--config {config}: no such file or folder, and {err.problem}",
            fix="give a config.json, an --out folder, or a saved run's id (`recaug runs list` lists them)",
        ) from None


def written_names(paths: list[Path], out: Path) -> str:
    """The files written to ``out``, by name; a subfolder (top_k/) once, with its file count, not file by file."""
    names: set[str] = set()
    folders: Counter[str] = Counter()
    for path in paths:
        parts = path.relative_to(out).parts if path.is_relative_to(out) else (path.name,)
        if len(parts) > 1:
            folders[parts[0]] += 1
        else:
            names.add(parts[0])
    listed = [*names, *(f"{folder}/ ({n:,} {'file' if n == 1 else 'files'})" for folder, n in folders.items())]
    return ", ".join(sorted(listed))


def _write_top_k(result: Any, out: Path) -> list[Path]:
    """OUT/top_k/... when the config asked for top-k lists."""
    if not result.config.save_top_k:
        return []
    from recaug.reporting.top_k import write_top_k

    return write_top_k(result.top_k, out)


INTERRUPTED = 130  # the shell's exit status for a run ended by Ctrl-C


@contextmanager
def stop_on_ctrl_c(progress: Callable[[float, str], None]) -> Iterator[Callable[[float, str], None]]:
    """A progress callback that stops the comparison at its next report after the first Ctrl-C, the dashboard's
    Stop for a terminal: finished seeds are kept (``Cancelled.partial``) and written. A second Ctrl-C ends at once.

    Why not the default: a KeyboardInterrupt lands wherever the driver is (inside an LLM request's thread pool,
    say), prints a long traceback and loses every finished seed."""
    import signal

    asked = threading.Event()

    def first(signum: int, frame: Any) -> None:
        asked.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # the second one interrupts at once
        print("\nstopping at the next step (finished seeds are kept; Ctrl-C again to quit now)", file=sys.stderr)

    def watched(fraction: float, message: str) -> None:
        if asked.is_set():
            raise Cancelled("stopped by Ctrl-C")
        progress(fraction, message)

    def noted(message: str) -> None:
        if asked.is_set():
            raise Cancelled("stopped by Ctrl-C")

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, first) if main_thread else None
    try:
        with reporting(noted):
            yield watched
    finally:
        if main_thread:
            signal.signal(signal.SIGINT, previous)


def _terminal_progress(
    quiet: bool, clock: ProgressClock | None = None, stage: str = ""
) -> Callable[[float, str], None]:
    """A progress bar on stderr with the running step's name and the time left (``clock``: a comparison's, priced
    by its steps; else linear in the fraction): redrawn in place on a terminal (at most 5 times a second), one line
    every 5 s when stderr is a file or pipe. ``stage``: a short phase after the main one (saving), drawn as
    'saving · writing the HTML report' without a bar, so the finished run's bar does not seem to go back."""
    import shutil
    import time

    from recaug.core.progress import ProgressClock, render_bar

    clock = clock or ProgressClock()
    tty, last = sys.stderr.isatty(), [-1e9]

    def report(fraction: float, message: str) -> None:
        clock.observe(fraction, message)  # every step is timed, drawn or not
        now = time.monotonic()
        if quiet or (now - last[0] < (0.2 if tty else 5.0) and fraction < 1.0):
            return
        last[0] = now
        line = f"{stage} · {message}" if stage else render_bar(fraction, message, clock.remaining(fraction))
        if tty:
            width = shutil.get_terminal_size().columns - 1
            print(f"\r{line[:width]:<{width}}", end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    return report


def _cmd_list(kind: str, with_params: bool = False) -> int:
    if kind == "augmenters":
        from recaug.augment import AUGMENTERS as registry
    else:
        from recaug.models import MODELS as registry  # type: ignore[assignment]
    for name in registry.names():
        print(f"{name:<20} {registry.get(name).description}")
        if with_params:
            from recaug.augment.options import param_specs

            for spec in param_specs(name, include_base=True):
                values = f" (one of {', '.join(spec.choices)})" if spec.choices else ""
                print(f"{'':<22}{name}.{spec.name}={_show(spec.default)}  [{spec.kind}]{values}")
    return 0


def _show(value: object) -> str:
    """A default as it would be typed after ``--param``."""
    return "+".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def _cmd_runs(args: argparse.Namespace) -> int:
    from recaug.reporting.runs import compare_runs, describe_run, list_runs, load_run, run_summary

    args.dir = args.dir or getattr(args, "store_dir", None)
    if args.runs_command == "list":
        runs = list_runs(args.dir)
        print(runs.drop(columns="path").to_string(index=False) if len(runs) else "no saved runs")
    elif args.runs_command == "show":
        run = load_run(args.run_id, args.dir)
        print(
            describe_run(run)
            if args.full
            else run_summary(run, full_command=f"{_prog()} runs show {args.run_id} --full")
        )
    elif args.runs_command == "delete":
        return _cmd_delete(args)
    else:
        from recaug.reporting.runs import (
            arm_difference_text,
            comparison_labels,
            comparison_warning_text,
            readable_comparison,
            shared_first,
        )

        table = compare_runs(args.run_a, args.run_b, args.dir)
        if table.attrs["warnings"]:  # other data, split or metrics: printed before the rows it qualifies
            print(f"warning: {comparison_warning_text(table.attrs['warnings'])}", file=sys.stderr)
        if table.attrs["arm_differences"]:  # a shared arm made with other settings (denoise, seeds, budget)
            print(f"note: {arm_difference_text(table.attrs['shared_arms'], table.attrs['arm_differences'])}")
        if not args.all_rows:
            from recaug.reporting.run_verdicts import primary_side_by_side

            print("primary rows of both runs (every cell: --all-rows):")
            table = shared_first(primary_side_by_side(args.run_a, args.run_b, args.dir))
        print(readable_comparison(table).rename(columns=comparison_labels(list(table.columns))).to_string(index=False))
    return 0


def _cmd_delete(args: argparse.Namespace) -> int:
    """``runs delete ID``: asks first on a terminal; --yes deletes without asking; elsewhere refuses without --yes."""
    from recaug.reporting.runs import delete_run, deletion_question, resolve_run_id

    if not args.yes:
        question = deletion_question(resolve_run_id(args.run_id, args.dir))
        if not sys.stdin.isatty():
            raise RecaugInputError(
                f"not deleting run {question} without confirmation (no terminal to ask on)",
                fix=f"add --yes: `{_prog()} runs delete {args.run_id} --yes`",
            )
        answer = input(f"delete run {question}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("not deleted")
            return 1
    print(f"deleted run {delete_run(args.run_id, args.dir)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    prefer_single_thread_on_small_machines()
    logging.basicConfig(level=logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        if args.command == "compare":
            return _cmd_compare(args)
        if args.command in ("augmenters", "models"):
            return _cmd_list(args.command, with_params=getattr(args, "params", False))
        if args.command == "runs":
            return _cmd_runs(args)
        if args.command == "warmup":
            from recaug.analysis.warmup import warm_up

            warm_up(background=args.background)
            return 0
        if args.command == "dashboard":
            from recaug.dashboard import run_dashboard

            return run_dashboard(port=args.port, address=args.address, extra=args.streamlit_args)
        if args.command == "assets":
            return _cmd_assets(args.install)
        if args.command == "memorisation":
            return _cmd_memorisation(args)
    except RecaugInputError as err:
        print(f"error: {redact_text(str(err))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the second Ctrl-C (or one outside a comparison): quit without a traceback
        print("\nstopped (Ctrl-C)", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # `recaug augmenters | head` closed the pipe: stop quietly, not with a traceback
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit-time flush must not fail again
        return 1
    return 1


if __name__ == "__main__":
    sys.exit(main())
