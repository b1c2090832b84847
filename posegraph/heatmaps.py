"""Keypoints <-> Gaussian heatmaps, batched and vectorised (no Python loop over samples or joints).

Conventions:

* Keypoints are ``(..., K, 3)`` rows ``(x, y, v)`` in heatmap pixels; pixel centres sit at integer
  coordinates, so a map of side ``S`` covers ``[-0.5, S - 0.5]`` on each axis. ``v`` follows COCO
  (0 absent, 1 occluded but labelled, 2 visible); any ``v > 0`` is drawn.
* A heatmap is ``exp(-((x - x_k)^2 + (y - y_k)^2) / (2 sigma^2))``: values in ``[0, 1]`` with a peak
  of 1 at the keypoint (as in the paper, sigma 2 at 64x64). Absent or out-of-frame joints give an
  all-zero map.
* The diffusion model sees heatmaps rescaled to its own value range, ``h * scale + shift``
  (:func:`normalize_heatmaps`; the model's config holds ``heatmap_scale`` and ``heatmap_shift``).
  The default ``2, -1`` is ``[-1, 1]``: background -1, peak +1. :func:`denormalize_heatmaps` maps model
  outputs back to ``[0, 1]``.
"""
from __future__ import annotations

import torch

__all__ = [
    "keypoints_to_heatmaps",
    "heatmaps_to_keypoints",
    "flip_heatmaps",
    "normalize_heatmaps",
    "denormalize_heatmaps",
]


def keypoints_to_heatmaps(keypoints: torch.Tensor, size: int, sigma: float = 2.0) -> torch.Tensor:
    """Render Gaussian heatmaps.

    Args:
        keypoints: ``(batch, K, 3)`` or ``(K, 3)`` rows ``(x, y, v)`` in heatmap pixels.
        size: heatmap side ``S``.
        sigma: Gaussian standard deviation in pixels.

    Returns:
        ``(batch, K, S, S)`` (or ``(K, S, S)``) float heatmaps in ``[0, 1]``.
    """
    keypoints = torch.as_tensor(keypoints, dtype=torch.float32)
    if keypoints.dim() not in (2, 3) or keypoints.shape[-1] != 3:
        raise ValueError(f"keypoints_to_heatmaps: expected keypoints (batch, K, 3) or (K, 3), got {tuple(keypoints.shape)}")
    if size < 3 or sigma <= 0:
        raise ValueError(f"keypoints_to_heatmaps: need size >= 3 and sigma > 0, got size={size}, sigma={sigma}")
    x, y, v = keypoints.unbind(-1)
    in_frame = (v > 0) & (x >= -0.5) & (x <= size - 0.5) & (y >= -0.5) & (y <= size - 0.5)
    grid = torch.arange(size, dtype=torch.float32, device=keypoints.device)
    gx = torch.exp(-((grid - x[..., None]) ** 2) / (2 * sigma**2))  # (..., K, S)
    gy = torch.exp(-((grid - y[..., None]) ** 2) / (2 * sigma**2))
    return gy[..., :, None] * gx[..., None, :] * in_frame[..., None, None]


def _vertex(l0: torch.Tensor, l1: torch.Tensor, l2: torch.Tensor) -> torch.Tensor:
    """Offset of a parabola's vertex through (-1, l0), (0, l1), (1, l2) from the middle sample."""
    curvature = l0 - 2 * l1 + l2
    offset = (l0 - l2) / (2 * curvature).clamp(max=-1e-6)
    return torch.where(curvature < 0, offset, torch.zeros_like(offset))


def heatmaps_to_keypoints(
    heatmaps: torch.Tensor, threshold: float = 0.2, return_confidence: bool = False
):
    """Decode each heatmap at its maximum, refined to sub-pixel accuracy.

    The refinement fits a parabola to the log of three samples around the maximum along each axis
    (exact for a Gaussian; windows at the border shift inward). The peak value is the joint's
    confidence; joints below ``threshold`` get ``v = 0`` (their ``x, y`` still hold the maximum),
    the others ``v = 2``.

    Args:
        heatmaps: ``(batch, K, S, S)`` or ``(K, S, S)`` in the ``[0, 1]`` range.
        threshold: confidence below which a joint is marked absent.
        return_confidence: also return the peak values ``(batch, K)``.

    Returns:
        keypoints ``(batch, K, 3)`` (or ``(K, 3)``), and the confidence if asked.
    """
    if heatmaps.dim() not in (3, 4) or heatmaps.shape[-1] != heatmaps.shape[-2]:
        raise ValueError(f"heatmaps_to_keypoints: expected (batch, K, S, S) or (K, S, S), got {tuple(heatmaps.shape)}")
    h = heatmaps.float()
    size = h.shape[-1]
    conf, flat = h.flatten(-2).max(-1)
    my, mx = flat // size, flat % size

    logs = h.clamp(min=1e-10).log()
    # Three samples along x on the peak's row and along y on the peak's column, windows kept in frame.
    cx = (mx - 1).clamp(0, size - 3)
    cy = (my - 1).clamp(0, size - 3)
    steps = torch.arange(3, device=h.device)
    row = logs.gather(-2, my[..., None, None].expand(*my.shape, 1, size)).squeeze(-2)  # (..., K, S)
    col = logs.gather(-1, mx[..., None, None].expand(*mx.shape, size, 1)).squeeze(-1)
    lx = row.gather(-1, cx[..., None] + steps)
    ly = col.gather(-1, cy[..., None] + steps)
    x = cx + 1 + _vertex(*lx.unbind(-1))
    y = cy + 1 + _vertex(*ly.unbind(-1))
    # Stay within a pixel of the maximum and inside the frame.
    x = torch.minimum(torch.maximum(x, mx - 1.0), mx + 1.0).clamp(-0.5, size - 0.5)
    y = torch.minimum(torch.maximum(y, my - 1.0), my + 1.0).clamp(-0.5, size - 0.5)
    v = torch.where(conf >= threshold, 2.0, 0.0)
    keypoints = torch.stack([x, y, v], dim=-1)
    return (keypoints, conf) if return_confidence else keypoints


def flip_heatmaps(heatmaps: torch.Tensor, flip_permutation: torch.Tensor) -> torch.Tensor:
    """Mirror ``(..., K, S, S)`` heatmaps left-right and swap left/right joints."""
    return heatmaps.flip(-1)[..., flip_permutation.to(heatmaps.device), :, :]


def normalize_heatmaps(heatmaps: torch.Tensor, scale: float = 2.0, shift: float = -1.0) -> torch.Tensor:
    """``[0, 1]`` heatmaps -> the model's range ``heatmaps * scale + shift`` (default ``[-1, 1]``)."""
    return heatmaps * scale + shift


def denormalize_heatmaps(sample: torch.Tensor, scale: float = 2.0, shift: float = -1.0) -> torch.Tensor:
    """Model-range samples -> ``[0, 1]`` heatmaps (clamped); the inverse of :func:`normalize_heatmaps`."""
    return ((sample - shift) / scale).clamp(0, 1)
