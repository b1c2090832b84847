"""Several people on one canvas: one prompt and one box each, drawn into one ControlNet image and one file.

    >>> scene = compose_people(pipe, ["a man waving his right hand", "a woman sitting"], canvas_size=(512, 1024))
    >>> save_png(scene.draw(), "scene.png")                 # one OpenPose-18 image, both people
    >>> scene.write_openpose_json("scene.json")             # one file, one ``people`` entry each
    >>> scene.write_coco_keypoints("scene_coco.json")       # one COCO result per person

Each person is drawn by the pipeline in its own square frame, which is scaled to fit the person's box and
centred in it (:mod:`posegraph.pipelines.control`); without boxes the canvas is cut into equal columns,
side by side. A person may keep joints of a given pose (``keypoints=`` in canvas pixels, ``keep=``), as
:meth:`PoseGraphPipeline.__call__ <posegraph.pipelines.PoseGraphPipeline.__call__>` does for one.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from posegraph.io import write_coco_keypoints, write_openpose_json
from posegraph.pipelines.control import as_float_tensor, check_box, check_keypoints, frame_to_box, keep_mask
from posegraph.render import draw_openpose
from posegraph.skeleton import COCO_17, Skeleton

__all__ = ["Scene", "compose_people", "side_by_side_boxes"]

_SEED_RANGE = 2**62


@dataclass
class Scene:
    """People on one canvas.

    Attributes:
        keypoints: ``(people, K, 3)`` float32 rows ``(x, y, v)`` of ``skeleton``'s joints in canvas pixels.
        confidence: ``(people, K)`` each joint's heatmap peak.
        prompts: each person's prompt.
        boxes: each person's box ``(x, y, width, height)`` in canvas pixels.
        seeds: each person's seed (``pipe(prompts[i], generator=seeds[i])`` draws that pose in its own frame).
        height, width: the canvas.
        skeleton: the poses' layout (the pipeline's; COCO-17 by default).
    """

    keypoints: torch.Tensor
    confidence: torch.Tensor
    prompts: list[str]
    boxes: list[tuple[float, float, float, float]]
    seeds: list[int]
    height: int
    width: int
    skeleton: Skeleton = COCO_17

    def draw(self, out_size: int | tuple[int, int] | None = None) -> np.ndarray:
        """The ControlNet OpenPose image of every person, ``(height, width, 3)`` uint8 (or ``out_size``)."""
        return draw_openpose(self.keypoints, (self.height, self.width),
                             (self.height, self.width) if out_size is None else out_size, skeleton=self.skeleton)

    def write_openpose_json(self, path) -> Path:
        """One OpenPose JSON file with one ``people`` entry per person (canvas size written)."""
        return write_openpose_json(path, self.keypoints, (self.height, self.width), confidence=self.confidence,
                                   skeleton=self.skeleton)

    def write_coco_keypoints(self, path, image_id=0) -> Path:
        """A COCO keypoint-results JSON file: one record per person, all of image ``image_id``; the score is the
        person's mean joint confidence."""
        return write_coco_keypoints(path, self.keypoints, [image_id] * len(self.prompts), (self.height, self.width),
                                    scores=self.confidence.mean(-1), skeleton=self.skeleton)


def side_by_side_boxes(num_people: int, height: int, width: int) -> list[tuple[float, float, float, float]]:
    """The canvas cut into ``num_people`` equal columns, left to right, each the full height."""
    if isinstance(num_people, bool) or not isinstance(num_people, int) or num_people < 1:
        raise ValueError(f"side_by_side_boxes: num_people must be a positive integer, got {num_people!r}")
    column = width / num_people
    return [(i * column, 0.0, column, float(height)) for i in range(num_people)]


def _check_overlaps(boxes) -> None:
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            (xa, ya, wa, ha), (xb, yb, wb, hb) = boxes[i], boxes[j]
            if min(xa + wa, xb + wb) > max(xa, xb) and min(ya + ha, yb + hb) > max(ya, yb):
                raise ValueError(f"boxes: box {i} {boxes[i]} and box {j} {boxes[j]} overlap, so their skeletons would "
                                 "be drawn over each other; move them apart or pass allow_overlap=True")


def _per_person(value, num_people: int, name: str) -> list:
    """``keypoints``: ``None`` or one entry per person (a list, or a ``(people, K, 3)`` array). ``keep``:
    a list of one entry per person (unless it is a boolean mask), else one value for everyone."""
    if isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim == 3:
        value = list(value)
    if name == "keypoints":
        if value is None:
            return [None] * num_people
        if not isinstance(value, (list, tuple)) or len(value) != num_people:
            raise ValueError(f"keypoints must hold one pose (K, 3) or None per person ({num_people}), got "
                             f"{len(value) if isinstance(value, (list, tuple)) else type(value).__name__}")
        return list(value)
    if isinstance(value, (list, tuple)) and len(value) == num_people and \
            not all(isinstance(v, (bool, np.bool_)) for v in value):
        return list(value)
    return [value] * num_people


def _seeds(generator, num_people: int) -> list[int]:
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return [int(generator) + i for i in range(num_people)]
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be an int seed, a torch.Generator or None, got {type(generator).__name__}")
    device = generator.device if generator is not None else "cpu"
    return torch.randint(_SEED_RANGE, (num_people,), generator=generator, device=device).tolist()


def compose_people(
    pipe,
    prompts: Sequence[str],
    boxes: Sequence[Sequence[float]] | None = None,
    *,
    canvas_size: int | tuple[int, int] = 512,
    keypoints=None,
    keep=None,
    allow_overlap: bool = False,
    generator: torch.Generator | int | None = None,
    **pipe_kwargs,
) -> Scene:
    """Draw one pose per prompt, each in its box, on one canvas.

    Args:
        pipe: a :class:`~posegraph.pipelines.PoseGraphPipeline`.
        prompts: one prompt per person.
        boxes: one box ``(x, y, width, height)`` per person in canvas pixels (the box covers pixels
            ``x .. x + width - 1``), inside the canvas; ``None`` puts the people side by side
            (:func:`side_by_side_boxes`). The pose's square frame fits the box's shorter side.
        canvas_size: the canvas side, or ``(height, width)``.
        keypoints: one entry per person (a list, or a ``(people, K, 3)`` array): ``None`` or a ``(K, 3)``
            pose of the pipeline's skeleton in canvas pixels, inside the person's box, whose ``keep`` joints to hold.
        keep: the joints to keep (as the pipeline's ``keep=``; default the joints ``keypoints`` marks
            present): one value for everyone, or a list of one per person (``["legs", "arms"]``: person 0
            keeps the legs, person 1 the arms; several parts for everyone: ``"legs,head"``).
        allow_overlap: accept boxes that overlap (their skeletons may then cross).
        generator: an int seed (person ``i`` uses ``seed + i``), a ``torch.Generator`` or ``None``.
        **pipe_kwargs: passed on to the pipeline (``scheduler``, ``num_inference_steps``, ``guidance_scale``,
            ``negative_prompt``, ...).

    Returns:
        :class:`Scene`.

    Raises:
        ValueError: no prompts, a box count that does not match, a box outside the canvas, overlapping boxes
            (unless allowed), kept keypoints outside their box; the message names the argument.
    """
    if isinstance(prompts, str):
        prompts = [prompts]
    prompts = list(prompts)
    if not prompts or not all(isinstance(p, str) for p in prompts):
        raise ValueError(f"prompts must be a non-empty list of strings (one per person), got {prompts!r}")
    for reserved in ("num_poses_per_prompt", "canvas_size", "init_keypoints", "strength", "return_dict"):
        if reserved in pipe_kwargs:
            raise TypeError(f"compose_people: {reserved} is not accepted here (one pose per person per call)")
    height, width = (canvas_size, canvas_size) if isinstance(canvas_size, int) else tuple(canvas_size)
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (height, width)):
        raise ValueError(f"canvas_size must be a positive int or (height, width), got {canvas_size!r}")
    if boxes is None:
        boxes = side_by_side_boxes(len(prompts), height, width)
    elif len(boxes) != len(prompts):
        raise ValueError(f"boxes: got {len(boxes)} boxes for {len(prompts)} prompts; give one per person or None")
    boxes = [check_box(box, height, width, name=f"boxes[{i}]") for i, box in enumerate(boxes)]
    if not allow_overlap:
        _check_overlaps(boxes)
    people_keypoints = _per_person(keypoints, len(prompts), "keypoints")
    people_keep = _per_person(keep, len(prompts), "keep")
    size, skeleton = pipe.unet.config.sample_size, pipe.skeleton
    seeds = _seeds(generator, len(prompts))

    poses, confidence = [], []
    for i, (prompt, box, given, kept, seed) in enumerate(zip(prompts, boxes, people_keypoints, people_keep, seeds)):
        frame = None
        if given is not None:
            frame = check_keypoints(given, f"keypoints[{i}]", 1, size, height, width, box=box, skeleton=skeleton)[0]
            frame[..., :2] = frame[..., :2].clamp(-0.5, size - 0.5)  # rounding at the frame's edge
        elif kept is not None:
            raise ValueError(f"keep is set for person {i} but keypoints[{i}] is None; give the pose to keep")
        out = pipe(prompt, canvas_size=size, keypoints=frame, keep=kept if frame is not None else None,
                   generator=seed, return_heatmaps=False, **pipe_kwargs)
        pose = frame_to_box(out.keypoints[0], size, box)
        if frame is not None:  # kept joints exactly as given
            mask = keep_mask(kept, skeleton=skeleton) if kept is not None else frame[:, 2] > 0
            pose = torch.where(mask[:, None], as_float_tensor(given).reshape(skeleton.num_joints, 3), pose)
        poses.append(pose)
        confidence.append(out.confidence[0])
    keypoints_out = torch.stack(poses)
    keypoints_out = torch.where(keypoints_out[..., 2:] > 0, keypoints_out, torch.zeros_like(keypoints_out))
    return Scene(keypoints_out, torch.stack(confidence), prompts, boxes, seeds, height, width, skeleton)
