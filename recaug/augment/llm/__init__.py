"""LLM augmenters (LLMRec-style choices, profiles, item text, cold items)."""
