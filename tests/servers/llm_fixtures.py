"""Fixtures for tests that run the real packaged LLM; import them into a test module to use them.

The packaged GGUF is converted to a HF folder once per test process (in a temporary folder), and every test gets
a fresh ``RECAUG_HOME`` whose ``models`` folder links to that conversion, so an LLM test never starts from a
warm response cache by accident (which would make it pass without calling the model), yet the 20 s conversion
runs only once.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from recaug.core.paths import recaug_home

# The CLI comparison the real-model LLM tests share: llm-interactions on ML-100k, pop only, one seed, 20 rows.
LLM_COMPARE = (
    *("compare", "--data", "ml-100k", "--augment", "llm-interactions"),
    *("--models", "pop", "--seeds", "0", "--budget", "20"),
)


@functools.cache
def converted_models_dir() -> Path:
    """``models`` folder holding the packaged model converted in this process (converted on first call)."""
    from recaug.text.llm.local import converted_packaged_model

    root = Path(tempfile.mkdtemp(prefix="recaug-llm-models-"))
    atexit.register(shutil.rmtree, root, True)
    before = os.environ.get("RECAUG_HOME")
    os.environ["RECAUG_HOME"] = str(root)
    try:
        converted_packaged_model()
    finally:
        if before is None:
            os.environ.pop("RECAUG_HOME", None)
        else:
            os.environ["RECAUG_HOME"] = before
    return root / "models"


@functools.cache
def shared_embeddings_dir() -> Path:
    """The embedding cache of the home the test run started with (content-keyed, safe to share)."""
    folder = recaug_home() / "embeddings"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def fresh_home(folder: Path) -> Path:
    """A new RECAUG_HOME in ``folder`` with the shared converted model and embedding cache linked in."""
    models, embeddings = converted_models_dir(), shared_embeddings_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "models").symlink_to(models, target_is_directory=True)
    (folder / "embeddings").symlink_to(embeddings, target_is_directory=True)
    return folder


@pytest.fixture()
def llm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fresh RECAUG_HOME (empty LLM response cache) sharing the converted model."""
    home = fresh_home(tmp_path / "recaug-home")
    monkeypatch.setenv("RECAUG_HOME", str(home))
    return home


@pytest.fixture(scope="module")
def module_llm_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Like ``llm_home`` for module-scoped fixtures (one augmentation run shared by several tests)."""
    home = fresh_home(tmp_path_factory.mktemp("recaug-home") / "home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RECAUG_HOME", str(home))
        yield home
