"""Registry entries for the VAE family (no torch import here).

`vae-memorized` trains through `train_memorized` and `vae-fragile` through `train_fragile`; their
recipes (`train.MEMORIZED`, `train.FRAGILE`) live beside the training code they configure.
"""

from audit_reference_models.catalog import bundled_model, trainable

bundled_model(
    "vae", "audit_reference_models.vae:vae", "Convolutional VAE on 16x16 digits (discretized-logistic decoder, ELBO/IWAE bits/dim)",
    family="vae", weights=("vae",),
)
bundled_model(
    "vae-memorized", "audit_reference_models.vae:vae_memorized",
    "Known defect: the same VAE overfit to 48 training images, so its samples are near-copies of them",
    family="vae", weights=("vae-memorized",), defect=True,
)
bundled_model(
    "vae-fragile", "audit_reference_models.vae:vae_fragile",
    "Known defect: the same VAE squeezed into a 1-d latent, so small latent noise changes the decoded digit",
    family="vae", weights=("vae-fragile",), defect=True,
)
trainable("vae", "audit_reference_models.vae.train:train", minutes=2)
trainable("vae-memorized", "audit_reference_models.vae.train:train_memorized", minutes=2)
trainable("vae-fragile", "audit_reference_models.vae.train:train_fragile", minutes=2)
