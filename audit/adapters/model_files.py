"""Models a user brings as files, named by one `model=` word: a local Hugging Face causal LM
directory (`hf:<dir>`), an image generator saved with TorchScript (`torchscript:<file>[?options]`)
or a diffusers pipeline folder (`diffusers:<dir>[?options]`).

- `hf:<dir>` loads `AutoTokenizer` and `AutoModelForCausalLM` from the folder with the hub
  disabled (`HF_HUB_OFFLINE=1`, `local_files_only=True`), safetensors weights only and no
  remote code (`trust_remote_code=False`), directly in the run's precision and device. Every
  text is scored after a start token (the tokenizer's BOS, else its EOS), as the bundled GPT-2
  does, so every token of the text gets a log-probability.
- `torchscript:<file>` loads a scripted generator with `torch.jit.load` (no pickled Python
  objects, but the TorchScript program in the file runs in this process: load your own files).
  `forward(z)` or `forward(z, labels)` maps a latent [N, *latent] (standard normal, float) and
  class labels (LongTensor [N]) to images float [N, C, H, W] in [0, 1]. The latent size and class
  count come from the file (an `audit.json` extra file, or `latent_dim` / `num_classes`
  attributes or constants of the scripted module) or from options:
  `torchscript:gen.pt?latent=64&classes=10&family=gan&name=my-gan` (`latent=100x1x1` for a
  4-d latent). An option that contradicts the file is an error.
- `diffusers:<dir>[?scheduler=ddim&steps=50&guidance=7.5]`: a local diffusers pipeline folder
  (see `audit.adapters.diffusers_pipeline`).

`check_source(word)` validates a word at plan time (exit 2 on bad input); `load_source` builds
the adapter when the run executes.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audit.adapters.base import CAUSAL_LM, CONDITIONAL, GENERATE, LOG_PROBS, SAMPLE, TOKENIZER, ModelAdapter, ModelInfo, count_params
from audit.adapters.diffusers_pipeline import DIFFUSERS_OPTIONS, check_pipeline_folder, load_pipeline
from audit.adapters.images import validate_images
from audit.errors import InputError, ModelOutputError
from audit.families import ANY, IMAGE, families_of
from audit.messages import one_line
from audit.words import parse_options, split_options

if TYPE_CHECKING:
    import torch

SOURCE_PREFIXES = ("hf:", "torchscript:", "diffusers:")
TORCHSCRIPT_FAMILIES = families_of(IMAGE, ANY)
"""Families a sample-only TorchScript generator may be audited as."""
HF_OPTIONS = {"name": "the model's name in reports (default: the folder name)"}
TORCHSCRIPT_OPTIONS = {
    "latent": "latent size: 64, or a shape such as 100x1x1",
    "classes": "number of classes (0: unconditional)",
    "family": f"family the generator is audited as: {', '.join(TORCHSCRIPT_FAMILIES)} (default: gan)",
    "name": "the model's name in reports (default: the file name without its suffix)",
}
METADATA_FILE = "audit.json"
"""Extra file in a TorchScript archive (`torch.jit.save(m, path, _extra_files={"audit.json": ...})`)
holding {"latent_dim": 64 or [100, 1, 1], "num_classes": 10, "family": "gan", "name": "...",
"description": "..."}."""
MAX_LM_WINDOW = 4096
"""Longest context scored in one window (longer texts use a sliding window)."""
SAMPLE_BATCH = 256


@dataclass(frozen=True)
class SourceWord:
    """A parsed `hf:` or `torchscript:` model word."""

    word: str
    kind: str
    path: Path
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceCheck:
    """What plan time learns about a source: its family and, for generators, the image shape."""

    family: str
    image_shape: tuple[int, ...] | None = None
    num_classes: int | None = None
    capabilities: frozenset[str] = frozenset()
    """Capabilities known from the files alone (a diffusers pipeline's); empty when unknown."""


def is_source_word(word: str) -> bool:
    return word.startswith(SOURCE_PREFIXES)


def parse_source_word(word: str) -> SourceWord | None:
    """`hf:DIR` or `torchscript:FILE?key=value&...`; None for any other word."""
    if not is_source_word(word):
        return None
    kind, _, rest = word.partition(":")
    allowed = {"hf": HF_OPTIONS, "diffusers": DIFFUSERS_OPTIONS}.get(kind, TORCHSCRIPT_OPTIONS)
    path_text, query = split_options(rest, last=True)
    options = parse_options(word, query, allowed, f"{kind} option")
    if not path_text:
        raise InputError(f"Model '{word}' names no path: say {kind}:{'<file.pt>' if kind == 'torchscript' else '<folder>'}.")
    return SourceWord(word, kind, Path(path_text).expanduser(), options)


_CHECKED: dict[tuple[str, int, int], SourceCheck] = {}


def check_source(word: str) -> SourceCheck | None:
    """Validate a source word before anything runs (InputError: exit 2); None for other words.
    Remembered per (word, file modification time, size), so planning checks a file once."""
    source = parse_source_word(word)
    if source is None:
        return None
    try:
        stat = source.path.stat()
        key = (word, stat.st_mtime_ns, stat.st_size)
    except OSError:
        key = None
    if source.kind in ("hf", "diffusers") or key is None:
        return _check_source(source)  # cheap: no cache
    if key not in _CHECKED:
        _CHECKED[key] = _check_source(source)
    return _CHECKED[key]


def _check_source(source: SourceWord) -> SourceCheck:
    word = source.word
    if source.kind == "hf":
        check_hf_dir(source)
        return SourceCheck("transformer")
    if source.kind == "diffusers":
        folder = check_pipeline_folder(word, source.path, source.options)
        return SourceCheck("diffusion", folder.image_shape, folder.num_classes, folder.capabilities)
    adapter = load_torchscript(source, "cpu")
    try:
        probe = adapter.sample(2, 0)
        validate_images(word, probe, 2)
    except ModelOutputError as exc:
        raise InputError(_probe_broke_contract(word, adapter.info.name, str(exc))) from None
    except Exception as exc:
        raise InputError(f"Model '{word}': generating 2 probe images raised {type(exc).__name__}: {one_line(exc)}") from None
    return SourceCheck(adapter.info.family, tuple(probe.shape[1:]), adapter.info.num_classes)


def _probe_broke_contract(word: str, name: str, message: str) -> str:
    """The one line for probe images that break the image contract, naming the model once: the
    adapter's and validate_images' messages each start by naming it their own way."""
    for said in (f"model '{word}' sample() ", f"TorchScript generator '{name}' "):
        if message.startswith(said):
            return f"Model '{word}': the TorchScript generator {message[len(said):]}."
    return f"Model '{word}': {message}."


def load_source(word: str, precision: str = "fp32", device: str = "cpu") -> ModelAdapter:
    """Build the adapter of an `hf:` / `torchscript:` word (precision is applied by the caller;
    `hf:` already loads its weights in the precision's dtype)."""
    source = parse_source_word(word)
    if source is None:
        raise InputError(f"'{word}' is not a model source word ({', '.join(SOURCE_PREFIXES)}).")
    if source.kind == "hf":
        return load_hf(source, precision, device)
    if source.kind == "diffusers":
        return load_pipeline(word, source.path, source.options, precision, device)
    return load_torchscript(source, device)


# --- Hugging Face causal LM ----------------------------------------------------------------------

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "tokenizer.model")


def check_hf_dir(source: SourceWord) -> None:
    folder = source.path
    if not folder.is_dir():
        raise InputError(f"Model '{source.word}': folder '{folder}' does not exist.")
    config = folder / "config.json"
    if not config.is_file():
        raise InputError(f"Model '{source.word}': '{folder}' has no config.json (save the model with save_pretrained).")
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"Model '{source.word}': {config} is not valid JSON ({exc}).") from None
    if not isinstance(data, dict) or "model_type" not in data:
        raise InputError(f"Model '{source.word}': {config} has no model_type.")
    _require_causal(source.word, data)
    from audit.weights import check_safetensors_folder

    check_safetensors_folder(source.word, folder, "model")
    if not any((folder / f).is_file() for f in TOKENIZER_FILES):
        raise InputError(f"Model '{source.word}': '{folder}' has no tokenizer ({', '.join(TOKENIZER_FILES)}); save it with tokenizer.save_pretrained.")
    _require_ids_in_vocabulary(source.word, folder / "tokenizer.json", data.get("vocab_size"))


ENCODERS_AS_DECODERS = frozenset({
    "bert", "bert-generation", "big_bird", "camembert", "data2vec-text", "electra", "ernie", "megatron-bert", "rembert", "roberta",
    "roberta-prelayernorm", "roc_bert", "roformer", "xlm-roberta", "xlm-roberta-xl", "xmod",
})
"""Encoder architectures transformers also loads as causal LMs (`BertLMHeadModel`...), causal only
when their config says `is_decoder: true`: otherwise every position attends to the later ones,
and perplexity, probes and quantization deltas are numbers of a model that reads ahead."""


def _require_causal(word: str, config: dict[str, Any]) -> None:
    """A config transformers loads as a decoder-only causal LM (InputError: exit 2 otherwise)."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    model_type = config.get("model_type")
    if config.get("is_encoder_decoder"):
        raise InputError(f"Model '{word}': model_type {model_type!r} is an encoder-decoder model, not a causal (decoder-only) LM.")
    if model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise InputError(f"Model '{word}': model_type {model_type!r} is not a causal LM architecture transformers knows "
                         "(AutoModelForCausalLM has no class for it).")
    if model_type in ENCODERS_AS_DECODERS and config.get("is_decoder") is not True:
        raise InputError(f"Model '{word}': model_type {model_type!r} without is_decoder: true is an encoder (each position sees "
                         "the later ones), not a causal LM.")


def _require_ids_in_vocabulary(word: str, tokenizer_json: Path, vocab_size: Any) -> None:
    """The tokenizer's largest id (tokenizer.json: its vocabulary and added tokens) below the
    model's vocab_size: a larger id is an IndexError in the embedding at the first text holding it."""
    if not isinstance(vocab_size, int) or not tokenizer_json.is_file():
        return
    try:
        data = json.loads(tokenizer_json.read_text(encoding="utf-8"))
        vocab = (data.get("model") or {}).get("vocab")
        ids = list(vocab.values()) if isinstance(vocab, dict) else list(range(len(vocab))) if isinstance(vocab, list) else []
        ids += [t["id"] for t in data.get("added_tokens") or [] if isinstance(t, dict) and isinstance(t.get("id"), int)]
    except (OSError, ValueError, AttributeError, TypeError):
        return  # the tokenizer's own loading says what is wrong with it
    largest = max((i for i in ids if isinstance(i, int)), default=-1)
    if largest >= vocab_size:
        raise InputError(f"Model '{word}': its tokenizer has ids up to {largest}, but the model's vocab_size is {vocab_size}: "
                         "texts holding those tokens cannot be scored.")


def _torch_dtype(precision: str) -> "torch.dtype | None":
    import torch

    try:
        from audit.precision import get_precision

        name = getattr(get_precision(precision), "dtype", None)
    except Exception:
        return None
    dtype = getattr(torch, str(name), None) if name else None
    return dtype if isinstance(dtype, torch.dtype) and dtype.is_floating_point else None


def _files_sha256(folder: Path, prefix: str) -> dict[str, str]:
    from audit.weights import sha256_file

    files = sorted(p for p in folder.iterdir() if p.is_file() and (p.suffix == ".safetensors" or p.name in TOKENIZER_FILES or p.name in ("config.json", "merges.txt")))
    return {f"{prefix}/{p.name}": sha256_file(p) for p in files}


class HFCausalLM(ModelAdapter):
    """A local Hugging Face causal LM behind LOG_PROBS, GENERATE, TOKENIZER and CAUSAL_LM, scored and decoded like the
    bundled GPT-2 (audit.lm: the same sliding-window scoring, the same per-prompt seeded decoding)."""

    capabilities = frozenset({LOG_PROBS, GENERATE, TOKENIZER, CAUSAL_LM})

    def __init__(self, model: Any, tokenizer: Any, name: str, weights: dict[str, str] | None = None, description: str = "") -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        config = model.config
        self.start_id = _first(tokenizer.bos_token_id, tokenizer.eos_token_id, getattr(config, "bos_token_id", None), getattr(config, "eos_token_id", None))
        self.eos_id = _first(tokenizer.eos_token_id, getattr(config, "eos_token_id", None))
        self.pad_id = _first(tokenizer.pad_token_id, self.eos_id, self.start_id, 0)
        positions = _first(*(getattr(config, k, None) for k in ("n_positions", "max_position_embeddings", "n_ctx")), 1024)
        self.n_positions = int(min(positions, MAX_LM_WINDOW))
        self.info = ModelInfo(
            name=name, family="transformer", params=count_params(model), description=description, weights=weights or {},
        )

    def modules(self) -> dict[str, "torch.nn.Module"]:
        return {"lm": self.model}

    def encode(self, text: str) -> list[int]:
        """The start token (BOS, else EOS; none if the tokenizer has neither) and the text's tokens."""
        ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        return ([self.start_id] if self.start_id is not None else []) + ids

    def log_probs(self, texts: list[str]) -> list["torch.Tensor"]:
        """Per-token log-probabilities (nats, float32 CPU) of each text's tokens after the start token."""
        from audit.lm import score_sequences

        return score_sequences(self.model, [self.encode(t) for t in texts], self.n_positions, pad_id=self.pad_id)

    def generate(
        self, prompts: list[str], max_new_tokens: int, seed: int, temperature: float = 1.0,
        top_k: int | None = None, top_p: float | None = None, greedy: bool = False, logits_processor: Any = None,
    ) -> list[str]:
        """Continuations (prompt excluded) cut at EOS; the same seed gives the same text.
        `logits_processor(seen_ids, logits) -> logits` edits each step's logits (e.g. a watermark)."""
        from audit.lm import decode

        if not 0 < max_new_tokens < self.n_positions:
            raise ValueError(f"max_new_tokens must be in 1..{self.n_positions - 1}, got {max_new_tokens}")
        if not prompts:
            return []
        keep = self.n_positions - max_new_tokens
        ids = [self.encode(p)[-keep:] or [self.pad_id] for p in prompts]
        stop = self.eos_id if self.eos_id is not None else self.pad_id
        new = decode(self.model, ids, max_new_tokens, seed, stop, temperature, top_k, top_p, greedy, logits_processor=logits_processor)
        return [self.tokenizer.decode(t, skip_special_tokens=True) for t in new]


def _require_loaded_causal(word: str, model: Any, tokenizer: Any) -> None:
    """What the config could not show, on the loaded model (InputError): every tokenizer id has
    an embedding, and no position's logits move when only a later token changes (causal)."""
    import torch

    rows = model.get_input_embeddings().num_embeddings
    if len(tokenizer) > rows:
        raise InputError(f"Model '{word}': its tokenizer has {len(tokenizer)} ids, but the model embeds {rows}: "
                         "texts holding the others cannot be scored.")
    ids = torch.arange(1, 9).remainder(rows).unsqueeze(0)
    changed = ids.clone()
    changed[0, -1] = (changed[0, -1] + 1) % rows
    with torch.no_grad():
        before = model(input_ids=ids).logits[0, :-1].float()
        after = model(input_ids=changed).logits[0, :-1].float()
    if not torch.allclose(before, after, rtol=1e-4, atol=1e-5):
        raise InputError(f"Model '{word}': changing its last token changed the logits before it "
                         f"(by {float((before - after).abs().max()):.2g}): not a causal (decoder-only) LM.")


def _first(*values: Any) -> Any:
    for v in values:
        if isinstance(v, (list, tuple)):
            v = v[0] if v else None
        if v is not None:
            return v
    return None


def load_hf(source: SourceWord, precision: str = "fp32", device: str = "cpu") -> HFCausalLM:
    check_hf_dir(source)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    transformers.utils.logging.disable_progress_bar()  # one line per error on stderr, no bars

    folder = str(source.path)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
    except Exception as exc:
        raise InputError(f"Model '{source.word}': cannot load its tokenizer: {type(exc).__name__}: {one_line(exc)}") from None
    kwargs: dict[str, Any] = {"local_files_only": True, "trust_remote_code": False, "use_safetensors": True}
    dtype = _torch_dtype(precision)
    if dtype is not None:
        kwargs["dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"] = dtype
    try:
        model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    except Exception as exc:
        raise InputError(f"Model '{source.word}': cannot load it as a causal LM: {type(exc).__name__}: {one_line(exc)}") from None
    _require_loaded_causal(source.word, model, tokenizer)
    model.to(device)
    name = source.options.get("name", source.path.resolve().name)
    description = f"Hugging Face {type(model).__name__} from {source.path}"
    return HFCausalLM(model, tokenizer, name, _files_sha256(source.path, source.path.resolve().name), description)


# --- TorchScript image generator ------------------------------------------------------------------


def _archive_metadata(source: SourceWord) -> dict[str, Any]:
    """The `audit.json` extra file of a TorchScript archive ({} if there is none)."""
    path = source.path
    if not path.is_file():
        raise InputError(f"Model '{source.word}': file '{path}' does not exist.")
    if not zipfile.is_zipfile(path):
        raise InputError(f"Model '{source.word}': '{path}' is not a TorchScript archive (save it with torch.jit.save).")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if not any(n.endswith("/constants.pkl") or "/code/" in n for n in names):
            raise InputError(f"Model '{source.word}': '{path}' is a zip file but not a TorchScript archive (save it with torch.jit.save).")
        extra = [n for n in names if n.endswith(f"/extra/{METADATA_FILE}")]
        if not extra:
            return {}
        try:
            data = json.loads(archive.read(extra[0]).decode("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"Model '{source.word}': its {METADATA_FILE} is not valid JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise InputError(f"Model '{source.word}': its {METADATA_FILE} must hold a JSON object.")
    return data


def _latent_shape(word: str, value: Any, where: str) -> tuple[int, ...]:
    if isinstance(value, str):
        parts = value.lower().split("x")
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = [value]
    try:
        shape = tuple(int(p) for p in parts)
    except (TypeError, ValueError):
        shape = ()
    if not shape or any(d < 1 for d in shape):
        raise InputError(f"Model '{word}': latent size {value!r} ({where}) must be a positive integer or a shape like 100x1x1.")
    return shape


def _classes(word: str, value: Any, where: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if number < 0 or number == 1:
        raise InputError(f"Model '{word}': class count {value!r} ({where}) must be 0 (unconditional) or at least 2.")
    return number


def _declared(net: Any, metadata: dict[str, Any], key: str, attribute: str) -> Any:
    if key in metadata:
        return metadata[key]
    value = getattr(net, attribute, None)
    return value if isinstance(value, (int, list, tuple)) and not isinstance(value, bool) else None


def _resolve(word: str, option: str | None, declared: Any, parse: Any, what: str, option_name: str) -> Any:
    from_file = parse(word, declared, "saved in the file") if declared is not None else None
    from_option = parse(word, option, f"option {option_name}") if option is not None else None
    if from_file is not None and from_option is not None and from_file != from_option:
        raise InputError(f"Model '{word}': option {option_name}={option} disagrees with the {what} saved in the file ({declared}).")
    return from_option if from_option is not None else from_file


def load_torchscript(source: SourceWord, device: str = "cpu") -> "TorchScriptGenerator":
    import torch

    from audit.weights import sha256_file

    metadata = _archive_metadata(source)
    try:
        net = torch.jit.load(str(source.path), map_location="cpu")
    except Exception as exc:
        raise InputError(f"Model '{source.word}': torch.jit.load failed: {type(exc).__name__}: {one_line(exc)}") from None
    word, opts = source.word, source.options
    latent = _resolve(word, opts.get("latent"), _declared(net, metadata, "latent_dim", "latent_dim"), _latent_shape, "latent size", "latent")
    if latent is None:
        raise InputError(
            f"Model '{word}': latent size unknown: save a `latent_dim` attribute on the scripted module, "
            f"an {METADATA_FILE} extra file, or say {source.kind}:{source.path}?latent=64."
        )
    classes = _resolve(word, opts.get("classes"), _declared(net, metadata, "num_classes", "num_classes"), _classes, "class count", "classes") or 0
    family = opts.get("family", metadata.get("family", "gan"))
    if family not in TORCHSCRIPT_FAMILIES:
        raise InputError(f"Model '{word}': family '{family}' is not one of {', '.join(TORCHSCRIPT_FAMILIES)}.")
    inputs = [a for a in net.forward.schema.arguments][1:]
    if classes and len(inputs) < 2:
        raise InputError(f"Model '{word}': {classes} classes are declared but forward() takes only the latent; it must be forward(z, labels).")
    if not classes and len(inputs) >= 2 and not inputs[1].has_default_value():
        raise InputError(f"Model '{word}': forward() needs labels but no class count is known: say ?classes=K or save num_classes.")
    name = opts.get("name", metadata.get("name", source.path.stem))
    adapter = TorchScriptGenerator(
        net, latent, classes, name=str(name), family=family,
        weights={source.path.name: sha256_file(source.path)}, description=str(metadata.get("description", f"TorchScript generator {source.path.name}")),
    )
    try:
        adapter.sample(2, 0)  # fills info.image_shape; a broken generator is caught by check_source
    except Exception:
        pass
    if device != "cpu":
        adapter.to(device=device)
    return adapter


LATENT_BLOCK = 64


def _blocks(n: int, draw: Any, seed: int, stream: int = 0) -> "torch.Tensor":
    """`n` rows drawn in whole blocks of LATENT_BLOCK rows from a generator seeded by (seed,
    stream): the first k rows are the same whatever n, so sample(7, s) is sample(300, s)[:7]."""
    import numpy as np
    import torch

    g = torch.Generator().manual_seed(int(np.random.SeedSequence([seed, stream]).generate_state(1, np.uint64)[0] >> 1))
    return torch.cat([draw(g) for _ in range(max(1, -(-n // LATENT_BLOCK)))])[:n]


class TorchScriptGenerator(ModelAdapter):
    """A scripted generator: z ~ N(0, I) drawn from a generator seeded with `seed` (and labels,
    when it is conditional and none are given, from a second seeded stream) -> images. Latents
    are drawn in blocks of 64 rows, so the first k samples do not depend on n."""

    def __init__(
        self, net: Any, latent_shape: tuple[int, ...], num_classes: int, name: str, family: str = "gan",
        weights: dict[str, str] | None = None, description: str = "",
    ) -> None:
        self.net = net.eval()
        self.latent_shape = tuple(latent_shape)
        self.capabilities = frozenset({SAMPLE, CONDITIONAL}) if num_classes else frozenset({SAMPLE})
        self.info = ModelInfo(
            name=name, family=family, params=count_params(net), description=description,
            num_classes=num_classes or None, weights=weights or {},
        )

    def modules(self) -> dict[str, "torch.nn.Module"]:
        return {"generator": self.net}

    def sample(self, n: int, seed: int, labels: "torch.Tensor | None" = None) -> "torch.Tensor":
        import torch

        z = _blocks(n, lambda g: torch.randn(LATENT_BLOCK, *self.latent_shape, generator=g), int(seed))
        classes = self.info.num_classes
        if classes:
            labels = _blocks(n, lambda g: torch.randint(classes, (LATENT_BLOCK,), generator=g), int(seed), 1) if labels is None else labels.long().cpu()
        device, dtype = self.info.device, self.dtype
        out = []
        with torch.no_grad():
            for i in range(0, n, SAMPLE_BATCH):
                zi = z[i : i + SAMPLE_BATCH].to(device, dtype)
                x = self.net(zi, labels[i : i + SAMPLE_BATCH].to(device)) if classes else self.net(zi)
                if not isinstance(x, torch.Tensor):
                    raise ModelOutputError(f"TorchScript generator '{self.info.name}' returned {type(x).__name__}, expected a tensor [N, C, H, W]")
                out.append(x.float().cpu() if x.is_floating_point() else x.cpu())
        images = torch.cat(out) if out else torch.empty(0)
        if self.info.image_shape is None and images.ndim == 4:
            self.info.image_shape = tuple(int(d) for d in images.shape[1:])  # type: ignore[assignment]
        return images
