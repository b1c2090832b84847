"""Frechet pose distance: ~0 for identical or moved/resized sets, the known value for a shape change."""
import numpy as np
import pytest

from evaluation_poses import STANDING_XY, TORSO, J, jittered, pose
from posegraph.evaluation.fpd import frechet_distance, frechet_pose_distance, pose_features


def test_identical_sets_give_zero():
    kp = jittered(300, 1.5, seed=0)
    e = frechet_pose_distance(kp, kp.copy(), n_resamples=50)
    assert e.value == pytest.approx(0.0, abs=1e-6)
    assert 0.0 == e.low <= e.value <= e.high


def test_moving_and_resizing_a_set_changes_nothing():
    kp = jittered(300, 1.5, seed=0)
    moved = kp.copy()
    moved[..., :2] = moved[..., :2] * 1.7 + [9.0, -4.0]
    assert frechet_pose_distance(kp, moved, n_resamples=10).value == pytest.approx(0.0, abs=1e-6)


def test_a_constant_shape_change_of_delta_gives_delta_squared():
    kp = jittered(300, 1.5, seed=0, keep_frame=True)  # torso and centre fixed: body units are px / 18
    changed = kp.copy()
    changed[:, J("left_wrist"), 0] += TORSO / 2  # the left wrist moves half a torso in every pose
    assert frechet_pose_distance(changed, kp, n_resamples=10).value == pytest.approx(0.25, rel=1e-4)


def test_larger_shape_changes_give_larger_distances():
    kp = jittered(300, 1.5, seed=0)
    values = []
    for stretch in (1.0, 1.2, 1.5):
        changed = kp.copy()
        elbows, wrists = [J("left_elbow"), J("right_elbow")], [J("left_wrist"), J("right_wrist")]
        changed[:, wrists, :2] = kp[:, elbows, :2] + stretch * (kp[:, wrists, :2] - kp[:, elbows, :2])
        values.append(frechet_pose_distance(changed, kp, n_resamples=10).value)
    assert values[0] == pytest.approx(0.0, abs=1e-6) and values[0] < values[1] < values[2]


def test_dropped_joints_cost_distance():
    kp = jittered(300, 1.5, seed=0)
    dropped = kp.copy()
    dropped[:150, J("left_wrist"), 2] = 0
    assert frechet_pose_distance(dropped, kp, n_resamples=10).value > 0.05  # half the wrists moved 0.5 torso to the centre
    assert np.all(pose_features(dropped)[:150, 2 * J("left_wrist") : 2 * J("left_wrist") + 2] == 0)


def test_frechet_distance_of_gaussians_in_closed_form():
    # N(0, I) vs N(m, 4 I) in 2D: |m|^2 + tr(I + 4I - 2 * 2I) = |m|^2 + 2
    assert frechet_distance(np.zeros(2), np.eye(2), np.array([1.0, 2.0]), 4 * np.eye(2)) == pytest.approx(7.0)


def test_sets_without_two_framed_poses_are_rejected():
    with pytest.raises(ValueError, match="real has 1 poses with a body frame"):
        frechet_pose_distance(jittered(10, 1.0), np.concatenate([pose(STANDING_XY)[None], pose(STANDING_XY, v=0.0)[None]]))
    with pytest.raises(ValueError, match="generated has 0 poses with a body frame"):
        frechet_pose_distance(np.zeros((4, 17, 3)), jittered(10, 1.0))  # an untrained model decodes no joint
