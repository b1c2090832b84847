"""Skeleton layouts: COCO-17 facts, custom layouts, bad input, PyG views, adjacency, hops, conversion."""
import json

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data

from posegraph.skeleton import (COCO_17, OPENPOSE_18, SKELETONS, Skeleton, coco_to_openpose, convert_keypoints,
                                missing_joints, openpose_to_coco, resolve_skeleton)

LS, RS = COCO_17.index("left_shoulder"), COCO_17.index("right_shoulder")


def random_coco(batch=(), seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(*batch, 17, 2, generator=g) * 64
    v = torch.randint(0, 3, (*batch, 17, 1), generator=g).float()
    return torch.cat([xy, v], dim=-1)


# --- COCO-17 ----------------------------------------------------------------------------------------


def test_coco17_counts_and_names():
    assert COCO_17.num_joints == 17
    assert len(COCO_17.bones) == 19
    assert COCO_17.names[0] == "nose" and COCO_17.names[-1] == "right_ankle"
    assert COCO_17.index("left_wrist") == 9


def test_coco17_flip_is_involution_that_swaps_sides():
    perm = COCO_17.flip_permutation
    assert torch.equal(perm[perm], torch.arange(17))
    assert perm[0] == 0  # the nose stays
    for k, name in enumerate(COCO_17.names):
        flipped = COCO_17.names[perm[k]]
        if "left" in name:
            assert flipped == name.replace("left", "right")
        elif "right" in name:
            assert flipped == name.replace("right", "left")
        else:
            assert flipped == name


def test_coco17_edge_index_holds_both_directions():
    ei = COCO_17.edge_index
    assert ei.shape == (2, 38) and ei.dtype == torch.long
    edges = set(map(tuple, ei.t().tolist()))
    assert len(edges) == 38
    for i, j in COCO_17.bones:
        assert (i, j) in edges and (j, i) in edges
    assert (ei[0] != ei[1]).all()


def test_bone_names_resolve():
    names = {tuple(sorted((COCO_17.names[i], COCO_17.names[j]))) for i, j in COCO_17.bones}
    assert ("left_elbow", "left_wrist") in names
    assert ("left_shoulder", "right_shoulder") in names
    assert ("left_ankle", "left_knee") in names


# --- custom layouts and bad input --------------------------------------------------------------------


def test_custom_layout_from_names_and_bones():
    sk = Skeleton(["head", "left_hand", "right_hand"], [("head", "left_hand"), ("head", 2)], name="tiny")
    assert sk.num_joints == 3
    assert sk.bones == ((0, 1), (0, 2))
    assert sk.flip_permutation.tolist() == [0, 2, 1]
    assert sk.edge_index.tolist() == [[0, 0, 1, 2], [1, 2, 0, 0]]
    assert "tiny" in repr(sk) and "num_joints=3" in repr(sk)


def test_custom_layout_with_explicit_flip():
    sk = Skeleton(["a", "b", "c"], [("a", "b"), ("b", "c")], flip_permutation=[2, 1, 0])
    assert sk.flip_permutation.tolist() == [2, 1, 0]


@pytest.mark.parametrize(
    "names, bones, flip, message",
    [
        (["a", "b"], [("a", "z")], [0, 1], "unknown joint 'z'"),
        (["a", "b"], [(0, 5)], [0, 1], "out of range"),
        (["a", "b"], [("a", "a")], [0, 1], "self-loop"),
        (["a", "b"], [("a", "b"), ("b", "a")], [0, 1], "duplicate bone"),
        (["a", "b", "c"], [("a", "b")], [1, 2, 0], "not an involution"),
        (["a", "b", "c"], [("a", "b")], [0, 0, 1], "must be a permutation"),
        (["a", "b", "c"], [("a", "b")], [0, 1], "must be a permutation"),
        (["a", "a"], [], [0, 1], "names must be unique"),
        (["left_hand", "head"], [("left_hand", "head")], None, "cannot derive the flip permutation"),
    ],
)
def test_bad_layouts_raise_clear_errors(names, bones, flip, message):
    with pytest.raises(ValueError, match=message):
        Skeleton(names, bones, flip_permutation=flip)


# --- PyG views ---------------------------------------------------------------------------------------


def test_graph_view():
    x = torch.randn(17, 4)
    data = COCO_17.graph(x)
    assert isinstance(data, Data)
    assert data.num_nodes == 17 and torch.equal(data.x, x)
    assert torch.equal(data.edge_index, COCO_17.edge_index)
    assert COCO_17.graph().num_nodes == 17
    with pytest.raises(ValueError, match="expected 17"):
        COCO_17.graph(torch.randn(16, 4))


def test_batch_view_offsets_edges_per_graph():
    b = 3
    x = torch.randn(b, 17, 5)
    batch = COCO_17.batch(x)
    assert isinstance(batch, Batch)
    assert batch.num_graphs == b and batch.num_nodes == b * 17
    assert torch.equal(batch.x, x.reshape(b * 17, 5))
    assert torch.equal(batch.batch, torch.arange(b).repeat_interleave(17))
    expected = torch.cat([COCO_17.edge_index + 17 * i for i in range(b)], dim=1)
    assert torch.equal(batch.edge_index, expected)
    # no edge crosses samples
    assert torch.equal(batch.batch[batch.edge_index[0]], batch.batch[batch.edge_index[1]])
    with pytest.raises(ValueError, match=r"\(batch, 17, F\)"):
        COCO_17.batch(torch.randn(17, 5))


# --- adjacency, hops ---------------------------------------------------------------------------------


def test_normalised_adjacency_matches_hand_computation():
    a = torch.zeros(17, 17)
    for i, j in COCO_17.bones:
        a[i, j] = a[j, i] = 1
    a_hat = a + torch.eye(17)
    d = torch.diag(a_hat.sum(1) ** -0.5)
    expected = d @ a_hat @ d
    got = COCO_17.adjacency()
    torch.testing.assert_close(got, expected)
    torch.testing.assert_close(got, got.t())
    # left_elbow (degree 2 -> 3 with self-loop) to left_wrist (degree 1 -> 2)
    assert got[7, 9].item() == pytest.approx(1 / np.sqrt(3 * 2))


def test_raw_adjacency_options():
    raw = COCO_17.adjacency(self_loops=False, normalize=False)
    assert raw.sum().item() == 38 and raw.diagonal().sum().item() == 0
    with_loops = COCO_17.adjacency(normalize=False)
    assert torch.equal(with_loops, raw + torch.eye(17))


def test_hop_distances():
    d = COCO_17.hop_distances()
    assert d.shape == (17, 17)
    assert torch.equal(d, d.t())
    assert (d.diagonal() == 0).all()
    assert d[COCO_17.index("nose"), COCO_17.index("left_ankle")] == 6
    assert d[COCO_17.index("left_wrist"), COCO_17.index("right_wrist")] == 5
    assert d[COCO_17.index("left_hip"), COCO_17.index("right_hip")] == 1
    assert (d >= 0).all()  # COCO-17 is connected


def test_hop_distances_mark_unreachable():
    sk = Skeleton(["a", "b", "c"], [("a", "b")], flip_permutation=[0, 1, 2])
    assert sk.hop_distances().tolist() == [[0, 1, -1], [1, 0, -1], [-1, -1, 0]]


def test_two_hop_edges():
    ei = COCO_17.k_hop_edge_index(2)
    d = COCO_17.hop_distances()
    edges = set(map(tuple, ei.t().tolist()))
    expected = {(i, j) for i in range(17) for j in range(17) if 1 <= d[i, j] <= 2}
    assert edges == expected
    assert (COCO_17.index("left_wrist"), COCO_17.index("left_shoulder")) in edges
    assert (COCO_17.index("left_wrist"), COCO_17.index("left_hip")) not in edges
    assert torch.equal(COCO_17.k_hop_edge_index(1), COCO_17.edge_index)
    with pytest.raises(ValueError, match="hops must be >= 1"):
        COCO_17.k_hop_edge_index(0)


def test_relabel_keeps_graph_isomorphic():
    perm = torch.randperm(17, generator=torch.Generator().manual_seed(0)).tolist()
    sk = COCO_17.relabel(perm)
    assert sk.names == tuple(COCO_17.names[p] for p in perm)
    p = torch.tensor(perm)
    # the permuted adjacency and hop distances are those of the original
    torch.testing.assert_close(sk.adjacency(), COCO_17.adjacency()[p][:, p])
    assert torch.equal(sk.hop_distances(), COCO_17.hop_distances()[p][:, p])
    # bones and the flip keep their names
    old = {frozenset((COCO_17.names[i], COCO_17.names[j])) for i, j in COCO_17.bones}
    assert {frozenset((sk.names[i], sk.names[j])) for i, j in sk.bones} == old
    for k in range(17):
        assert sk.names[sk.flip_permutation[k]] == COCO_17.names[COCO_17.flip_permutation[perm[k]]]


def test_flip_keypoints_torch_and_numpy():
    kp = random_coco((2,))
    flipped = COCO_17.flip_keypoints(kp, 64)
    assert torch.equal(COCO_17.flip_keypoints(flipped, 64), kp)
    torch.testing.assert_close(flipped[:, LS, 0], 63 - kp[:, RS, 0])
    torch.testing.assert_close(flipped[:, LS, 1:], kp[:, RS, 1:])
    flipped_np = COCO_17.flip_keypoints(kp.numpy(), 64)
    assert isinstance(flipped_np, np.ndarray)
    np.testing.assert_allclose(flipped_np, flipped.numpy())


# --- COCO-17 <-> OpenPose-18 ---------------------------------------------------------------------------


def test_openpose18_is_controlnet_layout():
    assert OPENPOSE_18.names[:5] == ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist")
    assert OPENPOSE_18.names[14:] == ("right_eye", "left_eye", "right_ear", "left_ear")
    # ControlNet annotator limbSeq (1-based) in drawing order
    limb_seq = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12],
                [12, 13], [13, 14], [2, 1], [1, 15], [15, 17], [1, 16], [16, 18]]
    assert [list(b) for b in OPENPOSE_18.bones] == [[i - 1, j - 1] for i, j in limb_seq]


def test_coco_to_openpose_maps_joints_by_name_and_builds_neck():
    kp = random_coco()
    kp[[LS, RS], 2] = 2
    op = coco_to_openpose(kp)
    assert op.shape == (18, 3)
    for k, name in enumerate(OPENPOSE_18.names):
        if name != "neck":
            assert torch.equal(op[k], kp[COCO_17.index(name)])
    torch.testing.assert_close(op[1, :2], (kp[LS, :2] + kp[RS, :2]) / 2)
    assert op[1, 2] == 2


@pytest.mark.parametrize("absent", [LS, RS])
def test_neck_absent_unless_both_shoulders_visible(absent):
    kp = random_coco()
    kp[[LS, RS], 2] = 1
    kp[absent, 2] = 0
    assert coco_to_openpose(kp)[1].tolist() == [0.0, 0.0, 0.0]


def test_conversion_is_batched_and_round_trips_exactly():
    kp = random_coco((4, 3), seed=1)
    op = coco_to_openpose(kp)
    assert op.shape == (4, 3, 18, 3)
    assert torch.equal(openpose_to_coco(op), kp)
    kp_np = kp.numpy()
    op_np = coco_to_openpose(kp_np)
    assert isinstance(op_np, np.ndarray)
    np.testing.assert_array_equal(openpose_to_coco(op_np), kp_np)


def test_conversion_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(\.\.\., 17, 3\)"):
        coco_to_openpose(torch.zeros(18, 3))
    with pytest.raises(ValueError, match=r"\(\.\.\., 18, 3\)"):
        openpose_to_coco(torch.zeros(17, 3))


# --- layouts as config values, and conversion between layouts -----------------------------------------

FIVE = Skeleton(["nose", "left_wrist", "right_wrist", "left_ankle", "right_ankle"],
                [("nose", "left_wrist"), ("nose", "right_wrist"), ("nose", "left_ankle"), ("nose", "right_ankle")],
                name="five")


def test_a_layout_round_trips_through_its_config():
    config = FIVE.to_config()
    assert json.loads(json.dumps(config)) == config
    assert config["flip_permutation"] == [0, 2, 1, 4, 3]
    assert Skeleton.from_config(config) == FIVE and FIVE != COCO_17
    assert resolve_skeleton(config) == FIVE and resolve_skeleton("openpose_18") is OPENPOSE_18
    assert resolve_skeleton(COCO_17) is COCO_17 and SKELETONS == {"coco_17": COCO_17, "openpose_18": OPENPOSE_18}
    with pytest.raises(ValueError, match="unknown skeleton 'coco'"):
        resolve_skeleton("coco")
    with pytest.raises(ValueError, match="joints and bones required"):
        Skeleton.from_config({"name": "x", "joints": ["a"]})


def test_keypoints_convert_between_layouts_by_joint_name():
    kp = random_coco((2,), seed=3)
    five = convert_keypoints(kp, COCO_17, FIVE)
    assert five.shape == (2, 5, 3)
    for k, name in enumerate(FIVE.names):
        assert torch.equal(five[:, k], kp[:, COCO_17.index(name)])
    assert missing_joints(FIVE, COCO_17)[:2] == ["left_eye", "right_eye"] and missing_joints(COCO_17, FIVE) == []
    assert missing_joints(COCO_17, OPENPOSE_18) == []  # the neck comes from the shoulders
    with pytest.raises(ValueError, match=r"coco_17 needs joints \['left_eye'"):
        convert_keypoints(five, FIVE, COCO_17)
    with pytest.raises(ValueError, match=r"expected five keypoints of shape \(\.\.\., 5, 3\)"):
        convert_keypoints(kp, FIVE, COCO_17)
