"""Drawing poses: ControlNet-ready OpenPose-18 images, captioned grids and heatmap overlays.

:func:`draw_openpose` draws keypoints the way ControlNet's OpenPose annotator
(``draw_bodypose`` in ``annotator/openpose/util.py`` / ``controlnet_aux``) draws its body pose, so the
image can condition an OpenPose ControlNet directly:

1. convert to OpenPose-18 (:func:`posegraph.skeleton.convert_keypoints`, from COCO-17 or any layout that
   has the OpenPose joints; the neck, when derived, exists only when both shoulders do);
2. on a black RGB canvas, fill each of the 17 limbs of ``OPENPOSE_18.bones``, in that order, as an
   ellipse spanning the two joints with semi-minor axis ``stick_width`` in the limb's colour (later
   limbs paint over earlier ones); a limb with either end absent is skipped;
3. darken the whole canvas to ``(canvas * 0.6).astype(uint8)``, which is what turns the limb colours
   into ``colour * 0.6``;
4. fill a disc of radius ``joint_radius`` in the joint's colour at every present joint.

Rasterisation is plain numpy without anti-aliasing, so every pixel holds an exact palette colour:
the ellipse is the 361-vertex polygon OpenCV's ``ellipse2Poly`` makes (integer centre, half-length
and angle in degrees, vertices rounded to pixels) filled by scanlines, and a disc is the pixels
within ``radius`` of the centre (for radius 4 the same set as OpenCV's filled ``circle``). Limb
borders may differ from OpenCV's by a pixel. Positions are rounded to the nearest output pixel.

The annotator draws at 512 pixels with stick width 4 and joint radius 4. Here both default to
``4 * min(out_height, out_width) / 512`` (rounded, at least 1), so a drawing at any output size looks
like ControlNet's drawing resized to that size.

A layout without the OpenPose-18 joints (a custom skeleton) is drawn in the same style along its own bones,
limb ``i`` and joint ``k`` in palette colours ``i`` and ``k`` (modulo 18): a picture of the pose, not an
image an OpenPose ControlNet knows.

Matplotlib is imported only inside the functions that need it and always draws through its Agg
canvas; nothing here opens a window.
"""
from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from posegraph.heatmaps import heatmaps_to_keypoints
from posegraph.skeleton import COCO_17, OPENPOSE_18, Skeleton, convert_keypoints, missing_joints

__all__ = ["OPENPOSE_COLORS", "draw_openpose", "save_png", "draw_pose_grid", "plot_heatmaps"]

#: RGB colour of OpenPose-18 joint ``k`` and of limb ``k`` (ControlNet's OpenPose palette), ``(18, 3)``.
OPENPOSE_COLORS = np.array(
    [
        [255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0],
        [0, 255, 0], [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255],
        [0, 0, 255], [85, 0, 255], [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85],
    ],
    dtype=np.uint8,
)

_BONES = np.array(OPENPOSE_18.bones)  # (17, 2)


def _pair(size, what: str) -> tuple[int, int]:
    """``int`` or ``(height, width)`` -> ``(height, width)`` of positive ints."""
    hw = (size, size) if np.isscalar(size) else tuple(size)
    if len(hw) != 2 or min(hw) <= 0:
        raise ValueError(f"{what} must be a positive int or (height, width), got {size!r}")
    return int(hw[0]), int(hw[1])


def _as_numpy(array) -> np.ndarray:
    return torch.as_tensor(array).detach().cpu().double().numpy()


def _limb_polygon(p0: np.ndarray, p1: np.ndarray, half_width: int) -> np.ndarray:
    """The ellipse around the segment ``p0 -> p1`` as OpenCV's ``ellipse2Poly`` builds it, ``(361, 2)`` int."""
    centre = np.rint((p0 + p1) / 2)
    dx, dy = p1 - p0
    half_length = int(math.hypot(dx, dy) / 2)
    angle = math.radians(int(math.degrees(math.atan2(dy, dx))))
    t = np.radians(np.arange(361))
    u, v = half_length * np.cos(t), half_width * np.sin(t)
    x = centre[0] + u * math.cos(angle) - v * math.sin(angle)
    y = centre[1] + u * math.sin(angle) + v * math.cos(angle)
    return np.rint(np.stack([x, y], axis=1)).astype(np.int64)


def _fill_convex(canvas: np.ndarray, vertices: np.ndarray, color: np.ndarray) -> None:
    """Fill a convex polygon with integer ``(n, 2)`` ``(x, y)`` vertices, border included, in place."""
    h, w = canvas.shape[:2]
    x0, y0 = vertices.T.astype(np.float64)
    x1, y1 = np.roll(vertices, -1, axis=0).T.astype(np.float64)
    top, bottom = max(int(y0.min()), 0), min(int(y0.max()), h - 1)
    first, last = max(int(x0.min()), 0), min(int(x0.max()), w - 1)
    if top > bottom or first > last:
        return
    rows = np.arange(top, bottom + 1, dtype=np.float64)[:, None]  # scanlines x edges
    crosses = (rows >= np.minimum(y0, y1)) & (rows <= np.maximum(y0, y1))
    flat = y0 == y1
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = x0 + (rows - y0) * (x1 - x0) / (y1 - y0)
    lo = np.where(crosses, np.where(flat, np.minimum(x0, x1), x_at), np.inf).min(axis=1)
    hi = np.where(crosses, np.where(flat, np.maximum(x0, x1), x_at), -np.inf).max(axis=1)
    cols = np.arange(first, last + 1)
    inside = (cols >= np.floor(lo + 0.5)[:, None]) & (cols <= np.floor(hi + 0.5)[:, None])
    canvas[top : bottom + 1, first : last + 1][inside] = color


def _fill_disc(canvas: np.ndarray, centre: np.ndarray, radius: int, color: np.ndarray) -> None:
    """Fill the pixels within ``radius`` of the integer ``(x, y)`` centre, in place."""
    h, w = canvas.shape[:2]
    cx, cy = int(centre[0]), int(centre[1])
    top, bottom = max(cy - radius, 0), min(cy + radius, h - 1)
    first, last = max(cx - radius, 0), min(cx + radius, w - 1)
    if top > bottom or first > last:
        return
    ys, xs = np.arange(top, bottom + 1)[:, None], np.arange(first, last + 1)[None, :]
    inside = (xs - cx) ** 2 + (ys - cy) ** 2 <= radius**2
    canvas[top : bottom + 1, first : last + 1][inside] = color


def draw_openpose(
    keypoints,
    canvas_size: int | tuple[int, int],
    out_size: int | tuple[int, int] = 512,
    threshold: float = 0.0,
    stick_width: int | None = None,
    joint_radius: int | None = None,
    skeleton: Skeleton = COCO_17,
) -> np.ndarray:
    """Draw poses as a ControlNet OpenPose image (see the module docstring for the style).

    Args:
        keypoints: ``(K, 3)`` or ``(people, K, 3)`` rows ``(x, y, v)`` of ``skeleton``'s joints (torch or numpy)
            in the pixels of a frame of ``canvas_size``, pixel centres at integers. Several people share one canvas.
        canvas_size: the keypoints' frame, ``S`` or ``(height, width)`` (64 for 64x64 heatmaps).
        out_size: the image size, ``int`` or ``(height, width)``; the frame is stretched to it.
        threshold: a joint is drawn where ``v > threshold`` (0: every labelled joint; 1: only
            ``v = 2``). The neck needs both shoulders above the threshold.
        stick_width: limb half-width in output pixels; default ``4 * min(out_size) / 512``.
        joint_radius: joint disc radius in output pixels; default ``4 * min(out_size) / 512``.
        skeleton: the keypoints' layout (default COCO-17; a pipeline's is ``pipeline.skeleton``).

    Returns:
        ``(height, width, 3)`` uint8 RGB image on a black background.
    """
    frame_h, frame_w = _pair(canvas_size, "draw_openpose: canvas_size")
    out_h, out_w = _pair(out_size, "draw_openpose: out_size")
    kp = _as_numpy(keypoints)
    k = skeleton.num_joints
    if kp.shape[-2:] != (k, 3) or kp.ndim not in (2, 3):
        raise ValueError(f"draw_openpose: expected {skeleton.name} keypoints ({k}, 3) or (people, {k}, 3), "
                         f"got {kp.shape}")
    default = max(1, round(4 * min(out_h, out_w) / 512))
    stick_width = default if stick_width is None else stick_width
    joint_radius = default if joint_radius is None else joint_radius

    kp = kp.reshape(-1, k, 3).copy()
    kp[..., 2] = np.where(kp[..., 2] > threshold, 2.0, 0.0)
    if missing_joints(skeleton, OPENPOSE_18):  # no OpenPose form: the layout's own bones
        op, bones = kp, np.array(skeleton.bones, dtype=np.int64).reshape(-1, 2)
    else:
        op, bones = convert_keypoints(kp, skeleton, OPENPOSE_18), _BONES  # (people, 18, 3)
    colors = OPENPOSE_COLORS[np.arange(max(len(bones), op.shape[1])) % len(OPENPOSE_COLORS)]
    scale = np.array([out_w / frame_w, out_h / frame_h])
    xy = (op[..., :2] + 0.5) * scale - 0.5  # frame pixels -> output pixels, centres at integers
    present = (op[..., 2] > 0) & np.isfinite(xy).all(axis=-1)
    xy = np.where(present[..., None], xy, 0.0)

    canvas = np.zeros((out_h, out_w, 3), dtype=np.uint8)
    limbs = present[:, bones[:, 0]] & present[:, bones[:, 1]]  # (people, limbs)
    for limb, person in np.argwhere(limbs.T):  # limb order first, as the annotator draws
        i, j = bones[limb]
        _fill_convex(canvas, _limb_polygon(xy[person, i], xy[person, j], stick_width), colors[limb])
    canvas = (canvas * 0.6).astype(np.uint8)
    for joint, person in np.argwhere(present.T):
        _fill_disc(canvas, np.rint(xy[person, joint]), joint_radius, colors[joint])
    return canvas


def save_png(image: np.ndarray, path) -> Path:
    """Write a uint8 ``(height, width, 3)`` RGB (or ``(height, width)`` grey) image to ``path`` as PNG.

    Uses Pillow, which matplotlib depends on; pixel values are stored exactly. Parent folders are
    created. Returns the path.
    """
    from PIL import Image

    image = np.asarray(image)
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] in (3, 4))):
        raise ValueError(
            f"save_png: expected a uint8 image (height, width), (height, width, 3) or (height, width, 4), "
            f"got dtype {image.dtype} and shape {image.shape}"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, format="PNG")
    return path


def _agg_figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finish(fig, path):
    """Save ``fig`` to ``path`` and return the path, or return ``fig`` when ``path`` is None."""
    if path is None:
        return fig
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def draw_pose_grid(
    keypoints,
    captions: Sequence[str] | None = None,
    *,
    canvas_size: int | tuple[int, int],
    ncols: int = 4,
    cell_size: int = 256,
    path=None,
    skeleton: Skeleton = COCO_17,
):
    """A grid of OpenPose drawings, each with its caption wrapped underneath.

    Args:
        keypoints: ``(N, K, 3)`` poses of ``skeleton`` (torch or numpy) in a frame of ``canvas_size``.
        captions: ``N`` captions, or ``None``.
        canvas_size: the keypoints' frame, ``S`` or ``(height, width)``.
        ncols: cells per row.
        cell_size: side of each drawing in pixels (the figure is drawn at 100 dpi).
        path: where to write the image (format from the suffix, e.g. ``.png``); ``None`` returns the
            matplotlib ``Figure`` instead.
        skeleton: the poses' layout (default COCO-17), as in :func:`draw_openpose`.

    Returns:
        the written path, or the ``Figure``.
    """
    kp = _as_numpy(keypoints)
    if kp.ndim != 3:
        raise ValueError(f"draw_pose_grid: expected keypoints (N, {skeleton.num_joints}, 3), got shape {kp.shape}")
    n = len(kp)
    if captions is not None and len(captions) != n:
        raise ValueError(f"draw_pose_grid: got {len(captions)} captions for {n} poses; give one per pose or None")
    if n == 0 or ncols < 1:
        raise ValueError(f"draw_pose_grid: need at least one pose and ncols >= 1, got {n} poses, ncols={ncols}")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    cell_in = cell_size / 100
    caption_in = 0.6 if captions is not None else 0.0
    fig = _agg_figure(ncols * cell_in, nrows * (cell_in + caption_in))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.set_axis_off()
            continue
        ax.imshow(draw_openpose(kp[i], canvas_size, cell_size, skeleton=skeleton), interpolation="nearest")
        if captions is not None:
            ax.set_xlabel(textwrap.fill(captions[i], width=max(10, cell_size // 7)), fontsize=8)
    return _finish(fig, path)


def plot_heatmaps(
    heatmaps,
    keypoints=None,
    *,
    skeleton: Skeleton = COCO_17,
    ncols: int = 6,
    path=None,
):
    """One panel per joint's heatmap plus the max-over-joints composite with the skeleton on top.

    Args:
        heatmaps: ``(K, S, S)`` heatmaps in ``[0, 1]`` (torch or numpy).
        keypoints: ``(K, 3)`` keypoints in heatmap pixels to mark; default: decoded from ``heatmaps``
            with :func:`posegraph.heatmaps.heatmaps_to_keypoints`. Joints with ``v = 0`` are not marked.
        skeleton: the layout, for panel titles (joint names) and the bones drawn on the composite.
        ncols: panels per row.
        path: where to write the figure; ``None`` returns the matplotlib ``Figure``.

    Returns:
        the written path, or the ``Figure``.
    """
    h = torch.as_tensor(heatmaps, dtype=torch.float32).detach().cpu()
    k = skeleton.num_joints
    if h.dim() != 3 or h.shape[0] != k or h.shape[1] != h.shape[2]:
        raise ValueError(f"plot_heatmaps: expected heatmaps ({k}, S, S) for {skeleton!r}, got {tuple(h.shape)}")
    kp = heatmaps_to_keypoints(h) if keypoints is None else torch.as_tensor(keypoints, dtype=torch.float32)
    if kp.shape != (k, 3):
        raise ValueError(f"plot_heatmaps: expected keypoints ({k}, 3), got {tuple(kp.shape)}")
    h, kp = h.numpy(), kp.numpy()
    shown = kp[:, 2] > 0

    nrows = math.ceil((k + 1) / ncols)
    fig = _agg_figure(2 * ncols, 2.2 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    for j in range(k):
        axes[j].imshow(h[j], cmap="magma", vmin=0, vmax=1)
        if shown[j]:
            axes[j].plot(kp[j, 0], kp[j, 1], "c+", markersize=8)
        axes[j].set_title(skeleton.names[j], fontsize=8)
    composite = axes[k]
    composite.imshow(h.max(axis=0), cmap="magma", vmin=0, vmax=1)
    for i, j in skeleton.bones:
        if shown[i] and shown[j]:
            composite.plot(kp[[i, j], 0], kp[[i, j], 1], "-", color="cyan", linewidth=1.5)
    composite.plot(kp[shown, 0], kp[shown, 1], "o", color="white", markersize=3)
    composite.set_title("all joints (max)", fontsize=8)
    return _finish(fig, path)
