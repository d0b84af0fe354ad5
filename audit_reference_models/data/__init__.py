"""Data sets the reference models train and are evaluated on (all bundled, nothing downloaded)."""

from audit_reference_models.data.digits import IMAGE_SHAPE, NUM_CLASSES, DigitsSplit, load_digits_split

__all__ = ["IMAGE_SHAPE", "NUM_CLASSES", "DigitsSplit", "load_digits_split"]
