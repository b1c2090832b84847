"""Joint angles per action, with random variation, and the camera yaws each action is seen from.

Each sampler draws ``n`` poses of one action for the kinematic body of :mod:`posegraph.data.body`
and the camera yaw (degrees, in the body frame: 0 sees the chest, 90 the person's left side, 180 the
back) that shows it. Sided actions are drawn for the LEFT side; the generator mirrors them for the
right (:meth:`Pose.mirrored` and a negated yaw, which is exactly a horizontal flip of the picture).

Angles are in degrees here. Yaws are restricted where an action would be unreadable in 2D:

* walking, running, jumping with tucked knees, kicking: side and three-quarter views (the stride,
  the bent knees and the kick happen in the sagittal plane and vanish seen from the front);
* touching the toes: side and three-quarter views (from the front the folded trunk hides behind the
  legs); kneeling: not straight from the front or back (the folded shins hide behind the thighs);
* arms out to the sides, a star jump: front and back views up to 40 (35) degrees off (seen side-on
  the arms and legs point at the camera);
* waving: front, three-quarter and back views; hands on hips: front and back views up to 45 degrees
  off (the elbows stick out sideways); arms crossed: front views up to 45 degrees off (the crossed
  forearms are the action);
* pointing and punching: views across the extended arm, whatever its direction;
* lying down: views across the body's long axis, from a camera somewhat above.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from posegraph.data.body import TORSO, HIP_WIDTH, Pose, rot_x, rot_z

__all__ = ["POSE_SAMPLERS", "ASYMMETRIC", "CAMERA_PITCH", "split_action", "draw_poses"]


class _Draw:
    """Uniform draws in degrees, returned in radians: ``d(lo, hi)`` is ``(n,)``, ``d(lo, hi, 2)`` ``(n, 2)``."""

    def __init__(self, rng: np.random.Generator, n: int):
        self.rng, self.n = rng, n

    def __call__(self, lo, hi, pair: int | None = None) -> np.ndarray:
        shape = (self.n,) if pair is None else (self.n, pair)
        return np.deg2rad(self.rng.uniform(lo, hi, shape))

    def chance(self, p: float) -> np.ndarray:
        return self.rng.random(self.n) < p

    # camera yaws in degrees
    def any_yaw(self) -> np.ndarray:
        """Any direction, the half in front of the person twice as likely (as in photos)."""
        return np.where(self.chance(0.4), self.rng.uniform(-180, 180, self.n), self.rng.uniform(-90, 90, self.n))

    def frontal(self, half: float, back: float = 0.3) -> np.ndarray:
        """Within ``half`` of the front (or, with probability ``back``, of the back)."""
        return self.rng.uniform(-half, half, self.n) + np.where(self.chance(back), 180.0, 0.0)

    def profile(self, lo: float, hi: float) -> np.ndarray:
        """``lo <= |yaw| <= hi``: side and three-quarter views, either side."""
        return self.rng.uniform(lo, hi, self.n) * np.where(self.chance(0.5), 1.0, -1.0)

    def across(self, azimuth_deg: np.ndarray, spread: float) -> np.ndarray:
        """Roughly perpendicular to a horizontal direction (degrees from front toward the left)."""
        return azimuth_deg + np.where(self.chance(0.5), 90.0, -90.0) + self.rng.uniform(-spread, spread, self.n)


def _relaxed(d: _Draw) -> Pose:
    """Standing at ease: the base most actions change a few joints of."""
    p = Pose.zeros(d.n)
    p.trunk_flex, p.trunk_side, p.trunk_twist = d(-3, 6), d(-3, 3), d(-6, 6)
    p.head_pitch, p.head_yaw, p.head_roll = d(-10, 15), d(-25, 25), d(-6, 6)
    p.arm_elev, p.arm_plane, p.elbow, p.arm_twist = d(3, 15, 2), d(-30, 60, 2), d(5, 25, 2), d(-15, 15, 2)
    p.leg_elev, p.leg_plane, p.knee = d(0, 6, 2), d(-30, 30, 2), d(0, 8, 2)
    return p


def _arm(p: Pose, limb: int, where=None, *, elev=None, plane=None, elbow=None, twist=None) -> None:
    """Set some angles of one arm (0 left, 1 right), optionally only for the samples in ``where``."""
    for name, value in (("arm_elev", elev), ("arm_plane", plane), ("elbow", elbow), ("arm_twist", twist)):
        if value is not None:
            column = getattr(p, name)
            column[:, limb] = value if where is None else np.where(where, value, column[:, limb])


def _leg(p: Pose, limb: int, where=None, *, elev=None, plane=None, knee=None) -> None:
    """Set some angles of one leg (0 left, 1 right), optionally only for the samples in ``where``."""
    for name, value in (("leg_elev", elev), ("leg_plane", plane), ("knee", knee)):
        if value is not None:
            column = getattr(p, name)
            column[:, limb] = value if where is None else np.where(where, value, column[:, limb])


def standing(d: _Draw):
    return _relaxed(d), d.any_yaw()


def walking(d: _Draw):
    p = _relaxed(d)  # mid-stride: left leg forward, right arm forward
    _leg(p, 0, elev=d(15, 28), plane=d(82, 98), knee=d(3, 20))
    _leg(p, 1, elev=d(11, 21), plane=d(-98, -82), knee=d(10, 40))
    _arm(p, 0, elev=d(8, 26), plane=d(-95, -75), elbow=d(8, 30))
    _arm(p, 1, elev=d(8, 26), plane=d(75, 95), elbow=d(8, 30))
    p.trunk_flex = d(0, 6)
    return p, d.profile(40, 140)


def running(d: _Draw):
    p = _relaxed(d)  # left thigh driving forward, right leg pushing off behind, elbows at right angles
    _leg(p, 0, elev=d(40, 70), plane=d(80, 100), knee=d(60, 100))
    _leg(p, 1, elev=d(15, 30), plane=d(-100, -80), knee=d(10, 35))
    _arm(p, 0, elev=d(20, 45), plane=d(-95, -75), elbow=d(70, 100), twist=0.0)
    _arm(p, 1, elev=d(20, 45), plane=d(75, 95), elbow=d(70, 100), twist=0.0)
    p.trunk_flex = d(5, 15)
    p.head_pitch -= 0.7 * p.trunk_flex  # eyes ahead
    return p, d.profile(45, 135)


def jumping(d: _Draw):
    p, star = _relaxed(d), d.chance(0.5)  # a star jump, or knees tucked up with the arms overhead
    for side in (0, 1):
        _arm(p, side, elev=np.where(star, d(125, 165), d(140, 175)), plane=np.where(star, d(-10, 20), d(0, 40)),
             elbow=d(0, 20))
        _leg(p, side, elev=np.where(star, d(20, 35), d(45, 85)), plane=np.where(star, d(-10, 10), d(80, 100)),
             knee=np.where(star, d(0, 15), d(70, 120)))
    p.trunk_flex = np.where(star, p.trunk_flex, d(0, 15))
    return p, np.where(star, d.frontal(35), d.profile(40, 140))


def sitting(d: _Draw):
    p = _relaxed(d)  # on a chair: thighs about level, shins about vertical, hands in the lap
    for side in (0, 1):
        elev = d(75, 95)
        _leg(p, side, elev=elev, plane=d(75, 100), knee=elev - d(-15, 10))  # shin angle = elev - knee
        _arm(p, side, elev=d(15, 40), plane=d(70, 100), elbow=d(40, 80))
    p.trunk_flex = d(-10, 12)
    return p, d.any_yaw()


def squatting(d: _Draw):
    p = _relaxed(d)  # a deep squat: hips below the knees, shins leaning forward, trunk forward
    for side in (0, 1):
        elev = d(108, 125)
        _leg(p, side, elev=elev, plane=d(60, 90), knee=elev - d(-45, -25))
        _arm(p, side, elev=d(40, 90), plane=d(70, 95), elbow=d(10, 60))
    p.trunk_flex = d(25, 50)
    p.head_pitch -= 0.8 * p.trunk_flex  # eyes ahead
    return p, d.any_yaw()


def kneeling(d: _Draw):
    p, one_knee = _relaxed(d), d.chance(0.5)  # upright on both knees, or down on the right knee
    for side in (0, 1):
        elev = d(0, 15)
        _leg(p, side, elev=elev, plane=d(80, 100), knee=elev + d(85, 95))  # shins flat behind the knees
    elev = d(75, 95)
    _leg(p, 0, one_knee, elev=elev, knee=elev - d(-10, 10))  # the front foot flat, shin vertical
    p.trunk_flex = d(-5, 15)
    return p, d.profile(30, 150)  # seen from the front, the folded shins vanish behind the thighs


def lying_down(d: _Draw):
    p, on_side = _relaxed(d), d.chance(0.4)  # on the back, or on the right side
    p.root = np.where(on_side[:, None, None], rot_z(np.full(d.n, np.pi / 2)), rot_x(np.full(d.n, -np.pi / 2)))
    spread = d.chance(0.3)
    for side in (0, 1):
        _leg(p, side, elev=d(0, 10), plane=d(-20, 20), knee=d(0, 15))
        _arm(p, side, elev=np.where(spread, d(60, 100), d(5, 30)), plane=d(-20, 30), elbow=d(0, 40))
    _leg(p, 0, d.chance(0.35), elev=d(30, 70), plane=d(80, 100), knee=d(60, 110))  # one knee up
    p.trunk_flex, p.head_pitch = d(-5, 5), d(-20, 10)
    return p, np.where(on_side, d.frontal(35, back=0.5), d.profile(55, 125))


def waving(d: _Draw):
    p = _relaxed(d)  # upper arm about level, forearm turned up (external rotation)
    _arm(p, 0, elev=d(80, 110), plane=d(-10, 35), elbow=d(60, 110), twist=d(75, 100))
    return p, d.frontal(65)


def raise_arm(d: _Draw):
    p = _relaxed(d)
    _arm(p, 0, elev=d(150, 178), plane=d(-10, 40), elbow=d(0, 20))
    return p, d.any_yaw()


def raise_both_arms(d: _Draw):
    p = _relaxed(d)
    for side in (0, 1):
        _arm(p, side, elev=d(150, 178), plane=d(-10, 40), elbow=d(0, 20))
        _leg(p, side, elev=d(0, 5))
    return p, d.any_yaw()


def arms_out(d: _Draw):
    p = _relaxed(d)
    for side in (0, 1):
        _arm(p, side, elev=d(80, 100), plane=d(-15, 10), elbow=d(0, 15))
    return p, d.frontal(40)


_SIDE = np.array([1.0, -1.0])  # +X is the person's left


def hands_on_hips(d: _Draw):
    p = _relaxed(d)  # wrists on the iliac crests, a little above the hip joints; elbows out and back
    u = lambda lo, hi: d.rng.uniform(lo, hi, (d.n, 2))  # noqa: E731
    x, y = _SIDE * (HIP_WIDTH / 2 + u(0.0, 0.025)), -(TORSO - u(0.04, 0.08))
    p.wrist_target = np.stack([x, y, u(-0.02, 0.03)], -1)
    p.elbow_pole = np.stack([np.broadcast_to(_SIDE, (d.n, 2)), u(-0.3, 0.1), u(-0.4, 0.0)], -1)
    return p, d.frontal(45)


def arms_crossed(d: _Draw):
    p = _relaxed(d)  # each wrist in front of the chest on the other side, the forearms stacked
    u = lambda lo, hi: d.rng.uniform(lo, hi, (d.n, 2))  # noqa: E731
    x, y = -_SIDE * u(0.07, 0.12), -u(0.12, 0.16) - [0.0, 0.02]
    p.wrist_target = np.stack([x, y, u(0.07, 0.11)], -1)
    p.elbow_pole = np.broadcast_to(np.stack([0.6 * _SIDE, [-1.0, -1.0], [0.2, 0.2]], -1), (d.n, 2, 3)).copy()
    return p, d.frontal(45, back=0.0)


def pointing(d: _Draw):
    p = _relaxed(d)  # the left arm straight and level, anywhere from sideways to forward
    plane = d(0, 70)
    _arm(p, 0, elev=d(80, 100), plane=plane, elbow=d(0, 15))
    azimuth = 90 - np.rad2deg(plane)  # degrees from the front toward the left
    p.head_yaw = np.deg2rad(azimuth) * d.rng.uniform(0.3, 0.7, d.n)  # looking where it points
    return p, d.across(azimuth, 35)


def kicking(d: _Draw):
    p = _relaxed(d)  # the left leg kicks forward, straight; the body leans back; arms out for balance
    _leg(p, 0, elev=d(85, 110), plane=d(75, 100), knee=d(0, 20))
    _leg(p, 1, elev=d(0, 8), plane=d(-100, -80), knee=d(0, 20))
    for side in (0, 1):
        _arm(p, side, elev=d(30, 70), plane=d(0, 60), elbow=d(10, 50))
    p.trunk_flex = d(-20, -5)
    p.head_pitch -= 0.7 * p.trunk_flex
    return p, d.profile(40, 140)


def touching_toes(d: _Draw):
    p = _relaxed(d)  # folded at the hips, legs straight, arms hanging toward the feet
    p.trunk_flex = d(115, 145)  # hips and lower back together
    for side in (0, 1):
        elev = np.minimum(p.trunk_flex + d(-15, 10), np.pi)  # about vertical in the world
        _arm(p, side, elev=elev, plane=d(75, 100), elbow=d(0, 20))
        _leg(p, side, elev=d(0, 5), knee=d(0, 10))
    p.head_pitch = d(-10, 20)
    return p, d.profile(30, 150)


def throwing(d: _Draw):
    p = _relaxed(d)  # overhand with the left hand: the hand cocked up behind, the right arm aims
    _arm(p, 0, elev=d(85, 110), plane=d(-40, -5), elbow=d(80, 110), twist=d(80, 110))
    _arm(p, 1, elev=d(70, 100), plane=d(40, 90), elbow=d(5, 40))
    p.trunk_twist = d(10, 35)  # the stride goes toward the target, off to the right side
    _leg(p, 1, elev=d(20, 35), plane=d(40, 80), knee=d(10, 40))
    _leg(p, 0, elev=d(10, 25), plane=d(-130, -100), knee=d(5, 30))
    return p, d.any_yaw()


def punching(d: _Draw):
    p = _relaxed(d)  # a straight left punch at shoulder height, the right fist guarding the chin
    plane, twist = d(70, 95), -d(10, 30)
    _arm(p, 0, elev=d(80, 100), plane=plane, elbow=d(0, 15))
    _arm(p, 1, elev=d(20, 45), plane=d(70, 95), elbow=d(115, 145), twist=d(0, 30))
    p.trunk_twist = twist
    _leg(p, 0, elev=d(10, 25), plane=d(80, 100), knee=d(5, 25))
    _leg(p, 1, elev=d(10, 20), plane=d(-100, -80), knee=d(5, 25))
    return p, d.across(np.rad2deg(np.pi / 2 - plane + twist), 40)


def one_leg(d: _Draw):
    p = _relaxed(d)  # on the right leg; the left knee raised in front, or the left foot up behind
    knee_up, arms = d.chance(0.6), d.rng.random(d.n)
    _leg(p, 1, elev=d(0, 6), knee=d(0, 10))
    _leg(p, 0, elev=np.where(knee_up, d(75, 100), d(0, 25)), plane=d(70, 100),
         knee=np.where(knee_up, d(90, 120), d(100, 130)))
    out, up = arms < 0.3, arms > 0.7  # arms out for balance, or up; else down
    for side in (0, 1):
        _arm(p, side, out, elev=d(60, 95), plane=d(-10, 25), elbow=d(0, 20))
        _arm(p, side, up, elev=d(150, 178), plane=d(-10, 25), elbow=d(0, 20))
    return p, d.any_yaw()


def handstand(d: _Draw):
    p, legs = _relaxed(d), d.rng.random(d.n)  # legs together, split front-back, or knees bent
    p.root = rot_z(np.full(d.n, np.pi))
    split, bent = legs < 0.25, legs > 0.75
    for side, direction in ((0, 90.0), (1, -90.0)):
        _arm(p, side, elev=d(160, 180), plane=d(-10, 20), elbow=d(0, 15))
        _leg(p, side, elev=d(0, 10), knee=d(0, 15))
        _leg(p, side, split, elev=d(20, 45), plane=np.deg2rad(direction))
        _leg(p, side, bent, elev=d(0, 30), plane=np.deg2rad(90.0), knee=d(30, 90))
    p.trunk_flex, p.head_pitch = d(-10, 10), d(-30, 0)
    return p, d.any_yaw()


PoseSampler = Callable[[_Draw], tuple[Pose, np.ndarray]]

#: Pose samplers by base action (sided ones draw the left side).
POSE_SAMPLERS: dict[str, PoseSampler] = {f.__name__: f for f in (
    standing, walking, running, jumping, sitting, squatting, kneeling, lying_down, waving, raise_arm,
    raise_both_arms, arms_out, hands_on_hips, arms_crossed, pointing, kicking, touching_toes, throwing,
    punching, one_leg, handstand,
)}

#: Unsided base actions whose poses are asymmetric and get mirrored half the time, with the side of
#: the acting limb recorded (the throwing or punching arm).
ASYMMETRIC = ("throwing", "punching")

#: Camera pitch range (degrees above the horizon) by base action; others use ``CAMERA_PITCH[None]``.
CAMERA_PITCH = {None: (-5.0, 15.0), "lying_down": (5.0, 35.0)}


def split_action(action: str) -> tuple[str, str | None]:
    """The base action and side of an action id: ``"raise_left_arm"`` -> ``("raise_arm", "left")``."""
    for side in ("left", "right"):
        if action.endswith("_" + side):
            return action[: -len(side) - 1], side
        if f"_{side}_" in action:
            return action.replace(f"_{side}_", "_"), side
    return action, None


def draw_poses(action: str, rng: np.random.Generator, n: int) -> tuple[Pose, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` poses of one action id, with camera yaws and pitches (degrees) and which were mirrored.

    Right-sided actions are the mirrored left ones; unsided actions are mirrored half the time.
    """
    base, side = split_action(action)
    d = _Draw(rng, n)
    pose, yaw = POSE_SAMPLERS[base](d)
    mirrored = np.full(n, side == "right") if side else d.chance(0.5)
    pitch = rng.uniform(*CAMERA_PITCH.get(base, CAMERA_PITCH[None]), n)
    return pose.mirrored(mirrored), np.where(mirrored, -yaw, yaw), pitch, mirrored
