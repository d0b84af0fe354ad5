"""Registry entries for the bundled data sets (loaders only; nothing is read until one is called)."""

from audit.registry import datasets

datasets.register(
    "digits", "audit_reference_models.data.digits:load_digits_split",
    "scikit-learn digits upsampled to 16x16: 1,437 training and 360 held-out images of 10 classes",
)
datasets.register(
    "tinystories", "audit_reference_models.data.tinystories:load_tinystories_split",
    "TinyStories excerpt: 2,791 training and 310 held-out stories",
)
datasets.register(
    "adult", "audit_reference_models.data.adult:load_adult_split",
    "UCI Adult census rows, official split cleaned: 30,162 training and 15,060 held-out rows",
)
datasets.register(
    "stereotypes", "audit_reference_models.data.stereotypes:load_stereotypes",
    "Project-authored stereotype minimal pairs on held-out frames, and the frames planted in training",
)
