"""``recaug dashboard``: start the Streamlit app, from an installed wheel or from a checkout.

recaug never imports streamlit: the app runs in a child process (``python -m streamlit run app.py``). A wheel
carries the app's files in ``recaug/_dashboard/`` (see setup.py); a checkout (or an editable install) has them
next to the ``recaug`` folder. Streamlit puts the app's folder first on ``sys.path``, so the pages' ``import ui``
finds the ``ui/`` shipped beside them. The shipped settings (upload size, theme, no usage statistics) are passed
as command-line flags, whatever the working folder; Streamlit also reads the ``.streamlit/config.toml`` beside
``app.py``, which is why a user's theme flags must blank our colours rather than only leave them out.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from recaug.core.errors import RecaugInputError

PACKAGE_DIR = Path(__file__).resolve().parent
APP_FOLDERS = (PACKAGE_DIR / "_dashboard", PACKAGE_DIR.parent)  # installed wheel, then checkout / editable


def app_folder(candidates: tuple[Path, ...] = APP_FOLDERS) -> Path:
    """The folder holding ``app.py``, ``pages/`` and ``ui/``; RecaugInputError when neither place has them."""
    for folder in candidates:
        if (folder / "app.py").is_file() and (folder / "pages").is_dir() and (folder / "ui").is_dir():
            return folder
    raise RecaugInputError(
        "the dashboard's files (app.py, pages/, ui/) are not installed with this recaug",
        file=str(PACKAGE_DIR),
        fix="install recaug from its wheel or checkout (`pip install .`), not by copying the recaug folder",
    )


def config_flags(config_file: Path) -> list[str]:
    """``.streamlit/config.toml`` as ``--section.option=value`` flags (empty when the file is missing)."""
    if not config_file.is_file():
        return []
    flags = []
    for section, options in tomllib.loads(config_file.read_text()).items():
        for option, value in options.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            flags.append(f"--{section}.{option}={text}")
    return flags


THEME = "--theme."


def _option(flag: str) -> str:
    """``--theme.base=dark`` or ``--theme.base`` -> ``theme.base``."""
    return flag[2:].split("=", 1)[0]


def shipped_flags(config_file: Path, extra: list[str]) -> list[str]:
    """The shipped settings as flags; when the user passes any ``--theme.*`` flag, the theme is theirs.

    Their flags come later and win one by one, but a shipped background or text colour the user did not name would
    keep the page light under ``--theme.base=dark``. Leaving our colour flags out is not enough: Streamlit also reads
    the ``.streamlit/config.toml`` beside ``app.py``, so each shipped colour is passed empty, which unsets it.
    """
    flags = config_flags(config_file)
    user = {_option(flag) for flag in extra if flag.startswith(THEME)}
    if not user:
        return flags
    kept = []
    for flag in flags:
        option = _option(flag)
        if option in user:
            continue
        kept.append(f"--{option}=" if flag.startswith(THEME) and option.endswith("Color") else flag)
    return kept


def streamlit_command(
    folder: Path, *, port: int = 8501, address: str = "127.0.0.1", extra: list[str] | None = None
) -> list[str]:
    """The command that serves ``folder/app.py`` on ``address:port`` with the shipped settings (``extra`` last,
    so a user's own ``--section.option=value`` flags win; any ``--theme.*`` flag replaces the shipped theme)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(folder / "app.py"),
        *shipped_flags(folder / ".streamlit" / "config.toml", extra or []),
        f"--server.port={port}",
        f"--server.address={address}",
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        *(extra or []),
    ]


def run_dashboard(*, port: int = 8501, address: str = "127.0.0.1", extra: list[str] | None = None) -> int:
    """Serve the dashboard until interrupted; returns Streamlit's exit status.

    On POSIX this process becomes Streamlit (exec), so a signal that stops it stops the server, never orphans it.
    """
    command = streamlit_command(app_folder(), port=port, address=address, extra=extra)
    print(f"recaug dashboard: http://{address}:{port}  (Ctrl-C stops it)", file=sys.stderr, flush=True)
    if os.name == "posix":
        os.execv(command[0], command)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 130
