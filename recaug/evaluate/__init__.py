"""Evaluation: full-ranking metrics, slices, significance."""
