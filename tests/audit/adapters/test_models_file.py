"""Models files (audit.adapters.models_file): many models with their arguments in one TOML file,
checked at plan time with one line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.adapters.models_file import expand_models, read_models_file
from audit.errors import InputError

FACTORY = "checkpoint_models:noisy_gan"


def _write(folder: Path, text: str, name: str = "models.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_entries_become_named_specs_with_typed_arguments_and_paths_from_the_files_folder(tmp_path):
    path = _write(tmp_path, f"""
[[model]]
factory = "{FACTORY}"
name = "epoch10"
args = {{ ckpt = "runs/epoch10.json", ema = true, scale = 2 }}

[[model]]
factory = "{FACTORY}"
args = {{ ckpt = "/abs/e1.json" }}

[[model]]
word = "gan"

[[model]]
word = "torchscript:gen.pt?latent=8"
name = "scripted"
""")
    specs = read_models_file(path)
    assert [s.name for s in specs] == ["epoch10", f"{FACTORY}?ckpt=/abs/e1.json", "gan", "scripted"]
    assert dict(specs[0].args) == {"ckpt": tmp_path / "runs/epoch10.json", "ema": True, "scale": 2.0}
    assert type(dict(specs[0].args)["scale"]) is float  # a TOML integer for a float parameter
    assert dict(specs[1].args) == {"ckpt": Path("/abs/e1.json")}
    assert specs[2].target == "gan" and specs[2].args == ()
    assert specs[3].target == f"torchscript:{tmp_path / 'gen.pt'}?latent=8"


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("[[model]\nword=", "is not valid TOML"),
        ("title = 'x'", "unknown key 'title'"),
        ("", "lists no models"),
        ("[[model]]\nname = 'a'", "exactly one of factory= (with args=) or word="),
        ("[[model]]\nword = 'gan'\nfactory = 'gan'", "exactly one of"),
        ("[[model]]\nword = 'gan'\nargz = {}", "unknown key 'argz'; valid: factory, word, name, args"),
        ("[[model]]\nword = 'gan'\nargs = {}", "args= goes with factory="),
        ("[[model]]\nfactory = 'gan'\nargs = 3", "args must be a table"),
        ("[[model]]\nword = 'gan'\n[[model]]\nword = 'gan'", "two models are named 'gan'"),
        ("[[model]]\nfactory = 'no_such_module_x:make'", "Cannot import 'no_such_module_x'"),
        (f"[[model]]\nfactory = '{FACTORY}'\nargs = {{ ckpt = 'a.json', ema = 'sometimes' }}", "argument 'ema' must be true or false"),
        (f"[[model]]\nfactory = '{FACTORY}'\nargs = {{ ckpt = 3 }}", "argument 'ckpt' must be a path"),
        (f"[[model]]\nfactory = '{FACTORY}'\nargs = {{ ckpt = 'a.json', epoch = 3 }}", "takes no argument 'epoch'; its arguments: ckpt, ema, scale"),
        ("[[model]]\nword = 'gan'\nname = ''", "name must be a non-empty string"),
        (f"[[model]]\nfactory = '{FACTORY}'\nargs = {{ ckpt = 'a.json', scale = nan }}", "argument 'scale' must be a finite number, got 'nan'"),
        (f"[[model]]\nfactory = '{FACTORY}'\nargs = {{ ckpt = 'a.json', scale = inf }}", "argument 'scale' must be a finite number, got 'inf'"),
    ],
)
def test_each_problem_is_one_line_naming_the_file_and_entry(tmp_path, text, fragment):
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        read_models_file(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and fragment in message, message


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(InputError, match=r"Models file '.*nope.toml' does not exist"):
        expand_models([str(tmp_path / "nope.toml")])


def test_model_words_mix_files_words_and_objects_and_names_stay_unique(tmp_path):
    from fixture_models import noise

    path = _write(tmp_path, "[[model]]\nword = 'gan'\nname = 'g'\n")
    specs = expand_models(["vae", str(path), "mine"], {"mine": noise()})
    assert [s.name for s in specs] == ["vae", "g", "mine"] and specs[2].adapter is not None
    with pytest.raises(InputError, match="two models are named 'g'"):
        expand_models([str(path), "g"], {"g": noise()})
