"""Streamlit glue only: session state, cached wrappers, progress adapter, error display, shared widgets."""
