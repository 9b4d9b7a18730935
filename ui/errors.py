"""Show problems as friendly messages; never a traceback in the UI, never lost work."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from recaug.core.errors import RecaugInputError
from ui.escape import markdown_prose

logger = logging.getLogger("recaug.ui")


@contextmanager
def friendly_errors(action: str) -> Iterator[None]:
    """Run a block; show RecaugInputError verbatim and anything else as a short message (logged in full)."""
    try:
        yield
    except RecaugInputError as err:
        st.error(f"**Could not {action}.** {markdown_prose(err)}", icon=":material/warning:")
    except Exception as err:  # the UI must never show a traceback; the log keeps it for debugging
        logger.exception("unexpected error while trying to %s", action)
        st.error(
            f"**Could not {action}.** Unexpected {type(err).__name__}: {markdown_prose(err, 1000)}. "
            "Your previous data and results are unchanged; try again or change the settings.",
            icon=":material/warning:",
        )
