"""Seeded synthetic long-tail interaction logs for the scale benchmark (``benchmarks/scale.py``).

User activity and item popularity are Zipf-like; users and items belong to latent topics, and a user picks an
item from their own topic most of the time, so personalised models have something to find. Items get a title and
a text built from their topic's words, so text similarity has structure too.

    PYTHONPATH=. .venv/bin/python benchmarks/scale_data.py 1m --out /tmp/recaug-scale
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ScaleSize:
    """One generated size: interactions, users, items."""

    name: str
    interactions: int
    users: int
    items: int
    activity_exponent: float = 0.8  # Zipf exponents: larger means a longer, heavier tail
    popularity_exponent: float = 0.9


SIZES = {
    size.name: size
    for size in (
        ScaleSize("100k", 100_000, 1_000, 1_700),
        ScaleSize("1m", 1_000_000, 6_000, 4_000),
        ScaleSize("3m", 3_000_000, 25_000, 12_000),
        ScaleSize("5m", 5_000_000, 50_000, 20_000),
        ScaleSize("10m", 10_000_000, 100_000, 25_000),
        ScaleSize("20m", 20_000_000, 140_000, 30_000),
        # A second shape at 1M for the speed targets: 5x the users and items, so a sparser matrix (0.17% dense
        # against 4.2%) with steeper activity and popularity tails.
        ScaleSize("1m-longtail", 1_000_000, 30_000, 20_000, activity_exponent=1.0, popularity_exponent=1.1),
        # 1M interactions on 3m's users and items: BPR's epoch from 1M to 3M with the tables held fixed, so the
        # data's growth and the tables' (cache) are measured apart (``benchmarks/speed.py --bpr 1m-wide,3m``).
        ScaleSize("1m-wide", 1_000_000, 25_000, 12_000),
    )
}
N_TOPICS = 24
OWN_TOPIC = 0.7
WORDS = [f"w{i}" for i in range(600)]


def zipf_weights(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Zipf-like weights over ``n`` entities in a random order, summing to one."""
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return rng.permutation(weights / weights.sum())


def generate(size: ScaleSize, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(interactions with user_id, item_id, rating, timestamp; items with item_id, title, text), unique pairs."""
    rng = np.random.default_rng(seed)
    user_topic = rng.integers(0, N_TOPICS, size.users)
    item_topic = rng.integers(0, N_TOPICS, size.items)
    activity = zipf_weights(size.users, size.activity_exponent, rng)
    popularity = zipf_weights(size.items, size.popularity_exponent, rng)
    # Items sorted by topic; within a topic, cumulative popularity offset by the topic number, so one
    # searchsorted over ``topic + uniform`` draws a popularity-weighted item of that topic.
    order = np.argsort(item_topic, kind="stable")
    topic_sorted = item_topic[order]
    topic_mass = np.bincount(item_topic, weights=popularity, minlength=N_TOPICS)
    within = np.cumsum(popularity[order]) - np.concatenate([[0.0], np.cumsum(topic_mass)])[topic_sorted]
    cumulative = topic_sorted + within / topic_mass[topic_sorted]
    keys = np.zeros(0, dtype=np.int64)
    while len(keys) < size.interactions:
        n = int((size.interactions - len(keys)) * 1.3) + 1000
        users = rng.choice(size.users, size=n, p=activity)
        topics = np.where(
            rng.random(n) < OWN_TOPIC, user_topic[users], rng.choice(N_TOPICS, size=n, p=topic_mass / topic_mass.sum())
        )
        position = np.searchsorted(cumulative, topics + rng.random(n) * 0.999999)
        items = order[np.minimum(position, size.items - 1)]
        keys = np.unique(np.concatenate([keys, users.astype(np.int64) * size.items + items]))
    keys = rng.permutation(keys)[: size.interactions]
    users, items = keys // size.items, keys % size.items
    interactions = pd.DataFrame(
        {
            "user_id": pd.Series(users).map("u{}".format),
            "item_id": pd.Series(items).map("i{}".format),
            "rating": rng.integers(1, 6, len(keys)).astype(float),
            "timestamp": 1_600_000_000 + np.sort(rng.integers(0, 86_400 * 365, len(keys))),
        }
    )
    topic_words = np.array(WORDS).reshape(N_TOPICS, -1)
    picks = rng.integers(0, topic_words.shape[1], size=(size.items, 6))
    texts = [" ".join(topic_words[topic, row]) for topic, row in zip(item_topic, picks, strict=True)]
    items_frame = pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(size.items)],
            "title": [f"Item {i} {text.split()[0]}" for i, text in enumerate(texts)],
            "text": texts,
        }
    )
    return interactions, items_frame


def write(size: ScaleSize, out: Path, seed: int = 0) -> tuple[Path, Path]:
    """Generate once and write ``<name>/interactions.csv`` and ``items.csv`` under ``out`` (reused if present)."""
    folder = out / size.name
    inter_path, items_path = folder / "interactions.csv", folder / "items.csv"
    if inter_path.exists() and items_path.exists():
        return inter_path, items_path
    folder.mkdir(parents=True, exist_ok=True)
    interactions, items = generate(size, seed)
    interactions.to_csv(inter_path.with_suffix(".tmp"), index=False)
    items.to_csv(items_path, index=False)
    inter_path.with_suffix(".tmp").rename(inter_path)
    return inter_path, items_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", choices=sorted(SIZES))
    parser.add_argument("--out", type=Path, default=Path("/tmp/recaug-scale"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for name in args.sizes:
        print(*write(SIZES[name], args.out, args.seed))


if __name__ == "__main__":
    main()
