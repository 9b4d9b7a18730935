"""The skill dial: how good must an LLM's picks be before ``llm-interactions`` improves BPR?

Simulated judges of known skill p stand in for the LLM. Every user's latest interaction is removed from the data
(the "held-out training item": no split ever sees it); ``llm-interactions`` (``choice="text"``, one pick per
targeted light user) asks the judge, which writes the user's held-out item with probability p and otherwise a
uniform pick among [that item + 9 random items the user has not seen] -- the skill check's candidate set, so the
check would measure a hit rate h = p + (1 - p) / 10 for it. The picks are real interactions with probability h and
random unseen items otherwise; every p competes as a variant of the same BPR experiment (seeds, A/A control,
significance as on main), so the table gives the primary-metric Δ and its verdict against h.

    PYTHONPATH=. .venv/bin/python benchmarks/skill_dial.py --data ml-100k --seeds 0 1 2
    PYTHONPATH=. .venv/bin/python benchmarks/skill_dial.py --data ml-100k --rating-threshold 4 --seeds 0 1 2
    PYTHONPATH=. .venv/bin/python benchmarks/skill_dial.py --data ml-100k --target all --seeds 0 1 2

``--target all`` asks every user (one pick each: about 4x the light-user budget), the larger budget at which a
threshold could exist when one pick per light user shows none.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from recaug.augment.base import AUGMENTERS, register, resolve_target
from recaug.augment.llm.llm_interactions import LLMInteractionsAugmenter
from recaug.data.dataset import Dataset
from recaug.data.loading import load_dataset
from recaug.data.schema import TIMESTAMP
from recaug.evaluate.significance import significance_table
from recaug.experiment import ExperimentConfig, run_experiment
from recaug.experiment.executor import SerialExecutor
from recaug.text.llm.base import Generation, LLMBackend, Scores

SKILLS = (0.1, 0.3, 0.5, 0.8, 1.0)
N_CANDIDATES = 10


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


def without_latest(dataset: Dataset) -> tuple[Dataset, dict[str, str]]:
    """The data without every user's latest interaction (users with 3+), and {user id: that item id}."""
    rows = dataset.interactions
    counts = rows.groupby("user_id")["item_id"].transform("size")
    latest = rows[counts >= 3].sort_values(["user_id", TIMESTAMP], kind="stable").groupby("user_id").tail(1)
    kept = rows.drop(index=latest.index)[[c for c in rows.columns if c not in ("user_idx", "item_idx")]]
    reduced = Dataset.from_frames(kept, dataset.items, name=f"{dataset.name}-minus-latest")
    return reduced, dict(zip(latest["user_id"].astype(str), latest["item_id"].astype(str), strict=True))


class Judge(LLMBackend):
    """Writes the user's held-out title with probability ``p``, else a uniform pick among the candidate set.

    The prompt's history block identifies the user (``answers``: block -> (held title, 9 other titles)). The draw
    is seeded by the prompt alone, so judges of different p share their random numbers (a smoother dial).
    """

    kind = "judge"

    def __init__(self, p: float, answers: dict[str, tuple[str, list[str]]]) -> None:
        super().__init__(model_id=f"judge-p{p:g}", cache=False)
        self.p, self.answers = p, answers

    def _generate(self, prompts: list[str], max_new_tokens: int, temperature: float, seed: int) -> list[Generation]:
        out = []
        for prompt in prompts:
            held, others = self.answers.get(prompt.split("\nCandidate ")[0], ("", []))
            rng = np.random.default_rng(int(hashlib.sha256(prompt.encode()).hexdigest()[:12], 16))
            draw, pick = rng.random(), rng.integers(0, len(others) + 1)
            out.append(Generation(held if draw < self.p or pick == len(others) else others[pick]))
        return out

    def _score(self, prompts: list[str], options_list: list[list[str]]) -> list[Scores]:
        raise NotImplementedError("the judge writes titles (choice='text')")


def judge_answers(dataset: Dataset, held: dict[str, str], config: ExperimentConfig) -> dict[str, tuple[str, list]]:
    """Per seed's training split: each targeted user's history block -> (held-out title, 9 unseen titles)."""
    answers: dict[str, tuple[str, list[str]]] = {}
    for seed in config.seeds:
        split = config.split_spec().build(dataset.interactions, seed)
        train = dataset.training_data(split.train)
        helper = LLMInteractionsAugmenter(backend=Judge(0.0, {}), item_noun="movie", choice="text").fit(train)
        rng = np.random.default_rng(seed)
        visible = np.flatnonzero(train.item_visible())
        item_index = {str(i): k for k, i in enumerate(train.item_ids)}
        for user in resolve_target(train, config.target).users:
            user_id = str(train.user_ids[user])
            if user_id not in held or held[user_id] not in item_index or train.user_degree()[user] == 0:
                continue
            unseen = visible[~np.isin(visible, train.history(int(user)))]
            others = rng.choice(unseen[unseen != item_index[held[user_id]]], size=N_CANDIDATES - 1, replace=False)
            block = helper.prompt(helper.recent_history(int(user)), np.array([], dtype=np.int64))
            answers[block.split("\nCandidate ")[0]] = (
                str(helper.titles_[item_index[held[user_id]]]),
                [str(helper.titles_[o]) for o in others],
            )
    return answers


def judge_variant(p: float) -> str:
    """Register (once) an ``llm-interactions`` subclass named for skill p, so every p is a variant of one run."""
    name = f"judge-p{p:g}"
    if name not in AUGMENTERS:
        register(type(f"Judge{int(p * 100)}", (LLMInteractionsAugmenter,), {"name": name, "description": name}))
    return name


def run(data: str, rating_threshold: float | None, seeds: list[int], out: Path, target: str = "light-users") -> dict:
    suffix = "" if target == "light-users" else f"-{target}"
    path = out / f"dial-{data}-{rating_threshold}-{'-'.join(map(str, seeds))}{suffix}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    dataset, _ = load_dataset(data, rating_threshold=rating_threshold)
    reduced, held = without_latest(dataset)
    config = ExperimentConfig(
        data=reduced.name, models=["bpr"], seeds=seeds, target=target, ks=[10, 20], metrics=["ndcg", "recall"]
    )
    answers = judge_answers(reduced, held, config)
    names = [judge_variant(p) for p in SKILLS]
    config.augmenters = names
    config.budget = 10**6  # one pick per targeted user, however many
    config.augmenter_params = {
        name: {"backend": Judge(p, answers), "choice": "text", "item_noun": "movie", "max_calls": 0}
        for name, p in zip(names, SKILLS, strict=True)
    }
    started, before = time.perf_counter(), load()
    # In this process: the judges are backend objects in the augmenter parameters, which a process pool would pickle.
    result = run_experiment(reduced, config, executor=SerialExecutor())
    saved = {
        "significance": significance_table(result),
        "info": result.augment_info,
        "seconds": time.perf_counter() - started,
        "load": f"{before} -> {load()}",
        "users": len(answers),
        "rows": len(reduced.interactions),
    }
    out.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(saved))
    return saved


def dial_table(saved: dict) -> pd.DataFrame:
    """Per p: the check's hit rate h, rows added, real share, and Δ + verdict of the primary metrics."""
    sig = saved["significance"]
    sig = sig[(sig["model"] == "bpr") & sig["slice"].isin(["all", "activity-q1", "light-users"])]
    keep = sig[((sig["metric"] == "ndcg") & (sig["k"] == 10)) | ((sig["metric"] == "recall") & (sig["k"] == 20))]
    info = pd.DataFrame(saved["info"])
    rows = []
    for p in SKILLS:
        name = f"judge-p{p:g}"
        mine = info[info["augmenter"] == name]
        row: dict[str, object] = {
            "p": p,
            "check hit rate h": round(p + (1 - p) / N_CANDIDATES, 2),
            "rows/seed": round(float(mine["kept"].mean()), 0) if len(mine) else 0,
        }
        for _, r in keep[keep["variant"] == name].iterrows():
            label = f"{r['metric']}@{r['k']} {r['slice']}"
            row[label] = f"{r['delta']:+.4f} [{r['ci_low']:+.4f}, {r['ci_high']:+.4f}] {r['verdict']}"
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="ml-100k")
    parser.add_argument("--rating-threshold", type=float, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("/tmp/recaug-skill-dial"))
    parser.add_argument("--target", default="light-users", choices=["light-users", "all"], help="who gets a pick")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    saved = run(args.data, args.rating_threshold, args.seeds, args.out, args.target)
    title = args.data + (f", ratings >= {args.rating_threshold:g}" if args.rating_threshold else "")
    title += f", one pick per user of target {args.target}"
    print(f"## Skill dial: {title}, BPR, seeds {args.seeds}, {saved['users']} judged users over the seeds")
    print(f"({saved['rows']:,} interactions after removing each user's latest; {saved['seconds']:.0f} s, load")
    print(f"{saved['load']})\n")
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 60):
        print(dial_table(saved).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
