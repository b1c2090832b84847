"""Skeleton layouts as graphs: joints are nodes, bones are edges.

A :class:`Skeleton` names its ``K`` joints, lists its bones and knows which joint a horizontal flip
maps each joint to. It is a first-class ``torch_geometric`` graph: ``edge_index`` holds every bone in
both directions, :meth:`Skeleton.graph` / :meth:`Skeleton.batch` wrap node features in a ``Data`` /
``Batch``, and :meth:`Skeleton.adjacency` gives the dense symmetric normalised adjacency
``D^-1/2 (A + I) D^-1/2`` that dense graph layers use.

Two layouts are built in (:data:`SKELETONS`): :data:`COCO_17` (the COCO keypoint order and its 19 bones, the
default layout of models, data and metrics) and :data:`OPENPOSE_18` (the body layout of ControlNet's OpenPose
annotator: COCO-17 plus the neck). Any other layout is a :class:`Skeleton` of its own, stored in a model's
config as :meth:`Skeleton.to_config` and read back by :func:`resolve_skeleton`. :func:`convert_keypoints`
carries keypoints between layouts by joint name (the neck is the middle of the shoulders);
:func:`coco_to_openpose` and :func:`openpose_to_coco` are its two common cases.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch_geometric.data import Batch, Data

__all__ = ["Skeleton", "COCO_17", "OPENPOSE_18", "SKELETONS", "BODY_PARTS", "resolve_skeleton", "convert_keypoints",
           "missing_joints", "coco_to_openpose", "openpose_to_coco"]


def _mirror_name(name: str) -> str:
    for a, b in (("left", "right"), ("right", "left")):
        if a in name:
            return name.replace(a, b)
    return name


class Skeleton:
    r"""A skeleton layout: ``K`` named joints, undirected bones and a left/right flip permutation.

    Args:
        names: joint names, in the order of the joint axis of every tensor that uses this layout.
        bones: pairs of joint names (or indices) joined by a bone; each pair once, no self-loops.
        flip_permutation: ``flip_permutation[k]`` is the joint that joint ``k`` becomes under a
            horizontal flip (must be an involution). Default: swap ``left``/``right`` in the names.
        name: a label for ``repr``.

    Attributes:
        num_joints (int): ``K``.
        names (tuple[str, ...]): the joint names.
        bones (tuple[tuple[int, int], ...]): bones as index pairs, in the given order.
        flip_permutation (torch.LongTensor): shape ``(K,)``.
        edge_index (torch.LongTensor): shape ``(2, 2 * num_bones)``, every bone in both directions.
    """

    def __init__(
        self,
        names: Sequence[str],
        bones: Sequence[tuple[str | int, str | int]],
        flip_permutation: Sequence[int] | None = None,
        name: str = "custom",
    ):
        names = tuple(names)
        if len(set(names)) != len(names):
            raise ValueError(f"Skeleton: joint names must be unique, got {names}")
        self.name = name
        self.names = names
        self.num_joints = len(names)
        index = {n: i for i, n in enumerate(names)}

        def resolve(j):
            if isinstance(j, str):
                if j not in index:
                    raise ValueError(f"Skeleton: bone names unknown joint {j!r}; known joints: {list(names)}")
                return index[j]
            if not 0 <= int(j) < len(names):
                raise ValueError(f"Skeleton: bone joint index {j} is out of range 0..{len(names) - 1}")
            return int(j)

        resolved, seen = [], set()
        for a, b in bones:
            i, j = resolve(a), resolve(b)
            if i == j:
                raise ValueError(f"Skeleton: bone ({a!r}, {b!r}) is a self-loop; a bone joins two different joints")
            key = (min(i, j), max(i, j))
            if key in seen:
                raise ValueError(f"Skeleton: duplicate bone ({a!r}, {b!r}); list each bone once (direction is ignored)")
            seen.add(key)
            resolved.append((i, j))
        self.bones = tuple(resolved)

        if flip_permutation is None:
            mirrored = [_mirror_name(n) for n in names]
            missing = [m for m in mirrored if m not in index]
            if missing:
                raise ValueError(
                    f"Skeleton: cannot derive the flip permutation, no joint named {missing}; "
                    "pass flip_permutation explicitly"
                )
            flip_permutation = [index[m] for m in mirrored]
        perm = torch.as_tensor(list(flip_permutation), dtype=torch.long)
        if perm.shape != (self.num_joints,) or sorted(perm.tolist()) != list(range(self.num_joints)):
            raise ValueError(
                f"Skeleton: flip_permutation must be a permutation of 0..{self.num_joints - 1}, got {perm.tolist()}"
            )
        if not torch.equal(perm[perm], torch.arange(self.num_joints)):
            raise ValueError(
                f"Skeleton: flip_permutation {perm.tolist()} is not an involution "
                "(flipping twice must give the identity: perm[perm[k]] == k)"
            )
        self.flip_permutation = perm
        src = [i for i, j in self.bones] + [j for i, j in self.bones]
        dst = [j for i, j in self.bones] + [i for i, j in self.bones]
        self.edge_index = torch.tensor([src, dst], dtype=torch.long).reshape(2, -1)

    def __repr__(self) -> str:
        return f"Skeleton({self.name!r}, num_joints={self.num_joints}, num_bones={len(self.bones)})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Skeleton) and self.to_config() == other.to_config()

    def __hash__(self) -> int:
        return hash((self.name, self.names, self.bones))

    def to_config(self) -> dict:
        """The layout as JSON-ready values: ``{"name", "joints", "bones", "flip_permutation"}`` (what a model's
        ``config.json`` stores for a layout that is not built in; :meth:`from_config` reads it back)."""
        return {"name": self.name, "joints": list(self.names), "bones": [list(bone) for bone in self.bones],
                "flip_permutation": self.flip_permutation.tolist()}

    @classmethod
    def from_config(cls, config: dict) -> "Skeleton":
        """The layout :meth:`to_config` wrote."""
        unknown = sorted(set(config) - {"name", "joints", "bones", "flip_permutation"})
        if unknown or "joints" not in config or "bones" not in config:
            raise ValueError(f"Skeleton.from_config: expected {{'name', 'joints', 'bones', 'flip_permutation'}} "
                             f"(joints and bones required), got keys {sorted(config)}")
        return cls(config["joints"], [tuple(bone) for bone in config["bones"]], config.get("flip_permutation"),
                   name=config.get("name", "custom"))

    def index(self, name: str) -> int:
        """The position of joint ``name`` on the joint axis."""
        return self.names.index(name)

    # --- graph views -----------------------------------------------------------------------------

    def graph(self, x: torch.Tensor | None = None) -> Data:
        """One pose as a PyG graph. ``x``: node features ``(K, F)`` or ``None``."""
        if x is not None and x.shape[0] != self.num_joints:
            raise ValueError(f"{self!r}.graph: x has {x.shape[0]} nodes, expected {self.num_joints}")
        return Data(x=x, edge_index=self.edge_index.clone(), num_nodes=self.num_joints)

    def batch(self, x: torch.Tensor) -> Batch:
        """Many poses as one disconnected PyG graph. ``x``: ``(batch, K, F)`` -> ``Batch`` of ``batch`` graphs."""
        if x.dim() != 3 or x.shape[1] != self.num_joints:
            raise ValueError(f"{self!r}.batch: expected x of shape (batch, {self.num_joints}, F), got {tuple(x.shape)}")
        return Batch.from_data_list([self.graph(xi) for xi in x])

    def hop_distances(self) -> torch.Tensor:
        """Shortest path length in bones between every pair of joints, ``(K, K)`` long (-1 if unreachable)."""
        k = self.num_joints
        inf = k + 1
        dist = torch.full((k, k), inf, dtype=torch.long)
        dist.fill_diagonal_(0)
        dist[self.edge_index[0], self.edge_index[1]] = 1
        for m in range(k):  # Floyd-Warshall over a graph of K nodes
            dist = torch.minimum(dist, dist[:, m : m + 1] + dist[m : m + 1, :])
        return dist.masked_fill(dist >= inf, -1)

    def k_hop_edge_index(self, hops: int = 1) -> torch.Tensor:
        """Directed edges between joints at most ``hops`` bones apart (no self-loops), ``(2, E)``."""
        if hops < 1:
            raise ValueError(f"{self!r}.k_hop_edge_index: hops must be >= 1, got {hops}")
        if hops == 1:
            return self.edge_index.clone()
        d = self.hop_distances()
        return ((d >= 1) & (d <= hops)).nonzero().t().contiguous()

    def adjacency(self, hops: int = 1, self_loops: bool = True, normalize: bool = True) -> torch.Tensor:
        r"""Dense adjacency ``(K, K)``; by default the symmetric normalised :math:`D^{-1/2}(A+I)D^{-1/2}`."""
        a = torch.zeros(self.num_joints, self.num_joints)
        ei = self.k_hop_edge_index(hops)
        a[ei[0], ei[1]] = 1.0
        if self_loops:
            a = a + torch.eye(self.num_joints)
        if normalize:
            d = a.sum(1).clamp(min=1e-12).pow(-0.5)
            a = d[:, None] * a * d[None, :]
        return a

    # --- relabelling and flipping ----------------------------------------------------------------

    def relabel(self, perm: Sequence[int]) -> "Skeleton":
        """The same skeleton with joint ``perm[i]`` moved to position ``i`` (bones and flip follow)."""
        perm = [int(p) for p in perm]
        inv = {old: new for new, old in enumerate(perm)}
        flip = self.flip_permutation.tolist()
        return Skeleton(
            names=[self.names[p] for p in perm],
            bones=[(inv[i], inv[j]) for i, j in self.bones],
            flip_permutation=[inv[flip[p]] for p in perm],
            name=self.name,
        )

    def flip_keypoints(self, keypoints, width: float):
        """Mirror keypoints ``(..., K, 3)`` horizontally in a frame ``width`` pixels wide.

        Pixel centres sit at integers, so ``x -> width - 1 - x``; left and right joints swap.
        Works on torch tensors and numpy arrays alike.
        """
        out = keypoints[..., self.flip_permutation.numpy() if isinstance(keypoints, np.ndarray) else self.flip_permutation, :]
        out = out.copy() if isinstance(out, np.ndarray) else out.clone()
        out[..., 0] = (width - 1) - out[..., 0]
        return out


COCO_17 = Skeleton(
    names=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    bones=(  # the 19 links of the COCO keypoint annotation, in its order
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8),
        (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
    ),
    name="coco_17",
)

#: Named groups of COCO-17 joints ("left"/"right" are the person's own sides): what a pose editor keeps or
#: regenerates together. A leg includes its hip and an arm its shoulder; ``torso`` is the four of them.
BODY_PARTS: dict[str, tuple[str, ...]] = {
    "head": ("nose", "left_eye", "right_eye", "left_ear", "right_ear"),
    "torso": ("left_shoulder", "right_shoulder", "left_hip", "right_hip"),
    "left_arm": ("left_shoulder", "left_elbow", "left_wrist"),
    "right_arm": ("right_shoulder", "right_elbow", "right_wrist"),
    "arms": ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"),
    "left_leg": ("left_hip", "left_knee", "left_ankle"),
    "right_leg": ("right_hip", "right_knee", "right_ankle"),
    "legs": ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"),
}

OPENPOSE_18 = Skeleton(
    names=(
        "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
        "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
        "right_eye", "left_eye", "right_ear", "left_ear",
    ),
    bones=(  # ControlNet's OpenPose annotator limbSeq, in drawing order (the 17 limbs it draws)
        (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12),
        (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
    ),
    name="openpose_18",
)

#: The built-in layouts by name (what a model config's ``skeleton`` names).
SKELETONS: dict[str, Skeleton] = {"coco_17": COCO_17, "openpose_18": OPENPOSE_18}


def resolve_skeleton(skeleton: "str | dict | Skeleton") -> Skeleton:
    """The layout a model config's ``skeleton`` holds: a built-in name (:data:`SKELETONS`), a
    :meth:`Skeleton.to_config` dict, or a :class:`Skeleton` itself."""
    if isinstance(skeleton, Skeleton):
        return skeleton
    if isinstance(skeleton, dict):
        return Skeleton.from_config(skeleton)
    if isinstance(skeleton, str) and skeleton in SKELETONS:
        return SKELETONS[skeleton]
    raise ValueError(f"unknown skeleton {skeleton!r}; use one of {list(SKELETONS)}, a Skeleton or its to_config() dict")


_SHOULDERS = ("left_shoulder", "right_shoulder")


def missing_joints(source: Skeleton, target: Skeleton) -> list[str]:
    """The joints of ``target`` that :func:`convert_keypoints` cannot take from ``source`` (none: it converts)."""
    derived = {"neck"} if all(name in source.names for name in _SHOULDERS) else set()
    return [name for name in target.names if name not in source.names and name not in derived]


def convert_keypoints(keypoints, source: Skeleton, target: Skeleton):
    """Keypoints ``(..., K_source, 3)`` of layout ``source`` -> ``(..., K_target, 3)`` of ``target`` (torch or numpy).

    Every joint of ``target`` is taken from the ``source`` joint of the same name. A ``"neck"`` that ``source``
    lacks is the midpoint of its shoulders, present (``v = 2``) only where both shoulders are (``v > 0``) and
    ``(0, 0, 0)`` elsewhere, as OpenPose draws it.

    Raises:
        ValueError: the keypoints do not have ``source``'s joint count, or ``target`` has a joint ``source``
            cannot give (the message names it).
    """
    is_np = isinstance(keypoints, np.ndarray)
    kp = torch.as_tensor(keypoints, dtype=torch.float32)
    if kp.dim() < 2 or kp.shape[-2:] != (source.num_joints, 3):
        raise ValueError(f"convert_keypoints: expected {source.name} keypoints of shape (..., {source.num_joints}, 3), "
                         f"got {tuple(kp.shape)}")
    missing = missing_joints(source, target)
    if missing:
        raise ValueError(f"convert_keypoints: {target.name} needs joints {missing} that {source.name} does not have "
                         f"(its joints: {', '.join(source.names)})")
    out = kp[..., [source.index(n) if n in source.names else 0 for n in target.names], :].clone()
    if "neck" in target.names and "neck" not in source.names:
        left, right = (kp[..., source.index(name), :] for name in _SHOULDERS)
        both = (left[..., 2] > 0) & (right[..., 2] > 0)
        neck = torch.cat([(left[..., :2] + right[..., :2]) / 2, torch.full_like(left[..., 2:], 2.0)], dim=-1)
        out[..., target.index("neck"), :] = torch.where(both[..., None], neck, torch.zeros_like(neck))
    return out.numpy() if is_np else out


def coco_to_openpose(keypoints):
    """COCO-17 keypoints ``(..., 17, 3)`` -> OpenPose-18 ``(..., 18, 3)`` (torch or numpy).

    The neck is the midpoint of the shoulders and is visible (v=2) only where both shoulders are
    (v > 0); elsewhere it is ``(0, 0, 0)``.
    """
    return convert_keypoints(keypoints, COCO_17, OPENPOSE_18)


def openpose_to_coco(keypoints):
    """OpenPose-18 keypoints ``(..., 18, 3)`` -> COCO-17 ``(..., 17, 3)`` (the neck is dropped)."""
    return convert_keypoints(keypoints, OPENPOSE_18, COCO_17)
