"""The embedded default data: a procedural text-pose generator (no download needed).

Each sample is a 3D kinematic body (:mod:`posegraph.data.body`) with anthropometric proportions
varied by build, sex and age, posed for one action with random variation (:mod:`posegraph.data.poses`),
photographed from a random yaw (front, back, side, three-quarter; restricted per action where the
action would be unreadable) with a small pitch and roll (:mod:`posegraph.data.camera`), and framed
like a COCO person crop: a square around the keypoints' bounding box, aspect kept, small margin.
Face keypoints turned away from the camera get ``v = 0`` as in COCO; for arm gestures, one crop
in ten is cut above the knees or the ankles (those joints get ``v = 0``). Captions come from
:mod:`posegraph.data.captions`. Everything is vectorised numpy and deterministic given the seed and
the order of calls.

    >>> gen = SyntheticPoseGenerator(size=64, seed=0)
    >>> s = gen.sample(8)
    >>> s.keypoints.shape, len(s.captions)
    ((8, 17, 3), 8)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from posegraph.data.body import BodyShape, Pose, forward_kinematics
from posegraph.data.camera import camera_axes, crop_to_box, face_visible, facing_labels, project
from posegraph.data.captions import caption_for, example_prompts, make_captions, swap_left_right
from posegraph.data.poses import ASYMMETRIC, draw_poses, split_action
from posegraph.skeleton import COCO_17

__all__ = [
    "ACTIONS", "ARM_GESTURES", "SyntheticPoseGenerator", "SyntheticSamples", "caption_for", "example_prompts", "flip_action",
]

#: Every action id. Sided actions have one id per side ("left"/"right" = the person's own side).
ACTIONS: tuple[str, ...] = (
    "standing", "walking", "running", "jumping", "sitting", "squatting", "kneeling", "lying_down",
    "waving_left", "waving_right", "raise_left_arm", "raise_right_arm", "raise_both_arms", "arms_out",
    "hands_on_hips", "arms_crossed", "pointing_left", "pointing_right", "kicking_left", "kicking_right",
    "touching_toes", "throwing", "punching", "one_leg", "handstand",
)
#: Arm gestures (base actions), readable without the legs: their crops are sometimes cut off above the feet or knees.
ARM_GESTURES = ("waving", "raise_arm", "raise_both_arms", "arms_out", "hands_on_hips", "arms_crossed", "pointing")
ANKLES = [COCO_17.index("left_ankle"), COCO_17.index("right_ankle")]
KNEES = [COCO_17.index("left_knee"), COCO_17.index("right_knee")]


def flip_action(action: str) -> str:
    """The action id a horizontal flip turns ``action`` into (left and right swap)."""
    return action.replace("left", "\0").replace("right", "left").replace("\0", "right")


def _swap_side(side: str | None) -> str | None:
    return {"left": "right", "right": "left"}.get(side)


@dataclass
class SyntheticSamples:
    """A batch of synthetic text-pose pairs.

    Attributes:
        keypoints: ``(n, 17, 3)`` float32 COCO-17 rows ``(x, y, v)`` in pixels of a ``size`` crop;
            absent joints are ``(0, 0, 0)``.
        captions: ``n`` captions.
        actions: ``(n,)`` action ids (see :data:`ACTIONS`).
        sides: the side named by the action (the waving hand, the kicking leg, the throwing or
            punching arm), else None.
        facings: which side of the person the camera sees ("front", "front-left", "left", ..., "back").
        size: the crop side in pixels.
    """

    keypoints: np.ndarray
    captions: list[str]
    actions: np.ndarray
    sides: list[str | None]
    facings: list[str]
    size: int

    def __len__(self) -> int:
        return len(self.keypoints)

    def __getitem__(self, index):
        """``s[i]`` is one sample as a dict; ``s[a:b]`` or ``s[index_array]`` a ``SyntheticSamples``."""
        if isinstance(index, (int, np.integer)):
            return {"keypoints": self.keypoints[index], "caption": self.captions[index], "action": str(self.actions[index]),
                    "side": self.sides[index], "facing": self.facings[index]}
        rows = np.arange(len(self))[index]
        return SyntheticSamples(self.keypoints[rows], [self.captions[i] for i in rows], self.actions[rows],
                                [self.sides[i] for i in rows], [self.facings[i] for i in rows], self.size)

    def flip(self) -> "SyntheticSamples":
        """The horizontal mirror image: joints and the words left/right in captions, ids, sides and facings swap."""
        keypoints = COCO_17.flip_keypoints(self.keypoints, self.size)
        keypoints[keypoints[..., 2] == 0] = 0.0
        return SyntheticSamples(
            keypoints=keypoints,
            captions=[swap_left_right(c) for c in self.captions],
            actions=np.array([flip_action(a) for a in self.actions]),
            sides=[_swap_side(s) for s in self.sides],
            facings=[swap_left_right(f) for f in self.facings],
            size=self.size,
        )


class SyntheticPoseGenerator:
    """Draws synthetic text-pose pairs; deterministic given ``seed`` and the order of calls.

    Args:
        size: side of the square crop, in pixels (the heatmap side).
        seed: seed of the generator's random stream.
        actions: restrict sampling to these action ids (default all of :data:`ACTIONS`).
        crop_rate: fraction of arm-gesture samples whose crop cuts off the feet or knees.
    """

    def __init__(self, size: int = 64, seed: int = 0, actions: Sequence[str] | None = None, crop_rate: float = 0.1):
        self.size, self.seed, self.crop_rate = int(size), seed, crop_rate
        self.actions = tuple(ACTIONS if actions is None else actions)
        _check_actions(self.actions, "SyntheticPoseGenerator")
        if not self.actions:
            raise ValueError("SyntheticPoseGenerator: actions is empty; pass None for all of ACTIONS or some ids")
        if self.size < 8:
            raise ValueError(f"SyntheticPoseGenerator: size must be at least 8 pixels, got {size}")
        self.rng = np.random.default_rng(seed)

    def __repr__(self) -> str:
        return f"SyntheticPoseGenerator(size={self.size}, seed={self.seed}, actions={len(self.actions)})"

    def sample(self, n: int, action: str | Sequence[str] | None = None) -> SyntheticSamples:
        """``n`` samples, each of an action drawn uniformly from ``actions`` unless ``action`` is given.

        Args:
            n: number of samples.
            action: one action id for all samples, or ``n`` ids (need not be among ``actions``).
        """
        rng = self.rng
        if action is None:
            actions = np.asarray(self.actions)[rng.integers(len(self.actions), size=n)]
        else:
            actions = np.array(np.broadcast_to(np.asarray(action, dtype=str), (n,)))
            _check_actions(set(actions.tolist()), "SyntheticPoseGenerator.sample")
        bodies = BodyShape.sample(rng, n)
        groups = [np.flatnonzero(actions == a) for a in ACTIONS]  # poses are drawn action by action
        drawn = [draw_poses(a, rng, len(g)) for a, g in zip(ACTIONS, groups)]
        pose = Pose.concatenate([p for p, *_ in drawn])
        yaw, pitch, mirrored = (np.concatenate([x[i] for x in drawn]) for i in (1, 2, 3))
        sides = np.concatenate([_sides(a, m) for a, (*_, m) in zip(ACTIONS, drawn)])
        croppable = np.concatenate([np.full(len(g), split_action(a)[0] in ARM_GESTURES) for a, g in zip(ACTIONS, groups)])

        order = np.concatenate(groups)
        joints, normals = forward_kinematics(bodies.take(order), pose)
        keypoints, facings = self._photograph(joints, normals, pose.root, yaw, pitch, croppable)
        back = np.argsort(order)  # from action groups back to the drawn order
        sides, facings = sides[back].tolist(), facings[back].tolist()
        return SyntheticSamples(
            keypoints=keypoints[back],
            captions=make_captions(rng, actions, sides, facings, bodies.female, bodies.child),
            actions=actions,
            sides=sides,
            facings=facings,
            size=self.size,
        )

    def _photograph(self, joints, normals, root, yaw, pitch, croppable):
        """Camera, visibility and crop: 3D joints ``(n, 17, 3)`` -> keypoints ``(n, 17, 3)`` and facings ``(n,)``."""
        rng, n = self.rng, len(joints)
        roll = np.clip(rng.normal(0.0, 3.0, n), -6.0, 6.0)
        right, up, toward = camera_axes(yaw, pitch, roll)
        points = project(joints, right, up, toward, rng.uniform(3.5, 8.0, n))
        visible = np.ones((n, 17), dtype=bool)
        visible[:, :5] = face_visible(normals, toward)
        in_box = visible.copy()  # the joints the crop is centred on; a cut crop leaves out the feet (and knees)
        cut = croppable & (rng.random(n) < self.crop_rate)
        in_box[np.ix_(cut, ANKLES)] = False
        in_box[np.ix_(cut & (rng.random(n) < 0.5), KNEES)] = False
        pixels = crop_to_box(points, in_box, self.size, rng.uniform(0.05, 0.15, n))
        in_frame = ((pixels >= -0.5) & (pixels <= self.size - 0.5)).all(-1)
        v = np.where(visible & in_frame, 2.0, 0.0)
        keypoints = np.concatenate([pixels * (v[..., None] > 0), v[..., None]], -1).astype(np.float32)
        return keypoints, facing_labels(np.einsum("nji,nj->ni", root, toward))  # the camera seen from the body


def _sides(action: str, mirrored: np.ndarray) -> np.ndarray:
    """The side label of poses of one action: the side its id names, or the arm a throw or punch uses."""
    base, side = split_action(action)
    if side is None and base in ASYMMETRIC:
        return np.where(mirrored, "right", "left").astype(object)
    return np.full(len(mirrored), side, dtype=object)


def _check_actions(actions, where: str) -> None:
    unknown = sorted(set(actions) - set(ACTIONS))
    if unknown:
        raise ValueError(f"{where}: unknown action ids {unknown}; choose from posegraph.data.synthetic.ACTIONS {list(ACTIONS)}")
