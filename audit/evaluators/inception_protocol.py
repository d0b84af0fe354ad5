"""The input protocol of FID's Inception-v3, as the original TF FID code and torch-fidelity apply it.

Those tools receive 8-bit images, so float images in [0, 1] are first quantised the way an image
file stores them: uint8 = floor(255 x + 0.5), clamped to 0..255 (torchvision's `save_image`,
PIL). Grayscale images are repeated to 3 channels (what `PIL.Image.convert("RGB")` does when the
tools read a grayscale file). The 0..255 values are resized to 299x299 with the bilinear
interpolation of TensorFlow 1.x (`tf.image.resize_bilinear`, align_corners=False, no half-pixel
centres: source = destination x in/out), which torch-fidelity reproduces in
`interpolate_bilinear_2d_like_tensorflow1x` (its default "slow" method, bit-exact on CPU); PyTorch's
`F.interpolate` samples at half-pixel centres and gives other values. Then (x - 128) / 128.

With the same weights file the features and logits equal torch-fidelity's
`FeatureExtractorInceptionV3` features `2048` and `logits_unbiased`, and torchmetrics'
`NoTrainInceptionV3(..., antialias=False)` (torchmetrics' default `antialias=True` resizes
differently), fed the same uint8 images (tests/audit/evaluators/test_inception.py). pytorch-fid and
clean-fid's "legacy_pytorch" mode resize with `F.interpolate` instead, so their numbers equal these
only for images that are already 299x299.
"""

from __future__ import annotations

import torch
from torch import nn

from audit.evaluators.inception_network import FIDInceptionV3

INPUT_SIZE = 299
CHUNK = 16
"""Images per forward pass: ~6 GFLOP and ~100 MB of activations each; more per pass is no faster on CPU."""


def quantize_to_uint8_levels(images: torch.Tensor) -> torch.Tensor:
    """Float images in [0, 1] -> float tensor of the uint8 levels 0..255 an image file would hold."""
    return torch.floor(images.float() * 255 + 0.5).clamp_(0, 255)


def _tf1_axis(in_size: int, out_size: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Source index below, above, and the fraction between them, for each output position."""
    position = torch.arange(out_size, dtype=dtype) * torch.tensor(in_size / out_size, dtype=torch.float32)
    low = position.long()
    return low, (low + 1).clamp_max(in_size - 1), position - low.float()


def resize_bilinear_tf1(x: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """TensorFlow 1.x bilinear resize (align_corners=False) of float [N, C, H, W] to size x size."""
    y_low, y_high, dy = _tf1_axis(x.shape[2], size, x.dtype)
    x_low, x_high, dx = _tf1_axis(x.shape[3], size, x.dtype)
    top, bottom = x[:, :, y_low, :], x[:, :, y_high, :]
    dx = dx.view(1, 1, 1, size)
    upper = top[..., x_low] + (top[..., x_high] - top[..., x_low]) * dx
    lower = bottom[..., x_low] + (bottom[..., x_high] - bottom[..., x_low]) * dx
    return upper + (lower - upper) * dy.view(1, 1, size, 1)


def fid_inception_input(images: torch.Tensor) -> torch.Tensor:
    """Float images [N, 1 or 3, H, W] in [0, 1], any H and W -> the network's [N, 3, 299, 299] input."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"the Inception evaluator reads images [N, 1 or 3, H, W]; got shape {tuple(images.shape)}")
    x = quantize_to_uint8_levels(images)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return (resize_bilinear_tf1(x) - 128) / 128


class InceptionFeatureSpace(nn.Module):
    """Images in [0, 1] at any size -> (pool3 features [N, 2048], unbiased logits [N, 1008]),
    CHUNK images per pass so memory stays bounded whatever batch the caller hands in."""

    def __init__(self, network: FIDInceptionV3) -> None:
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features, logits = [], []
        for start in range(0, images.shape[0], CHUNK):
            f, out = self.network(fid_inception_input(images[start : start + CHUNK]))
            features.append(f)
            logits.append(out)
        if not features:
            empty = self.network.fc.weight.new_zeros
            return empty((0, self.network.fc.in_features)), empty((0, self.network.fc.out_features))
        return torch.cat(features), torch.cat(logits)
