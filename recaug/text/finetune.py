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
``content``, ``llm-init``, ``llm-cold-items`` or the what-if: :func:`encoder_for` resolves the name and, given an
augmenter's info, adds the cost record of :mod:`recaug.text.tuning_cost` (what the Augment page shows).
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
from typing import Any

import numpy as np
import scipy.sparse as sp

from recaug.core.paths import cache_dir
from recaug.core.progress import ProgressFn, no_progress, sub_progress
from recaug.text.encoder import DEFAULT_ENCODER, encode_texts, packaged_encoder_path
from recaug.text.tuning_cost import add_tuning_cost, cost_record

log = logging.getLogger(__name__)
TUNED = "tuned"
PACKAGED = "packaged"
_LOCK = threading.Lock()
KEY_VERSION = 2  # bumped when training changes (2: one torch thread), so older cached models are not reused
COMPONENT = "tuned encoder"  # its name in cost records
# Measured on ML-100k (2 shared cores, load 3-4): 588 steps in 5.8 CPU-s with the pairs and the save; embedding
# 1,682 item texts with the packaged MiniLM 34 CPU-s (9,066 texts of MovieLens latest-small ~86 CPU-s). Rough rates
# for the estimate shown before an encoder is tuned; the recorded cost after it is measured.
STEP_CPU_S = 0.01
TEXT_CPU_S = 0.015


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
    return _tuned(matrix, texts, seed=seed, settings=settings, progress=progress)[0]


def _tuned(
    matrix: sp.csr_matrix,
    texts: Sequence[str],
    *,
    seed: int,
    settings: TuneSettings | None = None,
    progress: ProgressFn | None = None,
) -> tuple[Path, bool]:
    """(folder, whether it came from the cache) of :func:`tuned_encoder`."""
    settings = settings or TuneSettings()
    report = progress or no_progress
    folder = _folder(matrix, texts, seed, settings)
    with _LOCK:
        if (folder / "info.json").exists():
            report(1.0, "tuned encoder (cached)")
            return folder, True
        _train(matrix, [str(t) for t in texts], seed, settings, folder, report)
    return folder, False


def _folder(matrix: sp.csr_matrix, texts: Sequence[str], seed: int, settings: TuneSettings) -> Path:
    """Where the encoder tuned on ``matrix`` with ``seed`` and ``settings`` is (or would be) cached."""
    return cache_dir("tuned-encoders") / _key(matrix, [str(t) for t in texts], seed, settings)


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


def tuning_info(folder: str | Path) -> dict[str, Any]:
    """What training a tuned encoder cost, as saved (``seconds``, ``cpu_seconds``, ``steps``, ``pairs``, losses,
    settings) plus the shared cost fields of :mod:`recaug.text.tuning_cost` (``component``, ``cpu_s``, ``wall_s``,
    ``examples``, ``steps``, ``seed``); empty for the packaged one."""
    path = Path(folder) / "info.json"
    if not path.exists():
        return {}
    saved = json.loads(path.read_text())
    shared = {"component": COMPONENT, "cpu_s": saved.get("cpu_seconds"), "wall_s": saved.get("seconds")}
    return {**saved, **shared, "examples": saved.get("pairs"), "steps": saved.get("steps"), "seed": saved.get("seed")}


def tuning_record(folder: str | Path, matrix: sp.csr_matrix, *, cached: bool) -> dict[str, Any]:
    """The cost record (shared fields, :mod:`recaug.text.tuning_cost`) of the encoder in ``folder``, tuned on
    ``matrix``; ``cached``: loaded from the cache, the cost was paid by an earlier run."""
    info = tuning_info(folder)
    return cost_record(
        COMPONENT,
        cpu_s=float(info.get("cpu_s") or 0.0),
        wall_s=float(info.get("wall_s") or 0.0),
        examples=int(info.get("examples") or 0),
        steps=int(info.get("steps") or 0),
        matrix=matrix,
        seed=int(info.get("seed") or 0),
        cached=cached,
        first_loss=info.get("first_loss"),
        last_loss=info.get("last_loss"),
    )


def cached_tuning(
    matrix: sp.csr_matrix, texts: Sequence[str], *, seed: int = 0, settings: TuneSettings | None = None
) -> dict[str, Any] | None:
    """The cost record of the encoder already tuned on ``matrix`` (``cached`` True), or None when it is not."""
    folder = _folder(matrix, texts, seed, settings or TuneSettings())
    return tuning_record(folder, matrix, cached=True) if (folder / "info.json").exists() else None


def tuning_estimate(
    matrix: sp.csr_matrix, texts: Sequence[str], settings: TuneSettings | None = None
) -> dict[str, object]:
    """What tuning on ``matrix`` would cost, before it runs: the exact pairs and steps, and rough CPU seconds for
    the training and for embedding the item texts (free when they are embedded already, e.g. by another text
    method: the packaged encoder embeds the same texts)."""
    settings = settings or TuneSettings()
    users = np.asarray(((matrix > 0).astype(np.int8)).sum(axis=0)).ravel()
    anchors = int((users >= settings.min_users).sum())
    pairs = min(settings.max_pairs, settings.pairs_per_item * anchors) if anchors >= 2 else 0
    steps = settings.epochs * -(-max(pairs - 1, 0) // settings.batch_size)
    return {
        "component": COMPONENT,
        "examples": pairs,
        "steps": steps,
        "texts": len(texts),
        "train_cpu_s": round(1.0 + STEP_CPU_S * steps, 1),
        "embed_cpu_s": round(TEXT_CPU_S * len(texts), 1),
    }


def encoder_for(
    name: str,
    matrix: sp.csr_matrix,
    texts: Sequence[str],
    *,
    seed: int = 0,
    progress: ProgressFn | None = None,
    info: dict[str, Any] | None = None,
) -> str:
    """The encoder a component should load: ``"tuned"`` -> the folder tuned on ``matrix`` (training data only);
    ``"packaged"`` -> the packaged MiniLM; anything else (a folder, the packaged default) unchanged. With ``info``
    (an augmenter's run info), a tuned encoder's cost record is added to its ``"tuning"`` list."""
    if name == TUNED:
        folder, cached = _tuned(matrix, texts, seed=seed, progress=progress)
        add_tuning_cost(info, tuning_record(folder, matrix, cached=cached))
        return str(folder)
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
