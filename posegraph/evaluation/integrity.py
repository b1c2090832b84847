"""Whole, committed poses: are all limb joints there, and does a side-free action keep both of its sides?

A full-body prompt should give a pose with every limb joint (shoulders, elbows, wrists, hips, knees,
ankles), each where a body can have it; a model that blends two poses spreads a joint's heatmap over two
places and its peak falls under the decoder's threshold, and a model whose heatmaps keep a noise floor
decodes a weak joint at a stray maximum far from the body, a bone across the canvas. An action whose caption leaves the side open ("standing on one leg", "throwing a
ball") should come out with either side, each often, rather than an average of both.
"""
from __future__ import annotations

import numpy as np

from posegraph.data.checker import action_sides
from posegraph.data.poses import split_action
from posegraph.data.synthetic import ARM_GESTURES
from posegraph.evaluation.body import as_keypoints
from posegraph.skeleton import COCO_17

__all__ = ["BONES", "LIMB_JOINTS", "MAX_BONE_RATIO", "full_body", "limb_integrity", "side_shares"]

#: COCO-17 indices of the 12 limb joints.
LIMB_JOINTS = [COCO_17.index(f"{side}_{part}") for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
               for side in ("left", "right")]

#: The 12 segments between limb joints: upper arms, forearms, thighs, shins, the torso's sides, the
#: shoulders and the hips (COCO-17 index pairs).
BONES = [(COCO_17.index(f"{side}_{a}"), COCO_17.index(f"{side}_{b}")) for side in ("left", "right")
         for a, b in (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle"), ("shoulder", "hip"))
         ] + [(COCO_17.index(f"left_{j}"), COCO_17.index(f"right_{j}")) for j in ("shoulder", "hip")]
#: The longest segment of a whole body is at most this many times its median segment, in the image. The
#: synthetic data's poses reach 2.38 (a kick or one leg seen side-on, the other segments foreshortened);
#: 20,000 of them never pass 2.5.
MAX_BONE_RATIO = 2.5


def full_body(actions) -> np.ndarray:
    """``(n,)`` bool: which of the ``n`` synthetic action ids ask for a whole body: all but the arm gestures
    (:data:`~posegraph.data.synthetic.ARM_GESTURES`), whose crops the data sometimes cuts above the knees."""
    return np.array([split_action(action)[0] not in ARM_GESTURES for action in actions], dtype=bool)


def limb_integrity(keypoints) -> np.ndarray:
    """``(n,)`` bool: the ``(n, 17, 3)`` poses are whole bodies.

    Whole: every one of the 12 limb joints is present (``v > 0``) and no segment between them
    (:data:`BONES`) is longer than :data:`MAX_BONE_RATIO` times the pose's median segment.
    """
    keypoints = as_keypoints(keypoints, "limb_integrity: keypoints", ndim=3)
    present = (keypoints[:, LIMB_JOINTS, 2] > 0).all(1)
    lengths = np.stack([np.linalg.norm(keypoints[:, a, :2] - keypoints[:, b, :2], axis=-1) for a, b in BONES], 1)
    median = np.median(lengths, axis=1)
    return present & (lengths.max(1) <= MAX_BONE_RATIO * median) & (median > 0)


def side_shares(keypoints, action: str) -> dict[str, float]:
    """How ``(n, 17, 3)`` poses prompted with a side-free ``action`` split between its sides.

    Returns:
        ``{"left": .., "right": .., "valid": ..}``: the fractions of all poses that do the action with the
        left side, with the right side (a pose passing with both counts half to each), and at all.
    """
    sides = action_sides(as_keypoints(keypoints, "side_shares: keypoints", ndim=3), action)
    both = (sides == "both").mean() / 2
    return {"left": float((sides == "left").mean() + both), "right": float((sides == "right").mean() + both),
            "valid": float((sides != "").mean())}
