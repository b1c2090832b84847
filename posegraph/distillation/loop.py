"""Latent-consistency distillation of a trained GUNet into a student that samples in a few steps, one forward each.

Method: consistency distillation (Song et al. 2023, "Consistency Models", Algorithm 2) in the form of latent
consistency distillation (Luo et al. 2023, "Latent Consistency Models", Algorithm 1), on posegraph's heatmaps in
place of latents. Each iteration, for a batch of training poses ``x_0`` with their captions ``c`` (the teacher's
own training data, drawn as its training did: same augmentation and canonical sides):

1. draw ``n`` uniformly from the skipping-step schedule and ``x_{t_{n+k}} = sqrt(a) x_0 + sqrt(1 - a) eps``
   (LCM eq. 8's forward process; :func:`~posegraph.distillation.consistency.skipping_schedule`);
2. one step of the teacher's guided probability-flow ODE from ``t_{n+k}`` to ``t_n`` (LCM eq. 13 with a fixed
   guidance ``w``): the teacher's prediction through the pipeline's own guided prediction
   (:meth:`PoseGraphPipeline.predict`, unconditional rows first), its clean estimate by
   :func:`~posegraph.pipelines.schedulers.predicted_clean`, and a DDIM step
   (:func:`~posegraph.distillation.consistency.ddim_step`);
3. the loss (LCM eq. 11, with the squared error): ``|| f_theta(x_{t_{n+k}}, t_{n+k}, c) -
   f_theta-(x_{t_n}, t_n, c) ||^2``, where ``f`` is the consistency function ``c_skip(t) x + c_out(t) x_0(x, t)``
   (LCM eq. 9) with ``LCMScheduler``'s own scalings (:func:`~posegraph.pipelines.schedulers.consistency_output`),
   and ``theta-`` the target network, an EMA of the student (``ema_decay``) without gradients;
4. a step of the student's optimiser, then of the target's EMA.

The student starts from the teacher's (EMA) weights, as does its target. Because its consistency function is
exactly what ``diffusers.LCMScheduler.step`` computes from a model output, the student samples with that scheduler
(saved in its checkpoints) on the same skipping-step schedule, one forward a step and no guidance.

Everything else is training's (:class:`posegraph.training.Trainer`): data stream, optimiser, learning-rate schedule,
EMA, TensorBoard scalars, seeded RNGs and atomic checkpoints in the training layout, so a rerun continues exactly
where the last checkpoint stopped, and ``PoseGraphPipeline.from_pretrained`` loads the output directory.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from posegraph.distillation.config import FREE_FIELDS, DistillConfig, student_config
from posegraph.distillation.consistency import ddim_step, skipping_schedule, student_scheduler
from posegraph.heatmaps import normalize_heatmaps
from posegraph.models import GUNet
from posegraph.pipelines import PoseGraphPipeline, guided_at
from posegraph.pipelines.checkpoints import is_upstream_release, resolve_pipeline_dir
from posegraph.pipelines.schedulers import consistency_output, predicted_clean
from posegraph.training.checkpoint import complete_checkpoints, resolve_resume
from posegraph.training.config import TrainConfig, config_mismatches
from posegraph.training.loop import Trainer, diffusion_loss

__all__ = ["Distiller", "distill", "teacher_checkpoint"]


def teacher_checkpoint(path: str | Path) -> Path:
    """The checkpoint ``path`` names as a teacher: a training run's newest complete checkpoint, or one checkpoint.

    Raises:
        FileNotFoundError / ValueError: no such directory, a truncated checkpoint, or one that is not a posegraph
            training checkpoint (the paper authors' release, a saved pipeline without a training config, an
            already distilled student, a self-conditioned unet); the message starts with ``--teacher``.
    """
    if is_upstream_release(path):
        raise ValueError(f"--teacher {path}: the paper authors' released model comes without its training data "
                         "settings; distillation needs a posegraph training run or checkpoint")
    try:
        checkpoint = resolve_pipeline_dir(path)
    except (FileNotFoundError, ValueError) as error:
        raise type(error)(f"--teacher: {error}") from None
    if not (checkpoint / TrainConfig.file_name).is_file():
        raise ValueError(f"--teacher {path}: {checkpoint} is not a posegraph training checkpoint (no "
                         f"{TrainConfig.file_name}, whose data settings distillation draws its poses with)")
    if (checkpoint / DistillConfig.file_name).is_file():
        raise ValueError(f"--teacher {path}: {checkpoint} is already a distilled student; distil its teacher instead")
    if GUNet.load_config(checkpoint / "unet").get("self_condition"):
        raise ValueError(f"--teacher {path}: a self-conditioned unet cannot be distilled (the student would have to "
                         "learn from estimates it never sees at one step)")
    return checkpoint


def distill(config: DistillConfig, out: str | Path, stop_at: int | None = None) -> Path:
    """Distil ``config.teacher`` into a student in ``out``, continuing the run already there.

    Args:
        config: the distillation configuration; its ``teacher`` is resolved to one checkpoint first.
        out: the run directory: ``checkpoints/step_N`` (training's layout plus ``distill_config.json``), ``logs/``.
        stop_at: stop after this iteration (checkpointing it), as if interrupted; a rerun continues.

    Returns:
        the newest complete checkpoint.

    Raises:
        FileNotFoundError / ValueError: a bad teacher (:func:`teacher_checkpoint`), an ``out`` holding another
            kind of run, or a run there distilled with another configuration.
        posegraph.training.NonFiniteLossError: the loss became NaN or infinite.
    """
    teacher = teacher_checkpoint(config.teacher)
    config = dataclasses.replace(config, teacher=str(teacher.resolve()))
    timesteps = TrainConfig.from_json(teacher / TrainConfig.file_name).num_train_timesteps
    if config.original_inference_steps > timesteps:
        raise ValueError(f"--original-inference-steps: at most the teacher's {timesteps} training timesteps, got "
                         f"{config.original_inference_steps}")
    run_dir = Path(out)
    checkpoint = _checkpoint_to_continue(config, run_dir)
    Distiller(config, run_dir, checkpoint).run(until=config.max_steps if stop_at is None else
                                               min(stop_at, config.max_steps))
    return complete_checkpoints(run_dir)[-1]


def _checkpoint_to_continue(config: DistillConfig, run_dir: Path) -> Path | None:
    """The newest checkpoint of the distillation in ``run_dir`` that reads back, or ``None`` for a fresh start."""
    checkpoint = resolve_resume("latest", run_dir)
    if checkpoint is None:
        return None
    if not (checkpoint / DistillConfig.file_name).is_file():
        raise ValueError(f"{run_dir} holds a training run, not a distillation; choose another --out")
    mismatches = config_mismatches(DistillConfig.from_json(checkpoint / DistillConfig.file_name), config, FREE_FIELDS)
    if mismatches:
        listed = "; ".join(f"{name}: {old!r} there, {new!r} asked" for name, (old, new) in mismatches.items())
        raise ValueError(f"{checkpoint} was distilled with a different config ({listed}); continue with the same "
                         "settings (leave the flags out to reuse the stored ones) or choose another --out")
    return checkpoint


class Distiller(Trainer):
    """One distillation run: a :class:`~posegraph.training.Trainer` whose model is the student, started from the
    teacher's weights, whose loss is the consistency-distillation loss (see the module docstring) and whose
    checkpoints store the student's ``LCMScheduler`` and ``distill_config.json``."""

    label = "distill"
    continue_with = "the same distill command (it continues from its newest checkpoint) with"

    def __init__(self, config: DistillConfig, run_dir: Path, checkpoint: Path | None = None):
        teacher = Path(config.teacher)
        super().__init__(student_config(TrainConfig.from_json(teacher / TrainConfig.file_name), config), run_dir,
                         checkpoint, init_from=teacher / "unet")
        self.distill_config = config
        self.lcm = student_scheduler(self.noise_scheduler, config.original_inference_steps, config.timestep_scaling)
        self.start, self.end = (t.to(self.accelerator.device) for t in skipping_schedule(self.lcm))
        with torch.random.fork_rng(devices=[]):  # loading builds a model: it must not move the checkpointed RNG
            self.teacher = PoseGraphPipeline.from_pretrained(teacher, text_encoder=self.text_encoder,
                                                             device=self.accelerator.device)
        self.teacher.unet.requires_grad_(False).eval()
        self.target = self.ema_unet().requires_grad_(False).eval() if self.ema is not None else self.unet

    @property
    def sampling_scheduler(self):
        return self.lcm

    @property
    def extra_configs(self) -> dict:
        return {DistillConfig.file_name: self.distill_config.to_dict()}

    def losses(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample consistency-distillation losses ``(batch,)`` and the timesteps ``t_{n+k}`` drawn ``(batch,)``."""
        g, device, unet = self.generator, self.accelerator.device, self.unet.config
        clean = normalize_heatmaps(batch["heatmaps"].to(device), unet.heatmap_scale, unet.heatmap_shift)
        index = torch.randint(0, len(self.start), (len(clean),), generator=g, device=device)
        start, end = self.start[index], self.end[index]
        noise = torch.randn(clean.shape, generator=g, device=device)
        noisy = self.noise_scheduler.add_noise(clean, noise, start).contiguous(memory_format=self.memory_format)
        text, mask = self.captions(batch["caption"], torch.zeros(len(clean), dtype=torch.bool))
        with torch.no_grad():
            previous = self.teacher_step(noisy, start, end, batch["caption"], text, mask)
            if self.ema is not None:
                self.ema.copy_to(self.target.parameters())
            output = self.target(previous, end, encoder_hidden_states=text, encoder_attention_mask=mask).sample
            target = consistency_output(self.lcm, output.float(), previous, end)
        output = self.model(noisy, start, encoder_hidden_states=text, encoder_attention_mask=mask).sample
        return diffusion_loss(consistency_output(self.lcm, output.float(), noisy, start), target), start

    def teacher_step(self, noisy: torch.Tensor, start: torch.Tensor, end: torch.Tensor, captions: list[str],
                     text: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x_{t_n}``: one DDIM step of the teacher's guided ODE from ``noisy`` ``(batch, K, S, S)`` at ``start`` to
        ``end`` (``(batch,)`` each), the captions' embeddings ``text`` ``(batch, L, D)`` and ``mask`` ``(batch, L)``."""
        config, scale = self.distill_config, None
        if config.guidance_scale > 1:  # unconditional rows first, as the pipeline's guided prediction takes them
            null, null_mask = self.captions(captions, torch.ones(len(captions), dtype=torch.bool))
            text, mask = torch.cat([null, text]), torch.cat([null_mask, mask])
            # outside the guidance interval w = 1: the conditional prediction
            scale = torch.where(guided_at(config.guidance_interval, start), config.guidance_scale, 1.0)
            scale = scale.to(noisy.dtype)[:, None, None, None]
        output, _ = self.teacher.predict(self.noise_scheduler, noisy, start, text, mask, scale)
        return ddim_step(self.noise_scheduler, predicted_clean(self.noise_scheduler, output, noisy, start), noisy,
                         start, end)
