"""COCO loader: the paper's filter on hand-made files (exact counts), split, crop math, cache, errors."""
import json
import logging

import numpy as np
import pytest

from posegraph.data import coco
from posegraph.data.coco import crop_keypoints, crop_squares, hash_uniform, is_test_image, load_coco_pairs


def person(ann_id, image_id, labelled=17, visible=None, bbox=(100, 50, 40, 80), crowd=0):
    """A person annotation: ``labelled`` keypoints with v > 0, the first ``visible`` of them v = 2 (rest v = 1)."""
    visible = labelled if visible is None else visible
    keypoints = []
    for k in range(17):
        v = 2 if k < visible else 1 if k < labelled else 0
        keypoints += [bbox[0] + 2 * k, bbox[1] + 4 * k, v] if v else [0, 0, 0]
    return {"id": ann_id, "image_id": image_id, "iscrowd": crowd, "keypoints": keypoints, "bbox": list(bbox),
            "num_keypoints": labelled, "category_id": 1, "area": bbox[2] * bbox[3]}


def caption(caption_id, image_id, text):
    return {"id": caption_id, "image_id": image_id, "caption": text}


def write(folder, annotations, captions, images=range(1, 11), name="train2017"):
    listed = [{"id": i, "file_name": f"{i:012d}.jpg", "width": 640, "height": 480} for i in images]
    keypoints_file = folder / f"person_keypoints_{name}.json"
    captions_file = folder / f"captions_{name}.json"
    keypoints_file.write_text(json.dumps({"images": listed, "annotations": annotations, "categories": []}))
    captions_file.write_text(json.dumps({"images": listed, "annotations": captions}))
    return keypoints_file, captions_file


def fixture_annotations():
    """Ten images, one per case of the filter."""
    annotations = [
        person(101, 1),                            # kept: 17 visible keypoints
        person(102, 2, labelled=8, visible=5),     # kept when labelled keypoints count, not when only visible do
        person(103, 3, labelled=7),                # too few keypoints
        person(104, 4), person(105, 4),            # two people
        person(106, 5, crowd=1),                   # a crowd region
        # image 6: nobody
        person(107, 7),                            # passes the filter but has no caption
        person(108, 8, bbox=(10, 10, 0, 30)),      # a box without area
        person(109, 9), person(110, 9, labelled=0),  # a second, unlabelled person still makes two people
        person(111, 10, labelled=8),               # kept: exactly 8 keypoints
    ]
    captions = [
        caption(1, 1, "A man  riding a\nwave on top of a surfboard. "),
        caption(2, 1, "A surfer on his left side."),
        caption(3, 1, "   "),
        caption(4, 2, "A woman swinging a tennis racket."),
        caption(5, 3, "A person sitting."),
        caption(6, 4, "Two people."),
        caption(7, 999, "An image the keypoints file does not list."),
        caption(8, 10, "A man throwing a frisbee."),
        caption(9, 8, "A man."),
    ]
    return annotations, captions


@pytest.fixture
def files(tmp_path):
    return write(tmp_path, *fixture_annotations())


def test_the_filter_keeps_single_people_with_at_least_8_labelled_keypoints(files, tmp_path):
    pairs = load_coco_pairs(*files, split="all", cache_dir=tmp_path / "cache")
    assert pairs.image_ids.tolist() == [1, 2, 10] and pairs.annotation_ids.tolist() == [101, 102, 111]
    assert pairs.captions == [["A man riding a wave on top of a surfboard.", "A surfer on his left side."],
                              ["A woman swinging a tennis racket."], ["A man throwing a frisbee."]]
    assert pairs.keypoints.shape == (3, 17, 3) and pairs.keypoints.dtype == np.float32
    s = pairs.summary
    counts = dict(images=10, person_annotations=11, images_without_person=1, images_with_several_people=2, crowd=1,
                  too_few_keypoints=1, degenerate_box=1, captions=9, captions_for_unknown_images=1, blank_captions=1,
                  no_caption=1, keypoints_outside_crop=0, kept=3)
    assert {k: getattr(s, k) for k in counts} == counts
    assert s.keypoints_file == str(files[0]) and "kept 3 of 10 images" in str(s)


def test_visible_only_counts_v_equal_2(files, tmp_path):
    pairs = load_coco_pairs(*files, split="all", visible_only=True, cache_dir=tmp_path / "cache")
    assert pairs.image_ids.tolist() == [1, 10] and pairs.summary.too_few_keypoints == 2
    fewer = load_coco_pairs(*files, split="all", min_keypoints=17, cache_dir=tmp_path / "cache")
    assert fewer.image_ids.tolist() == [1] and fewer.summary.too_few_keypoints == 3


def test_the_summary_is_logged(files, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="posegraph.data.coco"):
        load_coco_pairs(*files, cache_dir=tmp_path / "cache")
    assert any("kept 3 of 10 images" in record.getMessage() for record in caplog.records)


# -- crop math ---------------------------------------------------------------------------------------------


def test_the_crop_is_a_square_centred_on_the_box_with_the_margin():
    crops = crop_squares(np.array([[10.0, 20.0, 40.0, 80.0], [0.0, 0.0, 30.0, 10.0]]), margin=1.25)
    np.testing.assert_allclose(crops, [[-20.0, 10.0, 100.0], [-3.75, -13.75, 37.5]])


def test_keypoints_map_to_heatmap_pixels_of_the_crop():
    crops = crop_squares(np.array([[10.0, 20.0, 40.0, 80.0]]), margin=1.25)  # x0=-20, y0=10, side 100
    keypoints = np.zeros((1, 17, 3))
    keypoints[0, 0] = [29.5, 59.5, 2]    # pixel index -> continuous (30, 60): the box centre
    keypoints[0, 1] = [-20.5, 9.5, 1]    # continuous (-20, 10): the crop's top-left corner
    keypoints[0, 2] = [79.0, 109.0, 2]   # continuous (79.5, 109.5): just inside the bottom-right corner
    keypoints[0, 3] = [80.0, 50.0, 2]    # continuous x 80.5 > -20 + 100: outside
    keypoints[0, 4] = [40.0, 40.0, 0]    # not labelled
    out = crop_keypoints(keypoints, crops, size=64)
    np.testing.assert_allclose(out[0, :5], [[31.5, 31.5, 2], [-0.5, -0.5, 1], [63.18, 63.18, 2], [0, 0, 0], [0, 0, 0]],
                               atol=1e-5)
    assert np.all(out[0, 5:] == 0)


def test_loaded_keypoints_use_the_crop_math_and_drop_keypoints_outside_the_crop(tmp_path):
    inside = person(1, 1, bbox=(100, 50, 40, 80))
    outside = person(2, 2, bbox=(0, 0, 10, 10))  # keypoints reach y = 64, far below a 12.5 px crop
    files = write(tmp_path, [inside, outside], [caption(1, 1, "a"), caption(2, 2, "b")], images=[1, 2])
    pairs = load_coco_pairs(*files, size=32, split="all", margin=1.0, cache_dir=tmp_path / "cache")
    raw = np.array(inside["keypoints"], dtype=float).reshape(1, 17, 3)
    expected = crop_keypoints(raw, crop_squares(np.array([[100, 50, 40, 80]]), 1.0), 32)
    np.testing.assert_array_equal(pairs.keypoints[0], expected[0])
    np.testing.assert_allclose(pairs.crops[0], [80, 50, 80])
    assert (pairs.keypoints[1, :, 2] > 0).tolist() == [True] * 3 + [False] * 14  # y = 4k + 0.5 <= 10 stays
    assert pairs.summary.keypoints_outside_crop == 14


# -- split -------------------------------------------------------------------------------------------------


def test_the_split_is_a_stable_hash_of_the_image_id():
    ids = np.arange(20_000)
    test = is_test_image(ids)
    assert abs(test.mean() - 0.2) < 0.01
    # The same on every run and machine: a golden list, and the answer does not depend on the other ids.
    assert np.flatnonzero(test[:40]).tolist() == np.flatnonzero(is_test_image(np.arange(40))).tolist()
    assert is_test_image(np.array([7, 3, 7]))[[0, 2]].tolist() == [bool(test[7])] * 2
    np.testing.assert_allclose(hash_uniform(0x436F636F, np.arange(4)),
                               [0.26561478, 0.97725723, 0.8804203, 0.61550636], atol=1e-8)
    np.testing.assert_allclose(hash_uniform(1, 2, 3), 0.814259011529328, atol=1e-12)


def test_train_and_test_partition_the_pairs_4_to_1(tmp_path):
    images = range(1, 201)
    files = write(tmp_path, [person(i, i) for i in images], [caption(i, i, f"caption {i}") for i in images],
                  images=images)
    everything = load_coco_pairs(*files, split="all", cache_dir=tmp_path / "cache")
    train = load_coco_pairs(*files, split="train", cache_dir=tmp_path / "cache")
    test = load_coco_pairs(*files, split="test", cache_dir=tmp_path / "cache")
    assert sorted(train.image_ids.tolist() + test.image_ids.tolist()) == list(images)
    assert test.image_ids.tolist() == [i for i in images if is_test_image(np.array([i]))[0]]
    assert len(test) == everything.summary.test and 25 <= len(test) <= 55
    assert test.captions == [[f"caption {i}"] for i in test.image_ids]
    with pytest.raises(ValueError, match="split must be one of"):
        load_coco_pairs(*files, split="val", cache_dir=tmp_path / "cache")


# -- cache -------------------------------------------------------------------------------------------------


def test_the_second_load_reads_the_cache_and_a_changed_file_invalidates_it(files, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = load_coco_pairs(*files, split="all", cache_dir=cache)
    assert len(list(cache.glob("coco_pairs_*.npz"))) == 1
    process = coco._process
    monkeypatch.setattr(coco, "_process", lambda *a, **k: pytest.fail("the cache was not used"))
    second = load_coco_pairs(*files, split="all", cache_dir=cache)
    np.testing.assert_array_equal(second.keypoints, first.keypoints)
    np.testing.assert_array_equal(second.crops, first.crops)
    assert second.captions == first.captions and second.summary == first.summary
    assert second.image_ids.tolist() == first.image_ids.tolist()

    monkeypatch.setattr(coco, "_process", process)
    annotations, captions = fixture_annotations()
    write(tmp_path, annotations, captions + [caption(10, 2, "A new caption.")])  # same paths, new content
    edited = load_coco_pairs(*files, split="all", cache_dir=cache)
    assert edited.captions[1] == ["A woman swinging a tennis racket.", "A new caption."]
    other_size = load_coco_pairs(*files, size=32, split="all", cache_dir=cache)
    present = edited.keypoints[..., 2] > 0
    np.testing.assert_allclose(other_size.keypoints[present, :2], (edited.keypoints[present, :2] + 0.5) / 2 - 0.5,
                               atol=1e-5)
    assert len(list(cache.glob("coco_pairs_*.npz"))) == 3


def test_an_unreadable_cache_file_is_rebuilt(files, tmp_path, caplog):
    cache = tmp_path / "cache"
    load_coco_pairs(*files, cache_dir=cache)
    file, = cache.glob("coco_pairs_*.npz")
    file.write_bytes(b"not a zip file")
    with caplog.at_level(logging.WARNING, logger="posegraph.data.coco"):
        pairs = load_coco_pairs(*files, split="all", cache_dir=cache)
    assert len(pairs) == 3 and "unreadable COCO cache file" in caplog.text
    assert file.read_bytes()[:2] == b"PK"  # rewritten


def test_use_cache_false_writes_nothing(files, tmp_path):
    load_coco_pairs(*files, cache_dir=tmp_path / "cache", use_cache=False)
    assert not (tmp_path / "cache").exists()


# -- malformed input ---------------------------------------------------------------------------------------


def broken(tmp_path, annotations, captions=(), images=range(1, 11)):
    return write(tmp_path, annotations, list(captions), images=images)


@pytest.mark.parametrize("edit, message", [
    (lambda a: a.pop("keypoints"), "annotation id 101 has no 'keypoints'"),
    (lambda a: a.pop("bbox"), "annotation id 101 has no 'bbox'"),
    (lambda a: a.pop("iscrowd"), "annotation id 101 has no 'iscrowd'"),
    (lambda a: a.pop("id"), r"annotation #0 \(it has no 'id'\) has no 'id'"),
    (lambda a: a.update(keypoints=a["keypoints"][:-3]), "annotation id 101 has 'keypoints' of length 48; expected 51"),
    (lambda a: a.update(keypoints=None), "annotation id 101 has 'keypoints' of length NoneType"),
    (lambda a: a.update(bbox=[1, 2, 3]), r"annotation id 101 has 'bbox' \[1, 2, 3\]; expected \[x, y, width, height\]"),
    (lambda a: a.update(image_id=77), "annotation id 101 refers to image 77, which the file's 'images' list does not"),
    (lambda a: a["keypoints"].__setitem__(2, 5), "annotation id 101 has visibilities"),
    (lambda a: a["keypoints"].__setitem__(0, "x"), "annotation id 101 has non-numeric keypoints"),
])
def test_a_malformed_annotation_names_the_file_and_the_annotation(tmp_path, edit, message):
    annotation = person(101, 1)
    edit(annotation)
    files = broken(tmp_path, [annotation], [caption(1, 1, "a")])
    with pytest.raises(ValueError, match=message) as error:
        load_coco_pairs(*files, cache_dir=tmp_path / "cache")
    assert str(error.value).startswith(str(files[0]))


def test_a_malformed_caption_names_the_file_and_the_caption(tmp_path):
    files = broken(tmp_path, [person(101, 1)], [{"id": 5, "image_id": 1}])
    with pytest.raises(ValueError, match=f"^{files[1]}: caption id 5 has no 'caption'"):
        load_coco_pairs(*files, cache_dir=tmp_path / "cache")
    files = broken(tmp_path, [person(101, 1)], [caption(6, 1, ["a list"])])
    with pytest.raises(ValueError, match=f"^{files[1]}: caption id 6 has 'caption' \\['a list'\\]; expected a string"):
        load_coco_pairs(*files, cache_dir=tmp_path / "cache")


def test_captions_of_another_split_are_an_error(tmp_path):
    files = broken(tmp_path, [person(101, 1)], [caption(1, 500, "a"), caption(2, 501, "b")])
    with pytest.raises(ValueError, match="none of its 2 captions belongs to an image of .*same split and year"):
        load_coco_pairs(*files, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("content, message", [
    ("", "the file is empty; expected a COCO person keypoints JSON file"),
    ("  \n", "the file is empty"),
    ("{\"images\": [", r"not valid JSON \(Expecting value at line 1, column 13\)"),
    ("[1, 2]", "expected a JSON object with 'images' and 'annotations', got a list"),
    ("{\"images\": []}", "no 'annotations' list; is this a COCO person keypoints file"),
    ("{\"images\": [{\"file_name\": \"a.jpg\"}], \"annotations\": []}", r"image #0 \(it has no 'id'\) has no 'id'"),
])
def test_a_broken_keypoints_file_is_named(tmp_path, content, message):
    _, captions_file = broken(tmp_path, [])
    keypoints_file = tmp_path / "person_keypoints_val2014.json"
    keypoints_file.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        load_coco_pairs(keypoints_file, captions_file, cache_dir=tmp_path / "cache")
    assert str(error.value).startswith(str(keypoints_file))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="person_keypoints_train2014.json: no such file"):
        load_coco_pairs(tmp_path / "person_keypoints_train2014.json", tmp_path / "captions_train2014.json")
