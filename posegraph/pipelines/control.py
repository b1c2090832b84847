"""Pose control for :class:`~posegraph.pipelines.PoseGraphPipeline`: which joints to keep, given poses
checked and mapped between the canvas and the model's square heatmap frame.

The model draws a pose in a square frame of ``S`` heatmap pixels (``unet.config.sample_size``). On a
canvas, or in a box of a canvas, that frame is scaled to fit and centred: a box ``(x, y, w, h)`` covers
canvas pixels ``x .. x + w - 1`` and ``y .. y + h - 1`` (pixel centres at integers, as everywhere in
posegraph), the frame's side becomes ``min(w, h)`` canvas pixels, and a joint at frame pixel ``x_f``
lands at ``x + (x_f + 0.5) * min(w, h) / S - 0.5 + (w - min(w, h)) / 2`` (the same along ``y``). The
whole canvas is the box ``(0, 0, width, height)``.
"""
from __future__ import annotations

import math
import numbers
import numpy as np
import torch

from posegraph.skeleton import BODY_PARTS, COCO_17, Skeleton

__all__ = ["as_float_tensor", "keep_mask", "check_keypoints", "check_strength", "check_box", "frame_to_box", "box_to_frame"]


def keep_mask(keep, name: str = "keep", skeleton: Skeleton = COCO_17) -> torch.Tensor:
    """The joints to keep as a ``(K,)`` bool mask over the joints of ``skeleton`` (default COCO-17).

    Args:
        keep: a body part of :data:`posegraph.skeleton.BODY_PARTS` (``"legs"``, ``"arms"``, ``"left_arm"``,
            ``"right_arm"``, ``"left_leg"``, ``"right_leg"``, ``"head"``, ``"torso"``: those of its joints that
            ``skeleton`` has), a joint name of ``skeleton``, several of these as a list or one comma-separated
            string (``"legs,nose"``), or a ``(K,)`` boolean mask (list, numpy array or tensor) in its order.
        name: the argument's name, for error messages.
        skeleton: the layout the mask is over.

    Raises:
        ValueError / TypeError: an unknown name or a mask of the wrong length or type, naming ``name``.
    """
    k, layout = skeleton.num_joints, f"{skeleton.name} joint"
    if isinstance(keep, str):
        keep = [part.strip() for part in keep.split(",") if part.strip()]
        if not keep:
            raise ValueError(f"{name} is an empty string; name body parts ({', '.join(BODY_PARTS)}) or joints")
    if isinstance(keep, (torch.Tensor, np.ndarray)) or (
        isinstance(keep, (list, tuple)) and keep and all(isinstance(k, (bool, np.bool_)) for k in keep)
    ):
        mask = torch.as_tensor(np.asarray(keep.cpu() if isinstance(keep, torch.Tensor) else keep))
        if mask.dtype != torch.bool:
            raise TypeError(f"{name}: a mask must hold booleans (one per {layout}), got dtype {mask.dtype}")
        if mask.shape != (k,):
            raise ValueError(f"{name}: a mask must have shape ({k},), one entry per {layout}, "
                             f"got shape {tuple(mask.shape)}")
        return mask.clone()
    if not isinstance(keep, (list, tuple)) or not keep or not all(isinstance(part, str) for part in keep):
        raise TypeError(f"{name} must be a body part or joint name, a list of them, or a ({k},) boolean mask, "
                        f"got {keep!r}")
    parts = {part: [j for j in joints if j in skeleton.names] for part, joints in BODY_PARTS.items()}
    parts = {part: joints for part, joints in parts.items() if joints}
    mask = torch.zeros(k, dtype=torch.bool)
    for part in keep:
        if part in parts:
            mask[[skeleton.index(joint) for joint in parts[part]]] = True
        elif part in skeleton.names:
            mask[skeleton.index(part)] = True
        else:
            raise ValueError(f"{name}: unknown body part or joint {part!r}; body parts: {', '.join(parts) or 'none'}; "
                             f"joints: {', '.join(skeleton.names)}")
    return mask


def check_strength(strength, name: str = "strength") -> float:
    """``strength`` as a float in ``[0, 1]``, else a ValueError naming ``name``."""
    if isinstance(strength, bool) or not isinstance(strength, numbers.Real) or not 0 <= strength <= 1:
        raise ValueError(f"{name} must be a number in [0, 1] (0 keeps the given pose, 1 ignores it), got {strength!r}")
    return float(strength)


def check_box(box, height: int, width: int, name: str = "box") -> tuple[float, float, float, float]:
    """A box ``(x, y, w, h)`` in canvas pixels that lies inside a ``height`` x ``width`` canvas."""
    try:
        values = tuple(float(v) for v in box)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be four numbers (x, y, width, height) in canvas pixels, got {box!r}") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"{name} must be four finite numbers (x, y, width, height) in canvas pixels, got {box!r}")
    x, y, w, h = values
    if w < 1 or h < 1:
        raise ValueError(f"{name} {values}: width and height must be at least one pixel")
    if x < 0 or y < 0 or x + w > width or y + h > height:
        raise ValueError(f"{name} {values} reaches outside the {width}x{height} canvas (width x height): it must "
                         f"satisfy 0 <= x, 0 <= y, x + w <= {width}, y + h <= {height}")
    return values


def _geometry(size: int, box) -> tuple[float, float, float]:
    """Scale and the canvas position of the frame's corner ``(-0.5, -0.5)`` for a frame of side ``size`` in ``box``."""
    x, y, w, h = box
    scale = min(w, h) / size
    return scale, x + (w - size * scale) / 2, y + (h - size * scale) / 2


def frame_to_box(keypoints: torch.Tensor, size: int, box) -> torch.Tensor:
    """Frame pixels ``(..., K, 3)`` -> canvas pixels of the frame scaled to fit ``box`` and centred in it."""
    scale, left, top = _geometry(size, box)
    x = (keypoints[..., 0] + 0.5) * scale - 0.5 + left
    y = (keypoints[..., 1] + 0.5) * scale - 0.5 + top
    return torch.stack([x, y, keypoints[..., 2]], dim=-1)


def box_to_frame(keypoints: torch.Tensor, size: int, box) -> torch.Tensor:
    """The inverse of :func:`frame_to_box`: canvas pixels -> frame pixels (absent joints keep ``(0, 0, 0)``)."""
    scale, left, top = _geometry(size, box)
    x = (keypoints[..., 0] + 0.5 - left) / scale - 0.5
    y = (keypoints[..., 1] + 0.5 - top) / scale - 0.5
    present = keypoints[..., 2] > 0
    return torch.stack([torch.where(present, x, 0.0), torch.where(present, y, 0.0), keypoints[..., 2]], dim=-1)


def as_float_tensor(values) -> torch.Tensor:
    """Torch, numpy or nested lists -> a float32 CPU tensor."""
    return torch.as_tensor(np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values,
                                      dtype=np.float32))


def check_keypoints(keypoints, name: str, num_poses: int, size: int, height: int, width: int,
                    box=None, skeleton: Skeleton = COCO_17) -> torch.Tensor:
    """Check given poses and map them into the model's frame.

    Args:
        keypoints: ``(K, 3)`` (one pose for all) or ``(num_poses, K, 3)`` rows ``(x, y, v)`` of ``skeleton``'s
            joints in canvas pixels (torch, numpy or nested lists); ``v = 0`` marks an absent joint.
        name: the argument's name, for error messages.
        num_poses: how many poses a per-pose tensor must hold.
        size: the frame side ``S``.
        height, width: the canvas.
        box: the part of the canvas the frame fits into (default the whole canvas).
        skeleton: the model's joint layout (default COCO-17).

    Returns:
        ``(1 or num_poses, K, 3)`` float32 keypoints in frame pixels; absent joints are ``(0, 0, 0)``.

    Raises:
        ValueError: wrong shape, non-finite values, ``v`` outside {0, 1, 2}, or a present joint outside the
            canvas or outside the square frame; the message names ``name``, the pose and the joint.
    """
    k, layout = skeleton.num_joints, skeleton.name
    try:
        kp = as_float_tensor(keypoints)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {layout} keypoints ({k}, 3) or ({num_poses}, {k}, 3) of numbers") from None
    if kp.dim() == 2:
        kp = kp[None]
    if kp.dim() != 3 or kp.shape[-1] != 3:
        raise ValueError(f"{name} must have shape ({k}, 3) or ({num_poses}, {k}, 3): {layout} rows (x, y, v) in "
                         f"canvas pixels, got shape {tuple(kp.shape)}")
    if kp.shape[1] != k:
        raise ValueError(f"{name} has {kp.shape[1]} joints per pose; the model draws the {k} {layout} joints "
                         f"({', '.join(skeleton.names)}); convert other layouts with posegraph.skeleton.convert_keypoints")
    if kp.shape[0] not in (1, num_poses):
        raise ValueError(f"{name} holds {kp.shape[0]} poses for {num_poses} poses to draw; give one pose or one each")
    if not torch.isfinite(kp).all():
        raise ValueError(f"{name} holds NaN or infinite values; mark absent joints with v = 0 instead")
    v = kp[..., 2]
    if not ((v == 0) | (v == 1) | (v == 2)).all():
        raise ValueError(f"{name}: visibility v must be 0 (absent), 1 or 2 (present), got {sorted(set(v.unique().tolist()))}")
    box = (0, 0, width, height) if box is None else box
    frame = box_to_frame(kp, size, box)
    present = v > 0
    x, y = kp[..., 0], kp[..., 1]
    outside_canvas = present & ((x < -0.5) | (x > width - 0.5) | (y < -0.5) | (y > height - 0.5))
    outside_frame = present & ((frame[..., :2] < -0.5) | (frame[..., :2] > size - 0.5)).any(-1)
    for bad, where in ((outside_canvas, f"outside the {width}x{height} canvas (width x height)"),
                       (outside_frame, f"outside the pose's square frame (side {min(box[2], box[3]):g} pixels, "
                                       f"centred in {'the canvas' if tuple(box) == (0, 0, width, height) else f'box {tuple(box)}'})")):
        if bad.any():
            pose, joint = (int(i) for i in bad.nonzero()[0])
            raise ValueError(f"{name}: pose {pose}, joint {skeleton.names[joint]} at ({x[pose, joint]:g}, "
                             f"{y[pose, joint]:g}) lies {where}; keypoints are canvas pixels")
    return frame
