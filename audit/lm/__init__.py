"""Generic causal-language-model utilities shared by audit's checks, the `hf:` adapter and the
bundled transformer: per-token scoring with sliding windows (scoring) and seeded, batch-independent
KV-cache decoding (decoding). Both work on any model called as `model(input_ids=...,
attention_mask=...)` that returns `.logits`, e.g. a Hugging Face causal LM. Importing this package
imports torch."""

from audit.lm.decoding import DECODE_THREADS, LogitsProcessor, decode
from audit.lm.scoring import TOKENS_PER_BATCH, Window, common_prefix_length, score_sequences, windows

__all__ = ["DECODE_THREADS", "LogitsProcessor", "TOKENS_PER_BATCH", "Window", "common_prefix_length", "decode", "score_sequences", "windows"]
