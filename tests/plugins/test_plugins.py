"""Plug-ins: a third-party package registers an augmenter and a model through entry points.

The example package (``example_plugin/``) is really built and installed (pip, offline, into a temporary folder),
so its entry points come from a real ``*.dist-info``; recaug then lists and runs its classes, and the plug-in's
own tests (recaug's shipped conformance kits) pass against it. The error cases use a registry of their own, so
nothing here changes the global registries other tests read.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recaug.augment.base import Augmenter
from recaug.core.errors import RecaugInputError
from recaug.core.registry import NO_PLUGINS_ENV, Registry, subclass_check

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = Path(__file__).resolve().parent / "example_plugin"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plug-in installed (pip, no index, no build isolation) into a folder of its own."""
    root = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(EXAMPLE, root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    target = root / "site"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-build-isolation"]
    done = subprocess.run([*command, "--target", str(target), str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert list(target.glob("recaug_example_plugin-0.1.0.dist-info/entry_points.txt"))
    return target


def _run(site: Path, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    env.pop(NO_PLUGINS_ENV, None)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_registries_and_the_cli_list_the_installed_plugin(site: Path) -> None:
    done = _run(site, "-m", "recaug", "augmenters")
    assert done.returncode == 0, done.stderr
    assert "example-coldest" in done.stdout and "least popular share" in done.stdout
    done = _run(site, "-m", "recaug", "models")
    assert "example-cooccurrence" in done.stdout
    code = (
        "import recaug; from recaug.augment import create_augmenter; from recaug.models import MODELS; "
        "a = create_augmenter('example-coldest', share=0.2); print(type(a).__module__, a.get_params()['share']); "
        "print(MODELS.names()[-1])"
    )
    lines = _run(site, "-c", code).stdout.split()
    assert lines == ["recaug_example_plugin", "0.2", "example-cooccurrence"]


def test_the_plugin_passes_the_shipped_conformance_kits(site: Path, tmp_path: Path) -> None:
    """The plug-in's own test file subclasses recaug.testing's kits; run as its author would run it."""
    check = shutil.copy(EXAMPLE / "conformance_check.py", tmp_path / "conformance_check.py")
    done = _run(site, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(check), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "skipped" not in summary
    assert int(summary.split()[0]) >= 14, summary  # both kits' tests ran


def test_recaug_no_plugins_turns_loading_off(site: Path) -> None:
    env_code = "from recaug.augment import AUGMENTERS; print('example-coldest' in AUGMENTERS)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]), NO_PLUGINS_ENV: "1"}
    done = subprocess.run([sys.executable, "-c", env_code], env=env, capture_output=True, text=True, cwd=REPO)
    assert done.stdout.strip() == "False"


class Shadow(Augmenter):
    """An augmenter that claims a built-in's name."""

    name = "random"
    description = "shadows the built-in"

    def _propose(self, budget, target, rng, progress):  # type: ignore[no-untyped-def]  # never called
        raise NotImplementedError


class Misnamed(Shadow):
    name = "something-else"


def _registry(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> Registry[type]:
    """A fresh augmenter registry holding the built-in name 'random', whose group has one entry point."""
    entry = importlib.metadata.EntryPoint(name, value, "test.augmenters")
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [entry] if group == "test.augmenters" else [])
    registry: Registry[type] = Registry(
        "augmenter", entry_point_group="test.augmenters", check=subclass_check(Augmenter, "an augmenter")
    )
    registry.add("random", object)
    return registry


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("broken", "recaug_no_such_module:Thing", "failed to load: ModuleNotFoundError"),
        ("not-a-class", "os.path:join", "not a subclass of recaug.augment.base.Augmenter"),
        ("misnamed", f"{__name__}:Misnamed", "its class says name = 'something-else'"),
        ("random", f"{__name__}:Shadow", "reuses the name 'random'"),
    ],
)
def test_a_bad_plugin_fails_loudly_and_names_itself(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    registry = _registry(monkeypatch, name, value)
    with pytest.raises(RecaugInputError, match=message) as caught:
        registry.names()
    assert f"entry point '{name} = {value}'" in str(caught.value) and NO_PLUGINS_ENV in str(caught.value)


def test_plugins_load_once_on_first_read_and_never_at_add(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _registry(monkeypatch, "misnamed-but-unread", f"{__name__}:Misnamed")
    registry.add("another", object)  # adding built-ins never loads plug-ins (the bad one would raise)
    monkeypatch.setenv(NO_PLUGINS_ENV, "1")
    assert registry.names() == ["random", "another"]
    monkeypatch.delenv(NO_PLUGINS_ENV)
    assert "misnamed-but-unread" not in registry, "loading happens once, on the first read"
