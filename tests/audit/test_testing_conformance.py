"""The conformance kit (`audit.testing`, `audit check-model`): it passes adapters that honour the
contract, the bundled ones included, and fails each broken rule with a precise message."""

from __future__ import annotations

import pytest

from audit.testing import ContractError, adapter_checks, check_adapter, parametrize_with_checks, run_adapter_checks
from byo import adapters as fx
from tests.helpers import assert_one_line_error


@pytest.mark.parametrize("word, n", [("gan", 4), ("vae", 4), ("diffusion", 2), ("transformer", 4)])
def test_bundled_adapters_pass(word: str, n: int):
    from audit.adapters.loading import load_model

    outcomes = run_adapter_checks(lambda: load_model(word), n=n)
    assert [o for o in outcomes if not o.passed] == []
    assert {"info", "modules", "capabilities", "precision"} <= {o.rule for o in outcomes}
    declared = {"gan": {"latent"}, "vae": {"elbo"}, "diffusion": {"denoising_loss", "latent"},
                "transformer": {"tokenizer", "causal_lm"}}.get(word, set())
    assert declared <= {o.rule for o in outcomes if o.passed and not o.skipped}  # each declared capability is verified


@pytest.mark.parametrize("factory", [fx.GoodGAN, fx.GoodVAE, fx.GoodLM, fx.NoModules, fx.ElboVAE, fx.GoodDenoiser, fx.TokenizedLM, fx.LatentGAN])
def test_good_fixtures_pass(factory):
    check_adapter(factory())


@pytest.mark.parametrize(
    "adapter, rule, fragments",
    [
        (fx.WrongShape(), "sample.shape", ["sample(8, seed=0) returned shape (8, 16, 16)", "expected [8, C, H, W]"]),
        (fx.OutOfRange(), "sample.range", ["values in [-", "the contract is [0, 1]"]),
        (fx.ReturnsNaN(), "sample.range", ["1 non-finite values"]),
        (fx.Nondeterministic(), "sample.determinism", ["differs between two calls", "not the global RNG"]),
        (fx.IgnoresSeed(), "sample.determinism", ["sample(8, seed=1) equals sample(8, seed=0)", "seed is ignored"]),
        (fx.IgnoresLabels(), "conditional", ["labels are ignored"]),
        (fx.ConditionalWithoutClasses(), "capabilities", ["declares conditional but num_classes is None"]),
        (fx.DeclaresLikelihoodMissing(), "capabilities", ["declares log_likelihood but has no log_likelihood() method"]),
        (fx.DeclaresSampleMissing(), "capabilities", ["declares sample but does not implement sample()"]),
        (fx.DeclaresGenerateMissing(), "capabilities", ["declares generate but has no generate() method"]),
        (fx.UnknownCapability(), "info", ["unknown capability 'samples'"]),
        (fx.BadFamily(), "info", ["info.family is 'autoregressive'", "valid: gan"]),
        (fx.HiddenNetwork(), "precision", ["bit-identical after precision=bf16", "modules() does not return the networks"]),
        (fx.NoisyLikelihood(), "log_likelihood", ["differs between two calls"]),
        (fx.LatentLosesBatch(), "encode_decode", ["expected a latent with 8 rows"]),
        (fx.ReturnsLogits(), "log_probs", ["log-probabilities are <= 0"]),
        (fx.PaddingLeak(), "log_probs", ["scored alone and in a batch", "differs by"]),
        (fx.ZeroLogProbs(), "log_probs", ["have probabilities summing to 16", "at most 1 in total"]),
        (fx.GenerateNondeterministic(), "generate", ["different text on two calls"]),
        (fx.DeclaresElboMissing(), "capabilities", ["declares elbo but has no elbo() method"]),
        (fx.ElboWrongShape(), "elbo", ["elbo(x of shape (8, 1, 16, 16)) returned torch.Size([8, 1]), expected a tensor [8]"]),
        (fx.DeclaresDenoisingLossMissing(), "capabilities", ["declares denoising_loss but has no denoising_loss() method"]),
        (fx.DenoisingLossDrawsNoise(), "denoising_loss", ["differs between two calls with the same noise", "draw no noise of its own"]),
        (fx.DeclaresTokenizerMissing(), "capabilities", ["declares tokenizer but has no `tokenizer` attribute"]),
        (fx.DeclaresCausalLMMissing(), "capabilities", ["declares causal_lm but has no encode() method"]),
        (fx.CausalLMWrongLogits(), "causal_lm", [".logits is (41, 257), expected (1, 41, 257)"]),
        (fx.CausalLMReadsAhead(), "causal_lm", ["changed the logits of earlier positions", "not a causal LM"]),
        (fx.DeclaresLatentMissing(), "capabilities", ["declares latent but has no `latent_shape` attribute"]),
        (fx.LatentShapeNotTuple(), "latent", ["latent_shape is 8, expected a non-empty tuple of positive ints"]),
        (fx.LatentWithoutZ(), "latent", ["sample() takes no `z` keyword"]),
        (fx.LatentIgnoresZ(), "latent", ["sample(..., z=z + 0.5) equals sample(8, seed=0, z of shape (8, 8))", "z is ignored"]),
        (fx.LatentNondeterministic(), "latent", ["differs between two calls with the same z", "a function of z"]),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, (str, list)) else None,
)
def test_each_broken_rule_fails_precisely(adapter, rule: str, fragments: list[str]):
    with pytest.raises(AssertionError) as raised:
        check_adapter(adapter)
    error = raised.value
    assert isinstance(error, ContractError) and error.rule == rule, str(error)
    message = str(error)
    assert message.startswith(f"{rule}: ") and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_checks_can_be_parametrized():
    checks = adapter_checks(fx.GoodGAN, n=4)
    assert [str(c) for c in checks] == ["info", "modules", "capabilities", "sample.shape", "sample.range", "sample.determinism", "conditional", "precision"]
    for check in checks:
        check()
    broken = {str(c): c for c in adapter_checks(fx.OutOfRange)}
    broken["sample.shape"]()  # the other rules still hold
    with pytest.raises(ContractError, match="sample.range"):
        broken["sample.range"]()


@parametrize_with_checks([fx.GoodGAN(), fx.GoodLM()], n=4)
def test_parametrize_with_checks(check):
    check()


def test_precision_rule_leaves_the_adapter_untouched():
    import torch

    adapter = fx.GoodGAN()
    before = adapter.sample(4, 0)
    check_adapter(adapter, n=4)
    assert adapter.dtype == torch.float32 and torch.equal(adapter.sample(4, 0), before)


def test_a_raising_method_names_its_rule():
    class Crashes(fx.GoodGAN):
        def sample(self, n, seed, labels=None):
            raise RuntimeError("CUDA out of memory")

    with pytest.raises(ContractError, match=r"^sample.shape: raised RuntimeError: CUDA out of memory"):
        check_adapter(Crashes())


def test_check_model_cli_passes(cli):
    result = cli("check-model", "model=byo.adapters:good_gan", "n=4")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "PASS  sample.determinism" in result.stdout and result.stdout.rstrip().endswith("(8 rules).")


def test_check_model_cli_passes_bundled(cli):
    result = cli("check-model", "model=gan", "n=4")
    assert result.exit_code == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "factory, rule",
    [("out_of_range", "sample.range"), ("nondeterministic", "sample.determinism"), ("wrong_shape", "sample.shape")],
)
def test_check_model_cli_names_the_broken_rule(cli, factory: str, rule: str):
    result = cli("check-model", f"model=byo.adapters:{factory}")
    assert_one_line_error(result, 1, f"breaks the adapter contract: {rule}: ")
    assert f" FAIL  {rule}" in result.stdout


def test_check_model_cli_factory_raising(cli):
    assert_one_line_error(cli("check-model", "model=byo.adapters:broken_factory"), 1, "load: building the model raised RuntimeError: cannot build the model")


@pytest.mark.parametrize(
    "words, fragment",
    [
        (["model=gam"], "Unknown model 'gam'"),
        ([], "No model given"),
        (["model=gan", "n=zero"], "'n' must be an integer"),
        (["model=gan", "precision=int9"], "Unknown precision 'int9'"),
        (["model=gan", "sed=1"], "Unknown key 'sed'"),
        (["model=byo.adapters:nope"], "has no attribute 'nope'"),
        (["model=torchscript:/nonexistent/gen.pt"], "does not exist"),
    ],
)
def test_check_model_cli_bad_input(cli, words: list[str], fragment: str):
    assert_one_line_error(cli("check-model", *words), 2, fragment)
