"""`attributes=`: the user's attribute classifier, which gives image fairness checks their groups.

The word is a TorchScript file or a `package.module:factory`. A factory is called with no
arguments and returns the classifier (a `torch.nn.Module` instance given directly is used as it
is). The classifier maps float images [N, C, H, W] in [0, 1] to one group label per image: a
sequence, numpy array or tensor of N integers or N strings. Labels are kept as strings (`"0"`,
`"female"`), which are the `by_group` keys of the fairness records.

It is imported, called and probed at plan time (InputError, exit 2, with one line); on a model's
images at run time, anything else it does (raise, return the wrong count or floats) is a
ModelOutputError of that model's record: fail closed, never a pass. Its fingerprint
(`attributes:<name>`) is the file's sha256, a module's state dict, or the source file of a plain
Python callable.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from audit.errors import InputError, ModelOutputError

BATCH = 256
PROBE_IMAGES = 4


@dataclass
class AttributeClassifier:
    """A named, fingerprinted map from images to group labels (strings)."""

    name: str
    fn: Callable[[Any], Any]
    sha256: str

    def labels(self, images: Any) -> np.ndarray:
        """Group labels (str) of images [N, C, H, W], in batches; ModelOutputError on anything but N labels."""
        import torch

        images = torch.as_tensor(images, dtype=torch.float32)
        out = []
        with torch.no_grad():
            for i in range(0, len(images), BATCH):
                batch = images[i : i + BATCH]
                out.append(as_labels(self.name, self.fn(batch), len(batch)))
        return np.concatenate(out) if out else np.array([], dtype=str)


def as_labels(name: str, raw: Any, count: int) -> np.ndarray:
    """`raw` as a 1-d array of `count` string labels from integers or strings, else ModelOutputError."""
    import torch

    if isinstance(raw, torch.Tensor):
        raw = raw.detach().cpu().numpy()
    if isinstance(raw, (list, tuple)):
        a = np.empty(len(raw), dtype=object)  # element by element: numpy would turn [1.5, "a"] into strings
        a[:] = list(raw)
    else:
        try:
            a = np.asarray(raw)
        except Exception:
            a = np.asarray([], dtype=object)
    if a.ndim != 1 or len(a) != count:
        shape = "x".join(map(str, a.shape)) or "a scalar"
        raise ModelOutputError(f"attribute classifier '{name}' returned {shape} for {count} images; expected one label per image ([{count}])")
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.integer) or a.dtype.kind in "USO"):
        raise ModelOutputError(f"attribute classifier '{name}' returned labels of dtype {a.dtype}; expected integers or strings")
    if a.dtype.kind == "O" and not all(isinstance(v, (str, int, np.integer)) and not isinstance(v, bool) for v in a):
        kinds = sorted({type(v).__name__ for v in a})
        raise ModelOutputError(f"attribute classifier '{name}' returned labels of type {', '.join(kinds)}; expected integers or strings")
    return np.array([str(int(v)) if isinstance(v, (int, np.integer)) else str(v) for v in a.tolist()], dtype=str)


def _source_sha256(obj: Any) -> str:
    import inspect

    try:
        path = inspect.getsourcefile(obj if inspect.isfunction(obj) or inspect.isclass(obj) else type(obj))
    except TypeError:
        path = None
    if path and Path(path).is_file():
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return hashlib.sha256(repr(obj).encode()).hexdigest()


def load_attribute_classifier(word: str) -> AttributeClassifier:
    """The classifier of `attributes=WORD` (InputError, exit 2, when it cannot be had)."""
    import torch

    from audit.evaluators import load_user_network

    fn, file_digest, name = load_user_network(word, "Attribute classifier")
    if not callable(fn):
        raise InputError(f"Attribute classifier factory '{word}' returned {type(fn).__name__}, which is not callable (images -> labels).")
    if file_digest is not None:
        return AttributeClassifier(name, fn.eval(), file_digest)
    if isinstance(fn, torch.nn.Module):
        from audit.evaluators import state_sha256

        fn.eval()
        digest = state_sha256(fn) if fn.state_dict() else _source_sha256(fn)
    else:
        digest = _source_sha256(fn)
    return AttributeClassifier(word, fn, digest)


def probe_attribute_classifier(classifier: AttributeClassifier, images: np.ndarray, what: str) -> None:
    """Run the classifier on a few images now, so one that fails or returns garbage fails the plan (exit 2)."""
    from audit.messages import one_line

    x = np.asarray(images[:PROBE_IMAGES], dtype=np.float32)
    shape = "x".join(map(str, x.shape[1:]))
    try:
        classifier.labels(x)
    except ModelOutputError as exc:
        raise InputError(f"Attributes= {exc} (probe on {len(x)} {what} images of shape {shape}).") from None
    except Exception as exc:
        raise InputError(
            f"Attribute classifier '{classifier.name}' fails on {what} images of shape {shape}: {type(exc).__name__}: {one_line(exc, 200)}"
        ) from None


__all__ = ["AttributeClassifier", "as_labels", "load_attribute_classifier", "probe_attribute_classifier"]
