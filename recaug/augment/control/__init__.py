"""Control augmenters: random pairs, popularity, edge dropout (the bars to clear)."""
