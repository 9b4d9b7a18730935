"""recaug is pure compute: importing it never pulls in streamlit or the heavy libraries."""

from __future__ import annotations

from pathlib import Path

from tests.fresh_python import fresh_python

REPO = Path(__file__).resolve().parents[1]


def test_recaug_never_imports_streamlit_or_heavy_libraries_at_import_time() -> None:
    code = (
        "import sys, recaug, recaug.augment, recaug.models, recaug.experiment, recaug.reporting.export; "
        "bad = [m for m in ('streamlit', 'torch', 'transformers', 'umap') if m in sys.modules]; print(bad)"
    )
    stdout = fresh_python(code, REPO, REPO)
    assert stdout.strip() == "[]"


def test_no_streamlit_in_package_source() -> None:
    offenders = [str(p) for p in (REPO / "recaug").rglob("*.py") if "import streamlit" in p.read_text()]
    assert offenders == []
