"""The distillation configuration: one dataclass, named presets, and the student's training config it implies.

A :class:`DistillConfig` travels with every student checkpoint as ``distill_config.json`` (beside the
``train_config.json`` of the training it amounts to); a rerun into the same ``--out`` continues the run when the
asked-for configuration equals the stored one outside :data:`RUN_CONTROL_FIELDS` and ``lr``, ``warmup_steps``,
``max_grad_norm`` (training's rescue fields).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from posegraph.pipelines import DEFAULT_GUIDANCE_INTERVAL, DEFAULT_GUIDANCE_SCALE
from posegraph.training.config import RESCUE_FIELDS, JsonConfig, TrainConfig

__all__ = ["DistillConfig", "DISTILL_PRESETS", "RUN_CONTROL_FIELDS", "FREE_FIELDS", "student_config"]


@dataclass
class DistillConfig(JsonConfig):
    """Everything that defines a distillation run (where it writes is not part of it: see ``--out``).

    Teacher and student:
        teacher: the trained run directory (its newest complete checkpoint is taken) or checkpoint to distil. A run
            stores the absolute path of the checkpoint it was given, so continuing it uses the same teacher.
        steps: the student's sampling steps, stored with it: what a pipeline call that names none takes. Any
            count up to ``original_inference_steps`` samples; the student is trained for all of them alike.
        original_inference_steps: LCM's skipping-step schedule: ``N`` of the teacher's ``T`` training timesteps,
            ``t = k - 1, 2k - 1, ..., Nk - 1`` with ``k = T // N`` (``LCMScheduler``'s own). Each iteration takes
            one teacher step from one of them to the next lower one (0 below the lowest).
        guidance_scale: the teacher's classifier-free guidance ``w`` in ``uncond + w (cond - uncond)``, fixed, which
            the student learns to include (LCM samples ``w`` from a range and feeds it to the student; one fixed
            scale needs no extra input); ``<= 1``: unguided.
        guidance_interval: ``[low, high]``: the teacher's steps from timesteps in this range are guided, the others
            take its conditional prediction, as the pipeline samples the teacher (``0 1000``: every step).
        timestep_scaling: ``LCMScheduler``'s factor on ``t`` in its boundary-condition scalings ``c_skip``, ``c_out``.

    Optimisation (otherwise the teacher's settings: optimiser, weight decay, EMA warm-up power, data, model):
        seed, max_steps, batch_size, lr, warmup_steps, max_grad_norm: as in :class:`~posegraph.training.TrainConfig`;
            ``max_steps`` counts iterations (one teacher step, one target forward and one student step each).
        ema_decay: the target network's decay ``mu``: it follows the student as diffusers' ``EMAModel`` with its
            warm-up, capped at ``mu`` (LCM's 0.95); 0 makes the target the student itself. Its weights are the
            checkpoint's ``unet/``, what sampling uses.

    Run control (may change when continuing): ``checkpoint_every``, ``keep_last``, ``log_every``.

    The defaults are sized to distil the ``cpu`` preset in about 12 minutes on 2 CPU cores (an iteration costs a
    guided teacher forward at twice the batch, a target forward and a training step: about 0.35 s at batch 64).
    """

    teacher: str
    steps: int = 1
    original_inference_steps: int = 50
    guidance_scale: float = DEFAULT_GUIDANCE_SCALE
    guidance_interval: list[int] = dataclasses.field(default_factory=lambda: list(DEFAULT_GUIDANCE_INTERVAL))
    timestep_scaling: float = 10.0

    seed: int = 0
    max_steps: int = 1600
    batch_size: int = 64
    lr: float = 2e-4
    warmup_steps: int = 100
    max_grad_norm: float = 1.0
    ema_decay: float = 0.95

    checkpoint_every: int = 250
    keep_last: int = 2
    log_every: int = 10

    what, file_name, default_preset = "distillation config", "distill_config.json", "default"

    def validate(self) -> None:
        need = self.need
        need(isinstance(self.teacher, str) and self.teacher != "", "teacher", "must name a trained run or checkpoint")
        self.need_integers(("original_inference_steps", "max_steps", "batch_size", "checkpoint_every", "keep_last",
                            "log_every"), 1)
        self.need_integers(("warmup_steps", "seed"), 0)
        need(isinstance(self.steps, int) and 1 <= self.steps <= self.original_inference_steps, "steps",
             f"must be a positive integer at most --original-inference-steps ({self.original_inference_steps})")
        need(self.guidance_scale >= 0, "guidance_scale", "must be >= 0 (<= 1: unguided)")
        interval = self.guidance_interval
        need(isinstance(interval, list) and len(interval) == 2 and all(isinstance(v, int) for v in interval)
             and 0 <= interval[0] <= interval[1], "guidance_interval", "must be two timesteps LOW HIGH, 0 <= LOW <= HIGH")
        need(self.timestep_scaling > 0, "timestep_scaling", "must be positive")
        need(self.lr > 0, "lr", "must be positive")
        need(self.max_grad_norm > 0, "max_grad_norm", "must be positive")
        need(0 <= self.ema_decay < 1, "ema_decay", "must be in [0, 1)")


#: Distillation presets: field values on top of the :class:`DistillConfig` defaults.
DISTILL_PRESETS: dict[str, dict] = {
    "default": {},
    # Seconds on a CPU: the test suite's runs.
    "tiny": dict(steps=2, original_inference_steps=10, max_steps=4, batch_size=4, warmup_steps=1, checkpoint_every=2,
                 keep_last=2, log_every=1),
}

DistillConfig.presets = DISTILL_PRESETS

#: Fields that say how a run is watched, not what it computes: they may differ when continuing.
RUN_CONTROL_FIELDS = frozenset({"checkpoint_every", "keep_last", "log_every"})
#: Fields that may differ between a stored run and the asked-for one when continuing it.
FREE_FIELDS = RUN_CONTROL_FIELDS | RESCUE_FIELDS


def student_config(teacher: TrainConfig, config: DistillConfig) -> TrainConfig:
    """The training config a distillation amounts to: the teacher's data and model, the distillation's
    optimisation, no sample grids, and every caption seen whole (no text or token dropout)."""
    return dataclasses.replace(
        teacher, seed=config.seed, max_steps=config.max_steps, batch_size=config.batch_size, lr=config.lr,
        warmup_steps=config.warmup_steps, max_grad_norm=config.max_grad_norm, ema_decay=config.ema_decay,
        checkpoint_every=config.checkpoint_every, keep_last=config.keep_last, log_every=config.log_every,
        sample_every=0, cond_dropout=0.0, token_dropout=0.0)
