"""OpenPose JSON and COCO keypoint-results JSON: content, rescaling, round trips, malformed files."""
import json

import numpy as np
import pytest
import torch

from posegraph.io import read_coco_keypoints, read_openpose_json, write_coco_keypoints, write_openpose_json
from posegraph.skeleton import COCO_17, OPENPOSE_18

LS, RS = COCO_17.index("left_shoulder"), COCO_17.index("right_shoulder")


def random_poses(n, seed=0, size=64):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 17, 2, generator=g) * (size - 1)
    v = torch.randint(1, 3, (n, 17, 1), generator=g).float()
    kp = torch.cat([xy, v], dim=-1)
    kp[0, 3] = 0  # an absent joint
    return kp


def present_only(kp):
    """Absent joints as (0, 0, 0); present ones with v = 2, as the OpenPose reader returns them."""
    out = kp.clone()
    out[..., 2] = torch.where(kp[..., 2] > 0, 2.0, 0.0)
    return out * (kp[..., 2:] > 0)


# --- OpenPose JSON ---------------------------------------------------------------------------------


def test_openpose_file_content(tmp_path):
    kp = random_poses(2)
    path = write_openpose_json(tmp_path / "pose.json", kp, frame_size=64, canvas_size=(512, 768))
    content = json.loads(path.read_text())
    assert content["version"] == 1.3
    assert (content["canvas_height"], content["canvas_width"]) == (512, 768)
    assert len(content["people"]) == 2
    op = np.array(content["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
    # joints by name, rescaled with pixel centres kept: x -> (x + 0.5) * 12 - 0.5, y -> (y + 0.5) * 8 - 0.5
    for k, name in enumerate(OPENPOSE_18.names):
        if name == "neck":
            continue
        x, y, v = kp[0, COCO_17.index(name)].tolist()
        if v > 0:
            np.testing.assert_allclose(op[k], [(x + 0.5) * 12 - 0.5, (y + 0.5) * 8 - 0.5, 1.0], atol=1e-3)
        else:
            assert op[k].tolist() == [0, 0, 0]
    neck = op[OPENPOSE_18.index("neck")]
    np.testing.assert_allclose(neck[:2], (op[OPENPOSE_18.index("left_shoulder"), :2] + op[OPENPOSE_18.index("right_shoulder"), :2]) / 2, atol=2e-3)
    assert neck[2] == 1.0


def test_openpose_neck_absent_without_both_shoulders(tmp_path):
    kp = random_poses(1)
    kp[0, RS, 2] = 0
    path = write_openpose_json(tmp_path / "pose.json", kp[0], frame_size=64)
    op = json.loads(path.read_text())["people"][0]["pose_keypoints_2d"]
    assert op[3:6] == [0, 0, 0]


def test_openpose_round_trip(tmp_path):
    kp = random_poses(3)
    path = write_openpose_json(tmp_path / "pose.json", kp, frame_size=64, canvas_size=(512, 768))
    back = read_openpose_json(path, frame_size=64)
    assert back.shape == (3, 17, 3) and back.dtype == torch.float32
    torch.testing.assert_close(back, present_only(kp), atol=1e-3, rtol=0)
    same_frame = write_openpose_json(tmp_path / "same.json", kp, frame_size=(64, 64))
    torch.testing.assert_close(read_openpose_json(same_frame), present_only(kp), atol=1e-3, rtol=0)


def test_openpose_read_without_frame_keeps_file_pixels(tmp_path):
    kp = random_poses(1)
    path = write_openpose_json(tmp_path / "pose.json", kp, frame_size=64, canvas_size=640)
    back = read_openpose_json(path)
    expected = present_only(kp)
    expected[..., :2] = torch.where(expected[..., 2:] > 0, (expected[..., :2] + 0.5) * 10 - 0.5, 0.0)
    torch.testing.assert_close(back, expected, atol=1e-3, rtol=0)


def test_openpose_confidence_round_trip(tmp_path):
    kp = random_poses(2)
    conf = torch.rand(2, 17, generator=torch.Generator().manual_seed(1)) * 0.9 + 0.1
    path = write_openpose_json(tmp_path / "pose.json", kp, frame_size=64, confidence=conf)
    content = json.loads(path.read_text())
    neck_c = content["people"][1]["pose_keypoints_2d"][5]
    assert neck_c == pytest.approx(min(conf[1, LS], conf[1, RS]).item(), abs=1e-3)
    back, back_conf = read_openpose_json(path, return_confidence=True)
    expected = torch.where(kp[..., 2] > 0, conf, 0.0)
    torch.testing.assert_close(back_conf, expected, atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="confidence must have shape"):
        write_openpose_json(tmp_path / "bad.json", kp, frame_size=64, confidence=torch.ones(3, 17))


def test_openpose_with_nobody(tmp_path):
    path = tmp_path / "empty_people.json"
    path.write_text(json.dumps({"version": 1.3, "people": [], "canvas_width": 64, "canvas_height": 64}))
    assert read_openpose_json(path).shape == (0, 17, 3)


def test_openpose_writer_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"write_openpose_json: expected coco_17 keypoints"):
        write_openpose_json(tmp_path / "x.json", torch.zeros(18, 3), frame_size=64)
    with pytest.raises(ValueError, match="canvas_size must be a positive S or"):
        write_openpose_json(tmp_path / "x.json", torch.zeros(17, 3), frame_size=64, canvas_size=(1, 2, 3))


# --- COCO keypoint results --------------------------------------------------------------------------


def test_coco_file_content(tmp_path):
    kp = random_poses(2)
    path = write_coco_keypoints(tmp_path / "res.json", kp, image_ids=[7, 9], frame_size=64,
                                canvas_size=[(128, 256), (640, 480)], scores=[0.5, 0.25])
    records = json.loads(path.read_text())
    assert [r["image_id"] for r in records] == [7, 9]
    assert [r["category_id"] for r in records] == [1, 1]
    assert [r["score"] for r in records] == [0.5, 0.25]
    assert all(len(r["keypoints"]) == 51 for r in records)
    x, y, v = kp[1, 0].tolist()
    np.testing.assert_allclose(records[1]["keypoints"][:3], [(x + 0.5) * 7.5 - 0.5, (y + 0.5) * 10 - 0.5, v], atol=1e-3)
    assert records[0]["keypoints"][9:12] == [0, 0, 0]  # the absent joint


def test_coco_round_trip(tmp_path):
    kp = random_poses(4, seed=2)
    sizes = [(128, 256), (640, 480), (64, 64), (100, 300)]
    path = write_coco_keypoints(tmp_path / "res.json", kp, ["a", "b", "c", "d"], frame_size=64, canvas_size=sizes)
    back = read_coco_keypoints(path, frame_size=64, canvas_size=sizes)
    assert back.image_ids == ["a", "b", "c", "d"]
    torch.testing.assert_close(back.scores, torch.ones(4))
    expected = kp * (kp[..., 2:] > 0)  # absent joints are stored as (0, 0, 0); v keeps 1 and 2 apart
    torch.testing.assert_close(back.keypoints, expected, atol=1e-3, rtol=0)
    assert read_coco_keypoints(path).keypoints.shape == (4, 17, 3)
    with pytest.raises(ValueError, match="frame_size needs canvas_size"):
        read_coco_keypoints(path, frame_size=64)


def test_coco_writer_rejects_bad_input(tmp_path):
    kp = random_poses(2)
    with pytest.raises(ValueError, match="got 1 image_ids for 2 poses"):
        write_coco_keypoints(tmp_path / "x.json", kp, [1], frame_size=64)
    with pytest.raises(ValueError, match="got 3 scores for 2 poses"):
        write_coco_keypoints(tmp_path / "x.json", kp, [1, 2], frame_size=64, scores=[1, 1, 1])
    with pytest.raises(ValueError, match="expected coco_17 keypoints"):
        write_coco_keypoints(tmp_path / "x.json", torch.zeros(2, 17, 2), [1, 2], frame_size=64)


# --- malformed files -------------------------------------------------------------------------------

GOOD_PERSON = {"pose_keypoints_2d": [1.0] * 54}
GOOD_RECORD = {"image_id": 1, "category_id": 1, "keypoints": [1.0] * 51, "score": 0.9}

OPENPOSE_CASES = [
    ("", "the file is empty"),
    ("   \n", "the file is empty"),
    ("{not json", "not valid JSON"),
    (json.dumps([GOOD_PERSON]), "expected an OpenPose JSON object"),
    (json.dumps({"version": 1.3}), "the top-level object has no 'people'"),
    (json.dumps({"people": {}}), "'people' must be a list"),
    (json.dumps({"people": [GOOD_PERSON, {"face_keypoints_2d": []}]}), r"people\[1\] has no 'pose_keypoints_2d'"),
    (json.dumps({"people": [GOOD_PERSON, "nobody"]}), r"people\[1\] must be a JSON object"),
    (json.dumps({"people": [{"pose_keypoints_2d": [1.0] * 75}]}), r"people\[0\].pose_keypoints_2d has 75 values, expected 54"),
    (json.dumps({"people": [{"pose_keypoints_2d": [1.0] * 53 + ["x"]}]}), r"people\[0\].pose_keypoints_2d\[53\] is 'x', not a number"),
    (json.dumps({"people": [{"pose_keypoints_2d": [None] * 54}]}), r"pose_keypoints_2d\[0\] is None, not a number"),
    (json.dumps({"people": [{"pose_keypoints_2d": "1 2 3"}]}), "must be a list of 54 numbers"),
]


@pytest.mark.parametrize("text, message", OPENPOSE_CASES)
def test_malformed_openpose_files_raise(tmp_path, text, message):
    path = tmp_path / "broken_pose.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        read_openpose_json(path)
    assert "broken_pose.json" in str(info.value)


def test_openpose_rescale_needs_canvas_size(tmp_path):
    path = tmp_path / "no_canvas.json"
    path.write_text(json.dumps({"people": [GOOD_PERSON]}))
    assert read_openpose_json(path).shape == (1, 17, 3)
    with pytest.raises(ValueError, match="no_canvas.json: the top-level object has no 'canvas_height'"):
        read_openpose_json(path, frame_size=64)


COCO_CASES = [
    ("", "the file is empty"),
    ("[{]", "not valid JSON"),
    (json.dumps({"annotations": []}), "expected a JSON list"),
    ("[]", "the list holds no records"),
    (json.dumps([GOOD_RECORD, {"keypoints": [1.0] * 51, "score": 1}]), "record 1 has no 'image_id'"),
    (json.dumps([GOOD_RECORD, GOOD_RECORD, {"image_id": 3, "score": 1}]), "record 2 has no 'keypoints'"),
    (json.dumps([{"image_id": 3, "keypoints": [1.0] * 51}]), "record 0 has no 'score'"),
    (json.dumps([GOOD_RECORD, dict(GOOD_RECORD, keypoints=[1.0] * 54)]), "record 1 'keypoints' has 54 values, expected 51"),
    (json.dumps([dict(GOOD_RECORD, keypoints=[1.0] * 10 + ["a"] + [1.0] * 40)]), r"record 0 'keypoints'\[10\] is 'a', not a number"),
    (json.dumps([dict(GOOD_RECORD, keypoints=[True] * 51)]), r"record 0 'keypoints'\[0\] is True, not a number"),
    (json.dumps([dict(GOOD_RECORD, score="high")]), "record 0 'score' is 'high', not a number"),
    (json.dumps([dict(GOOD_RECORD, category_id=2)]), "record 0 has category_id 2"),
    (json.dumps([GOOD_RECORD, 5]), "record 1 must be a JSON object"),
]


@pytest.mark.parametrize("text, message", COCO_CASES)
def test_malformed_coco_files_raise(tmp_path, text, message):
    path = tmp_path / "broken_results.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        read_coco_keypoints(path)
    assert "broken_results.json" in str(info.value)
