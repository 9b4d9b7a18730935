"""Data layer: reading, validating, preparing and splitting interaction data."""
