"""``python -m posegraph.demo``: the main job on the embedded default data, start to finish.

    python -m posegraph.demo                       # train (or finish training), sample, measure
    python -m posegraph.demo --out runs/demo --max-steps 2500

1. **Train** the ``cpu`` preset on the procedural text-pose data (:mod:`posegraph.data.synthetic`) into
   ``OUT`` with ``--resume latest``: a second run continues an interrupted one, or skips training when the
   run is complete.
2. **Sample** a few poses for each of a handful of prompts (:mod:`posegraph.sample`) into ``OUT/poses``:
   ControlNet-ready PNGs, OpenPose JSON, ``poses.json`` and ``grid.png``.
3. **Measure** whether the model follows its prompts: ``--eval-per-action`` held-out prompts for every
   action of the vocabulary (a seed no training run uses), one pose each with the pipeline's DPM-Solver++ steps and
   guidance, judged by the synthetic data's semantic checker (:mod:`posegraph.data.checker`). The pass
   rate per action and overall, with bootstrap 95 % intervals, goes to ``OUT/accuracy/report.md``, its
   ``metrics.json`` and plots, and to the terminal.

The whole evaluation (paper protocol, diversity, FPD, retrieval) is ``python -m posegraph.evaluate``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from posegraph import sample as sample_cli
from posegraph import train as train_cli
from posegraph.data.captions import caption_for, example_prompts
from posegraph.data.synthetic import ACTIONS
from posegraph.evaluation import semantic_accuracy, write_report
from posegraph.evaluation.run import HELD_OUT_SEED
from posegraph.pipelines import DEFAULT_GUIDANCE_SCALE, DEFAULT_INFERENCE_STEPS, PoseGraphPipeline

__all__ = ["main", "held_out_prompts"]

#: The prompts whose poses land in ``OUT/samples``.
DEMO_ACTIONS = ("standing", "sitting", "lying_down", "waving_right", "raise_both_arms", "kicking_left",
                "touching_toes", "handstand")


def held_out_prompts(per_action: int, seed: int = HELD_OUT_SEED) -> tuple[list[str], list[str]]:
    """``per_action`` fresh prompts for every action: ``(prompts, action ids)``, action by action."""
    rng = np.random.default_rng(seed)
    actions = [action for action in ACTIONS for _ in range(per_action)]
    return [caption_for(action, rng) for action in actions], actions


def measure(run_dir: Path, out: Path, per_action: int, steps: int, guidance_scale: float, seed: int) -> float:
    """Semantic accuracy of ``run_dir``'s newest checkpoint on held-out prompts; writes the report into ``out``."""
    pipeline = PoseGraphPipeline.from_pretrained(run_dir)
    prompts, actions = held_out_prompts(per_action)
    started = time.perf_counter()
    output = pipeline(prompts, guidance_scale=guidance_scale, num_inference_steps=steps, scheduler="dpm-solver++",
                      generator=seed, canvas_size=pipeline.unet.config.sample_size, batch_size=256,
                      return_heatmaps=False)
    seconds = time.perf_counter() - started
    result = semantic_accuracy(output.keypoints.numpy(), actions)
    meta = {"checkpoint": str(run_dir), "prompts": f"{per_action} per action, generator seed {HELD_OUT_SEED}",
            "sampler": f"dpm-solver++, {steps} steps, guidance {guidance_scale}, seed {seed}",
            "sampling": f"{len(prompts)} poses in {seconds:.1f} s ({len(prompts) / seconds:.1f} poses/s)"}
    write_report(out, {"semantic": result}, title="posegraph demo: does the model follow its prompts?",
                 meta=meta)
    print(f"\nsemantic accuracy per action ({per_action} held-out prompts each):")
    for action, estimate in result.per_action.items():
        print(f"  {action:<16} {estimate.value:6.1%}")
    overall = result.overall
    print(f"  {'overall':<16} {overall.value:6.1%}  (95% interval {overall.low:.1%} to {overall.high:.1%}; "
          f"{len(prompts) / seconds:.1f} poses/s)")
    return overall.value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m posegraph.demo", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="run directory")
    parser.add_argument("--preset", default="cpu", help="training preset")
    parser.add_argument("--max-steps", type=int, default=None, help="training steps (default: the preset's)")
    parser.add_argument("--samples-per-prompt", type=int, default=4, help="poses drawn for each demo prompt")
    parser.add_argument("--eval-per-action", type=int, default=20, help="held-out prompts per action measured")
    parser.add_argument("--steps", type=int, default=DEFAULT_INFERENCE_STEPS, help="DPM-Solver++ steps when sampling")
    parser.add_argument("--guidance-scale", type=float, default=DEFAULT_GUIDANCE_SCALE, help="classifier-free guidance")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    return parser


def main(argv: list[str] | None = None) -> float:
    """Train, sample and measure; returns the overall semantic accuracy."""
    args = _parser().parse_args(argv)
    torch.manual_seed(args.seed)
    started = time.perf_counter()
    print(f"[1/3] training the {args.preset!r} preset on synthetic text-pose pairs into {args.out} "
          "(an interrupted run continues; a finished one is kept)")
    steps = [] if args.max_steps is None else ["--max-steps", str(args.max_steps)]
    train_cli.main(["--preset", args.preset, "--out", str(args.out), "--resume", "latest", *steps])

    print("[2/3] sampling poses for the demo prompts")
    prompts = [argument for prompt in example_prompts(DEMO_ACTIONS) for argument in ("--prompt", prompt)]
    samples = sample_cli.main(["--checkpoint", str(args.out), *prompts, "--num-samples", str(args.samples_per_prompt),
                               "--steps", str(args.steps), "--guidance-scale", str(args.guidance_scale),
                               "--seed", str(args.seed), "--out", str(args.out / "poses")])

    print(f"[3/3] measuring prompt following on {args.eval_per_action} held-out prompts per action")
    accuracy = measure(args.out, args.out / "accuracy", args.eval_per_action, args.steps, args.guidance_scale,
                       args.seed)
    print(f"\ndone in {(time.perf_counter() - started) / 60:.1f} min. Look at:\n"
          f"  {samples / 'grid.png'}  the demo prompts' poses (ControlNet-ready: pose_NNNN.png)\n"
          f"  {args.out / 'accuracy' / 'report.md'}  semantic accuracy per action, with plots\n"
          f"  {args.out / 'samples'}/step_N.png  pose grids drawn during training")
    return accuracy


if __name__ == "__main__":
    main()
