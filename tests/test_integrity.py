"""Whole, committed poses: limb integrity and the sides of side-free actions."""
import numpy as np
import pytest

from posegraph.data.checker import SIDE_CHECKS, action_sides, check_action
from posegraph.data.synthetic import SyntheticPoseGenerator
from posegraph.evaluation.integrity import LIMB_JOINTS, limb_integrity, side_shares
from posegraph.skeleton import COCO_17


def poses(action, n=200, seed=0):
    return SyntheticPoseGenerator(size=64, seed=seed, crop_rate=0.0).sample(n, action)


def test_limb_integrity_needs_all_twelve_limb_joints():
    keypoints = poses("standing", 4).keypoints.copy()
    assert len(LIMB_JOINTS) == 12 and COCO_17.index("nose") not in LIMB_JOINTS
    keypoints[1, COCO_17.index("left_knee"), 2] = 0
    keypoints[2, COCO_17.index("nose"), 2] = 0  # a face joint may be missing
    assert limb_integrity(keypoints).tolist() == [True, False, True, True]


def test_a_joint_flung_across_the_canvas_breaks_the_body_but_every_generated_body_is_whole():
    samples = SyntheticPoseGenerator(size=64, seed=3, crop_rate=0.0).sample(2000)
    assert limb_integrity(samples.keypoints).all()
    keypoints = poses("standing", 3).keypoints.copy()
    keypoints[1, COCO_17.index("right_wrist"), :2] = [63, 0]  # a stray maximum in the corner
    keypoints[2, COCO_17.index("left_ankle"), :2] = keypoints[2, COCO_17.index("right_ankle"), :2] + [3, 0]
    assert limb_integrity(keypoints).tolist() == [True, False, True]
    assert not limb_integrity(np.zeros((1, 17, 3)) + [0, 0, 1]).any()  # every joint in one place


@pytest.mark.parametrize("action", ["throwing", "punching"])
def test_the_side_of_a_throw_or_punch_is_the_arm_the_generator_used(action):
    samples = poses(action)
    sides = action_sides(samples.keypoints, action)
    assert (sides == np.asarray(samples.sides, dtype=str)).mean() > 0.9


@pytest.mark.parametrize("action", sorted(SIDE_CHECKS))
def test_a_mirror_image_swaps_the_side(action):
    samples = poses(action)
    sides, mirrored = action_sides(samples.keypoints, action), action_sides(samples.flip().keypoints, action)
    swap = {"left": "right", "right": "left", "both": "both", "": ""}
    assert [swap[s] for s in sides] == mirrored.tolist()
    assert ((sides != "") == check_action(samples.keypoints, action)).all()


def test_side_shares_of_a_balanced_set():
    samples = poses("one_leg", 400)
    shares = side_shares(samples.keypoints, "one_leg")
    assert shares["valid"] > 0.95 and 0.35 < shares["left"] < 0.65
    assert shares["left"] + shares["right"] == pytest.approx(shares["valid"])
    one_sided = samples.keypoints[action_sides(samples.keypoints, "one_leg") == "left"]
    assert side_shares(one_sided, "one_leg")["right"] == 0
    with pytest.raises(ValueError, match="side of 'standing'"):
        action_sides(samples.keypoints, "standing")
