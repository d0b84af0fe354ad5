"""`evaluator=inception`: the FID Inception-v3 feature space (pool3, 2048-d; 1008 logits for the
Inception Score), with the weights the field uses, read from a local file and never downloaded.

The network is audit.evaluators.inception_network, its input protocol (uint8 quantisation, TF1
bilinear resize to 299, scaling) audit.evaluators.inception_protocol: with the same weights file
the features equal torch-fidelity's and torchmetrics' FID extractor (`antialias=False`).

The weights file is looked up, first found wins:

1. the file `AUDIT_INCEPTION_WEIGHTS` names (any file in this layout, e.g. one a test built);
2. `~/.cache/audit/weights-inception-2015-12-05-6726825d.pth` (DEFAULT_WEIGHTS);
3. the torch hub cache where torch-fidelity, torchmetrics, pytorch-fid or clean-fid already put
   it: `$TORCH_HOME/hub/checkpoints/` (default `~/.cache/torch/hub/checkpoints/`), under
   torch-fidelity's name or pytorch-fid's `pt_inception-2015-12-05-6726825d.pth`. Both files are
   state dicts of the TF graph's weights under torchvision's Inception3 parameter names (both
   projects load them strictly into such a network), the names this network uses: no renaming.

The evaluator's sha256 is the weights file's, so it enters the run fingerprint and `audit compare`
refuses runs measured with other weights.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from audit.errors import WeightsError

if TYPE_CHECKING:
    from audit.evaluators.base import ImageEvaluator
    from audit.evaluators.inception_network import FIDInceptionV3

INCEPTION = "inception"
"""The `evaluator=` word of this feature space, and the evaluator's name in results."""
WEIGHTS_ENV = "AUDIT_INCEPTION_WEIGHTS"
WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
"""torch-fidelity's file name (also what torchmetrics' FID downloads)."""
PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"
"""pytorch-fid's (and clean-fid's legacy_pytorch mode's) name for the same weights."""
WEIGHTS_URL = f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{WEIGHTS_FILE}"


def default_weights_path() -> Path:
    """Where audit looks for the weights unless AUDIT_INCEPTION_WEIGHTS says otherwise."""
    return Path.home() / ".cache" / "audit" / WEIGHTS_FILE


def hub_checkpoints_dir() -> Path:
    """torch hub's checkpoint folder, resolved as torch.hub.get_dir() does (without importing torch)."""
    torch_home = os.environ.get("TORCH_HOME")
    if torch_home:
        return Path(torch_home).expanduser() / "hub" / "checkpoints"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "torch" / "hub" / "checkpoints"


def weights_candidates() -> list[Path]:
    """The places looked at, in order (without the environment variable)."""
    hub = hub_checkpoints_dir()
    return [default_weights_path(), hub / WEIGHTS_FILE, hub / PYTORCH_FID_FILE]


def find_inception_weights() -> Path:
    """The weights file to use, or WeightsError (exit 2) with one line saying where to put which file."""
    named = os.environ.get(WEIGHTS_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise WeightsError(f"{WEIGHTS_ENV} names '{named}', which is not a file: point it at {WEIGHTS_FILE} (download: {WEIGHTS_URL}).")
        return path
    for path in weights_candidates():
        if path.is_file():
            return path
    target = default_weights_path()
    raise WeightsError(
        f"evaluator=inception needs the FID Inception-v3 weights and never downloads them: on a machine with internet run "
        f"`curl -L -o {WEIGHTS_FILE} {WEIGHTS_URL}`, then copy the file to {target} (or to {hub_checkpoints_dir()}/, "
        f"or set {WEIGHTS_ENV}=<file>)."
    )


def load_fid_inception(path: Path) -> "FIDInceptionV3":
    """The network with the weights of `path` (a state dict; read with torch.load(weights_only=True))."""
    import torch

    from audit.evaluators.inception_network import FIDInceptionV3
    from audit.messages import one_line

    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"Inception weights '{path}' cannot be read by torch.load ({type(exc).__name__}: {one_line(exc, 200)}): download {WEIGHTS_URL} again.") from None
    if not isinstance(state, dict):
        raise WeightsError(f"Inception weights '{path}' hold a {type(state).__name__}, not a state dict: use {WEIGHTS_FILE} ({WEIGHTS_URL}).")
    network = FIDInceptionV3()
    try:
        network.load_state_dict(state)
    except RuntimeError as exc:
        raise WeightsError(f"Inception weights '{path}' do not fit the FID Inception-v3 ({one_line(exc, 200)}): use {WEIGHTS_FILE} ({WEIGHTS_URL}).") from None
    return network.float().eval().requires_grad_(False)


def inception_evaluator(weights: Path | None = None) -> "ImageEvaluator":
    """The `inception` evaluator: weights from `weights`, else found by find_inception_weights()."""
    from audit.evaluators.base import ImageEvaluator
    from audit.evaluators.inception_protocol import InceptionFeatureSpace
    from audit.weights import sha256_file

    path = weights if weights is not None else find_inception_weights()
    return ImageEvaluator(INCEPTION, InceptionFeatureSpace(load_fid_inception(path)), sha256_file(path))
