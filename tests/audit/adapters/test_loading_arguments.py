"""Model words with factory arguments: `pkg.mod:factory?key=value&...` (audit.adapters.loading).

Each value is converted by the factory's annotation; every mistake is one InputError line that
names the word and, for an unknown name, the factory's valid parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.adapters.loading import ModelSpec, build_model, call_factory, model_spec
from audit.errors import InputError

TYPED = "checkpoint_models:typed"
REQUIRED = "steps=3&rate=0.5&flag=yes&path=runs/a.pt&label=x"


def _kwargs(word: str) -> dict:
    return dict(model_spec(word).args)


def test_values_are_converted_by_the_factory_annotations():
    args = _kwargs(f"{TYPED}?steps=12&rate=1e-3&flag=TRUE&path=~/runs/epoch10.pt&label=007&anything=4&optional=5")
    assert args == {
        "steps": 12, "rate": 0.001, "flag": True, "path": Path("~/runs/epoch10.pt").expanduser(), "label": "007",
        "anything": "4", "optional": 5,
    }
    assert type(args["steps"]) is int and type(args["rate"]) is float and type(args["label"]) is str


@pytest.mark.parametrize("word,value", [("0", False), ("no", False), ("False", False), ("1", True), ("Yes", True)])
def test_every_flag_word_is_a_bool(word, value):
    assert _kwargs(f"{TYPED}?{REQUIRED.replace('flag=yes', f'flag={word}')}")["flag"] is value


def test_the_word_with_its_arguments_is_the_model_name():
    one, two = model_spec(f"{TYPED}?{REQUIRED}"), model_spec(f"{TYPED}?{REQUIRED.replace('steps=3', 'steps=4')}")
    assert one.name != two.name and one.target == two.target == TYPED
    assert one.to_dict()["args"]["steps"] == 3 and two.to_dict()["args"]["steps"] == 4
    assert one.to_dict()["args"]["path"] == "runs/a.pt"  # JSON-ready for the fingerprint


def test_a_factory_with_kwargs_takes_other_names_as_strings():
    assert _kwargs(f"{TYPED}?{REQUIRED}&ema=true")["ema"] == "true"


@pytest.mark.parametrize(
    "query,fragments",
    [
        ("flag=maybe", ["argument 'flag'", "true or false", "maybe"]),
        ("steps=1.5", ["argument 'steps'", "an integer", "1.5"]),
        ("rate=fast", ["argument 'rate'", "a finite number", "fast"]),
        ("steps=1_000", ["argument 'steps'", "an integer", "1_000"]),
        ("steps=٣٢", ["argument 'steps'", "an integer", "٣٢"]),
        ("rate=nan", ["argument 'rate'", "a finite number", "nan"]),
        ("rate=inf", ["argument 'rate'", "a finite number", "inf"]),
        ("rate=1_0.5", ["argument 'rate'", "a finite number", "1_0.5"]),
        ("steps", ["option 'steps' must be key=value"]),
        ("steps=", ["option 'steps=' must be key=value"]),
        ("steps=1&steps=2", ["'steps' is given twice"]),
        ("precision=bf16", ["'precision' is set by the run"]),
    ],
)
def test_bad_values_are_one_line_naming_the_word(query, fragments):
    base = "&".join(p for p in REQUIRED.split("&") if p.split("=")[0] not in query)
    word = f"{TYPED}?{base}&{query}"
    with pytest.raises(InputError) as err:
        model_spec(word)
    message = str(err.value)
    assert "\n" not in message and f"Model '{word}'" in message
    for fragment in fragments:
        assert fragment in message, message


def test_an_unknown_argument_names_the_valid_parameters():
    with pytest.raises(InputError) as err:
        model_spec("checkpoint_models:strict?ckpt=a.pt&ckpnt=b.pt")
    message = str(err.value)
    assert "takes no argument 'ckpnt'" in message and "its arguments: ckpt." in message
    assert "precision" not in message.split("its arguments:")[1]  # set by the run, not offered


def test_a_missing_required_argument_is_named():
    with pytest.raises(InputError, match=r"needs argument\(s\) rate, flag, path, label"):
        model_spec(f"{TYPED}?steps=3")


def test_an_annotation_no_word_can_give_is_refused():
    with pytest.raises(InputError, match=r"argument 'sizes' is annotated .*bool, int, float, str or Path"):
        model_spec("checkpoint_models:listy?sizes=1,2")


def test_a_relative_path_resolves_against_a_base_folder(tmp_path):
    spec = model_spec(f"{TYPED}?{REQUIRED}", base_dir=tmp_path)
    assert dict(spec.args)["path"] == tmp_path / "runs/a.pt"


def test_arguments_reach_the_factory_with_the_run_keywords():
    spec = model_spec("checkpoint_models:strict?ckpt=runs/e.pt")
    from checkpoint_models import strict

    assert call_factory(strict, "bf16", "cpu", dict(spec.args)) == {"ckpt": "runs/e.pt", "precision": "bf16"}


def test_a_registered_name_takes_arguments_only_its_factory_has():
    with pytest.raises(InputError) as err:
        model_spec("gan?temperature=2")
    assert "takes no argument 'temperature'" in str(err.value) and "Model 'gan?temperature=2'" in str(err.value)


def test_source_words_keep_their_own_options():
    assert model_spec("torchscript:gen.pt?latent=8") == ModelSpec("torchscript:gen.pt?latent=8", "torchscript:gen.pt?latent=8")


def test_a_checkpoint_argument_builds_that_checkpoint(tmp_path):
    from checkpoint_models import write_checkpoint

    ckpt = write_checkpoint(tmp_path / "epoch3.json", 0.4)
    adapter = build_model(f"checkpoint_models:noisy_gan?ckpt={ckpt}&ema=yes")
    assert adapter.noise == pytest.approx(0.2) and adapter.info.name == "noisy-epoch3"


def test_an_adapter_object_is_copied_for_other_precisions():
    from fixture_models import noise

    adapter = noise()
    spec = ModelSpec("mine", adapter=adapter)
    assert build_model(spec, "fp32") is adapter
    copied = build_model(spec, "bf16")
    assert copied is not adapter and copied.info.name == adapter.info.name


@pytest.mark.parametrize(
    "word,fragments",
    [
        ("checkpoint_models:strict?ckpnt=a.pt", ["checkpoint_models:strict?ckpnt=a.pt", "takes no argument 'ckpnt'", "its arguments: ckpt"]),
        ("checkpoint_models:noisy_gan?ckpt=a.json&ema=maybe", ["argument 'ema' must be true or false"]),
        ("gan?temperature=2", ["takes no argument 'temperature'"]),
    ],
)
def test_audit_run_refuses_a_bad_argument_at_plan_time_in_one_line(cli, word, fragments):
    from tests.helpers import assert_one_line_error

    result = cli("run", "suite=smoke", f"model={word}")
    assert_one_line_error(result, 2, *fragments)
    assert "MEASURED" not in result.stdout


@pytest.mark.parametrize("word", ["gan?", "checkpoint_models:strict?"])
def test_a_question_mark_with_nothing_after_it_is_refused(word):
    """`gan?` had run as a model named 'gan?' (a half-typed option list)."""
    with pytest.raises(InputError, match=r"nothing follows '\?'"):
        model_spec(word)
