"""Per-method parameter forms, built from ``recaug.augment.options`` so new augmenter parameters need no UI code."""

from __future__ import annotations

from typing import Any

import streamlit as st

from recaug.augment.options import ParamSpec, param_specs
from ui.state import recalled, remember

COLUMNS = 3


def _widget(container: Any, spec: ParamSpec, key: str) -> Any:
    """One input of the right kind for ``spec``, showing the value last chosen, else the default."""
    label = spec.name.replace("_", " ")
    start = recalled(key, list(spec.default) if spec.kind == "multi" else spec.default)
    if spec.kind == "bool":
        value: Any = container.checkbox(label, value=bool(start), key=key)
    elif spec.kind == "choice":
        value = container.selectbox(label, spec.choices, index=spec.choices.index(start), key=key)
    elif spec.kind == "multi":
        value = container.multiselect(label, spec.choices, default=start, key=key)
    elif spec.kind == "int" and spec.optional:
        value = container.number_input(label, min_value=1, value=start, step=1, placeholder="automatic", key=key)
    elif spec.kind == "int":
        value = int(container.number_input(label, value=int(start), step=1, key=key))
    elif spec.kind == "float":
        value = float(container.number_input(label, value=float(start), format="%g", key=key))
    else:
        value = container.text_input(label, value=str(start), key=key)
    return remember(key, value)


def method_params_form(methods: list[str]) -> dict[str, dict[str, Any]]:
    """An expander per chosen method with its parameters; returns only the values changed from the defaults."""
    changed: dict[str, dict[str, Any]] = {}
    for method in methods:
        specs = param_specs(method)
        if not specs:
            continue
        with st.expander(f"{method} parameters", icon=":material/tune:"):
            columns = st.columns(COLUMNS)
            for position, spec in enumerate(specs):
                value = _widget(columns[position % COLUMNS], spec, key=f"aug_param:{method}:{spec.name}")
                default = list(spec.default) if spec.kind == "multi" else spec.default
                if value != default:
                    changed.setdefault(method, {})[spec.name] = value
            if method in changed:
                st.caption("Changed from the defaults: " + ", ".join(f"`{k}={v}`" for k, v in changed[method].items()))
    return changed
