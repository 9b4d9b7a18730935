"""Small torch helpers shared by the torch models: device choice and deterministic seeding."""

from __future__ import annotations

from typing import Any


def pick_device(device: str = "auto") -> Any:
    """CUDA when present (and asked for 'auto'), otherwise CPU."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def torch_generator(seed: int, device: Any) -> Any:
    """A seeded generator so two fits with one seed are identical."""
    import torch

    torch.manual_seed(seed)
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen
