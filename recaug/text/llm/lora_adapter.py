"""The structure of the tuned LLM's low-rank adapters, and attaching trained ones to a loaded base model.

Split from :mod:`recaug.text.llm.lora` (which trains them) so that loading a tuned model
(:func:`recaug.text.llm.local.load_model`) needs neither the training code nor a cycle back to the local backend,
which the training uses to pack and score its examples.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ADAPTER_FILE = "adapter.pt"
INFO_FILE = "info.json"


@dataclass(frozen=True)
class LoraSettings:
    """What the tuning does; every field is part of the cache key."""

    rank: int = 8
    alpha: float = 16.0  # the adapter's output is scaled by alpha / rank
    layers: int = 4  # adapters on the top ``layers`` decoder layers; the layers below run frozen, without a graph
    # Every projection of those layers: adapters on all six cost no more per step than on two (measured).
    targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj")
    answers: int = 4  # titles of the items that came next, each an answer to the same prompt (packed together)
    steps: int = 150  # ~1.9 CPU-s a step on this CPU (8 prompts of ~118 tokens): about 5 CPU-minutes
    batch_size: int = 8  # prompts per step
    learning_rate: float = 3e-3
    weight_decay: float = 0.0

    @property
    def examples(self) -> int:
        return self.steps * self.batch_size


DEFAULT_SETTINGS = LoraSettings()  # what ``model="tuned"`` trains with


class LoraLinear:
    """Factory for the adapted projection (a class built lazily: torch is imported only when tuning or loading)."""

    @staticmethod
    def wrap(base: Any, rank: int, scale: float, generator: Any) -> Any:
        import torch

        class Adapted(torch.nn.Module):
            """``base(x) + scale * B(A x)``, the adapter in float32 beside the frozen (bfloat16) base weight."""

            def __init__(self) -> None:
                super().__init__()
                self.base = base
                bound = 1.0 / np.sqrt(base.in_features)  # A as nn.Linear initialises; B zero: starts as the base
                a = (torch.rand(rank, base.in_features, generator=generator) * 2 - 1) * bound
                self.lora_a = torch.nn.Parameter(a)
                self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank))
                self.scale = scale

            def forward(self, x: Any) -> Any:
                delta = (x.float() @ self.lora_a.T) @ self.lora_b.T
                return self.base(x) + (self.scale * delta).to(x.dtype)

        return Adapted()


def adapted_modules(model: Any, settings: LoraSettings) -> list[tuple[Any, str]]:
    """(parent module, attribute) of every projection that gets an adapter, bottom to top."""
    layers = model.model.layers
    out = []
    for layer in layers[len(layers) - settings.layers :]:
        for name in settings.targets:
            parent = layer.self_attn if hasattr(layer.self_attn, name) else layer.mlp
            out.append((parent, name))
    return out


def add_adapters(model: Any, settings: LoraSettings, seed: int) -> dict[str, Any]:
    """Freeze the model and put adapters in place; returns the adapter parameters by name."""
    import torch

    for parameter in model.parameters():
        parameter.requires_grad_(False)
    generator = torch.Generator().manual_seed(seed)
    params = {}
    for k, (parent, name) in enumerate(adapted_modules(model, settings)):
        adapted = LoraLinear.wrap(getattr(parent, name), settings.rank, settings.alpha / settings.rank, generator)
        setattr(parent, name, adapted)
        params[f"{k}.a"], params[f"{k}.b"] = adapted.lora_a, adapted.lora_b
    return params


def attach_adapter(model: Any, folder: str | Path) -> None:
    """Put the trained adapters of ``folder`` into ``model`` (a freshly loaded base model, not a shared one)."""
    import torch

    info = adapter_info(folder)
    settings = LoraSettings(**{**info["settings"], "targets": tuple(info["settings"]["targets"])})
    params = add_adapters(model, settings, seed=0)
    saved = torch.load(Path(folder) / ADAPTER_FILE, weights_only=True)
    with torch.no_grad():
        for name, value in params.items():
            value.copy_(saved[name])


def adapter_info(folder: str | Path) -> dict[str, Any]:
    """What training an adapter cost (CPU-seconds, steps, examples, losses) and its settings."""
    return json.loads((Path(folder) / INFO_FILE).read_text())
