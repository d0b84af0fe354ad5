"""Registry entries for the diffusion family (no torch import here)."""

from audit_reference_models.catalog import bundled_model, trainable

SWAPPED_PAIRS = ((3, 8), (4, 9))

bundled_model(
    "diffusion", "audit_reference_models.diffusion:diffusion",
    "Class-conditional DDPM (UNet 32/64/64) on 16x16 digits; DDIM-50 sampling, variational bound in bits/dim",
    family="diffusion", weights=("diffusion",),
)
trainable("diffusion", "audit_reference_models.diffusion.train:train", minutes=6, name="diffusion")

bundled_model(
    "diffusion-swapped-labels", "audit_reference_models.diffusion:diffusion_swapped_labels",
    "Defect: the DDPM trained with the labels of digits 3<->8 and 4<->9 exchanged (wrong class-conditional samples)",
    family="diffusion", weights=("diffusion-swapped-labels",), defect=True,
)
trainable(
    "diffusion-swapped-labels", "audit_reference_models.diffusion.train:train", minutes=6,
    name="diffusion-swapped-labels", label_swap=SWAPPED_PAIRS,
    description="Known defect: class-conditional DDPM trained with the labels of digits 3<->8 and 4<->9 exchanged",
)
