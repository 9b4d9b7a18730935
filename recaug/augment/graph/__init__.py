"""Graph augmenters: link prediction and item-kNN expansion."""
