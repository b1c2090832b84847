"""95% intervals for every reported figure.

Two estimators, both percentile bootstrap:

* :func:`bootstrap_mean` for figures that are a mean of independent per-item values (per caption,
  per sample, per pair, per query): resample the items with replacement and take the mean.
* :func:`bootstrap_statistic` for figures that are a statistic of whole sets (the Frechet pose
  distance): resample every set independently, recompute the statistic, and shift the draws by
  their mean bias before taking the percentile interval.

Each returns an :class:`Estimate` whose ``method`` says exactly what was resampled, so a report can
print it beside the number. NaN items (a check that did not apply to a sample) are dropped first and
``n`` counts what remained. A percentile bootstrap of a rate of exactly 0 or 1 collapses to a point:
read ``n`` beside it.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np

__all__ = ["Estimate", "bootstrap_mean", "bootstrap_statistic"]

_BLOCK = 2**22  # resampled values drawn at once, to bound memory


@dataclass(frozen=True)
class Estimate:
    """A figure with its interval.

    Attributes:
        value: the figure on the full data.
        low, high: the interval bounds (NaN when ``n`` is 0).
        n: how many items (or, for set statistics, the smallest set) it rests on.
        method: how the interval was made, in words.
    """

    value: float
    low: float
    high: float
    n: int
    method: str

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.value:.4g} [{self.low:.4g}, {self.high:.4g}]"


def _empty(method: str) -> Estimate:
    return Estimate(math.nan, math.nan, math.nan, 0, method)


def _bounds(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    tail = (1 - confidence) / 2
    low, high = np.quantile(draws, [tail, 1 - tail])
    return float(low), float(high)


def bootstrap_mean(
    values,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    unit: str = "samples",
) -> Estimate:
    """Mean of ``values`` with a percentile-bootstrap interval over its items.

    Args:
        values: per-item values, any shape (flattened); NaNs are dropped.
        n_resamples: bootstrap resamples.
        confidence: interval coverage.
        seed: seed of the resampling.
        unit: what one item is ("captions", "samples", "pairs"...), for the method text.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    method = f"percentile bootstrap over {v.size} {unit} ({n_resamples} resamples)"
    if v.size == 0:
        return _empty(method)
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    step = max(1, _BLOCK // v.size)
    for start in range(0, n_resamples, step):
        stop = min(start + step, n_resamples)
        means[start:stop] = v[rng.integers(0, v.size, (stop - start, v.size))].mean(1)
    return Estimate(float(v.mean()), *_bounds(means, confidence), int(v.size), method)


def bootstrap_statistic(
    statistic: Callable[..., float],
    samples: Sequence[np.ndarray],
    *,
    n_resamples: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    unit: str = "samples",
) -> Estimate:
    """``statistic(*samples)`` with an interval from resampling every set along its first axis.

    Each set is resampled independently with replacement, ``n_resamples`` times. Set statistics
    such as the Frechet distance are biased on resampled sets (duplicated rows shrink the
    covariances), which would put the whole percentile interval beside the figure; so the draws are
    first shifted by the bootstrap estimate of that bias, ``mean(draws) - value``, and the interval
    is their percentile interval (a bias-shifted percentile bootstrap).
    """
    samples = [np.asarray(s) for s in samples]
    sizes = [len(s) for s in samples]
    method = f"bias-shifted percentile bootstrap of sets of {'/'.join(map(str, sizes))} {unit} ({n_resamples} resamples)"
    if min(sizes, default=0) == 0:
        return _empty(method)
    rng = np.random.default_rng(seed)
    value = float(statistic(*samples))
    draws = np.array(
        [statistic(*(s[rng.integers(0, len(s), len(s))] for s in samples)) for _ in range(n_resamples)]
    )
    return Estimate(value, *_bounds(draws - (draws.mean() - value), confidence), min(sizes), method)
