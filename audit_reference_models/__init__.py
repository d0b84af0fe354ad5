"""Bundled reference models (GAN, VAE, transformer, diffusion), their evaluators and data.

A plugin of `audit` like any user package: it uses only audit's public API. Each family is a
sub-package with its network, adapter and training script; `catalog` registers the models, data
sets, evaluator, detectors and trainers in `audit.registry`; weights ship in `weights/` as
safetensors with a JSON manifest (`manifest`, over `audit.weights`).
"""
