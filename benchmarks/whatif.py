"""What-if answer times on ML-100k (target: each answer within a few seconds on 2 cores, models already fitted).

    PYTHONPATH=. .venv/bin/python benchmarks/whatif.py

Prints one table: building the content index once per split, the first new-item answer in a process
(loads the sentence encoder), later new-item answers, and a new-user answer across fitted models.
"""

from __future__ import annotations

import sys
import time


def main() -> int:
    from recaug.analysis.whatif import build_content_index, new_item_whatif, new_user_recommendations
    from recaug.data.builtin import load_ml100k
    from recaug.data.dataset import Dataset
    from recaug.data.splits import make_split
    from recaug.models import MODELS, create_model

    interactions, items = load_ml100k()
    dataset = Dataset.from_frames(interactions, items, name="ml-100k")
    train = dataset.training_data(make_split(dataset.interactions, "random-811", 0).train)
    models = {}
    for name in (n for n in ("pop", "itemknn", "ease", "lightgcn", "bpr") if n in MODELS.names()):
        quick = {"max_epochs": 10} if "max_epochs" in MODELS.get(name).param_names() else {}
        models[(name, "baseline", 0)] = create_model(name, **quick).fit(train.matrix)
    rows: list[tuple[str, float]] = []

    started = time.perf_counter()
    index = build_content_index(train)
    rows.append(("content index (once per split)", time.perf_counter() - started))
    for label in ("first new-item answer (loads the encoder)", "next new-item answer"):
        started = time.perf_counter()
        # A title never seen before, so the text-embedding disk cache cannot answer for the encoder.
        new_item_whatif(index, f"Galaxy Rebels {time.time_ns()} (1998)", "Genres: Action, Adventure, Sci-Fi.")
        rows.append((label, time.perf_counter() - started))
    started = time.perf_counter()
    new_user_recommendations(models, dataset, ["50", "172", "181"], k=10)
    rows.append((f"new-user answer, {len(models)} models", time.perf_counter() - started))

    width = max(len(name) for name, _ in rows)
    print(f"{'step':<{width}}  seconds")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
