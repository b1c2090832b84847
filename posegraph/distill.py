"""``python -m posegraph.distill``: distil a trained run into a student that samples in a few steps, one forward each.

Examples::

    python -m posegraph.distill --teacher runs/demo --out runs/demo-lcm          # 1 step, 12.5 min on 2 CPU cores
    python -m posegraph.distill --teacher runs/demo --out runs/demo-lcm          # again: continues where it stopped
    python -m posegraph.sample --checkpoint runs/demo-lcm --prompt "a person waving" --out samples/

The teacher (a training run directory, whose newest complete checkpoint is taken, or one checkpoint) samples with
DPM-Solver++ steps and classifier-free guidance over an interval of them: 28 unet forwards a pose at 20 steps, 14
at 10. The student is distilled by latent
consistency distillation (Luo et al. 2023; see :mod:`posegraph.distillation.loop`) with the teacher's guidance
folded in, and samples with diffusers' ``LCMScheduler`` in ``--steps`` steps (default 1, one forward a pose: on
the demo checkpoint the student follows prompts best in one step, 83 % against 82 % in two and 69 % in four;
``benchmarks/RESULTS.md``). The goal for the ``cpu`` preset's demo checkpoint: distilled in at most 15 minutes on a 2-core CPU.

Every field of :class:`posegraph.distillation.DistillConfig` is a flag (``--steps``, ``--max-steps``, ``--lr``,
``--guidance-scale``, ...), its defaults those of ``--preset`` (``default``; ``tiny`` for tests) or, when ``--out``
already holds a distillation, the stored ones, so rerunning the command (or ``--out DIR`` alone) continues an
interrupted run from its newest checkpoint. ``--out`` gets training's layout: ``checkpoints/step_N/`` (the newest
``--keep-last``, each a loadable pipeline that picks the LCM scheduler, ``--steps`` and no guidance by itself;
``distill_config.json`` beside ``train_config.json``) and ``logs/`` (TensorBoard: the loss overall and per
quartile of ``t_{n+k}``, the learning rate).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from posegraph.distillation import DISTILL_PRESETS, DistillConfig, distill
from posegraph.training import NonFiniteLossError, resolve_resume
from posegraph.training.config import add_field_arguments, given_fields

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m posegraph.distill", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", required=True, help="run directory of the student (checkpoints, logs)")
    parser.add_argument("--preset", choices=list(DISTILL_PRESETS), default=argparse.SUPPRESS,
                        help="distillation preset whose values the flags override (default: default, or the stored "
                             "config of a run in --out)")
    parser.add_argument("--stop-at", type=int, metavar="ITERATION",
                        help="stop after this iteration, checkpointing it, as if interrupted (the LR schedule still "
                             "runs to --max-steps; rerun to continue)")
    group = parser.add_argument_group("distillation config (defaults: the --preset, or the stored run's)")
    defaults = DistillConfig.from_preset("default", teacher="TEACHER").to_dict()
    add_field_arguments(group, DistillConfig, {k: v for k, v in defaults.items() if k != "teacher"}, "default")
    return parser


def main(argv: list[str] | None = None) -> Path:
    """Run the command line; returns the newest checkpoint."""
    args = build_parser().parse_args(argv)
    try:
        checkpoint = distill(_config(args), args.out, stop_at=args.stop_at)
    except (ValueError, OSError, NonFiniteLossError) as error:
        raise SystemExit(f"python -m posegraph.distill: error: {error}") from error
    print(f"newest checkpoint: {checkpoint}\nsample with: python -m posegraph.sample --checkpoint {args.out} "
          "--prompt \"a person waving\" --out samples/", file=sys.stderr)
    return checkpoint


def _config(args: argparse.Namespace) -> DistillConfig:
    """The asked-for config: flags over the --preset, else over the stored config of the run in --out."""
    stored = resolve_resume("latest", Path(args.out))
    if hasattr(args, "preset") or stored is None or not (stored / DistillConfig.file_name).is_file():
        base = DISTILL_PRESETS[getattr(args, "preset", "default")]
    else:
        base = DistillConfig.from_json(stored / DistillConfig.file_name).to_dict()
    values = {**base, **given_fields(args, DistillConfig)}
    if "teacher" not in values:
        raise ValueError("--teacher DIR is required: the trained run or checkpoint to distil")
    return DistillConfig(**values)


if __name__ == "__main__":
    main()
