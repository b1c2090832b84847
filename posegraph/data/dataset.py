"""The training Dataset: text-pose pairs -> Gaussian heatmaps, with flip, rotation and scale augmentation.

:class:`PoseTextDataset` holds keypoints ``(n, K, 3)`` in heatmap pixels, one or several captions per
pose and optional labels (the synthetic data's ``action``, ``side``, ``facing``). Each visit yields::

    {"heatmaps": (K, S, S) float32 in [0, 1], "caption": str, "keypoints": (K, 3) float32, **labels}

Augmentation, applied to a batch at once (vectorised numpy; ``DataLoader`` fetches whole batches through
``__getitems__``):

* a horizontal flip with probability ``flip_prob``: ``x -> S - 1 - x``, left and right joints swap, and
  so do the words "left"/"right" in the caption (whole words, case kept: "Left" -> "Right") and in the
  labels (``waving_left`` -> ``waving_right``, side ``left`` -> ``right``, facing ``front-left`` ->
  ``front-right``);
* with ``canonical_side``, a pose whose caption names no side is flipped exactly when that puts it in its
  canonical orientation (:mod:`posegraph.data.sides`) instead of by chance, so the model learns one of the
  two mirror-image modes such a caption allows and sampling restores the other by mirroring;
* a rotation by up to ``max_rotation`` degrees and a scaling by a factor in ``scale_range`` about the
  crop centre ``((S - 1) / 2, (S - 1) / 2)``. Joints that leave the frame ``[-0.5, S - 0.5]`` become
  absent (``v = 0``); absent joints are ``(0, 0, 0)``.

One caption is drawn per visit where a pose has several (COCO images have about five).

Randomness: with ``augment_seed=None`` (the default) each batch's draws come from torch's global RNG, the
one the training loop seeds and checkpoints, so a resumed run continues exactly. With an integer
``augment_seed`` the draws of a visit depend only on ``(augment_seed, epoch, index)`` (call
:meth:`PoseTextDataset.set_epoch` each epoch), whatever the batching or worker layout.
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import torch

from posegraph.data.captions import names_side, swap_left_right
from posegraph.data.coco import DEFAULT_MARGIN, hash_uniform, load_coco_pairs
from posegraph.data.sides import mirror_to_canonical
from posegraph.data.synthetic import SyntheticPoseGenerator, SyntheticSamples, flip_action
from posegraph.heatmaps import keypoints_to_heatmaps
from posegraph.skeleton import COCO_17, Skeleton, convert_keypoints

__all__ = ["PoseTextDataset", "augment_keypoints"]

_LABEL_FLIPS = {"action": flip_action, "side": swap_left_right, "facing": swap_left_right}


def _flip_label(name: str, value):
    return value if value is None or name not in _LABEL_FLIPS else _LABEL_FLIPS[name](value)


def augment_keypoints(keypoints: np.ndarray, size: int, flip: np.ndarray, angle: np.ndarray, scale: np.ndarray,
                      skeleton: Skeleton = COCO_17) -> np.ndarray:
    """Flip, rotate and scale keypoints in an ``S x S`` frame, each pose its own way.

    Args:
        keypoints: ``(batch, K, 3)`` rows ``(x, y, v)`` in heatmap pixels.
        size: frame side ``S``.
        flip: ``(batch,)`` bool, mirror left-right first (joints swap via ``skeleton.flip_permutation``).
        angle: ``(batch,)`` rotation about the frame centre in radians.
        scale: ``(batch,)`` scale factor about the frame centre.

    Returns:
        ``(batch, K, 3)`` float32; joints outside ``[-0.5, S - 0.5]`` and absent joints are ``(0, 0, 0)``.
    """
    keypoints = np.where(flip[:, None, None], skeleton.flip_keypoints(keypoints, size), keypoints)
    centre = (size - 1) / 2
    cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
    x, y = keypoints[..., 0] - centre, keypoints[..., 1] - centre
    xy = np.stack([cos[:, None] * x - sin[:, None] * y, sin[:, None] * x + cos[:, None] * y], -1) + centre
    present = (keypoints[..., 2] > 0) & np.all((xy >= -0.5) & (xy <= size - 0.5), axis=-1)
    out = np.concatenate([xy, keypoints[..., 2:]], axis=-1)
    return np.where(present[..., None], out, 0.0).astype(np.float32)


class PoseTextDataset(torch.utils.data.Dataset):
    """Text-pose pairs as training samples (see the module for what a sample holds and how it is augmented).

    Build it from the synthetic generator (:meth:`synthetic`), from COCO (:meth:`coco`) or from arrays.

    Args:
        keypoints: ``(n, K, 3)`` rows ``(x, y, v)`` in pixels of an ``size x size`` frame.
        captions: ``n`` captions, or ``n`` non-empty sequences of captions (one is drawn per visit).
        size: heatmap side ``S``.
        sigma: heatmap Gaussian standard deviation in pixels (the paper: 2 at ``S`` = 64).
        labels: optional ``{name: n values}`` yielded with each sample (``str`` or ``None`` values);
            ``action``, ``side`` and ``facing`` follow the flip.
        flip_prob: probability of a horizontal flip.
        canonical_side: flip a pose whose drawn caption names no side (neither "left" nor "right") exactly
            when that gives its canonical orientation (:func:`~posegraph.data.sides.mirror_to_canonical`),
            whatever ``flip_prob`` says.
        max_rotation: largest rotation, in degrees (uniform in ``[-max_rotation, max_rotation]``).
        scale_range: ``(low, high)`` of the uniform scale factor.
        augment_seed: ``None``: draw from torch's global RNG; an int: draws fixed by
            ``(augment_seed, epoch, index)``.
        skeleton: the joint layout (its flip permutation swaps left and right joints).
    """

    def __init__(self, keypoints: np.ndarray, captions: Sequence[str] | Sequence[Sequence[str]], size: int = 64,
                 sigma: float = 2.0, labels: dict[str, Sequence] | None = None, flip_prob: float = 0.5,
                 max_rotation: float = 10.0, scale_range: tuple[float, float] = (0.9, 1.1),
                 canonical_side: bool = False, augment_seed: int | None = None, skeleton: Skeleton = COCO_17):
        keypoints = np.asarray(keypoints, dtype=np.float32)
        if keypoints.ndim != 3 or keypoints.shape[1:] != (skeleton.num_joints, 3) or len(keypoints) == 0:
            raise ValueError(f"PoseTextDataset: keypoints must have shape (n, {skeleton.num_joints}, 3) with n >= 1, "
                             f"got {keypoints.shape}")
        n = len(keypoints)
        self.captions_per_pose = [_caption_choices(c, i) for i, c in enumerate(captions)]
        if len(self.captions_per_pose) != n:
            raise ValueError(f"PoseTextDataset: {n} poses but {len(self.captions_per_pose)} captions; "
                             "give one caption (or one list of captions) per pose")
        self.labels = {name: list(values) for name, values in (labels or {}).items()}
        for name, values in self.labels.items():
            if len(values) != n:
                raise ValueError(f"PoseTextDataset: label {name!r} has {len(values)} values for {n} poses")
        if not 0 <= flip_prob <= 1 or max_rotation < 0 or not 0 < scale_range[0] <= scale_range[1]:
            raise ValueError("PoseTextDataset: need 0 <= flip_prob <= 1, max_rotation >= 0 and 0 < scale_range[0] <= "
                             f"scale_range[1], got flip_prob={flip_prob}, max_rotation={max_rotation}, "
                             f"scale_range={scale_range}")
        self.keypoints, self.size, self.sigma, self.skeleton = keypoints, int(size), float(sigma), skeleton
        self.flip_prob, self.max_rotation, self.scale_range = float(flip_prob), float(max_rotation), tuple(scale_range)
        self.canonical_side = bool(canonical_side)
        self._mirror = mirror_to_canonical(keypoints, skeleton) if self.canonical_side else None
        self.augment_seed, self.epoch = augment_seed, 0
        self._captions = None
        self._counts = np.array([len(c) for c in self.captions_per_pose])

    # -- sources -----------------------------------------------------------------------------------

    @classmethod
    def synthetic(cls, num_samples: int, size: int = 64, seed: int = 0, actions: Sequence[str] | None = None,
                  **kwargs) -> "PoseTextDataset":
        """``num_samples`` pairs drawn by :class:`~posegraph.data.synthetic.SyntheticPoseGenerator` (``seed``,
        ``actions``), with their ``action``, ``side`` and ``facing`` labels. ``kwargs`` go to the constructor; with a
        ``skeleton`` other than COCO-17 the generator's poses are converted to it (``convert_keypoints``)."""
        samples = SyntheticPoseGenerator(size=size, seed=seed, actions=actions).sample(num_samples)
        return cls.from_synthetic(samples, **kwargs)

    @classmethod
    def from_synthetic(cls, samples: SyntheticSamples, skeleton: Skeleton = COCO_17, **kwargs) -> "PoseTextDataset":
        """A dataset over already drawn synthetic samples in the layout ``skeleton`` (``kwargs`` go to the
        constructor)."""
        labels = {"action": [str(a) for a in samples.actions], "side": list(samples.sides),
                  "facing": list(samples.facings)}
        keypoints = convert_keypoints(samples.keypoints, COCO_17, skeleton)
        return cls(keypoints, samples.captions, size=samples.size, labels=labels, skeleton=skeleton, **kwargs)

    @classmethod
    def coco(cls, keypoints_file: str | os.PathLike, captions_file: str | os.PathLike, size: int = 64,
             split: str = "train", margin: float = DEFAULT_MARGIN, min_keypoints: int = 8, visible_only: bool = False,
             cache_dir: str | os.PathLike | None = None, skeleton: Skeleton = COCO_17, **kwargs) -> "PoseTextDataset":
        """The paper's COCO pairs (:func:`~posegraph.data.coco.load_coco_pairs`), every caption of an image
        a choice for its visits, in the layout ``skeleton``. ``kwargs`` go to the constructor."""
        pairs = load_coco_pairs(keypoints_file, captions_file, size=size, split=split, margin=margin,
                                min_keypoints=min_keypoints, visible_only=visible_only, cache_dir=cache_dir)
        if len(pairs) == 0:
            raise ValueError(f"PoseTextDataset.coco: no pairs in the {split!r} split ({pairs.summary})")
        return cls(convert_keypoints(pairs.keypoints, COCO_17, skeleton), pairs.captions, size=size, skeleton=skeleton,
                   **kwargs)

    # -- the Dataset protocol ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.keypoints)

    def __repr__(self) -> str:
        return (f"PoseTextDataset({len(self)} poses, size={self.size}, sigma={self.sigma}, flip_prob={self.flip_prob}, "
                f"max_rotation={self.max_rotation}, scale_range={self.scale_range}, canonical_side={self.canonical_side}, "
                f"labels={list(self.labels)})")

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose draws visits use (only with an integer ``augment_seed``)."""
        self.epoch = int(epoch)

    @property
    def captions(self) -> list[str]:
        """Every distinct caption a visit can yield (mirrored ones included when flips are on), in order of
        first appearance: the list whose embeddings training computes once up front."""
        if self._captions is None:
            texts = dict.fromkeys(c for choices in self.captions_per_pose for c in choices)
            if self.flip_prob > 0:
                texts.update(dict.fromkeys(swap_left_right(c) for c in list(texts)))
            self._captions = list(texts)
        return self._captions

    def __getitem__(self, index: int) -> dict:
        return self.__getitems__([index])[0]

    def __getitems__(self, indices: Sequence[int]) -> list[dict]:
        """The samples at ``indices``, augmented and rendered together."""
        indices = np.arange(len(self))[np.asarray(indices, dtype=np.int64)]
        u_flip, u_angle, u_scale, u_caption = self._uniforms(indices)
        choice = (u_caption * self._counts[indices]).astype(np.int64)
        captions = [self.captions_per_pose[index][c] for index, c in zip(indices.tolist(), choice.tolist())]
        flip = u_flip < self.flip_prob
        if self.canonical_side:
            side_free = np.array([not names_side(caption) for caption in captions], dtype=bool)
            flip = np.where(side_free, self._mirror[indices], flip)
        angle = np.deg2rad((2 * u_angle - 1) * self.max_rotation)
        low, high = self.scale_range
        keypoints = augment_keypoints(self.keypoints[indices], self.size, flip, angle, low + u_scale * (high - low),
                                      self.skeleton)
        keypoints = torch.from_numpy(keypoints)
        heatmaps = keypoints_to_heatmaps(keypoints, self.size, self.sigma)
        items = []
        for row, (index, flipped, caption) in enumerate(zip(indices.tolist(), flip.tolist(), captions)):
            item = {"heatmaps": heatmaps[row], "caption": swap_left_right(caption) if flipped else caption,
                    "keypoints": keypoints[row]}
            for name, values in self.labels.items():
                item[name] = _flip_label(name, values[index]) if flipped else values[index]
            items.append(item)
        return items

    @staticmethod
    def collate(items: Sequence[dict]) -> dict:
        """Stack tensors (``heatmaps`` ``(batch, K, S, S)``, ``keypoints`` ``(batch, K, 3)``); keep the rest
        (``caption`` and labels) as lists."""
        return {key: torch.stack([item[key] for item in items]) if isinstance(items[0][key], torch.Tensor)
                else [item[key] for item in items] for key in items[0]}

    def _uniforms(self, indices: np.ndarray) -> np.ndarray:
        """Four uniform draws per visit ``(4, batch)``: flip, angle, scale, caption."""
        if self.augment_seed is None:
            seed, epoch = int(torch.randint(0, 2**62, ()).item()), 0
        else:
            seed, epoch = self.augment_seed, self.epoch
        return hash_uniform(seed, epoch, indices[None, :], np.arange(4)[:, None])


def _caption_choices(captions, index: int) -> tuple[str, ...]:
    choices = (captions,) if isinstance(captions, str) else tuple(captions) if isinstance(captions, Sequence) else ()
    if not choices or not all(isinstance(c, str) for c in choices):
        raise TypeError(f"PoseTextDataset: the captions of pose {index} must be a str or a non-empty sequence of str, "
                        f"got {captions!r}")
    return choices
