"""Foundations every layer uses: errors, progress, registries, parameters, paths, runtime, torch."""
