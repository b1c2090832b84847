"""``python -m posegraph.train``: train a GUNet on text-pose pairs.

Examples::

    python -m posegraph.train --preset cpu --out runs/demo                # synthetic data, this CPU
    python -m posegraph.train --out runs/demo --resume latest             # continue where it stopped
    accelerate launch -m posegraph.train --preset paper --out runs/coco \\
        --coco-keypoints person_keypoints_train2017.json --coco-captions captions_train2017.json
    ACCELERATE_USE_CPU=1 accelerate launch --multi_gpu --num_processes 2 -m posegraph.train ...  # 2 CPU processes

(``accelerate launch --cpu --num_processes 2`` starts several CPU processes only through mpirun;
without it, it runs one. ``--batch-size`` is per process.)

Every field of :class:`posegraph.training.TrainConfig` is a flag (``--max-steps``, ``--batch-size``,
``--lr``, ``--prediction-type``, ...). Defaults come from ``--preset`` (``tiny``, ``cpu``, ``paper``), or,
when resuming, from the checkpoint's own config, so ``--resume latest`` alone is enough. A resume may
change the run-control flags and, to rescue a run whose loss became NaN, ``--lr``, ``--warmup-steps`` and
``--max-grad-norm`` (recorded in ``RUN_DIR/history.jsonl``); ``--resume latest`` skips a newest checkpoint
whose files do not read back, with a warning naming the file.

The run directory gets ``checkpoints/step_N/`` (the newest ``--keep-last``; each is a loadable
pipeline: ``python -m posegraph.sample --checkpoint RUN_DIR``), ``logs/`` (TensorBoard) and
``samples/step_N.png`` (pose grids drawn with the EMA weights).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accelerate import PartialState

from posegraph.training import NonFiniteLossError, TrainConfig, resolve_resume, train
from posegraph.training.config import add_config_arguments, config_from_arguments

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m posegraph.train", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", default="runs/train", help="run directory (checkpoints, logs, sample grids)")
    parser.add_argument("--resume", metavar="latest|DIR",
                        help="continue a run: 'latest' (the newest checkpoint in --out; a fresh start if it has "
                             "none), a checkpoint directory or a run directory")
    parser.add_argument("--config", metavar="FILE",
                        help="start from this JSON config (e.g. a checkpoint's train_config.json) instead of --preset")
    parser.add_argument("--stop-at", type=int, metavar="STEP",
                        help="stop after this step, checkpointing it, as if interrupted (the LR schedule still "
                             "runs to --max-steps; continue with --resume latest)")
    add_config_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        config = _config(args)
        checkpoint = train(config, args.out, resume=args.resume, stop_at=args.stop_at)
    except (ValueError, OSError, NonFiniteLossError) as error:
        raise SystemExit(f"posegraph.train: error: {error}") from error
    if PartialState().is_main_process:
        print(f"newest checkpoint: {checkpoint}\nsample with: python -m posegraph.sample --checkpoint {args.out}",
              file=sys.stderr)


def _config(args: argparse.Namespace) -> TrainConfig:
    """The asked-for config: flags over --config, else over the resumed checkpoint's, else over --preset."""
    if args.config is not None:
        if hasattr(args, "preset"):
            raise ValueError("give --config FILE or --preset NAME, not both")
        return config_from_arguments(args, TrainConfig.from_json(args.config))
    checkpoint = resolve_resume(args.resume, Path(args.out)) if args.resume else None
    if checkpoint is not None:
        return config_from_arguments(args, TrainConfig.from_json(checkpoint / "train_config.json"))
    return config_from_arguments(args)


if __name__ == "__main__":
    main()
