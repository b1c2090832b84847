"""PoseGraphPipeline: text prompts -> keypoints and heatmaps by classifier-free-guided diffusion."""
from __future__ import annotations

import copy
import inspect
import json
import logging
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from diffusers import DiffusionPipeline
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from diffusers.utils import BaseOutput
from diffusers.utils.torch_utils import randn_tensor

from posegraph.data.captions import names_side
from posegraph.data.sides import mirror_to_canonical
from posegraph.heatmaps import (denormalize_heatmaps, flip_heatmaps, heatmaps_to_keypoints, keypoints_to_heatmaps,
                                lowest_regions_to_keypoints, normalize_heatmaps)
from posegraph.models import GUNet, UpstreamGUNet
from posegraph.models.upstream import UPSTREAM_CLASS_NAMES
from posegraph.pipelines.checkpoints import (COMPLETE_MARKER, corrupt_checkpoint_error, is_upstream_release,
                                             resolve_pipeline_dir, unreadable_file, upstream_text_encoder_reference)
from posegraph.pipelines.control import as_float_tensor, check_keypoints, check_strength, keep_mask
from posegraph.pipelines.limits import (POSE_BYTES, check_canvas_size, check_inference_steps, check_request_memory,
                                        check_seed_range)
from posegraph.pipelines.schedulers import load_scheduler, make_scheduler, predicted_clean
from posegraph.skeleton import Skeleton
from posegraph.text import TextEncoder

__all__ = ["PoseGraphPipeline", "PoseGraphPipelineOutput", "DEFAULT_GUIDANCE_SCALE", "DEFAULT_GUIDANCE_INTERVAL",
           "DEFAULT_INFERENCE_STEPS", "guided_at"]

logger = logging.getLogger(__name__)

#: Classifier-free guidance used wherever a caller does not choose one (pipeline, sample, evaluate, demo,
#: training grids): the best of 3 / 4 / 5 / 6 / 7 for the trained ``cpu`` preset (README, Results).
DEFAULT_GUIDANCE_SCALE = 5.0
#: The training timesteps ``(low, high)`` at which guidance applies wherever a caller does not choose: the
#: steps below ``low`` refine a pose already chosen, and guiding them pushes its joints past the data's
#: range, where the weakest fade out (Kynkaenniemi et al. 2024 find guidance best kept to an interval, too).
DEFAULT_GUIDANCE_INTERVAL = (600, 1000)
#: Denoising steps wherever a caller does not choose them (a distilled checkpoint: the steps it was distilled for).
#: 10 DPM-Solver++ steps follow prompts as well as 20 on the trained cpu preset and keep more limb joints: the
#: last low-noise steps of a longer run let the weakest joints' maps fade (benchmarks/RESULTS.md).
DEFAULT_INFERENCE_STEPS = 10
#: The scheduler the command lines and the app sample with when none is named (a distilled checkpoint: its own
#: LCMScheduler, see :attr:`PoseGraphPipeline.default_scheduler`).
DEFAULT_SCHEDULER = "dpm-solver++"

_SEED_RANGE = 2**62
#: The random stream, beside a pose's noise, that draws whether it is mirrored (``canonical_side``).
_MIRROR_STREAM = 0x5EED


@dataclass
class PoseGraphPipelineOutput(BaseOutput):
    """What :class:`PoseGraphPipeline` returns, poses in prompt order (all poses of prompt 0 first).

    Attributes:
        keypoints: ``(num_poses, K, 3)`` float32 CPU tensor of ``(x, y, v)`` rows in canvas pixels, in the
            order of the model's skeleton (``pipeline.skeleton``; COCO-17 unless it was trained on another layout,
            ``K`` its joints); ``v`` is 2 where the decoder finds the joint (a GUNet: the heatmap peak reaches the
            decoder threshold; the released upstream model: its lowest region is large enough), else 0.
        confidence: ``(num_poses, K)`` float32 CPU tensor: each joint's heatmap peak value (the released
            upstream model: the mean of its ``[0, 1]`` heatmap over the joint's region).
        heatmaps: ``(num_poses, K, S, S)`` float32 CPU tensor in ``[0, 1]`` when asked for
            (``return_heatmaps=True``), else ``None``.
        prompts: the prompt of each pose.
        seeds: each pose's seed; ``pipe(prompts[i], generator=seeds[i])`` draws that pose again.
    """

    keypoints: torch.Tensor
    confidence: torch.Tensor
    heatmaps: torch.Tensor | None
    prompts: list[str]
    seeds: list[int]


class PoseGraphPipeline(DiffusionPipeline):
    """Text -> 2D pose skeletons: a GUNet denoises one heatmap per joint of its skeleton (``K`` = 17 for COCO-17),
    conditioned on a frozen text encoder.

    Components (diffusers' registered modules: ``components``, ``to``, ``device``, progress bars and offloading
    come from ``DiffusionPipeline``):
        unet: :class:`posegraph.models.GUNet`, or :class:`posegraph.models.UpstreamGUNet` (the paper authors'
            released model, whose heatmaps are decoded the way their code does).
        scheduler: any diffusers scheduler; its config is the training noise schedule that samplers
            chosen by name start from.
        text_encoder: :class:`posegraph.text.TextEncoder`, kept as a reference (its ``to_config()``, written to
            ``text_encoder.json``) rather than as saved weights: it is a public pretrained encoder that training
            never changes, so every checkpoint would otherwise carry the same weights again (the default
            MiniLM is seven times the ``cpu`` preset's unet), and the reference names exactly the encoder the
            unet was trained against. ``model_index.json`` therefore lists it as not saved (``[null, null]``).

    Config:
        heatmap_sigma: the Gaussian width in heatmap pixels of the training heatmaps (``TrainConfig.sigma``),
            used to draw given poses (``keypoints=``, ``init_keypoints=``) as the model saw poses in training.
        canonical_side: the unet was trained with every pose whose caption names no side mirrored into its
            canonical orientation (``TrainConfig.canonical_side``, :mod:`posegraph.data.sides`). Each pose of a
            prompt that names no side is then drawn in that orientation and mirrored with probability 1/2 (a
            draw of its seed), so both mirror images come out in equal shares; a given pose (``keypoints=``,
            ``init_keypoints=``) is mirrored into the canonical orientation before sampling and the result
            mirrored back.
        distilled_steps: set when the unet is a consistency-distilled student (``python -m posegraph.distill``):
            the step count it was distilled for. Its scheduler is then the stored ``LCMScheduler``, one unet
            forward a step with the teacher's guidance folded in; a call that names no steps takes this many, and
            asking it for guidance or a named scheduler is an error. ``None``: a diffusion unet.

    ``save_pretrained`` is diffusers' (``unet/`` as safetensors and config, ``scheduler/``, ``model_index.json``)
    plus the text encoder's reference and a ``COMPLETE`` marker: the layout of a training checkpoint.
    ``from_pretrained`` is posegraph's own, because what it loads is more than diffusers' folder layout: a
    saved pipeline, a training checkpoint (no ``model_index.json``), a whole training run directory (its latest
    complete checkpoint) or the paper authors' released diffusers folder, each file checked before anything is
    built so that a damaged one is named.

    Pose control (see :meth:`__call__`): keep some joints of a given pose and generate the rest
    (``keypoints=``, ``keep=``), edit a pose under a new prompt (``init_keypoints=``, ``strength=``), or both;
    several people on one canvas: :func:`posegraph.compose.compose_people`.

    Speed options that pay on a GPU (accepted on a CPU too, where they may or may not help): a half-precision
    unet (``torch_dtype`` / ``.to(dtype=...)``), :meth:`enable_autocast`, :meth:`enable_channels_last` and
    :meth:`enable_compile`. None of them is saved with the pipeline.
    """

    model_cpu_offload_seq = "unet"
    _optional_components = ["text_encoder"]  # held by reference: diffusers' save_pretrained leaves it out

    def __init__(self, unet: GUNet | UpstreamGUNet, scheduler: SchedulerMixin, text_encoder: TextEncoder,
                 heatmap_sigma: float = 2.0, canonical_side: bool = False, distilled_steps: int | None = None):
        super().__init__()
        if isinstance(heatmap_sigma, bool) or not isinstance(heatmap_sigma, numbers.Real) or not heatmap_sigma > 0:
            raise ValueError(f"PoseGraphPipeline: heatmap_sigma must be a positive number, got {heatmap_sigma!r}")
        if distilled_steps is not None:
            _check_positive(distilled_steps=distilled_steps)
        self.register_modules(unet=unet, scheduler=scheduler, text_encoder=None)  # None: no saved text encoder
        self.text_encoder = text_encoder
        self.register_to_config(heatmap_sigma=float(heatmap_sigma), canonical_side=bool(canonical_side),
                                distilled_steps=distilled_steps)
        self._autocast_dtype: torch.dtype | None = None
        self._memory_format = torch.contiguous_format

    @property
    def skeleton(self) -> Skeleton:
        """The joint layout of the poses (the unet's): heatmap channel ``k`` and keypoint row ``k`` are its joint ``k``."""
        return self.unet.skeleton

    @property
    def default_scheduler(self) -> str | None:
        """The ``scheduler`` to sample with when a caller names none: :data:`DEFAULT_SCHEDULER`, or ``None`` (its
        own ``LCMScheduler``) for a distilled checkpoint, which takes no named scheduler."""
        return None if self.config.distilled_steps else DEFAULT_SCHEDULER

    @property
    def default_inference_steps(self) -> int:
        """Steps when a caller chooses none: :data:`DEFAULT_INFERENCE_STEPS`, or a distilled checkpoint's own."""
        return self.config.distilled_steps or DEFAULT_INFERENCE_STEPS

    @property
    def default_guidance_scale(self) -> float:
        """Guidance when a caller chooses none: :data:`DEFAULT_GUIDANCE_SCALE`, or off (1) for a distilled
        checkpoint, whose teacher's guidance is folded into its unet."""
        return 1.0 if self.config.distilled_steps else DEFAULT_GUIDANCE_SCALE

    def enable_autocast(self, dtype: torch.dtype | str = torch.bfloat16) -> None:
        """Run the unet under ``torch.autocast`` in ``dtype`` on its device: convolutions, attention and linear
        layers in half precision, the weights, the scheduler and the outputs in float32.

        Args:
            dtype: ``torch.bfloat16`` / ``"bf16"`` (GPUs since Ampere, CPUs with AVX512-BF16 or AMX) or
                ``torch.float16`` / ``"fp16"`` (GPUs).
        """
        dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16, torch.bfloat16: torch.bfloat16,
                  torch.float16: torch.float16}
        if dtype not in dtypes:
            raise ValueError(f"enable_autocast: dtype must be torch.bfloat16 ('bf16') or torch.float16 ('fp16'), "
                             f"got {dtype!r}")
        self._autocast_dtype = dtypes[dtype]

    def disable_autocast(self) -> None:
        """Run the unet in its own dtype again."""
        self._autocast_dtype = None

    def enable_channels_last(self) -> None:
        """Store the unet's convolution weights and feed it samples in ``torch.channels_last`` memory format
        (NHWC: what cuDNN's tensor-core convolutions and oneDNN prefer). Outputs are unchanged."""
        self.unet.to(memory_format=torch.channels_last)
        self._memory_format = torch.channels_last

    def enable_compile(self, **compile_kwargs) -> None:
        """Compile the unet's forward with ``torch.compile`` (in place: ``self.unet`` stays a :class:`GUNet`,
        its ``state_dict`` and ``save_pretrained`` unchanged).

        The first call of each new batch shape pays the compilation (minutes for the paper preset). Keyword
        arguments go to ``torch.compile``, e.g. ``mode="max-autotune"``, or ``mode="reduce-overhead"`` for
        CUDA graphs on a GPU. To undo, load the pipeline again.

        PyG's sparse GCN adds self-loops with ``nonzero`` (an output shape that depends on the data), where
        dynamo breaks the graph, once per graph block; ``torch._dynamo.config.capture_dynamic_output_shape_ops
        = True`` (process-wide) traces through it and gives one graph.
        """
        self.unet.compile(**compile_kwargs)

    @torch.inference_mode()
    def __call__(
        self,
        prompt: str | list[str],
        num_poses_per_prompt: int = 1,
        guidance_scale: float | None = None,
        guidance_interval: tuple[int, int] | str | None = "auto",
        negative_prompt: str | list[str] | None = None,
        num_inference_steps: int | None = None,
        scheduler: str | SchedulerMixin | None = None,
        generator: torch.Generator | int | None = None,
        canvas_size: int | tuple[int, int] = 512,
        batch_size: int = 64,
        return_heatmaps: bool = False,
        return_dict: bool = True,
        keypoints=None,
        keep=None,
        init_keypoints=None,
        strength: float | None = None,
        resample: int = 1,
    ) -> PoseGraphPipelineOutput | tuple:
        """Draw poses for one prompt or a list; optionally keep some joints of a given pose or edit a pose.

        Keeping joints (``keypoints=``, ``keep=``) is inpainting over the joint axis: joint ``k`` is heatmap
        channel ``k``, so the kept joints' channels are drawn as Gaussians (``heatmap_sigma``), mapped to the
        model's value range, and before every denoising step replaced by their copy noised to that step's
        timestep with the scheduler's own ``add_noise`` (always with the same noise, the pose's initial
        noise, so a kept channel follows the trajectory a deterministic sampler would give it): RePaint's
        replacement (Lugmayr et al. 2022), with its resampling as an option (``resample``). The other channels
        are denoised as usual and see the kept ones through the unet's convolutions, attention and
        skeleton-graph blocks, so they are generated to fit them and the prompt. After the last step the kept
        channels are the clean Gaussians, and the kept joints are returned exactly as given. This works with
        every scheduler (``add_noise`` of the multistep solvers reads the step index set by
        ``set_begin_index``; resampling restores the solver's state before taking a step again).

        Editing (``init_keypoints=``, ``strength=``) is image-to-image in diffusers' sense: the given pose is
        noised to the timestep ``strength`` of the way into the schedule and the last
        ``int(num_inference_steps * strength)`` steps denoise it under the prompt. ``strength`` 0 returns
        the given pose, 1 ignores it (pure noise, as without ``init_keypoints``). Both combine: with
        ``keep=`` and no ``keypoints=``, the kept joints are those of ``init_keypoints``.

        Args:
            prompt: a prompt or a list of prompts. The empty prompt ``""`` samples unconditionally (the
                text encoder's null embedding, as in training's text dropout). Prompts longer than the
                encoder's limit are truncated, with a warning.
            num_poses_per_prompt: poses drawn for each prompt.
            guidance_scale: classifier-free guidance weight ``w`` in ``uncond + w * (cond - uncond)``;
                ``<= 1`` turns guidance off (one conditional pass per step). ``None``: :data:`DEFAULT_GUIDANCE_SCALE`,
                or off for a distilled checkpoint (``distilled_steps``), whose guidance is folded into its unet.
            guidance_interval: ``(low, high)``: guide only the steps whose training timestep ``t`` has
                ``low <= t <= high``; the others take one conditional pass. ``None`` guides every step;
                ``"auto"``: :data:`DEFAULT_GUIDANCE_INTERVAL` for poses drawn from noise, every step for edits
                (``init_keypoints`` at ``strength`` below 1), whose few steps all change the given pose towards
                the prompt.
            negative_prompt: replaces the unconditional prompt under guidance; one string or one per prompt.
            num_inference_steps: denoising steps: a count the scheduler turns into that many distinct training
                timesteps (at most the model's ``num_train_timesteps``; see :mod:`posegraph.pipelines.limits`).
                ``None``: :data:`DEFAULT_INFERENCE_STEPS`, or a distilled checkpoint's ``distilled_steps``.
            scheduler: ``"ddpm"``, ``"ddim"``, ``"dpm-solver++"``, ``"unipc"`` (built from the stored
                training scheduler config), a diffusers scheduler object, or ``None`` for the stored one (a
                distilled checkpoint's ``LCMScheduler``; it takes no name).
            generator: an int seed (pose ``i`` then uses seed ``seed + i``), a ``torch.Generator`` that
                draws the per-pose seeds, or ``None`` (torch's global RNG draws them).
            canvas_size: output canvas side, or ``(height, width)``; the square heatmap frame is scaled
                to fit and centred.
            batch_size: poses denoised together; results do not depend on it (up to float rounding). Prompts
                are encoded batch by batch too, so the working memory is bounded by the batch, not the request.
            return_heatmaps: also return the ``(num_poses, K, S, S)`` heatmaps. Off by default: they take
                K * S * S * 4 bytes per pose (70 KB for COCO-17 at S = 32), 250 times what a pose's keypoints take, so
                10,000 prompts would keep 0.7 GB of them.
            return_dict: return a :class:`PoseGraphPipelineOutput` rather than a tuple.
            keypoints: the pose whose ``keep`` joints are held: ``(K, 3)`` for every pose or
                ``(num_prompts, K, 3)`` one per prompt, rows ``(x, y, v)`` of the model's skeleton in canvas pixels
                (torch, numpy or lists). A kept joint with ``v = 0`` stays absent.
            keep: the joints to hold (see :func:`posegraph.pipelines.control.keep_mask`): a body part
                (``"legs"``, ``"arms"``, ``"left_arm"``, ``"right_arm"``, ``"left_leg"``, ``"right_leg"``,
                ``"head"``, ``"torso"``), joint names, a list or comma-separated string of them, or a
                ``(K,)`` boolean mask. Default with ``keypoints``: every joint ``keypoints`` marks present.
            init_keypoints: a pose to edit, in the form of ``keypoints``.
            strength: in ``[0, 1]``, how far the edit may move away from ``init_keypoints``
                (default 0.8 when ``init_keypoints`` is given; an error without it).
            resample: RePaint's resampling when joints are kept: every step but the last is taken
                ``resample`` times, its result noised back to the step's timestep in between (fresh noise),
                so the generated joints can adjust to the kept ones; costs ``resample`` times the unet calls.
                1 (the default) takes each step once.

        Returns:
            :class:`PoseGraphPipelineOutput`, or ``(keypoints, confidence, heatmaps, prompts, seeds)``.

        Raises:
            ValueError / TypeError: bad arguments, each named in the message (keypoints of the wrong shape,
                joint count or outside the canvas, an unknown body part, a keep mask of the wrong length,
                strength outside [0, 1], ...), a step count the scheduler cannot serve, seeds out of range, or
                a request whose results would not fit in the available memory (see
                :mod:`posegraph.pipelines.limits`); each checked before any sampling.
        """
        prompts = _check_prompts(prompt, "prompt")
        if num_inference_steps is None:
            num_inference_steps = self.default_inference_steps
        if guidance_scale is None:
            guidance_scale = self.default_guidance_scale
        _check_positive(num_poses_per_prompt=num_poses_per_prompt, num_inference_steps=num_inference_steps,
                        batch_size=batch_size, resample=resample)
        height, width = check_canvas_size(canvas_size)
        if not isinstance(guidance_scale, numbers.Real) or not math.isfinite(guidance_scale):
            raise TypeError(f"guidance_scale must be a finite number, got {guidance_scale!r}")
        _check_interval(guidance_interval)
        guided = guidance_scale > 1
        if self.config.distilled_steps:
            _check_distilled(scheduler, guided)
        if negative_prompt is not None and not guided:
            logger.warning("negative_prompt has no effect with guidance_scale <= 1")
        negatives = _negatives(negative_prompt, len(prompts)) if guided else []
        scheduler = make_scheduler(scheduler, self.scheduler)
        check_inference_steps(scheduler, num_inference_steps)
        size = self.unet.heatmap_size
        num_poses = len(prompts) * num_poses_per_prompt
        heatmap_bytes = self.unet.config.out_channels * size * size * 4 if return_heatmaps else 0
        check_request_memory(num_poses, POSE_BYTES + heatmap_bytes,
                             "their keypoints" + (" and heatmaps (return_heatmaps=True)" if return_heatmaps else ""))
        if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
            check_seed_range(int(generator), num_poses)
        control = self._check_control(keypoints, keep, init_keypoints, strength, len(prompts), size, height, width)
        if guidance_interval == "auto":
            editing = control["init"] is not None and control["strength"] < 1
            guidance_interval = None if editing else DEFAULT_GUIDANCE_INTERVAL

        pose_prompts = [p for p in prompts for _ in range(num_poses_per_prompt)]
        pose_negatives = _repeat(negatives, num_poses_per_prompt)
        seeds = _pose_seeds(generator, len(pose_prompts))
        device, dtype = self._execution_device, self.unet.dtype

        prompt_of_pose = torch.arange(len(prompts)).repeat_interleave(num_poses_per_prompt)
        mirror = self._mirrors(prompts, seeds, control, prompt_of_pose)
        strength = control["strength"]
        num_steps = _strength_steps(num_inference_steps, strength)
        outputs, confidence, heatmaps = [], [], []
        chunks = range(0, len(pose_prompts), batch_size)
        with self.progress_bar(total=len(chunks) * num_steps) as progress:
            for start in chunks:
                stop = min(start + batch_size, len(pose_prompts))
                chunk = torch.arange(start, stop)
                negatives_here = pose_negatives[start:stop] if guided else []
                embeddings, mask, rows = self.text_encoder.encode_unique(pose_prompts[start:stop] + negatives_here)
                if guided:  # unconditional rows first, as _denoise expects
                    rows = torch.cat([rows[stop - start:], rows[: stop - start]])
                rows = rows.to(device)
                generators = [torch.Generator().manual_seed(seed) for seed in seeds[start:stop]]
                flip = self._mirror(mirror[chunk].to(device))
                init, known = (flip(self._model_heatmaps(control[key], prompt_of_pose[chunk], device))
                               for key in ("init", "known"))
                keep_rows = None if control["keep"] is None else flip(control["keep"].expand(len(chunk), -1))
                sample = self._denoise(scheduler, num_inference_steps, generators, embeddings.to(device, dtype)[rows],
                                       mask.to(device)[rows], guidance_scale if guided else None, guidance_interval,
                                       progress, init=init,
                                       strength=strength, known=known, keep=keep_rows, resample=resample)
                sample = flip(sample)
                chunk_heatmaps, chunk_keypoints, chunk_confidence = self._decode(sample)
                chunk_keypoints = _to_canvas(chunk_keypoints, size, height, width).cpu()
                if control["keep"] is not None:  # kept joints come back exactly as given
                    given = control["given"][prompt_of_pose[chunk] % len(control["given"])]
                    chunk_keypoints = torch.where(control["keep"][:, None], given, chunk_keypoints)
                outputs.append(chunk_keypoints)
                confidence.append(chunk_confidence.cpu())
                if return_heatmaps:
                    heatmaps.append(chunk_heatmaps.cpu())
        self.maybe_free_model_hooks()

        output = (torch.cat(outputs), torch.cat(confidence), torch.cat(heatmaps) if return_heatmaps else None,
                  pose_prompts, seeds)
        return PoseGraphPipelineOutput(*output) if return_dict else output

    def _denoise(self, scheduler, num_inference_steps, generators, text, text_mask, guidance_scale,
                 guidance_interval, progress, init=None, strength=1.0, known=None, keep=None, resample=1):
        """Run the scheduler loop for one chunk of poses.

        Args:
            generators: one CPU generator per pose, drawing its initial and per-step noise.
            text, text_mask: ``(2 * chunk, L, D)`` / ``(2 * chunk, L)`` unconditional rows then conditional
                rows under guidance, else ``(chunk, L, D)`` / ``(chunk, L)``.
            guidance_scale: the guidance weight, or ``None`` for one conditional pass.
            guidance_interval: ``(low, high)``, the timesteps that are guided, or ``None`` (all of them).
            init: ``(chunk, K, S, S)`` clean samples to edit (model range), or ``None``.
            strength: the fraction of the schedule run from ``init`` (1: from pure noise).
            known: ``(chunk, K, S, S)`` clean samples holding the kept channels (model range), or ``None``.
            keep: ``(chunk, K)`` bool, each pose's kept channels, or ``None``.
            resample: with ``keep``, take every step but the last this many times (RePaint's ``r``).

        Returns:
            ``(chunk, K, S, S)`` float32 samples in the model's value range.
        """
        size = self.unet.heatmap_size
        shape = (len(generators), self.unet.config.in_channels, size, size)
        noise = randn_tensor(shape, generator=generators, device=text.device, dtype=torch.float32)
        extra = {"generator": generators} if "generator" in inspect.signature(scheduler.step).parameters else {}
        scheduler.set_timesteps(num_inference_steps, device=text.device)
        begin = (num_inference_steps - _strength_steps(num_inference_steps, strength)) * scheduler.order
        timesteps = scheduler.timesteps[begin:]
        if hasattr(scheduler, "set_begin_index"):  # what the multistep solvers' add_noise reads before their first step
            scheduler.set_begin_index(begin)
        if init is None or strength >= 1:
            sample = noise * scheduler.init_noise_sigma
        elif len(timesteps) == 0:
            sample = init.clone()
        else:
            sample = scheduler.add_noise(init, noise, timesteps[:1].expand(len(init)))
        keep = keep.to(text.device)[:, :, None, None] if keep is not None else None
        alphas_cumprod = scheduler.alphas_cumprod.to(text.device)
        estimate = None  # the clean-sample estimates a self-conditioned unet reads (none before the first step)
        for i, t in enumerate(timesteps):
            # RePaint's resampling: after a step, noise the result back to t and take the step again.
            repeats = resample if keep is not None and i < len(timesteps) - 1 else 1
            for repeat in range(repeats):
                if keep is not None:  # the kept channels, noised to this step's timestep
                    sample = torch.where(keep, scheduler.add_noise(known, noise, t.expand(len(known))), sample)
                saved = copy.deepcopy(scheduler.__dict__) if repeat < repeats - 1 else None
                scale = guidance_scale if guided_at(guidance_interval, t) else None
                prediction, estimate = self.predict(scheduler, scheduler.scale_model_input(sample, t), t, text,
                                                    text_mask, scale, estimate)
                stepped = scheduler.step(prediction, t, sample, **extra).prev_sample
                if saved is None:
                    sample = stepped
                    continue
                scheduler.__dict__.update(saved)  # the solver's state as before the step (step index, history)
                ratio = alphas_cumprod[t] / alphas_cumprod[timesteps[i + 1]]
                fresh = randn_tensor(stepped.shape, generator=generators, device=text.device, dtype=torch.float32)
                sample = ratio.sqrt() * stepped + (1 - ratio).sqrt() * fresh
            progress.update()
        return torch.where(keep, known, sample) if keep is not None else sample

    def predict(self, scheduler, sample, t, text, text_mask, guidance_scale, estimate=None):
        """The unet's (guided) prediction for the (scaled) ``sample`` ``(chunk, K, S, S)`` at timestep ``t``, float32:
        what each denoising step asks of the unet, and what distillation asks of its teacher.

        ``t`` is one timestep (a scalar tensor) or one per sample ``(chunk,)``. ``text``, ``text_mask``:
        ``(2 * chunk, L, D)`` / ``(2 * chunk, L)``, unconditional rows first, when the request is guided, else
        ``(chunk, L, D)`` / ``(chunk, L)``; a step taken without guidance (``guidance_scale`` ``None``: an
        unguided request, or a step outside the guidance interval) reads the conditional rows. ``guidance_scale``
        is a number or one per sample ``(chunk, 1, 1, 1)``.

        A self-conditioned unet (``GUNet.self_condition``) also reads ``estimate``, each row's clean-sample
        estimate from the step before (``None`` at the first step), unconditional and conditional rows apart
        under guidance, as it was trained.

        Returns:
            ``(prediction, estimate)``: the prediction ``(chunk, K, S, S)`` and, for a self-conditioned unet,
            this step's estimates of every row ``((2 x) chunk, K, S, S)`` for the next step (else ``None``).
        """
        rows = 2 * len(sample) if guidance_scale is not None else len(sample)
        text, text_mask = text[-rows:], text_mask[-rows:]
        if estimate is not None and len(estimate) != rows:  # guidance turned on or off since the last step
            estimate = torch.cat([estimate] * 2) if rows > len(estimate) else estimate[-rows:]
        model_input = torch.cat([sample] * 2) if guidance_scale is not None else sample
        model_input = model_input.to(self.unet.dtype).contiguous(memory_format=self._memory_format)
        self_conditioned = getattr(self.unet.config, "self_condition", False)
        extra = {"self_cond": estimate} if self_conditioned and estimate is not None else {}
        timesteps = t.expand(len(sample)).repeat(len(model_input) // len(sample))
        with torch.autocast(text.device.type, dtype=self._autocast_dtype, enabled=self._autocast_dtype is not None):
            prediction = self.unet(model_input, timesteps, encoder_hidden_states=text, encoder_attention_mask=text_mask,
                                   **extra).sample.float()
        if self_conditioned:
            estimate = predicted_clean(scheduler, prediction, model_input.float(), timesteps).to(self.unet.dtype)
        if guidance_scale is None:
            return prediction, estimate
        uncond, cond = prediction.chunk(2)
        return uncond + guidance_scale * (cond - uncond), estimate

    def _mirrors(self, prompts, seeds, control, prompt_of_pose) -> torch.Tensor:
        """``(num_poses,)`` bool: which poses the unet draws mirrored (see ``canonical_side``).

        A pose whose prompt names a side, or of a model trained without ``canonical_side``, never is. Otherwise
        a pose with a given pose (``keypoints=`` / ``init_keypoints=``) is mirrored when that puts the given
        pose in its canonical orientation, and any other pose when a draw of its seed says so (probability 1/2).
        """
        if not self.config.canonical_side:
            return torch.zeros(len(seeds), dtype=torch.bool)
        side_free = torch.tensor([not names_side(p) for p in prompts], dtype=torch.bool)[prompt_of_pose]
        given = control["known"] if control["known"] is not None else control["init"]
        if given is not None:
            draws = torch.from_numpy(mirror_to_canonical(given, self.skeleton))[prompt_of_pose % len(given)]
        else:
            draws = torch.tensor([bool(np.random.default_rng([seed, _MIRROR_STREAM]).integers(2)) for seed in seeds])
        return side_free & draws

    def _mirror(self, rows: torch.Tensor):
        """A function mirroring the poses ``rows`` (a ``(chunk,)`` bool mask) marks: ``(chunk, K, S, S)`` heatmaps
        left-right with their channels swapped, or ``(chunk, K)`` joint masks swapped; ``None`` passes through."""
        permutation = self.skeleton.flip_permutation.to(rows.device)

        def flip(values: torch.Tensor | None) -> torch.Tensor | None:
            if values is None or not rows.any():
                return values
            mirrored = flip_heatmaps(values, permutation) if values.dim() == 4 else values[:, permutation]
            return torch.where(rows.view(-1, *[1] * (values.dim() - 1)), mirrored, values)

        return flip

    def _check_control(self, keypoints, keep, init_keypoints, strength, num_prompts, size, height, width) -> dict:
        """Check the pose-control arguments; returns the given poses in frame pixels and the keep mask.

        Returns:
            ``{"known": (1 or P, K, 3) frame pixels or None, "given": the same in canvas pixels or None,
            "keep": (K,) bool or None, "init": (1 or P, K, 3) frame pixels or None, "strength": float}``.
        """
        if init_keypoints is None and strength is not None:
            raise ValueError("strength is set but init_keypoints is not; strength says how far to move away from "
                             "init_keypoints (for keeping joints of a pose use keypoints= and keep=)")
        strength = 1.0 if init_keypoints is None else check_strength(0.8 if strength is None else strength)
        skeleton = self.skeleton
        init = None if init_keypoints is None else check_keypoints(init_keypoints, "init_keypoints", num_prompts,
                                                                    size, height, width, skeleton=skeleton)
        if keypoints is None and keep is None:
            return {"known": None, "given": None, "keep": None, "init": init, "strength": strength}
        if keypoints is None and init is None:
            raise ValueError("keep is set but neither keypoints nor init_keypoints is: give the pose whose joints "
                             f"to keep (keypoints=, {self.skeleton.name} (x, y, v) in canvas pixels)")
        name = "keypoints" if keypoints is not None else "init_keypoints"
        known = (check_keypoints(keypoints, name, num_prompts, size, height, width, skeleton=skeleton)
                 if keypoints is not None else init)
        mask = keep_mask(keep, skeleton=skeleton) if keep is not None else (known[..., 2] > 0).any(0)
        if keep is None and (known[..., 2] > 0).any(0).ne((known[..., 2] > 0).all(0)).any():
            raise ValueError("keypoints: without keep=, the joints to keep are those marked present (v > 0), which "
                             "must then be the same joints in every pose; pass keep= explicitly")
        given = as_float_tensor(keypoints if keypoints is not None else init_keypoints).reshape(-1, *known.shape[1:])
        given = torch.where(given[..., 2:] > 0, given, torch.zeros_like(given))
        return {"known": known, "given": given, "keep": mask, "init": init, "strength": strength}

    def _model_heatmaps(self, frame_keypoints, prompt_of_pose, device) -> torch.Tensor | None:
        """Given poses ``(1 or P, K, 3)`` in frame pixels -> ``(chunk, K, S, S)`` clean samples in the model's range."""
        if frame_keypoints is None:
            return None
        if isinstance(self.unet, UpstreamGUNet):
            raise ValueError("keypoints= / init_keypoints= (pose control) need a posegraph GUNet checkpoint; the paper "
                             "authors' released model draws joints in another value range and is not supported")
        config = self.unet.config
        rows = frame_keypoints[prompt_of_pose % len(frame_keypoints)]
        heatmaps = keypoints_to_heatmaps(rows, self.unet.heatmap_size, sigma=self.config.heatmap_sigma)
        return normalize_heatmaps(heatmaps, config.heatmap_scale, config.heatmap_shift).to(device, torch.float32)

    def _decode(self, sample: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Model-range samples ``(chunk, K, S, S)`` -> ``[0, 1]`` heatmaps, keypoints in heatmap pixels
        ``(chunk, K, 3)`` and confidences ``(chunk, K)``, the way the model was trained to draw joints.

        A GUNet draws a joint as a bright Gaussian in its ``heatmap_scale``/``_shift`` range: decoded at the
        peak. The released upstream model draws it as the lowest region of a map in ``[-1, 1]``: decoded at
        the centroid of the lowest 5 %, as the authors' code does; its heatmaps are returned flipped, joint bright.
        """
        if isinstance(self.unet, UpstreamGUNet):
            keypoints, confidence = lowest_regions_to_keypoints(sample, return_confidence=True)
            return denormalize_heatmaps(sample, scale=-2.0, shift=1.0), keypoints, confidence
        config = self.unet.config
        heatmaps = denormalize_heatmaps(sample, config.heatmap_scale, config.heatmap_shift)
        keypoints, confidence = heatmaps_to_keypoints(heatmaps, return_confidence=True)
        return heatmaps, keypoints, confidence

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs) -> None:
        """diffusers' ``save_pretrained`` (the unet as safetensors + config, the scheduler config,
        ``model_index.json``; ``kwargs`` go to it), then the text encoder reference ``text_encoder.json`` and the
        ``COMPLETE`` marker, written last (the layout of a training checkpoint)."""
        directory = Path(save_directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / COMPLETE_MARKER).unlink(missing_ok=True)
        super().save_pretrained(directory, **kwargs)
        (directory / "text_encoder.json").write_text(json.dumps(self.text_encoder.to_config(), indent=2) + "\n")
        (directory / COMPLETE_MARKER).touch()

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        text_encoder: TextEncoder | None = None,
        torch_dtype: torch.dtype | None = None,
        device: str | torch.device | None = None,
    ) -> "PoseGraphPipeline":
        """Load a saved pipeline, a training checkpoint, a training run directory's latest complete checkpoint, or
        the paper authors' released diffusers folder (its ``unet/``, ``text_encoder/``, ``tokenizer/`` and
        ``scheduler/``: an :class:`~posegraph.models.UpstreamGUNet`, its CLIP encoder padding every prompt to
        77 tokens as it was trained, and its scheduler).

        Args:
            pretrained_model_name_or_path: the directory (see :mod:`posegraph.pipelines.checkpoints`).
            text_encoder: an already loaded encoder to use instead of the one ``text_encoder.json`` (or the
                released folder) names.
            torch_dtype: dtype of the unet (e.g. ``torch.float16`` on CUDA); the text encoder stays as loaded.
            device: where to run.

        Raises:
            FileNotFoundError / ValueError: a missing, truncated or inconsistent directory (the message names it).
            CorruptCheckpointError (a ValueError): a file that does not read back or weights that do not fit
                ``unet/config.json``; the message names the file and the newest earlier checkpoint that reads back.
        """
        directory = Path(pretrained_model_name_or_path)
        upstream = is_upstream_release(directory)
        if not upstream:
            directory = resolve_pipeline_dir(directory)
        damaged = unreadable_file(directory, _PIPELINE_FILES[:3] if upstream else _PIPELINE_FILES)
        if damaged is not None:
            raise corrupt_checkpoint_error(damaged[0], directory, f"it does not read back: {damaged[1]}")
        if upstream:
            reference = upstream_text_encoder_reference(directory)
        else:
            reference = json.loads((directory / "text_encoder.json").read_text())
        unet = _load_unet(directory / "unet", torch_dtype)
        scheduler = load_scheduler(directory / "scheduler")
        if text_encoder is None:
            text_encoder = TextEncoder.from_pretrained(**reference, device=device)
        if text_encoder.hidden_size != unet.config.cross_attention_dim:
            raise ValueError(
                f"{directory}: the text encoder {text_encoder.to_config()} gives {text_encoder.hidden_size}-wide "
                f"embeddings but unet/config.json has cross_attention_dim={unet.config.cross_attention_dim}; "
                "text_encoder.json and the unet come from different runs"
            )
        pipeline = cls(unet=unet, scheduler=scheduler, text_encoder=text_encoder,
                       heatmap_sigma=_stored(directory, "heatmap_sigma", "sigma", 2.0),
                       canonical_side=_stored(directory, "canonical_side", "canonical_side", False),
                       distilled_steps=_stored(directory, "distilled_steps", "steps", None, "distill_config.json"))
        return pipeline.to(device) if device is not None else pipeline


#: The files of a saved pipeline that loading reads (checked to read back before anything is built).
_PIPELINE_FILES = ("unet/*.json", "unet/*.safetensors", "scheduler/*.json", "text_encoder.json", "model_index.json")


def _load_unet(directory: Path, torch_dtype: torch.dtype | None) -> GUNet | UpstreamGUNet:
    """The unet of the class its config names (a GUNet, or the released upstream model), strict: a config that
    does not describe the weights is a short :class:`CorruptCheckpointError` naming the file, the first
    disagreement and the checkpoint to use instead."""
    cls = UpstreamGUNet if GUNet.load_config(directory).get("_class_name") in UPSTREAM_CLASS_NAMES else GUNet
    try:
        unet, info = cls.from_pretrained(directory, torch_dtype=torch_dtype, output_loading_info=True,
                                         low_cpu_mem_usage=False)
    except (ValueError, RuntimeError, TypeError, OSError) as error:
        raise corrupt_checkpoint_error(directory / "config.json", directory.parent,
                                       _unet_mismatch(cls, directory, error), kind="incompatible") from None
    problems = {key: value for key, value in info.items() if value}
    if problems:
        raise corrupt_checkpoint_error(directory / "config.json", directory.parent,
                                       f"it does not describe the weights: {_first_items(problems)}",
                                       kind="incompatible")
    return unet


def _stored(directory: Path, pipeline_key: str, train_key: str, default, train_file: str = "train_config.json"):
    """A pipeline config value: ``model_index.json``'s ``pipeline_key`` (a saved pipeline), else ``train_file``'s
    ``train_key`` (a training or distillation checkpoint), else ``default`` (what training did before the key
    existed, or a checkpoint that is not distilled)."""
    for name, key in (("model_index.json", pipeline_key), (train_file, train_key)):
        path = directory / name
        if path.is_file():
            try:
                value = json.loads(path.read_text()).get(key)
            except (json.JSONDecodeError, AttributeError) as error:
                raise ValueError(f"{path}: not a JSON object ({error})") from error
            if value is not None:
                return value
    return default


def _unet_mismatch(cls, directory: Path, error: Exception) -> str:
    """One line saying how ``config.json`` and the weights disagree (the first differing tensor shape)."""
    from safetensors import safe_open

    try:
        with torch.random.fork_rng(devices=[]):
            model = cls.from_config(cls.load_config(directory))
        expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
        with safe_open(next(directory.glob("*.safetensors")), "pt") as handle:
            stored = {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}
    except Exception:  # the config itself does not build the model: say what the loader said, first line only
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"it does not build the model: {first[:200]}"
    for name, shape in stored.items():
        if name in expected and expected[name] != shape:
            return (f"it does not describe the weights: {name} is {list(shape)} in the weights, "
                    f"{list(expected[name])} in the model it describes")
    missing, unexpected = sorted(set(expected) - set(stored)), sorted(set(stored) - set(expected))
    return f"it does not describe the weights: {_first_items({'missing': missing, 'unexpected': unexpected})}"


def _first_items(problems: dict) -> str:
    return "; ".join(f"{key} {', '.join(map(str, value[:3]))}{' ...' if len(value) > 3 else ''}"
                     for key, value in problems.items() if value)


def _check_distilled(scheduler, guided: bool) -> None:
    """A distilled checkpoint samples with its own LCMScheduler, one forward a step, its guidance folded in."""
    if guided:
        raise ValueError("guidance_scale: this checkpoint is distilled with its teacher's guidance folded into the "
                         "unet (one forward a step); leave guidance_scale out, or at most 1")
    if isinstance(scheduler, str):
        raise ValueError(f"scheduler={scheduler!r}: this checkpoint is a consistency-distilled student and samples "
                         "with its own LCMScheduler; leave scheduler out (the named schedulers need a diffusion "
                         "checkpoint, such as its teacher)")


def _check_prompts(prompt, name: str) -> list[str]:
    if isinstance(prompt, str):
        return [prompt]
    if not isinstance(prompt, (list, tuple)):
        raise TypeError(f"{name} must be a string or a list of strings, got {type(prompt).__name__}")
    if not prompt:
        raise ValueError(f"{name} is an empty list; pass at least one string (\"\" samples unconditionally)")
    for i, p in enumerate(prompt):
        if not isinstance(p, str):
            raise TypeError(f"{name}[{i}] must be a string, got {type(p).__name__}: {p!r}")
    return list(prompt)


def _negatives(negative_prompt, num_prompts: int) -> list[str]:
    """One negative (unconditional) prompt per prompt; ``""`` is the null embedding."""
    if negative_prompt is None:
        return [""] * num_prompts
    negatives = _check_prompts(negative_prompt, "negative_prompt")
    if isinstance(negative_prompt, str):
        return negatives * num_prompts
    if len(negatives) != num_prompts:
        raise ValueError(f"negative_prompt has {len(negatives)} entries for {num_prompts} prompts; give one or one each")
    return negatives


def guided_at(interval: tuple[int, int] | list[int] | None, timesteps: torch.Tensor) -> torch.Tensor:
    """Bool, of ``timesteps``' shape: whether guidance applies at each training timestep (``interval``
    ``(low, high)`` holds it; ``None``: every timestep)."""
    if interval is None:
        return torch.ones_like(timesteps, dtype=torch.bool)
    low, high = interval
    return (timesteps >= low) & (timesteps <= high)


def _check_interval(interval) -> None:
    """``None``, ``"auto"`` or two integers ``low <= high``, both at least 0; else a ValueError naming the argument."""
    if interval is None or (isinstance(interval, str) and interval == "auto"):
        return
    valid = isinstance(interval, (tuple, list)) and len(interval) == 2 and all(
        isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0 for value in interval)
    if not valid or interval[0] > interval[1]:
        raise ValueError("guidance_interval must be None, 'auto' or two timesteps (low, high) with "
                         f"0 <= low <= high, got {interval!r}")


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _repeat(items: list[str], times: int) -> list[str]:
    return [item for item in items for _ in range(times)]


def _pose_seeds(generator, num_poses: int) -> list[int]:
    """One seed per pose, so a pose does not depend on which others share its batch."""
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return [int(generator) + i for i in range(num_poses)]
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be an int seed, a torch.Generator or None, got {type(generator).__name__}")
    device = generator.device if generator is not None else "cpu"
    return torch.randint(_SEED_RANGE, (num_poses,), generator=generator, device=device).tolist()


def _strength_steps(num_inference_steps: int, strength: float) -> int:
    """How many of ``num_inference_steps`` an edit of ``strength`` runs (diffusers' image-to-image rule)."""
    return min(int(num_inference_steps * strength), num_inference_steps)


def _to_canvas(keypoints: torch.Tensor, size: int, height: int, width: int) -> torch.Tensor:
    """Heatmap pixels ``(..., K, 3)`` -> canvas pixels: the square frame scaled to fit, centred (pixel centres at integers)."""
    scale = min(height, width) / size
    x = (keypoints[..., 0] + 0.5) * scale - 0.5 + (width - size * scale) / 2
    y = (keypoints[..., 1] + 0.5) * scale - 0.5 + (height - size * scale) / 2
    return torch.stack([x, y, keypoints[..., 2]], dim=-1)
