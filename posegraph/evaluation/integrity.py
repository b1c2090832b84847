"""Whole, committed poses: are all limb joints there, and does a side-free action keep both of its sides?

A full-body prompt should give a pose with every limb joint (shoulders, elbows, wrists, hips, knees,
ankles); a model that blends two poses spreads a joint's heatmap over two places and its peak falls under
the decoder's threshold. An action whose caption leaves the side open ("standing on one leg", "throwing a
ball") should come out with either side, each often, rather than an average of both.
"""
from __future__ import annotations

import numpy as np

from posegraph.data.checker import action_sides
from posegraph.evaluation.body import as_keypoints
from posegraph.skeleton import COCO_17

__all__ = ["LIMB_JOINTS", "limb_integrity", "side_shares"]

#: COCO-17 indices of the 12 limb joints.
LIMB_JOINTS = [COCO_17.index(f"{side}_{part}") for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
               for side in ("left", "right")]


def limb_integrity(keypoints) -> np.ndarray:
    """``(n,)`` bool: every one of the 12 limb joints of the ``(n, 17, 3)`` poses is present (``v > 0``)."""
    keypoints = as_keypoints(keypoints, "limb_integrity: keypoints", ndim=3)
    return (keypoints[:, LIMB_JOINTS, 2] > 0).all(1)


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
