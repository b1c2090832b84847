"""Keypoint input checks and the body frame every size-free metric shares.

Metrics take COCO-17 keypoints ``(..., 17, 3)`` rows ``(x, y, v)`` in heatmap pixels, as numpy arrays
or torch tensors. A joint counts as present when ``v > 0`` and its coordinates are finite.

The body frame removes where the person stands and how big they are drawn:

* centre: the mid-hip (both hips present), else the mean of the present joints;
* scale: the torso length, from mid-shoulder to mid-hip (both shoulders and both hips present),
  else the diagonal of the present joints' bounding box divided by :data:`DIAGONAL_PER_TORSO`
  (a standing adult's box diagonal is about three torso lengths).

A pose with fewer than two present joints, or a zero scale, has no body frame (``valid`` False).
"""
from __future__ import annotations

import warnings

import numpy as np
import torch

from posegraph.skeleton import COCO_17

__all__ = [
    "NUM_JOINTS",
    "DIAGONAL_PER_TORSO",
    "as_keypoints",
    "present",
    "torso_length",
    "body_frame",
    "normalize_poses",
]

NUM_JOINTS = COCO_17.num_joints
DIAGONAL_PER_TORSO = 3.0
LEFT_SHOULDER, RIGHT_SHOULDER = COCO_17.index("left_shoulder"), COCO_17.index("right_shoulder")
LEFT_HIP, RIGHT_HIP = COCO_17.index("left_hip"), COCO_17.index("right_hip")


def as_keypoints(keypoints, name: str = "keypoints", ndim: int | None = None) -> np.ndarray:
    """Keypoints as a float64 numpy array ``(..., 17, 3)``; a clear error for anything else.

    Args:
        keypoints: numpy array, torch tensor or nested sequence.
        name: what to call the argument in the error message.
        ndim: the exact number of dimensions required (e.g. 3 for ``(n, 17, 3)``), or None.
    """
    if isinstance(keypoints, torch.Tensor):
        keypoints = keypoints.detach().cpu().numpy()
    array = np.asarray(keypoints, dtype=np.float64)
    if array.ndim < 2 or array.shape[-2:] != (NUM_JOINTS, 3):
        raise ValueError(
            f"{name}: expected COCO-17 keypoints of shape (..., {NUM_JOINTS}, 3) rows (x, y, v), got {array.shape}"
        )
    if ndim is not None and array.ndim != ndim:
        shape = ", ".join(["n"] * (ndim - 2) + [str(NUM_JOINTS), "3"])
        raise ValueError(f"{name}: expected shape ({shape}), got {array.shape}")
    return array


def present(keypoints: np.ndarray) -> np.ndarray:
    """Which joints are there: ``v > 0`` and finite coordinates, ``(..., 17)`` bool."""
    return (keypoints[..., 2] > 0) & np.isfinite(keypoints[..., :2]).all(-1)


def _midpoint(xy: np.ndarray, ok: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    return (xy[..., a, :] + xy[..., b, :]) / 2, ok[..., a] & ok[..., b]


def torso_length(keypoints: np.ndarray) -> np.ndarray:
    """Mid-shoulder to mid-hip distance in pixels, ``(...)``; NaN where a shoulder or hip is missing or it is 0."""
    xy, ok = keypoints[..., :2], present(keypoints)
    shoulders, has_shoulders = _midpoint(xy, ok, LEFT_SHOULDER, RIGHT_SHOULDER)
    hips, has_hips = _midpoint(xy, ok, LEFT_HIP, RIGHT_HIP)
    length = np.linalg.norm(shoulders - hips, axis=-1)
    return np.where(has_shoulders & has_hips & (length > 0), length, np.nan)


def body_frame(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre ``(..., 2)``, scale ``(...)`` and validity ``(...)`` of each pose (see the module doc)."""
    xy, ok = keypoints[..., :2], present(keypoints)
    count = ok.sum(-1)
    masked = np.where(ok[..., None], xy, np.nan)
    with warnings.catch_warnings():  # poses without present joints reduce all-NaN slices
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(masked, axis=-2)
        diagonal = np.linalg.norm(np.nanmax(masked, axis=-2) - np.nanmin(masked, axis=-2), axis=-1)
    hips, has_hips = _midpoint(xy, ok, LEFT_HIP, RIGHT_HIP)
    centre = np.where(has_hips[..., None], hips, mean)
    torso = torso_length(keypoints)
    scale = np.where(np.isfinite(torso), torso, diagonal / DIAGONAL_PER_TORSO)
    valid = (count >= 2) & np.isfinite(scale) & (scale > 0)
    return centre, np.where(valid, scale, np.nan), valid


def normalize_poses(keypoints) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Body-frame coordinates of every joint.

    Args:
        keypoints: ``(..., 17, 3)`` in pixels.

    Returns:
        coords ``(..., 17, 2)`` in torso lengths from the body centre (NaN where a joint is missing
        or the pose has no frame), present ``(..., 17)`` bool, valid ``(...)`` bool.
    """
    keypoints = as_keypoints(keypoints)
    centre, scale, valid = body_frame(keypoints)
    ok = present(keypoints) & valid[..., None]
    coords = (keypoints[..., :2] - centre[..., None, :]) / scale[..., None, None]
    return np.where(ok[..., None], coords, np.nan), ok, valid

