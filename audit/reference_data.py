"""The data a run compares models with: real reference images (`data=`), held-out text (`text=`),
the image evaluator (`evaluator=`) and the attribute classifier (`attributes=`), the bundled
ones unless the user brings their own.

**data=** a folder of PNG/JPEG images at any size (grayscale or RGB), an `.npy` or an `.npz`
array; read with bounded memory and brought to each generator's shape by
`audit.reference_images` (its docstring: the split, the resize filter, the pixel cap).

**text=** a UTF-8 file of held-out documents for language-model metrics: documents are
separated by blank lines; a file without blank lines has one document per line. A file with a NUL
byte is binary, not text. At least TEXT_MIN_DOCUMENTS documents (more for some checks, see
`text_min_documents`), and long enough for the checks that continue them (`check_text_words`:
the continuation task needs 2 documents of 60+ words, machine-text detection 4 of 72+).

**Shapes.** The bundled digits evaluator and data are 1x16x16: a generator of any other shape
needs `evaluator=` and `data=`, and `data=` of any other shape needs `evaluator=`. Where a
generator's shape is known at plan time (file sources) a mismatch is InputError (exit 2) then; an
import-path generator's shape is known only when it samples, and a mismatch then is an error
record of that model with the same advice (`digits_shape_error`).

Every source is read and checked when the run is planned, so bad input fails with one line and
exit code 2 before anything is measured; a given evaluator and attribute classifier are probed on
a few reference images at each known generator shape. The sha256 of each file enters the run
fingerprint (`data:<name>`, `evaluator:<name>`, `attributes:<name>`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from audit.errors import InputError
from audit.evaluators import ImageEvaluator, ReferenceImages
from audit.heldout_text import HeldoutText, tinystories_heldout
from audit.reference_images import UserReference, load_reference_images, shape_text

DIGITS_SHAPE = (1, 16, 16)
EVALUATOR_PROBE = 2
TEXT_MIN_DOCUMENTS = 2
"""Fewest held-out documents the language-model checks can use: perplexity's bootstrap CI over
documents, the BLEU/ROUGE continuation task (audit/checks/text.py) and
robustness.text_perturbation each need at least two."""
TEXT_CHECK_MIN_DOCUMENTS = {"deepfake.machine_text": 4}
"""Checks that need more held-out documents: machine-text detection needs at least 4 word-matched
pairs (audit/checks/deepfake.py)."""
CONTINUATION_CHECKS = ("quality.bleu", "quality.rouge1", "quality.rouge2", "quality.rougeL")
CONTINUATION_WORDS = (40, 20)
"""The continuation task's default prompt_words and reference_words (audit/checks/text.py's
PROMPT_WORDS and REFERENCE_WORDS, their check parameters): it needs 2 documents of 60+ words."""
MACHINE_TEXT_WORDS = 24 + 48
"""deepfake.machine_text's prompt and continuation words (audit/checks/deepfake.py's
TEXT_PROMPT_WORDS + TEXT_WORDS): it needs 4 documents of 72+ words."""


# --- held-out text -------------------------------------------------------------------------------


def split_documents(text: str) -> list[str]:
    """Blank-line-separated paragraphs, or one document per line when there is no blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if re.search(r"\n[ \t]*\n", text.strip()):
        parts = re.split(r"\n[ \t]*\n", text)
    else:
        parts = text.split("\n")
    return [p.strip() for p in parts if p.strip()]


def read_utf8_text(path: Path, subject: str) -> tuple[bytes, str]:
    """The bytes and the text of a UTF-8 file (a BOM dropped); InputError starting with `subject`
    when it is binary (a NUL byte) or not UTF-8, naming the offending offset."""
    raw = path.read_bytes()
    nul = raw.find(b"\0")
    if nul >= 0:
        raise InputError(f"{subject} is binary, not UTF-8 text: NUL byte at offset {nul}.")
    try:
        return raw, raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{subject} is not UTF-8: invalid byte 0x{raw[exc.start]:02x} at offset {exc.start}.") from None


def load_text(path: Path) -> HeldoutText:
    if not path.is_file():
        raise InputError(f"Text file '{path}' does not exist.")
    raw, text = read_utf8_text(path, f"Text file '{path}'")
    documents = split_documents(text)
    if not documents:
        raise InputError(f"Text file '{path}' holds no documents (it is empty or only whitespace).")
    rule = "blank-line-separated documents" if re.search(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip()) else "one document per line"
    return HeldoutText(path.name, tuple(documents), hashlib.sha256(raw).hexdigest(), f"{path.name} ({len(documents)} {rule}; first n)")


def text_min_documents(checks: list[str] | tuple[str, ...]) -> tuple[int, str]:
    """The fewest held-out documents a run of `checks` needs, and who needs them (for messages)."""
    needs = [(TEXT_CHECK_MIN_DOCUMENTS[c], f"{c} needs") for c in checks if c in TEXT_CHECK_MIN_DOCUMENTS]
    return max(needs, default=(TEXT_MIN_DOCUMENTS, "the language-model checks need"))


def check_text_count(text: HeldoutText, path: Path, checks: list[str]) -> None:
    """Too few documents for the planned checks is bad input (exit 2), not an error mid-run."""
    minimum, who = text_min_documents(checks)
    count = len(text.documents)
    if count < minimum:
        raise InputError(
            f"Text file '{path}' holds {count} document{'s' if count != 1 else ''}; {who} at least {minimum} "
            "(separate documents by blank lines, or put one per line)."
        )


def text_word_needs(checks: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, int, int]]:
    """(check, documents, words per document) for each of `checks` (id -> its suite parameters)
    that reads only held-out documents of at least so many words."""
    needs = []
    for check, params in checks.items():
        if check in CONTINUATION_CHECKS:
            words = [params.get(k, d) for k, d in zip(("prompt_words", "reference_words"), CONTINUATION_WORDS)]
            if all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in words):  # else the check reports it
                needs.append((check, TEXT_MIN_DOCUMENTS, sum(words)))
        elif check == "deepfake.machine_text":
            needs.append((check, TEXT_CHECK_MIN_DOCUMENTS[check], MACHINE_TEXT_WORDS))
    return needs


def check_text_words(text: HeldoutText, path: Path, checks: Mapping[str, Mapping[str, Any]]) -> None:
    """Too few documents long enough for a planned check (the continuation task, machine-text
    detection) is bad input (exit 2), not an error record mid-run."""
    for check, minimum, words in text_word_needs(checks):
        count = sum(len(d.split()) >= words for d in text.documents)
        if count < minimum:
            raise InputError(
                f"Text file '{path}' holds {count} document{'s' if count != 1 else ''} of {words}+ words; {check} needs at least {minimum} "
                f"(it continues a document's first words; give longer documents, or leave {check} out with check=...)."
            )


# --- everything a run reads, resolved at plan time ----------------------------------------------


@dataclass
class Sources:
    """The run's reference images, held-out text, evaluator and attribute classifier: the user's
    (loaded and checked at plan time) or None for the bundled default (loaded on first use; no
    attribute classifier: image fairness groups by the evaluator's classes)."""

    reference: UserReference | None = None
    text: HeldoutText | None = None
    evaluator: ImageEvaluator | None = None
    attributes: Any = None
    """audit.attributes.AttributeClassifier of `attributes=`, or None."""

    def reference_factory(self) -> ReferenceImages | UserReference:
        from audit.evaluators import digits_reference

        return self.reference if self.reference is not None else digits_reference()

    def evaluator_factory(self) -> ImageEvaluator:
        from audit.evaluators import digits_evaluator

        return self.evaluator if self.evaluator is not None else digits_evaluator()

    def text_factory(self) -> HeldoutText:
        return self.text if self.text is not None else tinystories_heldout()


def digits_shape_error(model: str, shape: Any, data_given: bool, evaluator_given: bool) -> str | None:
    """The one-line advice when a generator of `shape` meets the bundled digits evaluator or data
    (1x16x16), else None."""
    shape = tuple(int(d) for d in shape)
    if shape == DIGITS_SHAPE or (data_given and evaluator_given):
        return None
    if not evaluator_given:
        need = ("evaluator= that reads them (inception, clip:<dir>, dinov2:<dir>, a TorchScript file or package.module:factory)"
                + ("" if data_given else " and data=<folder, .npy or .npz of real images>"))
        return f"Model '{model}' generates {shape_text(shape)} images, but the bundled digits evaluator reads {shape_text(DIGITS_SHAPE)}: give {need}."
    return f"Model '{model}' generates {shape_text(shape)} images, but the bundled digits data holds {shape_text(DIGITS_SHAPE)} images: give data=<folder, .npy or .npz of real images>."


def has_classes(logits: Any) -> bool:
    """Whether an evaluator's logits name classes (K >= 2); an evaluator without classes returns [N, 0]."""
    return len(logits.shape) == 2 and int(logits.shape[1]) >= 2


def probe_evaluator(evaluator: ImageEvaluator, images: np.ndarray, what: str) -> None:
    """Run the evaluator on a couple of images now, so a mismatch fails the plan (exit 2)."""
    import torch

    x = torch.tensor(np.asarray(images[:EVALUATOR_PROBE], dtype=np.float32))
    try:
        with torch.no_grad():
            f, logits = evaluator.features_and_logits(x)
    except Exception as exc:
        from audit.messages import one_line

        raise InputError(
            f"Evaluator '{evaluator.name}' fails on {what} images of shape {shape_text(x.shape[1:])}: {type(exc).__name__}: {one_line(exc, 200)}"
        ) from None
    if not (torch.isfinite(f).all() and torch.isfinite(logits).all()):
        raise InputError(f"Evaluator '{evaluator.name}' returns non-finite features or logits on {what} images.")
    with torch.no_grad():
        again, _ = evaluator.features_and_logits(x)
    if not torch.allclose(f, again, rtol=1e-4, atol=1e-5):
        raise InputError(f"Evaluator '{evaluator.name}' returns different features for the same {what} images on two calls "
                         "(dropout or batch norm left in training mode?): every distance it gives would move between runs.")
    distinct = len({tuple(row.tolist()) for row in x.flatten(1)}) > 1
    if distinct and bool((f == f[:1]).all()):
        raise InputError(f"Evaluator '{evaluator.name}' returns the same features for different {what} images: every "
                         "distance in its space would be 0 (FID 0 for any generator).")
    if logits.shape[1] == 1:
        raise InputError(
            f"Evaluator '{evaluator.name}' returns 1 logit per image; class-based metrics need at least 2 (return [N, 0] logits for an evaluator without classes)."
        )


def _probe_shapes(model_shapes: dict[str, tuple[int, ...] | None], reference: UserReference | None) -> list[tuple[int, int, int]]:
    """The generator shapes known now, else the data's own shape (its first image's when sizes differ)."""
    known = sorted({tuple(int(d) for d in s) for s in model_shapes.values() if s is not None})
    if known:
        return known  # type: ignore[return-value]
    if reference is None:
        return [DIGITS_SHAPE]
    if reference.native_shape is not None:
        return [reference.native_shape]
    width, height = reference.source.sizes[int(reference.train_index[0])]
    return [(1 if reference.source.gray else 3, height, width)]


def resolve_sources(config: Any, model_shapes: dict[str, tuple[int, ...] | None], image_checks: bool, checks: list[str]) -> Sources:
    """Read and check `data=`, `text=`, `evaluator=` and `attributes=` against each other, the
    generators whose image shape is known at plan time, and the run's `checks`; InputError (exit 2)
    on any mismatch."""
    from audit.evaluators import resolve_evaluator

    data, text, evaluator_word = getattr(config, "data", None), getattr(config, "text", None), getattr(config, "evaluator", None)
    attributes_word = getattr(config, "attributes", None)
    sources = Sources(
        reference=load_reference_images(Path(data)) if data else None,
        text=load_text(Path(text)) if text else None,
        evaluator=resolve_evaluator(str(evaluator_word)) if evaluator_word else None,
    )
    if attributes_word:
        from audit.attributes import load_attribute_classifier

        sources.attributes = load_attribute_classifier(str(attributes_word))
    if sources.text is not None:
        check_text_count(sources.text, Path(text), checks)
    if not (image_checks or data or evaluator_word or attributes_word):
        return sources
    if image_checks:
        for word, shape in model_shapes.items():
            advice = None if shape is None else digits_shape_error(word, shape, bool(data), bool(evaluator_word))
            if advice:
                raise InputError(advice)
    reference = sources.reference
    if sources.evaluator is None and reference is not None and reference.native_shape != DIGITS_SHAPE:
        held = f"{shape_text(reference.native_shape)} images" if reference.native_shape else "images of several sizes"
        raise InputError(
            f"Data '{data}' holds {held}, but the bundled digits evaluator reads {shape_text(DIGITS_SHAPE)}: "
            "give evaluator=<TorchScript file or package.module:factory> for these images."
        )
    for shape in _probe_shapes(model_shapes, reference):
        images = reference.probe_images(shape, 4) if reference is not None else sources.reference_factory().train_x[:4]
        if sources.evaluator is not None:
            probe_evaluator(sources.evaluator, images, "reference")
        if sources.attributes is not None:
            from audit.attributes import probe_attribute_classifier

            probe_attribute_classifier(sources.attributes, images, "reference")
    return sources
