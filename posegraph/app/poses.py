"""What the web app does, without the web page: load a checkpoint, check a request, sample, write the files.

:class:`PoseMaker` holds a :class:`~posegraph.pipelines.PoseGraphPipeline` (or the reason there is none) and
turns one request from the page into a :class:`PoseBatch`: for pose ``i`` a ControlNet-ready OpenPose image
``pose_{i:04d}.png`` and its OpenPose JSON ``pose_{i:04d}_keypoints.json``, plus ``poses.json`` (the format
``python -m posegraph.sample`` writes) and ``poses.zip`` holding all of them.

Everything a user can get wrong (an empty prompt, a count over the server's limit, no checkpoint or one that
failed to load) raises :class:`RequestError` with a message meant for the page; nothing here needs gradio,
so the checks are tested without a browser.
"""
from __future__ import annotations

import json
import logging
import math
import numbers
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from posegraph.io import write_openpose_json
from posegraph.pipelines import (DEFAULT_GUIDANCE_SCALE, DEFAULT_INFERENCE_STEPS, DEFAULT_SCHEDULER, SCHEDULERS,
                                 PoseGraphPipeline)
from posegraph.render import draw_openpose, save_png

__all__ = ["PoseMaker", "PoseBatch", "RequestError", "NO_CHECKPOINT_MESSAGE", "DEMO_COMMAND"]

logger = logging.getLogger(__name__)

#: README command 1: trains the checkpoint the app serves by default.
#: The one scheduler choice of a distilled checkpoint: its own LCM scheduler.
DISTILLED_SCHEDULER = "lcm (distilled)"
DEMO_COMMAND = "bash scripts/setup.sh && HF_HUB_OFFLINE=1 .venv/bin/python -m posegraph.demo"
NO_CHECKPOINT_MESSAGE = (
    "No checkpoint is loaded, so there is nothing to draw poses with. Train the demo model (about 14 minutes "
    f"on 2 CPU cores) with `{DEMO_COMMAND}`, then start the app on it: "
    "`python -m posegraph.app --checkpoint runs/demo` (any training run, checkpoint or saved pipeline works)."
)
MAX_PROMPT_CHARACTERS = 1000
MIN_CANVAS = 64


class RequestError(ValueError):
    """A request the app cannot serve; the message says why in words meant for the page."""


@dataclass
class PoseBatch:
    """The poses of one request and their files (pose ``i`` is ``images[i]`` / ``jsons[i]`` / ``records[i]``).

    Attributes:
        directory: the folder holding every file below.
        images: ControlNet-ready OpenPose PNGs, ``width`` x ``height``.
        jsons: the poses as OpenPose JSON (read them back with :func:`posegraph.io.read_openpose_json`).
        archive: ``poses.zip``: the PNGs, the JSON files and ``poses.json``.
        records: ``poses.json`` entries ``{"prompt", "seed", "index", "width", "height", "keypoints"}``
            (COCO-17 ``[x, y, v] * 17`` in canvas pixels), as ``python -m posegraph.sample`` writes them.
        seconds: time spent sampling (text encoding and denoising), without writing the files.
    """

    directory: Path
    images: list[Path]
    jsons: list[Path]
    archive: Path
    records: list[dict]
    seconds: float
    keypoints: torch.Tensor = field(repr=False)  #: ``(num_poses, 17, 3)`` in canvas pixels

    def caption(self, index: int) -> str:
        """The gallery caption of pose ``index``: its number and its seed (which draws it again)."""
        return f"#{index + 1} · seed {self.records[index]['seed']}"


class PoseMaker:
    """Checks requests and draws poses with one pipeline; holds the reason when there is no pipeline.

    Args:
        pipeline: the loaded pipeline, or ``None``.
        problem: why there is no pipeline (shown in the page and returned for every request); default
            :data:`NO_CHECKPOINT_MESSAGE` when ``pipeline`` is ``None``.
        max_poses: the most poses one request may ask for.
        max_steps: the most denoising steps one request may ask for.
        max_canvas: the largest canvas side in pixels.
        out_dir: where each request's folder is made; default a temporary folder removed by :meth:`close`.
        keep_batches: how many request folders are kept before the oldest is deleted (the page has its own
            copies of what it shows).
    """

    def __init__(self, pipeline: PoseGraphPipeline | None = None, *, problem: str | None = None,
                 max_poses: int = 64, max_steps: int = 100, max_canvas: int = 2048, out_dir=None,
                 keep_batches: int = 32):
        self.pipeline = pipeline
        self.problem = None if pipeline is not None else problem or NO_CHECKPOINT_MESSAGE
        self.max_poses, self.max_steps, self.max_canvas = max_poses, max_steps, max_canvas
        self._own_dir = out_dir is None
        self.out_dir = Path(tempfile.mkdtemp(prefix="posegraph-app-")) if out_dir is None else Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.keep_batches = keep_batches
        self._batches: list[Path] = []
        if pipeline is not None:
            pipeline.set_progress_bar_config(desc="sampling", leave=False)

    @classmethod
    def from_checkpoint(cls, checkpoint, device: str | None = None, autocast: str | None = None,
                        **options) -> "PoseMaker":
        """Load ``checkpoint`` (a run, a checkpoint or a saved pipeline); never raises for a bad one.

        A checkpoint that fails to load gives a maker whose :attr:`problem` says what went wrong, so the
        server still starts and the page shows the message.
        """
        if checkpoint is None:
            return cls(None, **options)
        try:
            pipeline = PoseGraphPipeline.from_pretrained(checkpoint, device=device)
            if autocast:
                pipeline.enable_autocast(autocast)
        except Exception as error:  # noqa: BLE001 - any failure becomes the page's message
            logger.exception("could not load the checkpoint %s", checkpoint)
            problem = (f"Could not load the checkpoint `{checkpoint}`: {_one_line(error)}. Give `--checkpoint` a "
                       f"training run directory, a checkpoint or a saved pipeline; to train one, run `{DEMO_COMMAND}`.")
            return cls(None, problem=problem, **options)
        return cls(pipeline, **options)

    @property
    def ready(self) -> bool:
        return self.pipeline is not None

    @property
    def distilled(self) -> bool:
        """The checkpoint is a consistency-distilled student: its own LCM scheduler, its guidance folded in."""
        return self.pipeline is not None and bool(self.pipeline.config.distilled_steps)

    @property
    def schedulers(self) -> list[str]:
        """The scheduler choices the checkpoint takes."""
        return [DISTILLED_SCHEDULER] if self.distilled else list(SCHEDULERS)

    @property
    def default_scheduler(self) -> str:
        return DISTILLED_SCHEDULER if self.distilled else DEFAULT_SCHEDULER

    @property
    def default_steps(self) -> int:
        return self.pipeline.default_inference_steps if self.pipeline is not None else DEFAULT_INFERENCE_STEPS

    @property
    def default_guidance(self) -> float:
        return self.pipeline.default_guidance_scale if self.pipeline is not None else DEFAULT_GUIDANCE_SCALE

    def warm_up(self) -> None:
        """Draw one pose in two steps, so the first real request does not pay for lazy initialisation."""
        if self.pipeline is not None:
            self.pipeline("a person standing", num_inference_steps=2, generator=0, canvas_size=MIN_CANVAS,
                          return_heatmaps=False)

    def make(self, prompt: str, negative_prompt: str = "", num_poses=8, seed=0, steps=None,
             scheduler: str | None = None, guidance_scale=None, width=512, height=512) -> PoseBatch:
        """Check a request, draw its poses and write their files.

        Args:
            prompt: what the person does; must not be empty.
            negative_prompt: what to steer away from (replaces the unconditional prompt under guidance);
                empty for none.
            num_poses: 1 to :attr:`max_poses`.
            seed: pose ``i`` uses seed ``seed + i``; ``-1`` (or ``None``) draws random seeds.
            steps: denoising steps, 1 to :attr:`max_steps` (``None``: :attr:`default_steps`).
            scheduler: one of :attr:`schedulers` (``None``: :attr:`default_scheduler`).
            guidance_scale: classifier-free guidance, 0 to 30 (``<= 1`` turns it off; at most 1 for a distilled
                checkpoint; ``None``: :attr:`default_guidance`).
            width, height: canvas size in pixels, 64 to :attr:`max_canvas`.

        Raises:
            RequestError: the request cannot be served; the message says why.
        """
        if self.pipeline is None:
            raise RequestError(self.problem)
        prompt = _text(prompt, "prompt")
        if not prompt:
            raise RequestError("Type a prompt first: what should the person do? For example "
                               "\"a woman waving her left hand\".")
        negative_prompt = _text(negative_prompt, "negative prompt")
        num_poses = _whole(num_poses, "number of poses", 1, self.max_poses, "--max-poses")
        steps = _whole(self.default_steps if steps is None else steps, "steps", 1, self.max_steps, "--max-steps")
        scheduler = self.default_scheduler if scheduler is None else scheduler
        guidance_scale = self.default_guidance if guidance_scale is None else guidance_scale
        width = _whole(width, "canvas width", MIN_CANVAS, self.max_canvas, None)
        height = _whole(height, "canvas height", MIN_CANVAS, self.max_canvas, None)
        seed = None if seed is None or seed == -1 else _whole(seed, "seed", 0, 2**62, None)
        if scheduler not in self.schedulers:
            raise RequestError(f"Unknown scheduler {scheduler!r}: choose one of {', '.join(self.schedulers)}.")
        if (not isinstance(guidance_scale, numbers.Real) or isinstance(guidance_scale, bool)
                or not math.isfinite(guidance_scale) or not 0 <= guidance_scale <= 30):
            raise RequestError(f"Guidance must be a number from 0 to 30, got {guidance_scale!r}.")
        if self.distilled:
            if guidance_scale > 1:
                raise RequestError("This checkpoint is distilled with its guidance folded into the model: set "
                                   "Guidance to 1 or less.")
            scheduler = None  # its own LCMScheduler

        start = time.perf_counter()
        try:
            output = self.pipeline(prompt, num_poses_per_prompt=num_poses, guidance_scale=float(guidance_scale),
                                   negative_prompt=(negative_prompt or None) if guidance_scale > 1 else None,
                                   num_inference_steps=steps, scheduler=scheduler, generator=seed,
                                   canvas_size=(height, width), return_heatmaps=False)
        except ValueError as error:  # the pipeline's checks before sampling: a step count the scheduler cannot serve
            raise RequestError(f"{error}.") from None
        seconds = time.perf_counter() - start
        return self._write(output, width, height, seconds)

    def _write(self, output, width: int, height: int, seconds: float) -> PoseBatch:
        directory = Path(tempfile.mkdtemp(prefix="poses-", dir=self.out_dir))
        images, jsons, records = [], [], []
        for index, (prompt, seed, keypoints, confidence) in enumerate(
                zip(output.prompts, output.seeds, output.keypoints, output.confidence)):
            skeleton = self.pipeline.skeleton
            images.append(save_png(draw_openpose(keypoints, (height, width), (height, width), skeleton=skeleton),
                                   directory / f"pose_{index:04d}.png"))
            jsons.append(write_openpose_json(directory / f"pose_{index:04d}_keypoints.json", keypoints,
                                             (height, width), confidence=confidence, skeleton=skeleton))
            flat = [value for x, y, v in keypoints.tolist() for value in (round(x, 3), round(y, 3), int(v))]
            records.append({"prompt": prompt, "seed": seed, "index": index, "width": width, "height": height,
                            "keypoints": flat})
        poses_json = directory / "poses.json"
        poses_json.write_text("[\n" + ",\n".join(json.dumps(record) for record in records) + "\n]\n")
        archive = directory / "poses.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
            for path in [*images, *jsons, poses_json]:
                zipped.write(path, path.name)
        self._remember(directory)
        return PoseBatch(directory, images, jsons, archive, records, seconds, output.keypoints)

    def _remember(self, directory: Path) -> None:
        self._batches.append(directory)
        while len(self._batches) > self.keep_batches:
            shutil.rmtree(self._batches.pop(0), ignore_errors=True)

    def close(self) -> None:
        """Delete the request folders (and the output folder when the maker made it)."""
        for directory in self._batches:
            shutil.rmtree(directory, ignore_errors=True)
        self._batches.clear()
        if self._own_dir:
            shutil.rmtree(self.out_dir, ignore_errors=True)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 500 else text[:497] + "..."


def _text(value, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RequestError(f"The {what} must be text, got {type(value).__name__}.")
    value = " ".join(value.split())
    if len(value) > MAX_PROMPT_CHARACTERS:
        raise RequestError(f"The {what} is {len(value)} characters long; keep it under {MAX_PROMPT_CHARACTERS} "
                           "(the text encoder reads only the first few dozen words anyway).")
    return value


def _whole(value, what: str, low: int, high: int, flag: str | None) -> int:
    """``value`` as an int in ``[low, high]``, or a RequestError that names the limit (and the flag raising it)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or value != int(value):
        raise RequestError(f"The {what} must be a whole number, got {value!r}.")
    value = int(value)
    if not low <= value <= high:
        raised = f" (the server's limit; start it with {flag} N to change it)" if flag else ""
        raise RequestError(f"The {what} must be from {low} to {high}{raised}, got {value}.")
    return value
