"""audit.seal: what model code replaces of the harness's code is found and put back; what
libraries add to themselves as they import is not counted against a model."""

from __future__ import annotations

import pickle
import sys
import types

import numpy as np
import pytest
import torch

import audit.gates
import audit.metrics.frechet as frechet
from audit.sample_cache import SampleCache
from audit.seal import HarnessSeal


@pytest.fixture(scope="module")
def seal() -> HarnessSeal:
    return HarnessSeal.take(reuse=False)


def test_nothing_changed_means_nothing_to_restore(seal: HarnessSeal) -> None:
    assert seal.restore() == []


def test_a_replaced_audit_function_is_named_and_put_back(seal: HarnessSeal) -> None:
    judge = audit.gates.judge
    audit.gates.judge = lambda *args, **kwargs: None
    assert seal.restore() == ["audit.gates.judge replaced"]
    assert audit.gates.judge is judge


def test_a_removed_audit_function_and_a_changed_constant_are_put_back(seal: HarnessSeal) -> None:
    judge = audit.gates.judge
    del audit.gates.judge
    bootstrap = __import__("audit.plan", fromlist=["MIN_BOOTSTRAP"]).MIN_BOOTSTRAP
    sys.modules["audit.plan"].MIN_BOOTSTRAP = 1
    assert sorted(seal.restore()) == ["audit.gates.judge removed", "audit.plan.MIN_BOOTSTRAP replaced"]
    assert audit.gates.judge is judge and sys.modules["audit.plan"].MIN_BOOTSTRAP == bootstrap


def test_swapped_code_inside_the_same_function_object_is_put_back(seal: HarnessSeal) -> None:
    a = np.random.default_rng(0).normal(size=(40, 3))
    b = np.random.default_rng(1).normal(size=(40, 3)) + 1
    honest = frechet.fid_from_features(a, b)
    code = frechet.fid_from_features.__code__
    frechet.fid_from_features.__code__ = (lambda a, b: 0.0).__code__
    assert frechet.fid_from_features(a, b) == 0.0
    assert seal.restore() == ["audit.metrics.frechet.fid_from_features code replaced"]
    assert frechet.fid_from_features.__code__ is code and frechet.fid_from_features(a, b) == honest > 0


def test_a_global_shadowing_a_builtin_in_an_audit_module_counts(seal: HarnessSeal) -> None:
    frechet.len = lambda x: 0  # type: ignore[attr-defined]
    assert seal.restore() == ["audit.metrics.frechet.len added"]
    assert "len" not in vars(frechet)


def test_a_method_added_over_an_inherited_torch_method_is_removed(seal: HarnessSeal) -> None:
    x = torch.arange(4.0)
    torch.Tensor.mean = lambda self, *args, **kwargs: torch.zeros(())  # type: ignore[method-assign]
    assert float(x.mean()) == 0.0
    assert seal.restore() == ["torch.Tensor.mean added"]
    assert "mean" not in vars(torch.Tensor) and float(x.mean()) == 1.5


def test_a_replaced_numpy_function_is_put_back(seal: HarnessSeal) -> None:
    cov = np.cov
    np.cov = lambda *args, **kwargs: 0  # type: ignore[assignment]
    assert seal.restore() == ["numpy.cov replaced"]
    assert np.cov is cov and np.cov([1.0, 2.0, 3.0]) == pytest.approx(1.0)


def test_a_new_name_in_a_library_module_is_not_a_change(seal: HarnessSeal) -> None:
    np.audit_test_alias = float  # a compatibility shim of the `np.float = float` kind
    try:
        assert seal.restore() == []
    finally:
        del np.audit_test_alias


def _library_module_adding_eq(module_name: str) -> types.ModuleType:
    """A module that, as it imports, adds `__eq__` to a torch class (torch itself does this:
    torch.distributed.tensor adds `Placement.__eq__`)."""
    module = types.ModuleType(module_name)
    exec("def __eq__(self, other):\n    return self is other\n", vars(module))
    return module


def test_an_addition_a_library_makes_as_it_imports_is_accepted() -> None:
    own = HarnessSeal.take(reuse=False)  # it takes the addition in: no other test may share this seal
    module = _library_module_adding_eq("torch._audit_seal_test")
    sys.modules[module.__name__] = module
    torch.nn.Identity.__eq__ = module.__eq__
    try:
        assert own.restore() == []
        assert vars(torch.nn.Identity)["__eq__"] is module.__eq__
    finally:
        del torch.nn.Identity.__eq__
        del sys.modules[module.__name__]


def test_the_same_addition_from_model_code_is_removed(seal: HarnessSeal) -> None:
    module = _library_module_adding_eq("a_users_model_module")
    sys.modules[module.__name__] = module
    torch.nn.Identity.__eq__ = module.__eq__
    try:
        assert seal.restore() == ["torch.nn.modules.linear.Identity.__eq__ added"]
        assert "__eq__" not in vars(torch.nn.Identity)
    finally:
        del sys.modules[module.__name__]


def test_a_library_submodule_imported_over_an_attribute_of_its_name_is_accepted() -> None:
    """tokenizers binds its Rust `trainers` object, and importing the Python package
    tokenizers.trainers later binds that module over it: the import system's doing."""
    package = sys.modules["numpy"]
    package._audit_seal_sub = _library_module_adding_eq("numpy._audit_seal_placeholder").__eq__
    submodule = types.ModuleType("numpy._audit_seal_sub")
    try:
        own = HarnessSeal.take(reuse=False)
        sys.modules[submodule.__name__] = submodule
        package._audit_seal_sub = submodule
        assert own.restore() == [] and package._audit_seal_sub is submodule
        package._audit_seal_sub = types.ModuleType("a_users_module")  # a module of the model's own, bound over it
        assert own.restore() == ["numpy._audit_seal_sub replaced"] and package._audit_seal_sub is submodule
    finally:
        del package._audit_seal_sub
        sys.modules.pop(submodule.__name__, None)


def test_a_module_replaced_in_sys_modules_is_put_back(seal: HarnessSeal) -> None:
    """Code that imports lazily (`from audit.gates import finalize` inside a function) reads
    sys.modules: a fake module there would judge the run."""
    gates = sys.modules["audit.gates"]
    sys.modules["audit.gates"] = types.ModuleType("audit.gates")
    assert seal.restore() == ["sys.modules['audit.gates'] replaced"]
    assert sys.modules["audit.gates"] is gates
    from audit.gates import finalize

    assert finalize is gates.finalize


def test_a_library_module_the_library_makes_anew_as_it_imports_is_accepted_and_sealed_again() -> None:
    """`from transformers import GPT2LMHeadModel` puts a new `_LazyModule` named `transformers`
    in sys.modules: the library's doing (same name, same file, modules imported meanwhile). A
    module of the same name from elsewhere, or audit's own module made anew, is put back."""
    import numpy.linalg as linalg

    own = HarnessSeal.take(reuse=False)
    remade = types.ModuleType("numpy.linalg")
    remade.__file__ = linalg.__file__
    remade.norm = lambda *args, **kwargs: 0.0
    helper = types.ModuleType("numpy._audit_seal_import")
    try:
        sys.modules["numpy.linalg"] = remade
        sys.modules[helper.__name__] = helper  # what importing more of the library does
        assert own.restore() == [] and sys.modules["numpy.linalg"] is remade
        remade.norm = lambda *args, **kwargs: 1.0  # now sealed as the module it is
        assert own.restore() == ["numpy.linalg.norm replaced"]
        elsewhere = types.ModuleType("numpy.linalg")
        elsewhere.__file__ = "/tmp/a_users_linalg.py"
        sys.modules["numpy.linalg"] = elsewhere
        sys.modules["numpy._audit_seal_import2"] = types.ModuleType("numpy._audit_seal_import2")
        assert own.restore() == ["sys.modules['numpy.linalg'] replaced"] and sys.modules["numpy.linalg"] is remade
    finally:
        sys.modules["numpy.linalg"] = linalg
        for name in ("numpy._audit_seal_import", "numpy._audit_seal_import2"):
            sys.modules.pop(name, None)
    gates = sys.modules["audit.gates"]
    own = HarnessSeal.take(reuse=False)
    again = types.ModuleType("audit.gates")
    again.__file__ = gates.__file__
    try:
        sys.modules["audit.gates"] = again
        sys.modules["numpy._audit_seal_import3"] = types.ModuleType("numpy._audit_seal_import3")
        assert own.restore() == ["sys.modules['audit.gates'] replaced"] and sys.modules["audit.gates"] is gates
    finally:
        sys.modules["audit.gates"] = gates
        sys.modules.pop("numpy._audit_seal_import3", None)


def test_taking_a_seal_again_reuses_it_only_while_nothing_changed() -> None:
    first = HarnessSeal.take()
    assert HarnessSeal.take() is first
    judge = audit.gates.judge
    audit.gates.judge = lambda *args, **kwargs: None  # e.g. a test's monkeypatch before it plans a run
    try:
        second = HarnessSeal.take()
        assert second is not first and second.restore() == []  # the patched state is what it sealed
    finally:
        audit.gates.judge = judge
    assert HarnessSeal.take() is not second


def test_a_seal_does_not_travel_to_another_process(seal: HarnessSeal) -> None:
    assert pickle.loads(pickle.dumps(seal)) is None


def test_dropping_cache_entries_removes_only_those_named(tmp_path) -> None:
    cache = SampleCache(tmp_path)
    for key in ("a" * 64, "b" * 64):
        assert cache.put(key, "samples", {"x": np.arange(3)})
    assert cache.written == ["a" * 64, "b" * 64]
    cache.drop(cache.written[1:])
    assert cache.get("a" * 64, "samples") is not None and cache.get("b" * 64, "samples") is None
