"""The GPT-2 language model behind the ModelAdapter contract (LOG_PROBS, GENERATE).

Every text is encoded as `[<|endoftext|>] + tokens`, the way training saw story starts, so
`log_probs` scores every token of the text. Nothing is fetched from the Hugging Face hub: the
config is built from the manifest and the weights and tokenizer are local, sha256-verified files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

from audit.adapters import CAUSAL_LM, GENERATE, LOG_PROBS, TOKENIZER, ModelAdapter, ModelInfo, count_params  # noqa: E402
from audit.errors import WeightsError  # noqa: E402
from audit.lm import LogitsProcessor, decode, score_sequences  # noqa: E402
from audit.weights import sha256_file  # noqa: E402
from audit_reference_models.manifest import load_state, read_manifest, rebuild_hint, weights_dir  # noqa: E402
from audit_reference_models.transformer.model import EOS, TIED_KEY, build_model, gpt2_config  # noqa: E402

CARD = Path(__file__).with_name("MODEL_CARD.md")


class TransformerAdapter(ModelAdapter):
    """Scores and continues English text with a small GPT-2 and its byte-level BPE tokenizer."""

    capabilities = frozenset({LOG_PROBS, GENERATE, TOKENIZER, CAUSAL_LM})

    def __init__(
        self, model: torch.nn.Module, tokenizer: Tokenizer, name: str, description: str = "",
        weights: dict[str, str] | None = None, card: str | None = None,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.eos_id = tokenizer.token_to_id(EOS)
        self.n_positions = int(model.config.n_positions)
        self.info = ModelInfo(
            name=name, family="transformer", params=count_params(model), description=description,
            weights=weights or {}, card=card,
        )

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"lm": self.model}

    def encode(self, text: str) -> list[int]:
        """`[<|endoftext|>]` followed by the text's tokens."""
        return [self.eos_id, *self.tokenizer.encode(text).ids]

    def log_probs(self, texts: list[str]) -> list[torch.Tensor]:
        """Per-token log-probabilities (nats, float32 CPU) of each text's tokens after the first
        (the `<|endoftext|>` start), batched; long texts use a sliding window (see audit.lm.scoring)."""
        return score_sequences(self.model, [self.encode(t) for t in texts], self.n_positions, pad_id=self.eos_id)

    def sequence_nll(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(negative log-likelihood in nats, number of scored tokens) per text, float64 / int64."""
        scores = self.log_probs(texts)
        nll = np.array([-float(s.double().sum()) for s in scores], dtype=np.float64)
        return nll, np.array([len(s) for s in scores], dtype=np.int64)

    def perplexity(self, texts: list[str]) -> float:
        """Token-level perplexity over all texts: exp(total NLL / total tokens)."""
        nll, tokens = self.sequence_nll(texts)
        return float(np.exp(nll.sum() / max(int(tokens.sum()), 1)))

    def generate(
        self, prompts: list[str], max_new_tokens: int, seed: int, temperature: float = 1.0,
        top_k: int | None = None, top_p: float | None = None, greedy: bool = False,
        logits_processor: LogitsProcessor | None = None,
    ) -> list[str]:
        """The continuation of each prompt (prompt excluded), cut at `<|endoftext|>`; the same seed
        gives the same text. Prompts are cut from the left to fit the context window.
        `logits_processor` (e.g. a watermark) rewrites each step's raw logits before sampling."""
        if not 0 < max_new_tokens < self.n_positions:
            raise ValueError(f"max_new_tokens must be in 1..{self.n_positions - 1}, got {max_new_tokens}")
        if not prompts:
            return []
        keep = self.n_positions - max_new_tokens
        ids = [self.encode(p)[-keep:] for p in prompts]
        new = decode(self.model, ids, max_new_tokens, seed, self.eos_id, temperature, top_k, top_p, greedy, logits_processor)
        return [self.tokenizer.decode(t) for t in new]


def load_tokenizer(manifest: dict[str, Any]) -> tuple[Tokenizer, str]:
    """The manifest's tokenizer file, verified by sha256."""
    path = weights_dir() / manifest["tokenizer_file"]
    if not path.is_file():
        raise WeightsError(f"Tokenizer for '{manifest['name']}' not found at {path}; rebuild it with {rebuild_hint(manifest['name'])}.")
    digest = sha256_file(path)
    if digest != manifest["tokenizer_sha256"]:
        raise WeightsError(f"Tokenizer {path} is corrupt: sha256 {digest[:12]}... does not match the manifest's {manifest['tokenizer_sha256'][:12]}....")
    return Tokenizer.from_file(str(path)), digest


def model_from_state(arch: dict[str, Any], state: dict[str, torch.Tensor]) -> torch.nn.Module:
    """Build the GPT-2 of `arch` and load float32 copies of `state` (stored without the tied head)."""
    model = build_model(gpt2_config(**arch))
    missing, unexpected = model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    if unexpected or set(missing) - {TIED_KEY}:
        raise WeightsError(f"Weights do not fit the config: missing {sorted(missing)}, unexpected {sorted(unexpected)}.")
    model.tie_weights()
    return model


def load_transformer(name: str = "transformer") -> TransformerAdapter:
    """A bundled language model (clean or a defect variant) by its weights name, verified by sha256."""
    manifest = read_manifest(name)
    tokenizer, tok_digest = load_tokenizer(manifest)
    state, digest = load_state(name)
    model = model_from_state(manifest["config"]["model"], state)
    card = CARD.read_text() if CARD.is_file() else None
    weights = {manifest["file"]: digest, manifest["tokenizer_file"]: tok_digest}
    return TransformerAdapter(model, tokenizer, name, manifest.get("description", ""), weights, card)
