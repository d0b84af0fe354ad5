"""Registry entries for the VAE family (no torch import here).

`vae-memorized` trains through `train_memorized`, whose recipe (`train.MEMORIZED`) lives beside
the training code it configures.
"""

from reference_models.catalog import bundled_model, trainable

bundled_model(
    "vae", "reference_models.vae:vae", "Convolutional VAE on 16x16 digits (discretized-logistic decoder, ELBO/IWAE bits/dim)",
    family="vae", weights=("vae",),
)
bundled_model(
    "vae-memorized", "reference_models.vae:vae_memorized",
    "Known defect: the same VAE overfit to 48 training images, so its samples are near-copies of them",
    family="vae", weights=("vae-memorized",), defect=True,
)
trainable("vae", "reference_models.vae.train:train", minutes=2)
trainable("vae-memorized", "reference_models.vae.train:train_memorized", minutes=2)
