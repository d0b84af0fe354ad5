"""Bundled reference models (GAN, VAE, transformer, diffusion), their evaluators and data.

Each family is a sub-package with its network, adapter and training script; `catalog`
registers them by name; weights ship in `weights/` as safetensors with a JSON manifest.
"""
