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

``--out`` is written as a unit: the files go into a hidden folder beside it, renamed into place at the
end, so ``--out`` holds one run's files and nothing else, whatever happens (a crash, a full disk, a second
run into the same folder at the same time). A folder holding an earlier run's output is replaced whole; a
folder holding any other file is refused. Everything that can be checked is checked before sampling
starts (the folder, ``--size`` and the number of poses against the memory available, the device, the
steps against the scheduler); a wrong argument exits with status 2 and one message, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch
from tqdm.auto import tqdm

from posegraph.io import write_openpose_json
from posegraph.outputs import SAMPLE_FILE, OutputDirError, StagedOutputDir
from posegraph.pipelines import DEFAULT_GUIDANCE_SCALE, SCHEDULERS, PoseGraphPipeline
from posegraph.pipelines.limits import POSE_BYTES, available_memory_bytes, check_request_memory, format_bytes
from posegraph.render import draw_openpose, draw_pose_grid, save_png

__all__ = ["main"]

GRID_LIMIT = 64
#: The largest ``--size``: 16384 x 16384 pixels, beyond what pose-conditioned image generators take.
MAX_SIZE = 16384
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


def _size(text: str) -> int:
    return _positive_int(text, MAX_SIZE)


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
    parser.add_argument("--num-samples", type=_positive_int, default=4, help="poses per prompt")
    parser.add_argument("--seed", type=_seed, default=0, help="pose i uses seed SEED + i (0 to 2**63 - 1)")
    parser.add_argument("--steps", type=_positive_int, default=20,
                        help="denoising steps (at most the model's training timesteps, usually 1000)")
    parser.add_argument("--scheduler", choices=list(SCHEDULERS), default="dpm-solver++")
    parser.add_argument("--guidance-scale", type=_finite_float, default=DEFAULT_GUIDANCE_SCALE,
                        help="classifier-free guidance; <= 1 turns it off")
    parser.add_argument("--size", type=_size, default=512, help=f"canvas side in pixels (at most {MAX_SIZE})")
    parser.add_argument("--batch-size", type=_positive_int, default=64, help="poses denoised together")
    parser.add_argument("--out", required=True, type=Path,
                        help="output folder: new, empty or an earlier run's (replaced whole)")
    parser.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    parser.add_argument("--autocast", choices=["bf16", "fp16"], default=None,
                        help="run the unet in half precision (bf16: 1.6x on the benchmark CPU with the same accuracy, "
                             "see benchmarks/RESULTS.md; fp16: GPUs)")
    return parser


def _read_prompts(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    if args.prompt is not None:
        return args.prompt
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


def _record(prompt: str, seed: int, index: int, size: int, keypoints: torch.Tensor) -> dict:
    """One ``poses.json`` entry; ``keypoints`` ``(17, 3)`` in canvas pixels."""
    flat = [value for x, y, v in keypoints.tolist() for value in (round(x, 3), round(y, 3), int(v))]
    return {"prompt": prompt, "seed": seed, "index": index, "width": size, "height": size, "keypoints": flat}


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


def _check_memory(parser: argparse.ArgumentParser, args: argparse.Namespace, num_poses: int) -> None:
    """The poses' keypoints and one pose image at a time must fit in the memory available now."""
    image = IMAGE_BYTES_PER_PIXEL * args.size * args.size
    available = available_memory_bytes()
    if available is not None and image > available:
        fits = math.isqrt(available // IMAGE_BYTES_PER_PIXEL)
        parser.error(f"--size {args.size}: drawing one {args.size} x {args.size} pose image needs about "
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
    device = _check_device(parser, args.device)
    _check_memory(parser, args, len(prompts) * args.num_samples)
    try:
        staged = StagedOutputDir(args.out, SAMPLE_FILE.fullmatch, flag="--out")
    except OutputDirError as error:
        parser.error(str(error))
    try:
        output = _sample(parser, args, prompts, device)
        _write(output, args, staged.path)
        staged.publish()
    except OutputDirError as error:
        parser.error(str(error))
    except OSError as error:
        _fail(f"cannot write the poses ({error.strerror or error}: {error.filename or staged.path}); "
              f"{args.out} was left as it was")
    finally:
        staged.discard()  # nothing left after publishing; everything after a failure

    print(f"{len(output.prompts)} poses for {len(prompts)} prompt(s) in {args.out}/:")
    print(f"  grid.png                     the first {min(len(output.prompts), GRID_LIMIT)} poses with their prompts")
    print("  pose_NNNN.png                ControlNet-ready OpenPose images")
    print("  pose_NNNN_keypoints.json     OpenPose JSON")
    print("  poses.json                   all keypoints (COCO-17, canvas pixels)")
    return args.out


#: The pipeline's argument names in its messages -> the flags that set them.
_API_NAMES = {"num_inference_steps=": "--steps ", "generator=": "--seed ", "return_heatmaps=True": "heatmaps"}


def _sample(parser: argparse.ArgumentParser, args: argparse.Namespace, prompts: list[str], device: str):
    try:
        pipeline = PoseGraphPipeline.from_pretrained(args.checkpoint, device=device)
    except (FileNotFoundError, ValueError) as error:
        parser.error(f"--checkpoint: {error}")
    if args.autocast:
        pipeline.enable_autocast(args.autocast)
    try:
        return pipeline(prompts, num_poses_per_prompt=args.num_samples, guidance_scale=args.guidance_scale,
                        num_inference_steps=args.steps, scheduler=args.scheduler, generator=args.seed,
                        canvas_size=args.size, batch_size=args.batch_size, return_heatmaps=False)
    except ValueError as error:  # the limits, checked before any sampling
        message = str(error)
        for name, flag in _API_NAMES.items():
            message = message.replace(name, flag)
        parser.error(message)


def _write(output, args: argparse.Namespace, folder: Path) -> None:
    """Each pose's PNG and OpenPose JSON, ``poses.json`` (written as the poses go) and ``grid.png`` into ``folder``."""
    poses = zip(output.prompts, output.seeds, output.keypoints, output.confidence)
    with (folder / "poses.json").open("w", encoding="utf-8") as records:
        records.write("[\n")
        for index, (prompt, seed, keypoints, confidence) in enumerate(tqdm(poses, total=len(output.prompts),
                                                                           desc="writing")):
            save_png(draw_openpose(keypoints, args.size, args.size), folder / f"pose_{index:04d}.png")
            write_openpose_json(folder / f"pose_{index:04d}_keypoints.json", keypoints, args.size,
                                confidence=confidence)
            records.write((",\n" if index else "") + json.dumps(_record(prompt, seed, index, args.size, keypoints)))
        records.write("\n]\n")
    shown = slice(0, GRID_LIMIT)
    draw_pose_grid(output.keypoints[shown], output.prompts[shown], canvas_size=args.size,
                   ncols=min(args.num_samples, 8), path=folder / "grid.png")


if __name__ == "__main__":
    main()
