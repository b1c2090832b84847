"""posegraph.nn: the graph-layer registry and SkeletonGraphBlock (batching, equivariance, dense path, errors)."""
import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.nn.conv import GATConv, GCNConv, ResGatedGraphConv

from posegraph.nn import (GRAPH_LAYERS, SkeletonGraphBlock, SkeletonGraphLayer, make_graph_layer, resolve_graph_layer,
                          takes_edge_weight)
from posegraph.skeleton import COCO_17, OPENPOSE_18

LAYERS = [name for name in GRAPH_LAYERS if name != "none"]
WEIGHTED = [name for name in LAYERS if takes_edge_weight(name)]
K = COCO_17.num_joints


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def perturb(module, seed=1, scale=0.5):
    """Give every parameter random values, so that zero-initialised parts and unit edge weights do something."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=g) * scale)
    return module


def block(layer="gcn", channels=6, seed=0, **kwargs):
    torch.manual_seed(seed)
    return perturb(SkeletonGraphBlock(channels, layer, **kwargs), seed + 1).eval()


def per_joint_maps(x, perm):
    """Permute the joint channel groups of maps ``(batch, K * c, h, w)``."""
    b, c, h, w = x.shape
    return x.view(b, K, c // K, h, w)[:, perm].reshape(b, c, h, w)


# --- registry ----------------------------------------------------------------------------------------


def test_the_registry_names_the_common_pyg_layers():
    assert set(GRAPH_LAYERS) >= {"none", "gcn", "gat", "gatv2", "cheb", "graphconv", "sage", "transformer"}
    assert resolve_graph_layer("none") is None and make_graph_layer("none", 4, 4) is None


@pytest.mark.parametrize("query", ["gcn", "GCN", "GCNConv", "gcn_conv", "Gcn-Conv", GCNConv])
def test_resolve_accepts_names_class_names_and_classes(query):
    assert resolve_graph_layer(query) is GCNConv


@pytest.mark.parametrize("layer", LAYERS)
def test_make_graph_layer_maps_in_to_out_channels(layer):
    conv = make_graph_layer(layer, 5, 7, **({"heads": 3} if layer in ("gat", "gatv2", "transformer") else {}))
    x, edge_index = randn(K, 5), COCO_17.edge_index
    assert conv(x, edge_index).shape == (K, 7)  # heads are averaged, not concatenated


def test_unknown_layer_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown graph layer 'gin'.*gcn, gat, gatv2, cheb, graphconv, sage, transformer"):
        SkeletonGraphBlock(4, "gin")
    with pytest.raises(TypeError, match="registry name or a torch_geometric MessagePassing class"):
        resolve_graph_layer(torch.nn.Linear)


def test_a_foreign_pyg_class_builds_a_block():
    b = SkeletonGraphBlock(4, ResGatedGraphConv)
    assert repr(b) == "SkeletonGraphBlock(ResGatedGraphConv, 17 joints, 4 -> 4)"
    assert b(randn(2, K, 4)).shape == (2, K, 4)


# --- the block: shapes, identity at initialisation, repr --------------------------------------------


def test_repr_in_pyg_style():
    assert repr(SkeletonGraphBlock(64, "gcn")) == "SkeletonGraphBlock(gcn, 17 joints, 64 -> 64)"
    assert repr(SkeletonGraphBlock(8, GATConv, hidden_channels=16, hops=2, node_features="pixel")) == (
        "SkeletonGraphBlock(gat, 17 joints, 8 -> 16, hops=2, node_features='pixel')")
    assert repr(SkeletonGraphBlock(8, "gcn", learnable_edge_weight=True, dense=True, skeleton=OPENPOSE_18)) == (
        "SkeletonGraphBlock(gcn, 18 joints, 8 -> 8, learnable_edge_weight=True, dense=True)")


@pytest.mark.parametrize("layer", list(GRAPH_LAYERS))
def test_a_fresh_block_is_the_identity_on_nodes_and_maps(layer):
    nodes, maps = randn(3, K, 12), randn(3, K * 3, 2, 2)
    map_block = SkeletonGraphBlock(12, layer)
    pixel_block = SkeletonGraphBlock(3, layer, node_features="pixel")
    assert torch.equal(map_block(nodes), nodes)
    assert torch.equal(map_block(maps), maps)
    assert torch.equal(pixel_block(maps), maps)


@pytest.mark.parametrize("node_features", ["map", "pixel"])
def test_the_layer_is_the_block_without_its_residual_path(node_features):
    channels = 3 * 2 * 2 if node_features == "map" else 3
    b = block("gcn", channels, node_features=node_features, learnable_edge_weight=True)
    layer = SkeletonGraphLayer(channels, "gcn", node_features=node_features, learnable_edge_weight=True)
    assert repr(layer) == repr(b).replace("SkeletonGraphBlock", "SkeletonGraphLayer")
    assert set(b.state_dict()) - set(layer.state_dict()) == {"proj.weight", "proj.bias"}
    layer.load_state_dict({k: v for k, v in b.state_dict().items() if not k.startswith("proj.")})
    nodes, maps = randn(2, K, channels), randn(2, K * 3, 2, 2)
    with torch.no_grad():
        if node_features == "map":
            assert torch.allclose(b(nodes), nodes + b.proj(layer(nodes)), atol=1e-6)
        messages = layer(maps)
        assert messages.shape == maps.shape and not torch.allclose(messages, maps)
        assert torch.allclose(b(maps), maps + b.proj(b.message(b._to_nodes(maps))).reshape(maps.shape)
                              if node_features == "map" else b(maps), atol=1e-6)


def test_none_has_no_parameters():
    assert list(SkeletonGraphBlock(16, "none").parameters()) == []


def test_reset_parameters_restores_the_identity():
    b = block("gcn", learnable_edge_weight=True)
    x = randn(2, K, 6)
    assert not torch.allclose(b(x), x)
    b.reset_parameters()
    assert torch.equal(b(x), x)
    assert torch.equal(b.edge_weight(), torch.ones(COCO_17.edge_index.shape[1]))


@pytest.mark.parametrize("node_features", ["map", "pixel"])
def test_map_layouts_group_channels_per_joint(node_features):
    """A map block sees joint k's channel group as node k: zeroing the groups of other joints only matters
    through the graph, so with a graph of no edges node k sees nothing but its own group."""
    channels = 2 * 3 * 3 if node_features == "map" else 2
    b = block("graphconv", channels, node_features=node_features)
    b.edge_index = torch.empty(2, 0, dtype=torch.long)  # no bones: every joint on its own
    x = randn(2, K * 2, 3, 3)
    only_joint_4 = torch.zeros_like(x)
    only_joint_4[:, 8:10] = x[:, 8:10]
    assert torch.allclose(b(x)[:, 8:10], b(only_joint_4)[:, 8:10], atol=1e-6)


# --- one pose never sees another ---------------------------------------------------------------------


@pytest.mark.parametrize("node_features", ["map", "pixel"])
@pytest.mark.parametrize("layer", LAYERS)
def test_perturbing_sample_i_changes_no_other_sample(layer, node_features):
    channels = 2 * 2 * 2 if node_features == "map" else 2
    b = block(layer, channels, node_features=node_features)
    x = randn(4, K * 2, 2, 2)
    for i in range(4):
        moved = x.clone()
        moved[i] += randn(K * 2, 2, 2, seed=10 + i)
        changed = (b(moved) != b(x)).flatten(1).any(1)
        assert changed.tolist() == [j == i for j in range(4)]


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("batch", [1, 2, 3, 4, 8, 17])
def test_any_batch_size_gives_each_pose_its_own_answer(layer, batch):
    """Batch sizes that a graph product over the batch axis would get wrong (1, 3, 4, 8) or mix (2, 17)."""
    b = block(layer)
    x = randn(batch, K, 6)
    alone = torch.cat([b(x[i : i + 1]) for i in range(batch)])
    assert torch.allclose(b(x), alone, atol=1e-5)


# --- static batching equals PyG's own batching ------------------------------------------------------


def reference(b, x, per_graph):
    """The block's math with PyG doing the batching: ``Batch.from_data_list`` or a loop over graphs."""
    h = b.norm(x)
    weight = b.edge_weight()
    if per_graph:
        conv = torch.stack([
            b.conv(hi, b.edge_index, **({} if weight is None else {"edge_weight": weight})) for hi in h])
    else:
        batch = Batch.from_data_list([Data(x=hi, edge_index=b.edge_index) for hi in h])
        kwargs = {} if weight is None else {"edge_weight": weight.repeat(len(x))}
        conv = b.conv(batch.x, batch.edge_index, **kwargs).view(len(x), K, -1)
    return x + b.proj(b.act(conv))


@pytest.mark.parametrize("hops", [1, 2])
@pytest.mark.parametrize("layer", LAYERS)
def test_static_batched_block_equals_batch_from_data_list(layer, hops):
    b = block(layer, hops=hops, learnable_edge_weight=layer in WEIGHTED)
    x = randn(5, K, 6)
    with torch.no_grad():
        assert torch.allclose(b(x), reference(b, x, per_graph=False), atol=1e-5)
        assert torch.allclose(b(x), reference(b, x, per_graph=True), atol=1e-5)


def test_gat_batches_as_a_static_graph():
    """GATConv fixes node_dim=0: a (batch, K, F) tensor fed straight into it would treat the batch as nodes."""
    b = block("gat", heads=2)
    x = randn(3, K, 6)
    assert b.conv.node_dim == 0
    assert torch.allclose(b(x), reference(b, x, per_graph=True), atol=1e-5)
    assert torch.allclose(b(x)[1], b(x[1:2])[0], atol=1e-5)


def test_the_batched_graph_is_cached_per_batch_size():
    b = block("gcn")
    b(randn(3, K, 6))
    first = b._batched_edge_index(3)
    assert b._batched_edge_index(3) is first
    assert b._batched_edge_index(4).shape == (2, 4 * COCO_17.edge_index.shape[1])
    assert b._batched_edge_index(4)[:, -1].max() < 4 * K


# --- relabelling the joints --------------------------------------------------------------------------

PERM = [12, 3, 0, 16, 7, 1, 9, 14, 2, 5, 11, 4, 15, 8, 6, 13, 10]


@pytest.mark.parametrize("hops", [1, 2])
@pytest.mark.parametrize("layer", LAYERS)
def test_relabelling_joints_permutes_the_output(layer, hops):
    """Every registered layer is permutation-equivariant: relabel the skeleton, permute the input's joints
    (node rows, or channel groups of a map), and the output is permuted the same way."""
    original = block(layer, 2 * 2 * 2, hops=hops)
    relabelled = SkeletonGraphBlock(8, layer, COCO_17.relabel(PERM), hops=hops)
    relabelled.load_state_dict(original.state_dict())
    pixel = block(layer, 2, hops=hops, node_features="pixel")
    pixel_relabelled = SkeletonGraphBlock(2, layer, COCO_17.relabel(PERM), hops=hops, node_features="pixel")
    pixel_relabelled.load_state_dict(pixel.state_dict())
    nodes, maps = randn(3, K, 8), randn(3, K * 2, 2, 2)
    with torch.no_grad():
        assert torch.allclose(relabelled(nodes[:, PERM]), original(nodes)[:, PERM], atol=1e-5)
        assert torch.allclose(relabelled(per_joint_maps(maps, PERM)), per_joint_maps(original(maps), PERM), atol=1e-5)
        assert torch.allclose(pixel_relabelled(per_joint_maps(maps, PERM)), per_joint_maps(pixel(maps), PERM),
                              atol=1e-5)


def relabel_edge_weights(source, target, perm):
    """Copy ``source``'s learned weight of every joint pair to the same (relabelled) pair of ``target``."""
    inv = {old: new for new, old in enumerate(perm)}
    target_pair = {(int(s), int(d)): int(p) for (s, d), p in zip(target.edge_index.t(), target.pair_of_edge)}
    with torch.no_grad():
        for (s, d), p in zip(source.edge_index.t(), source.pair_of_edge):
            target.log_edge_weight[target_pair[inv[int(s)], inv[int(d)]]] = source.log_edge_weight[p]


@pytest.mark.parametrize("layer", WEIGHTED)
def test_learned_edge_weights_follow_the_relabelling(layer):
    """Learned per-bone weights are indexed by bone, so they must be relabelled with the joints."""
    original = block(layer, learnable_edge_weight=True, hops=2)
    relabelled = SkeletonGraphBlock(6, layer, COCO_17.relabel(PERM), learnable_edge_weight=True, hops=2)
    relabelled.load_state_dict(original.state_dict())
    x = randn(2, K, 6)
    with torch.no_grad():
        assert not torch.allclose(relabelled(x[:, PERM]), original(x)[:, PERM], atol=1e-3)  # weights on wrong pairs
        relabel_edge_weights(original, relabelled, PERM)
        assert torch.allclose(relabelled(x[:, PERM]), original(x)[:, PERM], atol=1e-5)


# --- options -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", WEIGHTED)
def test_learned_edge_weights_are_per_joint_pair_and_change_the_output(layer):
    b = block(layer, learnable_edge_weight=True)
    assert b.log_edge_weight.shape == (len(COCO_17.bones),)
    weight = b.edge_weight()
    assert (weight > 0).all()
    assert torch.equal(weight[:19], weight[19:])  # both directions of a bone share one weight
    x = randn(2, K, 6)
    before = b(x)
    with torch.no_grad():
        b.log_edge_weight[0] += 1.0
    assert not torch.allclose(b(x), before)


def test_two_hops_connect_joints_two_bones_apart():
    one, two = block("gcn", hops=1), block("gcn", hops=2)
    assert one.edge_index.shape[1] == 38
    pairs = set(map(tuple, two.edge_index.t().tolist()))
    assert (COCO_17.index("left_shoulder"), COCO_17.index("left_wrist")) in pairs
    assert (COCO_17.index("left_shoulder"), COCO_17.index("left_ankle")) not in pairs


@pytest.mark.parametrize("node_features", ["map", "pixel"])
@pytest.mark.parametrize("hops", [1, 2])
@pytest.mark.parametrize("layer", ["gcn", "graphconv"])
def test_dense_path_equals_sparse(layer, hops, node_features):
    channels = 2 * 2 * 2 if node_features == "map" else 2
    kwargs = dict(hops=hops, learnable_edge_weight=True, node_features=node_features)
    sparse = block(layer, channels, **kwargs)
    dense = SkeletonGraphBlock(channels, layer, dense=True, **kwargs)
    assert dense.state_dict().keys() == sparse.state_dict().keys()
    dense.load_state_dict(sparse.state_dict())
    x = randn(3, K * 2, 2, 2)
    with torch.no_grad():
        assert torch.allclose(dense(x), sparse(x), atol=1e-5)


@pytest.mark.parametrize("layer", LAYERS)
def test_gradients_reach_every_graph_parameter(layer):
    b = block(layer, learnable_edge_weight=layer in WEIGHTED).train()
    (b(randn(3, K, 6)) ** 2).sum().backward()
    for name, p in b.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_a_fresh_block_trains_its_output_projection_first():
    b = SkeletonGraphBlock(6, "gcn")
    (b(randn(3, K, 6)) ** 2).sum().backward()
    assert b.proj.weight.grad.abs().sum() > 0
    assert b.conv.lin.weight.grad.abs().sum() == 0  # behind the zero projection until it moves


def test_other_skeletons_work():
    b = block("gat", 3, skeleton=OPENPOSE_18, node_features="pixel")
    x = randn(2, 18 * 3, 4, 4)
    assert b(x).shape == x.shape


def test_bfloat16():
    b = block("gcn", learnable_edge_weight=True).to(torch.bfloat16)
    assert b(randn(2, K, 6).bfloat16()).dtype == torch.bfloat16


# --- bad input ---------------------------------------------------------------------------------------


def test_channels_not_divisible_by_the_joints_is_a_clear_error():
    with pytest.raises(ValueError, match="100 channels are not a multiple of the 17 joints of coco_17.*17 \\* c"):
        SkeletonGraphBlock(4, "gcn")(randn(2, 100, 2, 2))


def test_map_size_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="built for 16; build it with channels=36 or use node_features='pixel'"):
        SkeletonGraphBlock(16, "gcn")(randn(2, K * 4, 3, 3))
    with pytest.raises(ValueError, match="node_features='pixel' expects 17 \\* 4 channels, got 34"):
        SkeletonGraphBlock(4, "gcn", node_features="pixel")(randn(2, K * 2, 3, 3))


def test_wrong_node_shapes_are_clear_errors():
    with pytest.raises(ValueError, match="expected node features \\(batch, 17, 4\\), got \\(2, 18, 4\\)"):
        SkeletonGraphBlock(4, "gcn")(randn(2, 18, 4))
    with pytest.raises(ValueError, match="got a tensor of shape \\(17, 4\\)"):
        SkeletonGraphBlock(4, "gcn")(randn(K, 4))


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="'gat' takes no edge_weight.*gcn, cheb, graphconv"):
        SkeletonGraphBlock(4, "gat", learnable_edge_weight=True)
    with pytest.raises(ValueError, match="'gat' has no dense variant; dense=True works with \\['gcn', 'graphconv'\\]"):
        SkeletonGraphBlock(4, "gat", dense=True)
    with pytest.raises(ValueError, match="node_features must be one of \\('map', 'pixel'\\)"):
        SkeletonGraphBlock(4, "gcn", node_features="joint")
