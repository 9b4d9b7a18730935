"""What the synthetic data looks like: fidelity, projections, the explorer, what-ifs."""
