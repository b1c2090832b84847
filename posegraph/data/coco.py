"""COCO keypoints + captions -> the paper's text-pose pairs, cropped and cached.

:func:`load_coco_pairs` reads the user's ``person_keypoints_{train,val}{2014,2017}.json`` and the matching
``captions_*.json`` and keeps, as GUNet (and the text-to-pose work it compares with, Zhang et al. 2020)
does, the images with **exactly one person annotation**, that annotation not a crowd and with **at least
8 keypoints**, together with all of the image's captions.

Which keypoints count: by default the *labelled* ones (``v > 0``), the count COCO itself stores as
``num_keypoints`` and the one Zhang et al.'s code filters on (``num_keypoints`` of the single
annotation); the GUNet paper says "keypoints" without defining it further, so this is our best reading.
``visible_only=True`` counts ``v == 2`` instead.

The crop: a square centred on the person's box ``(x, y, w, h)`` with side ``max(w, h) * margin``
(``margin`` 1.25 by default, the padding of top-down pose estimators such as SimpleBaseline/HRNet), mapped
onto a ``size x size`` heatmap frame whose pixel centres sit at integers (the frame spans
``[-0.5, size - 0.5]``, see ``docs/architecture.md``). COCO keypoints are integer pixel indices, so as in
detectron2 a keypoint at index ``i`` is taken at the continuous coordinate ``i + 0.5``, the frame the box
lives in. Labelled keypoints outside the crop become absent (``v = 0``); absent keypoints are ``(0, 0, 0)``.

The split: an image is in the test part when a stable hash of its id falls below 0.2 (train:test about
4:1), the same on every run and machine and independent of which other images pass the filter. To use
COCO's official split instead, load ``person_keypoints_train*.json`` and ``person_keypoints_val*.json``
each with ``split="all"``.

Processed pairs are cached as ``.npz`` (no pickles) in ``cache_dir`` (default ``~/.cache/posegraph``),
keyed by the SHA-256 of both files' contents and the processing parameters: a second load skips the JSON
parsing, and an edited file is processed again.

Malformed input raises ``ValueError`` naming the file (and the annotation id where there is one):
an empty file, text that is not JSON, missing keys, keypoint lists that are not 17 ``(x, y, v)``
triples, visibilities outside {0, 1, 2}, annotations of images the file does not list, a captions file
none of whose captions belongs to an image of the keypoints file. Counted skips (see
:class:`CocoSummary`): images without a person or with several, crowd annotations, too few keypoints,
boxes without area, captions of images the keypoints file does not list, blank captions, images left
without a caption.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = ["CocoPairs", "CocoSummary", "load_coco_pairs", "crop_squares", "crop_keypoints", "is_test_image",
           "hash_uniform", "DEFAULT_CACHE_DIR", "DEFAULT_MARGIN", "TEST_FRACTION"]

logger = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = Path("~/.cache/posegraph")
DEFAULT_MARGIN = 1.25
TEST_FRACTION = 0.2
NUM_KEYPOINTS = 17
_CACHE_VERSION = 2
_SPLITS = ("train", "test", "all")


# -- stable hashing --------------------------------------------------------------------------------------


def _splitmix64(x: np.ndarray) -> np.ndarray:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def hash_uniform(*keys) -> np.ndarray:
    """Stable hash of integer keys to floats in ``[0, 1)``, the same on every machine and run.

    The keys (integers or integer arrays, broadcast together) are chained through splitmix64, so
    ``hash_uniform(seed, epoch, index)`` is a vectorised, order-independent stream of uniform numbers.

    Returns:
        float64 array of the broadcast shape of the keys.
    """
    arrays = [np.asarray(k, dtype=np.int64) for k in keys]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    h = np.zeros(shape, dtype=np.uint64).reshape(-1)
    with np.errstate(over="ignore"):
        for a in arrays:
            h = _splitmix64(h ^ np.broadcast_to(a, shape).reshape(-1).view(np.uint64))
    return ((h >> np.uint64(11)).astype(np.float64) / float(2**53)).reshape(shape)


def is_test_image(image_ids) -> np.ndarray:
    """Whether each image id belongs to the test part of the 4:1 split, ``(n,)`` bool."""
    return hash_uniform(0x436F636F, image_ids) < TEST_FRACTION


# -- crop math -------------------------------------------------------------------------------------------


def crop_squares(boxes: np.ndarray, margin: float = DEFAULT_MARGIN) -> np.ndarray:
    """The square crops around person boxes.

    Args:
        boxes: ``(n, 4)`` COCO boxes ``(x, y, w, h)`` in continuous image coordinates.
        margin: the crop side is ``max(w, h) * margin``.

    Returns:
        ``(n, 3)`` rows ``(x0, y0, side)``: the crop's top-left corner and side, centred on the box.
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    side = np.maximum(boxes[:, 2], boxes[:, 3]) * margin
    centre = boxes[:, :2] + boxes[:, 2:] / 2
    return np.concatenate([centre - side[:, None] / 2, side[:, None]], axis=1)


def crop_keypoints(keypoints: np.ndarray, crops: np.ndarray, size: int) -> np.ndarray:
    """COCO keypoints in image pixels -> heatmap pixels of their square crop.

    Args:
        keypoints: ``(n, 17, 3)`` COCO rows ``(x, y, v)``; ``x, y`` are pixel indices (centre at ``+ 0.5``).
        crops: ``(n, 3)`` rows ``(x0, y0, side)`` from :func:`crop_squares`.
        size: heatmap side ``S``.

    Returns:
        ``(n, 17, 3)`` float32 keypoints in the ``S x S`` frame (pixel centres at integers). Keypoints
        that were absent or fall outside ``[-0.5, S - 0.5]`` are ``(0, 0, 0)``.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    crops = np.asarray(crops, dtype=np.float64)
    scale = size / crops[:, None, 2:3]
    xy = (keypoints[..., :2] + 0.5 - crops[:, None, :2]) * scale - 0.5
    inside = np.all((xy >= -0.5) & (xy <= size - 0.5), axis=-1)
    present = (keypoints[..., 2] > 0) & inside
    out = np.concatenate([xy, keypoints[..., 2:3]], axis=-1)
    return np.where(present[..., None], out, 0.0).astype(np.float32)


# -- results ---------------------------------------------------------------------------------------------


@dataclass
class CocoSummary:
    """What :func:`load_coco_pairs` kept and skipped (counts over the whole keypoints file)."""

    keypoints_file: str
    captions_file: str
    images: int = 0  #: images listed in the keypoints file
    person_annotations: int = 0
    images_without_person: int = 0
    images_with_several_people: int = 0
    crowd: int = 0  #: single-annotation images whose annotation is a crowd region
    too_few_keypoints: int = 0
    degenerate_box: int = 0  #: box of zero width or height
    captions: int = 0
    captions_for_unknown_images: int = 0
    blank_captions: int = 0
    no_caption: int = 0  #: images that passed the filter but have no caption
    keypoints_outside_crop: int = 0  #: labelled keypoints of kept pairs that left the crop (now v = 0)
    kept: int = 0
    test: int = 0  #: kept pairs in the test part of the 4:1 split

    def __str__(self) -> str:
        skipped = ("images_without_person", "images_with_several_people", "crowd", "too_few_keypoints",
                   "degenerate_box", "no_caption", "captions_for_unknown_images", "blank_captions")
        skips = ", ".join(f"{name.replace('_', ' ')} {getattr(self, name)}" for name in skipped)
        return (f"COCO pairs from {self.keypoints_file} + {self.captions_file}: kept {self.kept} of {self.images} "
                f"images ({self.kept - self.test} train, {self.test} test) from {self.person_annotations} person "
                f"annotations and {self.captions} captions; skipped: {skips}; labelled keypoints outside the "
                f"crop: {self.keypoints_outside_crop}")


@dataclass
class CocoPairs:
    """Text-pose pairs: one person per image, all its captions.

    Attributes:
        keypoints: ``(n, 17, 3)`` float32 COCO-17 ``(x, y, v)`` in heatmap pixels of a ``size`` crop.
        captions: ``n`` lists of the image's captions.
        image_ids, annotation_ids: ``(n,)`` int64.
        crops: ``(n, 3)`` float64 ``(x0, y0, side)`` of each crop in image pixels.
        size: heatmap side.
        summary: the counts of the whole file.
    """

    keypoints: np.ndarray
    captions: list[list[str]]
    image_ids: np.ndarray
    annotation_ids: np.ndarray
    crops: np.ndarray
    size: int
    summary: CocoSummary

    def __len__(self) -> int:
        return len(self.image_ids)

    def select(self, keep: np.ndarray) -> "CocoPairs":
        """The pairs where the boolean ``keep`` ``(n,)`` is true."""
        rows = np.flatnonzero(keep)
        return CocoPairs(self.keypoints[rows], [self.captions[i] for i in rows], self.image_ids[rows],
                         self.annotation_ids[rows], self.crops[rows], self.size, self.summary)

    def split(self, which: str) -> "CocoPairs":
        """``"train"`` (about 4/5), ``"test"`` (about 1/5) or ``"all"``, by image id (see the module)."""
        if which not in _SPLITS:
            raise ValueError(f"CocoPairs.split: split must be one of {_SPLITS}, got {which!r}")
        if which == "all":
            return self
        test = is_test_image(self.image_ids)
        return self.select(test if which == "test" else ~test)


# -- reading ---------------------------------------------------------------------------------------------


def _read_json(path: Path, data: bytes, what: str) -> dict:
    if not data.strip():
        raise ValueError(f"{path}: the file is empty; expected a COCO {what} JSON file")
    try:
        content = json.loads(data)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
                         f"expected a COCO {what} JSON file") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error}); expected a COCO {what} JSON file") from None
    if not isinstance(content, dict):
        raise ValueError(f"{path}: expected a JSON object with 'images' and 'annotations', "
                         f"got a {type(content).__name__}")
    for key in ("images", "annotations"):
        if not isinstance(content.get(key), list):
            raise ValueError(f"{path}: no {key!r} list; is this a COCO {what} file?")
    return content


def _fields(path: Path, record, index: int, keys: tuple[str, ...], kind: str) -> tuple:
    """``record[key]`` for each key, or an error naming the file and the record's id (or position)."""
    if not isinstance(record, dict):
        raise ValueError(f"{path}: {kind} #{index} is a {type(record).__name__}, expected a JSON object")
    missing = [k for k in keys if k not in record]
    if missing:
        name = f"{kind} id {record['id']}" if "id" in record else f"{kind} #{index} (it has no 'id')"
        raise ValueError(f"{path}: {name} has no {', '.join(map(repr, missing))}")
    return tuple(record[k] for k in keys)


def _image_ids(path: Path, content: dict) -> set:
    return {_fields(path, image, i, ("id",), "image")[0] for i, image in enumerate(content["images"])}


def _person_annotations(path: Path, content: dict, images: set):
    """Validated keypoint annotations grouped by image: ``{image_id: [(id, iscrowd, keypoints, bbox), ...]}``."""
    by_image: dict = {}
    for index, ann in enumerate(content["annotations"]):
        ann_id, image_id, crowd, keypoints, bbox = _fields(
            path, ann, index, ("id", "image_id", "iscrowd", "keypoints", "bbox"), "annotation")
        if image_id not in images:
            raise ValueError(f"{path}: annotation id {ann_id} refers to image {image_id}, which the file's "
                             "'images' list does not contain")
        if not isinstance(keypoints, list) or len(keypoints) != 3 * NUM_KEYPOINTS:
            found = len(keypoints) if isinstance(keypoints, list) else type(keypoints).__name__
            raise ValueError(f"{path}: annotation id {ann_id} has 'keypoints' of length {found}; expected "
                             f"{3 * NUM_KEYPOINTS} numbers (x, y, v for the {NUM_KEYPOINTS} COCO keypoints)")
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise ValueError(f"{path}: annotation id {ann_id} has 'bbox' {bbox!r}; expected [x, y, width, height]")
        by_image.setdefault(image_id, []).append((ann_id, crowd, keypoints, bbox))
    return by_image


def _numbers(path: Path, ann_id, values: list, what: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{path}: annotation id {ann_id} has non-numeric {what} {values!r}") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{path}: annotation id {ann_id} has non-finite {what} {values!r}")
    return array


def _process(keypoints_path: Path, keypoints_data: bytes, captions_path: Path, captions_data: bytes,
             size: int, margin: float, min_keypoints: int, visible_only: bool) -> CocoPairs:
    content = _read_json(keypoints_path, keypoints_data, "person keypoints")
    images = _image_ids(keypoints_path, content)
    by_image = _person_annotations(keypoints_path, content, images)
    summary = CocoSummary(str(keypoints_path), str(captions_path), images=len(images),
                          person_annotations=len(content["annotations"]))
    del content

    candidates = []  # (image_id, ann_id, keypoints (17, 3), bbox (4,))
    summary.images_without_person = len(images) - len(by_image)
    for image_id, anns in by_image.items():
        if len(anns) > 1:
            summary.images_with_several_people += 1
            continue
        (ann_id, crowd, keypoints, bbox), = anns
        if crowd:
            summary.crowd += 1
            continue
        keypoints = _numbers(keypoints_path, ann_id, keypoints, "keypoints").reshape(NUM_KEYPOINTS, 3)
        if not np.isin(keypoints[:, 2], (0, 1, 2)).all():
            raise ValueError(f"{keypoints_path}: annotation id {ann_id} has visibilities {keypoints[:, 2].tolist()}; "
                             "COCO visibility is 0 (not labelled), 1 (labelled, occluded) or 2 (visible)")
        counted = keypoints[:, 2] == 2 if visible_only else keypoints[:, 2] > 0
        if counted.sum() < min_keypoints:
            summary.too_few_keypoints += 1
            continue
        bbox = _numbers(keypoints_path, ann_id, bbox, "bbox")
        if bbox[2] <= 0 or bbox[3] <= 0:
            summary.degenerate_box += 1
            continue
        candidates.append((image_id, ann_id, keypoints, bbox))

    captions = _captions(captions_path, captions_data, images, summary)
    with_caption = [c for c in candidates if c[0] in captions]
    summary.no_caption = len(candidates) - len(with_caption)
    with_caption.sort(key=lambda c: c[0])
    n = len(with_caption)
    image_ids = np.array([c[0] for c in with_caption], dtype=np.int64)
    raw = np.array([c[2] for c in with_caption], dtype=np.float64).reshape(n, NUM_KEYPOINTS, 3)
    crops = crop_squares(np.array([c[3] for c in with_caption], dtype=np.float64).reshape(n, 4), margin)
    keypoints = crop_keypoints(raw, crops, size)
    summary.keypoints_outside_crop = int(((raw[..., 2] > 0) & (keypoints[..., 2] == 0)).sum())
    summary.kept = n
    summary.test = int(is_test_image(image_ids).sum())
    return CocoPairs(keypoints, [captions[i] for i in image_ids.tolist()], image_ids,
                     np.array([c[1] for c in with_caption], dtype=np.int64), crops, size, summary)


def _captions(path: Path, data: bytes, images: set, summary: CocoSummary) -> dict:
    """``{image_id: [caption, ...]}`` of the images listed in the keypoints file, whitespace normalised."""
    content = _read_json(path, data, "captions")
    captions: dict = {}
    for index, ann in enumerate(content["annotations"]):
        caption_id, image_id, text = _fields(path, ann, index, ("id", "image_id", "caption"), "caption")
        if not isinstance(text, str):
            raise ValueError(f"{path}: caption id {caption_id} has 'caption' {text!r}; expected a string")
        summary.captions += 1
        if image_id not in images:
            summary.captions_for_unknown_images += 1
            continue
        text = " ".join(text.split())
        if not text:
            summary.blank_captions += 1
            continue
        captions.setdefault(image_id, []).append(text)
    if summary.captions and summary.captions == summary.captions_for_unknown_images:
        raise ValueError(f"{path}: none of its {summary.captions} captions belongs to an image of "
                         f"{summary.keypoints_file}; are the two files from the same split and year?")
    return captions


# -- cache -----------------------------------------------------------------------------------------------


def _save(pairs: CocoPairs, file: Path) -> None:
    counts = np.array([len(c) for c in pairs.captions], dtype=np.int64)
    flat = [text for caps in pairs.captions for text in caps]
    arrays = dict(keypoints=pairs.keypoints, image_ids=pairs.image_ids, annotation_ids=pairs.annotation_ids,
                  crops=pairs.crops, caption_counts=counts,
                  captions=np.frombuffer("\n".join(flat).encode(), dtype=np.uint8),  # normalised: no newlines inside
                  size=np.array(pairs.size), summary=np.array(json.dumps(asdict(pairs.summary))))
    file.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=file.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
        os.replace(temporary, file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _load(file: Path) -> CocoPairs:
    with np.load(file, allow_pickle=False) as z:
        ends = np.cumsum(z["caption_counts"])
        flat = z["captions"].tobytes().decode().split("\n") if z["caption_counts"].sum() else []
        captions = [flat[end - count:end] for end, count in zip(ends.tolist(), z["caption_counts"].tolist())]
        return CocoPairs(z["keypoints"], captions, z["image_ids"], z["annotation_ids"], z["crops"], int(z["size"]),
                         CocoSummary(**json.loads(str(z["summary"]))))


def _read(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; pass the path of a COCO {what} JSON file")
    return path.read_bytes()


def load_coco_pairs(keypoints_file: str | os.PathLike, captions_file: str | os.PathLike, size: int = 64,
                    split: str = "train", margin: float = DEFAULT_MARGIN, min_keypoints: int = 8,
                    visible_only: bool = False, cache_dir: str | os.PathLike | None = None,
                    use_cache: bool = True) -> CocoPairs:
    """The paper's COCO text-pose pairs (see the module for the filter, crop, split and cache).

    Args:
        keypoints_file: a ``person_keypoints_*.json``.
        captions_file: the ``captions_*.json`` of the same split and year.
        size: heatmap side ``S`` the keypoints are expressed in.
        split: ``"train"``, ``"test"`` (the stable 4:1 split by image id) or ``"all"``.
        margin: crop side over the box's longer side.
        min_keypoints: fewest keypoints the single annotation must have.
        visible_only: count only visible keypoints (``v == 2``) rather than labelled ones (``v > 0``).
        cache_dir: where processed pairs are cached (default ``~/.cache/posegraph``).
        use_cache: read and write the cache.

    Returns:
        :class:`CocoPairs` of the split; its ``summary`` counts the whole file (also logged at INFO).
    """
    if split not in _SPLITS:
        raise ValueError(f"load_coco_pairs: split must be one of {_SPLITS}, got {split!r}")
    if size < 3 or margin <= 0 or min_keypoints < 0:
        raise ValueError(f"load_coco_pairs: need size >= 3, margin > 0 and min_keypoints >= 0, got size={size}, "
                         f"margin={margin}, min_keypoints={min_keypoints}")
    keypoints_path, captions_path = Path(keypoints_file), Path(captions_file)
    keypoints_data = _read(keypoints_path, "person keypoints")
    captions_data = _read(captions_path, "captions")
    params = dict(version=_CACHE_VERSION, size=size, margin=margin, min_keypoints=min_keypoints,
                  visible_only=visible_only)
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode())
    for data in (keypoints_data, captions_data):
        digest.update(hashlib.sha256(data).digest())
    cache_file = Path(cache_dir or DEFAULT_CACHE_DIR).expanduser() / f"coco_pairs_{digest.hexdigest()[:32]}.npz"

    pairs = None
    if use_cache and cache_file.is_file():
        try:
            pairs = _load(cache_file)
            logger.info("COCO pairs read from the cache %s", cache_file)
        except (OSError, ValueError, KeyError, TypeError) as error:
            logger.warning("ignoring the unreadable COCO cache file %s (%s); processing the JSON again",
                           cache_file, error)
    if pairs is None:
        pairs = _process(keypoints_path, keypoints_data, captions_path, captions_data, size, margin,
                         min_keypoints, visible_only)
        if use_cache:
            _save(pairs, cache_file)
    # The summary names the files as given this time, wherever the cache was written from.
    pairs.summary.keypoints_file, pairs.summary.captions_file = str(keypoints_path), str(captions_path)
    logger.info("%s", pairs.summary)
    return pairs.split(split)
