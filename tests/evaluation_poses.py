"""Hand-made COCO-17 poses for the evaluation tests (64-pixel frame)."""
import numpy as np

from posegraph.skeleton import COCO_17

J = COCO_17.index
# A symmetric front-facing standing pose: the person's left is the image's right. Mid-shoulder
# (32, 16), mid-hip (32, 34): torso 18 px.
STANDING_XY = np.array(
    [
        [32, 10], [34, 8], [30, 8], [36, 9], [28, 9],  # nose, eyes, ears
        [38, 16], [26, 16], [40, 25], [24, 25], [41, 33], [23, 33],  # shoulders, elbows, wrists
        [36, 34], [28, 34], [36, 45], [28, 45], [36, 56], [28, 56],  # hips, knees, ankles
    ],
    dtype=float,
)
TORSO = 18.0
FRAME_JOINTS = [J("left_shoulder"), J("right_shoulder"), J("left_hip"), J("right_hip")]


def pose(xy=STANDING_XY, v=2.0) -> np.ndarray:
    """``(..., 17, 2)`` -> ``(..., 17, 3)`` with visibility ``v``."""
    xy = np.asarray(xy, dtype=float)
    return np.concatenate([xy, np.full(xy.shape[:-1] + (1,), v)], axis=-1)


def jittered(n: int, sigma: float, seed: int = 0, keep_frame: bool = False) -> np.ndarray:
    """``n`` copies of the standing pose with Gaussian jitter; ``keep_frame`` leaves shoulders and hips still."""
    noise = np.random.default_rng(seed).normal(0, sigma, (n, 17, 2))
    if keep_frame:
        noise[:, FRAME_JOINTS] = 0
    return pose(STANDING_XY + noise)
