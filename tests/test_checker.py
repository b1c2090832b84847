"""The semantic checker: self-agreement with the generator, specificity, invariances, missing joints."""
import numpy as np
import pytest
import torch

from posegraph.data.checker import ACTION_CHECKS, PoseFeatures, check_action
from posegraph.data.synthetic import ACTIONS, SyntheticPoseGenerator, flip_action

PER_ACTION = 400
MIN_SELF_AGREEMENT = 0.98
MAX_CONFUSION = 0.03  # no other action's poses pass a predicate more often than this


@pytest.fixture(scope="module")
def labelled():
    samples = SyntheticPoseGenerator(seed=2024).sample(PER_ACTION * len(ACTIONS), action=np.repeat(ACTIONS, PER_ACTION))
    return samples.keypoints, np.asarray(samples.actions)


@pytest.fixture(scope="module")
def confusion(labelled):
    """Rows: the generated action; columns: the predicate; entries: pass rates."""
    keypoints, actions = labelled
    features = PoseFeatures(keypoints)
    with np.errstate(invalid="ignore", divide="ignore"):
        passes = np.stack([ACTION_CHECKS[p](features) for p in ACTIONS], 1)  # (n, predicates)
    return np.stack([passes[actions == a].mean(0) for a in ACTIONS])


def _print_matrix(matrix):
    print("\nconfusion matrix, % (rows: generated action, columns: predicate)")
    print(" " * 16 + "".join(f"{a[:5]:>6s}" for a in ACTIONS))
    for action, row in zip(ACTIONS, matrix):
        print(f"{action:16s}" + "".join(f"{100 * x:6.0f}" if x > 0 else "     ." for x in row))


def test_generated_poses_pass_their_own_predicate(confusion):
    _print_matrix(confusion)
    diagonal = dict(zip(ACTIONS, np.diag(confusion)))
    assert min(diagonal.values()) >= MIN_SELF_AGREEMENT, {a: v for a, v in diagonal.items() if v < MIN_SELF_AGREEMENT}


def test_other_actions_rarely_pass_a_predicate(confusion):
    off = confusion - np.diag(np.diag(confusion))
    worst = np.unravel_index(off.argmax(), off.shape)
    assert off.max() <= MAX_CONFUSION, f"{ACTIONS[worst[0]]} poses pass {ACTIONS[worst[1]]} {off.max():.1%} of the time"
    assert off.sum() / (len(ACTIONS) * (len(ACTIONS) - 1)) < 0.002  # almost all off-diagonal cells are empty


def test_check_action_agrees_with_the_matrix(labelled, confusion):
    keypoints, actions = labelled
    own = check_action(keypoints, actions)
    for i, action in enumerate(ACTIONS):
        assert own[actions == action].mean() == pytest.approx(confusion[i, i])
    assert check_action(torch.as_tensor(keypoints[:10]), actions[:10]).tolist() == own[:10].tolist()


def test_predicates_ignore_position_and_scale(labelled):
    keypoints, actions = labelled
    moved = keypoints.copy()
    moved[..., :2] = moved[..., :2] * 3.7 + [120.0, -40.0]  # another pixel frame
    for action in ACTIONS[::3]:
        np.testing.assert_array_equal(check_action(keypoints, action), check_action(moved, action))


def test_predicates_follow_a_horizontal_flip(labelled):
    """Mirroring a picture turns a left action into the right one, exactly."""
    keypoints, actions = labelled
    samples = SyntheticPoseGenerator(seed=5).sample(1000)
    flipped = samples.flip()
    for action in ACTIONS:
        np.testing.assert_array_equal(check_action(samples.keypoints, action),
                                      check_action(flipped.keypoints, flip_action(action)))


def test_a_flipped_left_wave_is_a_right_wave_with_a_matching_caption():
    waving = SyntheticPoseGenerator(seed=11).sample(100, action="waving_left")
    flipped = waving.flip()
    assert check_action(waving.keypoints, "waving_left").all()
    assert check_action(flipped.keypoints, "waving_right").all()
    assert not check_action(flipped.keypoints, "waving_left").any()
    assert list(flipped.actions) == ["waving_right"] * 100 and set(flipped.sides) == {"right"}
    for before, after in zip(waving.captions, flipped.captions):
        if "left" in before:
            assert "left" not in after and after == before.replace("left", "right")


def test_upside_down_poses_are_handstands_not_standing(labelled):
    keypoints, actions = labelled
    standing = keypoints[actions == "standing"].copy()
    inverted = standing.copy()
    inverted[..., 1] = 63 - inverted[..., 1]  # a vertical flip: head down, feet up, arms still hang "up"
    assert check_action(standing, "standing").all()
    assert not check_action(inverted, "standing").any()
    assert not check_action(inverted, "handstand").any()  # the arms are not reaching to the floor
    handstands = keypoints[actions == "handstand"]
    assert not check_action(handstands, "standing").any()


# --- missing joints -------------------------------------------------------------------------------

def _drop(keypoints, joints):
    out = keypoints.copy()
    out[:, joints] = 0.0
    return out


def test_missing_joints_fail_what_needs_them(labelled):
    keypoints, actions = labelled
    wave = keypoints[actions == "waving_left"]
    lw, rw, la, ra = 9, 10, 15, 16
    assert not check_action(_drop(wave, [lw]), "waving_left").any()  # the waving hand is needed
    assert not check_action(_drop(wave, [rw]), "waving_left").any()  # so is the other arm being down
    passed = check_action(wave, "waving_left")
    assert passed.mean() > 0.95
    np.testing.assert_array_equal(check_action(_drop(wave, [0, 1, 2, 3, 4]), "waving_left"), passed)  # the face is not
    np.testing.assert_array_equal(check_action(_drop(wave, [la, ra]), "waving_left"), passed)  # nor the feet (a crop)
    stand = keypoints[actions == "standing"]
    assert not check_action(_drop(stand, [la]), "standing").any()  # standing needs the legs
    assert not check_action(np.zeros((3, 17, 3)), list(ACTIONS[:3])).any()  # nothing seen, nothing passes


def test_bad_input_is_rejected_with_a_clear_message():
    kp = np.zeros((2, 17, 3))
    with pytest.raises(ValueError, match=r"shape \(n, 17, 3\)"):
        check_action(np.zeros((2, 18, 3)), "standing")
    with pytest.raises(ValueError, match="got 3 actions for 2 poses"):
        check_action(kp, ["standing"] * 3)
    with pytest.raises(ValueError, match=r"no predicate for actions \['dancing'\]"):
        check_action(kp, ["standing", "dancing"])


def test_arm_gestures_still_pass_when_the_crop_cuts_off_the_legs():
    gestures = ["waving_left", "raise_right_arm", "raise_both_arms", "arms_out", "hands_on_hips", "arms_crossed",
                "pointing_left"]
    cut = SyntheticPoseGenerator(seed=3, crop_rate=1.0).sample(100 * len(gestures), action=np.repeat(gestures, 100))
    assert (cut.keypoints[:, 15:, 2] == 0).all(1).mean() > 0.8  # no ankles (wide poses keep them in the square)
    own = check_action(cut.keypoints, cut.actions)
    for action in gestures:
        assert own[cut.actions == action].mean() >= MIN_SELF_AGREEMENT, action
