"""Common page set-up: config, logging, one-time background warm-up."""

from __future__ import annotations

import logging
import os

import streamlit as st

from recaug.core.runtime import prefer_single_thread_on_small_machines

prefer_single_thread_on_small_machines()
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@st.cache_resource
def _start_warm_up() -> bool:
    """Compile UMAP's numba code and embed the built-in item text once per server, in the background."""
    if os.environ.get("RECAUG_NO_WARMUP"):
        return False
    from recaug.analysis.warmup import warm_up_thread

    warm_up_thread()
    return True


def _api_key_from_secrets() -> None:
    """Let `.streamlit/secrets.toml` supply the LLM server key; it only ever lives in the environment."""
    if "RECAUG_LLM_API_KEY" in os.environ:
        return
    try:
        key = st.secrets.get("RECAUG_LLM_API_KEY") or st.secrets.get("OPENAI_API_KEY")
    except Exception:  # no secrets file: nothing to copy (streamlit raises its own parse/missing errors)
        return
    if key:
        os.environ["RECAUG_LLM_API_KEY"] = str(key)


def page_setup(title: str) -> None:
    """Call first on every page."""
    st.set_page_config(page_title=f"recaug · {title}", page_icon=":material/science:", layout="wide")
    logging.basicConfig(level=logging.INFO)
    _api_key_from_secrets()
    _start_warm_up()
