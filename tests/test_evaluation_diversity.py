"""Diversity and multimodality in torso lengths: zero for a collapsed generator, known distances by hand."""
import numpy as np
import pytest

from evaluation_poses import STANDING_XY, TORSO, J, jittered, pose
from posegraph.evaluation.diversity import diversity, multimodality, pose_distance


def test_pose_distance_is_the_mean_joint_distance_in_torso_lengths():
    moved = STANDING_XY.copy()
    moved[J("left_wrist"), 0] += TORSO / 2
    assert pose_distance(pose(STANDING_XY), pose(moved)) == pytest.approx(0.5 / 17)
    assert pose_distance(pose(STANDING_XY), pose(STANDING_XY * 2 + 5)) == pytest.approx(0.0)


def test_pose_distance_uses_only_joints_present_in_both():
    a, b = pose(STANDING_XY), pose(STANDING_XY)
    b[J("left_wrist"), :2] += 100
    b[J("left_wrist"), 2] = 0
    assert pose_distance(a, b) == 0.0
    assert np.isnan(pose_distance(a, pose(STANDING_XY, v=0.0)))


def test_a_collapsed_generator_has_zero_diversity_and_multimodality():
    same = np.broadcast_to(pose(STANDING_XY), (40, 17, 3))
    assert diversity(same).value == 0.0
    # Drawn at different places and sizes it is still one pose.
    placed = pose(STANDING_XY[None] * np.linspace(0.5, 1.5, 40)[:, None, None] + np.arange(40)[:, None, None] / 4)
    assert diversity(placed).value == pytest.approx(0.0, abs=1e-12)
    assert multimodality(placed.reshape(8, 5, 17, 3)).value == pytest.approx(0.0, abs=1e-12)


def test_diversity_grows_with_the_spread_of_poses():
    values = [diversity(jittered(200, sigma, seed=0)).value for sigma in (0.5, 1.0, 2.0)]
    assert values[0] < values[1] < values[2]


def test_multimodality_measures_within_prompt_spread_only():
    prompts = jittered(10, 3.0, seed=4)  # ten distinct poses, one per prompt
    repeated = np.repeat(prompts[:, None], 5, axis=1)
    assert multimodality(repeated).value == 0.0
    assert diversity(repeated.reshape(-1, 17, 3)).value > 0.05
    e = multimodality(repeated + np.random.default_rng(0).normal(0, 1, repeated.shape) * [1, 1, 0])
    assert e.value > 0 and e.n == 10 and "prompts" in e.method


def test_deterministic_given_the_seed_and_checks_input():
    kp = jittered(50, 1.0)
    assert diversity(kp, seed=1) == diversity(kp, seed=1)
    with pytest.raises(ValueError, match="at least 2 poses"):
        diversity(kp[:1])
    with pytest.raises(ValueError, match="at least 2 samples per prompt"):
        multimodality(kp[:, None])
