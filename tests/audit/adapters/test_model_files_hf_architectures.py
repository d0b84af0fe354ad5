"""`hf:` folders that transformers loads but that are not causal LMs, or whose tokenizer outruns
the model's vocabulary, are bad input (one line, exit 2) before anything runs: an encoder-only BERT
had been loaded as `BertLMHeadModel` reading ahead and passed the quantization gate, a T5 failed
mid-run with a 2,000-character class list, and a 4,000-word model with a 4,096-id tokenizer
failed mid-run with an IndexError."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from audit.errors import InputError
from byo.builders import build_tiny_hf
from tests.helpers import assert_one_line_error

SMALL = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, max_position_embeddings=64)


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_hf(tmp_path_factory.mktemp("hf") / "tiny-gpt2")


def _with_model(tiny_hf: Path, folder: Path, model: torch.nn.Module) -> Path:
    """The tiny folder's tokenizer beside another model's config and weights."""
    shutil.copytree(tiny_hf, folder)
    for p in folder.glob("*.safetensors"):
        p.unlink()
    model.save_pretrained(folder)
    return folder


def _vocab(tiny_hf: Path) -> int:
    return json.loads((tiny_hf / "config.json").read_text())["vocab_size"]


def _plan(cli, folder: Path):
    return cli("run", "suite=quality", f"model=hf:{folder}", "check=quality.perplexity", "n=4", "bootstrap=0")


def test_an_encoder_only_bert_is_refused(cli, tiny_hf: Path, tmp_path: Path):
    from transformers import BertConfig, BertForMaskedLM

    folder = _with_model(tiny_hf, tmp_path / "bert", BertForMaskedLM(BertConfig(vocab_size=_vocab(tiny_hf), **SMALL)))
    assert_one_line_error(_plan(cli, folder), 2, "'bert'", "is_decoder", "not a causal LM")


def test_an_encoder_decoder_t5_is_refused(cli, tiny_hf: Path, tmp_path: Path):
    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config(vocab_size=_vocab(tiny_hf), d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2)
    folder = _with_model(tiny_hf, tmp_path / "t5", T5ForConditionalGeneration(config))
    result = _plan(cli, folder)
    assert_one_line_error(result, 2, "'t5'", "encoder-decoder")
    assert len(result.stderr) < 300


def test_a_tokenizer_with_ids_beyond_the_vocabulary_is_refused(cli, tiny_hf: Path, tmp_path: Path):
    from transformers import GPT2Config, GPT2LMHeadModel

    vocab = _vocab(tiny_hf)
    folder = _with_model(tiny_hf, tmp_path / "small-vocab", GPT2LMHeadModel(GPT2Config(vocab_size=vocab - 50, n_positions=64, n_layer=1, n_embd=16, n_head=2)))
    assert_one_line_error(_plan(cli, folder), 2, f"ids up to {vocab - 1}", f"vocab_size is {vocab - 50}")


def test_the_loaded_model_is_probed_for_reading_ahead():
    """The backstop for an architecture the config rules do not know: changing the last token
    must leave every earlier position's logits as they were."""
    from transformers import BertConfig, BertLMHeadModel, GPT2Config, GPT2LMHeadModel

    from audit.adapters.model_files import _require_loaded_causal

    tokenizer = list(range(100))  # only its length is read
    torch.manual_seed(0)
    _require_loaded_causal("gpt2", GPT2LMHeadModel(GPT2Config(vocab_size=100, n_positions=16, n_layer=1, n_embd=16, n_head=2)).eval(), tokenizer)
    _require_loaded_causal("bert-decoder", BertLMHeadModel(BertConfig(vocab_size=100, is_decoder=True, **SMALL)).eval(), tokenizer)
    with pytest.raises(InputError, match="not a causal"):
        _require_loaded_causal("bert", BertLMHeadModel(BertConfig(vocab_size=100, **SMALL)).eval(), tokenizer)
    with pytest.raises(InputError, match="tokenizer has 101 ids"):
        _require_loaded_causal("gpt2", GPT2LMHeadModel(GPT2Config(vocab_size=100, n_positions=16, n_layer=1, n_embd=16, n_head=2)).eval(), list(range(101)))
