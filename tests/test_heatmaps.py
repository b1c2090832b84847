"""Heatmap codec: round trip (property-based), flips, visibility, shapes, value range, bad input."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from posegraph.heatmaps import (
    denormalize_heatmaps,
    flip_heatmaps,
    heatmaps_to_keypoints,
    keypoints_to_heatmaps,
    normalize_heatmaps,
)
from posegraph.skeleton import COCO_17

SIZE, SIGMA = 64, 2.0
coord = st.floats(min_value=0.0, max_value=SIZE - 1.0, allow_nan=False, allow_infinity=False)
pose = st.lists(st.tuples(coord, coord), min_size=17, max_size=17)


def as_keypoints(xy, v=2.0):
    xy = torch.tensor(xy, dtype=torch.float32)
    return torch.cat([xy, torch.full((len(xy), 1), v)], dim=1)


def random_keypoints(*batch, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(*batch, 17, 2, generator=g) * (SIZE - 1)
    return torch.cat([xy, torch.full((*batch, 17, 1), 2.0)], dim=-1)


@settings(max_examples=200, deadline=None)
@given(pose)
def test_round_trip_within_a_tenth_of_a_pixel(xy):
    kp = as_keypoints(xy)
    decoded = heatmaps_to_keypoints(keypoints_to_heatmaps(kp, SIZE, SIGMA))
    assert (decoded[:, :2] - kp[:, :2]).abs().max() < 0.1
    assert (decoded[:, 2] == 2).all()


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([0.0, 0.3, 62.7, 63.0]), coord)
def test_round_trip_at_the_borders(edge, other):
    kp = as_keypoints([(edge, other), (other, edge)])
    decoded = heatmaps_to_keypoints(keypoints_to_heatmaps(kp, SIZE, SIGMA))
    assert (decoded[:, :2] - kp[:, :2]).abs().max() < 0.1


@settings(max_examples=100, deadline=None)
@given(pose)
def test_flipped_heatmaps_decode_to_flipped_keypoints(xy):
    kp = as_keypoints(xy)
    heatmaps = keypoints_to_heatmaps(kp, SIZE, SIGMA)
    decoded = heatmaps_to_keypoints(flip_heatmaps(heatmaps, COCO_17.flip_permutation))
    expected = COCO_17.flip_keypoints(kp, SIZE)
    assert (decoded[:, :2] - expected[:, :2]).abs().max() < 0.1


def test_flip_of_heatmaps_equals_heatmaps_of_flip():
    kp = random_keypoints(2)
    flipped_maps = flip_heatmaps(keypoints_to_heatmaps(kp, SIZE, SIGMA), COCO_17.flip_permutation)
    torch.testing.assert_close(flipped_maps, keypoints_to_heatmaps(COCO_17.flip_keypoints(kp, SIZE), SIZE, SIGMA))


def test_heatmap_peaks_at_the_keypoint():
    kp = torch.tensor([[10.0, 20.0, 2.0]])
    h = keypoints_to_heatmaps(kp, SIZE, SIGMA)[0]
    assert h[20, 10] == 1.0  # row = y, column = x
    assert h.flatten().argmax() == 20 * SIZE + 10
    assert h[20, 12].item() == pytest.approx(torch.exp(torch.tensor(-4 / (2 * SIGMA**2))).item())


def test_occluded_joints_are_drawn_like_visible_ones():
    kp = random_keypoints()
    occluded = kp.clone()
    occluded[:, 2] = 1
    assert torch.equal(keypoints_to_heatmaps(kp, SIZE), keypoints_to_heatmaps(occluded, SIZE))


def test_invisible_and_out_of_frame_joints_give_empty_maps_and_decode_absent():
    kp = random_keypoints()
    kp[3, 2] = 0  # not labelled
    kp[5, :2] = torch.tensor([-3.0, 10.0])  # left of the frame
    kp[7, :2] = torch.tensor([10.0, SIZE + 1.0])  # below the frame
    h = keypoints_to_heatmaps(kp, SIZE, SIGMA)
    for k in (3, 5, 7):
        assert h[k].abs().sum() == 0
    decoded, confidence = heatmaps_to_keypoints(h, return_confidence=True)
    assert decoded[[3, 5, 7], 2].tolist() == [0.0, 0.0, 0.0]
    assert confidence[[3, 5, 7]].tolist() == [0.0, 0.0, 0.0]
    others = [k for k in range(17) if k not in (3, 5, 7)]
    assert (decoded[others, 2] == 2).all()
    assert (confidence[others] > 0.88).all()  # the peak pixel is at most half a pixel off on each axis


def test_threshold_sets_visibility():
    h = keypoints_to_heatmaps(random_keypoints(), SIZE) * 0.5
    assert (heatmaps_to_keypoints(h, threshold=0.4)[:, 2] == 2).all()
    assert (heatmaps_to_keypoints(h, threshold=0.6)[:, 2] == 0).all()


def test_batch_shapes_match_single_pose_shapes():
    kp = random_keypoints(3)
    batched = keypoints_to_heatmaps(kp, SIZE)
    assert batched.shape == (3, 17, SIZE, SIZE)
    single = keypoints_to_heatmaps(kp[1], SIZE)
    assert single.shape == (17, SIZE, SIZE)
    torch.testing.assert_close(batched[1], single)
    decoded = heatmaps_to_keypoints(batched)
    assert decoded.shape == (3, 17, 3)
    torch.testing.assert_close(decoded[1], heatmaps_to_keypoints(single))
    _, confidence = heatmaps_to_keypoints(batched, return_confidence=True)
    assert confidence.shape == (3, 17)


def test_samples_are_independent():
    kp = random_keypoints(3)
    moved = kp.clone()
    moved[0, :, :2] = moved[0, :, :2].flip(0)
    a, b = keypoints_to_heatmaps(kp, SIZE), keypoints_to_heatmaps(moved, SIZE)
    assert not torch.equal(a[0], b[0])
    assert torch.equal(a[1:], b[1:])


def test_value_range_and_model_range_inverse():
    h = keypoints_to_heatmaps(random_keypoints(4), SIZE)
    assert h.min() >= 0 and h.max() <= 1
    n = normalize_heatmaps(h)
    assert n.min() >= -1 and n.max() <= 1
    assert normalize_heatmaps(torch.zeros(1)).item() == -1 and normalize_heatmaps(torch.ones(1)).item() == 1
    torch.testing.assert_close(denormalize_heatmaps(n), h)
    assert denormalize_heatmaps(torch.tensor([-3.0, 3.0])).tolist() == [0.0, 1.0]
    scaled = normalize_heatmaps(h, scale=10.0, shift=-0.2)  # a model's own range (unit variance)
    assert scaled.min() >= -0.2 and scaled.max() <= 9.8
    torch.testing.assert_close(denormalize_heatmaps(scaled, scale=10.0, shift=-0.2), h)


@pytest.mark.parametrize("shape", [(17,), (17, 2), (2, 3, 17, 3), (17, 4)])
def test_encode_rejects_bad_keypoint_shapes(shape):
    with pytest.raises(ValueError, match="keypoints_to_heatmaps: expected keypoints"):
        keypoints_to_heatmaps(torch.zeros(shape), SIZE)


@pytest.mark.parametrize("size, sigma", [(2, 2.0), (64, 0.0), (64, -1.0)])
def test_encode_rejects_bad_size_or_sigma(size, sigma):
    with pytest.raises(ValueError, match="need size >= 3 and sigma > 0"):
        keypoints_to_heatmaps(torch.zeros(17, 3), size, sigma)


@pytest.mark.parametrize("shape", [(64, 64), (17, 64, 32), (1, 2, 17, 64, 64)])
def test_decode_rejects_bad_heatmap_shapes(shape):
    with pytest.raises(ValueError, match="heatmaps_to_keypoints: expected"):
        heatmaps_to_keypoints(torch.zeros(shape))
