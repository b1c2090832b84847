"""Semantic accuracy and the confusion matrix, with a stub checker and with the real one once it exists."""
import numpy as np
import pytest

from evaluation_poses import STANDING_XY, J, pose
from posegraph.evaluation.semantic import semantic_accuracy


def stub_check(keypoints, actions):
    """'arms_up': both wrists above the nose; 'arms_down': both wrists below the shoulders."""
    kp = np.asarray(keypoints)
    wrists_y = kp[:, [J("left_wrist"), J("right_wrist")], 1]
    up = (wrists_y < kp[:, [J("nose")], 1]).all(1)
    down = (wrists_y > kp[:, [J("left_shoulder")], 1]).all(1)
    return np.where(np.asarray(actions) == "arms_up", up, down)


ARMS_UP = STANDING_XY.copy()
ARMS_UP[[J("left_wrist"), J("right_wrist")], 1] = 2.0
PREDICATES = ["arms_up", "arms_down", "unused"]


def test_pass_rates_and_confusion_by_hand():
    kp = pose(np.stack([ARMS_UP, ARMS_UP, STANDING_XY, STANDING_XY, STANDING_XY]))
    actions = ["arms_up", "arms_up", "arms_up", "arms_down", "arms_down"]
    result = semantic_accuracy(kp, actions, predicates=PREDICATES, check=stub_check)
    assert result.overall.value == pytest.approx(4 / 5) and result.overall.n == 5
    assert result.per_action["arms_up"].value == pytest.approx(2 / 3)
    assert result.per_action["arms_down"].value == 1.0
    assert result.actions == ["arms_up", "arms_down"] and result.predicates == PREDICATES
    np.testing.assert_allclose(result.confusion, [[2 / 3, 1 / 3, 1 / 3], [0, 1, 1]])  # 'unused' answers like arms_down
    assert result.to_dict()["confusion"][0][0] == pytest.approx(2 / 3)


def test_bad_actions_are_rejected():
    kp = pose(np.stack([ARMS_UP, STANDING_XY]))
    with pytest.raises(ValueError, match="one action per pose"):
        semantic_accuracy(kp, ["arms_up"], predicates=PREDICATES, check=stub_check)
    with pytest.raises(ValueError, match=r"\['dancing'\] are not among the predicates"):
        semantic_accuracy(kp, ["arms_up", "dancing"], predicates=PREDICATES, check=stub_check)


def test_the_real_checker_agrees_with_its_own_verdicts():
    checker = pytest.importorskip("posegraph.data.checker")
    synthetic = pytest.importorskip("posegraph.data.synthetic")
    samples = synthetic.SyntheticPoseGenerator(size=64, seed=0).sample(200)
    actions = list(samples.actions)
    result = semantic_accuracy(samples.keypoints, actions)
    expected = np.asarray(checker.check_action(samples.keypoints, actions), dtype=float)
    assert result.overall.value == pytest.approx(expected.mean())
    assert result.predicates == list(synthetic.ACTIONS)
    diagonal = [result.confusion[i, result.predicates.index(a)] for i, a in enumerate(result.actions)]
    assert diagonal == pytest.approx([result.per_action[a].value for a in result.actions])
