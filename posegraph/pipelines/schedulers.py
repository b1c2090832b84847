"""Sampling schedulers by name, built from the training scheduler's config.

Building from the stored config carries the training noise schedule (``num_train_timesteps``,
``beta_schedule``, ``prediction_type``, ...) over to whichever sampler is chosen.
"""
from __future__ import annotations

import diffusers
import torch
from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler, LCMScheduler, UniPCMultistepScheduler
from diffusers.schedulers.scheduling_utils import SchedulerMixin

__all__ = ["SCHEDULERS", "make_scheduler", "load_scheduler", "predicted_clean", "consistency_output"]

#: name -> (scheduler class, keyword arguments that define the sampler beyond the stored config)
SCHEDULERS: dict[str, tuple[type[SchedulerMixin], dict]] = {
    "ddpm": (DDPMScheduler, {}),
    "ddim": (DDIMScheduler, {}),
    "dpm-solver++": (DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++"}),
    "unipc": (UniPCMultistepScheduler, {}),
}


def make_scheduler(scheduler: str | SchedulerMixin | None, stored: SchedulerMixin) -> SchedulerMixin:
    """A scheduler for one sampling run.

    Args:
        scheduler: a name from :data:`SCHEDULERS` (case-insensitive), a diffusers scheduler object
            (used as given), or ``None`` for a fresh copy of ``stored``.
        stored: the pipeline's (training) scheduler, whose config the named schedulers start from.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
        TypeError: anything else.
    """
    if isinstance(scheduler, SchedulerMixin):
        return scheduler
    if scheduler is None:
        return type(stored).from_config(stored.config)
    if not isinstance(scheduler, str):
        raise TypeError(
            f"scheduler must be a name ({', '.join(SCHEDULERS)}) or a diffusers scheduler object, "
            f"got {type(scheduler).__name__}"
        )
    if scheduler.lower() not in SCHEDULERS:
        raise ValueError(
            f"unknown scheduler {scheduler!r}; valid names are {', '.join(SCHEDULERS)} "
            "(or pass a diffusers scheduler object)"
        )
    cls, kwargs = SCHEDULERS[scheduler.lower()]
    return cls.from_config(stored.config, **kwargs)


def load_scheduler(directory) -> SchedulerMixin:
    """The scheduler saved in ``directory`` (a diffusers ``scheduler_config.json``), of its saved class."""
    config = DDPMScheduler.load_config(directory)  # any scheduler class reads scheduler_config.json
    name = config.get("_class_name")
    cls = getattr(diffusers, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, SchedulerMixin)):
        raise ValueError(
            f"{directory}/{SchedulerMixin.config_name}: _class_name {name!r} is not a diffusers scheduler class"
        )
    return cls.from_config(config)


def predicted_clean(scheduler: SchedulerMixin, output: torch.Tensor, sample: torch.Tensor,
                    timesteps: torch.Tensor) -> torch.Tensor:
    """The clean sample a model output stands for, under the scheduler's ``prediction_type``.

    Args:
        output: ``(batch, ...)`` the model's prediction (noise, clean sample or velocity).
        sample: ``(batch, ...)`` the noisy sample ``x_t`` it was given.
        timesteps: ``(batch,)`` or a scalar: each sample's training timestep ``t``.

    Returns:
        ``x_0 = (x_t - sqrt(1 - a) eps) / sqrt(a)`` (epsilon), ``output`` (sample) or
        ``sqrt(a) x_t - sqrt(1 - a) v`` (v_prediction), ``a`` the cumulative alpha at ``t``.
    """
    kind = scheduler.config.prediction_type
    if kind == "sample":
        return output
    alpha = scheduler.alphas_cumprod.to(sample.device)[timesteps.to(sample.device)].float()
    alpha = alpha.reshape(-1, *[1] * (sample.dim() - 1))
    if kind == "epsilon":
        return (sample - (1 - alpha).sqrt() * output) / alpha.sqrt()
    if kind == "v_prediction":
        return alpha.sqrt() * sample - (1 - alpha).sqrt() * output
    raise ValueError(f"predicted_clean: unknown prediction_type {kind!r}")


def consistency_output(scheduler: LCMScheduler, output: torch.Tensor, sample: torch.Tensor,
                       timesteps: torch.Tensor) -> torch.Tensor:
    """The consistency function's value ``f(x_t, t)`` for a model output: what :class:`diffusers.LCMScheduler`'s
    ``step`` returns as ``denoised``, for a timestep per sample.

    ``f(x_t, t) = c_skip(t) x_t + c_out(t) x_0``, ``x_0`` the clean sample the output stands for
    (:func:`predicted_clean`) and ``c_skip``, ``c_out`` the scheduler's own boundary-condition scalings
    (``get_scalings_for_boundary_condition_discrete``: ``c_skip(0) = 1``, ``c_out(0) = 0``, so ``f(x_0, 0) = x_0``).

    Args:
        scheduler: an LCMScheduler without ``clip_sample`` and ``thresholding`` (which ``step`` would apply to
            ``x_0`` first; distillation builds its scheduler without them).
        output, sample: ``(batch, ...)`` the model's output and the noisy sample ``x_t`` it was given.
        timesteps: ``(batch,)`` each sample's training timestep ``t``.

    Returns:
        ``(batch, ...)`` float tensor.
    """
    if scheduler.config.clip_sample or scheduler.config.thresholding:
        raise ValueError("consistency_output: the LCMScheduler must have clip_sample and thresholding off")
    c_skip, c_out = scheduler.get_scalings_for_boundary_condition_discrete(timesteps.to(sample.device).float())
    shape = (-1, *[1] * (sample.dim() - 1))
    return c_skip.reshape(shape) * sample + c_out.reshape(shape) * predicted_clean(scheduler, output, sample, timesteps)
