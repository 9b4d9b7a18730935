"""Show problems as friendly messages; never a traceback in the UI, never lost work."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from recaug.core.errors import RecaugInputError
from recaug.data.regional import RegionalControls, RegionalSettingError
from ui.escape import markdown_prose

logger = logging.getLogger("recaug.ui")

# The regional choices on Home (ui/data_form.py: the "Dates" and "Decimal mark" radios), as a fix names them: an
# error shown in the browser must not tell its reader to pass a command-line flag.
DASHBOARD_CONTROLS = RegionalControls(
    dates="the 'Dates' choice under the column mapping",
    decimal="set 'Decimal mark' to 'Comma (4,5)' under the column mapping",
)


def dashboard_wording(err: RecaugInputError) -> RecaugInputError:
    """``err`` with any setting it names worded as the dashboard's control (the CLI's flag otherwise)."""
    return err.for_surface(DASHBOARD_CONTROLS) if isinstance(err, RegionalSettingError) else err


@contextmanager
def friendly_errors(action: str) -> Iterator[None]:
    """Run a block; show RecaugInputError verbatim (naming the dashboard's controls) and anything else as a short
    message (logged in full)."""
    try:
        yield
    except RecaugInputError as err:
        message = markdown_prose(dashboard_wording(err))
        st.error(f"**Could not {action}.** {message[:1].upper()}{message[1:]}", icon=":material/warning:")
    except Exception as err:  # the UI must never show a traceback; the log keeps it for debugging
        logger.exception("unexpected error while trying to %s", action)
        st.error(
            f"**Could not {action}.** Unexpected {type(err).__name__}: {markdown_prose(err, 1000)}. "
            "Your previous data and results are unchanged; try again or change the settings.",
            icon=":material/warning:",
        )
