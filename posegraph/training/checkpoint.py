"""Training checkpoints: atomic writes, keep-last pruning, and finding the one to resume.

Layout of ``RUN_DIR/checkpoints/step_000123/`` (the sampling side reads the first four entries, see
:mod:`posegraph.pipelines.checkpoints`)::

    unet/                 GUNet.save_pretrained with the EMA weights: what sampling uses
    scheduler/            the training DDPMScheduler config
    text_encoder.json     {"name_or_path", "max_length"}: the frozen encoder, by reference
    COMPLETE              written last
    unet_raw/             GUNet.save_pretrained with the raw (optimised) weights
    train_config.json     the TrainConfig
    training_state/       NAME.safetensors + NAME.json for optimizer, lr_scheduler, ema, rng, progress
                          (and grad_scaler under fp16); see posegraph.training.state

A checkpoint is written into ``checkpoints/.tmp_step_000123`` and renamed into place, so a crash
during a save leaves every earlier checkpoint untouched; a save that fails (a full disk) is an ``OSError``
naming the checkpoint and the disk's trouble, and leaves no partial folder.

Resuming from ``latest`` or from a run directory takes the newest complete checkpoint whose files read back
(:func:`posegraph.pipelines.checkpoints.unreadable_file`): a damaged newest one is skipped with a warning
naming the file, never silently replaced by a fresh start.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

from posegraph.pipelines.checkpoints import COMPLETE_MARKER, corrupt_checkpoint_error, unreadable_file
from posegraph.training.config import TrainConfig
from posegraph.training.state import save_state

__all__ = ["STATE_NAMES", "checkpoint_dir", "write_checkpoint", "prune_checkpoints", "clean_partial_saves",
           "complete_checkpoints", "resolve_resume", "check_checkpoint"]

logger = logging.getLogger(__name__)

STATE_NAMES = ("optimizer", "lr_scheduler", "ema", "rng", "progress")
_STEP_DIR = re.compile(r"step_(\d+)")
_PARTIAL_PREFIXES = (".tmp_", ".old_")


def checkpoint_dir(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"step_{step:06d}"


def write_checkpoint(run_dir: Path, step: int, *, unet, raw_unet, scheduler, text_encoder_config: dict,
                     config: TrainConfig, training_state: dict[str, dict], extra_configs: dict | None = None) -> Path:
    """Write one checkpoint atomically and return its directory.

    Args:
        unet: the GUNet holding the EMA weights at save time.
        raw_unet: the GUNet holding the optimised weights (may be the same module, saved before/after
            swapping weights: both are written before returning).
        scheduler: the training noise scheduler.
        text_encoder_config: ``TextEncoder.to_config()``.
        training_state: ``{name: nested state}`` for :func:`posegraph.training.state.save_state`.
        extra_configs: ``{file name: JSON object}`` written beside ``train_config.json`` (a distilled student's
            ``distill_config.json``).
    """
    final = checkpoint_dir(run_dir, step)
    temporary = final.with_name(f".tmp_{final.name}")
    shutil.rmtree(temporary, ignore_errors=True)
    try:
        (temporary / "training_state").mkdir(parents=True)
        raw_unet.save_pretrained(temporary / "unet_raw", safe_serialization=True)
        unet.save_pretrained(temporary / "unet", safe_serialization=True)
        scheduler.save_pretrained(temporary / "scheduler")
        (temporary / "text_encoder.json").write_text(json.dumps(text_encoder_config, indent=2) + "\n")
        config.save(temporary / "train_config.json")
        for name, values in (extra_configs or {}).items():
            (temporary / name).write_text(json.dumps(values, indent=2) + "\n")
        for name, state in training_state.items():
            save_state(state, temporary / "training_state", name)
        (temporary / COMPLETE_MARKER).touch()
    except Exception as error:  # OSError, or safetensors' SafetensorError (an Exception) wrapping one
        if not isinstance(error, OSError) and "Error while serializing" not in str(error):
            raise
        shutil.rmtree(temporary, ignore_errors=True)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error).splitlines()[0]
        raise OSError(f"cannot write the checkpoint of step {step} into {final.parent} ({reason}); the earlier "
                      "checkpoints are intact: free some space (or lower --keep-last), then --resume latest") from None
    _replace_dir(temporary, final)
    return final


def _replace_dir(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``; an existing ``target`` is moved aside first and then deleted."""
    aside = None
    if target.exists():
        aside = target.with_name(f".old_{target.name}")
        shutil.rmtree(aside, ignore_errors=True)
        os.replace(target, aside)
    os.replace(source, target)
    if aside is not None:
        shutil.rmtree(aside)


def complete_checkpoints(run_dir: Path) -> list[Path]:
    """``step_N`` checkpoints holding the ``COMPLETE`` marker, oldest first."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), child) for child in root.iterdir()
             if (m := _STEP_DIR.fullmatch(child.name)) and (child / COMPLETE_MARKER).is_file()]
    return [path for _, path in sorted(found)]


def prune_checkpoints(run_dir: Path, keep_last: int) -> list[Path]:
    """Delete all but the newest ``keep_last`` complete checkpoints; return the deleted ones."""
    doomed = complete_checkpoints(run_dir)[:-keep_last]
    for path in doomed:
        shutil.rmtree(path)
    return doomed


def clean_partial_saves(run_dir: Path) -> None:
    """Remove leftovers of saves interrupted by a crash (``.tmp_*`` / ``.old_*`` folders)."""
    root = Path(run_dir) / "checkpoints"
    if root.is_dir():
        for child in root.iterdir():
            if child.name.startswith(_PARTIAL_PREFIXES):
                shutil.rmtree(child, ignore_errors=True)


def check_checkpoint(path: Path) -> Path:
    """Return ``path`` if it is a complete training checkpoint, else raise ``ValueError`` saying what is wrong."""
    if not (path / COMPLETE_MARKER).is_file():
        raise ValueError(f"{path}: truncated checkpoint (no {COMPLETE_MARKER} marker: its save was interrupted); "
                         "resume from an earlier one or pass the run directory to take the latest complete one")
    needed = ["unet/config.json", "unet/diffusion_pytorch_model.safetensors", "unet_raw/config.json",
              "unet_raw/diffusion_pytorch_model.safetensors", "train_config.json"] + [
        f"training_state/{name}.json" for name in STATE_NAMES]
    missing = [name for name in needed if not (path / name).is_file()]
    if missing:
        raise ValueError(f"{path}: not a resumable training checkpoint, missing {', '.join(missing)}")
    return path


def resolve_resume(resume: str, run_dir: Path) -> Path | None:
    """The checkpoint that ``--resume`` names.

    ``"latest"``: the newest complete checkpoint of ``run_dir`` whose files read back, or ``None`` when the run
    has no complete checkpoint yet (a fresh start). Otherwise a checkpoint directory (used as is: a damaged
    file is a :class:`~posegraph.pipelines.checkpoints.CorruptCheckpointError` naming it and the checkpoint to
    use), or a run directory whose newest complete checkpoint that reads back is taken.

    Raises:
        ValueError: every complete checkpoint of the run is damaged (the message names the newest one's file).
    """
    if resume == "latest":
        return _newest_readable(run_dir) if complete_checkpoints(run_dir) else None
    path = Path(resume)
    if not path.is_dir():
        raise FileNotFoundError(f"--resume {resume}: no such directory; pass 'latest', a run directory or "
                                "RUN_DIR/checkpoints/step_N")
    if (path / "checkpoints").is_dir():
        if not complete_checkpoints(path):
            found = ", ".join(sorted(c.name for c in (path / "checkpoints").iterdir())) or "nothing"
            raise FileNotFoundError(f"{path / 'checkpoints'}: no complete checkpoint (found: {found})")
        return _newest_readable(path)
    check_checkpoint(path)
    damaged = unreadable_file(path)
    if damaged is not None:
        raise corrupt_checkpoint_error(damaged[0], path, f"it does not read back: {damaged[1]}")
    return path


def _newest_readable(run_dir: Path) -> Path:
    """The newest complete checkpoint of ``run_dir`` whose files read back; damaged newer ones are skipped with
    a warning. Raises ``CorruptCheckpointError`` when none reads back."""
    checkpoints = complete_checkpoints(run_dir)
    first_error = None
    for checkpoint in reversed(checkpoints):
        try:
            damaged = unreadable_file(check_checkpoint(checkpoint))
        except ValueError as error:  # a file missing
            damaged = (checkpoint, str(error).removeprefix(f"{checkpoint}: "))
        if damaged is None:
            if first_error is not None:
                logger.warning("%s: corrupt file (%s); resuming from the previous complete checkpoint %s instead",
                               first_error[0], first_error[1], checkpoint)
            return checkpoint
        first_error = first_error or damaged
    raise corrupt_checkpoint_error(first_error[0], checkpoints[-1], f"it does not read back: {first_error[1]}")
