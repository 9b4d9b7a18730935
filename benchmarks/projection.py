"""UMAP/PCA timings of the embedding explorer (targets: first 5,000-point UMAP after warm-up < 10 s; cached < 1 s).

Run in a fresh process, as the dashboard would be:

    PYTHONPATH=. .venv/bin/python benchmarks/projection.py            # numba cache as left by earlier runs
    PYTHONPATH=. .venv/bin/python benchmarks/projection.py --cold     # empty numba cache (first install)

Steps: (1) the start-up warm-up (``recaug.analysis.projection.warm_umap``, what ``recaug.analysis.warmup`` runs in the
background); (2) the first real 5,000-point UMAP in that process (ML-100k items, users, and users augmented
by two methods, 384-d text space); (3) the same call again, now served from the on-disk projection cache;
(4) PCA of the same points for reference. Prints one table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", action="store_true", help="also start from an empty numba cache")
    parser.add_argument("--points", type=int, default=5000)
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="recaug-bench-")
    if args.cold:
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(scratch, "numba")
    rows: list[tuple[str, float]] = []

    started = time.perf_counter()
    from recaug.analysis.projection import warm_umap

    warm_umap()
    rows.append(("warm-up (import umap + 300-point fit)", time.perf_counter() - started))

    import numpy as np
    import pandas as pd

    from recaug.analysis.explorer import history_vectors
    from recaug.analysis.projection import fit_projection
    from recaug.augment import create_augmenter
    from recaug.data.builtin import load_ml100k
    from recaug.data.dataset import Dataset
    from recaug.data.splits import make_split
    from recaug.text.encoder import encode_texts

    interactions, items = load_ml100k()
    dataset = Dataset.from_frames(interactions, items, name="ml-100k")
    split = make_split(dataset.interactions, "random-811", 0)
    train = dataset.training_data(split.train)
    item_vectors = encode_texts(dataset.items["text"].tolist())
    parts = [item_vectors, history_vectors(train.matrix, item_vectors)]
    for name, seed in (("random", 0), ("similarity", 0), ("random", 1), ("random", 2)):
        rows_ = create_augmenter(name, seed=seed, target="all").fit(train).augment(0.1).rows
        indexed, n_rows = dataset.index_synthetic(rows_)
        synthetic = dataset.matrix(pd.concat([split.train[["user_idx", "item_idx"]], indexed]), n_users=n_rows)
        parts.append(history_vectors(synthetic[np.unique(indexed["user_idx"])], item_vectors))
    vectors = np.vstack(parts)[: args.points].astype(np.float32)
    os.environ["RECAUG_HOME"] = scratch  # an empty projection cache, so the first UMAP really computes

    started = time.perf_counter()
    fit_projection(vectors, "umap", seed=0)
    rows.append(
        (f"first UMAP, {len(vectors)} x {vectors.shape[1]} (exact kNN + 200 epochs)", time.perf_counter() - started)
    )
    started = time.perf_counter()
    fit_projection(vectors, "umap", seed=0)
    rows.append(("same UMAP again (disk cache)", time.perf_counter() - started))
    started = time.perf_counter()
    fit_projection(vectors, "pca", seed=0)
    rows.append(("PCA of the same points", time.perf_counter() - started))

    width = max(len(name) for name, _ in rows)
    print(f"{'step':<{width}}  seconds")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:7.2f}")
    print(f"(cores: {os.cpu_count()}, load average: {', '.join(f'{v:.1f}' for v in os.getloadavg())})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
