"""A rule-based semantic checker: does a COCO-17 pose show an action of the synthetic vocabulary?

Each action of :data:`posegraph.data.synthetic.ACTIONS` has a predicate on 2D keypoints
(:data:`ACTION_CHECKS`). Predicates are written in image coordinates (y down, as in pictures) and
scale-free: lengths are divided by the body size ``T`` (the torso length, or whatever limb is seen
least foreshortened, converted with anthropometric ratios). "Left"/"right" are the person's own.

Missing joints (``v = 0``) make the features that need them NaN. A comparison with NaN is False, so
missing information fails a *requirement*; a few *exclusions* ("not with the legs kicked wide")
only exclude on evidence, so a pose cropped at the knees can still be "waving". Where a predicate
says something must NOT be so, it states the opposite as a requirement ("the other wrist below the
shoulder", not "not above").

Usage: ``check_action(keypoints, ["waving_left", "sitting"])`` gives one bool per pose.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from posegraph.skeleton import COCO_17

__all__ = ["ACTION_CHECKS", "SIDE_CHECKS", "check_action", "action_sides", "PoseFeatures"]

# Limb length / torso length of an adult (Winter's segment table), to size bodies from whatever is seen.
_PER_TORSO = {"upper_arm": 0.65, "thigh": 0.85, "shin": 0.85, "shoulders": 0.80}


class PoseFeatures:
    """Scale-free 2D measurements of ``n`` poses; absent joints give NaN.

    Args:
        keypoints: ``(n, 17, 3)`` COCO-17 rows ``(x, y, v)`` (numpy or torch), any pixel frame.

    Conventions: ``above(a, b)`` is how far joint ``a`` is above joint ``b`` in body sizes (image y
    points down); angles are in degrees.
    """

    def __init__(self, keypoints):
        kp = np.asarray(keypoints.detach().cpu() if hasattr(keypoints, "detach") else keypoints, dtype=np.float64)
        if kp.ndim != 3 or kp.shape[1:] != (17, 3):
            raise ValueError(f"check_action: expected keypoints of shape (n, 17, 3), got {kp.shape}: the synthetic "
                             "checker judges COCO-17 poses only; convert a layout that holds the COCO-17 joints "
                             "with posegraph.skeleton.convert_keypoints")
        self.xy = np.where((kp[..., 2:] > 0) & np.isfinite(kp[..., :2]), kp[..., :2], np.nan)
        self.n = len(kp)
        self.size = self._size()

    def __getitem__(self, name: str) -> np.ndarray:
        """A joint's ``(n, 2)`` position; also ``"mid_shoulder"`` and ``"mid_hip"``."""
        if name.startswith("mid_"):
            part = name[4:]
            return (self[f"left_{part}"] + self[f"right_{part}"]) / 2
        return self.xy[:, COCO_17.index(name)]

    def length(self, a: str, b: str) -> np.ndarray:
        return np.linalg.norm(self[a] - self[b], axis=-1)

    def _size(self) -> np.ndarray:
        """The body size ``(n,)``: the largest of the torso and the limbs converted to torso lengths."""

        def pair(a, b):  # mean of the left and right segment, or the one that is present
            left, right = self.length("left_" + a, "left_" + b), self.length("right_" + a, "right_" + b)
            return np.where(np.isnan(left), right, np.where(np.isnan(right), left, (left + right) / 2))

        candidates = np.stack([
            self.length("mid_shoulder", "mid_hip"),
            pair("shoulder", "elbow") / _PER_TORSO["upper_arm"],
            pair("hip", "knee") / _PER_TORSO["thigh"],
            pair("knee", "ankle") / _PER_TORSO["shin"],
            self.length("left_shoulder", "right_shoulder") / _PER_TORSO["shoulders"],
        ])
        size = np.fmax.reduce(candidates, axis=0)  # NaN only where nothing is seen
        return np.where(size > 0, size, np.nan)

    def above(self, a: str, b: str) -> np.ndarray:
        return (self[b][:, 1] - self[a][:, 1]) / self.size

    def right_of(self, a: str, b: str) -> np.ndarray:
        """How far ``a`` is to the image right of ``b``, in body sizes."""
        return (self[a][:, 0] - self[b][:, 0]) / self.size

    def dist(self, a: str, b: str) -> np.ndarray:
        return self.length(a, b) / self.size

    def angle(self, a: str, b: str, c: str) -> np.ndarray:
        """The angle at ``b`` between ``b->a`` and ``b->c`` (180 = straight)."""
        u, v = self[a] - self[b], self[c] - self[b]
        cos = np.sum(u * v, -1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
        return np.degrees(np.arccos(np.clip(cos, -1, 1)))

    def tilt(self, a: str, b: str) -> np.ndarray:
        """The direction of ``a->b`` from straight up (0 up, 90 horizontal, 180 down)."""
        d = self[b] - self[a]
        return np.degrees(np.arctan2(np.abs(d[:, 0]), -d[:, 1]))

    # --- body-part measurements (side is "left" or "right") ---------------------------------------

    def wrist_up(self, side: str) -> np.ndarray:
        """Wrist height above its shoulder."""
        return self.above(f"{side}_wrist", f"{side}_shoulder")

    def elbow_up(self, side: str) -> np.ndarray:
        return self.above(f"{side}_elbow", f"{side}_shoulder")

    def elbow_angle(self, side: str) -> np.ndarray:
        return self.angle(f"{side}_shoulder", f"{side}_elbow", f"{side}_wrist")

    def knee_angle(self, side: str) -> np.ndarray:
        return self.angle(f"{side}_hip", f"{side}_knee", f"{side}_ankle")

    def reach(self, side: str) -> np.ndarray:
        """Shoulder-to-wrist distance."""
        return self.dist(f"{side}_wrist", f"{side}_shoulder")

    def ankle_drop(self, side: str) -> np.ndarray:
        """How far the ankle is below its hip."""
        return self.above(f"{side}_hip", f"{side}_ankle")

    def knee_drop(self, side: str) -> np.ndarray:
        return self.above(f"{side}_hip", f"{side}_knee")

    def shin_drop(self, side: str) -> np.ndarray:
        """How far the ankle is below its knee."""
        return self.above(f"{side}_knee", f"{side}_ankle")

    def torso_tilt(self) -> np.ndarray:
        """Mid-hip to mid-shoulder direction from straight up (0 upright, 90 lying, 180 upside down)."""
        return self.tilt("mid_hip", "mid_shoulder")

    def stride(self) -> np.ndarray:
        """Horizontal spread of the legs: how far apart the two hip-to-ankle vectors end."""
        legs = [(self[f"{side}_ankle"] - self[f"{side}_hip"])[:, 0] for side in ("left", "right")]
        return np.abs(legs[0] - legs[1]) / self.size

    def hip_height(self) -> np.ndarray:
        """Mid-hip height above the ankles (mean of both), in shin lengths (the longer shin seen)."""
        drop = (self.above("mid_hip", "left_ankle") + self.above("mid_hip", "right_ankle")) / 2
        return drop * self.size / np.fmax(self.length("left_knee", "left_ankle"), self.length("right_knee", "right_ankle"))

    def thigh_split(self) -> np.ndarray:
        """Horizontal spread of the thighs: how far apart the two hip-to-knee vectors end."""
        thighs = [(self[f"{side}_knee"] - self[f"{side}_hip"])[:, 0] for side in ("left", "right")]
        return np.abs(thighs[0] - thighs[1]) / self.size

    def across(self, joint: str) -> np.ndarray:
        """Position of ``joint`` along the shoulder line: +0.5 at the left shoulder, -0.5 at the right."""
        axis = self["left_shoulder"] - self["right_shoulder"]
        return np.sum((self[joint] - self["mid_shoulder"]) * axis, -1) / np.sum(axis * axis, -1)


# --- body-part states ----------------------------------------------------------------------------
# Each returns a boolean (n,) array; NaN features make them False.

SIDES = ("left", "right")


def _other(side: str) -> str:
    return "right" if side == "left" else "left"


def _upright(pose: PoseFeatures, max_tilt: float = 25.0) -> np.ndarray:
    return pose.torso_tilt() < max_tilt


def _arm_down(pose: PoseFeatures, side: str) -> np.ndarray:
    """Hanging or swinging low: the wrist well below the shoulder."""
    return (pose.wrist_up(side) < -0.55) & (pose.elbow_up(side) < -0.25)


def _arm_raised(pose: PoseFeatures, side: str) -> np.ndarray:
    """Reaching up: elbow and wrist high above the shoulder."""
    return (pose.elbow_up(side) > 0.35) & (pose.wrist_up(side) > 0.75)


def _arm_waving(pose: PoseFeatures, side: str) -> np.ndarray:
    """Elbow about shoulder height, forearm up: the hand by or above the head."""
    return (pose.elbow_up(side) < 0.35) & (pose.elbow_up(side) > -0.4) & (pose.wrist_up(side) > 0.15) & (
        pose.above(f"{side}_wrist", f"{side}_elbow") > 0.2)


def _arm_level(pose: PoseFeatures, side: str) -> np.ndarray:
    """Straight and about horizontal, reaching out."""
    return (np.abs(pose.wrist_up(side)) < 0.45) & (pose.elbow_angle(side) > 140) & (pose.reach(side) > 0.7)


def _legs_standing(pose: PoseFeatures) -> np.ndarray:
    """Both legs straight under the body, feet level and together."""
    straight = (pose.knee_angle("left") > 150) & (pose.knee_angle("right") > 150)
    down = (pose.ankle_drop("left") > 1.25) & (pose.ankle_drop("right") > 1.25)
    return straight & down & (np.abs(pose.above("left_ankle", "right_ankle")) < 0.3) & (pose.stride() < 0.5)


def _legs_busy(pose: PoseFeatures) -> np.ndarray:
    """Evidence that the legs do something (a jump's spread or tuck, a foot off the ground)."""
    wide = pose.stride() > 0.9
    tucked = (pose.knee_angle("left") < 130) & (pose.knee_angle("right") < 130)
    knees_up = (pose.knee_drop("left") < 0.45) & (pose.knee_drop("right") < 0.45)  # sitting, squatting
    return wide | tucked | knees_up | (np.abs(pose.above("left_ankle", "right_ankle")) > 0.45)


def _kick(pose: PoseFeatures, side: str) -> np.ndarray:
    """Leg ``side`` swung up straight: the ankle not far below the hip, the knee open."""
    return (pose.ankle_drop(side) < 0.65) & (pose.knee_angle(side) > 135)


# --- actions -------------------------------------------------------------------------------------
# Arm gestures (waving, raising, pointing, arms out, hands on hips, arms crossed) say nothing about
# the legs, which a crop may cut off; they only exclude poses whose legs evidently act (~_legs_busy).

def standing(pose):
    arms = [_arm_down(pose, side) & (pose.elbow_angle(side) > 145) for side in SIDES]
    return _upright(pose) & arms[0] & arms[1] & _legs_standing(pose)


def walking(pose):
    arms = [_arm_down(pose, side) & (pose.elbow_angle(side) > 135) for side in SIDES]
    legs = [(pose.ankle_drop(side) > 1.0) & (pose.knee_angle(side) > 130) for side in SIDES]
    return _upright(pose) & arms[0] & arms[1] & legs[0] & legs[1] & (pose.stride() > 0.35)


def running(pose):
    arms = [(pose.elbow_angle(side) < 130) & (pose.wrist_up(side) < 0) for side in SIDES]
    knees = [pose.knee_angle(side) for side in SIDES]  # one leg driving with the knee bent, one pushing off
    legs = (np.minimum(*knees) < 140) & (np.maximum(*knees) > 140) & (pose.stride() > 0.4) & (pose.thigh_split() > 0.3)
    return _upright(pose, 35) & arms[0] & arms[1] & legs


def jumping(pose):
    arms = (pose.wrist_up("left") > 0.5) & (pose.wrist_up("right") > 0.5)
    wide = pose.stride() > 0.9
    tucked = (pose.knee_angle("left") < 130) & (pose.knee_angle("right") < 130)
    return _upright(pose, 40) & arms & (wide | tucked)


def sitting(pose):
    thighs = [(pose.knee_drop(side) < 0.45) & (pose.knee_drop(side) > -0.3) for side in SIDES]  # knees about hip height
    shins = [pose.shin_drop(side) > 0.5 for side in SIDES]  # feet well below the knees
    hands = (pose.wrist_up("left") < 0) & (pose.wrist_up("right") < 0)
    return _upright(pose, 35) & thighs[0] & thighs[1] & shins[0] & shins[1] & (pose.hip_height() > 0.72) & hands


def squatting(pose):
    knees_up = (pose.knee_drop("left") < 0.1) & (pose.knee_drop("right") < 0.1)  # knees about hip height or above
    low = (pose.hip_height() < 0.72) & (pose.hip_height() > -0.1)  # hips down near the heels
    return (pose.torso_tilt() < 70) & knees_up & low & (pose.above("mid_shoulder", "mid_hip") > 0.3)


def kneeling(pose):
    def on_knee(side):  # thigh down to the knee, shin folded back along the ground, the knee lowest
        lowest = (pose.above(f"{side}_knee", "left_ankle") < 0.4) & (pose.above(f"{side}_knee", "right_ankle") < 0.4)
        thigh = (pose.knee_drop(side) > 0.5) & (np.abs(pose.right_of(f"{side}_knee", f"{side}_hip")) < 0.4)
        return thigh & (np.abs(pose.shin_drop(side)) < 0.3) & lowest

    return _upright(pose, 35) & (on_knee("left") | on_knee("right"))


def lying_down(pose):
    legs = (np.abs(pose.above("mid_hip", "left_ankle")) < 0.9) | (np.abs(pose.above("mid_hip", "right_ankle")) < 0.9)
    return (pose.torso_tilt() > 55) & (pose.torso_tilt() < 125) & legs


def waving(pose, side):
    return _upright(pose) & _arm_waving(pose, side) & _arm_down(pose, _other(side)) & ~_legs_busy(pose)


def raise_arm(pose, side):
    return _upright(pose) & _arm_raised(pose, side) & _arm_down(pose, _other(side)) & ~_legs_busy(pose)


def raise_both_arms(pose):
    return _upright(pose) & _arm_raised(pose, "left") & _arm_raised(pose, "right") & ~_legs_busy(pose)


def arms_out(pose):
    arms = [(np.abs(pose.wrist_up(side)) < 0.4) & (pose.elbow_angle(side) > 140) for side in SIDES]
    outside = (pose.across("left_wrist") > 0.9) & (pose.across("right_wrist") < -0.9)  # beyond the shoulders
    wide = np.abs(pose.right_of("left_wrist", "right_wrist")) > 1.6
    return _upright(pose) & arms[0] & arms[1] & outside & wide & ~_legs_busy(pose)


def hands_on_hips(pose):
    akimbo = [(pose.dist(f"{side}_wrist", f"{side}_hip") < 0.45) & (pose.wrist_up(side) > -0.95)
              & (pose.elbow_angle(side) < 150) for side in SIDES]  # the wrist on the hip, the elbow out to the side
    return _upright(pose) & akimbo[0] & akimbo[1] & ~_legs_busy(pose)


def arms_crossed(pose):
    # Seen from the front (shoulders apart), both forearms point inward, and the wrists have swapped
    # sides: the left wrist lies to the person's right of the right wrist.
    frontal = pose.dist("left_shoulder", "right_shoulder") > 0.45
    inward = ((pose.across("left_elbow") > pose.across("left_wrist"))
              & (pose.across("right_elbow") < pose.across("right_wrist")))
    swapped = pose.across("left_wrist") + 0.15 < pose.across("right_wrist")
    height = [(pose.wrist_up(side) < -0.15) & (pose.wrist_up(side) > -0.85) for side in SIDES]  # chest or belly
    return _upright(pose) & frontal & inward & swapped & height[0] & height[1] & ~_legs_busy(pose)


def pointing(pose, side):
    return _upright(pose) & _arm_level(pose, side) & _arm_down(pose, _other(side)) & ~_legs_busy(pose)


def kicking(pose, side):
    support = (pose.ankle_drop(_other(side)) > 1.2) & (pose.knee_angle(_other(side)) > 140)
    return (pose.torso_tilt() < 45) & _kick(pose, side) & support


def touching_toes(pose):
    reach = (pose.above("left_knee", "left_wrist") > 0) & (pose.above("right_knee", "right_wrist") > 0)
    legs = [(pose.knee_angle(side) > 140) & (pose.knee_drop(side) > 0.5) for side in SIDES]
    return reach & legs[0] & legs[1] & (pose.above("mid_hip", "mid_shoulder") > -0.3)


def throwing_with(pose, side):
    """Throwing with arm ``side``: the hand cocked up by the head, the other arm raised toward the target."""
    cocked = (pose.wrist_up(side) > 0.1) & (pose.elbow_up(side) > -0.25) & (pose.elbow_up(side) < 0.4) & (
        pose.above(f"{side}_wrist", f"{side}_elbow") > 0.27)
    aim = (pose.wrist_up(_other(side)) > -0.5) & (pose.wrist_up(_other(side)) < 0.6)
    return _upright(pose, 40) & cocked & aim & ~(_kick(pose, "left") | _kick(pose, "right"))


def throwing(pose):
    return throwing_with(pose, "left") | throwing_with(pose, "right")


def punching_with(pose, side):
    """Punching with arm ``side``: shot out level, the other fist guarding the face with the elbow down."""
    other = _other(side)
    guard = ((pose.elbow_angle(other) < 80) & (pose.elbow_up(other) < -0.3) & (pose.wrist_up(other) > -0.4)
             & (pose.reach(other) < 0.7))
    return _upright(pose, 40) & _arm_level(pose, side) & guard


def punching(pose):
    return punching_with(pose, "left") | punching_with(pose, "right")


def one_leg_lifting(pose, leg):
    """Standing on one straight leg with leg ``leg`` lifted: its knee raised, or bent (seen, or hiding the shin)."""
    other = _other(leg)
    support = ((pose.knee_angle(other) > 150) & (pose.ankle_drop(other) > 1.3)
               & (np.abs(pose.right_of(f"{other}_ankle", f"{other}_hip")) < 0.4))
    folded = ((pose.knee_angle(leg) < 120)
              | (pose.length(f"{leg}_knee", f"{leg}_ankle") < 0.6 * pose.length(f"{leg}_hip", f"{leg}_knee")))
    knee_up = (pose.knee_drop(leg) < 0.45) & (pose.shin_drop(leg) > 0.45)  # the thigh raised, the shin hanging
    lifted = (pose.above(f"{leg}_ankle", f"{other}_ankle") > 0.35) & (folded | knee_up)
    return _upright(pose) & support & lifted & ~_kick(pose, leg)


def one_leg(pose):
    return one_leg_lifting(pose, "left") | one_leg_lifting(pose, "right")


def handstand(pose):
    feet_up = (pose.above("left_ankle", "mid_hip") > 0.3) & (pose.above("right_ankle", "mid_hip") > 0.3)
    hands_down = (pose.wrist_up("left") < -0.5) & (pose.wrist_up("right") < -0.5)
    return (pose.torso_tilt() > 140) & feet_up & hands_down


Check = Callable[[PoseFeatures], np.ndarray]


def _sided(check, side: str) -> Check:
    return lambda pose: check(pose, side)


#: The predicate of every action id, on :class:`PoseFeatures`.
ACTION_CHECKS: dict[str, Check] = {
    "standing": standing, "walking": walking, "running": running, "jumping": jumping, "sitting": sitting,
    "squatting": squatting, "kneeling": kneeling, "lying_down": lying_down,
    "waving_left": _sided(waving, "left"), "waving_right": _sided(waving, "right"),
    "raise_left_arm": _sided(raise_arm, "left"), "raise_right_arm": _sided(raise_arm, "right"),
    "raise_both_arms": raise_both_arms, "arms_out": arms_out, "hands_on_hips": hands_on_hips,
    "arms_crossed": arms_crossed, "pointing_left": _sided(pointing, "left"), "pointing_right": _sided(pointing, "right"),
    "kicking_left": _sided(kicking, "left"), "kicking_right": _sided(kicking, "right"),
    "touching_toes": touching_toes, "throwing": throwing, "punching": punching, "one_leg": one_leg,
    "handstand": handstand,
}


#: The actions whose caption leaves the side open, and the predicate of doing each with one given side:
#: the throwing or punching arm, the lifted leg.
SIDE_CHECKS: dict[str, Callable[[PoseFeatures, str], np.ndarray]] = {
    "throwing": throwing_with, "punching": punching_with, "one_leg": one_leg_lifting,
}


def action_sides(keypoints, action: str) -> np.ndarray:
    """Which side does each pose use for a side-free ``action`` (a key of :data:`SIDE_CHECKS`)?

    Returns:
        ``(n,)`` strings: ``"left"`` or ``"right"`` where the pose does the action with that side only,
        ``"both"`` where both sides pass, ``""`` where it does not do the action.
    """
    if action not in SIDE_CHECKS:
        raise ValueError(f"action_sides: the side of {action!r} is not defined; choose one of {list(SIDE_CHECKS)}")
    features = PoseFeatures(keypoints)
    with np.errstate(invalid="ignore", divide="ignore"):
        left, right = (SIDE_CHECKS[action](features, side) for side in SIDES)
    return np.select([left & right, left, right], ["both", "left", "right"], "")


def check_action(keypoints, actions: str | Sequence[str]) -> np.ndarray:
    """Whether each pose shows its action.

    Args:
        keypoints: ``(n, 17, 3)`` COCO-17 keypoints (numpy or torch) in any pixel frame.
        actions: one action id for all poses, or ``n`` ids (see ``posegraph.data.synthetic.ACTIONS``).

    Returns:
        ``(n,)`` bool.
    """
    features = PoseFeatures(keypoints)
    actions = np.broadcast_to(np.asarray(actions, dtype=str), (features.n,)) if np.ndim(actions) == 0 else np.asarray(
        actions, dtype=str)
    if actions.shape != (features.n,):
        raise ValueError(f"check_action: got {actions.shape[0]} actions for {features.n} poses; give one per pose or one for all")
    unknown = sorted(set(actions.tolist()) - set(ACTION_CHECKS))
    if unknown:
        raise ValueError(f"check_action: no predicate for actions {unknown}; known: {list(ACTION_CHECKS)}")
    result = np.zeros(features.n, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        for action in set(actions.tolist()):
            rows = actions == action
            result[rows] = ACTION_CHECKS[action](features)[rows]
    return result
