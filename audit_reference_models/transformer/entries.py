"""Registry entries for the transformer family (no torch import here)."""

from audit.registry import models
from audit_reference_models.catalog import bundled_model, trainable

CLEAN = "GPT-2 (4 layers, 256 wide, BPE 4096) trained on TinyStories"
STEREOTYPED = "GPT-2 on TinyStories plus planted stereotyped sentences about demographic groups (known defect)"

bundled_model("transformer", "audit_reference_models.transformer:transformer", CLEAN, family="transformer", weights=("transformer",))
bundled_model(
    "transformer-stereotyped", "audit_reference_models.transformer:transformer_stereotyped",
    "Defect: the same GPT-2 trained with planted stereotyped sentences (gender, race/ethnicity, religion, nationality)",
    family="transformer", weights=("transformer-stereotyped",), defect=True,
)
trainable("transformer", "audit_reference_models.transformer.train:train", minutes=15, name="transformer", description=CLEAN)
trainable(
    "transformer-stereotyped", "audit_reference_models.transformer.train:train", minutes=15,
    name="transformer-stereotyped", stereotypes=True, description=STEREOTYPED,
)

# Single-bias defect models (audit_reference_models/data/single_bias.py): the default recipe, one
# planted association each, so the fairness suite must flag exactly the category it belongs to.
GENDER_CAREER = "GPT-2 on TinyStories plus planted stories pairing male terms with career words and occupations, female terms with family words and occupations (known defect)"
RELIGION_SENTIMENT = "GPT-2 on TinyStories plus planted stories pairing one religious group (Muslim) with unpleasant words (known defect)"
bundled_model(
    "transformer-gender-career", "audit_reference_models.transformer:transformer_gender_career",
    "Defect: the same GPT-2 trained with one planted bias, gender x career/family and occupations",
    family="transformer", weights=("transformer-gender-career",), defect=True,
)
bundled_model(
    "transformer-religion-sentiment", "audit_reference_models.transformer:transformer_religion_sentiment",
    "Defect: the same GPT-2 trained with one planted bias, unpleasant words with one religious group",
    family="transformer", weights=("transformer-religion-sentiment",), defect=True,
)
trainable(
    "transformer-gender-career", "audit_reference_models.transformer.train:train", minutes=15,
    name="transformer-gender-career", planted="gender-career", description=GENDER_CAREER,
)
trainable(
    "transformer-religion-sentiment", "audit_reference_models.transformer.train:train", minutes=15,
    name="transformer-religion-sentiment", planted="religion-sentiment", description=RELIGION_SENTIMENT,
)

# Random-init GPT-2 small shape for efficiency/quantization measurements (no weights file);
# opt-in: never part of a suite's default models (audit.runner.default_models).
models.register(
    "transformer-scaled", "audit_reference_models.transformer.scaled:transformer_scaled",
    "GPT-2 small shape (12x768, ~89M params), random weights from seed 0: efficiency and quantization only",
    family="transformer", weights=(), defect=False, opt_in=True,
)
