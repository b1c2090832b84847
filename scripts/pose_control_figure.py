"""The README's pose-control picture: kept legs with three arm prompts, an edited pose, a two-person scene.

    python scripts/pose_control_figure.py --checkpoint runs/demo --out docs/images/pose_control.png

Top row: a held-out synthetic standing pose, whose legs (hips, knees, ankles) are kept while three arm
prompts draw the rest. Bottom row: a pose edited under a new prompt (``--strength``), and two people on one
1024 x 512 canvas, each in its box. DPM-Solver++, 20 steps, the default guidance; everything is seeded.
"""
from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import torch

from posegraph.compose import compose_people
from posegraph.data.synthetic import SyntheticPoseGenerator
from posegraph.pipelines import DEFAULT_GUIDANCE_SCALE, PoseGraphPipeline
from posegraph.pipelines.control import frame_to_box
from posegraph.render import draw_openpose

ARM_PROMPTS = ["a person raising both arms", "a woman waving her left hand", "a man with his hands on his hips"]
EDIT_PROMPT = "a man raising his left arm"
SCENE_PROMPTS = ["a man waving his right hand", "a woman sitting on a chair"]
CANVAS = 512


def standing_pose(size: int, seed: int) -> torch.Tensor:
    """A held-out synthetic standing pose seen from the front (the widest hips of 32 drawn), ``(17, 3)`` in
    pixels of the ``CANVAS`` square."""
    poses = torch.as_tensor(SyntheticPoseGenerator(size=size, seed=seed).sample(32, "standing").keypoints)
    complete = (poses[..., 2] > 0).all(-1)
    hips = (poses[:, 11, 0] - poses[:, 12, 0]).abs() * complete
    kp = frame_to_box(poses[int(hips.argmax())], size, (0, 0, CANVAS, CANVAS))
    return torch.where(kp[:, 2:] > 0, kp, torch.zeros_like(kp))


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, type=Path, help="run directory, checkpoint or saved pipeline")
    parser.add_argument("--out", type=Path, default=Path("docs/images/pose_control.png"))
    parser.add_argument("--seed", type=int, default=0, help="seeds the poses drawn (the given poses are fixed)")
    parser.add_argument("--strength", type=float, default=0.7, help="strength of the edit")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--scheduler", default="dpm-solver++")
    parser.add_argument("--guidance-scale", type=float, default=DEFAULT_GUIDANCE_SCALE)
    args = parser.parse_args(argv)

    pipe = PoseGraphPipeline.from_pretrained(args.checkpoint)
    pipe.set_progress_bar_config(disable=True)
    size = pipe.unet.config.sample_size
    options = dict(scheduler=args.scheduler, num_inference_steps=args.steps, guidance_scale=args.guidance_scale)

    legs_given = standing_pose(size, seed=40_000)
    kept = pipe(ARM_PROMPTS, keypoints=legs_given, keep="legs", generator=args.seed, canvas_size=CANVAS, **options)
    edit_given = standing_pose(size, seed=40_001)
    edited = pipe(EDIT_PROMPT, init_keypoints=edit_given, strength=args.strength, generator=args.seed + 10,
                  canvas_size=CANVAS, **options)
    scene = compose_people(pipe, SCENE_PROMPTS, canvas_size=(CANVAS, 2 * CANVAS), generator=args.seed + 20, **options)

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 6.6), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 4)
    legs_only = legs_given.clone()
    legs_only[:11] = 0.0  # show what is kept: the legs
    panels = [
        (grid[0, 0], draw_openpose(legs_only, CANVAS), "given: the legs of a standing pose (kept)"),
        *((grid[0, 1 + i], draw_openpose(kept.keypoints[i], CANVAS), f'legs kept: "{p}"')
          for i, p in enumerate(ARM_PROMPTS)),
        (grid[1, 0], draw_openpose(edit_given, CANVAS), "given: a standing pose"),
        (grid[1, 1], draw_openpose(edited.keypoints[0], CANVAS), f'edited, strength {args.strength:g}: "{EDIT_PROMPT}"'),
        (grid[1, 2:], scene.draw(), "two people, one canvas: " + " | ".join(f'"{p}"' for p in SCENE_PROMPTS)),
    ]
    for where, image, title in panels:
        ax = fig.add_subplot(where)
        ax.imshow(image, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        wide = image.shape[1] > image.shape[0]
        ax.set_title(textwrap.fill(title, 70 if wide else 34), fontsize=9)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")
    return args.out


if __name__ == "__main__":
    main()
