"""Structural plausibility of single poses: missing joints, limb asymmetry, bone lengths, joint angles.

A 2D pose is a projection, so each check is built to fire only on what no camera view explains:

* missing joints: joints with ``v = 0``.
* limb asymmetry: for upper arms, forearms, thighs and shins, ``|L - R| / max(L, R)`` of the
  left and right lengths; a pose's asymmetry is its largest over the pairs present, flagged above
  ``asymmetry_threshold`` (0.5: one limb under half the other). Foreshortening makes real poses
  asymmetric too, so read the rate beside the same rate on real poses.
* bone length: each segment (the limbs, shoulder and hip width, nose to shoulder, the torso) in
  units of its anthropometric length (:data:`NOMINAL_BONE_RATIOS`, in torso lengths), flagged when
  it is more than ``bone_tolerance`` (1.5) times the largest of the *other* segments so measured.
  Foreshortening only shortens segments, so the largest other one is a lower bound of the body's
  scale as long as one segment lies near the image plane; a torso seen end-on (touching toes towards
  the camera) then does not make the legs look too long, as a torso-only reference would.
* joint angles, where 2D allows a verdict:

  - ``elbow_fold`` / ``knee_fold``: the inner angle between the two bones is below 12 deg (elbow)
    or 10 deg (knee) while both bones are at least 70 % of their nominal length, i.e. lie near the
    image plane; flexion past the joint's range (about 150 deg for the elbow, 160 deg for the knee)
    is then what the picture shows.
  - ``knee_hyperextension``: only in profile (shoulders and hips each less than 0.3 torso apart in
    2D), with the facing read from the nose in front of the ears (at least 0.1 torso across the
    torso axis), and both leg bones at least 70 % of nominal: the knee bends forward by more than
    15 deg. The knee is a hinge, so in profile its bend direction is fixed relative to the facing;
    an elbow's is not (the shoulder rotates the arm's plane), so elbows get no such check.
  - ``head_folded``: the nose lies more than 0.25 torso lengths behind the shoulder line towards
    the hips (the head folded into the chest), whatever the body's orientation.

Every check that needs joints a pose lacks is *not applicable* to it: its rate is over the poses it
applies to, and its :class:`~posegraph.evaluation.intervals.Estimate` ``n`` says how many those were.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from posegraph.evaluation.body import as_keypoints, present, torso_length
from posegraph.evaluation.intervals import Estimate, bootstrap_mean
from posegraph.skeleton import COCO_17

__all__ = [
    "LIMB_PAIRS",
    "NOMINAL_BONE_RATIOS",
    "StructureResult",
    "limb_asymmetry",
    "bone_length_spread",
    "bone_length_violations",
    "joint_angle_violations",
    "structure_metrics",
]

J = COCO_17.index
# Left/right limb segments compared for asymmetry.
LIMB_PAIRS = {
    "upper_arm": ((J("left_shoulder"), J("left_elbow")), (J("right_shoulder"), J("right_elbow"))),
    "forearm": ((J("left_elbow"), J("left_wrist")), (J("right_elbow"), J("right_wrist"))),
    "thigh": ((J("left_hip"), J("left_knee")), (J("right_hip"), J("right_knee"))),
    "shin": ((J("left_knee"), J("left_ankle")), (J("right_knee"), J("right_ankle"))),
}
# Segment lengths in torso lengths: Winter's anthropometric table (fractions of standing height H:
# upper arm 0.186, forearm 0.146, thigh 0.245, shank 0.246, shoulder width 0.259, hip width 0.191)
# over the torso, shoulder to hip joint, 0.288 H. "head" (nose to a shoulder) is our estimate.
NOMINAL_BONE_RATIOS = {
    "torso": 1.0,
    "upper_arm": 0.65,
    "forearm": 0.51,
    "thigh": 0.85,
    "shin": 0.85,
    "shoulder_width": 0.90,
    "hip_width": 0.66,
    "head": 0.60,
}
_SEGMENTS = [  # (nominal name, joint a, joint b) for every segment but the torso
    *((name, *bone) for name, pair in LIMB_PAIRS.items() for bone in pair),
    ("shoulder_width", J("left_shoulder"), J("right_shoulder")),
    ("hip_width", J("left_hip"), J("right_hip")),
    ("head", J("nose"), J("left_shoulder")),
    ("head", J("nose"), J("right_shoulder")),
]
_ARMS = ((J("left_shoulder"), J("left_elbow"), J("left_wrist")), (J("right_shoulder"), J("right_elbow"), J("right_wrist")))
_LEGS = ((J("left_hip"), J("left_knee"), J("left_ankle")), (J("right_hip"), J("right_knee"), J("right_ankle")))
UNFORESHORTENED = 0.7  # a bone at least this fraction of its nominal length lies nearly in the image plane
ELBOW_FOLD_DEG, KNEE_FOLD_DEG, KNEE_HYPEREXTENSION_DEG = 12.0, 10.0, 15.0
PROFILE_WIDTH, FACING_OFFSET, HEAD_FOLD = 0.3, 0.1, 0.25  # in torso lengths


@dataclass
class StructureResult:
    """Rates per sample of each structural defect.

    Attributes:
        rates: defect name -> fraction of the poses it applies to that show it (with interval).
        mean_asymmetry: mean of the per-pose limb asymmetry (0 = symmetric).
        missing_fraction: mean fraction of a pose's 17 joints that are missing.
        missing_per_joint: joint name -> fraction of poses missing it.
        per_sample: defect name -> ``(n,)`` float, 1 defect, 0 none, NaN not applicable.
    """

    rates: dict[str, Estimate]
    mean_asymmetry: Estimate
    missing_fraction: Estimate
    missing_per_joint: dict[str, float]
    per_sample: dict[str, np.ndarray] = field(repr=False)

    def to_dict(self) -> dict:
        return {
            "rates": {k: v.to_dict() for k, v in self.rates.items()},
            "mean_asymmetry": self.mean_asymmetry.to_dict(),
            "missing_fraction": self.missing_fraction.to_dict(),
            "missing_per_joint": dict(self.missing_per_joint),
        }


def _points(keypoints: np.ndarray) -> np.ndarray:
    return np.where(present(keypoints)[..., None], keypoints[..., :2], np.nan)


def _length(xy: np.ndarray, a: int, b: int) -> np.ndarray:
    return np.linalg.norm(xy[..., a, :] - xy[..., b, :], axis=-1)


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def _angle_deg(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    cos = (u * v).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _any_applicable(flags: list[np.ndarray], applicable: list[np.ndarray]) -> np.ndarray:
    """Combine per-part checks: 1 if any applicable part fails, 0 if some apply and none fail, else NaN."""
    fired = np.any([f & a for f, a in zip(flags, applicable)], axis=0)
    return np.where(np.any(applicable, axis=0), fired.astype(float), np.nan)


def limb_asymmetry(keypoints) -> np.ndarray:
    """Largest ``|L - R| / max(L, R)`` over the limb pairs present, ``(n,)``; NaN when none is."""
    xy = _points(as_keypoints(keypoints, "limb_asymmetry: keypoints", ndim=3))
    ratios = []
    for left, right in LIMB_PAIRS.values():
        lengths = np.stack([_length(xy, *left), _length(xy, *right)])
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios.append(np.abs(lengths[0] - lengths[1]) / lengths.max(0))
    return np.fmax.reduce(np.stack(ratios), axis=0)  # fmax skips NaN; all NaN stays NaN


def bone_length_spread(keypoints) -> np.ndarray:
    """How much the bones change length between the poses drawn for one caption, ``(C,)`` for ``(C, s, 17, 3)``.

    Each segment (the limbs, shoulder and hip width, nose to shoulders) is measured in units of its pose's
    median segment, so the figure does not move with the pose's size in the frame; a caption's spread is
    the coefficient of variation (std / mean over its ``s`` poses) of each segment present in at least two
    of them, averaged over the segments; NaN where no segment is. A model that keeps a body's proportions
    from sample to sample has the spread of real poses (their views and actions also change what a 2D
    segment shows, so read it beside the real poses' figure).
    """
    keypoints = as_keypoints(keypoints, "bone_length_spread: keypoints", ndim=4)
    xy = _points(keypoints)
    lengths = np.stack([_length(xy, a, b) for _, a, b in _SEGMENTS], axis=-1)  # (C, s, segments), NaN if missing
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: nothing to measure
        scaled = lengths / np.nanmedian(lengths, axis=-1, keepdims=True)
        counted = np.isfinite(scaled).sum(1) >= 2  # (C, segments)
        spread = np.nanstd(scaled, axis=1) / np.nanmean(scaled, axis=1)
        return np.nanmean(np.where(counted, spread, np.nan), axis=-1)


def bone_length_violations(keypoints, tolerance: float = 1.5) -> np.ndarray:
    """1 where a segment is over ``tolerance`` times the body scale the other segments imply, else 0; ``(n,)``.

    Every segment's length is divided by its nominal length (:data:`NOMINAL_BONE_RATIOS`); NaN where
    fewer than two segments are present.
    """
    keypoints = as_keypoints(keypoints, "bone_length_violations: keypoints", ndim=3)
    if tolerance <= 1:
        raise ValueError(f"bone_length_violations: tolerance must exceed 1, got {tolerance}")
    xy = _points(keypoints)
    scaled = np.stack(
        [torso_length(keypoints)]
        + [_length(xy, a, b) / NOMINAL_BONE_RATIOS[name] for name, a, b in _SEGMENTS],
        axis=-1,
    )  # (n, segments), NaN where missing
    scaled = np.where(scaled > 0, scaled, np.nan)
    largest = np.fmax.reduce(scaled, axis=-1)
    is_largest = np.arange(scaled.shape[-1]) == np.nanargmax(np.nan_to_num(scaled, nan=-1.0), axis=-1)[:, None]
    second = np.fmax.reduce(np.where(is_largest, np.nan, scaled), axis=-1)
    others = np.where(is_largest, second[:, None], largest[:, None])  # largest of the other segments
    applicable = np.isfinite(scaled) & np.isfinite(others)
    with np.errstate(invalid="ignore"):
        fired = (scaled > tolerance * others) & applicable
    return np.where(applicable.any(-1), fired.any(-1).astype(float), np.nan)


def _fold(xy, torso, chains, nominal_first, nominal_second, limit_deg):
    flags, applicable = [], []
    for a, b, c in chains:
        first, second = xy[..., a, :] - xy[..., b, :], xy[..., c, :] - xy[..., b, :]
        in_plane = (np.linalg.norm(first, axis=-1) >= UNFORESHORTENED * nominal_first * torso) & (
            np.linalg.norm(second, axis=-1) >= UNFORESHORTENED * nominal_second * torso
        )
        flags.append(_angle_deg(first, second) < limit_deg)
        applicable.append(in_plane)
    return _any_applicable(flags, applicable)


def _knee_hyperextension(xy, torso):
    ls, rs, lh, rh = (xy[..., J(n), :] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip"))
    up = (ls + rs) / 2 - (lh + rh) / 2
    up = up / np.linalg.norm(up, axis=-1, keepdims=True)
    ears = np.stack([xy[..., J("left_ear"), :], xy[..., J("right_ear"), :]])
    ears = np.nansum(ears, axis=0) / np.isfinite(ears).sum(0)  # mean of the ears present; NaN without any
    across = _cross(up, xy[..., J("nose"), :] - ears)  # > 0: facing to the up-axis' left-hand side
    profile = (
        (np.linalg.norm(ls - rs, axis=-1) < PROFILE_WIDTH * torso)
        & (np.linalg.norm(lh - rh, axis=-1) < PROFILE_WIDTH * torso)
        & (np.abs(across) > FACING_OFFSET * torso)
    )
    flags, applicable = [], []
    for hip, knee, ankle in _LEGS:
        thigh, shin = xy[..., knee, :] - xy[..., hip, :], xy[..., ankle, :] - xy[..., knee, :]
        in_plane = (np.linalg.norm(thigh, axis=-1) >= UNFORESHORTENED * NOMINAL_BONE_RATIOS["thigh"] * torso) & (
            np.linalg.norm(shin, axis=-1) >= UNFORESHORTENED * NOMINAL_BONE_RATIOS["shin"] * torso
        )
        # A normal knee bend turns the shin to the back: the same rotation sense as up -> facing.
        forward = np.sign(_cross(thigh, shin)) == -np.sign(across)
        flags.append(forward & (_angle_deg(thigh, shin) > KNEE_HYPEREXTENSION_DEG))
        applicable.append(profile & in_plane)
    return _any_applicable(flags, applicable)


def _head_folded(xy, torso):
    shoulders = (xy[..., J("left_shoulder"), :] + xy[..., J("right_shoulder"), :]) / 2
    up = shoulders - (xy[..., J("left_hip"), :] + xy[..., J("right_hip"), :]) / 2
    height = ((xy[..., J("nose"), :] - shoulders) * up).sum(-1) / np.linalg.norm(up, axis=-1)
    return np.where(np.isfinite(height) & (torso > 0), (height < -HEAD_FOLD * torso).astype(float), np.nan)


def joint_angle_violations(keypoints) -> dict[str, np.ndarray]:
    """The joint-angle checks of the module doc: name -> ``(n,)`` float (1 / 0 / NaN not applicable)."""
    keypoints = as_keypoints(keypoints, "joint_angle_violations: keypoints", ndim=3)
    xy, torso = _points(keypoints), torso_length(keypoints)
    r = NOMINAL_BONE_RATIOS
    with np.errstate(invalid="ignore", divide="ignore"):  # zero-length bones: NaN, then not applicable
        return {
            "elbow_fold": _fold(xy, torso, _ARMS, r["upper_arm"], r["forearm"], ELBOW_FOLD_DEG),
            "knee_fold": _fold(xy, torso, _LEGS, r["thigh"], r["shin"], KNEE_FOLD_DEG),
            "knee_hyperextension": _knee_hyperextension(xy, torso),
            "head_folded": _head_folded(xy, torso),
        }


def structure_metrics(
    keypoints,
    *,
    asymmetry_threshold: float = 0.5,
    bone_tolerance: float = 1.5,
    n_resamples: int = 1000,
    seed: int = 0,
) -> StructureResult:
    """All structural rates of ``(n, 17, 3)`` keypoints, each with a bootstrap interval over poses.

    Rates: ``missing_joints`` (a pose lacks any joint), ``limb_asymmetry``, ``bone_length``,
    ``joint_angle`` (any angle check fires) and the four angle checks one by one.
    """
    keypoints = as_keypoints(keypoints, "structure_metrics: keypoints", ndim=3)
    missing = ~present(keypoints)
    asymmetry = limb_asymmetry(keypoints)
    angles = joint_angle_violations(keypoints)
    with np.errstate(invalid="ignore"):
        asymmetric = np.where(np.isfinite(asymmetry), (asymmetry > asymmetry_threshold).astype(float), np.nan)
    stacked = np.stack(list(angles.values()))
    any_angle = np.where(np.isfinite(stacked).any(0), (np.nan_to_num(stacked) > 0).any(0).astype(float), np.nan)
    per_sample = {
        "missing_joints": missing.any(-1).astype(float),
        "limb_asymmetry": asymmetric,
        "bone_length": bone_length_violations(keypoints, bone_tolerance),
        "joint_angle": any_angle,
        **angles,
    }
    boot = dict(n_resamples=n_resamples, seed=seed, unit="poses")
    return StructureResult(
        rates={name: bootstrap_mean(values, **boot) for name, values in per_sample.items()},
        mean_asymmetry=bootstrap_mean(asymmetry, **boot),
        missing_fraction=bootstrap_mean(missing.mean(-1), **boot),
        missing_per_joint={name: float(m) for name, m in zip(COCO_17.names, missing.mean(0))},
        per_sample=per_sample,
    )
