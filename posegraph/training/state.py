"""Training state as safetensors + JSON only: nested state dicts split into tensors and a JSON skeleton.

Optimiser, learning-rate scheduler, EMA and RNG states are nested dicts/lists/tuples of tensors and
plain values. :func:`save_state` stores their tensors in ``NAME.safetensors`` and the rest in
``NAME.json``, where each tensor is replaced by ``{"__tensor__": key}``; :func:`load_state` puts them
back. Nothing is pickled, so loading a checkpoint never runs code.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

__all__ = ["save_state", "load_state", "capture_rng", "restore_rng"]


def _encode(obj, path: str, tensors: dict):
    if isinstance(obj, torch.Tensor):
        tensors[path] = obj.detach().cpu().clone().contiguous()
        return {"__tensor__": path}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, f"{path}.{k}", tensors) for k, v in obj.items()}
        return {"__items__": [[k, _encode(v, f"{path}.{i}", tensors)] for i, (k, v) in enumerate(obj.items())]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{path}.{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{path}.{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"save_state: cannot store {type(obj).__name__} at {path!r} (only tensors, dicts, lists, "
                    "tuples, numbers, strings and None)")


def _decode(obj, tensors: dict):
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if "__tuple__" in obj:
        return tuple(_decode(v, tensors) for v in obj["__tuple__"])
    if "__items__" in obj:
        return {(tuple(k) if isinstance(k, list) else k): _decode(v, tensors) for k, v in obj["__items__"]}
    return {k: _decode(v, tensors) for k, v in obj.items()}


def save_state(state: dict, directory: Path, name: str) -> None:
    """Write ``state`` as ``directory/name.json`` + ``directory/name.safetensors`` (if it holds tensors)."""
    tensors: dict[str, torch.Tensor] = {}
    skeleton = _encode(state, name, tensors)
    if tensors:
        save_file(tensors, directory / f"{name}.safetensors")
    (directory / f"{name}.json").write_text(json.dumps(skeleton) + "\n")


def load_state(directory: Path, name: str) -> dict:
    """Read what :func:`save_state` wrote (``ValueError`` naming the file if it is missing or damaged)."""
    try:
        tensor_file = directory / f"{name}.safetensors"
        tensors = load_file(tensor_file) if tensor_file.exists() else {}
        skeleton = json.loads((directory / f"{name}.json").read_text())
        return _decode(skeleton, tensors)
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{directory}: cannot read training state {name!r} ({error})") from error


def capture_rng(generator: torch.Generator) -> dict:
    """The torch (CPU and CUDA), numpy, python and ``generator`` RNG states, as tensors and numbers."""
    kind, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)},
        "python": {"version": version, "internal": torch.tensor(internal, dtype=torch.int64), "gauss_next": gauss_next},
        "generator": generator.get_state(),
    }


def restore_rng(state: dict, generator: torch.Generator) -> None:
    """Inverse of :func:`capture_rng`."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    numpy = state["numpy"]
    np.random.set_state((numpy["kind"], numpy["keys"].numpy().astype(np.uint32), numpy["pos"], numpy["has_gauss"],
                         numpy["cached_gaussian"]))
    python = state["python"]
    random.setstate((python["version"], tuple(python["internal"].tolist()), python["gauss_next"]))
    generator.set_state(state["generator"])
