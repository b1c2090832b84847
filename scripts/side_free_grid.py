"""Draw a trained model's poses for prompts that leave the side open: does it commit, and to both sides?

    .venv/bin/python scripts/side_free_grid.py --checkpoint runs/demo --out side_free.png [--per-prompt 6]
        [--prompt "a person punching" --action punching ...]

Draws ``--per-prompt`` poses of each side-free prompt (default: one per action whose side the checker tells,
``posegraph.data.checker.SIDE_CHECKS``), the pipeline's DPM-Solver++ steps, guidance 5 over the pipeline's interval, and
captions every cell with the side the checker sees the action done with (``left``, ``right``, ``both``) or ``not done``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from posegraph.data.checker import action_sides  # noqa: E402
from posegraph.pipelines import DEFAULT_GUIDANCE_INTERVAL, DEFAULT_GUIDANCE_SCALE, PoseGraphPipeline  # noqa: E402
from posegraph.render import draw_pose_grid  # noqa: E402

#: One side-free prompt per action whose side the checker tells.
PROMPTS = {"a person standing on one leg": "one_leg", "a person punching": "punching",
           "a person throwing a ball": "throwing"}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a run directory or checkpoint folder")
    parser.add_argument("--out", default="side_free.png", help="where to write the PNG")
    parser.add_argument("--per-prompt", type=int, default=6, help="poses per prompt (one row each)")
    parser.add_argument("--prompt", action="append", help="a side-free prompt (repeat; with --action each)")
    parser.add_argument("--action", action="append", help="the checker's action id of each --prompt")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--guidance-interval", type=int, nargs=2, metavar=("LOW", "HIGH"),
                        default=DEFAULT_GUIDANCE_INTERVAL, help="the timesteps guided (default: %(default)s; "
                        "0 1000 guides every step)")
    args = parser.parse_args(argv)
    if (args.prompt is None) != (args.action is None) or len(args.prompt or []) != len(args.action or []):
        parser.error("give one --action per --prompt")
    prompts = dict(zip(args.prompt, args.action)) if args.prompt else PROMPTS

    pipeline = PoseGraphPipeline.from_pretrained(args.checkpoint)
    size = pipeline.unet.config.sample_size
    output = pipeline(list(prompts), num_poses_per_prompt=args.per_prompt, guidance_scale=DEFAULT_GUIDANCE_SCALE,
                      guidance_interval=tuple(args.guidance_interval),
                      scheduler="dpm-solver++", generator=args.seed, canvas_size=size)
    keypoints = output.keypoints.numpy()
    captions = []
    for row, (prompt, action) in enumerate(prompts.items()):
        poses = slice(row * args.per_prompt, (row + 1) * args.per_prompt)
        captions += [f"[{side or 'not done'}] {prompt}" for side in action_sides(keypoints[poses], action)]
    path = draw_pose_grid(keypoints, captions, canvas_size=size, ncols=args.per_prompt, cell_size=200, path=args.out)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
