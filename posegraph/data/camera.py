"""The camera that photographs a synthetic body: view, perspective projection, visibility, person crop.

World frame: Y up; the body stands at the origin. A camera at ``yaw`` (degrees about Y; 0 in front
of a body whose root is identity, 90 on its left) and ``pitch`` (degrees above the horizon, looking
down at the body) with a small ``roll`` looks at the origin from ``distance`` (in statures).
Image coordinates: x to the right, y down, as in pictures.
"""
from __future__ import annotations

import numpy as np

__all__ = ["FACINGS", "camera_axes", "project", "face_visible", "facing_labels", "crop_to_box"]

#: Which side of the person the camera sees, by 45-degree sector from the front toward the left.
FACINGS = ("front", "front-left", "left", "back-left", "back", "back-right", "right", "front-right")


def camera_axes(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors ``(n, 3)`` of the image's right and up and of the direction toward the camera."""
    yaw, pitch, roll = (np.deg2rad(a) for a in (yaw, pitch, roll))
    toward = np.stack([np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)], -1)
    right = np.stack([np.cos(yaw), np.zeros_like(yaw), -np.sin(yaw)], -1)
    up = np.cross(toward, right)
    c, s = np.cos(roll)[:, None], np.sin(roll)[:, None]
    return c * right + s * up, c * up - s * right, toward


def project(points: np.ndarray, right, up, toward, distance: np.ndarray) -> np.ndarray:
    """Perspective projection of ``(n, K, 3)`` world points to ``(n, K, 2)`` image-plane coordinates.

    Points nearer the camera than the origin come out larger (scale ``D / (D - depth)``).
    """
    scale = distance[:, None] / (distance[:, None] - np.einsum("nkc,nc->nk", points, toward))
    x = np.einsum("nkc,nc->nk", points, right) * scale
    y = -np.einsum("nkc,nc->nk", points, up) * scale
    return np.stack([x, y], -1)


#: Cosine between a face keypoint's outward normal and the view below which it is hidden (nose, eyes,
#: ears): eyes vanish just past a profile; ears, sticking out sideways, show from the front and from
#: behind and hide only when turned well away.
FACE_THRESHOLDS = np.array([-0.15, -0.15, -0.15, -0.45, -0.45])


def face_visible(normals: np.ndarray, toward: np.ndarray) -> np.ndarray:
    """Which face keypoints ``(n, 5)`` face the camera enough to be annotated, as in COCO.

    A nose or eye turned away (seen from behind) or the far ear and eye of a profile are not.
    """
    return np.einsum("nkc,nc->nk", normals, toward) > FACE_THRESHOLDS


def facing_labels(toward_body: np.ndarray) -> np.ndarray:
    """The seen side (one of :data:`FACINGS`) from the camera direction in the body frame ``(n, 3)``."""
    azimuth = np.rad2deg(np.arctan2(toward_body[:, 0], toward_body[:, 2]))
    return np.asarray(FACINGS)[np.round(azimuth / 45).astype(int) % 8]


def crop_to_box(points: np.ndarray, in_box: np.ndarray, size: int, margin: np.ndarray) -> np.ndarray:
    """Map image-plane points ``(n, K, 2)`` into a square ``size``-pixel crop of each person.

    The square is centred on the bounding box of the joints marked ``in_box`` ``(n, K)``, its side the
    box's longer side plus ``margin`` ``(n,)`` of it on each end (aspect kept). Pixel centres sit at
    integers, so the crop spans ``[-0.5, size - 0.5]``.
    """
    inf = np.where(in_box[..., None], 0.0, np.inf)
    lo, hi = (points + inf).min(1), (points - inf).max(1)
    side = (hi - lo).max(-1) * (1 + 2 * margin)
    centre = (lo + hi) / 2
    return (points - centre[:, None]) / side[:, None, None] * size + (size - 1) / 2
