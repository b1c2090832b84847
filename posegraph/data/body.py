"""A 3D kinematic human body: anthropometric proportions, joint angles, forward kinematics to COCO-17.

Frames. The *body frame* is the pelvis's: X points to the person's own left, Y up, Z forward (where
the chest faces). The trunk pivots at the mid-hip; the arms hang from the shoulders in the trunk's
frame, the legs from the hips in the pelvis frame; ``Pose.root`` finally turns the whole body into
the world (identity for upright actions, a quarter turn for lying down, a half turn for a handstand).
Lengths are in units of stature.

Limbs are set by two shoulder/hip angles in the ISB style, ``elev`` (0 hanging down, 90 horizontal,
180 straight up) and ``plane`` (0 out to the side, 90 forward, -90 backward), a ``twist`` about the
upper segment (positive = external rotation) and the hinge angle ``elbow`` / ``knee`` (0 straight).
Hinges are clipped to ``[0, ELBOW_MAX]`` / ``[0, KNEE_MAX]`` and always flex toward the anatomical
side (elbows forward, knees backward), so they never bend backwards. An arm can instead be placed by
two-bone inverse kinematics (``Pose.wrist_target``, with a pole vector saying where the elbow points)
for poses defined by contact (hands on hips, arms crossed).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

__all__ = ["BodyShape", "Pose", "forward_kinematics", "rot_x", "rot_y", "rot_z", "ELBOW_MAX", "KNEE_MAX"]

# Segment lengths as fractions of stature, after Winter, "Biomechanics and Motor Control of Human
# Movement" (fig. 4.1, from Drillis & Contini). Shoulder and hip breadths are between the joint
# centres COCO annotates, a little inside Winter's outer breadths (0.259 and 0.191).
TORSO = 0.818 - 0.530  # shoulder height - hip height
UPPER_ARM, FOREARM, THIGH, SHIN = 0.186, 0.146, 0.245, 0.246
SHOULDER_WIDTH, HIP_WIDTH = 0.23, 0.16
# Face keypoints relative to the neck (mid-shoulder) in the head's frame, adult, units of stature.
FACE = np.array([
    [0.0, 0.090, 0.065],  # nose
    [0.018, 0.115, 0.055], [-0.018, 0.115, 0.055],  # left, right eye
    [0.042, 0.105, 0.0], [-0.042, 0.105, 0.0],  # left, right ear
])
ELBOW_MAX, KNEE_MAX = np.deg2rad(150.0), np.deg2rad(155.0)
SIDES = np.array([1.0, -1.0])  # index 0 = left (+X), 1 = right


@dataclass
class BodyShape:
    """Per-sample body proportions, all ``(n,)`` arrays in units of stature.

    ``female`` and ``child`` say how each body was drawn, so captions can name it ("a woman", "a boy").
    """

    shoulder_half: np.ndarray
    hip_half: np.ndarray
    torso: np.ndarray
    upper_arm: np.ndarray
    forearm: np.ndarray
    thigh: np.ndarray
    shin: np.ndarray
    head: np.ndarray
    female: np.ndarray
    child: np.ndarray

    @classmethod
    def sample(cls, rng: np.random.Generator, n: int) -> "BodyShape":
        """``n`` bodies: 15% children (about 5-10 years old), the adults half women; builds vary."""
        child = rng.random(n) < 0.15
        female = rng.random(n) < 0.5

        def jitter(sd=0.03):  # a segment's own variation around the population proportion
            return np.clip(rng.normal(1.0, sd, n), 1 - 2.5 * sd, 1 + 2.5 * sd)

        build = rng.uniform(0.92, 1.08, n)  # broad or slim
        legs = np.where(child, 0.92, 1.0)  # children have relatively short legs ...
        return cls(
            shoulder_half=SHOULDER_WIDTH / 2 * build * np.where(female, 0.93, 1.0) * np.where(child, 0.95, 1.0) * jitter(),
            hip_half=HIP_WIDTH / 2 * rng.uniform(0.92, 1.08, n) * np.where(female & ~child, 1.07, 1.0),
            torso=TORSO * np.where(child, 1.08, 1.0) * jitter(),  # ... and relatively long trunks
            upper_arm=UPPER_ARM * np.where(child, 0.96, 1.0) * jitter(),
            forearm=FOREARM * np.where(child, 0.96, 1.0) * jitter(),
            thigh=THIGH * legs * jitter(),
            shin=SHIN * legs * jitter(),
            head=np.where(child, rng.uniform(1.2, 1.4, n), 1.0) * jitter(0.04),  # and big heads
            female=female,
            child=child,
        )

    def __len__(self) -> int:
        return len(self.torso)

    def take(self, index: np.ndarray) -> "BodyShape":
        """The bodies at ``index``, in that order."""
        return BodyShape(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass
class Pose:
    """Joint angles (radians) of ``n`` bodies. ``(n,)`` scalars and ``(n, 2)`` limb pairs (left, right).

    ``root`` is the ``(n, 3, 3)`` rotation from the body frame to the world. ``wrist_target`` holds,
    per arm, a wrist position in the trunk frame relative to the neck (NaN where the arm follows its
    angles instead) and ``elbow_pole`` the direction, in the trunk frame, the elbow should point to.
    """

    trunk_flex: np.ndarray  # bend forward (+) / back (-) at the hips
    trunk_side: np.ndarray  # lean toward the person's right (+)
    trunk_twist: np.ndarray  # shoulders turned so the left shoulder goes back (+)
    head_pitch: np.ndarray  # looking down (+)
    head_yaw: np.ndarray  # looking to the person's left (+)
    head_roll: np.ndarray  # head tilted toward the right shoulder (+)
    arm_elev: np.ndarray
    arm_plane: np.ndarray
    arm_twist: np.ndarray
    elbow: np.ndarray
    leg_elev: np.ndarray
    leg_plane: np.ndarray
    leg_twist: np.ndarray
    knee: np.ndarray
    root: np.ndarray
    wrist_target: np.ndarray
    elbow_pole: np.ndarray

    @classmethod
    def zeros(cls, n: int) -> "Pose":
        """Standing to attention: everything straight, arms hanging, facing +Z."""
        values = {f.name: np.zeros(n) for f in fields(cls)[:6]}
        values.update({f.name: np.zeros((n, 2)) for f in fields(cls)[6:14]})
        return cls(
            **values,
            root=np.broadcast_to(np.eye(3), (n, 3, 3)).copy(),
            wrist_target=np.full((n, 2, 3), np.nan),
            elbow_pole=np.zeros((n, 2, 3)),
        )

    def __len__(self) -> int:
        return len(self.trunk_flex)

    def mirrored(self, mask: np.ndarray) -> "Pose":
        """The pose reflected through the body's sagittal plane (X -> -X) where ``mask`` is True.

        Left and right limbs swap, sideways angles change sign; seen by a camera at the negated yaw,
        the picture is the horizontal flip of the original.
        """
        mask = np.asarray(mask, dtype=bool)
        out = {}
        for f in fields(self):
            a = getattr(self, f.name)
            if f.name in ("trunk_side", "trunk_twist", "head_yaw", "head_roll"):
                m = -a
            elif f.name == "root":
                flip = np.diag([-1.0, 1.0, 1.0])
                m = flip @ a @ flip
            elif a.ndim >= 2 and a.shape[1] == 2:  # limb pairs swap sides
                m = a[:, ::-1].copy()
                if f.name in ("wrist_target", "elbow_pole"):
                    m[..., 0] *= -1
            else:
                m = a
            out[f.name] = np.where(mask.reshape((-1,) + (1,) * (a.ndim - 1)), m, a)
        return replace(self, **out)

    @staticmethod
    def concatenate(poses: list["Pose"]) -> "Pose":
        return Pose(**{f.name: np.concatenate([getattr(p, f.name) for p in poses]) for f in fields(Pose)})


# --- rotations -----------------------------------------------------------------------------------

def _rot(axis: int, angle: np.ndarray) -> np.ndarray:
    """Right-handed rotation matrices ``(n, 3, 3)`` about coordinate axis ``axis`` (0 = X, 1 = Y, 2 = Z)."""
    c, s = np.cos(angle), np.sin(angle)
    i, j = [a for a in range(3) if a != axis]
    r = np.zeros(np.shape(angle) + (3, 3))
    r[..., axis, axis] = 1.0
    r[..., i, i], r[..., i, j], r[..., j, i], r[..., j, j] = c, -s, s, c
    if axis == 1:  # keep right-handedness for Y (Z -> X)
        r[..., i, j], r[..., j, i] = s, -s
    return r


def rot_x(angle):
    return _rot(0, angle)


def rot_y(angle):
    return _rot(1, angle)


def rot_z(angle):
    return _rot(2, angle)


def _rodrigues(v: np.ndarray, k: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v (..., 3)`` about unit axes ``k (..., 3)`` by ``angle (...)``."""
    c, s = np.cos(angle)[..., None], np.sin(angle)[..., None]
    return v * c + np.cross(k, v) * s + k * np.sum(k * v, -1, keepdims=True) * (1 - c)


def _apply(r: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate ``v (n, ..., 3)`` by per-sample matrices ``r (n, 3, 3)``."""
    return np.einsum("nij,n...j->n...i", r, v)


def _limb(elev, plane, twist, rest_bend):
    """Upper-segment direction and hinge-flexion direction ``(n, 2, 3)`` of both limbs.

    The segment swings from hanging (-Y) by ``elev`` toward the horizontal direction given by
    ``plane``; ``rest_bend`` (the way the hinge flexes when hanging: +Z elbows, -Z knees) is carried
    along by the swing, then turned about the segment by the twist.
    """
    side = SIDES
    hx, hz = side * np.cos(plane), np.sin(plane)
    axis = np.stack([-hz, np.zeros_like(hz), hx], -1)  # (-Y) x h: horizontal, never zero
    down = np.broadcast_to([0.0, -1.0, 0.0], axis.shape)
    u = _rodrigues(down, axis, elev)
    w = _rodrigues(np.broadcast_to(rest_bend, axis.shape), axis, elev)
    return u, _rodrigues(w, u, -side * twist)


def _two_bone_ik(root, target, pole, a, b):
    """Elbow and wrist ``(n, 2, 3)`` reaching from ``root`` toward ``target`` with segments ``a``, ``b``.

    Out-of-reach targets are approached along the line; the elbow lies on the side of ``pole``.
    """
    d = target - root
    dist = np.linalg.norm(d, axis=-1)
    reach = np.clip(dist, np.abs(a - b) + 1e-6, (a + b) * 0.999)
    dhat = d / np.maximum(dist, 1e-9)[..., None]
    cos_a = (a**2 + reach**2 - b**2) / (2 * a * reach)
    perp = pole - np.sum(pole * dhat, -1, keepdims=True) * dhat
    perp /= np.maximum(np.linalg.norm(perp, axis=-1, keepdims=True), 1e-9)
    elbow = root + a[..., None] * (cos_a[..., None] * dhat + np.sqrt(1 - cos_a**2)[..., None] * perp)
    return elbow, root + reach[..., None] * dhat


def forward_kinematics(body: BodyShape, pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    """3D COCO-17 joints of posed bodies, in the world frame (Y up).

    Returns:
        joints ``(n, 17, 3)`` and the outward normals ``(n, 5, 3)`` of the face keypoints (nose,
        eyes, ears) that decide which of them a camera sees.
    """
    n = len(body)
    pair = lambda a: np.stack([a, a], -1)  # noqa: E731  (n,) -> (n, 2)
    trunk = rot_y(pose.trunk_twist) @ rot_z(pose.trunk_side) @ rot_x(pose.trunk_flex)
    zeros = np.zeros(n)
    neck = _apply(trunk, np.stack([zeros, body.torso, zeros], -1))
    across = np.stack([pair(body.shoulder_half) * SIDES, np.zeros((n, 2)), np.zeros((n, 2))], -1)
    shoulders = neck[:, None] + _apply(trunk, across)
    hips = np.stack([pair(body.hip_half) * SIDES, np.zeros((n, 2)), np.zeros((n, 2))], -1)

    u, w = _limb(pose.arm_elev, pose.arm_plane, pose.arm_twist, [0.0, 0.0, 1.0])
    u, w = _apply(trunk, u), _apply(trunk, w)
    elbow_angle = np.clip(pose.elbow, 0.0, ELBOW_MAX)[..., None]
    upper, fore = pair(body.upper_arm), pair(body.forearm)
    elbows = shoulders + upper[..., None] * u
    wrists = elbows + fore[..., None] * (np.cos(elbow_angle) * u + np.sin(elbow_angle) * w)
    ik = np.isfinite(pose.wrist_target).all(-1)
    if ik.any():
        target = neck[:, None] + _apply(trunk, np.nan_to_num(pose.wrist_target))
        ik_elbows, ik_wrists = _two_bone_ik(shoulders, target, _apply(trunk, pose.elbow_pole), upper, fore)
        elbows = np.where(ik[..., None], ik_elbows, elbows)
        wrists = np.where(ik[..., None], ik_wrists, wrists)

    u, w = _limb(pose.leg_elev, pose.leg_plane, pose.leg_twist, [0.0, 0.0, -1.0])
    knee_angle = np.clip(pose.knee, 0.0, KNEE_MAX)[..., None]
    knees = hips + pair(body.thigh)[..., None] * u
    ankles = knees + pair(body.shin)[..., None] * (np.cos(knee_angle) * u + np.sin(knee_angle) * w)

    head = trunk @ rot_y(pose.head_yaw) @ rot_x(pose.head_pitch) @ rot_z(pose.head_roll)
    face = neck[:, None] + _apply(head, FACE[None] * body.head[:, None, None])
    forward, left = head[..., 2], head[..., 0]
    eye = lambda s: forward + s * 0.45 * left  # noqa: E731
    normals = np.stack([forward, eye(1), eye(-1), left, -left], 1)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)

    joints = np.concatenate([face, shoulders, elbows, wrists, hips, knees, ankles], 1)  # COCO-17 order
    return _apply(pose.root, joints), _apply(pose.root, normals)
