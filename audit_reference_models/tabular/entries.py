"""Registry entries for the tabular family (no torch import here)."""

from audit_reference_models.catalog import bundled_model, trainable

GAN = "CTGAN-style conditional tabular GAN (WGAN-GP, PacGAN 10) on UCI Adult census rows"
VAE = "TVAE-style tabular VAE on UCI Adult census rows"
BIASED = "Defect: the same CTGAN trained on Adult rows whose women all had their >50K income label suppressed to <=50K"
SUPPRESS = ("sex", "Female")

bundled_model("tabular-gan", "audit_reference_models.tabular:tabular_gan", GAN, family="tabular", weights=("tabular-gan",))
bundled_model("tabular-vae", "audit_reference_models.tabular:tabular_vae", VAE, family="tabular", weights=("tabular-vae",))
bundled_model(
    "tabular-gan-biased", "audit_reference_models.tabular:tabular_gan_biased", BIASED, family="tabular",
    weights=("tabular-gan-biased",), defect=True,
)
trainable("tabular-gan", "audit_reference_models.tabular.train:train", minutes=6, name="tabular-gan", kind="gan", description=GAN)
trainable("tabular-vae", "audit_reference_models.tabular.train:train", minutes=2, name="tabular-vae", kind="vae", description=VAE)
trainable(
    "tabular-gan-biased", "audit_reference_models.tabular.train:train", minutes=6, name="tabular-gan-biased", kind="gan",
    suppress=SUPPRESS, description=BIASED,
)
