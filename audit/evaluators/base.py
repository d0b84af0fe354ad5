"""The evaluator contract (features + logits), the bundled digits evaluator, user networks, and the real reference images they are compared with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

BATCH = 512
DEFAULT_EVALUATOR = "digits-cnn"
"""The registered evaluator (audit.registry.evaluators) a run uses unless given evaluator=."""
DEFAULT_REFERENCE = "digits"
"""The registered data set (audit.registry.datasets) of real images a run uses unless given data=."""


@dataclass
class Embedding:
    """Evaluator outputs for a set of images, in float64."""

    features: np.ndarray
    logits: np.ndarray

    @property
    def predictions(self) -> np.ndarray:
        return self.logits.argmax(axis=1)


def _is_pair(out: Any) -> bool:
    import torch

    return isinstance(out, (tuple, list)) and len(out) == 2 and all(isinstance(t, torch.Tensor) for t in out)


class ImageEvaluator:
    """Wraps a network that maps images float [N, C, H, W] in [0, 1] to (features, logits); runs
    in float32 on CPU. Its `forward(x)` returns the pair `(features [N, D], logits [N, K])`, or,
    where forward returns something else, it has `features(x) -> [N, D]` and `head(features) ->
    [N, K]` methods (the bundled CNN, whose forward gives logits; a scripted module exports them
    with `@torch.jit.export`). A forward that returns the pair wins: it is where a user's
    resizing and normalisation live, which `features` alone would skip. The network gets a copy
    of each batch, so one that normalises in place cannot rewrite the samples other checks read."""

    def __init__(self, name: str, network: Any, sha256: str) -> None:
        self.name = name
        self.network = network.eval()
        self.sha256 = sha256
        self._split: bool | None = None if hasattr(network, "features") and hasattr(network, "head") else False
        """Whether features(x) and head(f) make the pair; None until the first batch tells (forward first)."""
        self.classes: int | None = None
        """K of its logits [N, K] (0: a feature-only network), known once it has embedded a batch."""

    def features_and_logits(self, x: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        """One batch through the network: (features [N, D], logits [N, K]), checked for shape."""
        import torch

        out: Any = None
        if self._split is None:
            try:
                out = self.network(x.clone())
            except NotImplementedError:  # nn.Module's own forward: only features and head exist
                out = None
            self._split = not _is_pair(out)
        elif not self._split:
            out = self.network(x.clone())
        if self._split:
            f = self.network.features(x.clone())
            out = (f, self.network.head(f))
        if not _is_pair(out):
            raise ValueError(
                f"evaluator '{self.name}' must return (features, logits) from forward(x) or have features(x) and head(f); "
                f"got {type(out).__name__}"
            )
        f, logits = out
        n = x.shape[0]
        if f.ndim != 2 or logits.ndim != 2 or f.shape[0] != n or logits.shape[0] != n:
            raise ValueError(
                f"evaluator '{self.name}' returned features {tuple(f.shape)} and logits {tuple(logits.shape)} for {n} images; "
                f"expected [{n}, D] and [{n}, K]"
            )
        if f.shape[1] == 0:
            raise ValueError(f"evaluator '{self.name}' returned 0-dimensional features [{n}, 0]; expected [{n}, D] with D >= 1")
        self.classes = int(logits.shape[1])
        return f, logits

    def embed(self, images: "torch.Tensor") -> Embedding:
        import torch

        feats, logits = [], []
        with torch.no_grad():
            for i in range(0, len(images), BATCH):
                f, out = self.features_and_logits(images[i : i + BATCH].float().cpu())
                bad = int((~torch.isfinite(f).all(dim=1) | ~torch.isfinite(out).all(dim=1)).sum())
                if bad:  # a NaN row would be measured: k-NN radii of 0, argmax class 0, diluted recall
                    raise ValueError(f"evaluator '{self.name}' returned non-finite features or logits for {bad} of "
                                     f"{len(f)} images (images {i}..{i + len(f) - 1})")
                feats.append(f.double().numpy())
                logits.append(out.double().numpy())
        return Embedding(np.concatenate(feats), np.concatenate(logits))


@dataclass
class ReferenceImages:
    """Real images for comparison: a training split (the default reference) and a held-out one."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray | None
    test_x: np.ndarray
    test_y: np.ndarray | None
    sha256: str


def digits_evaluator() -> ImageEvaluator:
    """The default evaluator: the registered `digits-cnn` (its loader returns the network and its sha256)."""
    from audit.registry import evaluators

    network, digest = evaluators.load(DEFAULT_EVALUATOR)()
    return ImageEvaluator(DEFAULT_EVALUATOR, network, digest)


def digits_reference() -> ReferenceImages:
    """The default reference images: the registered `digits` data set's train and held-out splits."""
    from audit.datasets import load_dataset

    d = load_dataset(DEFAULT_REFERENCE)
    return ReferenceImages("digits-16x16", d.train_x, d.train_y, d.test_x, d.test_y, d.sha256)


def state_sha256(module: Any) -> str:
    """sha256 of a module's parameters and buffers (names, dtypes, shapes and bytes), for
    evaluators built in Python whose weights file is not known to `audit`."""
    import hashlib

    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{t.dtype}:{tuple(t.shape)}\n".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def user_evaluator(word: str) -> ImageEvaluator:
    """The evaluator of `evaluator=WORD`: a TorchScript file (loaded with `torch.jit.load`,
    fingerprinted by the file's sha256) or `package.module:factory` returning a `torch.nn.Module`
    (fingerprinted by the sha256 of its state dict). Either has `features(x)` and `head(f)`, or a
    `forward(x)` returning (features, logits)."""
    import torch

    from audit.errors import InputError

    network, digest, name = load_user_network(word, "Evaluator")
    if not isinstance(network, torch.nn.Module):
        raise InputError(f"Evaluator '{word}' returned {type(network).__name__}, expected a torch.nn.Module.")
    network = network.float()
    return ImageEvaluator(name, network, digest or state_sha256(network))


def load_user_network(word: str, what: str) -> tuple[Any, str | None, str]:
    """What a user's network word names, shared by `evaluator=` and `attributes=`: a TorchScript
    file (loaded with `torch.jit.load`; its sha256 and its stem returned), or the object a
    `package.module:factory` returns (a module given instead of a factory is itself; sha256 None:
    the caller fingerprints it). `what` starts the one-line InputError of each failure."""
    from pathlib import Path

    import torch

    from audit.errors import InputError
    from audit.messages import one_line

    path = Path(word).expanduser()
    if path.is_file():
        from audit.weights import sha256_file

        try:
            module = torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:
            raise InputError(f"{what} '{word}' is not a TorchScript file torch.jit.load can read ({type(exc).__name__}: {one_line(exc, 200)}).") from None
        return module, sha256_file(path), path.stem
    if ":" not in word:
        raise InputError(f"{what} '{word}' does not exist: give a TorchScript file or package.module:factory.")
    from audit.registry import import_target

    target = import_target(word)
    if isinstance(target, torch.nn.Module):
        return target, None, word
    if not callable(target):
        raise InputError(f"{what} '{word}' is a {type(target).__name__}, not a factory (a callable returning the network).")
    try:
        return target(), None, word
    except Exception as exc:
        raise InputError(f"{what} factory '{word}' raised {type(exc).__name__}: {one_line(exc, 200)}.") from None
