"""Limits on what one sampling request may ask, checked before any work starts.

Each check raises ``ValueError`` with one line that names the value, says why it cannot be served and
what to ask for instead:

* :func:`check_inference_steps`: the scheduler's timesteps for ``num_inference_steps`` must be that many
  distinct, decreasing, non-negative training timesteps (a distilled checkpoint's ``LCMScheduler`` takes at
  most its ``original_inference_steps``). More steps than the model's training timesteps
  repeat timesteps (DPM-Solver++ and UniPC then take degenerate steps) or are refused by diffusers (DDPM,
  DDIM); with ``"trailing"`` timestep spacing a few counts (61, 103, ... for 1,000 training timesteps) get
  an extra timestep ``-1`` from a rounding quirk of diffusers.
* :func:`check_request_memory`: the poses a request keeps (about :data:`POSE_BYTES` each, plus
  ``17 * S * S * 4`` bytes of heatmaps when they are returned) must fit in the memory available now.
* :func:`check_seed_range`: pose ``i`` of an int seed uses ``seed + i``, a 64-bit torch seed.
* :func:`check_canvas_size`: ``S`` or ``(height, width)``, positive integers.
"""
from __future__ import annotations

import numbers
import os
from pathlib import Path

__all__ = ["POSE_BYTES", "SEED_MIN", "SEED_MAX", "available_memory_bytes", "format_bytes", "check_inference_steps",
           "check_request_memory", "check_seed_range", "check_canvas_size"]

#: Memory one returned pose keeps without heatmaps, rounded up: keypoints (17 x 3 float32) and confidence
#: (17 float32) tensors, its seed (a Python int) and the list slots of its seed and prompt.
POSE_BYTES = 400

#: Schedulers whose ``set_timesteps(n)`` must give ``n`` distinct decreasing timesteps (the classes of the
#: sampler names); others (PNDM repeats a timestep by design) are checked only for negative timesteps and errors.
ONE_TIMESTEP_PER_STEP = frozenset({"DDPMScheduler", "DDIMScheduler", "DPMSolverMultistepScheduler",
                                   "UniPCMultistepScheduler", "LCMScheduler"})

#: The seeds ``torch.Generator.manual_seed`` takes.
SEED_MIN, SEED_MAX = -(2**63), 2**64 - 1


def available_memory_bytes() -> int | None:
    """Memory the system can give this process now without swapping (Linux ``MemAvailable``), or ``None``
    where it cannot be told."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(value: float) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _schedule_problem(scheduler, num_inference_steps: int) -> str | None:
    """What is wrong with ``scheduler``'s timesteps for ``num_inference_steps`` steps, or ``None``."""
    try:
        scheduler.set_timesteps(num_inference_steps, device="cpu")
    except Exception as error:  # diffusers raises ValueError; other scheduler objects may raise anything
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    timesteps = scheduler.timesteps.tolist()
    if not timesteps:
        return "no timesteps"
    if type(scheduler).__name__ not in ONE_TIMESTEP_PER_STEP:  # e.g. PNDM: its own schedule, checked for range only
        return f"a negative timestep {min(timesteps)}" if min(timesteps) < 0 else None
    if len(timesteps) != num_inference_steps:
        return f"{len(timesteps)} timesteps, the last {timesteps[-1]}"
    if min(timesteps) < 0:
        return f"a negative timestep {min(timesteps)}"
    if any(a <= b for a, b in zip(timesteps, timesteps[1:])):
        return "repeated timesteps"
    return None


def check_inference_steps(scheduler, num_inference_steps: int) -> None:
    """Refuse a step count that does not give ``scheduler`` a proper schedule (see the module docstring).

    ``scheduler`` is a diffusers scheduler object (its ``set_timesteps`` is called, as sampling does anyway).

    Raises:
        ValueError: naming the step count, why, and the counts that work.
    """
    problem = _schedule_problem(scheduler, num_inference_steps)
    if problem is None:
        return
    name = type(scheduler).__name__
    train_steps = scheduler.config.num_train_timesteps
    top = next((n for n in range(min(num_inference_steps, train_steps), 0, -1) if _schedule_problem(scheduler, n) is None),
               None)
    above = next((n for n in range(num_inference_steps + 1, train_steps + 1) if _schedule_problem(scheduler, n) is None),
                 None)
    if top is None or above is None:
        limit = f"at most {top}" if top is not None else "no step count"
        usual = "1 to 4, for a distilled checkpoint," if name == "LCMScheduler" else "10 to 50"
        raise ValueError(f"num_inference_steps={num_inference_steps} is too many for {name} with this model's "
                         f"{train_steps} training timesteps ({problem}); it takes {limit} ({usual} is usual)")
    spacing = scheduler.config.get("timestep_spacing", "?")
    raise ValueError(f"num_inference_steps={num_inference_steps} does not give a proper {name} schedule with this "
                     f"model's {spacing!r} timestep spacing ({problem}: a rounding quirk of diffusers); "
                     f"use {top} or {above}")


def check_request_memory(num_poses: int, bytes_per_pose: int, what: str = "the poses") -> None:
    """Refuse a request whose kept results would not fit in the memory available now.

    Args:
        num_poses: poses the request returns.
        bytes_per_pose: what each keeps (:data:`POSE_BYTES`, plus its heatmaps if returned, plus whatever the
            caller keeps per pose).
        what: what the memory is for, in the message.

    Raises:
        ValueError: saying how much is needed, how much is available and how many poses would fit.
    """
    available = available_memory_bytes()
    needed = num_poses * bytes_per_pose
    if available is None or needed <= available:
        return
    raise ValueError(f"{num_poses:,} poses: {what} would need {format_bytes(needed)} of memory, "
                     f"{format_bytes(available)} is available; ask for at most {available // bytes_per_pose:,} "
                     "poses at a time")


def check_seed_range(seed: int, num_poses: int) -> None:
    """Pose ``i`` uses seed ``seed + i``: all of them must be 64-bit torch seeds."""
    if seed < SEED_MIN or seed + num_poses - 1 > SEED_MAX:
        raise ValueError(f"generator={seed}: the poses' seeds {seed} .. {seed} + {num_poses - 1} must lie in "
                         f"[-2**63, 2**64 - 1] (torch seeds); use a seed such as 0")


def check_canvas_size(canvas_size) -> tuple[int, int]:
    """``S`` or ``(height, width)`` -> ``(height, width)``, positive integers."""
    pair = (canvas_size, canvas_size) if isinstance(canvas_size, numbers.Integral) else canvas_size
    try:
        height, width = pair
    except (TypeError, ValueError):
        raise ValueError(f"canvas_size must be a positive integer S or a pair (height, width), got {canvas_size!r}") \
            from None
    for value in (height, width):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"canvas_size must be a positive integer S or a pair (height, width) of them, "
                             f"got {canvas_size!r}")
    return int(height), int(width)
