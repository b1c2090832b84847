"""PoseTextDataset: samples, flip/rotation/scale augmentation, caption draws, determinism, collate, sources."""
import json

import numpy as np
import pytest
import torch

from posegraph.data.checker import check_action
from posegraph.data.dataset import PoseTextDataset, augment_keypoints
from posegraph.data.synthetic import SyntheticPoseGenerator
from posegraph.heatmaps import keypoints_to_heatmaps
from posegraph.skeleton import COCO_17

PLAIN = dict(flip_prob=0.0, max_rotation=0.0, scale_range=(1.0, 1.0))  # no augmentation


@pytest.fixture(scope="module")
def samples():
    return SyntheticPoseGenerator(size=32, seed=0).sample(48)


def simple_pose(size=32):
    """A standing figure, all joints visible, drawn left of centre so a flip moves it."""
    x = np.array([10, 11, 9, 12, 8, 13, 7, 14, 6, 15, 5, 12, 8, 12, 8, 12, 8], dtype=np.float32)
    y = np.array([4, 3, 3, 4, 4, 8, 8, 12, 12, 16, 16, 16, 16, 22, 22, 28, 28], dtype=np.float32)
    return np.stack([x, y, np.full(17, 2.0, dtype=np.float32)], -1)


def test_a_sample_holds_gaussian_heatmaps_its_caption_keypoints_and_labels(samples):
    dataset = PoseTextDataset.from_synthetic(samples, sigma=1.5, augment_seed=0)
    item = dataset[3]
    assert set(item) == {"heatmaps", "caption", "keypoints", "action", "side", "facing"}
    assert item["heatmaps"].shape == (17, 32, 32) and item["heatmaps"].dtype == torch.float32
    assert item["keypoints"].shape == (17, 3) and item["keypoints"].dtype == torch.float32
    assert item["heatmaps"].min() >= 0 and item["heatmaps"].max() <= 1
    expected = keypoints_to_heatmaps(item["keypoints"], 32, sigma=1.5)
    torch.testing.assert_close(item["heatmaps"], expected)
    assert isinstance(item["caption"], str) and item["caption"] in dataset.captions


def test_without_augmentation_a_sample_is_the_stored_pair(samples):
    dataset = PoseTextDataset.from_synthetic(samples, **PLAIN)
    for index in (0, 7, 47):
        item = dataset[index]
        np.testing.assert_allclose(item["keypoints"].numpy(), samples.keypoints[index], atol=1e-5)
        assert item["caption"] == samples.captions[index]
        assert (item["action"], item["side"], item["facing"]) == (
            samples.actions[index], samples.sides[index], samples.facings[index])


def test_a_flip_mirrors_the_joints_and_swaps_left_and_right_in_caption_and_labels(samples):
    dataset = PoseTextDataset.from_synthetic(samples, flip_prob=1.0, max_rotation=0.0, scale_range=(1.0, 1.0))
    batch = dataset.collate(dataset.__getitems__(range(len(samples))))
    mirrored = samples.flip()  # the generator's own mirror image
    np.testing.assert_allclose(batch["keypoints"].numpy(), mirrored.keypoints, atol=1e-5)
    assert batch["caption"] == mirrored.captions
    assert batch["action"] == [str(a) for a in mirrored.actions]
    assert batch["side"] == mirrored.sides and batch["facing"] == mirrored.facings
    assert batch["action"] != [str(a) for a in samples.actions]  # some sided actions were drawn


def test_a_flipped_left_wave_is_a_right_wave_for_the_checker_and_the_caption():
    dataset = PoseTextDataset.synthetic(64, size=64, seed=1, actions=["waving_left"], flip_prob=1.0,
                                        max_rotation=0.0, scale_range=(1.0, 1.0))
    assert check_action(dataset.keypoints, "waving_left").all()
    batch = dataset.collate(dataset.__getitems__(range(64)))
    assert batch["action"] == ["waving_right"] * 64 and batch["side"] == ["right"] * 64
    assert check_action(batch["keypoints"], "waving_right").all()
    assert not check_action(batch["keypoints"], "waving_left").any()
    named = [c for c in batch["caption"] if "left" in c.lower() or "right" in c.lower()]
    assert len(named) > 32 and all("right" in c and "left" not in c for c in named)


def test_the_caption_swap_is_whole_word_and_keeps_case():
    pose = simple_pose()[None]
    caption = "Left hand up, LEFT foot out, a right-handed man; leftover bright lights."
    dataset = PoseTextDataset(pose, [caption], size=32, labels={"action": ["kicking_left"], "side": ["left"],
                              "facing": ["front-right"], "note": ["left"]}, flip_prob=1.0, max_rotation=0.0,
                              scale_range=(1.0, 1.0))
    item = dataset[0]
    assert item["caption"] == "Right hand up, RIGHT foot out, a left-handed man; leftover bright lights."
    assert (item["action"], item["side"], item["facing"]) == ("kicking_right", "right", "front-left")
    assert item["note"] == "left"  # labels other than action, side and facing are kept as they are
    expected = COCO_17.flip_keypoints(pose, 32)[0]
    np.testing.assert_allclose(item["keypoints"].numpy(), expected, atol=1e-5)
    assert item["keypoints"][5, 0] == 31 - pose[0, 6, 0]  # the new left shoulder is the old right one, mirrored


def test_rotation_and_scale_turn_about_the_frame_centre_and_drop_joints_that_leave_it():
    size, centre = 33, 16.0
    keypoints = np.zeros((3, 17, 3), dtype=np.float32)
    keypoints[:, 0] = [centre + 4, centre, 2]
    keypoints[:, 1] = [centre, centre - 10, 1]
    keypoints[:, 2] = [5, 5, 0]  # absent: stays (0, 0, 0)
    no = np.zeros(3, dtype=bool)
    out = augment_keypoints(keypoints, size, flip=no, angle=np.array([np.pi / 2, 0.0, np.pi]),
                            scale=np.array([1.0, 2.0, 0.5]))
    np.testing.assert_allclose(out[0, :2], [[centre, centre + 4, 2], [centre + 10, centre, 1]], atol=1e-5)
    np.testing.assert_allclose(out[1, :2], [[centre + 8, centre, 2], [0, 0, 0]], atol=1e-5)  # y = -4: gone
    np.testing.assert_allclose(out[2, :2], [[centre - 2, centre, 2], [centre, centre + 5, 1]], atol=1e-5)
    assert np.all(out[:, 2:] == 0)
    flipped = augment_keypoints(keypoints, size, flip=~no, angle=np.zeros(3), scale=np.ones(3))
    expected = COCO_17.flip_keypoints(keypoints, size)
    expected[expected[..., 2] == 0] = 0
    np.testing.assert_allclose(flipped, expected)


def test_random_rotations_and_scales_stay_within_their_ranges():
    pose = np.repeat(simple_pose()[None], 200, axis=0)
    dataset = PoseTextDataset(pose, ["a person"] * 200, size=32, flip_prob=0.0, max_rotation=10.0,
                              scale_range=(0.9, 1.1), augment_seed=1)
    out = dataset.collate(dataset.__getitems__(range(200)))["keypoints"].numpy()
    before = pose[:, 15, :2] - pose[:, 5, :2]  # left shoulder -> left ankle, both stay in frame
    after = out[:, 15, :2] - out[:, 5, :2]
    scale = np.linalg.norm(after, axis=1) / np.linalg.norm(before, axis=1)
    angle = np.degrees(np.arctan2(after[:, 1], after[:, 0]) - np.arctan2(before[:, 1], before[:, 0]))
    assert 0.9 - 1e-4 <= scale.min() < 0.93 and 1.07 < scale.max() <= 1.1 + 1e-4
    assert -10 - 1e-3 <= angle.min() < -8 and 8 < angle.max() <= 10 + 1e-3


def test_draws_are_fixed_by_seed_epoch_and_index_whatever_the_batching(samples):
    dataset = PoseTextDataset.from_synthetic(samples, augment_seed=5)
    one = dataset[9]
    batch = dataset.__getitems__([30, 9, 2])
    assert torch.equal(batch[1]["keypoints"], one["keypoints"]) and batch[1]["caption"] == one["caption"]
    again = PoseTextDataset.from_synthetic(samples, augment_seed=5)
    assert all(torch.equal(a["heatmaps"], b["heatmaps"]) for a, b in zip(again.__getitems__(range(48)),
                                                                          dataset.__getitems__(range(48))))
    first = dataset.collate(dataset.__getitems__(range(48)))["keypoints"]
    dataset.set_epoch(1)
    second = dataset.collate(dataset.__getitems__(range(48)))["keypoints"]
    assert not torch.allclose(first, second)


def test_without_a_seed_the_draws_follow_torchs_global_rng(samples):
    dataset = PoseTextDataset.from_synthetic(samples)
    torch.manual_seed(11)
    first = dataset.collate(dataset.__getitems__(range(48)))
    torch.manual_seed(11)
    again = dataset.collate(dataset.__getitems__(range(48)))
    other = dataset.collate(dataset.__getitems__(range(48)))
    assert torch.equal(first["keypoints"], again["keypoints"]) and first["caption"] == again["caption"]
    assert not torch.equal(first["keypoints"], other["keypoints"])


def test_one_of_several_captions_is_drawn_per_visit():
    captions = [["a man on the left", "a man surfing", "A surfer"], ["a tennis player"]]
    dataset = PoseTextDataset(np.stack([simple_pose()] * 2), captions, size=32, **PLAIN, augment_seed=0)
    drawn = []
    for epoch in range(30):
        dataset.set_epoch(epoch)
        drawn.append(dataset[0]["caption"])
        assert dataset[1]["caption"] == "a tennis player"
    assert set(drawn) == set(captions[0])
    assert dataset.captions == ["a man on the left", "a man surfing", "A surfer", "a tennis player"]


def test_captions_lists_every_caption_a_visit_can_yield(samples):
    dataset = PoseTextDataset.from_synthetic(samples, augment_seed=2)
    yielded = {item["caption"] for epoch in range(6) for item in (dataset.set_epoch(epoch) or
                                                                  dataset.__getitems__(range(48)))}
    assert yielded <= set(dataset.captions)
    assert any("left" in c.lower() for c in samples.captions)
    assert set(samples.flip().captions) <= set(dataset.captions) and len(set(dataset.captions)) == len(dataset.captions)
    unflipped = PoseTextDataset.from_synthetic(samples, flip_prob=0.0)
    assert unflipped.captions == list(dict.fromkeys(samples.captions))


def test_a_dataloader_fetches_whole_batches_and_collates_them(samples):
    dataset = PoseTextDataset.from_synthetic(samples, augment_seed=4)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=[[3, 1, 4, 15], [9, 2]], collate_fn=dataset.collate)
    first, second = list(loader)
    assert first["heatmaps"].shape == (4, 17, 32, 32) and first["keypoints"].shape == (4, 17, 3)
    assert isinstance(first["caption"], list) and len(first["caption"]) == 4 and len(second["side"]) == 2
    expected = dataset.collate([dataset[i] for i in (3, 1, 4, 15)])
    assert torch.equal(first["heatmaps"], expected["heatmaps"]) and first["caption"] == expected["caption"]


def test_the_synthetic_source_draws_from_the_generator():
    dataset = PoseTextDataset.synthetic(20, size=32, seed=3, actions=["waving_left", "sitting"], **PLAIN)
    reference = SyntheticPoseGenerator(size=32, seed=3, actions=["waving_left", "sitting"]).sample(20)
    assert len(dataset) == 20 and dataset.size == 32
    np.testing.assert_array_equal(dataset.keypoints, reference.keypoints)
    assert [dataset[i]["action"] for i in range(20)] == [str(a) for a in reference.actions]


def test_the_coco_source_keeps_every_caption_of_an_image(tmp_path):
    images = [{"id": i, "file_name": f"{i}.jpg"} for i in (1, 2)]
    keypoints = [v for k in range(17) for v in (100 + k, 60 + 3 * k, 2)]
    annotations = [{"id": 10 + i, "image_id": i, "iscrowd": 0, "keypoints": keypoints, "bbox": [90, 50, 40, 60]}
                   for i in (1, 2)]
    captions = [{"id": 1, "image_id": 1, "caption": "A man on a skateboard."},
                {"id": 2, "image_id": 1, "caption": "A skater doing a trick."},
                {"id": 3, "image_id": 2, "caption": "A woman with a kite."}]
    (tmp_path / "kp.json").write_text(json.dumps({"images": images, "annotations": annotations}))
    (tmp_path / "cap.json").write_text(json.dumps({"images": images, "annotations": captions}))
    dataset = PoseTextDataset.coco(tmp_path / "kp.json", tmp_path / "cap.json", size=32, split="all",
                                   cache_dir=tmp_path / "cache", **PLAIN)
    assert len(dataset) == 2 and dataset.labels == {}
    assert dataset.captions_per_pose == [("A man on a skateboard.", "A skater doing a trick."), ("A woman with a kite.",)]
    item = dataset[0]
    assert set(item) == {"heatmaps", "caption", "keypoints"} and item["heatmaps"].shape == (17, 32, 32)
    assert (item["keypoints"][:, 2] == 2).all()
    with pytest.raises(ValueError, match="no pairs in the 'test' split"):
        PoseTextDataset.coco(tmp_path / "kp.json", tmp_path / "cap.json", size=32, split="test",
                             cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(keypoints=np.zeros((2, 16, 3))), ValueError, r"keypoints must have shape \(n, 17, 3\)"),
    (dict(keypoints=np.zeros((0, 17, 3)), captions=[]), ValueError, "with n >= 1"),
    (dict(captions=["a"]), ValueError, "2 poses but 1 captions"),
    (dict(captions=["a", 3]), TypeError, "the captions of pose 1 must be a str or a non-empty sequence of str"),
    (dict(captions=["a", []]), TypeError, "the captions of pose 1"),
    (dict(labels={"action": ["sitting"]}), ValueError, "label 'action' has 1 values for 2 poses"),
    (dict(flip_prob=1.5), ValueError, "need 0 <= flip_prob <= 1"),
    (dict(scale_range=(1.2, 1.0)), ValueError, r"scale_range=\(1.2, 1.0\)"),
])
def test_bad_input_says_what_was_wrong(kwargs, error, message):
    arguments = dict(keypoints=np.zeros((2, 17, 3)), captions=["a", "b"]) | kwargs
    with pytest.raises(error, match=message):
        PoseTextDataset(**arguments)
