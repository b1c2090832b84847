"""``python -m posegraph.sample``: text prompts -> pose files from a trained pipeline.

    python -m posegraph.sample --checkpoint runs/demo --prompt "a person waving with the right hand" \
        --num-samples 4 --out samples/

``--checkpoint`` takes a training run directory (its latest complete checkpoint), one checkpoint
(``RUN_DIR/checkpoints/step_N``), a directory written by ``PoseGraphPipeline.save_pretrained`` or the paper
authors' released diffusers folder (see the README, "Using the paper's released weights").
Into ``--out`` go, for pose ``i`` (all poses of the first prompt first):

* ``pose_{i:04d}.png``: the ControlNet-ready OpenPose-18 drawing, on the ``--size`` canvas;
* ``pose_{i:04d}_keypoints.json``: the pose as OpenPose JSON (confidence = the heatmap peak), unless the
  model's skeleton has no OpenPose form (a custom layout; ``poses.json`` holds its poses);
* ``grid.png``: the first poses (at most 64) with their prompts;
* ``poses.json``: ``[{"prompt", "seed", "index", "width", "height", "keypoints": [x, y, v] * K}]``, in the
  joint order of the model's skeleton (``K`` = 17, COCO-17, unless it was trained on another layout), ``x, y``
  in pixels of the canvas, ``v`` 2 (present) or 0 (absent). ``index`` is ``i``; ``seed`` is the pose's own
  seed: ``--seed SEED --num-samples 1`` with its prompt draws it again.

Pose control:

* ``--init-pose FILE`` (an OpenPose JSON or a COCO keypoint-results JSON file, as :mod:`posegraph.io`
  reads them, converted to the model's skeleton; ``--pose-index`` picks one of its poses) with ``--keep legs`` (a body part, joint names,
  comma-separated) keeps those joints and generates the rest; with ``--strength S`` it edits the pose
  under the prompt (0 keeps it, 1 ignores it), keeping the ``--keep`` joints if given; alone it edits at
  strength 0.8. An OpenPose file's canvas is the output canvas unless ``--size`` says otherwise (the pose
  is then scaled to fit and centred); a COCO file's poses are pixels of the ``--size`` canvas.
* ``--person "PROMPT" [--box x,y,w,h]``, repeated, draws several people on one canvas (``--size 1024x512``
  for a wide one; without boxes they stand side by side). For scene ``j``: ``scene_{j:04d}.png`` (the
  ControlNet image), ``scene_{j:04d}_keypoints.json`` (OpenPose JSON, one ``people`` entry per person),
  ``coco_results.json`` (one record per person, ``image_id`` ``j``) and ``poses.json`` (one record per
  person with its ``person`` number and ``box``).

``--out`` is written as a unit: the files go into a hidden folder beside it, renamed into place at the
end, so ``--out`` holds one run's files and nothing else, whatever happens (a crash, a full disk, a second
run into the same folder at the same time). A folder holding an earlier run's output is replaced whole; a
folder holding any other file is refused. Everything that can be checked is checked before sampling
starts (the folder, ``--size`` and the number of poses against the memory available, the device, the
pose-control flags and the ``--init-pose`` file, the steps against the scheduler); a wrong argument exits
with status 2 and one message, never a traceback. ``--size`` is at most 16384 pixels a side.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch
from tqdm.auto import tqdm

from posegraph.compose import compose_people
from posegraph.io import read_coco_keypoints, read_openpose_json, write_coco_keypoints, write_openpose_json
from posegraph.outputs import SAMPLE_FILE, OutputDirError, StagedOutputDir
from posegraph.pipelines import (DEFAULT_GUIDANCE_INTERVAL, DEFAULT_GUIDANCE_SCALE, DEFAULT_INFERENCE_STEPS,
                                 DEFAULT_SCHEDULER, SCHEDULERS, PoseGraphPipeline)
from posegraph.pipelines.control import check_strength, keep_mask
from posegraph.pipelines.limits import POSE_BYTES, available_memory_bytes, check_request_memory, format_bytes
from posegraph.render import draw_openpose, draw_pose_grid, save_png
from posegraph.skeleton import COCO_17, OPENPOSE_18, Skeleton, convert_keypoints, missing_joints

__all__ = ["main"]

GRID_LIMIT = 64
#: The largest ``--size`` side: 16384 pixels, beyond what pose-conditioned image generators take.
MAX_SIZE = 16384
#: The canvas without ``--size`` (and without an ``--init-pose`` OpenPose file's canvas), ``(height, width)``.
DEFAULT_CANVAS = (512, 512)
#: Peak memory of drawing and writing one pose image, in bytes per pixel (measured: about 30).
IMAGE_BYTES_PER_PIXEL = 33
#: The largest ``--seed``: pose ``i`` uses ``SEED + i``, and torch seeds are 64-bit.
MAX_SEED = 2**63 - 1


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def _positive_int(text: str, limit: int | None = None) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    if limit is not None and value > limit:
        raise argparse.ArgumentTypeError(f"must be at most {limit}, got {value}")
    return value


def _canvas(text: str) -> tuple[int, int]:
    """``"512"`` or ``"WIDTHxHEIGHT"`` -> ``(height, width)``, each side at most :data:`MAX_SIZE`."""
    try:
        values = [int(part) for part in text.lower().split("x")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be N or WIDTHxHEIGHT in pixels, got {text!r}") from None
    if len(values) not in (1, 2) or min(values) < 1:
        raise argparse.ArgumentTypeError(f"must be N or WIDTHxHEIGHT in positive pixels, got {text!r}")
    if max(values) > MAX_SIZE:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SIZE}{' a side' if len(values) == 2 else ''}, "
                                         f"got {text}")
    width, height = values if len(values) == 2 else values * 2
    return height, width


def _size_text(canvas: tuple[int, int]) -> str:
    """``(height, width)`` -> the ``--size`` that gives it."""
    height, width = canvas
    return str(width) if height == width else f"{width}x{height}"


def _box(text: str) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"must be x,y,width,height in canvas pixels, got {text!r}")
    return values


def _seed(text: str) -> int:
    value = _integer(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2**63 - 1, got {value}")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


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
    parser.add_argument("--num-samples", type=_positive_int, default=4, help="poses per prompt (with --person: scenes)")
    parser.add_argument("--seed", type=_seed, default=0, help="pose i uses seed SEED + i (0 to 2**63 - 1)")
    parser.add_argument("--steps", type=_positive_int, default=None,
                        help=f"denoising steps (at most the model's training timesteps, usually 1000; default "
                             f"{DEFAULT_INFERENCE_STEPS}, or the steps a distilled checkpoint was distilled for)")
    parser.add_argument("--scheduler", choices=list(SCHEDULERS), default=None,
                        help=f"default {DEFAULT_SCHEDULER}; a distilled checkpoint samples with its own LCM scheduler "
                             "and takes none of these")
    parser.add_argument("--guidance-scale", type=_finite_float, default=None,
                        help=f"classifier-free guidance; <= 1 turns it off (default {DEFAULT_GUIDANCE_SCALE:g}; off, "
                             "and folded into the unet, for a distilled checkpoint)")
    parser.add_argument("--guidance-interval", type=int, nargs=2, metavar=("LOW", "HIGH"),
                        help="guide only the steps at training timesteps LOW..HIGH (0 1000: every step; default: "
                             f"{DEFAULT_GUIDANCE_INTERVAL[0]} {DEFAULT_GUIDANCE_INTERVAL[1]}, every step for edits)")
    parser.add_argument("--size", type=_canvas, default=None,
                        help=f"canvas side in pixels, or WIDTHxHEIGHT, at most {MAX_SIZE} a side (default 512, or an "
                             "--init-pose OpenPose file's canvas)")
    _add_control(parser)
    parser.add_argument("--batch-size", type=_positive_int, default=64, help="poses denoised together")
    parser.add_argument("--out", required=True, type=Path,
                        help="output folder: new, empty or an earlier run's (replaced whole)")
    parser.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    parser.add_argument("--autocast", choices=["bf16", "fp16"], default=None,
                        help="run the unet in half precision (bf16: 1.6x on the benchmark CPU with the same accuracy, "
                             "see benchmarks/RESULTS.md; fp16: GPUs)")
    return parser


def _add_control(parser: argparse.ArgumentParser) -> None:
    control = parser.add_argument_group("pose control")
    control.add_argument("--init-pose", type=Path, default=None,
                         help="an OpenPose JSON or COCO keypoint-results JSON file holding the pose to keep joints of or edit")
    control.add_argument("--pose-index", type=_integer, default=0, help="which pose of --init-pose (0 = the first)")
    control.add_argument("--keep", default=None,
                         help="joints of --init-pose to keep: legs, arms, left_arm, right_arm, left_leg, right_leg, head, "
                              "torso or joint names, comma-separated")
    control.add_argument("--strength", type=_finite_float, default=None,
                         help="edit --init-pose under the prompt: 0 keeps it, 1 ignores it (default without --keep: 0.8; "
                              "with --keep and no --strength the other joints are drawn from scratch)")
    control.add_argument("--resample", type=_positive_int, default=1,
                         help="with --keep: take each denoising step this many times (RePaint's resampling)")
    control.add_argument("--box", type=_box, action="append",
                         help="x,y,width,height of one --person's box in canvas pixels (one per --person, in order; "
                              "default: side by side)")
    control.add_argument("--allow-overlap", action="store_true", help="accept --box boxes that overlap")


def _read_prompts(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    if args.prompt is not None:
        return args.prompt
    if args.person is not None:
        return args.person
    try:
        lines = args.prompts_file.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        parser.error(f"--prompts-file {args.prompts_file}: cannot read it ({error.strerror})")
    except UnicodeDecodeError as error:
        parser.error(f"--prompts-file {args.prompts_file}: not UTF-8 text (byte {error.start}); save it as UTF-8")
    prompts = [line.strip() for line in lines if line.strip()]
    if not prompts:
        parser.error(f"--prompts-file {args.prompts_file}: no prompts in it (one prompt a line)")
    return prompts


def _record(prompt: str, seed: int, index: int, canvas: tuple[int, int], keypoints: torch.Tensor, **extra) -> dict:
    """One ``poses.json`` entry; ``keypoints`` ``(K, 3)`` in pixels of the ``(height, width)`` canvas."""
    flat = [value for x, y, v in keypoints.tolist() for value in (round(x, 3), round(y, 3), int(v))]
    return {"prompt": prompt, "seed": seed, "index": index, **extra, "width": canvas[1], "height": canvas[0],
            "keypoints": flat}


def _read_pose_file(parser: argparse.ArgumentParser, path: Path) -> tuple[torch.Tensor, tuple[int, int] | None]:
    """The COCO-17 poses ``(N, 17, 3)`` of an OpenPose or COCO results file, and an OpenPose file's canvas."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        parser.error(f"--init-pose {path}: cannot read it ({error.strerror})")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        parser.error(f"--init-pose {path}: not a JSON file ({error}); expected OpenPose JSON or COCO keypoint results")
    try:
        if not isinstance(content, dict):
            return read_coco_keypoints(path).keypoints, None
        poses = read_openpose_json(path)
    except ValueError as error:
        parser.error(f"--init-pose {error}")
    file_canvas = (content.get("canvas_height"), content.get("canvas_width"))
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in file_canvas):
        return poses, None
    return poses, tuple(int(round(v)) for v in file_canvas)


def _read_init_pose(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[torch.Tensor, tuple[int, int]]:
    """The ``--init-pose`` COCO-17 pose ``(17, 3)`` in pixels of the output canvas, and that canvas ``(height, width)``."""
    path = args.init_pose
    poses, file_canvas = _read_pose_file(parser, path)
    if not -len(poses) <= args.pose_index < len(poses):
        parser.error(f"--pose-index {args.pose_index}: --init-pose {path} holds {len(poses)} pose(s)")
    pose = poses[args.pose_index].clone()
    if file_canvas is None or args.size is None:
        canvas = args.size or file_canvas or DEFAULT_CANVAS
        if max(canvas) > MAX_SIZE:
            parser.error(f"--init-pose {path}: its canvas {_size_text(canvas)} is larger than {MAX_SIZE} a side; "
                         "give --size to scale the pose to a smaller canvas")
        return pose, canvas
    (height, width), (file_h, file_w) = args.size, file_canvas
    scale = min(height / file_h, width / file_w)  # the file's canvas scaled to fit the output canvas, centred
    present = pose[:, 2:] > 0
    pose[:, 0] = (pose[:, 0] + 0.5) * scale - 0.5 + (width - file_w * scale) / 2
    pose[:, 1] = (pose[:, 1] + 0.5) * scale - 0.5 + (height - file_h * scale) / 2
    return torch.where(present, pose, torch.zeros_like(pose)), args.size


def _check_control_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The pose-control flags that need one another, or exclude one another, and their values."""
    for flag, value in (("--keep", args.keep), ("--strength", args.strength)):
        if value is not None and args.init_pose is None:
            parser.error(f"{flag} needs --init-pose FILE, the pose to keep joints of or to edit")
    if args.box is not None and args.person is None:
        parser.error("--box needs --person: one box per person of a scene")
    if args.box is not None and len(args.box) != len(args.person):
        parser.error(f"--box: got {len(args.box)} boxes for {len(args.person)} --person prompts; give one each or none")
    if args.person is not None and args.init_pose is not None:
        parser.error("--init-pose edits one person; it cannot be combined with --person")
    try:
        if args.keep is not None:
            keep_mask(args.keep, "--keep")
        if args.strength is not None:
            check_strength(args.strength, "--strength")
    except (TypeError, ValueError) as error:
        parser.error(str(error))


def _control(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[dict, tuple[int, int]]:
    """The pipeline's pose-control keyword arguments and the canvas ``(height, width)``."""
    _check_control_flags(parser, args)
    if args.init_pose is None:
        return {}, args.size or DEFAULT_CANVAS
    pose, canvas = _read_init_pose(parser, args)
    if args.keep is not None and args.strength is None:
        return {"keypoints": pose, "keep": args.keep}, canvas
    return {"init_keypoints": pose, "strength": args.strength, "keep": args.keep}, canvas


def _check_device(parser: argparse.ArgumentParser, name: str | None) -> str:
    """The torch device to run on, checked to exist here before anything is loaded."""
    if name is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        torch.empty(0, device=name)
    except (RuntimeError, AssertionError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        parser.error(f"--device {name}: not usable on this machine ({first}); use --device cpu")
    return name


def _check_memory(parser: argparse.ArgumentParser, args: argparse.Namespace, num_poses: int,
                  canvas: tuple[int, int]) -> None:
    """The poses' keypoints and one image (a pose or a scene) at a time must fit in the memory available now."""
    height, width = canvas
    image = IMAGE_BYTES_PER_PIXEL * height * width
    available = available_memory_bytes()
    if available is not None and image > available:
        scale = math.sqrt(available / image)
        fits = _size_text((max(1, int(height * scale)), max(1, int(width * scale))))
        parser.error(f"--size {_size_text(canvas)}: drawing one {width} x {height} image needs about "
                     f"{format_bytes(image)} of memory, {format_bytes(available)} is available; use --size {fits} "
                     "or less")
    try:
        check_request_memory(num_poses, POSE_BYTES, "their keypoints")
    except ValueError as error:
        parser.error(f"--num-samples {args.num_samples}: {error}")


def _fail(message: str) -> None:
    """A failure of the machine, not of the arguments: one line, exit status 1."""
    print(f"python -m posegraph.sample: error: {message}", file=sys.stderr)
    raise SystemExit(1)


def main(argv: list[str] | None = None) -> Path:
    """Run the command line; returns the output directory."""
    parser = _parser()
    args = parser.parse_args(argv)
    prompts = _read_prompts(parser, args)
    control, canvas = _control(parser, args)
    device = _check_device(parser, args.device)
    _check_memory(parser, args, len(prompts) * args.num_samples, canvas)
    try:
        staged = StagedOutputDir(args.out, SAMPLE_FILE.fullmatch, flag="--out")
    except OutputDirError as error:
        parser.error(str(error))
    try:
        count = _run(parser, args, prompts, control, canvas, device, staged.path)
        staged.publish()
    except OutputDirError as error:
        parser.error(str(error))
    except OSError as error:
        _fail(f"cannot write the poses ({error.strerror or error}: {error.filename or staged.path}); "
              f"{args.out} was left as it was")
    finally:
        staged.discard()  # nothing left after publishing; everything after a failure
    _report(args, prompts, count)
    return args.out


def _run(parser, args, prompts: list[str], control: dict, canvas: tuple[int, int], device: str, folder: Path) -> int:
    """Load the pipeline, sample and write everything into ``folder``; returns the number of poses."""
    pipeline = _load(parser, args, device)
    if args.person is not None:
        return _write_scenes(parser, args, pipeline, prompts, canvas, folder)
    output = _sample(parser, args, pipeline, prompts, _in_layout(parser, args, control, pipeline.skeleton), canvas)
    _write(output, args, canvas, folder, pipeline.skeleton)
    return len(output.prompts)


def _in_layout(parser: argparse.ArgumentParser, args: argparse.Namespace, control: dict, skeleton: Skeleton) -> dict:
    """The pose-control arguments with the ``--init-pose`` pose (read as COCO-17) in the model's layout."""
    try:
        return {key: convert_keypoints(value, COCO_17, skeleton) if key in ("keypoints", "init_keypoints") else value
                for key, value in control.items()}
    except ValueError as error:
        parser.error(f"--init-pose {args.init_pose}: {error}")


def _report(args: argparse.Namespace, prompts: list[str], count: int) -> None:
    if args.person is not None:
        print(f"{args.num_samples} scene(s) of {len(prompts)} people in {args.out}/:")
        print("  scene_NNNN.png               ControlNet-ready OpenPose images, every person on one canvas")
        print("  scene_NNNN_keypoints.json    OpenPose JSON, one people entry per person")
        print("  coco_results.json            COCO keypoint results, one record per person (image_id = scene)")
        print("  poses.json                   all keypoints (the model's joint order, canvas pixels) with person and box")
        return
    print(f"{count} poses for {len(prompts)} prompt(s) in {args.out}/:")
    print(f"  grid.png                     the first {min(count, GRID_LIMIT)} poses with their prompts")
    print("  pose_NNNN.png                ControlNet-ready OpenPose images")
    print("  pose_NNNN_keypoints.json     OpenPose JSON")
    print("  poses.json                   all keypoints (the model's joint order, canvas pixels)")


#: The pipeline's and compose_people's argument names in their messages -> the flags that set them.
_API_NAMES = {"num_inference_steps=": "--steps ", "generator=": "--seed ", "return_heatmaps=True": "heatmaps",
              "boxes[": "--box[", "boxes:": "--box:", "guidance_scale:": "--guidance-scale:",
              "leave guidance_scale out": "leave --guidance-scale out", "scheduler=": "--scheduler ",
              "leave scheduler out": "leave --scheduler out"}


def _flags(message: str) -> str:
    for name, flag in _API_NAMES.items():
        message = message.replace(name, flag)
    return message


def _load(parser: argparse.ArgumentParser, args: argparse.Namespace, device: str) -> PoseGraphPipeline:
    try:
        pipeline = PoseGraphPipeline.from_pretrained(args.checkpoint, device=device)
    except (FileNotFoundError, ValueError) as error:
        parser.error(f"--checkpoint: {error}")
    if args.autocast:
        pipeline.enable_autocast(args.autocast)
    return pipeline


def _sampler(args: argparse.Namespace, pipeline: PoseGraphPipeline) -> dict:
    """``--scheduler``, ``--steps`` and ``--guidance-scale`` as the pipeline takes them: those not given are the
    checkpoint's own (a distilled checkpoint's LCM scheduler, steps and no guidance; else DPM-Solver++)."""
    scheduler = args.scheduler or pipeline.default_scheduler
    interval = tuple(args.guidance_interval) if args.guidance_interval else "auto"
    return {"scheduler": scheduler, "num_inference_steps": args.steps, "guidance_scale": args.guidance_scale,
            "guidance_interval": interval}


def _sample(parser, args, pipeline, prompts: list[str], control: dict, canvas: tuple[int, int]):
    try:
        return pipeline(prompts, num_poses_per_prompt=args.num_samples, generator=args.seed,
                        **_sampler(args, pipeline),
                        canvas_size=canvas, batch_size=args.batch_size, return_heatmaps=False,
                        resample=args.resample, **control)
    except ValueError as error:  # the limits and the given pose, checked before any sampling
        message = _flags(str(error))
        if args.init_pose is not None and message == str(error):  # e.g. an --init-pose joint outside the canvas
            message = f"--init-pose {args.init_pose}: {message}"
        parser.error(message)


def _write_records(path: Path, records) -> None:
    """``poses.json``, written record by record as ``records`` (an iterable) yields them."""
    with path.open("w", encoding="utf-8") as file:
        file.write("[\n")
        for index, record in enumerate(records):
            file.write((",\n" if index else "") + json.dumps(record))
        file.write("\n]\n")


def _write(output, args: argparse.Namespace, canvas: tuple[int, int], folder: Path, skeleton: Skeleton) -> None:
    """Each pose's PNG and OpenPose JSON, ``poses.json`` (written as the poses go) and ``grid.png`` into ``folder``."""
    _write_records(folder / "poses.json", _pose_records(output, canvas, folder, skeleton))
    shown = slice(0, GRID_LIMIT)
    draw_pose_grid(output.keypoints[shown], output.prompts[shown], canvas_size=canvas,
                   ncols=min(args.num_samples, 8), path=folder / "grid.png", skeleton=skeleton)


def _pose_records(output, canvas: tuple[int, int], folder: Path, skeleton: Skeleton):
    """Write each pose's PNG and OpenPose JSON (where the layout has an OpenPose form) into ``folder``, yielding
    its ``poses.json`` record."""
    openpose = not missing_joints(skeleton, OPENPOSE_18)
    poses = zip(output.prompts, output.seeds, output.keypoints, output.confidence)
    for index, (prompt, seed, keypoints, confidence) in enumerate(tqdm(poses, total=len(output.prompts),
                                                                       desc="writing")):
        save_png(draw_openpose(keypoints, canvas, canvas, skeleton=skeleton), folder / f"pose_{index:04d}.png")
        if openpose:
            write_openpose_json(folder / f"pose_{index:04d}_keypoints.json", keypoints, canvas, confidence=confidence,
                                skeleton=skeleton)
        yield _record(prompt, seed, index, canvas, keypoints)


def _write_scenes(parser, args, pipeline, prompts: list[str], canvas: tuple[int, int], folder: Path) -> int:
    """Draw ``--num-samples`` scenes of the ``--person`` prompts into ``folder``; returns the number of poses."""
    scenes = []
    _write_records(folder / "poses.json", _scene_records(parser, args, pipeline, prompts, canvas, folder, scenes))
    scene_ids = [index for index, scene in enumerate(scenes) for _ in scene.prompts]
    write_coco_keypoints(folder / "coco_results.json", torch.cat([scene.keypoints for scene in scenes]), scene_ids,
                         canvas, scores=torch.cat([scene.confidence for scene in scenes]).mean(-1),
                         skeleton=pipeline.skeleton)
    return len(scene_ids)


def _scene_records(parser, args, pipeline, prompts, canvas, folder: Path, scenes: list):
    """Draw and write each scene (appended to ``scenes``), yielding its people's ``poses.json`` records."""
    for index in tqdm(range(args.num_samples), desc="scenes"):
        try:
            scene = compose_people(pipeline, prompts, args.box, canvas_size=canvas, allow_overlap=args.allow_overlap,
                                   generator=args.seed + index * len(prompts), **_sampler(args, pipeline))
        except ValueError as error:  # the boxes and the limits, checked before any sampling
            parser.error(_flags(str(error)))
        save_png(scene.draw(), folder / f"scene_{index:04d}.png")
        if not missing_joints(scene.skeleton, OPENPOSE_18):
            scene.write_openpose_json(folder / f"scene_{index:04d}_keypoints.json")
        scenes.append(scene)
        for person, (prompt, seed, box, pose) in enumerate(zip(scene.prompts, scene.seeds, scene.boxes,
                                                               scene.keypoints)):
            yield _record(prompt, seed, index, canvas, pose, person=person, box=[round(v, 3) for v in box])


if __name__ == "__main__":
    main()
