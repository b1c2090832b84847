"""Bootstrap intervals: exact on constants, cover the truth, deterministic, drop NaNs, tolerate biased set statistics."""
import math

import numpy as np
import pytest

from posegraph.evaluation.intervals import Estimate, bootstrap_mean, bootstrap_statistic


def test_constant_values_give_a_point_interval():
    e = bootstrap_mean(np.full(20, 3.5))
    assert (e.value, e.low, e.high, e.n) == (3.5, 3.5, 3.5, 20)
    assert "bootstrap over 20 samples" in e.method


def test_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    covered = [
        (e := bootstrap_mean(rng.normal(1.0, 2.0, 60), n_resamples=400, seed=i)).low <= 1.0 <= e.high
        for i in range(200)
    ]
    assert 0.88 <= np.mean(covered) <= 0.99


def test_interval_narrows_with_more_items_and_is_deterministic():
    rng = np.random.default_rng(1)
    small, large = rng.normal(size=30), rng.normal(size=3000)
    assert (bootstrap_mean(large).high - bootstrap_mean(large).low) < (bootstrap_mean(small).high - bootstrap_mean(small).low)
    assert bootstrap_mean(small, seed=5) == bootstrap_mean(small, seed=5)


def test_nans_are_dropped_and_counted_out():
    e = bootstrap_mean([1.0, np.nan, 3.0], unit="poses")
    assert e.value == 2.0 and e.n == 2 and "2 poses" in e.method
    empty = bootstrap_mean([np.nan])
    assert empty.n == 0 and math.isnan(empty.value) and math.isnan(empty.low)


def test_set_statistic_interval_holds_the_figure_despite_resampling_bias():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(200, 3)), rng.normal(size=(200, 3))
    gap = lambda x, y: float(np.abs(np.cov(x, rowvar=False) - np.cov(y, rowvar=False)).sum())
    e = bootstrap_statistic(gap, [a, b], n_resamples=100)
    assert e.value == gap(a, b)
    assert e.low <= e.value <= e.high
    assert e.n == 200 and "bias-shifted" in e.method


def test_bad_confidence_is_rejected():
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_mean([1.0, 2.0], confidence=95)


def test_estimate_serialises_to_a_plain_dict():
    e = Estimate(1.0, 0.5, 1.5, 10, "m")
    assert e.to_dict() == {"value": 1.0, "low": 0.5, "high": 1.5, "n": 10, "method": "m"}
    assert str(e) == "1 [0.5, 1.5]"
