"""Pose files: OpenPose JSON and COCO keypoint-results JSON, written from and read back to a skeleton layout.

Every function takes the poses' layout as ``skeleton`` (default COCO-17; a pipeline's is ``pipeline.skeleton``).

* **OpenPose JSON** (what OpenPose writes and ControlNet pose editors read)::

      {"version": 1.3, "canvas_width": W, "canvas_height": H,
       "people": [{"person_id": [-1], "pose_keypoints_2d": [x, y, c] * 18, ...}]}

  in the OpenPose-18 joint order, converted by joint name; a neck the layout lacks is derived from the
  shoulders (:func:`posegraph.skeleton.convert_keypoints`). Absent joints are ``0, 0, 0``. A layout without the
  OpenPose joints has no OpenPose form: write COCO keypoint results for it.
* **COCO keypoint results**: a list of ``{"image_id", "category_id": 1, "keypoints": [x, y, v] * K,
  "score"}``, the format COCO's keypoint evaluation reads (``K`` = 17 for COCO-17).

Keypoints inside posegraph live in a frame (e.g. the 64 x 64 heatmap pixels); files hold pixels of an
image canvas. Writers stretch the frame onto the canvas and readers map back, keeping pixel centres
aligned: ``x_canvas = (x + 0.5) * canvas_width / frame_width - 0.5`` (and the same for ``y``).
Absent joints are not moved. Coordinates are written rounded to 1/1000 pixel.

Readers return torch tensors and raise ``ValueError`` naming the file, the record and what is wrong
for any malformed content.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import torch

from posegraph.skeleton import COCO_17, OPENPOSE_18, Skeleton, convert_keypoints, missing_joints

__all__ = [
    "write_openpose_json",
    "read_openpose_json",
    "write_coco_keypoints",
    "read_coco_keypoints",
    "CocoKeypoints",
]

_DECIMALS = 3


class CocoKeypoints(NamedTuple):
    """The content of a COCO keypoint-results file."""

    keypoints: torch.Tensor  #: ``(N, K, 3)``
    image_ids: list  #: ``N`` image ids, as stored
    scores: torch.Tensor  #: ``(N,)``


# --- shared helpers --------------------------------------------------------------------------------


def _sizes(size, what: str) -> np.ndarray:
    """``S``, ``(height, width)`` or per-record ``(N, 2)`` sizes -> ``(width, height)`` array ``(..., 1, 2)``."""
    hw = np.asarray(size, dtype=np.float64)
    hw = np.stack([hw, hw], axis=-1) if hw.ndim == 0 else hw
    if hw.shape[-1] != 2 or hw.ndim > 2 or (hw <= 0).any():
        raise ValueError(f"{what} must be a positive S, (height, width) or per-record (N, 2) sizes, got {size!r}")
    return hw[..., None, ::-1]


def _rescale(keypoints: np.ndarray, src, dst, what: str) -> np.ndarray:
    """Map present joints' ``(x, y)`` from a ``src``-sized frame to a ``dst``-sized one (pixel centres kept)."""
    out = keypoints.copy()
    scaled = (keypoints[..., :2] + 0.5) * _sizes(dst, what) / _sizes(src, what) - 0.5
    out[..., :2] = np.where(keypoints[..., 2:] > 0, scaled, keypoints[..., :2])
    return out


def _poses(keypoints, what: str, skeleton: Skeleton) -> np.ndarray:
    """Poses ``(K, 3)`` or ``(N, K, 3)`` of ``skeleton`` (torch or numpy) -> float64 ``(N, K, 3)``."""
    kp = torch.as_tensor(keypoints).detach().cpu().double().numpy()
    k = skeleton.num_joints
    if kp.shape[-2:] != (k, 3) or kp.ndim not in (2, 3):
        raise ValueError(f"{what}: expected {skeleton.name} keypoints ({k}, 3) or (N, {k}, 3), got shape {kp.shape}")
    return kp.reshape(-1, k, 3)


def _write_json(path, content) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    return path


def _read_json(path, expected: str):
    text = Path(path).read_text()
    if not text.strip():
        raise ValueError(f"{path}: the file is empty; expected {expected}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); expected {expected}") from None


def _field(record, key: str, path, where: str):
    if not isinstance(record, dict):
        raise ValueError(f"{path}: {where} must be a JSON object, got {type(record).__name__}")
    if key not in record:
        raise ValueError(f"{path}: {where} has no {key!r} (keys: {sorted(record)})")
    return record[key]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(values, length: int, path, where: str, layout: str) -> list:
    if not isinstance(values, list):
        raise ValueError(f"{path}: {where} must be a list of {length} numbers ({layout}), got {type(values).__name__}")
    if len(values) != length:
        raise ValueError(f"{path}: {where} has {len(values)} values, expected {length} ({layout})")
    bad = next((i for i, v in enumerate(values) if not _is_number(v)), None)
    if bad is not None:
        raise ValueError(f"{path}: {where}[{bad}] is {values[bad]!r}, not a number")
    return values


def _rounded(values: np.ndarray) -> list:
    return np.round(values, _DECIMALS).reshape(-1).tolist()


# --- OpenPose JSON ---------------------------------------------------------------------------------


def write_openpose_json(path, keypoints, frame_size, canvas_size=None, confidence=None,
                        skeleton: Skeleton = COCO_17) -> Path:
    """Write poses as one OpenPose JSON file (OpenPose-18 joints; a neck the layout lacks is derived).

    Args:
        path: the ``.json`` file to write (parent folders are created).
        keypoints: ``(K, 3)`` or ``(people, K, 3)`` rows ``(x, y, v)`` in the frame's pixels.
        frame_size: the keypoints' frame, ``S`` or ``(height, width)``.
        canvas_size: the image canvas written to the file, ``S`` or ``(height, width)``; default the frame.
        confidence: per-joint confidence ``(K,)`` or ``(people, K)`` written as ``c``; default 1 for
            every joint with ``v > 0``. A derived neck gets the lower of the two shoulders' confidences.
        skeleton: the poses' layout (default COCO-17); it must hold the OpenPose-18 joints (the neck aside).

    Returns:
        the written path.

    Raises:
        ValueError: ``skeleton`` has no OpenPose form (the message names the joints it lacks).
    """
    missing = missing_joints(skeleton, OPENPOSE_18)
    if missing:
        raise ValueError(f"write_openpose_json: OpenPose JSON holds the 18 OpenPose body joints and the "
                         f"{skeleton.name} layout has no {', '.join(missing)}; write its poses as COCO keypoint "
                         "results (write_coco_keypoints) instead")
    kp = _poses(keypoints, "write_openpose_json", skeleton)
    canvas = np.asarray(frame_size if canvas_size is None else canvas_size)
    canvas = np.stack([canvas, canvas]) if canvas.ndim == 0 else canvas
    if canvas.shape != (2,) or (canvas <= 0).any():
        raise ValueError(f"write_openpose_json: canvas_size must be a positive S or (height, width), got {canvas.tolist()}")
    height, width = canvas.tolist()
    kp = _rescale(kp, frame_size, canvas, "write_openpose_json: frame_size")
    present = kp[..., 2] > 0
    conf = np.ones(kp.shape[:2]) if confidence is None else torch.as_tensor(confidence).double().numpy()
    if conf.shape not in ((skeleton.num_joints,), present.shape):
        raise ValueError(f"write_openpose_json: confidence must have shape ({skeleton.num_joints},) or "
                         f"{present.shape}, got {conf.shape}")
    conf = np.where(present, conf, 0.0)

    op = convert_keypoints(kp, skeleton, OPENPOSE_18)  # (people, 18, 3)
    op_conf = conf[:, [skeleton.index(n) if n in skeleton.names else 0 for n in OPENPOSE_18.names]]
    if "neck" not in skeleton.names:
        shoulders = [skeleton.index("left_shoulder"), skeleton.index("right_shoulder")]
        op_conf[:, OPENPOSE_18.index("neck")] = conf[:, shoulders].min(axis=1)
    op_conf = np.where(op[..., 2] > 0, op_conf, 0.0)
    xy = np.where(op_conf[..., None] > 0, op[..., :2], 0.0)
    people = [
        {
            "person_id": [-1],
            "pose_keypoints_2d": _rounded(np.concatenate([xy_p, c_p[:, None]], axis=1)),
            "face_keypoints_2d": [],
            "hand_left_keypoints_2d": [],
            "hand_right_keypoints_2d": [],
        }
        for xy_p, c_p in zip(xy, op_conf)
    ]
    content = {"version": 1.3, "people": people, "canvas_width": width, "canvas_height": height}
    return _write_json(path, content)


def read_openpose_json(path, frame_size=None, return_confidence: bool = False, skeleton: Skeleton = COCO_17):
    """Read an OpenPose JSON file (18-joint body) back to keypoints of ``skeleton`` (default COCO-17).

    Joints with ``c > 0`` get ``v = 2``, the others ``(0, 0, 0)``; OpenPose joints the layout does not have
    (for COCO-17: the neck) are dropped.

    Args:
        path: the file.
        frame_size: map the keypoints into a frame of this size (``S`` or ``(height, width)``), which
            needs the file's ``canvas_width`` / ``canvas_height``; default: keep the file's pixels.
        return_confidence: also return each joint's ``c``, ``(people, K)``.
        skeleton: the layout to read into; its joints must be OpenPose joints.

    Returns:
        keypoints ``(people, K, 3)`` float32 (``(0, K, 3)`` when nobody is in the file), and the
        confidence if asked.
    """
    expected = 'an OpenPose JSON object {"people": [{"pose_keypoints_2d": [...]}], ...}'
    content = _read_json(path, expected)
    if not isinstance(content, dict):
        raise ValueError(f"{path}: expected {expected}, got a JSON {type(content).__name__}")
    people = _field(content, "people", path, "the top-level object")
    if not isinstance(people, list):
        raise ValueError(f"{path}: 'people' must be a list, got {type(people).__name__}")
    layout = "18 OpenPose joints x (x, y, c); BODY_25 and other layouts are not supported"
    rows = [
        _numbers(_field(person, "pose_keypoints_2d", path, f"people[{i}]"), 54, path, f"people[{i}].pose_keypoints_2d", layout)
        for i, person in enumerate(people)
    ]
    op = np.array(rows, dtype=np.float64).reshape(-1, 18, 3)
    conf = op[..., 2].copy()
    op[..., 2] = np.where(conf > 0, 2.0, 0.0)
    op[..., :2] = np.where(conf[..., None] > 0, op[..., :2], 0.0)
    kp = convert_keypoints(op, OPENPOSE_18, skeleton)
    conf = conf[:, [OPENPOSE_18.index(name) for name in skeleton.names]]

    if frame_size is not None:
        canvas = [_field(content, key, path, "the top-level object") for key in ("canvas_height", "canvas_width")]
        if not all(_is_number(c) and c > 0 for c in canvas):
            raise ValueError(f"{path}: canvas_height and canvas_width must be positive numbers, got {canvas}")
        kp = _rescale(kp, canvas, frame_size, "read_openpose_json: frame_size")
    keypoints = torch.as_tensor(kp, dtype=torch.float32)
    return (keypoints, torch.as_tensor(conf, dtype=torch.float32)) if return_confidence else keypoints


# --- COCO keypoint results -------------------------------------------------------------------------


def write_coco_keypoints(path, keypoints, image_ids: Sequence, frame_size, canvas_size=None, scores=None,
                         skeleton: Skeleton = COCO_17) -> Path:
    """Write poses as a COCO keypoint-results JSON file (one record per pose, ``category_id`` 1).

    Args:
        path: the ``.json`` file to write (parent folders are created).
        keypoints: ``(N, K, 3)`` (or ``(K, 3)``) rows ``(x, y, v)`` of ``skeleton``'s joints in the frame's pixels.
        image_ids: ``N`` COCO image ids, one per pose.
        frame_size: the keypoints' frame, ``S`` or ``(height, width)``.
        canvas_size: the images' sizes, ``S``, ``(height, width)`` or per pose ``(N, 2)``; default the frame.
        scores: ``(N,)`` pose scores; default 1.
        skeleton: the poses' layout (default COCO-17); a record holds ``3 K`` numbers.

    Returns:
        the written path.
    """
    kp = _poses(keypoints, "write_coco_keypoints", skeleton)
    n = len(kp)
    if len(image_ids) != n:
        raise ValueError(f"write_coco_keypoints: got {len(image_ids)} image_ids for {n} poses; give one per pose")
    scores = np.ones(n) if scores is None else torch.as_tensor(scores).double().numpy().reshape(-1)
    if len(scores) != n:
        raise ValueError(f"write_coco_keypoints: got {len(scores)} scores for {n} poses; give one per pose")
    canvas = frame_size if canvas_size is None else canvas_size
    kp = _rescale(kp, frame_size, canvas, "write_coco_keypoints: frame_size and canvas_size")
    kp[..., :2] = np.where(kp[..., 2:] > 0, kp[..., :2], 0.0)
    records = [
        {"image_id": image_id, "category_id": 1, "keypoints": _rounded(pose), "score": round(float(score), 6)}
        for image_id, pose, score in zip(image_ids, kp, scores)
    ]
    return _write_json(path, records)


def read_coco_keypoints(path, frame_size=None, canvas_size=None, skeleton: Skeleton = COCO_17) -> CocoKeypoints:
    """Read a COCO keypoint-results JSON file.

    Args:
        path: the file.
        frame_size: map the keypoints into a frame of this size (``S`` or ``(height, width)``); needs
            ``canvas_size``. Default: keep the file's pixels.
        canvas_size: the images' sizes, ``S``, ``(height, width)`` or per record ``(N, 2)``.
        skeleton: the poses' layout (default COCO-17): a record holds ``3 K`` numbers.

    Returns:
        :class:`CocoKeypoints` ``(keypoints (N, K, 3) float32, image_ids, scores (N,))``.
    """
    k = skeleton.num_joints
    expected = f'a JSON list of {{"image_id", "category_id": 1, "keypoints": [x, y, v] * {k}, "score"}}'
    records = _read_json(path, expected)
    if not isinstance(records, list):
        raise ValueError(f"{path}: expected {expected}, got a JSON {type(records).__name__}")
    if not records:
        raise ValueError(f"{path}: the list holds no records; expected {expected}")
    rows, image_ids, scores = [], [], []
    for i, record in enumerate(records):
        where = f"record {i}"
        image_ids.append(_field(record, "image_id", path, where))
        category = record.get("category_id", 1)
        if category != 1:
            raise ValueError(f"{path}: {where} has category_id {category!r}; keypoint results are people (category_id 1)")
        rows.append(_numbers(_field(record, "keypoints", path, where), 3 * k, path, f"{where} 'keypoints'",
                             f"{k} {skeleton.name} joints x (x, y, v)"))
        score = _field(record, "score", path, where)
        if not _is_number(score):
            raise ValueError(f"{path}: {where} 'score' is {score!r}, not a number")
        scores.append(score)

    kp = np.array(rows, dtype=np.float64).reshape(-1, k, 3)
    if frame_size is not None:
        if canvas_size is None:
            raise ValueError(f"read_coco_keypoints({path}): frame_size needs canvas_size, the images' (height, width)")
        kp = _rescale(kp, canvas_size, frame_size, "read_coco_keypoints: frame_size and canvas_size")
    return CocoKeypoints(torch.as_tensor(kp, dtype=torch.float32), image_ids, torch.tensor(scores, dtype=torch.float32))
