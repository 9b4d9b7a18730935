"""recaug: does augmenting recommender training data actually help? Measure it honestly.

The package is pure compute and never imports streamlit. Heavy libraries (torch,
transformers, umap) are imported inside the functions that need them so that
``import recaug`` stays fast.
"""

from recaug.core.errors import RecaugInputError

__all__ = ["RecaugInputError"]
__version__ = "0.1.0"
