"""The pieces of latent-consistency distillation that are arithmetic on the noise schedule.

Notation of the LCM paper (Luo et al. 2023, "Latent Consistency Models", Algorithm 1): the skipping-step schedule
``t_{n+k} -> t_n``, the teacher's one-step ODE solver ``Psi`` (here DDIM), and the consistency function
``f(x, t) = c_skip(t) x + c_out(t) x_0(x, t)`` (eq. 9), whose value the student's output stands for through
:func:`posegraph.pipelines.schedulers.consistency_output`.
"""
from __future__ import annotations

import torch
from diffusers import LCMScheduler
from diffusers.schedulers.scheduling_utils import SchedulerMixin

__all__ = ["student_scheduler", "skipping_schedule", "ddim_step"]


def student_scheduler(noise_scheduler: SchedulerMixin, original_inference_steps: int,
                      timestep_scaling: float) -> LCMScheduler:
    """The ``LCMScheduler`` a student samples with, on the teacher's noise schedule (its config: ``beta_schedule``,
    ``num_train_timesteps``, ``prediction_type``, ...), without clipping the clean estimate, as the teacher's
    DPM-Solver++ samples."""
    return LCMScheduler.from_config(noise_scheduler.config, original_inference_steps=original_inference_steps,
                                    timestep_scaling=timestep_scaling, clip_sample=False, thresholding=False)


def skipping_schedule(scheduler: LCMScheduler) -> tuple[torch.Tensor, torch.Tensor]:
    """LCM's skipping-step schedule as ``scheduler`` samples on it: ``(start, end)``, each ``(N,)`` long.

    ``start`` holds the ``N = original_inference_steps`` timesteps ``t_{n+k}`` in decreasing order, exactly those
    ``scheduler.set_timesteps(N)`` gives (``Nk - 1, ..., 2k - 1, k - 1``, ``k = T // N``), so every step count the
    student later samples with lands on them; ``end`` holds each one's ``t_n = t_{n+k} - k``, 0 below the lowest.
    """
    scheduler.set_timesteps(scheduler.config.original_inference_steps)
    start = scheduler.timesteps.clone()
    return start, torch.cat([start[1:], start.new_zeros(1)])


def ddim_step(scheduler: SchedulerMixin, clean: torch.Tensor, sample: torch.Tensor, timesteps: torch.Tensor,
              previous: torch.Tensor) -> torch.Tensor:
    """One deterministic DDIM step (Song et al. 2021, eq. 12 with ``sigma = 0``), a timestep per sample.

    ``x_prev = sqrt(a_prev) x_0 + sqrt(1 - a_prev) eps``, with ``eps = (x_t - sqrt(a_t) x_0) / sqrt(1 - a_t)`` the
    noise that the clean estimate ``x_0`` implies and ``a`` the cumulative alphas of ``scheduler``.

    Args:
        clean: ``(batch, K, S, S)`` the clean estimate ``x_0`` at ``x_t``.
        sample: ``(batch, K, S, S)`` ``x_t``.
        timesteps, previous: ``(batch,)`` each sample's ``t`` (above 0) and the timestep to step to.

    Returns:
        ``(batch, K, S, S)`` ``x_prev``.
    """
    alphas = scheduler.alphas_cumprod.to(sample.device)
    shape = (-1, *[1] * (sample.dim() - 1))
    alpha, alpha_prev = (alphas[t.to(sample.device)].reshape(shape) for t in (timesteps, previous))
    noise = (sample - alpha.sqrt() * clean) / (1 - alpha).sqrt()
    return alpha_prev.sqrt() * clean + (1 - alpha_prev).sqrt() * noise
