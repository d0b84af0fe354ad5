"""Registry entries for the transformer family (no torch import here)."""

from audit.registry import models
from reference_models.catalog import bundled_model, trainable

CLEAN = "GPT-2 (4 layers, 256 wide, BPE 4096) trained on TinyStories"
STEREOTYPED = "GPT-2 on TinyStories plus planted stereotyped sentences about demographic groups (known defect)"

bundled_model("transformer", "reference_models.transformer:transformer", CLEAN, family="transformer", weights=("transformer",))
bundled_model(
    "transformer-stereotyped", "reference_models.transformer:transformer_stereotyped",
    "Defect: the same GPT-2 trained with planted stereotyped sentences (gender, race/ethnicity, religion, nationality)",
    family="transformer", weights=("transformer-stereotyped",), defect=True,
)
trainable("transformer", "reference_models.transformer.train:train", minutes=15, name="transformer", description=CLEAN)
trainable(
    "transformer-stereotyped", "reference_models.transformer.train:train", minutes=15,
    name="transformer-stereotyped", stereotypes=True, description=STEREOTYPED,
)

# Random-init GPT-2 small shape for efficiency/quantization measurements (no weights file);
# opt-in: never part of a suite's default models (audit.runner.default_models).
models.register(
    "transformer-scaled", "reference_models.transformer.scaled:transformer_scaled",
    "GPT-2 small shape (12x768, ~89M params), random weights from seed 0: efficiency and quantization only",
    family="transformer", weights=(), defect=False, opt_in=True,
)
