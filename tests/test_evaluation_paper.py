"""The paper's protocol (distance / variance over 10 samples per caption) on cases with known answers."""
import numpy as np
import pytest
import torch

from evaluation_poses import STANDING_XY, jittered, pose
from posegraph.evaluation.paper import SAMPLES_PER_CAPTION, paper_coordinates, paper_protocol

CAPTIONS = 6


def truth_and_copies(shift=(0.0, 0.0)):
    truth = jittered(CAPTIONS, 3.0, seed=1)
    generated = np.repeat(truth[:, None], SAMPLES_PER_CAPTION, axis=1).copy()
    generated[..., :2] += shift
    return generated, truth


def test_identical_sets_give_zero_distance_and_variance():
    generated, truth = truth_and_copies()
    result = paper_protocol(generated, truth)
    for name in ("distance", "variance", "spread"):
        assert result[name].value == pytest.approx(0.0, abs=1e-9)
        assert result[name].n == CAPTIONS


def test_a_shift_by_d_gives_seventeen_times_d():
    generated, truth = truth_and_copies(shift=(3.0, 4.0))  # |d| = 5 px for every joint
    result = paper_protocol(generated, truth)
    assert result["distance"].value == pytest.approx(17 * 5.0)
    assert result["distance"].low == pytest.approx(85.0) and result["distance"].high == pytest.approx(85.0)


def test_a_collapsed_generator_has_zero_variance_but_a_distance():
    truth = jittered(CAPTIONS, 3.0, seed=1)
    one_pose = np.broadcast_to(pose(STANDING_XY + 2.0), (CAPTIONS, SAMPLES_PER_CAPTION, 17, 3))
    result = paper_protocol(one_pose, truth)
    assert result["variance"].value == 0.0
    assert result["spread"].value == 0.0
    assert result["distance"].value > 10


def test_variance_is_the_per_joint_positional_variance_averaged_over_joints():
    truth = pose(STANDING_XY)[None]
    a = 1.5
    generated = np.stack([pose(STANDING_XY + [a, 0.0]), pose(STANDING_XY - [a, 0.0])])[None]
    result = paper_protocol(generated, truth)
    assert result["variance"].value == pytest.approx(a**2)  # var_x = a^2, var_y = 0, same for every joint
    assert result["distance"].value == pytest.approx(17 * a)
    assert result["spread"].value == pytest.approx(17 * 2 * a)


def test_missing_joints_sit_at_the_centre_of_the_64_pixel_map():
    truth = pose(STANDING_XY)[None]
    generated = np.repeat(truth[:, None], 2, axis=1).copy()
    generated[:, :, 0, 2] = 0  # nose below the detection threshold in every sample
    nose = STANDING_XY[0]
    expected = np.hypot(32 - nose[0], 32 - nose[1])
    assert paper_protocol(generated, truth)["distance"].value == pytest.approx(expected)
    truth_missing = truth.copy()
    truth_missing[:, 0, 2] = 0  # absent in the truth too: both at the centre, no distance
    assert paper_protocol(generated, truth_missing)["distance"].value == pytest.approx(0.0)


def test_other_heatmap_sizes_are_measured_in_64_pixel_units():
    generated, truth = truth_and_copies(shift=(3.0, 4.0))
    half = lambda kp: np.concatenate([kp[..., :2] / 2, kp[..., 2:]], axis=-1)  # the same poses at size 32
    result = paper_protocol(half(generated), half(truth), size=32)
    assert result["distance"].value == pytest.approx(85.0)
    centre = paper_coordinates(pose(STANDING_XY, v=0.0), size=32)
    assert np.all(centre == 32.0)


def test_torch_input_and_deterministic_intervals():
    generated, truth = truth_and_copies()
    generated = generated + np.random.default_rng(0).normal(0, 1, generated.shape) * [1, 1, 0]
    a = paper_protocol(torch.as_tensor(generated), torch.as_tensor(truth), seed=3)
    b = paper_protocol(generated, truth, seed=3)
    assert a == b
    assert a["distance"].low < a["distance"].value < a["distance"].high


def test_bad_input_says_what_is_wrong():
    generated, truth = truth_and_copies()
    with pytest.raises(ValueError, match="one ground-truth pose per caption"):
        paper_protocol(generated, truth[:-1])
    with pytest.raises(ValueError, match="at least 2 samples"):
        paper_protocol(generated[:, :1], truth)
    with pytest.raises(ValueError, match=r"\(n, n, 17, 3\)"):
        paper_protocol(truth, truth)
    with pytest.raises(ValueError, match=r"\(\.\.\., 17, 3\)"):
        paper_protocol(generated[..., :2], truth)
