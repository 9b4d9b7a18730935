"""Text encoders (sentence embeddings) and LLM backends."""
