"""Structure checks: a clean pose passes, each defect is caught, checks that cannot apply say so."""
import warnings

import numpy as np
import pytest

from evaluation_poses import STANDING_XY, TORSO, J, pose
from posegraph.evaluation.body import torso_length
from posegraph.evaluation.structure import (
    bone_length_violations,
    joint_angle_violations,
    limb_asymmetry,
    structure_metrics,
)
from posegraph.skeleton import COCO_17

# Profile view facing image-right: shoulders and hips overlap, nose in front of the ears.
PROFILE = np.array(
    [
        [36, 10], [35, 8], [35, 8], [31, 9], [31, 9],
        [32, 16], [32, 16], [34, 25], [34, 25], [38, 31], [38, 31],
        [32, 34], [32, 34], [35, 45], [35, 45], [32, 56], [32, 56],  # knees forward, ankles back: normal bend
    ],
    dtype=float,
)


def with_joint(xy, name, position):
    xy = np.array(xy, dtype=float)
    xy[J(name)] = position
    return xy


def test_a_clean_symmetric_pose_shows_no_defect():
    result = structure_metrics(pose(STANDING_XY)[None])
    assert limb_asymmetry(pose(STANDING_XY)[None])[0] == 0.0
    for name in ("missing_joints", "limb_asymmetry", "bone_length", "joint_angle", "elbow_fold", "knee_fold", "head_folded"):
        assert result.rates[name].value == 0.0 and result.rates[name].n == 1, name
    assert result.mean_asymmetry.value == 0.0


def test_a_long_forearm_is_asymmetric_and_out_of_human_range():
    elbow, wrist = STANDING_XY[J("left_elbow")], STANDING_XY[J("left_wrist")]
    xy = with_joint(STANDING_XY, "left_wrist", elbow + 3 * (wrist - elbow))
    kp = pose(xy)[None]
    assert limb_asymmetry(kp)[0] == pytest.approx(2 / 3)
    assert bone_length_violations(kp)[0] == 1.0
    result = structure_metrics(kp)
    assert result.rates["limb_asymmetry"].value == 1.0 and result.rates["bone_length"].value == 1.0


def test_a_torso_seen_end_on_does_not_make_the_limbs_look_too_long():
    upper_body = [J(n) for n in COCO_17.names if "hip" not in n and "knee" not in n and "ankle" not in n]
    xy = STANDING_XY.copy()
    xy[upper_body, 1] += 11  # torso projected to 7 px (leaning towards the camera), limbs unchanged
    kp = pose(xy)[None]
    thigh_over_torso = np.linalg.norm(xy[J("left_knee")] - xy[J("left_hip")]) / torso_length(kp)[0]
    assert thigh_over_torso > 1.5 * 0.85  # a torso-only reference would call the thighs too long
    assert bone_length_violations(kp)[0] == 0.0
    with pytest.raises(ValueError, match="tolerance must exceed 1"):
        bone_length_violations(kp, tolerance=1.0)


def test_missing_joints_are_counted_per_pose_and_per_joint():
    kp = np.stack([pose(STANDING_XY)] * 4)
    kp[0, J("left_ankle"), 2] = 0
    kp[1, J("left_ankle"), 2] = 0
    result = structure_metrics(kp)
    assert result.rates["missing_joints"].value == 0.5
    assert result.missing_per_joint["left_ankle"] == 0.5 and result.missing_per_joint["nose"] == 0.0
    assert result.missing_fraction.value == pytest.approx(2 / (4 * 17))
    assert list(result.missing_per_joint) == list(COCO_17.names)


def test_an_elbow_folded_past_its_range_is_caught_a_bent_one_is_not():
    shoulder, elbow = STANDING_XY[J("left_shoulder")], STANDING_XY[J("left_elbow")]
    folded = with_joint(STANDING_XY, "left_wrist", elbow + 0.8 * (shoulder - elbow) + [0.5, 0])
    bent = with_joint(STANDING_XY, "left_wrist", elbow + [8.0, -2.0])  # about 90 degrees
    checks = joint_angle_violations(pose(np.stack([folded, bent])))
    assert checks["elbow_fold"].tolist() == [1.0, 0.0]


def test_a_fold_of_a_foreshortened_limb_is_not_judged():
    shoulder, elbow = STANDING_XY[J("left_shoulder")], STANDING_XY[J("left_elbow")]
    short = with_joint(STANDING_XY, "left_wrist", elbow + 0.2 * (shoulder - elbow))  # forearm seen end-on
    short = with_joint(short, "right_wrist", short[J("right_elbow")] + 0.2 * (short[J("right_shoulder")] - short[J("right_elbow")]))
    assert np.isnan(joint_angle_violations(pose(short)[None])["elbow_fold"][0])


def test_a_knee_folded_flat_is_caught():
    hip, knee = STANDING_XY[J("left_hip")], STANDING_XY[J("left_knee")]
    xy = with_joint(STANDING_XY, "left_ankle", knee + (hip - knee) + [0.5, 0])
    assert joint_angle_violations(pose(xy)[None])["knee_fold"][0] == 1.0


def test_knee_hyperextension_in_profile_either_way_round():
    normal = pose(PROFILE)
    hyper = pose(with_joint(with_joint(PROFILE, "left_knee", [29, 45]), "left_ankle", [32, 56]))
    hyper[J("right_knee"), :2], hyper[J("right_ankle"), :2] = [29, 45], [32, 56]
    poses = np.stack([normal, hyper])
    mirrored = COCO_17.flip_keypoints(poses, 64)  # now facing image-left
    assert joint_angle_violations(poses)["knee_hyperextension"].tolist() == [0.0, 1.0]
    assert joint_angle_violations(mirrored)["knee_hyperextension"].tolist() == [0.0, 1.0]
    assert joint_angle_violations(poses)["knee_fold"].tolist() == [0.0, 0.0]


def test_knee_hyperextension_does_not_apply_to_a_frontal_view_or_a_face_without_ears():
    no_ears = pose(PROFILE)
    no_ears[[J("left_ear"), J("right_ear")], 2] = 0
    checks = joint_angle_violations(np.stack([pose(STANDING_XY), no_ears]))
    assert np.isnan(checks["knee_hyperextension"]).all()
    result = structure_metrics(pose(STANDING_XY)[None])
    assert result.rates["knee_hyperextension"].n == 0


def test_a_head_folded_into_the_chest_is_caught_in_any_orientation():
    low_nose = with_joint(STANDING_XY, "nose", [32, 16 + 0.4 * TORSO])
    nodding = with_joint(STANDING_XY, "nose", [32, 16 + 0.1 * TORSO])
    upside_down = 64 - 1 - low_nose  # rotated by 180 degrees: a handstand with the same defect
    checks = joint_angle_violations(pose(np.stack([low_nose, nodding, upside_down, STANDING_XY])))
    assert checks["head_folded"].tolist() == [1.0, 0.0, 1.0, 0.0]


def test_rates_are_over_the_poses_a_check_applies_to():
    folded = with_joint(STANDING_XY, "nose", [32, 30])
    kp = pose(np.stack([folded, STANDING_XY, STANDING_XY, STANDING_XY]))
    kp[3, J("nose"), 2] = 0  # head check cannot apply here
    rate = structure_metrics(kp).rates["head_folded"]
    assert rate.value == pytest.approx(1 / 3) and rate.n == 3
    assert structure_metrics(kp).to_dict()["rates"]["head_folded"]["n"] == 3


def test_degenerate_poses_are_not_applicable_and_raise_no_warnings():
    collapsed = pose(np.full((17, 2), 32.0))  # every joint on one pixel: zero torso, zero bones
    empty = pose(STANDING_XY, v=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = structure_metrics(np.stack([collapsed, empty]))
    for name in ("bone_length", "joint_angle", "limb_asymmetry"):
        assert result.rates[name].n == 0, name
    assert result.rates["missing_joints"].value == 0.5


def test_real_synthetic_poses_raise_almost_no_alarms():
    synthetic = pytest.importorskip("posegraph.data.synthetic")
    keypoints = synthetic.SyntheticPoseGenerator(size=64, seed=0).sample(1000).keypoints
    rates = structure_metrics(keypoints, n_resamples=10).rates
    assert rates["bone_length"].value == 0.0
    assert rates["head_folded"].value == 0.0 and rates["knee_hyperextension"].value == 0.0
    assert rates["joint_angle"].value < 0.01
