"""pyproject.toml and requirements.txt tell the same story: every declared dependency admits the pinned version."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    """{normalised name: version} of requirements.txt."""
    lines = (REPO / "requirements.txt").read_text().splitlines()
    pairs = (line.split("==") for line in lines if "==" in line and not line.startswith("#"))
    return {canonicalize_name(name): version.strip() for name, version in pairs}


def declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    optional = [spec for group in project["optional-dependencies"].values() for spec in group]
    return [Requirement(spec) for spec in [*project["dependencies"], *optional]]


def test_every_declared_dependency_admits_its_pin() -> None:
    pinned = pins()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is declared in pyproject.toml but not pinned in requirements.txt"
        assert requirement.specifier.contains(pinned[name]), (str(requirement), pinned[name])


def test_torch_is_pinned_to_the_offline_cpu_build() -> None:
    torch = [str(r.specifier) for r in declared() if r.name == "torch"]
    assert torch == ["==2.13.0"] and pins()["torch"] == "2.13.0"
