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
* The paper authors' released model draws each joint as the *lowest* region of its map (its maps are
  normalised across joints per pixel and scaled to ``[-1, 1]``, a joint near -1), and their code places
  the joint at the centroid of the lowest 5 % of the map: :func:`lowest_regions_to_keypoints`. Its maps
  are ``[0, 1]`` heatmaps, joint bright, by ``denormalize_heatmaps(sample, scale=-2, shift=1)``.
"""
from __future__ import annotations

import math

import torch

__all__ = [
    "keypoints_to_heatmaps",
    "heatmaps_to_keypoints",
    "flip_heatmaps",
    "normalize_heatmaps",
    "denormalize_heatmaps",
    "lowest_regions_to_keypoints",
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


def lowest_regions_to_keypoints(
    sample: torch.Tensor, fraction: float = 0.05, min_area: float = 5.0, return_confidence: bool = False
):
    """Decode maps whose joint is their lowest region, as the paper authors' released code does.

    Per map: take the pixels at or below the value at index ``floor(fraction * S * S)`` of its sorted pixels
    (the lowest 5 %, ties included), split them into 8-connected regions, and place the joint at the centroid of
    the region with the largest area, measured like OpenCV's ``contourArea`` of the region's outline (the
    polygon through its boundary pixels' centres: ``pixels - boundary / 2 - 1`` by Pick's theorem, exact
    for regions without one-pixel-wide parts). The joint is present (``v = 2``) when that area exceeds
    ``min_area``, else ``v = 0`` (its ``x, y`` still hold the centroid). Where the released code differs:
    it takes the first region OpenCV lists with an area above 5 (not the largest), and rounds the centroid
    of the outline down to whole pixels (here: the mean of the region's pixel centres, sub-pixel).

    Args:
        sample: ``(batch, K, S, S)`` or ``(K, S, S)`` maps in the released model's range (joint near -1).
        fraction: the share of each map's pixels that makes up its lowest part.
        min_area: the outline area a region needs for its joint to count as present.
        return_confidence: also return ``(batch, K)`` confidences: the region's mean of ``(1 - x) / 2``
            clamped to ``[0, 1]`` (1 where the region sits at -1).

    Returns:
        keypoints ``(batch, K, 3)`` (or ``(K, 3)``) in heatmap pixels, and the confidence if asked.
    """
    if sample.dim() not in (3, 4) or sample.shape[-1] != sample.shape[-2]:
        raise ValueError("lowest_regions_to_keypoints: expected (batch, K, S, S) or (K, S, S), "
                         f"got {tuple(sample.shape)}")
    if not 0 <= fraction < 1:
        raise ValueError(f"lowest_regions_to_keypoints: fraction must be in [0, 1), got {fraction}")
    lead, size = sample.shape[:-2], sample.shape[-1]
    maps = sample.float().reshape(-1, size * size)
    count = maps.shape[0]
    threshold = maps.kthvalue(int(fraction * size * size) + 1, dim=1, keepdim=True).values
    mask = (maps <= threshold).view(count, 1, size, size)

    # 8-connected regions: every pixel takes the largest label around it until nothing changes.
    labels = torch.arange(1, size * size + 1, dtype=torch.float32, device=maps.device).view(1, 1, size, size) * mask
    for _ in range(size * size):
        grown = torch.nn.functional.max_pool2d(labels, 3, stride=1, padding=1) * mask
        if torch.equal(grown, labels):
            break
        labels = grown
    index = labels.view(count, -1).long()  # 0: outside the lowest part

    # Boundary pixels: in the region with a 4-neighbour outside it (regions never touch, so: outside the mask).
    padded = torch.nn.functional.pad(mask[:, 0], (1, 1, 1, 1), value=False)
    inner = padded[:, :-2, 1:-1] & padded[:, 2:, 1:-1] & padded[:, 1:-1, :-2] & padded[:, 1:-1, 2:]
    boundary = (mask[:, 0] & ~inner).view(count, -1).float()
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float32, device=maps.device),
                            torch.arange(size, dtype=torch.float32, device=maps.device), indexing="ij")
    per_pixel = torch.stack([torch.ones_like(maps), boundary, xs.flatten().expand_as(maps),
                             ys.flatten().expand_as(maps), ((1 - maps) / 2).clamp(0, 1)])  # (5, count, S * S)
    sums = torch.zeros(5, count, size * size + 1, device=maps.device)
    sums.scatter_add_(2, index.expand(5, -1, -1), per_pixel)
    sums[:, :, 0] = 0
    pixels, edge, sum_x, sum_y, sum_conf = sums
    area = torch.where(pixels > 0, pixels - edge / 2 - 1, torch.full_like(pixels, -math.inf))
    best_area, best = area.max(1, keepdim=True)
    n = pixels.gather(1, best)
    x, y, confidence = (s.gather(1, best) / n for s in (sum_x, sum_y, sum_conf))
    v = torch.where(best_area > min_area, 2.0, 0.0)
    keypoints = torch.cat([x, y, v], dim=1).view(*lead, 3)
    confidence = confidence.view(lead)
    return (keypoints, confidence) if return_confidence else keypoints
