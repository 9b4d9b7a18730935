"""Generative augmenters: CFGAN, embedding GAN, IRGAN-style RL-GAN."""
