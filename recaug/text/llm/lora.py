"""A SmolLM2 that learns the data: low-rank adapters (LoRA) trained on training histories, for the continuation
scorer.

The packaged SmolLM2-135M scores a candidate title as the continuation of "A user liked these movies: ... The next
movie they will enjoy is:" and, untrained, ranks held-out items at chance (issue 20). TALLRec and BIGRec tune an LLM
on exactly that: a user's history as the prompt, the next item's title as the answer. This module does it on a CPU:

* examples: per training user (drawn uniformly, so heavy users do not dominate), a position ``t`` in their
  time-ordered history; the prompt is the scorer's own prompt for the ``history_size`` items before ``t``, the
  answer item ``t``'s title (:func:`next_item_examples`). Only the histories it is given are read: the training
  split (the skill check's reduced split there), never validation or test;
* adapters: ``W x + (alpha / rank) B A x`` on the attention's query and value projections of the **top** ``layers``
  decoder layers only, computed in float32 beside the frozen bfloat16 weights; every base weight is frozen, so
  autograd records nothing below the first adapted layer and the backward pass costs only the top layers;
* loss: the summed log-likelihood of the answer's tokens (what the scorer sums), per token, through the float32
  output layer the scorer uses; AdamW, linear decay; one torch thread, a seeded initialisation and a seeded
  example order, so a seed gives the same adapter.

The adapter (a few hundred kB) is saved under ``cache_dir("tuned-llms")``, keyed (:func:`adapter_key`) by the
base model, the formatted training texts (they carry the split's content), the seed and the settings;
``info.json`` beside it records the cost (CPU-seconds, steps, examples, losses). ``LocalBackend(adapter=folder)``
loads the base model with the adapters attached (:func:`recaug.text.llm.lora_adapter.attach_adapter`).

Measured (``benchmarks/llm.md``, session 7): about 300 CPU-seconds at ML-100k; the tuned model's raw likelihood
picks a held-out training item 3x as often as chance, about as often as popularity (what it mostly learned), and
with the scorer's PMI normalisation, which divides that popularity back out, it stays at chance.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from recaug.core.errors import RecaugInputError
from recaug.core.paths import cache_dir
from recaug.core.progress import ProgressFn, no_progress
from recaug.core.torch_utils import torch_threads
from recaug.text.llm.lora_adapter import (
    ADAPTER_FILE,
    DEFAULT_SETTINGS,
    INFO_FILE,
    LoraSettings,
    adapter_info,
    add_adapters,
)
from recaug.text.tuning_cost import add_tuning_cost, cost_record

if TYPE_CHECKING:
    from recaug.text.llm.local import LocalBackend

log = logging.getLogger(__name__)
TUNED_LLM = "tuned"  # the model name that asks for the LoRA-tuned packaged SmolLM2
COMPONENT = "tuned LLM"  # its name in the cost records
KEY_VERSION = 1  # bumped when training changes, so older cached adapters are not reused
_LOCK = threading.Lock()
Example = tuple[str, tuple[str, ...]]  # (prompt, answer titles)


def next_item_examples(
    histories: Sequence[np.ndarray],
    titles: Sequence[str] | np.ndarray,
    prompt_for: Callable[[np.ndarray], str],
    *,
    n: int,
    history_size: int,
    answers: int = 1,
    seed: int = 0,
) -> list[Example]:
    """``n`` (prompt, answer titles) examples: users drawn uniformly among those with two or more items, then a
    position ``t >= 1`` in their (oldest-first) history; the prompt shows the ``history_size`` items before it, the
    answers are the titles of the next ``answers`` items (every one of them is a "next item they will enjoy")."""
    rng = np.random.default_rng(seed)
    users = np.flatnonzero([len(h) >= 2 for h in histories])
    if len(users) == 0:
        return []
    out = []
    for user in rng.choice(users, size=n):
        history = np.asarray(histories[int(user)])
        t = int(rng.integers(1, len(history)))
        later = tuple(str(titles[int(i)]) for i in history[t : t + answers])
        out.append((prompt_for(history[max(0, t - history_size) : t]), later))
    return out


def tuned_llm_adapter(
    backend: str | object,
    histories: Sequence[np.ndarray],
    titles: Sequence[str] | np.ndarray,
    prompt_for: Callable[[np.ndarray], str],
    *,
    history_size: int,
    seed: int = 0,
    settings: LoraSettings | None = None,
    matrix: sp.spmatrix | None = None,
    info: dict[str, Any] | None = None,
    progress: ProgressFn | None = None,
) -> Path:
    """The adapter an LLM augmenter with ``model="tuned"`` uses: the packaged SmolLM2 tuned on ``histories`` (its
    training split, ``matrix``) with ``prompt_for`` (its continuation prompt); the training cost is added to
    ``info`` (:mod:`recaug.text.tuning_cost`, with ``cached`` True when it was trained earlier). Only the local
    backend can be tuned."""
    from recaug.text.llm.local import LocalBackend

    if backend != "local":
        raise RecaugInputError(
            f"model '{TUNED_LLM}' (SmolLM2 with adapters trained on the training histories) needs the local backend",
            fix="use backend 'local' with model 'tuned', or name the server's model for backend 'openai'",
        )
    settings = settings or DEFAULT_SETTINGS
    examples = next_item_examples(
        histories,
        titles,
        prompt_for,
        n=settings.examples,
        history_size=history_size,
        answers=settings.answers,
        seed=seed,
    )
    if not examples:
        raise RecaugInputError(
            f"model '{TUNED_LLM}' needs users with two or more training items to learn from",
            fix="use the packaged model (leave the model empty) on this data",
        )
    backend_ = LocalBackend(cache=False)
    cached = adapter_folder(backend_, examples, seed, settings).joinpath(INFO_FILE).exists()
    folder = tuned_adapter(backend_, examples, seed=seed, settings=settings, progress=progress)
    if matrix is not None:
        add_tuning_cost(info, tuning_record(folder, matrix, cached=cached))
    return folder


def tuning_record(folder: str | Path, matrix: sp.spmatrix, *, cached: bool) -> dict[str, Any]:
    """The shared cost record (:mod:`recaug.text.tuning_cost`) of the adapter in ``folder``, tuned on ``matrix``."""
    saved = adapter_info(folder)
    return cost_record(
        COMPONENT,
        cpu_s=saved["cpu_seconds"],
        wall_s=saved["seconds"],
        examples=saved["examples"],
        steps=saved["steps"],
        matrix=matrix,
        seed=saved["seed"],
        cached=cached,
        answers=saved["answers"],
        first_loss=saved["first_loss"],
        last_loss=saved["last_loss"],
    )


def adapter_key(model_id: str, texts: Sequence[Example], seed: int, settings: LoraSettings) -> str:
    """The one place the cache key is built: base model (with its dtype), formatted training texts, seed, settings."""
    digest = hashlib.sha256()
    digest.update(json.dumps([KEY_VERSION, model_id, seed, asdict(settings)], sort_keys=True).encode())
    for prompt, answers in texts:
        digest.update("\x1e".join([prompt, *answers, "\x1f"]).encode())
    return digest.hexdigest()[:24]


def adapter_folder(backend: LocalBackend, examples: Sequence[Example], seed: int, settings: LoraSettings) -> Path:
    """Where the adapter for these examples, seed and settings is (or will be) cached."""
    formatted = [(backend.format_prompt(p), a) for p, a in examples]
    return cache_dir("tuned-llms") / adapter_key(backend.model_id, formatted, seed, settings)


def tuned_adapter(
    backend: LocalBackend,
    examples: Sequence[Example],
    *,
    seed: int = 0,
    settings: LoraSettings | None = None,
    progress: ProgressFn | None = None,
) -> Path:
    """Folder of the adapter trained on ``examples`` (prompt, answer) for ``backend``'s base model (trained now,
    or loaded from the cache)."""
    settings = settings or DEFAULT_SETTINGS
    report = progress or no_progress
    formatted = [(backend.format_prompt(p), a) for p, a in examples]
    folder = adapter_folder(backend, examples, seed, settings)
    with _LOCK:
        if (folder / INFO_FILE).exists():
            report(1.0, "tuned LLM (cached)")
            return folder
        with torch_threads(backend.threads):
            _train(backend, formatted, seed, settings, folder, report)
    return folder


def answer_loss(model: Any, batch: list[tuple[list[int], list[list[int]]]], pad_id: int) -> Any:
    """Mean per-token negative log-likelihood of the answers given their prompt, each prompt packed with its answers
    into one sequence as the scorer packs a prompt with its options (the prompt is encoded once for all of them),
    through the scorer's float32 output layer."""
    import torch

    from recaug.text.llm.local import pack_group, packed_target_logits

    logits, targets = packed_target_logits(model, [pack_group([p], [a]) for p, a in batch], pad_id)
    return torch.nn.functional.cross_entropy(logits, targets)


def _length_batches(lengths: list[int], settings: LoraSettings, seed: int) -> list[list[int]]:
    """``settings.steps`` batches of example indices in a seeded order, each run of 8 batches drawn from one block
    of examples sorted by length, so a batch pads little (the forward pass is most of a step's cost)."""
    order = np.random.default_rng(seed).permutation(len(lengths))
    order = np.resize(order, settings.steps * settings.batch_size)  # wraps round when there are fewer examples
    block = 8 * settings.batch_size
    for start in range(0, len(order), block):
        chunk = order[start : start + block]
        order[start : start + block] = chunk[np.argsort([lengths[i] for i in chunk], kind="stable")]
    return [order[k : k + settings.batch_size].tolist() for k in range(0, len(order), settings.batch_size)]


def _train(
    backend: LocalBackend,
    examples: list[Example],
    seed: int,
    settings: LoraSettings,
    folder: Path,
    report: ProgressFn,
) -> None:
    import torch

    from recaug.text.llm.local import fresh_model

    started, cpu = time.perf_counter(), time.process_time()
    model, tokenizer = fresh_model(str(backend.folder), backend.device, backend.dtype)
    model.train(False)  # no dropout: the adapter is a deterministic function of the seed
    params = add_adapters(model, settings, seed)
    encoded = [
        (
            tokenizer(prompt, add_special_tokens=False)["input_ids"],
            [tokenizer(a, add_special_tokens=False)["input_ids"] or [tokenizer.eos_token_id] for a in answers],
        )
        for prompt, answers in examples
    ]
    optimiser = torch.optim.AdamW(list(params.values()), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1.0 - step / max(1, settings.steps))
    batches = _length_batches([len(p) + sum(map(len, a)) for p, a in encoded], settings, seed)
    losses: list[float] = []
    for step, batch in enumerate(batches):
        loss = answer_loss(model, [encoded[i] for i in batch], tokenizer.pad_token_id)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(float(loss.item()))
        if step % 10 == 9:
            report((step + 1) / settings.steps, f"tuning the LLM: step {step + 1}, loss {np.mean(losses[-10:]):.3f}")
    tmp = folder.with_name(folder.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    torch.save({name: value.detach().clone() for name, value in params.items()}, tmp / ADAPTER_FILE)
    window = max(1, min(10, len(losses) // 4))
    info = {
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "steps": len(losses),
        "examples": len(examples),
        "answers": int(sum(len(a) for _, a in examples)),
        "tokens": int(sum(len(encoded[i][0]) + sum(map(len, encoded[i][1])) for b in batches for i in b)),
        "first_loss": round(float(np.mean(losses[:window])), 4) if losses else None,
        "last_loss": round(float(np.mean(losses[-window:])), 4) if losses else None,
        "seed": seed,
        "base_model": backend.model_id,
        "settings": asdict(settings),
    }
    (tmp / INFO_FILE).write_text(json.dumps(info, indent=2))
    tmp.replace(folder)
    log.info("tuned LLM in %.0f s (%.0f CPU-s): %s", info["seconds"], info["cpu_seconds"], folder)
    report(1.0, f"tuned the LLM in {info['seconds']:.0f} s")
