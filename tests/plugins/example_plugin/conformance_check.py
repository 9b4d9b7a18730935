"""The plug-in's own tests: recaug's shipped conformance kits, run against the entry-point names.

Named so the main suite does not collect it (the plug-in is installed only inside tests/plugins/test_plugins.py);
a real plug-in would call this file test_conformance.py.
"""

from __future__ import annotations

from typing import Any, ClassVar

from recaug.testing import AugmenterConformance, RecommenderConformance


class TestColdestItems(AugmenterConformance):
    augmenter_name = "example-coldest"


class TestCooccurrence(RecommenderConformance):
    model_name = "example-cooccurrence"
    params: ClassVar[dict[str, Any]] = {}
