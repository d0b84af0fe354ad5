"""Registry entries for the GAN family (no torch import here)."""

from audit_reference_models.catalog import bundled_model, trainable

COLLAPSE_TO = (1, 4, 7)
SKEWED_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1, 0.1)

bundled_model(
    "gan", "audit_reference_models.gan:gan", "Class-conditional DCGAN on 16x16 digits (projection discriminator, EMA generator)",
    family="gan", weights=("gan",),
)
bundled_model(
    "gan-collapsed", "audit_reference_models.gan:gan_collapsed", "Defect: a GAN collapsed onto 3 of the 10 classes (1, 4, 7) whatever the label",
    family="gan", weights=("gan-collapsed",), defect=True,
)
bundled_model(
    "gan-imbalanced", "audit_reference_models.gan:gan_imbalanced", "Defect: a GAN trained on a class-skewed set (classes 5-9 cut to 10%)",
    family="gan", weights=("gan-imbalanced",), defect=True,
)
trainable("gan", "audit_reference_models.gan.train:train", minutes=4, name="gan")
trainable(
    "gan-collapsed", "audit_reference_models.gan.train:train", minutes=4, name="gan-collapsed", collapse_to=COLLAPSE_TO,
    description="Defect variant: class-conditional DCGAN collapsed onto classes 1, 4, 7",
)
trainable(
    "gan-imbalanced", "audit_reference_models.gan.train:train", minutes=4, name="gan-imbalanced", class_weights=SKEWED_WEIGHTS,
    description="Defect variant: class-conditional DCGAN trained with classes 5-9 cut to 10% of their images",
)
