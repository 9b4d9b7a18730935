"""Top-k recommendation lists as Parquet, one file per model, arm and seed, in a Hive-partitioned folder.

``DIR/top_k/model=bpr/variant=similarity/seed=0/part-0.parquet`` holds ``user_id, rank, item_id, score`` for the
test users; ``pandas.read_parquet("DIR/top_k")`` (or pyarrow / DuckDB / Spark) reads every file back as one table
with ``model``, ``variant`` and ``seed`` columns. Values in folder names are percent-encoded (an arm named
``A/A control`` or ``similarity@10%`` stays one folder) the way pyarrow decodes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from recaug.reporting.export import to_parquet_bytes

TOP_K_DIR = "top_k"
TOP_K_COLUMNS = ["user_id", "rank", "item_id", "score"]


def top_k_path(model: str, variant: str, seed: int) -> str:
    """The file of one list, relative to the output folder."""
    parts = [f"model={quote(model, safe='')}", f"variant={quote(variant, safe='')}", f"seed={int(seed)}"]
    return "/".join([TOP_K_DIR, *parts, "part-0.parquet"])


def write_top_k(top_k: Mapping[tuple[str, str, int], pd.DataFrame], out: Path) -> list[Path]:
    """Write every (model, variant, seed) list under ``out/top_k``; returns the files (sorted, so the same
    lists always give the same files with the same bytes)."""
    written = []
    for (model, variant, seed), frame in sorted(top_k.items(), key=lambda item: (item[0][0], item[0][1], item[0][2])):
        path = out / top_k_path(model, variant, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        table = frame[TOP_K_COLUMNS].reset_index(drop=True)
        path.write_bytes(to_parquet_bytes(table))
        written.append(path)
    return written
