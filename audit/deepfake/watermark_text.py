"""Green-list watermark for generated text (Kirchenbauer et al., 2023, "A Watermark for Large
Language Models", soft red-list variant): embed while decoding, detect with a one-sided z-test.

Embed: at each step the previous token and a secret key seed a permutation of the vocabulary;
its first round(gamma * V) tokens are the green list, and `delta` is added to their logits
before sampling. Detect: count the green tokens of a text, each judged given its previous
token, and compare with the gamma * T expected without the watermark:
z = (|s|_G - gamma T) / sqrt(T gamma (1 - gamma)).

Repeated pairs. Text repeats bigrams ("Once upon", ". She"); a repeated pair is green every time
or never, which inflates the variance of the count and so the z of unwatermarked text. As in
the authors' reference detector (`ignore_repeated_ngrams`) and their follow-up ("On the
Reliability of Watermarks", 2023), each distinct (previous, token) pair is scored once by
default; T is then the number of distinct pairs.

False-positive bound. For text chosen without the key, each distinct pair is green with
probability gamma (pairs with different previous tokens independently; pairs sharing one are
drawn without replacement from the same list, which only shrinks the variance). The count is
then Binomial(T, gamma), skewed right, so its exact tail above z = 4 is larger than
1 - Phi(4) = 3.2e-5 for short texts. FPR_BOUND is the largest exact tail over
T >= MIN_TOKENS (checked in the tests up to T = 30,000, beyond which it falls towards 3.2e-5).

Measured on the bundled transformer (GPT-2, V = 4096; key 15485863 unless stated; prompts = the
first 32 tokens of the first 40 held-out stories, 128 new tokens, temperature 1.0, seed 0):

  held-out human stories (all 310; median 163 distinct pairs, min 71):
    key 15485863        0 of 310 with z > 4; mean z -0.31, std 1.05, max 2.51
    keys 0..19          0 of 6,200 (Wilson 95% upper bound 6.2e-4); mean z -0.02, std 0.97, max 3.85.
                        The mean z of one key varies (std 0.18 across keys): stories share
                        common pairs, so their z's under one key are correlated.
    repeated pairs too  keys 0..19: 8 of 6,200 above 4 (max 6.46), std 1.20 -- why pairs
                        are deduplicated
  unwatermarked generations   0 of 40 detected; mean z -0.21
  watermarked generations     40 of 40 detected (Wilson 95% CI 0.91-1.00); mean z 8.6, min 4.4;
                              115 tokens and 108 distinct pairs per text on average (min 35)
  temperature 0.7, top-k 40   watermarked 40 of 40 (mean z 9.0, min 5.6); unwatermarked 0 of 40
  quality cost (clean model's NLL of the continuation scored alone, nats/token): 4.18
    watermarked vs 3.83 unwatermarked at temperature 1.0; 2.58 vs 2.22 at 0.7 / top-k 40
  decode -> re-encode: only 20 of 40 watermarked texts re-tokenise to the sampled ids (34 of
    40 unwatermarked: the bias favours green tokens even where they split a word unusually);
    the z moves by 0.19 on average (0.03 unwatermarked) and no detection flips

Survival: detection rate (mean z) of the 40 watermarked texts after audit.robustness.text.perturb
at severities 0..5 (0, 2, 5, 10, 20, 30% of words / spaces perturbed; seed = text index):

  typos        1.00 1.00 1.00 0.97 0.82 0.60   (z 8.6 8.3 7.9 6.9 5.6 4.5)
  casing       1.00 0.97 0.93 0.90 0.75 0.55   (z 8.6 8.1 7.5 6.8 5.2 4.0)
  whitespace   1.00 1.00 0.97 0.93 0.93 0.70   (z 8.6 8.3 7.8 7.0 5.9 4.8)
  word_order   1.00 1.00 1.00 0.93 0.80 0.60   (z 8.6 8.2 7.8 6.8 5.4 4.6)
  code_switch  1.00 1.00 0.97 0.97 0.93 0.90   (z 8.6 8.3 8.1 7.6 6.9 6.2)

Why gamma = 0.25 and delta = 2.0 (the paper's middle setting): on this low-entropy story model
delta = 1.0 detects 16 of 40 (mean z 3.7) and gamma = 0.5 with delta = 2.0 also 16 of 40, while
delta = 3.0 detects 39 of 40 at a higher quality cost (4.53 nats/token). MIN_TOKENS = 32: every
watermarked sample above has at least 35 distinct pairs, and the exact bound at T >= 32 stays
within ~6x the normal tail.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np
import torch

GAMMA: float = 0.25
DELTA: float = 2.0
Z_THRESHOLD: float = 4.0
MIN_TOKENS: int = 32
FPR_BOUND: float = 2.0e-4
"""Largest exact Binomial(T, GAMMA) tail above Z_THRESHOLD over T >= MIN_TOKENS (1.99e-4, at T = 35)."""


class Encoding(Protocol):
    """What a `tokenizers.Tokenizer.encode` returns, as far as scoring needs it."""

    ids: list[int]


class TextTokenizer(Protocol):
    """Anything that tokenises like `tokenizers.Tokenizer` (the bundled transformer's)."""

    def encode(self, text: str) -> Encoding: ...


class GreenList:
    """The keyed green lists of one vocabulary, and the logits processor that favours them."""

    def __init__(self, vocab_size: int, key: int, gamma: float = GAMMA, delta: float = DELTA) -> None:
        if not 0 < gamma < 1:
            raise ValueError(f"gamma must be in (0, 1), got {gamma}")
        if vocab_size < 2 or key < 0:
            raise ValueError(f"need vocab_size >= 2 and a non-negative key, got {vocab_size} and {key}")
        self.vocab_size, self.key, self.gamma, self.delta = int(vocab_size), int(key), float(gamma), float(delta)
        self.n_green = round(self.gamma * self.vocab_size)
        self._rows: dict[int, np.ndarray] = {}

    def row(self, previous: int) -> np.ndarray:
        """The green list after token `previous` as a bool [V] array: the first round(gamma V) of
        a permutation drawn from numpy's PCG64 seeded by SeedSequence([key, previous]) -- keyed,
        deterministic and independent of any global RNG (cached per previous token)."""
        green = self._rows.get(previous)
        if green is None:
            if not 0 <= previous < self.vocab_size:
                raise ValueError(f"token id {previous} is outside the vocabulary of {self.vocab_size}")
            green = np.zeros(self.vocab_size, dtype=bool)
            green[np.random.default_rng([self.key, previous]).permutation(self.vocab_size)[: self.n_green]] = True
            self._rows[previous] = green
        return green

    def green_mask(self, previous: torch.Tensor) -> torch.Tensor:
        """Bool [B, V]: the green list after each of the B previous tokens."""
        return torch.from_numpy(np.stack([self.row(int(p)) for p in previous.reshape(-1).tolist()]))

    def __call__(self, input_ids: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """The logits processor: `delta` added to the green tokens given each row's last id."""
        if logits.shape[-1] != self.vocab_size:
            raise ValueError(f"logits have {logits.shape[-1]} entries, the green list covers {self.vocab_size}")
        mask = self.green_mask(input_ids[:, -1]).to(logits.device)
        return logits + self.delta * mask.to(logits.dtype)

    def count(self, token_ids: Sequence[int], unique_pairs: bool = True) -> tuple[int, int]:
        """(green tokens, scored tokens) over tokens 1.. of `token_ids`, each given its previous
        token; with `unique_pairs` each distinct (previous, token) pair counts once."""
        ids = np.asarray(token_ids, dtype=np.int64)
        if len(ids) < 2:
            return 0, 0
        pairs = np.stack([ids[:-1], ids[1:]], axis=1)
        if unique_pairs:
            pairs = np.unique(pairs, axis=0)
        previous, row_of = np.unique(pairs[:, 0], return_inverse=True)
        table = np.stack([self.row(int(p)) for p in previous])
        return int(table[row_of, pairs[:, 1]].sum()), len(pairs)

    def z_score(self, token_ids: Sequence[int], unique_pairs: bool = True) -> float:
        """(|s|_G - gamma T) / sqrt(T gamma (1 - gamma)); nan when nothing can be scored."""
        return z_statistic(*self.count(token_ids, unique_pairs), self.gamma)


def z_statistic(green: int, scored: int, gamma: float) -> float:
    """The one-proportion z of `green` hits in `scored` trials against rate gamma (nan if none)."""
    if scored == 0:
        return float("nan")
    return (green - gamma * scored) / float(np.sqrt(scored * gamma * (1 - gamma)))


def detect(green: GreenList, token_ids: Sequence[int]) -> bool:
    """True when at least MIN_TOKENS distinct pairs are scored and z exceeds Z_THRESHOLD."""
    hits, scored = green.count(token_ids)
    return scored >= MIN_TOKENS and z_statistic(hits, scored, green.gamma) > Z_THRESHOLD


def text_token_ids(tokenizer: TextTokenizer, text: str) -> list[int]:
    """The ids a detector sees: the text re-tokenised (byte-level BPE may split a decoded
    sequence differently from how it was generated; measured cost in the module docstring).
    Takes a `tokenizers.Tokenizer` (`.encode(text).ids`) or a transformers tokenizer (a list)."""
    encoded = tokenizer.encode(text, add_special_tokens=False) if hasattr(tokenizer, "pad_token_id") else tokenizer.encode(text)
    return list(getattr(encoded, "ids", encoded))


def text_z_score(green: GreenList, tokenizer: TextTokenizer, text: str) -> float:
    """z of a text (e.g. a generated continuation, without its prompt) after re-tokenising."""
    return green.z_score(text_token_ids(tokenizer, text))


def detect_text(green: GreenList, tokenizer: TextTokenizer, text: str) -> bool:
    """`detect` on a re-tokenised text."""
    return detect(green, text_token_ids(tokenizer, text))
