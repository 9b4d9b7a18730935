"""A sentence encoder that learns the data: the packaged MiniLM plus a map trained on training co-interactions.

beeFormer (Vančura et al., RecSys 2024) trains the whole sentence encoder on interactions; AlphaRec (ICLR 2025)
shows a linear map from frozen language embeddings already beats ID-based CF. Fine-tuning all of MiniLM costs about
12 CPU-seconds per 64 pairs here (measured: 4 steps, 47 CPU-s), far from "minutes on 2 cores", so this trains the
cheap part: a square map ``identity + delta`` (plus a bias) on top of the frozen, normalised MiniLM vectors, with
beeFormer's signal and loss. Pairs (anchor item, an item often interacted with by the same users) are drawn from
the training matrix -- anchors uniformly among items with 3+ training users, positives from the anchor's 20 nearest
items by cosine-normalised co-occurrence, in proportion to it -- and an in-batch contrastive loss (multiple
negatives ranking, both directions, scale 20) moves co-interacted items' texts together and the rest of the batch
apart; weight decay on ``delta`` keeps the map near the packaged encoder. Items without interactions (cold items)
get no pair but are still embedded through the map: that transfer from text is what it is for.

Only the matrix it is given is read (the training split; never validation or test). The encoder and the map are
saved as one sentence-transformers folder under the cache, keyed by the matrix, the texts, the seed and the
settings, so a second fit with the same data is free and every consumer loads it like any other encoder;
``info.json`` beside it records the training cost. Use it by passing ``encoder="tuned"`` to ``similarity``,
``content``, ``llm-init``, ``llm-cold-items`` or the what-if: :func:`encoder_for` resolves the name.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recaug.core.paths import cache_dir
from recaug.core.progress import ProgressFn, no_progress, sub_progress
from recaug.text.encoder import DEFAULT_ENCODER, encode_texts, packaged_encoder_path

log = logging.getLogger(__name__)
TUNED = "tuned"
PACKAGED = "packaged"
_LOCK = threading.Lock()
KEY_VERSION = 2  # bumped when training changes (2: one torch thread), so older cached models are not reused


@dataclass(frozen=True)
class TuneSettings:
    """What the fine-tuning does; every field is part of the cache key."""

    pairs_per_item: int = 40  # (anchor, positive) pairs drawn per anchor item...
    max_pairs: int = 50_000  # ...up to this many
    epochs: int = 3
    batch_size: int = 256  # pairs per step; the other positives of the batch are each anchor's negatives
    learning_rate: float = 1e-3
    weight_decay: float = 0.01  # pulls the map back towards the packaged encoder (identity)
    neighbours: int = 20  # positives come from each anchor's top co-occurring items
    min_users: int = 3  # anchors need this many training users
    scale: float = 20.0  # cosine similarities times this are the contrastive logits


def cooccurrence_pairs(matrix: sp.csr_matrix, settings: TuneSettings, seed: int) -> np.ndarray:
    """(pairs, 2) item indices: anchors uniform among items with ``min_users`` users, positives drawn from their
    ``neighbours`` nearest items by cosine-normalised co-occurrence, in proportion to it (never an item that shares
    no user with the anchor)."""
    x = (matrix > 0).astype(np.float32).tocsc()
    popularity = np.asarray(x.sum(axis=0)).ravel()
    anchors = np.flatnonzero(popularity >= settings.min_users)
    if len(anchors) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    co = (x.T @ x[:, anchors]).toarray().T  # (anchors, items)
    co[np.arange(len(anchors)), anchors] = 0.0
    co /= np.sqrt(np.maximum(popularity[anchors][:, None] * popularity[None, :], 1.0))
    top = np.argsort(-co, axis=1, kind="stable")[:, : settings.neighbours]
    weights = np.take_along_axis(co, top, axis=1)
    rng = np.random.default_rng(seed)
    n_pairs = min(settings.max_pairs, settings.pairs_per_item * len(anchors))
    rows = rng.integers(0, len(anchors), size=n_pairs)
    out = np.empty((n_pairs, 2), dtype=np.int64)
    for k, row in enumerate(rows):
        w = weights[row]
        pick = rng.choice(len(w), p=w / w.sum()) if w.sum() > 0 else rng.integers(0, len(w))
        out[k] = anchors[row], top[row, pick]
    return out


def tuned_encoder(
    matrix: sp.csr_matrix,
    texts: Sequence[str],
    *,
    seed: int = 0,
    settings: TuneSettings | None = None,
    progress: ProgressFn | None = None,
) -> Path:
    """Folder of the MiniLM fine-tuned on ``matrix``'s co-interactions (trained now, or loaded from the cache)."""
    settings = settings or TuneSettings()
    report = progress or no_progress
    texts = [str(t) for t in texts]
    folder = cache_dir("tuned-encoders") / _key(matrix, texts, seed, settings)
    with _LOCK:
        if (folder / "info.json").exists():
            report(1.0, "tuned encoder (cached)")
            return folder
        _train(matrix, texts, seed, settings, folder, report)
    return folder


def _train(
    matrix: sp.csr_matrix, texts: list[str], seed: int, settings: TuneSettings, folder: Path, report: ProgressFn
) -> None:
    """Train the head on the frozen encoder's vectors, then save encoder + head as one sentence-transformers
    folder (so every consumer loads it like any other encoder)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: a second thread only spins (measured: 2 CPU-s an epoch on one thread)
    try:
        _fit_map(matrix, texts, seed, settings, folder, report)
    finally:
        torch.set_num_threads(threads)


def _fit_map(
    matrix: sp.csr_matrix, texts: list[str], seed: int, settings: TuneSettings, folder: Path, report: ProgressFn
) -> None:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Dense, Normalize

    started, cpu = time.perf_counter(), time.process_time()
    torch.manual_seed(seed)
    base = torch.from_numpy(encode_texts(texts, model=DEFAULT_ENCODER, progress=sub_progress(report, 0.0, 0.3)))
    pairs = torch.from_numpy(cooccurrence_pairs(matrix, settings, seed))
    dim = base.shape[1]
    delta = torch.zeros(dim, dim, requires_grad=True)  # the map is identity + delta: it starts at the packaged one
    bias = torch.zeros(dim, requires_grad=True)
    optimiser = torch.optim.AdamW([delta, bias], lr=settings.learning_rate, weight_decay=settings.weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    losses: list[float] = []
    for epoch in range(settings.epochs):
        order = torch.randperm(len(pairs), generator=generator)
        for start in range(0, len(pairs) - 1, settings.batch_size):
            batch = pairs[order[start : start + settings.batch_size]]
            mapped = [
                torch.nn.functional.normalize(base[batch[:, side]] @ (torch.eye(dim) + delta) + bias, dim=1)
                for side in (0, 1)
            ]
            logits = settings.scale * mapped[0] @ mapped[1].T
            labels = torch.arange(len(batch))
            loss = (loss_fn(logits, labels) + loss_fn(logits.T, labels)) / 2
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        report(
            0.3 + 0.6 * (epoch + 1) / settings.epochs, f"tuning the encoder: epoch {epoch + 1}, loss {losses[-1]:.3f}"
        )
    head = Dense(dim, dim, bias=True, activation_function=torch.nn.Identity())
    with torch.no_grad():
        head.linear.weight.copy_((torch.eye(dim) + delta).T)
        head.linear.bias.copy_(bias)
    packaged = SentenceTransformer(str(packaged_encoder_path()), device="cpu")
    model = SentenceTransformer(modules=[*packaged, head, Normalize()], device="cpu")
    tmp = folder.with_name(folder.name + ".partial")
    model.save(str(tmp))
    info = {
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "steps": len(losses),
        "pairs": len(pairs),
        "first_loss": round(losses[0], 4) if losses else None,
        "last_loss": round(float(np.mean(losses[-20:])), 4) if losses else None,
        "seed": seed,
        "settings": asdict(settings),
    }
    (tmp / "info.json").write_text(json.dumps(info, indent=2))
    tmp.replace(folder)
    log.info("tuned encoder in %.0f s: %s", info["seconds"], folder)
    report(1.0, f"tuned the encoder in {info['seconds']:.0f} s")


def tuning_info(folder: str | Path) -> dict[str, object]:
    """What training a tuned encoder cost (seconds, steps, losses); empty for the packaged one."""
    path = Path(folder) / "info.json"
    return json.loads(path.read_text()) if path.exists() else {}


def encoder_for(
    name: str, matrix: sp.csr_matrix, texts: Sequence[str], *, seed: int = 0, progress: ProgressFn | None = None
) -> str:
    """The encoder a component should load: ``"tuned"`` -> the folder tuned on ``matrix`` (training data only);
    ``"packaged"`` -> the packaged MiniLM; anything else (a folder, the packaged default) unchanged."""
    if name == TUNED:
        return str(tuned_encoder(matrix, texts, seed=seed, progress=progress))
    return DEFAULT_ENCODER if name == PACKAGED else name


def _key(matrix: sp.csr_matrix, texts: list[str], seed: int, settings: TuneSettings) -> str:
    digest = hashlib.sha256()
    binary = (matrix > 0).astype(np.int8).tocsr()
    binary.sort_indices()
    for part in (binary.indptr, binary.indices, np.array(binary.shape)):
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update("\x1f".join(texts).encode())
    digest.update(json.dumps([KEY_VERSION, seed, asdict(settings)], sort_keys=True).encode())
    return digest.hexdigest()[:24]
