"""How well pose control works on a trained checkpoint: kept joints, prompt following, valid bodies.

    python scripts/measure_pose_control.py --checkpoint runs/demo --out runs/demo/pose_control

The legs (hips, knees, ankles) of ``--num-poses`` synthetic standing poses (held out: their own seed) are
kept and the rest is drawn for each arm prompt, with each scheduler. For every setting it reports:

* kept joints: the largest distance in canvas pixels between a kept joint and where the returned
  heatmaps put it (the returned keypoints are the given ones by construction);
* semantic accuracy: the share of poses the synthetic checker (``posegraph.data.checker``) accepts as the
  prompt's action;
* valid bodies: the share of poses whose every bone-length ratio (each segment over the mean of the pose's
  segments) lies within the range [min, max] that ``--reference-poses`` real synthetic poses of every
  action span; beside it the structure checks' bone-length and joint-angle defect rates.

For comparison the same prompts are drawn without pose control ("free") and as edits of the standing
poses at ``--strength`` (with and without keeping the legs), and keeping the legs with RePaint's resampling
(``--resample``: each step taken that many times), which is worth its cost only if it raises the figures.
Writes ``report.json`` and ``report.md`` into ``--out`` and prints the table.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from posegraph.data.checker import check_action
from posegraph.data.synthetic import SyntheticPoseGenerator
from posegraph.evaluation.structure import structure_metrics
from posegraph.heatmaps import heatmaps_to_keypoints
from posegraph.pipelines import DEFAULT_GUIDANCE_SCALE, SCHEDULERS, PoseGraphPipeline
from posegraph.pipelines.control import frame_to_box
from posegraph.skeleton import BODY_PARTS, COCO_17

#: prompt -> the checker's action id
PROMPTS = {
    "a person raising both arms": "raise_both_arms",
    "a woman waving her left hand": "waving_left",
    "a man with his hands on his hips": "hands_on_hips",
}
CANVAS = 512
J = COCO_17.index
# Segments whose length ratios are compared: limbs, shoulder and hip width, the two torso sides.
SEGMENTS = [
    (J("left_shoulder"), J("left_elbow")), (J("right_shoulder"), J("right_elbow")),
    (J("left_elbow"), J("left_wrist")), (J("right_elbow"), J("right_wrist")),
    (J("left_hip"), J("left_knee")), (J("right_hip"), J("right_knee")),
    (J("left_knee"), J("left_ankle")), (J("right_knee"), J("right_ankle")),
    (J("left_shoulder"), J("right_shoulder")), (J("left_hip"), J("right_hip")),
    (J("left_shoulder"), J("left_hip")), (J("right_shoulder"), J("right_hip")),
]


def bone_ratios(keypoints: np.ndarray) -> np.ndarray:
    """``(n, 17, 3)`` -> ``(n, len(SEGMENTS))`` segment lengths over the pose's mean segment length (NaN where absent)."""
    xy = np.where(keypoints[..., 2:] > 0, keypoints[..., :2], np.nan)
    lengths = np.stack([np.linalg.norm(xy[:, a] - xy[:, b], axis=-1) for a, b in SEGMENTS], -1)
    with np.errstate(invalid="ignore"):
        return lengths / np.nanmean(lengths, axis=-1, keepdims=True)


def valid_bodies(keypoints: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Whether every present segment ratio of each pose lies in ``[low, high]`` and no segment is missing."""
    ratios = bone_ratios(keypoints)
    with np.errstate(invalid="ignore"):
        inside = (ratios >= low) & (ratios <= high)
    return inside.all(-1)  # NaN (a missing joint) counts as invalid


def to_canvas(keypoints: np.ndarray, size: int) -> torch.Tensor:
    kp = frame_to_box(torch.as_tensor(keypoints), size, (0, 0, CANVAS, CANVAS))
    return torch.where(kp[..., 2:] > 0, kp, torch.zeros_like(kp))


def measure(pipe, context: dict, given: torch.Tensor, scheduler: str, args, keep=None, keypoints=False,
            init=False, strength=None, resample=1) -> dict:
    """Draw every prompt for every given pose under one setting; its figures.

    Args:
        context: ``mask`` (the kept joints), ``low`` / ``high`` (the valid bone-ratio range).
        given: ``(n, 17, 3)`` the standing poses in canvas pixels.
        keep, keypoints, init, strength, resample: the setting: keep these joints of ``given`` (as
            ``keypoints=`` when ``keypoints``), edit ``given`` (``init_keypoints=``) at ``strength`` when
            ``init``, with RePaint's resampling ``resample``.
    """
    size = pipe.unet.config.sample_size
    n = len(given)
    control = {"keep": keep, "keypoints": given if keypoints else None,
               "init_keypoints": given if init else None, "strength": strength if init else None}
    row = {"accuracy": {}}
    poses, errors = [], []
    started = time.perf_counter()
    for i, (prompt, action) in enumerate(PROMPTS.items()):
        out = pipe([prompt] * n, scheduler=scheduler, num_inference_steps=args.steps,
                   guidance_scale=args.guidance_scale, generator=args.seed + i * n, canvas_size=CANVAS,
                   batch_size=args.batch_size, resample=resample, return_heatmaps=keep is not None, **control)
        row["accuracy"][action] = float(check_action(out.keypoints.numpy(), action).mean())
        poses.append(out.keypoints.numpy())
        if keep is not None:
            decoded = frame_to_box(heatmaps_to_keypoints(out.heatmaps), size, (0, 0, CANVAS, CANVAS))
            kept = context["mask"] & (given[..., 2] > 0)
            errors.append((decoded[..., :2] - given[..., :2]).norm(dim=-1)[kept])
    poses = np.concatenate(poses)
    row["accuracy"]["mean"] = float(np.mean(list(row["accuracy"].values())))
    row["valid_bodies"] = float(valid_bodies(poses, context["low"], context["high"]).mean())
    structure = structure_metrics(poses, n_resamples=10)
    row["bone_length_defects"] = structure.rates["bone_length"].value
    row["joint_angle_defects"] = structure.rates["joint_angle"].value
    row["kept_error_px"] = float(torch.cat(errors).max()) if errors else None
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, type=Path, help="run directory, checkpoint or saved pipeline")
    parser.add_argument("--out", type=Path, default=None, help="where report.json and report.md go (default: --checkpoint/pose_control)")
    parser.add_argument("--num-poses", type=int, default=100, help="standing poses whose legs are kept")
    parser.add_argument("--reference-poses", type=int, default=5000, help="real synthetic poses that span the valid range")
    parser.add_argument("--schedulers", nargs="+", default=list(SCHEDULERS), choices=list(SCHEDULERS))
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--guidance-scale", type=float, default=DEFAULT_GUIDANCE_SCALE)
    parser.add_argument("--strength", type=float, default=0.7, help="strength of the edits shown for comparison")
    parser.add_argument("--resample", type=int, default=3,
                        help="also measure keeping the legs with RePaint's resampling this many times per step (1: not)")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    out = args.out or (args.checkpoint / "pose_control")

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    pipe = PoseGraphPipeline.from_pretrained(args.checkpoint, device=device)
    pipe.set_progress_bar_config(disable=True)
    size = pipe.unet.config.sample_size
    standing = SyntheticPoseGenerator(size=size, seed=20_000 + args.seed).sample(args.num_poses, "standing").keypoints
    given = to_canvas(standing, size)
    reference = SyntheticPoseGenerator(size=size, seed=30_000 + args.seed).sample(args.reference_poses)
    ratios = bone_ratios(np.concatenate([reference.keypoints, reference.flip().keypoints]))
    low, high = np.nanmin(ratios, axis=0), np.nanmax(ratios, axis=0)
    legs = torch.zeros(17, dtype=torch.bool)
    legs[[J(j) for j in BODY_PARTS["legs"]]] = True
    context = {"mask": legs, "low": low, "high": high}

    real_valid = float(valid_bodies(standing, low, high).mean())
    settings = {"keep legs": dict(keep="legs", keypoints=True),
                "free (no control)": dict(),
                f"edit, strength {args.strength}": dict(init=True, strength=args.strength),
                f"edit {args.strength} + keep legs": dict(keep="legs", init=True, strength=args.strength)}
    if args.resample > 1:
        settings[f"keep legs, resample {args.resample}"] = dict(keep="legs", keypoints=True, resample=args.resample)
    report = {"checkpoint": str(args.checkpoint), "num_poses": args.num_poses, "steps": args.steps,
              "guidance_scale": args.guidance_scale, "prompts": PROMPTS,
              "valid_bodies_of_the_kept_standing_poses": real_valid, "rows": []}
    for scheduler in args.schedulers:
        for name, setting in settings.items():
            row = measure(pipe, context, given, scheduler, args, **setting)
            row.update(scheduler=scheduler, setting=name)
            report["rows"].append(row)
            print(f"{scheduler:13s} {name:28s} accuracy {row['accuracy']['mean']:.3f} valid {row['valid_bodies']:.3f} "
                  f"kept error {row['kept_error_px']} ({row['seconds']} s)", flush=True)

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "report.md").write_text(markdown(report))
    print(markdown(report))
    return report


def markdown(report: dict) -> str:
    actions = list(PROMPTS.values())
    lines = [
        f"Pose control on `{report['checkpoint']}`: {report['num_poses']} held-out standing poses, "
        f"{report['steps']} steps, guidance {report['guidance_scale']}; prompts: "
        + "; ".join(f"\"{p}\" ({a})" for p, a in report["prompts"].items()) + ".",
        "",
        "| scheduler | setting | " + " | ".join(actions) + " | mean accuracy | valid bodies | bone-length defects "
        "| joint-angle defects | kept joints, max error (px) |",
        "|---|---|" + "---:|" * (len(actions) + 5),
    ]
    for row in report["rows"]:
        error = "-" if row["kept_error_px"] is None else f"{row['kept_error_px']:.3f}"
        lines.append(f"| {row['scheduler']} | {row['setting']} | "
                     + " | ".join(f"{row['accuracy'][a]:.1%}" for a in actions)
                     + f" | {row['accuracy']['mean']:.1%} | {row['valid_bodies']:.1%} | {row['bone_length_defects']:.1%}"
                       f" | {row['joint_angle_defects']:.1%} | {error} |")
    lines += ["", f"Valid bodies among the kept standing poses themselves: "
                  f"{report['valid_bodies_of_the_kept_standing_poses']:.1%}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
