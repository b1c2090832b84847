"""``python -m posegraph.evaluate``: a checkpoint -> every metric with its 95 % interval (JSON, Markdown, plots).

    python -m posegraph.evaluate train-evaluator --data synthetic --out runs/evaluator
    python -m posegraph.evaluate --checkpoint runs/demo --data synthetic --out runs/demo/eval \\
        --evaluator runs/evaluator

``--checkpoint`` takes a training run directory (its latest complete checkpoint), one checkpoint or a
saved pipeline. The model draws ``--samples-per-caption`` poses for each held-out evaluation caption
(synthetic: a held-out seed of the synthetic generator; coco: the test part of the stable 4:1 split of the
given files, or ``--coco-split all`` for a whole val file), and ``--out`` receives ``metrics.json``,
``report.md`` and PNG plots: the paper's protocol, semantic accuracy per action and its confusion matrix
(synthetic), structure rates and limb integrity beside real poses, diversity and multimodality, Frechet pose
distance and, with ``--evaluator``, text-pose retrieval precision (see docs/evaluation.md). ``poses.npz``
keeps the poses themselves (``generated``: repeats x captions x samples x 17 x 3 COCO-17 keypoints;
``ground_truth``, ``captions``, ``actions``), so that runs sampled with the same seed can be compared
caption by caption.

``train-evaluator`` fits the contrastive text-pose evaluator that retrieval precision needs, on the
training split, with the frozen text encoder the checkpoints use; its own precision on held-out real
pairs is stored with it and reported beside the generated figures.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from posegraph.evaluation.report import write_report
from posegraph.evaluation.retrieval import PoseTextEvaluator, train_evaluator
from posegraph.evaluation.run import (HELD_OUT_SEED, caption_embeddings, coco_evaluation_set, evaluate_pipeline,
                                      synthetic_evaluation_set)
from posegraph.pipelines import (DEFAULT_GUIDANCE_SCALE, DEFAULT_INFERENCE_STEPS, DEFAULT_SCHEDULER, SCHEDULERS,
                                 PoseGraphPipeline, is_upstream_release, resolve_pipeline_dir)
from posegraph.text import DEFAULT_ENCODER_NAMES, TextEncoder

__all__ = ["main", "build_parser", "build_evaluator_parser"]

TRAIN_EVALUATOR = "train-evaluator"
DEFAULT_SYNTHETIC_CAPTIONS = 250


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", choices=("synthetic", "coco"), required=True, help="which text-pose pairs")
    parser.add_argument("--coco-keypoints", type=Path, metavar="FILE",
                        help="COCO person_keypoints_*.json (--data coco)")
    parser.add_argument("--coco-captions", type=Path, metavar="FILE", help="COCO captions_*.json (--data coco)")


def _check_data(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.data == "coco" and not (args.coco_keypoints and args.coco_captions):
        parser.error("--data coco needs both --coco-keypoints FILE and --coco-captions FILE")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m posegraph.evaluate --checkpoint ...``."""
    parser = argparse.ArgumentParser(
        prog="python -m posegraph.evaluate", description=__doc__.split("\n\n")[0],
        epilog=f"Train the retrieval evaluator with: python -m posegraph.evaluate {TRAIN_EVALUATOR} --help",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--checkpoint", required=True, type=Path,
                        help="training run directory, checkpoint directory, saved pipeline "
                             "or the paper authors' released folder")
    _add_data_arguments(parser)
    parser.add_argument("--coco-split", choices=("test", "all"), default="test",
                        help="test: the held-out fifth of the given COCO files; all: every pair (a val file)")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--num-captions", type=_positive_int,
                        help=f"evaluation captions (default: {DEFAULT_SYNTHETIC_CAPTIONS} synthetic, all for coco)")
    parser.add_argument("--samples-per-caption", type=_positive_int, default=10, help="poses per caption (paper: 10)")
    parser.add_argument("--steps", type=_positive_int, default=None,
                        help=f"denoising steps (default {DEFAULT_INFERENCE_STEPS}, or the steps a distilled "
                             "checkpoint was distilled for)")
    parser.add_argument("--scheduler", choices=list(SCHEDULERS), default=None,
                        help=f"default {DEFAULT_SCHEDULER}; a distilled checkpoint samples with its own LCM scheduler "
                             "and takes none of these")
    parser.add_argument("--guidance-scale", type=float, default=None,
                        help=f"classifier-free guidance; <= 1 turns it off (default {DEFAULT_GUIDANCE_SCALE:g}; off, "
                             "and folded into the unet, for a distilled checkpoint)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (pose i of repeat r: SEED + r * poses + i)")
    parser.add_argument("--evaluator", type=Path, metavar="DIR",
                        help=f"a retrieval evaluator written by `{TRAIN_EVALUATOR}` (without it: no retrieval figures)")
    parser.add_argument("--repeats", type=_positive_int, default=1,
                        help="independent samplings; above 1 the intervals are Student-t over repeats")
    parser.add_argument("--batch-size", type=_positive_int, default=64, help="poses denoised together")
    parser.add_argument("--bootstrap", type=_positive_int, default=1000, help="bootstrap resamples per interval")
    parser.add_argument("--no-plots", action="store_true", help="write metrics.json and report.md only")
    parser.add_argument("--device", help="torch device (default: cuda when available, else cpu)")
    return parser


def build_evaluator_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m posegraph.evaluate train-evaluator ...``."""
    parser = argparse.ArgumentParser(
        prog=f"python -m posegraph.evaluate {TRAIN_EVALUATOR}",
        description="Train the contrastive text-pose evaluator behind retrieval precision, on the training split.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_data_arguments(parser)
    parser.add_argument("--out", required=True, type=Path, help="directory for config.json + model.safetensors")
    parser.add_argument("--num-pairs", type=_positive_int,
                        help="training pairs (default: 20000 synthetic, every caption of the train split for coco)")
    parser.add_argument("--size", type=_positive_int, default=64,
                        help="frame side of the poses (the evaluator works in body units, so any size does)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the synthetic training stream (TrainConfig.seed: 0 by default) and of training")
    parser.add_argument("--text-encoder", default="default", help="the frozen text encoder the checkpoints use")
    parser.add_argument("--max-length", type=_positive_int, help="token limit of the text encoder")
    parser.add_argument("--epochs", type=_positive_int, default=40)
    parser.add_argument("--batch-size", type=_positive_int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--device", help="torch device (default: cuda when available, else cpu)")
    return parser


def main(argv: list[str] | None = None) -> Path:
    """Run ``python -m posegraph.evaluate [train-evaluator] ...``; returns the output directory."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == [TRAIN_EVALUATOR]:
        return _train_evaluator_command(argv[1:])
    return _evaluate_command(argv)


def _device(name: str | None) -> str:
    return name or ("cuda" if torch.cuda.is_available() else "cpu")


def _encoder_name(config: dict) -> str:
    name = str(config.get("name_or_path"))
    return "default" if name in DEFAULT_ENCODER_NAMES else name


def _load_evaluator(parser: argparse.ArgumentParser, directory: Path, pipeline: PoseGraphPipeline, data: str,
                    device: str) -> PoseTextEvaluator:
    try:
        evaluator = PoseTextEvaluator.from_pretrained(directory, device=device)
    except (FileNotFoundError, ValueError, TypeError, json.JSONDecodeError) as error:
        parser.error(f"--evaluator: {error}")
    trained_on = evaluator.metadata.get("data")
    if trained_on is not None and trained_on != data:
        parser.error(f"--evaluator {directory} was trained on {trained_on} pairs but --data is {data}; its retrieval "
                     f"figures would not mean anything there: train one with "
                     f"`python -m posegraph.evaluate {TRAIN_EVALUATOR} --data {data}`")
    trained_with = evaluator.metadata.get("text_encoder")
    used = pipeline.text_encoder.to_config()
    if trained_with is not None and _encoder_name(trained_with) != _encoder_name(used):
        parser.error(f"--evaluator {directory} was trained with the text encoder {trained_with['name_or_path']!r} "
                     f"but the checkpoint uses {used['name_or_path']!r}; train one with "
                     f"`python -m posegraph.evaluate {TRAIN_EVALUATOR} --text-encoder {used['name_or_path']}`")
    return evaluator


def _training_seed(checkpoint: Path) -> int | None:
    """The synthetic data seed a training checkpoint was trained with (None for a saved pipeline)."""
    config = checkpoint / "train_config.json"
    return json.loads(config.read_text()).get("seed") if config.is_file() else None


def _evaluate_command(argv: list[str]) -> Path:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_data(parser, args)
    if args.samples_per_caption < 2:
        parser.error("--samples-per-caption must be at least 2 (the variance and multimodality compare samples)")
    device = _device(args.device)
    try:
        checkpoint = args.checkpoint if is_upstream_release(args.checkpoint) else resolve_pipeline_dir(args.checkpoint)
        pipeline = PoseGraphPipeline.from_pretrained(checkpoint, device=device)
    except (FileNotFoundError, ValueError) as error:
        parser.error(f"--checkpoint: {error}")
    evaluator = _load_evaluator(parser, args.evaluator, pipeline, args.data, device) if args.evaluator else None
    size = pipeline.unet.heatmap_size
    if args.data == "synthetic":
        if _training_seed(checkpoint) == HELD_OUT_SEED:
            parser.error(f"--checkpoint {checkpoint} was trained on the synthetic stream of seed {HELD_OUT_SEED}, "
                         "the held-out evaluation seed; train with another --seed")
        data = synthetic_evaluation_set(args.num_captions or DEFAULT_SYNTHETIC_CAPTIONS, size, args.samples_per_caption)
    else:
        try:
            data = coco_evaluation_set(args.coco_keypoints, args.coco_captions, size, args.num_captions,
                                       split=args.coco_split, seed=args.seed)
        except (FileNotFoundError, ValueError) as error:
            parser.error(f"--data coco: {error}")

    guidance = pipeline.default_guidance_scale if args.guidance_scale is None else args.guidance_scale
    sampler = dict(num_inference_steps=args.steps or pipeline.default_inference_steps,
                   scheduler=args.scheduler or pipeline.default_scheduler, guidance_scale=guidance)
    if pipeline.config.distilled_steps and (args.scheduler or sampler["guidance_scale"] > 1):
        parser.error(f"--checkpoint {checkpoint} is a consistency-distilled student: it samples with its own LCM "
                     "scheduler, its teacher's guidance folded into the unet; leave --scheduler and --guidance-scale "
                     "out (or evaluate its teacher)")
    sections, info, generated = evaluate_pipeline(
        pipeline, data, samples_per_caption=args.samples_per_caption, seed=args.seed, repeats=args.repeats,
        batch_size=args.batch_size, evaluator=evaluator, n_resamples=args.bootstrap, **sampler)
    unet = pipeline.unet.config
    meta = {
        "checkpoint": str(checkpoint), "data": args.data, **info, "steps": sampler["num_inference_steps"],
        "scheduler": sampler["scheduler"] or type(pipeline.scheduler).__name__,
        "guidance_scale": sampler["guidance_scale"], "seed": args.seed, "sample_size": size,
        "graph_layer": unet.get("graph_layer", "upstream spatial block"),  # the released model has no graph_layer
        "graph_positions": unet.get("graph_positions", "mid"),
        "num_parameters": pipeline.unet.num_parameters(), "text_encoder": pipeline.text_encoder.to_config(),
    }
    if evaluator is not None:
        meta["evaluator"] = str(args.evaluator)
        meta["evaluator_validation"] = {name: f"{e['value']:.3f} [{e['low']:.3f}, {e['high']:.3f}]"
                                        for name, e in evaluator.metadata.get("validation", {}).items()}
    written = write_report(args.out, sections, title=f"posegraph evaluation: {checkpoint}", meta=meta,
                           plots=not args.no_plots)
    np.savez_compressed(args.out / "poses.npz", generated=generated.astype(np.float32),
                        ground_truth=data.ground_truth.astype(np.float32), captions=np.array(data.captions),
                        actions=np.array(data.actions if data.actions is not None else [], dtype=str))
    print(f"{info['generated_poses'] * args.repeats} poses for {len(data)} captions; wrote "
          f"{', '.join(sorted([path.name for path in written.values()] + ['poses.npz']))} to {args.out}/")
    return args.out


def _training_pairs(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[np.ndarray, list[str]]:
    """``(n, 17, 3)`` keypoints and ``n`` captions of the training split."""
    if args.data == "synthetic":
        from posegraph.data.synthetic import SyntheticPoseGenerator

        samples = SyntheticPoseGenerator(size=args.size, seed=args.seed).sample(args.num_pairs or 20_000)
        return samples.keypoints, list(samples.captions)
    from posegraph.data.coco import load_coco_pairs

    try:
        pairs = load_coco_pairs(args.coco_keypoints, args.coco_captions, size=args.size, split="train")
    except (FileNotFoundError, ValueError) as error:
        parser.error(f"--data coco: {error}")
    pose_of = np.array([i for i, captions in enumerate(pairs.captions) for _ in captions], dtype=np.int64)
    captions = [caption for captions in pairs.captions for caption in captions]
    if args.num_pairs is not None and args.num_pairs < len(captions):
        rows = np.sort(np.random.default_rng(args.seed).choice(len(captions), args.num_pairs, replace=False))
        pose_of, captions = pose_of[rows], [captions[i] for i in rows]
    return pairs.keypoints[pose_of], captions


def _train_evaluator_command(argv: list[str]) -> Path:
    parser = build_evaluator_parser()
    args = parser.parse_args(argv)
    _check_data(parser, args)
    device = _device(args.device)
    keypoints, captions = _training_pairs(parser, args)
    try:
        encoder = TextEncoder.from_pretrained(args.text_encoder, max_length=args.max_length, device=device)
    except (OSError, ImportError, ValueError) as error:
        parser.error(f"--text-encoder: {error}")
    texts = caption_embeddings(encoder, captions)
    try:
        evaluator = train_evaluator(keypoints, texts, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                    seed=args.seed, device=device, progress=True)
    except ValueError as error:
        parser.error(str(error))
    evaluator.metadata.update(text_encoder=encoder.to_config(), data=args.data, seed=args.seed, size=args.size)
    _save_atomically(evaluator, args.out)
    meta = evaluator.metadata
    validation = meta["validation"]
    print(f"evaluator trained on {meta['train_pairs']} pairs; on {meta['validation_pairs']} held-out real pairs "
          f"(pools of {meta['validation_pool_size']}): top-1 {validation['top1']['value']:.3f}, "
          f"top-3 {validation['top3']['value']:.3f}; saved to {args.out}/")
    return args.out


def _save_atomically(evaluator: PoseTextEvaluator, out: Path) -> None:
    """Save into a sibling folder, then move the weights and, last, config.json into ``out``: an interrupted
    save never leaves a config.json beside weights it does not describe."""
    temporary = out.with_name(f".tmp_{out.name}")
    evaluator.save_pretrained(temporary)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").unlink(missing_ok=True)
    for name in ("model.safetensors", "config.json"):
        os.replace(temporary / name, out / name)
    temporary.rmdir()


if __name__ == "__main__":
    main()
