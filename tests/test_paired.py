"""experiments/paired.py: each variant against no graph, paired by seed and caption, with a verdict per figure."""
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # experiments/ is run from the repository root
from experiments import paired  # noqa: E402
from posegraph.evaluation.run import synthetic_evaluation_set  # noqa: E402


@pytest.fixture(scope="module")
def held_out():
    return synthetic_evaluation_set(num_captions=40, size=64, samples_per_caption=4)


def test_real_poses_have_a_value_per_caption_for_every_figure(held_out):
    figures = paired.caption_figures(held_out.real_per_caption, held_out.actions, held_out.ground_truth, 64)
    assert set(figures) == {f.name for f in paired.CAPTION_FIGURES}
    assert all(values.shape == (40,) for values in figures.values())
    assert np.nanmean(figures["semantic"]) > 0.9 and np.nanmean(figures["integrity"]) > 0.9
    arm_gestures = np.isnan(figures["integrity"])  # integrity is asked of full-body actions only
    assert arm_gestures.any() and not arm_gestures.all()
    assert np.nanmean(figures["bone_spread"]) > 0 and np.all(figures["distance"] > 0)


def test_a_pose_repeated_for_every_sample_has_no_spread_and_no_variance(held_out):
    same = np.repeat(held_out.real_per_caption[:, :1], 4, axis=1)
    figures = paired.caption_figures(same, held_out.actions, held_out.ground_truth, 64)
    assert np.allclose(figures["variance"], 0) and np.nanmax(figures["bone_spread"]) < 1e-9


def test_identical_runs_are_not_distinguishable_and_a_clear_gain_is_better():
    rng = np.random.default_rng(0)
    base = rng.random((3, 100))
    same = paired.paired_bootstrap(base, base, None, "higher", n_resamples=200)
    assert same.value == 0 and same.verdict("higher") == "not distinguishable"
    gain = paired.paired_bootstrap(base + 0.1, base, None, "higher", n_resamples=200)
    assert gain.value == pytest.approx(0.1) and gain.low > 0 and gain.verdict("higher") == "better"
    assert gain.verdict("lower") == "worse"  # the same rise of a figure best low


def test_closer_to_the_real_poses_is_better_from_either_side():
    real = np.full(50, 1.0)
    base = np.full((2, 50), 0.5)  # 0.5 below real
    for variant in (0.8, 1.2):  # 0.2 below or above: closer either way
        difference = paired.paired_bootstrap(np.full((2, 50), variant), base, real, "real", n_resamples=100)
        assert difference.value == pytest.approx(-0.3) and difference.verdict("real") == "better"
    further = paired.paired_bootstrap(np.full((2, 50), 1.8), base, real, "real", n_resamples=100)
    assert further.value == pytest.approx(0.3) and further.verdict("real") == "worse"


def test_the_bootstrap_redraws_seeds_so_one_unlike_seed_widens_the_interval():
    rng = np.random.default_rng(1)
    base = rng.random((3, 200))
    steady = base + 0.05
    unsteady = base + np.array([[0.15], [0.0], [0.0]])  # the same mean gain, from one seed only
    a = paired.paired_bootstrap(steady, base, None, "higher", n_resamples=500)
    b = paired.paired_bootstrap(unsteady, base, None, "higher", n_resamples=500)
    assert a.value == pytest.approx(b.value)
    assert b.high - b.low > 5 * (a.high - a.low)
    assert b.verdict("higher") == "not distinguishable" and a.verdict("higher") == "better"


def test_whole_sample_figures_get_a_student_t_interval_over_seeds():
    variant, base = np.array([0.30, 0.34, 0.29]), np.array([0.20, 0.21, 0.22])
    difference = paired.paired_seeds(variant, base, None, "higher")
    d = variant - base
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / math.sqrt(3)
    assert (difference.value, difference.low, difference.high) == pytest.approx((d.mean(), d.mean() - half,
                                                                                d.mean() + half))
    one = paired.paired_seeds(variant[:1], base[:1], None, "higher")
    assert one.value == pytest.approx(0.1) and math.isnan(one.low) and one.verdict("higher") == "–"


def test_the_sentence_says_where_a_variant_wins_and_loses():
    win = paired.Difference(0.1, 0.05, 0.15, 3, "")
    flat = paired.Difference(0.0, -0.1, 0.1, 3, "")
    sentence = paired.sentence("gat", {"semantic": win, "distance": win, "fpd": flat})
    assert sentence == ("**gat** (3 paired seeds): better than none on semantic accuracy; worse on paper distance "
                        "(MSE); not distinguishable on 1 other figure.")
    assert "not distinguishable from none on any figure" in paired.sentence("cheb", {"fpd": flat})
