"""Find the pipeline directory to load: a saved pipeline, a training checkpoint, or a training run.

Layout (written by ``PoseGraphPipeline.save_pretrained`` and by ``python -m posegraph.train``)::

    RUN_DIR/checkpoints/step_000123/     one checkpoint; a saved pipeline has the same files
        unet/                            GUNet.save_pretrained: config.json + safetensors (EMA weights)
        scheduler/scheduler_config.json  the training noise schedule
        text_encoder.json                {"name_or_path", "max_length"}: the frozen encoder, by reference
        COMPLETE                         written last: a directory without it is a truncated save

Training state files beside these (optimiser, EMA, RNG, ``train_config.json``) are ignored here.

The paper authors' released model is a diffusers folder of another layout, loaded as it is::

    RELEASE/
        unet/                            config.json (_class_name "GUNet2DConditionModel") + safetensors
        text_encoder/, tokenizer/        CLIP-L, padded to its 77 positions
        scheduler/scheduler_config.json  the noise schedule it was trained with

A damaged file (a safetensors file cut short or overwritten, a JSON file that does not parse) is a
:class:`CorruptCheckpointError` whose message names the file and the newest earlier checkpoint of the same
run whose files read back (:func:`unreadable_file`, :func:`newest_good_checkpoint`).
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from diffusers.utils.constants import CONFIG_NAME, SAFETENSORS_WEIGHTS_NAME

__all__ = ["COMPLETE_MARKER", "REQUIRED_FILES", "CorruptCheckpointError", "resolve_pipeline_dir", "latest_checkpoint",
           "is_upstream_release", "upstream_text_encoder_reference", "unreadable_file", "newest_good_checkpoint",
           "corrupt_checkpoint_error"]

logger = logging.getLogger(__name__)

COMPLETE_MARKER = "COMPLETE"
REQUIRED_FILES = (
    f"unet/{CONFIG_NAME}",
    f"unet/{SAFETENSORS_WEIGHTS_NAME}",
    "scheduler/scheduler_config.json",
    "text_encoder.json",
)
_STEP_DIR = re.compile(r"step_(\d+)")
UPSTREAM_UNET_CLASS = "GUNet2DConditionModel"
UPSTREAM_REQUIRED_FILES = (
    f"unet/{CONFIG_NAME}",
    f"unet/{SAFETENSORS_WEIGHTS_NAME}",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "tokenizer",
)


def resolve_pipeline_dir(path) -> Path:
    """The complete pipeline directory that ``path`` names.

    ``path`` is a saved pipeline or a checkpoint (``.../checkpoints/step_N``), used as is, or a
    training run directory (one holding ``checkpoints/``), whose latest complete checkpoint is taken.

    Raises:
        FileNotFoundError: ``path`` does not exist, holds no pipeline, or a run holds no complete checkpoint.
        ValueError: a truncated pipeline or checkpoint (no ``COMPLETE`` marker, or files missing).
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(
            f"{path}: no such directory; pass a directory written by PoseGraphPipeline.save_pretrained, "
            "a training checkpoint (RUN_DIR/checkpoints/step_N) or a training run directory (RUN_DIR)"
        )
    if (path / "checkpoints").is_dir():
        path = latest_checkpoint(path / "checkpoints")
    present = [name for name in REQUIRED_FILES if (path / name).is_file()]
    if not present and not (path / COMPLETE_MARKER).exists():
        raise FileNotFoundError(
            f"{path}: not a pipeline, checkpoint or run directory (expected {', '.join(REQUIRED_FILES)} and "
            f"{COMPLETE_MARKER}, or a checkpoints/ folder)"
        )
    if not (path / COMPLETE_MARKER).exists():
        raise ValueError(
            f"{path}: truncated checkpoint (no {COMPLETE_MARKER} marker: the save was interrupted or the copy "
            "is partial); use an earlier checkpoint, or the run directory to take its latest complete one"
        )
    missing = [name for name in REQUIRED_FILES if name not in present]
    if missing:
        raise ValueError(f"{path}: truncated checkpoint, missing {', '.join(missing)}")
    return path


def latest_checkpoint(checkpoints_dir) -> Path:
    """The ``step_N`` folder of ``checkpoints_dir`` with the highest N that has a ``COMPLETE`` marker.

    Newer incomplete folders (a save that was interrupted) are skipped with a warning.
    """
    checkpoints_dir = Path(checkpoints_dir)
    steps = sorted(
        (int(match.group(1)), child)
        for child in checkpoints_dir.iterdir()
        if child.is_dir() and (match := _STEP_DIR.fullmatch(child.name))
    )
    for _, checkpoint in reversed(steps):
        if (checkpoint / COMPLETE_MARKER).exists():
            return checkpoint
        logger.warning("skipping %s: no %s marker (an interrupted save)", checkpoint, COMPLETE_MARKER)
    found = ", ".join(child.name for _, child in steps) or "no step_N folders"
    raise FileNotFoundError(f"{checkpoints_dir}: no complete checkpoint (found: {found})")


class CorruptCheckpointError(ValueError):
    """A checkpoint file cannot be read back, or does not fit the model its config describes.

    Attributes:
        path: the damaged file.
        good: the newest earlier checkpoint of the same run whose files read back, or ``None``.
    """

    def __init__(self, message: str, path: Path, good: Path | None = None):
        super().__init__(message)
        self.path, self.good = Path(path), good


def unreadable_file(directory, patterns=("**/*.json", "**/*.safetensors")) -> tuple[Path, str] | None:
    """The first file under ``directory`` that does not read back, with the reason, or ``None``.

    Cheap: a JSON file must parse and a safetensors file's header must parse and cover the whole file
    (which catches a file cut short or overwritten with other bytes); tensor values are not read.
    """
    from safetensors import safe_open

    directory = Path(directory)
    for pattern in patterns:
        for file in sorted(directory.glob(pattern)):
            try:
                if file.suffix == ".json":
                    json.loads(file.read_text(encoding="utf-8"))
                else:
                    with safe_open(file, "pt") as handle:
                        handle.keys()
            except Exception as error:  # OSError, ValueError, or safetensors' SafetensorError (an Exception)
                return file, str(error)
    return None


def newest_good_checkpoint(checkpoint) -> Path | None:
    """The newest complete ``step_N`` sibling of ``checkpoint`` older than it whose files read back, or ``None``."""
    checkpoint = Path(checkpoint)
    match = _STEP_DIR.fullmatch(checkpoint.name)
    if match is None or not checkpoint.parent.is_dir():
        return None
    step = int(match.group(1))
    older = sorted(
        (int(m.group(1)), child) for child in checkpoint.parent.iterdir()
        if (m := _STEP_DIR.fullmatch(child.name)) and int(m.group(1)) < step and (child / COMPLETE_MARKER).is_file()
    )
    for _, candidate in reversed(older):
        if unreadable_file(candidate) is None:
            return candidate
    return None


def corrupt_checkpoint_error(file, checkpoint, reason: str, kind: str = "corrupt") -> CorruptCheckpointError:
    """The error for a damaged ``file`` of ``checkpoint``: what is wrong and the checkpoint to use instead."""
    good = newest_good_checkpoint(checkpoint)
    advice = (f"use the earlier checkpoint {good}" if good is not None
              else "no earlier checkpoint of this run reads back: copy the checkpoint again or train anew")
    return CorruptCheckpointError(f"{file}: {kind} file ({reason}); {advice}", Path(file), good)


def is_upstream_release(path) -> bool:
    """Whether ``path`` is the paper authors' released diffusers folder (its ``unet/config.json`` names their
    ``GUNet2DConditionModel``).

    Raises:
        ValueError: such a folder with files missing (the message names them; weights stored only as pickled
            ``.bin`` files are refused: posegraph unpickles nothing).
    """
    config = Path(path) / "unet" / CONFIG_NAME
    if not config.is_file():
        return False
    try:
        class_name = json.loads(config.read_text()).get("_class_name")
    except (json.JSONDecodeError, AttributeError):
        return False
    if class_name != UPSTREAM_UNET_CLASS:
        return False
    missing = [name for name in UPSTREAM_REQUIRED_FILES if not (Path(path) / name).exists()]
    if missing:
        hint = ""
        if f"unet/{SAFETENSORS_WEIGHTS_NAME}" in missing and any((Path(path) / "unet").glob("*.bin")):
            hint = ("; the unet's weights are a pickled .bin file, which posegraph does not load: save them as "
                    f"unet/{SAFETENSORS_WEIGHTS_NAME} with a tool you trust")
        raise ValueError(f"{path}: a {UPSTREAM_UNET_CLASS} release folder, but {', '.join(missing)} missing{hint}")
    return True


def upstream_text_encoder_reference(path) -> dict:
    """The :class:`~posegraph.text.TextEncoder` reference (``text_encoder.json`` contents) of a released folder:
    the folder itself, every prompt padded to the encoder's full length (77 for CLIP-L), as the release encodes."""
    path = Path(path)
    limits = [json.loads((path / "text_encoder" / CONFIG_NAME).read_text()).get("max_position_embeddings")]
    tokenizer_config = path / "tokenizer" / "tokenizer_config.json"
    if tokenizer_config.is_file():
        limits.append(json.loads(tokenizer_config.read_text()).get("model_max_length"))
    limits = [int(n) for n in limits if isinstance(n, (int, float)) and n < 1_000_000]
    return {"name_or_path": str(path), "max_length": min(limits) if limits else 77}
