"""`evaluator=inception` against the peers that define FID's feature space, without internet.

A random-weight FID Inception-v3 (seeded; batch-norm statistics set from one batch so that
activations keep a useful scale) is saved as a state dict in the layout torch-fidelity reads.
audit's evaluator and the peers load that same file and see the same uint8-representable images:

- torch-fidelity's `FeatureExtractorInceptionV3` (features `2048`, `logits_unbiased`), and its
  `calculate_metrics(fid=True)` over two PNG folders against audit's own path (reference folder
  loading, the evaluator, `audit.metrics.fid_from_features`);
- torchmetrics' FID extractor `NoTrainInceptionV3` (a subclass of torch-fidelity's) with
  `antialias=False`, the TF1 resize (its default `antialias=True` is another resize).

How the peers are arranged: they are test-only and must not be seen by the product. torch-fidelity
depends on torchvision, whose registry wheel does not import beside this CPU torch, and
torchmetrics imports torch-fidelity when it is installed, so installing it into the environment
would break `import torchmetrics.image`. `make setup` therefore installs it with
`pip install --no-deps --target .venv/peers`. The fixture `peers` appends that folder to sys.path
and puts a stub `torchvision` in sys.modules (only the names torch-fidelity touches at import and
on its folder path: dataset class names, `transforms.Compose`, `transforms.functional.pil_to_tensor`,
which turns an RGB PIL image into a [3, H, W] uint8 tensor as torchvision does); torchmetrics'
fid.py is executed under a private module name with its torch-fidelity flag set. When the module's
tests end, the stubs, torch-fidelity's modules and the path entry are removed again, so no other
test sees them. Without .venv/peers the peer tests skip and say why.

clean-fid and pytorch-fid are not compared: clean-fid's TF mode reads NVIDIA's TorchScript graph,
not a state dict, and pytorch-fid (and clean-fid's legacy_pytorch mode) builds its network from
torchvision and resizes with `F.interpolate`, another protocol.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from tests.helpers import assert_one_line_error

PEERS = Path(sys.prefix) / "peers"
"""Where `make setup` puts the test-only peers (pip install --no-deps --target)."""
SHAPES = [(1, 16, 16), (3, 32, 32), (3, 64, 48)]
"""Image shapes the features are compared on: grayscale, and RGB upsampled by uneven factors."""
IMAGES_PER_SHAPE = 2
FOLDER_IMAGES = 20
"""Images per folder for FID (each costs ~6 GFLOP per extractor: ~0.2 s of one CPU core)."""


def _torchvision_stub() -> dict[str, types.ModuleType]:
    import torch

    def pil_to_tensor(image: Any) -> "torch.Tensor":
        return torch.from_numpy(np.array(image, copy=True)).permute(2, 0, 1).contiguous()

    class Compose:
        def __init__(self, transforms: list[Any]) -> None:
            self.transforms = transforms

        def __call__(self, x: Any) -> Any:
            for transform in self.transforms:
                x = transform(x)
            return x

    root, datasets = types.ModuleType("torchvision"), types.ModuleType("torchvision.datasets")
    transforms, functional = types.ModuleType("torchvision.transforms"), types.ModuleType("torchvision.transforms.functional")
    for name in ("CIFAR10", "CIFAR100", "STL10"):
        setattr(datasets, name, type(name, (), {}))
    functional.pil_to_tensor = pil_to_tensor  # type: ignore[attr-defined]
    transforms.Compose, transforms.functional = Compose, functional  # type: ignore[attr-defined]
    root.datasets, root.transforms = datasets, transforms  # type: ignore[attr-defined]
    return {m.__name__: m for m in (root, datasets, transforms, functional)}


def _torchmetrics_fid_module() -> types.ModuleType:
    """torchmetrics' image/fid.py, executed as `_peer_torchmetrics_fid` while its torch-fidelity flag is true."""
    import torchmetrics.utilities.imports as tm_imports

    source = Path(tm_imports.__file__).parent.parent / "image" / "fid.py"
    spec = importlib.util.spec_from_file_location("_peer_torchmetrics_fid", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved = tm_imports._TORCH_FIDELITY_AVAILABLE
    tm_imports._TORCH_FIDELITY_AVAILABLE = True  # type: ignore[assignment]
    try:
        spec.loader.exec_module(module)
    finally:
        tm_imports._TORCH_FIDELITY_AVAILABLE = saved
    return module


@pytest.fixture(scope="module")
def peers() -> Iterator[types.SimpleNamespace]:
    """torch-fidelity and torchmetrics' FID module from .venv/peers, removed again afterwards."""
    if not (PEERS / "torch_fidelity").is_dir():
        pytest.skip(f"torch-fidelity is not installed in {PEERS} (run `make setup`: pip install --no-deps --target {PEERS} torch-fidelity)")
    import torchmetrics.image.fid  # noqa: F401  (imported first, so torchmetrics records the truth: no torchvision)

    stubs = _torchvision_stub()
    clashing = [name for name in stubs if name in sys.modules]
    if clashing:
        pytest.skip(f"a real torchvision is imported ({clashing[0]}); the stub would shadow it")
    sys.path.append(str(PEERS))
    sys.modules.update(stubs)
    try:
        import torch_fidelity
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
        from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

        yield types.SimpleNamespace(
            calculate_metrics=torch_fidelity.calculate_metrics,
            extractor=FeatureExtractorInceptionV3,
            resize=interpolate_bilinear_2d_like_tensorflow1x,
            torchmetrics_fid=_torchmetrics_fid_module(),
        )
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] in ("torch_fidelity", "torchvision")]:
            del sys.modules[name]
        sys.path.remove(str(PEERS))


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded random FID Inception-v3, batch-norm statistics from one batch, saved as a state dict."""
    import torch

    from audit.evaluators.inception_network import FIDInceptionV3
    from audit.evaluators.inception_protocol import fid_inception_input

    torch.manual_seed(0)
    network = FIDInceptionV3()
    for module in network.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None  # running statistics = this batch's
    network.train()
    with torch.no_grad():
        network(fid_inception_input(torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))))
    path = tmp_path_factory.mktemp("inception") / "weights-inception-random.pth"
    torch.save(network.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def evaluator(weights: Path) -> Any:
    from audit.evaluators import inception_evaluator

    return inception_evaluator(weights)


@pytest.fixture(scope="module")
def images() -> dict[tuple[int, int, int], Any]:
    import torch

    generator = torch.Generator().manual_seed(2)
    return {shape: torch.randint(0, 256, (IMAGES_PER_SHAPE, *shape), generator=generator, dtype=torch.uint8) for shape in SHAPES}


@pytest.fixture(scope="module")
def ours(evaluator: Any, images: dict) -> dict[tuple[int, int, int], Any]:
    """audit's embeddings of the images as floats in [0, 1] (what a generator returns)."""
    return {shape: evaluator.embed(u8.float() / 255) for shape, u8 in images.items()}


def _rgb(u8: Any) -> Any:
    return u8.expand(-1, 3, -1, -1) if u8.shape[1] == 1 else u8


def test_features_and_logits_equal_torch_fidelity(peers, weights, images, ours):
    import torch

    extractor = peers.extractor("inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=str(weights))
    for shape, u8 in images.items():
        with torch.no_grad():
            features, logits = extractor(_rgb(u8))
        assert ours[shape].features.shape == (IMAGES_PER_SHAPE, 2048) and ours[shape].logits.shape == (IMAGES_PER_SHAPE, 1008)
        assert np.abs(features.numpy()).max() > 1e-3, "degenerate random network: features near zero"
        np.testing.assert_allclose(ours[shape].features, features.double().numpy(), rtol=1e-5, atol=1e-6 * np.abs(features.numpy()).max())
        np.testing.assert_allclose(ours[shape].logits, logits.double().numpy(), rtol=1e-5, atol=1e-6 * np.abs(logits.numpy()).max())


def test_features_equal_torchmetrics_fid_extractor(peers, weights, images, ours):
    """What torchmetrics' FrechetInceptionDistance ("2048") and InceptionScore ("logits_unbiased") call."""
    import torch

    shape = (3, 64, 48)
    for feature, expected in (("2048", ours[shape].features), ("logits_unbiased", ours[shape].logits)):
        extractor = peers.torchmetrics_fid.NoTrainInceptionV3(
            name="inception-v3-compat", features_list=[feature], feature_extractor_weights_path=str(weights), antialias=False
        )
        with torch.no_grad():
            theirs = extractor(images[shape]).double().numpy()
        np.testing.assert_allclose(expected, theirs, rtol=1e-5, atol=1e-6 * np.abs(theirs).max())


@pytest.mark.parametrize("size", [(16, 16), (32, 32), (64, 48), (299, 299), (400, 310)])
def test_resize_equals_torch_fidelity_tf1_bilinear(peers, size):
    import torch

    from audit.evaluators.inception_protocol import resize_bilinear_tf1

    x = torch.rand(2, 3, *size, generator=torch.Generator().manual_seed(3)) * 255
    expected = peers.resize(x, size=(299, 299), align_corners=False)
    assert torch.equal(resize_bilinear_tf1(x), expected)


def test_fid_over_two_folders_equals_torch_fidelity(peers, weights, evaluator, tmp_path):
    import torch
    from PIL import Image

    from audit.metrics import fid_from_features
    from audit.reference_images import load_reference_images

    rng = np.random.default_rng(4)
    folders = {"noise": (0, 256), "mid-grey": (60, 200)}
    for name, (low, high) in folders.items():
        (tmp_path / name).mkdir()
        for i in range(FOLDER_IMAGES):
            Image.fromarray(rng.integers(low, high, (32, 32, 3), dtype=np.uint8)).save(tmp_path / name / f"{i:02d}.png")
    features = []
    for name in folders:
        reference = load_reference_images(tmp_path / name).at((3, 32, 32))
        pixels = np.concatenate([*reference.batches("train"), *reference.batches("test")])
        assert len(pixels) == FOLDER_IMAGES
        features.append(evaluator.embed(torch.tensor(pixels)).features)
    ours = fid_from_features(*features)
    theirs = peers.calculate_metrics(
        input1=str(tmp_path / "noise"), input2=str(tmp_path / "mid-grey"), fid=True, cuda=False, cache=False, verbose=False,
        save_cpu_ram=True, feature_extractor_weights_path=str(weights),
    )["frechet_inception_distance"]
    assert theirs > 0
    assert ours == pytest.approx(theirs, rel=1e-6)


def test_evaluator_names_its_space_and_fingerprints_the_file(evaluator, weights):
    assert evaluator.name == "inception"
    assert evaluator.sha256 == hashlib.sha256(weights.read_bytes()).hexdigest()


# --- finding the weights file --------------------------------------------------------------------


@pytest.fixture
def no_weights(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty home: no AUDIT_INCEPTION_WEIGHTS, no ~/.cache/audit, no torch hub cache."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("AUDIT_INCEPTION_WEIGHTS", "TORCH_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    return home


def test_missing_weights_say_what_to_put_where(no_weights):
    from audit.errors import InputError
    from audit.evaluators import find_inception_weights
    from audit.evaluators.inception import WEIGHTS_URL

    with pytest.raises(InputError) as raised:
        find_inception_weights()
    message = str(raised.value)
    assert "\n" not in message
    assert WEIGHTS_URL in message
    assert str(no_weights / ".cache" / "audit" / "weights-inception-2015-12-05-6726825d.pth") in message
    assert "AUDIT_INCEPTION_WEIGHTS" in message


def test_lookup_order(no_weights, monkeypatch, tmp_path):
    from audit.evaluators import find_inception_weights

    hub = tmp_path / "torch-home" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    pytorch_fid = hub / "pt_inception-2015-12-05-6726825d.pth"
    pytorch_fid.write_bytes(b"pytorch-fid")
    assert find_inception_weights() == pytorch_fid
    torch_fidelity = hub / "weights-inception-2015-12-05-6726825d.pth"
    torch_fidelity.write_bytes(b"torch-fidelity")
    assert find_inception_weights() == torch_fidelity
    default = no_weights / ".cache" / "audit" / "weights-inception-2015-12-05-6726825d.pth"
    default.parent.mkdir(parents=True)
    default.write_bytes(b"audit")
    assert find_inception_weights() == default
    named = tmp_path / "mine.pth"
    named.write_bytes(b"mine")
    monkeypatch.setenv("AUDIT_INCEPTION_WEIGHTS", str(named))
    assert find_inception_weights() == named
    monkeypatch.setenv("AUDIT_INCEPTION_WEIGHTS", str(tmp_path / "absent.pth"))
    with pytest.raises(Exception, match="AUDIT_INCEPTION_WEIGHTS names"):
        find_inception_weights()


@pytest.mark.parametrize("variable", ["TORCH_HOME", "XDG_CACHE_HOME", None])
def test_hub_folder_is_torchs(no_weights, monkeypatch, tmp_path, variable):
    import torch

    from audit.evaluators.inception import hub_checkpoints_dir

    if variable:
        monkeypatch.setenv(variable, str(tmp_path / variable))
    assert hub_checkpoints_dir() == Path(torch.hub.get_dir()) / "checkpoints"


def test_unreadable_weights_file_is_one_line(tmp_path):
    from audit.errors import InputError
    from audit.evaluators import inception_evaluator

    broken = tmp_path / "weights.pth"
    broken.write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="cannot be read by torch.load") as raised:
        inception_evaluator(broken)
    assert "\n" not in str(raised.value)


def test_weights_of_another_network_are_one_line(tmp_path):
    import torch

    from audit.errors import InputError
    from audit.evaluators import inception_evaluator

    other = tmp_path / "weights.pth"
    torch.save({"fc.weight": torch.zeros(10, 2048)}, other)
    with pytest.raises(InputError, match="do not fit the FID Inception-v3") as raised:
        inception_evaluator(other)
    assert "\n" not in str(raised.value)


def test_run_without_weights_exits_2_before_measuring(cli, no_weights):
    result = cli("run", "suite=quality", "model=gan", "check=quality.fid", "evaluator=inception", "n=16")
    assert_one_line_error(result, 2, "evaluator=inception needs the FID Inception-v3 weights", "weights-inception-2015-12-05-6726825d.pth")
    assert "MEASURED" not in result.stdout
