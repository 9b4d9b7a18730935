"""Interpolation augmenters: mixup and aggregation of virtual users."""
