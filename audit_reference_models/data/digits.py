"""scikit-learn's bundled digits, upsampled to 16x16 and rounded to 8 bits, with a fixed split.

1,797 images of 10 classes; a stratified 80/20 split (random_state=0) gives 1,437 train and
360 held-out images. The data ships inside scikit-learn, so nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

IMAGE_SHAPE = (1, 16, 16)
NUM_CLASSES = 10
SPLIT_SEED = 0


@dataclass(frozen=True)
class DigitsSplit:
    """Images as float32 [N, 1, 16, 16] in [0, 1] (multiples of 1/255), labels as int64 [N]."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    @property
    def sha256(self) -> str:
        from audit.weights import sha256_arrays

        return sha256_arrays(self.train_x, self.train_y, self.test_x, self.test_y)


def upsample(images8: np.ndarray) -> np.ndarray:
    """8x8 digits (0..16) to 16x16 in [0, 1] by bilinear interpolation, rounded to 8 bits."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(images8.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    up = F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False).clamp(0, 1)
    return (torch.round(up * 255) / 255).numpy().astype(np.float32)


@lru_cache(maxsize=1)
def load_digits_split() -> DigitsSplit:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = upsample(digits.images)
    labels = digits.target.astype(np.int64)
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=0.2, stratify=labels, random_state=SPLIT_SEED
    )
    for a in (train_x, test_x, train_y, test_y):
        a.setflags(write=False)
    return DigitsSplit(train_x, train_y, test_x, test_y)
