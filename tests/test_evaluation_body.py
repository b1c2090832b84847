"""The body frame: mid-hip centre, torso scale, fallbacks for missing joints, input checks."""
import numpy as np
import pytest
import torch

from evaluation_poses import STANDING_XY, TORSO, J, pose
from posegraph.evaluation.body import as_keypoints, body_frame, normalize_poses, torso_length


def test_frame_is_mid_hip_and_torso_length():
    centre, scale, valid = body_frame(pose(STANDING_XY))
    assert np.allclose(centre, [32, 34]) and scale == pytest.approx(TORSO) and valid
    coords, ok, _ = normalize_poses(pose(STANDING_XY))
    mid_shoulder = coords[[J("left_shoulder"), J("right_shoulder")]].mean(0)
    assert np.allclose(mid_shoulder, [0, -1]) and ok.all()


def test_body_coordinates_ignore_translation_and_scale():
    moved = pose(STANDING_XY * 0.5 + [7.0, -3.0])
    assert np.allclose(normalize_poses(moved)[0], normalize_poses(pose(STANDING_XY))[0])


def test_missing_hips_fall_back_to_the_joint_mean_and_box_diagonal():
    kp = pose(STANDING_XY)
    kp[J("left_hip"), 2] = 0
    centre, scale, valid = body_frame(kp)
    present = np.delete(STANDING_XY, J("left_hip"), axis=0)
    assert np.allclose(centre, present.mean(0))
    assert scale == pytest.approx(np.linalg.norm(present.max(0) - present.min(0)) / 3.0)
    assert np.isnan(torso_length(kp))
    coords, ok, _ = normalize_poses(kp)
    assert not ok[J("left_hip")] and np.isnan(coords[J("left_hip")]).all()


def test_a_pose_with_fewer_than_two_joints_has_no_frame():
    kp = pose(STANDING_XY, v=0.0)
    kp[0, 2] = 2
    coords, ok, valid = normalize_poses(np.stack([kp, pose(STANDING_XY)]))
    assert valid.tolist() == [False, True]
    assert np.isnan(coords[0]).all() and not ok[0].any()


def test_non_finite_coordinates_count_as_missing():
    kp = pose(STANDING_XY)
    kp[J("nose"), 0] = np.nan
    assert not normalize_poses(kp)[1][J("nose")]


def test_input_checks():
    assert as_keypoints(torch.zeros(2, 17, 3)).dtype == np.float64
    with pytest.raises(ValueError, match=r"\(\.\.\., 17, 3\)"):
        as_keypoints(np.zeros((2, 18, 3)))
    with pytest.raises(ValueError, match=r"my_arg: expected shape \(n, 17, 3\)"):
        as_keypoints(np.zeros((17, 3)), "my_arg", ndim=3)
