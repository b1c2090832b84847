r"""Frechet pose distance between generated and real poses.

Each pose becomes a 34-vector: its 17 joints in body-frame coordinates
(:func:`posegraph.evaluation.body.normalize_poses`: centred on the mid-hip, in torso lengths), a
missing joint put at the body centre ``(0, 0)`` so that dropping joints costs distance. Poses with no
body frame (fewer than two joints) are left out. With the means and covariances of the two sets,

.. math::
    \mathrm{FPD} = \lVert \mu_g - \mu_r \rVert^2
        + \operatorname{tr}\bigl(\Sigma_g + \Sigma_r - 2 (\Sigma_g \Sigma_r)^{1/2}\bigr),

in square torso lengths, as FID does with Inception features. Because of the body frame, moving or
resizing a whole set changes nothing; changing the shape of its poses does. Like FID it is biased
upward for small sets: compare figures computed on sets of the same sizes.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import linalg

from posegraph.evaluation.body import as_keypoints, normalize_poses
from posegraph.evaluation.intervals import Estimate, bootstrap_statistic

__all__ = ["pose_features", "frechet_distance", "frechet_pose_distance"]


def pose_features(keypoints) -> np.ndarray:
    """``(n, 17, 3)`` keypoints -> ``(m, 34)`` body-frame features of the ``m`` poses that have a frame."""
    coords, _, valid = normalize_poses(as_keypoints(keypoints, "pose_features: keypoints", ndim=3))
    return np.nan_to_num(coords[valid], nan=0.0).reshape(int(valid.sum()), coords[0].size)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6) -> float:
    """Frechet distance between the Gaussians ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    ``eps`` is added to both covariance diagonals first: body-frame features are rank-deficient
    (the two hips mirror each other about the mid-hip centre), and ``sqrtm`` of a singular product
    is unreliable. It shifts the distance by about ``eps`` per dimension.
    """
    offset = np.eye(len(sigma1)) * eps
    sigma1, sigma2 = sigma1 + offset, sigma2 + offset
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean).real
    return max(0.0, float(distance))  # >= 0 in exact arithmetic; rounding can dip below


def _fpd(features_a: np.ndarray, features_b: np.ndarray) -> float:
    return frechet_distance(
        features_a.mean(0), np.cov(features_a, rowvar=False), features_b.mean(0), np.cov(features_b, rowvar=False)
    )


def frechet_pose_distance(generated, real, *, n_resamples: int = 200, seed: int = 0) -> Estimate:
    """FPD between ``(n, 17, 3)`` generated and ``(m, 17, 3)`` real keypoints (any frame sizes).

    The interval resamples both sets independently (bootstrap).
    """
    gen, ref = pose_features(generated), pose_features(real)
    for name, features in (("generated", gen), ("real", ref)):
        if len(features) < 2:
            raise ValueError(
                f"frechet_pose_distance: {name} has {len(features)} poses with a body frame; need at least 2 "
                "(a pose needs two present joints)"
            )
    estimate = bootstrap_statistic(_fpd, [gen, ref], n_resamples=n_resamples, seed=seed, unit="poses")
    return replace(estimate, low=max(0.0, estimate.low))  # the bias shift can cross 0; a distance cannot
