"""``python -m posegraph.sample``: text prompts -> pose files from a trained pipeline.

    python -m posegraph.sample --checkpoint runs/demo --prompt "a person waving with the right hand" \
        --num-samples 4 --out samples/

``--checkpoint`` takes a training run directory (its latest complete checkpoint), one checkpoint
(``RUN_DIR/checkpoints/step_N``), a directory written by ``PoseGraphPipeline.save_pretrained`` or the paper
authors' released diffusers folder (see the README, "Using the paper's released weights").
Into ``--out`` go, for pose ``i`` (all poses of the first prompt first):

* ``pose_{i:04d}.png``: the ControlNet-ready OpenPose-18 drawing, ``--size`` pixels square;
* ``pose_{i:04d}_keypoints.json``: the pose as OpenPose JSON (confidence = the heatmap peak);
* ``grid.png``: the first poses (at most 64) with their prompts;
* ``poses.json``: ``[{"prompt", "seed", "index", "width", "height", "keypoints": [x, y, v] * 17}]``,
  COCO-17 order, ``x, y`` in pixels of the canvas, ``v`` 2 (present) or 0 (absent). ``index`` is
  ``i``; ``seed`` is the pose's own seed: ``--seed SEED --num-samples 1`` with its prompt draws it again.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from tqdm.auto import tqdm

from posegraph.io import write_openpose_json
from posegraph.pipelines import DEFAULT_GUIDANCE_SCALE, SCHEDULERS, PoseGraphPipeline
from posegraph.render import draw_openpose, draw_pose_grid, save_png

__all__ = ["main"]

GRID_LIMIT = 64


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m posegraph.sample", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--checkpoint", required=True, type=Path,
                        help="training run directory, checkpoint directory, saved pipeline or the paper authors' released folder")
    prompts = parser.add_mutually_exclusive_group(required=True)
    prompts.add_argument("--prompt", action="append", help="a prompt (repeat for several; \"\" is unconditional)")
    prompts.add_argument("--prompts-file", type=Path, help="a text file with one prompt a line (blank lines skipped)")
    parser.add_argument("--num-samples", type=_positive_int, default=4, help="poses per prompt")
    parser.add_argument("--seed", type=int, default=0, help="pose i uses seed SEED + i")
    parser.add_argument("--steps", type=_positive_int, default=20, help="denoising steps")
    parser.add_argument("--scheduler", choices=list(SCHEDULERS), default="dpm-solver++")
    parser.add_argument("--guidance-scale", type=float, default=DEFAULT_GUIDANCE_SCALE,
                        help="classifier-free guidance; <= 1 turns it off")
    parser.add_argument("--size", type=_positive_int, default=512, help="canvas side in pixels")
    parser.add_argument("--batch-size", type=_positive_int, default=64, help="poses denoised together")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    parser.add_argument("--autocast", choices=["bf16", "fp16"], default=None,
                        help="run the unet in half precision (bf16: 1.6x on the benchmark CPU with the same accuracy, "
                             "see benchmarks/RESULTS.md; fp16: GPUs)")
    return parser


def _read_prompts(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    if args.prompt is not None:
        return args.prompt
    try:
        lines = args.prompts_file.read_text().splitlines()
    except OSError as error:
        parser.error(f"--prompts-file {args.prompts_file}: cannot read it ({error.strerror})")
    prompts = [line.strip() for line in lines if line.strip()]
    if not prompts:
        parser.error(f"--prompts-file {args.prompts_file}: no prompts in it (one prompt a line)")
    return prompts


def _record(prompt: str, seed: int, index: int, size: int, keypoints: torch.Tensor) -> dict:
    """One ``poses.json`` entry; ``keypoints`` ``(17, 3)`` in canvas pixels."""
    flat = [value for x, y, v in keypoints.tolist() for value in (round(x, 3), round(y, 3), int(v))]
    return {"prompt": prompt, "seed": seed, "index": index, "width": size, "height": size, "keypoints": flat}


def main(argv: list[str] | None = None) -> Path:
    """Run the command line; returns the output directory."""
    parser = _parser()
    args = parser.parse_args(argv)
    prompts = _read_prompts(parser, args)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        pipeline = PoseGraphPipeline.from_pretrained(args.checkpoint, device=device)
    except (FileNotFoundError, ValueError) as error:
        parser.error(f"--checkpoint: {error}")
    if args.autocast:
        pipeline.enable_autocast(args.autocast)

    output = pipeline(prompts, num_poses_per_prompt=args.num_samples, guidance_scale=args.guidance_scale,
                      num_inference_steps=args.steps, scheduler=args.scheduler, generator=args.seed,
                      canvas_size=args.size, batch_size=args.batch_size, return_heatmaps=False)

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    records = []
    poses = zip(output.prompts, output.seeds, output.keypoints, output.confidence)
    for index, (prompt, seed, keypoints, confidence) in enumerate(tqdm(poses, total=len(output.prompts), desc="writing")):
        save_png(draw_openpose(keypoints, args.size, args.size), out / f"pose_{index:04d}.png")
        write_openpose_json(out / f"pose_{index:04d}_keypoints.json", keypoints, args.size, confidence=confidence)
        records.append(_record(prompt, seed, index, args.size, keypoints))
    (out / "poses.json").write_text("[\n" + ",\n".join(json.dumps(record) for record in records) + "\n]\n")
    shown = slice(0, GRID_LIMIT)
    draw_pose_grid(output.keypoints[shown], output.prompts[shown], canvas_size=args.size,
                   ncols=min(args.num_samples, 8), path=out / "grid.png")

    print(f"{len(records)} poses for {len(prompts)} prompt(s) in {out}/:")
    print(f"  grid.png                     the first {min(len(records), GRID_LIMIT)} poses with their prompts")
    print("  pose_NNNN.png                ControlNet-ready OpenPose images")
    print("  pose_NNNN_keypoints.json     OpenPose JSON")
    print("  poses.json                   all keypoints (COCO-17, canvas pixels)")
    return out


if __name__ == "__main__":
    main()
