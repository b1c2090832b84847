"""The paper's protocol: distance to the ground truth and variance over 10 samples per caption.

GUNet's Table 1 (arXiv 2409.11689) follows Zhang et al. 2021 ("Adversarial Synthesis of Human Pose
from Text", whose code is the public repository zhang-yi-fei/MScoco). For every evaluation caption
the generator draws 10 poses. Each pose and the caption's ground-truth pose are read as 17 points
of a 64 x 64 heatmap; a joint below the detection threshold (0.2 there, as in
:func:`posegraph.heatmaps.heatmaps_to_keypoints`) or absent from the ground truth is put at the centre,
``(32, 32)``, as that code does. Then, with poses ``g_1..g_S`` for a caption whose truth is ``t``:

* distance (the paper's "MSE"): ``sum_k ||g_s[k] - t[k]||`` over the 17 joints, in 64-pixel units,
  averaged over the samples and the captions;
* variance (the paper's "Var"): for every joint, the variance of its position over the samples,
  ``var_s(x) + var_s(y)`` (population variance, i.e. the mean squared distance to the joint's mean
  position), averaged over the 17 joints and the captions, in square 64-pixel units;
* spread (not in the paper): the mean over sample pairs of the same summed joint distance as the
  distance above, so that it can be set beside it (a generator whose samples scatter as the truth
  does has spread close to its distance).

docs/evaluation.md explains why this reading of "Var" is the one that fits the paper's numbers.
Keypoints of a model run at another heatmap size are rescaled to 64 pixels first.
"""
from __future__ import annotations

import numpy as np

from posegraph.evaluation.body import as_keypoints, present
from posegraph.evaluation.intervals import Estimate, bootstrap_mean

__all__ = ["PAPER_SIZE", "SAMPLES_PER_CAPTION", "paper_coordinates", "paper_per_caption", "paper_protocol"]

PAPER_SIZE = 64
SAMPLES_PER_CAPTION = 10


def paper_coordinates(keypoints, size: int = PAPER_SIZE) -> np.ndarray:
    """``(..., 17, 3)`` keypoints in a ``size`` frame -> ``(..., 17, 2)`` in 64-pixel units, missing at the centre."""
    keypoints = as_keypoints(keypoints)
    if size <= 0:
        raise ValueError(f"paper_coordinates: size must be positive, got {size}")
    xy = keypoints[..., :2] * (PAPER_SIZE / size)
    return np.where(present(keypoints)[..., None], xy, PAPER_SIZE / 2)


def paper_per_caption(generated, ground_truth, size: int = PAPER_SIZE) -> dict[str, np.ndarray]:
    """Distance, variance and spread of each caption: ``{"distance": (C,), "variance": (C,), "spread": (C,)}``.

    Args: as :func:`paper_protocol`.
    """
    gen = as_keypoints(generated, "paper_protocol: generated", ndim=4)
    truth = as_keypoints(ground_truth, "paper_protocol: ground_truth", ndim=3)
    if len(gen) != len(truth):
        raise ValueError(
            f"paper_protocol: {len(gen)} captions of generated poses but {len(truth)} ground-truth poses; "
            "pass one ground-truth pose per caption"
        )
    if gen.shape[1] < 2:
        raise ValueError(f"paper_protocol: need at least 2 samples per caption for the variance, got {gen.shape[1]}")
    g = paper_coordinates(gen, size)  # (C, S, K, 2)
    t = paper_coordinates(truth, size)  # (C, K, 2)
    pairwise = np.linalg.norm(g[:, :, None] - g[:, None], axis=-1).sum(-1)  # (C, S, S)
    s = g.shape[1]
    return {
        "distance": np.linalg.norm(g - t[:, None], axis=-1).sum(-1).mean(1),
        "variance": g.var(axis=1).sum(-1).mean(-1),
        "spread": pairwise.sum((1, 2)) / (s * (s - 1)),
    }


def paper_protocol(
    generated,
    ground_truth,
    size: int = PAPER_SIZE,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Distance, variance and spread of the paper's protocol, each with a bootstrap interval over captions.

    Args:
        generated: ``(num_captions, num_samples, 17, 3)`` keypoints, ``num_samples`` draws per caption
            (the paper uses :data:`SAMPLES_PER_CAPTION` = 10); ``v = 0`` marks a joint below the
            detection threshold.
        ground_truth: ``(num_captions, 17, 3)`` the pose each caption was written for.
        size: side of the heatmap frame the keypoints are in.
        n_resamples, seed: of the bootstrap over captions.

    Returns:
        ``{"distance": ..., "variance": ..., "spread": ...}``.
    """
    per_caption = paper_per_caption(generated, ground_truth, size)
    boot = dict(n_resamples=n_resamples, seed=seed, unit="captions")
    return {name: bootstrap_mean(values, **boot) for name, values in per_caption.items()}
