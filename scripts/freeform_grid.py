"""Draw a trained model's poses for free-form prompts: what a number on the free-form set looks like.

    .venv/bin/python scripts/freeform_grid.py --checkpoint runs/demo --out freeform.png [--n 24] [--seed 0]
        [--split test|dev]

Picks ``--n`` prompts of a free-form set (``posegraph.evaluation.freeform``: the frozen ``test`` set that is
reported, or the ``dev`` set that recipes are chosen on) at random, draws one pose each (DPM-Solver++ at the
pipeline's steps, guidance 5 over the pipeline's interval; ``--guidance-interval 0 1000`` guides every step) and
captions every cell with the checker's verdict for its labelled action, whether all 12 limb joints are present,
and the prompt.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import numpy as np  # noqa: E402

from posegraph.data.checker import check_action  # noqa: E402
from posegraph.evaluation.freeform import load_freeform_prompts  # noqa: E402
from posegraph.evaluation.integrity import limb_integrity  # noqa: E402
from posegraph.pipelines import DEFAULT_GUIDANCE_INTERVAL, DEFAULT_GUIDANCE_SCALE, PoseGraphPipeline  # noqa: E402
from posegraph.render import draw_pose_grid  # noqa: E402


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a run directory or checkpoint folder")
    parser.add_argument("--out", default="freeform.png", help="where to write the PNG")
    parser.add_argument("--n", type=int, default=24, help="prompts to draw")
    parser.add_argument("--seed", type=int, default=0, help="picks the prompts and the noise")
    parser.add_argument("--guidance-interval", type=int, nargs=2, metavar=("LOW", "HIGH"),
                        default=DEFAULT_GUIDANCE_INTERVAL, help="the timesteps guided (default: %(default)s; "
                        "0 1000 guides every step)")
    parser.add_argument("--ncols", type=int, default=6)
    parser.add_argument("--split", choices=["test", "dev"], default="test", help="which free-form set")
    args = parser.parse_args(argv)

    prompts, actions = load_freeform_prompts(split=args.split)
    chosen = np.random.default_rng(args.seed).choice(len(prompts), size=min(args.n, len(prompts)), replace=False)
    prompts, actions = [prompts[i] for i in chosen], [actions[i] for i in chosen]
    pipeline = PoseGraphPipeline.from_pretrained(args.checkpoint)
    size = pipeline.unet.config.sample_size
    keypoints = pipeline(prompts, guidance_scale=DEFAULT_GUIDANCE_SCALE,
                         guidance_interval=tuple(args.guidance_interval), scheduler="dpm-solver++",
                         generator=args.seed, canvas_size=size).keypoints.numpy()
    passed, whole = check_action(keypoints, actions), limb_integrity(keypoints)
    captions = [f"[{action} {'yes' if ok else 'no'}{'' if full else ', limb joint lost'}] {prompt}"
                for action, ok, full, prompt in zip(actions, passed, whole, prompts)]
    path = draw_pose_grid(keypoints, captions, canvas_size=size, ncols=args.ncols, cell_size=220, path=args.out)
    print(f"wrote {path}: {passed.sum()}/{len(passed)} follow their prompt, {whole.sum()}/{len(whole)} whole")
    return path


if __name__ == "__main__":
    main()
