"""Text-similarity augmentation."""
