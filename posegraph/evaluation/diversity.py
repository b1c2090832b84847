"""Diversity and multimodality in body units.

Both rest on one pose distance: the mean, over the joints present in both poses, of the Euclidean
distance between their body-frame coordinates (:func:`posegraph.evaluation.body.normalize_poses`:
centred on the mid-hip, scaled by the torso length). It is therefore in torso lengths, blind to where
the person stands in the frame and to how large they are drawn.

* diversity: the mean distance between random pairs of poses of the whole generated set (as the
  text-to-motion field does), how much the generator's output varies overall;
* multimodality: the mean distance between the samples of one prompt, averaged over prompts, how
  much it varies for one text.

A generator that always draws the same pose scores 0 on both.
"""
from __future__ import annotations

import warnings

import numpy as np

from posegraph.evaluation.body import as_keypoints, normalize_poses
from posegraph.evaluation.intervals import Estimate, bootstrap_mean

__all__ = ["pose_distance", "diversity", "multimodality"]


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean joint distance between body-frame coordinates ``(..., 17, 2)`` (NaN = missing)."""
    d = np.linalg.norm(a - b, axis=-1)
    both = np.isfinite(d)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(both, d, 0.0).sum(-1) / both.sum(-1)


def pose_distance(a, b) -> np.ndarray:
    """Distance between poses ``a`` and ``b`` ``(..., 17, 3)`` (broadcast), in torso lengths.

    NaN where the two poses share no present joint or one has no body frame.
    """
    coords_a = normalize_poses(as_keypoints(a, "pose_distance: a"))[0]
    coords_b = normalize_poses(as_keypoints(b, "pose_distance: b"))[0]
    return _distance(coords_a, coords_b)


def diversity(
    keypoints,
    num_pairs: int = 2000,
    *,
    seed: int = 0,
    n_resamples: int = 1000,
) -> Estimate:
    """Mean distance between ``num_pairs`` random pairs of distinct poses of ``(n, 17, 3)`` keypoints.

    Pairs are drawn with replacement (``i != j``); the interval is a bootstrap over the pairs.
    """
    keypoints = as_keypoints(keypoints, "diversity: keypoints", ndim=3)
    n = len(keypoints)
    if n < 2:
        raise ValueError(f"diversity: need at least 2 poses, got {n}")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, num_pairs)
    j = (i + rng.integers(1, n, num_pairs)) % n
    coords = normalize_poses(keypoints)[0]
    return bootstrap_mean(_distance(coords[i], coords[j]), n_resamples=n_resamples, seed=seed, unit="pairs")


def multimodality(keypoints, *, seed: int = 0, n_resamples: int = 1000) -> Estimate:
    """Mean distance between all pairs of samples of one prompt, averaged over prompts.

    Args:
        keypoints: ``(num_prompts, num_samples, 17, 3)``, ``num_samples >= 2`` draws per prompt.

    The interval is a bootstrap over prompts.
    """
    keypoints = as_keypoints(keypoints, "multimodality: keypoints", ndim=4)
    s = keypoints.shape[1]
    if s < 2:
        raise ValueError(f"multimodality: need at least 2 samples per prompt, got {s}")
    coords = normalize_poses(keypoints)[0]  # (P, S, K, 2)
    i, j = np.triu_indices(s, k=1)
    with warnings.catch_warnings():  # a prompt whose poses share no joint gives NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        per_prompt = np.nanmean(_distance(coords[:, i], coords[:, j]), axis=1)
    return bootstrap_mean(per_prompt, n_resamples=n_resamples, seed=seed, unit="prompts")
