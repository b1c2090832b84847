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

Pose control:

* ``--init-pose FILE`` (an OpenPose JSON or a COCO keypoint-results JSON file, as :mod:`posegraph.io`
  reads them; ``--pose-index`` picks one of its poses) with ``--keep legs`` (a body part, joint names,
  comma-separated) keeps those joints and generates the rest; with ``--strength S`` it edits the pose
  under the prompt (0 keeps it, 1 ignores it), keeping the ``--keep`` joints if given; alone it edits at
  strength 0.8. An OpenPose file's canvas is the output canvas unless ``--size`` says otherwise (the pose
  is then scaled to fit and centred); a COCO file's poses are pixels of the ``--size`` canvas.
* ``--person "PROMPT" [--box x,y,w,h]``, repeated, draws several people on one canvas (``--size 1024x512``
  for a wide one; without boxes they stand side by side). For scene ``j``: ``scene_{j:04d}.png`` (the
  ControlNet image), ``scene_{j:04d}_keypoints.json`` (OpenPose JSON, one ``people`` entry per person),
  ``coco_results.json`` (one record per person, ``image_id`` ``j``) and ``poses.json`` (one record per
  person with its ``person`` number and ``box``).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from tqdm.auto import tqdm

from posegraph.compose import compose_people
from posegraph.io import read_coco_keypoints, read_openpose_json, write_coco_keypoints, write_openpose_json
from posegraph.pipelines import DEFAULT_GUIDANCE_SCALE, SCHEDULERS, PoseGraphPipeline
from posegraph.pipelines.control import check_strength, keep_mask
from posegraph.render import draw_openpose, draw_pose_grid, save_png

__all__ = ["main"]

GRID_LIMIT = 64


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _canvas(text: str) -> tuple[int, int]:
    """``"512"`` or ``"WIDTHxHEIGHT"`` -> ``(height, width)``."""
    parts = text.lower().split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be N or WIDTHxHEIGHT in pixels, got {text!r}") from None
    if len(values) not in (1, 2) or min(values) < 1:
        raise argparse.ArgumentTypeError(f"must be N or WIDTHxHEIGHT in positive pixels, got {text!r}")
    width, height = values if len(values) == 2 else values * 2
    return height, width


def _box(text: str) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"must be x,y,width,height in canvas pixels, got {text!r}")
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m posegraph.sample", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--checkpoint", required=True, type=Path,
                        help="training run directory, checkpoint directory, saved pipeline or the paper authors' released folder")
    prompts = parser.add_mutually_exclusive_group(required=True)
    prompts.add_argument("--prompt", action="append", help="a prompt (repeat for several; \"\" is unconditional)")
    prompts.add_argument("--prompts-file", type=Path, help="a text file with one prompt a line (blank lines skipped)")
    prompts.add_argument("--person", action="append",
                         help="the prompt of one person of a scene on one canvas (repeat for several people)")
    parser.add_argument("--num-samples", type=_positive_int, default=4, help="poses per prompt")
    parser.add_argument("--seed", type=int, default=0, help="pose i uses seed SEED + i")
    parser.add_argument("--steps", type=_positive_int, default=20, help="denoising steps")
    parser.add_argument("--scheduler", choices=list(SCHEDULERS), default="dpm-solver++")
    parser.add_argument("--guidance-scale", type=float, default=DEFAULT_GUIDANCE_SCALE,
                        help="classifier-free guidance; <= 1 turns it off")
    parser.add_argument("--size", type=_canvas, default=None,
                        help="canvas side in pixels, or WIDTHxHEIGHT (default 512, or an --init-pose OpenPose file's canvas)")
    control = parser.add_argument_group("pose control")
    control.add_argument("--init-pose", type=Path, default=None,
                         help="an OpenPose JSON or COCO keypoint-results JSON file holding the pose to keep joints of or edit")
    control.add_argument("--pose-index", type=int, default=0, help="which pose of --init-pose (0 = the first)")
    control.add_argument("--keep", default=None,
                         help="joints of --init-pose to keep: legs, arms, left_arm, right_arm, left_leg, right_leg, head, "
                              "torso or joint names, comma-separated")
    control.add_argument("--strength", type=float, default=None,
                         help="edit --init-pose under the prompt: 0 keeps it, 1 ignores it (default without --keep: 0.8; "
                              "with --keep and no --strength the other joints are drawn from scratch)")
    control.add_argument("--resample", type=_positive_int, default=1,
                         help="with --keep: take each denoising step this many times (RePaint's resampling)")
    control.add_argument("--box", type=_box, action="append",
                         help="x,y,width,height of one --person's box in canvas pixels (one per --person, in order; "
                              "default: side by side)")
    control.add_argument("--allow-overlap", action="store_true", help="accept --box boxes that overlap")
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
    if args.person is not None:
        return args.person
    try:
        lines = args.prompts_file.read_text().splitlines()
    except OSError as error:
        parser.error(f"--prompts-file {args.prompts_file}: cannot read it ({error.strerror})")
    prompts = [line.strip() for line in lines if line.strip()]
    if not prompts:
        parser.error(f"--prompts-file {args.prompts_file}: no prompts in it (one prompt a line)")
    return prompts


def _record(prompt: str, seed: int, index: int, canvas: tuple[int, int], keypoints: torch.Tensor, **extra) -> dict:
    """One ``poses.json`` entry; ``keypoints`` ``(17, 3)`` in pixels of the ``(height, width)`` canvas."""
    flat = [value for x, y, v in keypoints.tolist() for value in (round(x, 3), round(y, 3), int(v))]
    return {"prompt": prompt, "seed": seed, "index": index, **extra, "width": canvas[1], "height": canvas[0],
            "keypoints": flat}


def _read_init_pose(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[torch.Tensor, tuple[int, int]]:
    """The ``--init-pose`` pose ``(17, 3)`` in pixels of the output canvas, and that canvas ``(height, width)``."""
    path = args.init_pose
    try:
        content = json.loads(path.read_text())
    except OSError as error:
        parser.error(f"--init-pose {path}: cannot read it ({error.strerror})")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        parser.error(f"--init-pose {path}: not a JSON file ({error}); expected OpenPose JSON or COCO keypoint results")
    try:
        if isinstance(content, dict):
            poses = read_openpose_json(path)
            file_canvas = (content.get("canvas_height"), content.get("canvas_width"))
            if not all(isinstance(v, (int, float)) and v > 0 for v in file_canvas):
                file_canvas = None
        else:
            poses, file_canvas = read_coco_keypoints(path).keypoints, None
    except ValueError as error:
        parser.error(f"--init-pose {error}")
    if not -len(poses) <= args.pose_index < len(poses):
        parser.error(f"--pose-index {args.pose_index}: --init-pose {path} holds {len(poses)} pose(s)")
    pose = poses[args.pose_index].clone()
    if file_canvas is None or args.size is None:
        canvas = args.size or (tuple(int(round(v)) for v in file_canvas) if file_canvas else (512, 512))
        return pose, canvas
    (height, width), (file_h, file_w) = args.size, file_canvas
    scale = min(height / file_h, width / file_w)  # the file's canvas scaled to fit the output canvas, centred
    present = pose[:, 2:] > 0
    pose[:, 0] = (pose[:, 0] + 0.5) * scale - 0.5 + (width - file_w * scale) / 2
    pose[:, 1] = (pose[:, 1] + 0.5) * scale - 0.5 + (height - file_h * scale) / 2
    return torch.where(present, pose, torch.zeros_like(pose)), args.size


def _control(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[dict, tuple[int, int]]:
    """The pipeline's pose-control keyword arguments and the canvas ``(height, width)``."""
    for flag, value in (("--keep", args.keep), ("--strength", args.strength)):
        if value is not None and args.init_pose is None:
            parser.error(f"{flag} needs --init-pose FILE, the pose to keep joints of or to edit")
    if args.box is not None and args.person is None:
        parser.error("--box needs --person: one box per person of a scene")
    if args.person is not None and args.init_pose is not None:
        parser.error("--init-pose edits one person; it cannot be combined with --person")
    try:
        if args.keep is not None:
            keep_mask(args.keep, "--keep")
        if args.strength is not None:
            check_strength(args.strength, "--strength")
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    if args.init_pose is None:
        return {}, args.size or (512, 512)
    pose, canvas = _read_init_pose(parser, args)
    if args.keep is not None and args.strength is None:
        return {"keypoints": pose, "keep": args.keep}, canvas
    return {"init_keypoints": pose, "strength": args.strength, "keep": args.keep}, canvas


def _write_scenes(args, pipeline, prompts: list[str], canvas: tuple[int, int]) -> list[dict]:
    """Draw ``--num-samples`` scenes of the ``--person`` prompts; returns the ``poses.json`` records."""
    if args.box is not None and len(args.box) != len(prompts):
        raise ValueError(f"--box: got {len(args.box)} boxes for {len(prompts)} --person prompts; give one each or none")
    records, keypoints, confidence, scene_ids = [], [], [], []
    for scene_index in tqdm(range(args.num_samples), desc="scenes"):
        try:
            scene = compose_people(pipeline, prompts, args.box, canvas_size=canvas, allow_overlap=args.allow_overlap,
                                   generator=args.seed + scene_index * len(prompts), guidance_scale=args.guidance_scale,
                                   num_inference_steps=args.steps, scheduler=args.scheduler)
        except ValueError as error:
            raise ValueError(str(error).replace("boxes[", "--box[").replace("boxes:", "--box:")) from None
        save_png(scene.draw(), args.out / f"scene_{scene_index:04d}.png")
        scene.write_openpose_json(args.out / f"scene_{scene_index:04d}_keypoints.json")
        for person, (prompt, seed, box, pose) in enumerate(zip(scene.prompts, scene.seeds, scene.boxes, scene.keypoints)):
            records.append(_record(prompt, seed, scene_index, canvas, pose, person=person,
                                   box=[round(v, 3) for v in box]))
        keypoints.append(scene.keypoints)
        confidence.append(scene.confidence)
        scene_ids += [scene_index] * len(prompts)
    write_coco_keypoints(args.out / "coco_results.json", torch.cat(keypoints), scene_ids, canvas,
                         scores=torch.cat(confidence).mean(-1))
    return records


def main(argv: list[str] | None = None) -> Path:
    """Run the command line; returns the output directory."""
    parser = _parser()
    args = parser.parse_args(argv)
    prompts = _read_prompts(parser, args)
    control, canvas = _control(parser, args)
    height, width = canvas
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        pipeline = PoseGraphPipeline.from_pretrained(args.checkpoint, device=device)
    except (FileNotFoundError, ValueError) as error:
        parser.error(f"--checkpoint: {error}")
    if args.autocast:
        pipeline.enable_autocast(args.autocast)

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.person is not None:
        try:
            records = _write_scenes(args, pipeline, prompts, canvas)
        except ValueError as error:
            parser.error(str(error))
        _write_records(out, records)
        print(f"{args.num_samples} scene(s) of {len(prompts)} people in {out}/:")
        print("  scene_NNNN.png               ControlNet-ready OpenPose images, every person on one canvas")
        print("  scene_NNNN_keypoints.json    OpenPose JSON, one people entry per person")
        print("  coco_results.json            COCO keypoint results, one record per person (image_id = scene)")
        print("  poses.json                   all keypoints (COCO-17, canvas pixels) with person and box")
        return out

    try:
        output = pipeline(prompts, num_poses_per_prompt=args.num_samples, guidance_scale=args.guidance_scale,
                          num_inference_steps=args.steps, scheduler=args.scheduler, generator=args.seed,
                          canvas_size=canvas, batch_size=args.batch_size, return_heatmaps=False,
                          resample=args.resample, **control)
    except ValueError as error:  # e.g. an --init-pose joint outside the canvas
        parser.error(f"--init-pose {args.init_pose}: {error}" if args.init_pose else str(error))

    records = []
    poses = zip(output.prompts, output.seeds, output.keypoints, output.confidence)
    for index, (prompt, seed, keypoints, confidence) in enumerate(tqdm(poses, total=len(output.prompts), desc="writing")):
        save_png(draw_openpose(keypoints, canvas, canvas), out / f"pose_{index:04d}.png")
        write_openpose_json(out / f"pose_{index:04d}_keypoints.json", keypoints, canvas, confidence=confidence)
        records.append(_record(prompt, seed, index, canvas, keypoints))
    _write_records(out, records)
    shown = slice(0, GRID_LIMIT)
    draw_pose_grid(output.keypoints[shown], output.prompts[shown], canvas_size=canvas,
                   ncols=min(args.num_samples, 8), path=out / "grid.png")

    print(f"{len(records)} poses for {len(prompts)} prompt(s) in {out}/:")
    print(f"  grid.png                     the first {min(len(records), GRID_LIMIT)} poses with their prompts")
    print("  pose_NNNN.png                ControlNet-ready OpenPose images")
    print("  pose_NNNN_keypoints.json     OpenPose JSON")
    print("  poses.json                   all keypoints (COCO-17, canvas pixels)")
    return out


def _write_records(out: Path, records: list[dict]) -> None:
    (out / "poses.json").write_text("[\n" + ",\n".join(json.dumps(record) for record in records) + "\n]\n")


if __name__ == "__main__":
    main()
