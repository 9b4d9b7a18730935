"""Pre-pay slow first-time costs (numba compilation for UMAP, item text embeddings) in the background."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

logger = logging.getLogger(__name__)


def _warm() -> None:
    try:
        from recaug.analysis.projection import warm_umap
        from recaug.data.builtin import load_ml100k
        from recaug.text.encoder import encode_texts, load_encoder

        _, items = load_ml100k()
        encode_texts(items["text"].tolist())
        load_encoder()  # what-ifs embed new text; loading the model is the slow part (~5 s)
        warm_umap()
    except Exception:  # warm-up is best-effort; the real call reports problems
        logger.warning("warm-up failed", exc_info=True)


def warm_up(*, background: bool = False) -> None:
    """Run the warm-up now, or in a detached process that outlives this call."""
    if background:
        subprocess.Popen(
            [sys.executable, "-m", "recaug", "warmup"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return
    _warm()


def warm_up_thread() -> threading.Thread:
    """Start the warm-up on a daemon thread (used by the dashboard at start-up)."""
    thread = threading.Thread(target=_warm, name="recaug-warmup", daemon=True)
    thread.start()
    return thread
