"""recaug: does augmenting recommender training data actually help? Measure it honestly.

The package is pure compute and never imports streamlit. Heavy libraries (torch,
transformers, umap) are imported inside the functions that need them so that
``import recaug`` stays fast; the notebook API (:func:`compare`, :func:`load_run`,
:class:`Comparison`, from :mod:`recaug.api`) is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recaug.core.errors import RecaugInputError

if TYPE_CHECKING:
    from recaug.api import Comparison, compare, load_run

__all__ = ["Comparison", "RecaugInputError", "compare", "load_run"]
__version__ = "0.1.0"
_API = ("Comparison", "compare", "load_run")


def __getattr__(name: str) -> Any:
    if name in _API:
        from recaug import api

        return getattr(api, name)
    raise AttributeError(f"module 'recaug' has no attribute '{name}'")


def __dir__() -> list[str]:
    """What a notebook's tab completion offers: the public names, not this module's own imports."""
    return sorted({*__all__, "__version__"})
