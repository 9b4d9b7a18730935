"""Ships the Streamlit dashboard inside the wheel; everything else is declared in pyproject.toml.

The dashboard lives at the top of the repository (``app.py``, ``pages/``, ``ui/``, ``.streamlit/config.toml``) so
that ``make run`` and the tests use it where it is. A wheel carries only packages, so building one copies those
files to ``recaug/_dashboard/``, where ``recaug dashboard`` finds them (:mod:`recaug.dashboard`). An editable
install copies nothing: there the launcher finds the checkout's own files next to the ``recaug`` folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DASHBOARD_TARGET = ("recaug", "_dashboard")
DASHBOARD_FILES = ("app.py", ".streamlit/config.toml", "pages/*.py", "ui/*.py")


class BuildWithDashboard(build_py):
    """build_py that also copies the dashboard's files into the package (not in editable mode)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib, *DASHBOARD_TARGET)
        for pattern in DASHBOARD_FILES:
            sources = sorted(ROOT.glob(pattern))
            if not sources:
                raise FileNotFoundError(f"the dashboard file(s) {pattern} are missing from {ROOT}")
            for source in sources:
                destination = target / source.relative_to(ROOT)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, destination)


setup(cmdclass={"build_py": BuildWithDashboard})
