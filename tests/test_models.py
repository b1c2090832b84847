"""posegraph.models.GUNet in diffusers' model-test style: tiny config, expected slice, save/load, determinism,
any batch size, per-sample timesteps, no cross-sample mixing, the plain-UNet ablation, presets, bad input."""
import inspect
import json
import re

import pytest
import torch

from posegraph.models import GUNet, PRESETS
from posegraph.models.gunet import pool_text
from posegraph.models.state_dict_keys import convert_key, older_parameter_order
from diffusers.models.resnet import ResnetBlock2D
from safetensors.torch import save_file
from posegraph.models.blocks import GraphBlock
from posegraph.nn import GRAPH_LAYERS, SkeletonGraphBlock, SkeletonGraphLayer
from posegraph.skeleton import COCO_17, OPENPOSE_18, Skeleton

LAYERS = [name for name in GRAPH_LAYERS if name != "none"]


def tiny(seed=0, **overrides):
    torch.manual_seed(seed)
    return GUNet.from_preset("tiny", **overrides).eval()


def inputs(model, batch=2, tokens=6, seed=0):
    config, g = model.config, torch.Generator().manual_seed(seed)
    sample = torch.randn(batch, config.in_channels, config.sample_size, config.sample_size, generator=g)
    timestep = torch.randint(0, 1000, (batch,), generator=g)
    text = torch.randn(batch, tokens, config.cross_attention_dim, generator=g)
    return sample, timestep, text


def wake_graph_blocks(model, seed=1):
    """Give the zero-initialised output projections of the graph blocks random weights."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, GraphBlock):
                module.proj_out.weight.copy_(torch.randn(module.proj_out.weight.shape, generator=g) * 0.3)
                if isinstance(module.layer, SkeletonGraphBlock):  # the residual layer of older checkpoints
                    module.layer.proj.weight.copy_(torch.randn(module.layer.proj.weight.shape, generator=g) * 0.3)
    return model


def public(config):
    """The config's constructor arguments as JSON would hold them (tuples become lists)."""
    return json.loads(json.dumps({k: v for k, v in config.items() if not k.startswith("_")}))


def graph_blocks(model):
    return [name for name, module in model.named_modules() if isinstance(module, SkeletonGraphLayer)]


# --- outputs -----------------------------------------------------------------------------------------


def test_tiny_expected_slice():
    model = tiny()
    g = torch.Generator().manual_seed(0)
    sample, text = torch.randn(2, 17, 16, 16, generator=g), torch.randn(2, 6, 32, generator=g)
    with torch.no_grad():
        out = model(sample, torch.tensor([10, 900]), text).sample
    expected_first = torch.tensor([0.0100, -0.0546, -0.1592, 0.0809, 0.1497, 0.0884, -0.1720, -0.1464])
    expected_last = torch.tensor([-0.0214, 0.2188, -0.3822, 0.0513, 0.0305, -0.0833, 0.1049, -0.0090])
    assert torch.allclose(out[0, 0, 0, :8], expected_first, atol=1e-3)
    assert torch.allclose(out[1, 16, 15, -8:], expected_last, atol=1e-3)


@pytest.mark.parametrize("batch", [1, 2, 3, 4, 8, 17])
def test_any_batch_size(batch):
    model = tiny()
    sample, timestep, text = inputs(model, batch)
    with torch.no_grad():
        out = model(sample, timestep, text)
    assert out.sample.shape == sample.shape
    assert torch.isfinite(out.sample).all()
    assert model(sample, timestep, text, return_dict=False)[0].shape == sample.shape


def test_per_sample_timesteps():
    model = tiny()
    sample, _, text = inputs(model, 3)
    timestep = torch.tensor([5, 500, 995])
    with torch.no_grad():
        together = model(sample, timestep, text).sample
        alone = [model(sample[i : i + 1], timestep[i], text[i : i + 1]).sample for i in range(3)]
        shared = model(sample, 500, text).sample
    assert torch.allclose(together, torch.cat(alone), atol=1e-5)
    assert not torch.allclose(together[0], shared[0], atol=1e-3)
    assert torch.allclose(together[1], shared[1], atol=1e-5)
    assert torch.equal(shared, model(sample, torch.tensor([500]), text).sample)


@pytest.mark.parametrize("node_features", ["map", "pixel"])
@pytest.mark.parametrize("layer", LAYERS)
def test_perturbing_sample_i_changes_no_other_sample(layer, node_features):
    """Graph blocks at every position (down, mid, up), awake, for every registered layer."""
    model = wake_graph_blocks(tiny(graph_layer=layer, graph_positions="all", graph_node_features=node_features))
    assert len(graph_blocks(model)) == 5
    sample, timestep, text = inputs(model, 4)
    with torch.no_grad():
        reference = model(sample, timestep, text).sample
        for i in range(4):
            moved = sample.clone()
            moved[i] += torch.randn(moved[i].shape, generator=torch.Generator().manual_seed(i))
            changed = (model(moved, timestep, text).sample != reference).flatten(1).any(1)
            assert changed.tolist() == [j == i for j in range(4)]


@pytest.mark.parametrize("pooled_text, text_context", [(False, "tokens"), (True, "tokens"), (True, "sentence"),
                                                        (False, "both")])
def test_text_conditions_the_output_and_padding_is_ignored(pooled_text, text_context):
    model = tiny(pooled_text=pooled_text, text_context=text_context)
    sample, timestep, text = inputs(model, 2)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]])
    with torch.no_grad():
        out = model(sample, timestep, text, mask).sample
        other_text = model(sample, timestep, torch.randn_like(text)).sample
        padding_changed = text.clone()
        padding_changed[0, 4:] = 100.0
        assert torch.allclose(model(sample, timestep, padding_changed, mask).sample, out, atol=1e-5)
        assert torch.allclose(model(sample, timestep, text, mask.bool()).sample, out, atol=1e-6)
        assert torch.allclose(model(sample, timestep, text, torch.ones(2, 6)).sample,
                              model(sample, timestep, text).sample, atol=1e-6)
    assert not torch.allclose(out, other_text, atol=1e-3)
    assert not torch.allclose(out[0], model(sample, timestep, text).sample[0], atol=1e-4)  # the mask matters


@pytest.mark.parametrize("text_context, only_the_sentence", [("sentence", True), ("tokens", False), ("both", False)])
def test_a_sentence_context_reads_the_sentence_embedding_alone(text_context, only_the_sentence):
    model = tiny(text_context=text_context)
    sample, timestep, text = inputs(model, 2)
    shift = torch.randn(2, 1, text.shape[-1])
    same_mean = torch.cat([text[:, :1] + shift, text[:, 1:2] - shift, text[:, 2:]], dim=1)
    with torch.no_grad():
        reworded = torch.allclose(model(sample, timestep, text).sample, model(sample, timestep, same_mean).sample,
                                  atol=1e-5)
    assert reworded == only_the_sentence


def test_a_pixel_head_adds_a_full_resolution_skip_and_keeps_samples_apart():
    plain, headed = tiny(), tiny(pixel_head_channels=4)
    config = headed.config
    extra = sum(p.numel() for p in headed.parameters()) - sum(p.numel() for p in plain.parameters())
    c, k, s = 4, config.in_channels, config.stem_stride
    # pixel_in (3x3, K -> c) and pixel_out (3x3, 2c -> K); the stem folds c instead of K channels per pixel
    stem = (c - k) * s * s * config.block_out_channels[0] * (1 + config.conv_out_kernel ** 2)
    assert extra == (9 * k * c + c) + (9 * 2 * c * k + k) + stem - (k - c) * s * s
    sample, timestep, text = inputs(headed, 3)
    with torch.no_grad():
        out = headed(sample, timestep, text).sample
        moved = sample.clone()
        moved[1] += 1.0
        changed = (headed(moved, timestep, text).sample != out).flatten(1).any(1)
    assert out.shape == sample.shape and changed.tolist() == [False, True, False]


def test_an_input_skip_starts_as_the_plain_model_and_adds_the_sample_at_a_gain_of_each_timestep():
    plain, skipped = tiny(), tiny(input_skip=True)
    missing = skipped.load_state_dict(plain.state_dict(), strict=False).missing_keys
    assert sorted(missing) == ["skip_gain.1.bias", "skip_gain.1.weight"]
    sample, timestep, text = inputs(skipped, 3)
    with torch.no_grad():
        torch.testing.assert_close(skipped(sample, timestep, text).sample, plain(sample, timestep, text).sample)
        gain = skipped.skip_gain[1]
        gain.bias.copy_(torch.linspace(-1, 1, gain.out_features))
        expected = plain(sample, timestep, text).sample + gain.bias[:, None, None] * sample
        torch.testing.assert_close(skipped(sample, timestep, text).sample, expected)
        gain.weight.normal_()  # the gain now depends on the timestep: each sample gets its own
        together = skipped(sample, timestep, text).sample
        alone = torch.cat([skipped(sample[i:i + 1], timestep[i:i + 1], text[i:i + 1]).sample for i in range(3)])
        torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-4)
        other = skipped(sample, (timestep + 300) % 1000, text).sample - plain(sample, (timestep + 300) % 1000, text).sample
        assert (other - (together - plain(sample, timestep, text).sample)).abs().max() > 1e-3


def test_the_pooled_sentence_embedding_is_the_normalised_mean_of_the_real_tokens():
    text = torch.randn(2, 5, 8)
    mask = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1]])
    pooled = pool_text(text, mask)
    torch.testing.assert_close(pooled[0], torch.nn.functional.normalize(text[0, :2].mean(0), dim=0))
    torch.testing.assert_close(pooled[1], pool_text(text[1:]).squeeze(0))
    assert torch.allclose(pooled.norm(dim=-1), torch.ones(2))
    assert torch.isfinite(pool_text(text, torch.zeros(2, 5))).all()  # no real token: no NaN


def test_the_heatmap_value_range_travels_with_the_config(tmp_path):
    model = tiny(heatmap_scale=10.0, heatmap_shift=-0.2)
    model.save_pretrained(tmp_path)
    loaded = GUNet.from_pretrained(tmp_path)
    assert (loaded.config.heatmap_scale, loaded.config.heatmap_shift) == (10.0, -0.2)
    assert (tiny().config.heatmap_scale, tiny().config.heatmap_shift) == (2.0, -1.0)  # [-1, 1], older checkpoints


def test_any_text_width():
    for width in (384, 768):
        model = tiny(cross_attention_dim=width)
        sample, timestep, text = inputs(model, 2)
        assert model(sample, timestep, text).sample.shape == sample.shape


# --- the plain-UNet ablation and graph positions ----------------------------------------------------


@pytest.mark.parametrize("positions", ["mid", "all"])
def test_graph_layer_none_is_exactly_the_plain_unet(positions):
    plain = tiny(graph_layer="gcn", graph_positions=[])
    none = tiny(graph_layer="none", graph_positions=positions)
    assert graph_blocks(plain) == graph_blocks(none) == []
    assert plain.state_dict().keys() == none.state_dict().keys()
    assert all(torch.equal(v, none.state_dict()[k]) for k, v in plain.state_dict().items())
    sample, timestep, text = inputs(plain, 3)
    with torch.no_grad():
        assert torch.equal(plain(sample, timestep, text).sample, none(sample, timestep, text).sample)


def test_a_fresh_graph_model_computes_the_plain_unet():
    """Graph adapters start as the identity (zero output projection): same function, more parameters."""
    plain = tiny(graph_layer="none")
    torch.manual_seed(0)
    graph = GUNet.from_preset("tiny", graph_positions=["mid"])
    common = {k: v for k, v in graph.state_dict().items() if k in plain.state_dict()}
    plain.load_state_dict(common)
    sample, timestep, text = inputs(plain, 2)
    with torch.no_grad():
        assert torch.allclose(plain(sample, timestep, text).sample, graph.eval()(sample, timestep, text).sample,
                              atol=1e-6)


def test_graph_positions_name_levels():
    assert graph_blocks(tiny()) == ["mid_block.graph.layer"]
    assert graph_blocks(tiny(graph_positions=["down_0", "up_1"])) == [
        "down_blocks.0.graph.layer", "up_blocks.0.graph.layer"]  # up_blocks run deepest first
    assert len(graph_blocks(tiny(graph_positions="all"))) == 5


def test_graph_options_reach_the_blocks():
    model = tiny(graph_layer="gat", graph_hops=2, graph_kwargs={"heads": 2}, graph_node_features="pixel")
    block = model.get_submodule(graph_blocks(model)[0])
    assert block.layer_name == "gat" and block.hops == 2 and block.conv.heads == 2
    assert block.node_features == "pixel" and block.channels == 2
    model = tiny(graph_learnable_edge_weight=True, graph_kwargs={"dense": True})
    block = model.get_submodule(graph_blocks(model)[0])
    assert block.dense and block.log_edge_weight is not None


def test_a_graph_block_has_one_residual_path_and_older_ones_keep_their_inner_one():
    block = GraphBlock(16, size=4, layer="gcn", skeleton=COCO_17, channels_per_joint=2, node_features="map")
    older = GraphBlock(16, size=4, layer="gcn", skeleton=COCO_17, channels_per_joint=2, node_features="map")
    older.use_residual_layer()
    assert "layer.proj.weight" not in block.state_dict() and "layer.proj.weight" in older.state_dict()
    x = torch.randn(2, 16, 4, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for module in (block, older):
            for p in module.parameters():
                p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())) * 0.3)
        for module, inner_residual in ((block, False), (older, True)):
            layer, h = module.layer, module.proj_in(x)
            nodes = h.reshape(2, 17, 2 * 4 * 4)
            messages = layer.act(layer._convolve(layer.norm(nodes)))
            inner = nodes + layer.proj(messages) if inner_residual else messages
            torch.testing.assert_close(module(x), x + module.proj_out(inner.reshape(h.shape)))


def test_the_skeleton_is_the_one_source_of_the_joint_count(tmp_path):
    five = Skeleton(["nose", "left_wrist", "right_wrist", "left_ankle", "right_ankle"],
                    [("nose", "left_wrist"), ("nose", "right_wrist"), ("nose", "left_ankle"), ("nose", "right_ankle")],
                    name="five")
    openpose = tiny(skeleton="openpose_18", graph_positions="all")
    assert openpose.skeleton is OPENPOSE_18 and openpose.config.in_channels == openpose.config.out_channels == 18
    assert tiny(skeleton=OPENPOSE_18).config.skeleton == "openpose_18"  # a built-in layout is stored by name
    model = wake_graph_blocks(tiny(skeleton=five, graph_positions="all"))
    assert model.config.skeleton == five.to_config() and model.config.in_channels == 5
    assert all(layer.num_joints == 5 for layer in model.modules() if isinstance(layer, SkeletonGraphLayer))
    sample, timestep, text = inputs(model, 2)
    model.save_pretrained(tmp_path)
    loaded = GUNet.from_pretrained(tmp_path).eval()
    assert loaded.skeleton == five
    with torch.no_grad():
        assert torch.equal(loaded(sample, timestep, text).sample, model(sample, timestep, text).sample)
    with pytest.raises(ValueError, match="GUNet: the skeleton 'openpose_18' has 18 joints, one heatmap each, so "
                                         "in_channels and out_channels must both be 18; got in_channels=17"):
        GUNet.from_preset("tiny", skeleton="openpose_18", in_channels=17, out_channels=17)
    with pytest.raises(ValueError, match="the skeleton 'coco_17' has 17 joints.*got in_channels=17, out_channels=18"):
        GUNet.from_preset("tiny", out_channels=18)
    with pytest.raises(ValueError, match="GUNet.from_preset: unknown skeleton 'coco'"):
        GUNet.from_preset("tiny", skeleton="coco")


# --- gradients ---------------------------------------------------------------------------------------


def test_backward_reaches_every_parameter_once_graph_blocks_are_awake():
    model = wake_graph_blocks(tiny(graph_positions="all", graph_learnable_edge_weight=True)).train()
    sample, timestep, text = inputs(model, 3)
    model(sample, timestep, text).sample.pow(2).mean().backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert missing == []


def test_a_fresh_model_trains_the_graph_output_projection_first():
    model = tiny().train()
    sample, timestep, text = inputs(model, 2)
    model(sample, timestep, text).sample.pow(2).mean().backward()
    adapter = model.mid_block.graph
    assert adapter.proj_out.weight.grad.abs().sum() > 0
    assert adapter.layer.conv.lin.weight.grad.abs().sum() == 0


def test_gradient_checkpointing_recomputes_each_layer_and_gives_the_same_gradients(monkeypatch):
    """Every layer (one resnet each; the middle's two halves too) runs again in the backward pass."""
    model = wake_graph_blocks(tiny(graph_positions="all")).train()
    sample, timestep, text = inputs(model, 3)
    calls, resnet_forward = [], ResnetBlock2D.forward
    monkeypatch.setattr(ResnetBlock2D, "forward", lambda self, *args: calls.append(1) or resnet_forward(self, *args))

    def gradients_and_unit_calls():
        calls.clear()
        model.zero_grad()
        model(sample, timestep, text).sample.pow(2).mean().backward()
        return {name: p.grad.clone() for name, p in model.named_parameters()}, len(calls)

    plain, plain_calls = gradients_and_unit_calls()
    model.enable_gradient_checkpointing()
    checkpointed, checkpointed_calls = gradients_and_unit_calls()
    assert checkpointed_calls == 2 * plain_calls  # every layer ran again in the backward pass
    for name in plain:
        torch.testing.assert_close(checkpointed[name], plain[name], rtol=0, atol=1e-6, msg=name)
    calls.clear()
    with torch.no_grad():  # nothing to recompute without gradients
        model(sample, timestep, text)
    assert len(calls) == plain_calls


# --- save / load, config, determinism ---------------------------------------------------------------


#: The parameter groups of ``tiny(graph_positions="all", layers_per_block=2)`` in the order the model registered
#: them before its levels became blocks (a level was a list of units, its resampler a Sequential).
OLD_LAYOUT = [
    "time_embedding.linear_1", "time_embedding.linear_2", "conv_in.1",
    "down_levels.0.units.0.resnet", "down_levels.0.units.0.attention", "down_levels.0.units.1.resnet",
    "down_levels.0.units.1.attention", "down_levels.0.units.1.graph", "down_levels.0.resample",
    "down_levels.1.units.0.resnet", "down_levels.1.units.0.attention", "down_levels.1.units.1.resnet",
    "down_levels.1.units.1.attention", "down_levels.1.units.1.graph",
    "mid.0.resnet", "mid.0.attention", "mid.1.resnet", "mid.1.graph",
    "up_levels.0.units.0.resnet", "up_levels.0.units.0.attention", "up_levels.0.units.1.resnet",
    "up_levels.0.units.1.attention", "up_levels.0.units.1.graph", "up_levels.0.resample",
    "up_levels.1.units.0.resnet", "up_levels.1.units.0.attention", "up_levels.1.units.1.resnet",
    "up_levels.1.units.1.attention", "up_levels.1.units.1.graph", "norm_out", "conv_out.1",
]


def old_groups(names):
    """The parameter groups of older parameter ``names``, in order, each once."""
    groups = [re.sub(r"\.(resnet|attention|graph|resample)\..*|\.(weight|bias)$", r".\1", n).rstrip(".") for n in names]
    return [g for i, g in enumerate(groups) if i == 0 or groups[i - 1] != g]


def old_name(name):
    """A parameter's name before the levels became blocks (two layers per level)."""
    rules = [(r"(down|up)_blocks\.(\d)\.resnets\.(\d)", r"\1_levels.\2.units.\3.resnet"),
             (r"(down|up)_blocks\.(\d)\.attentions\.(\d)", r"\1_levels.\2.units.\3.attention"),
             (r"(down|up)_blocks\.(\d)\.graph", r"\1_levels.\2.units.1.graph"),
             (r"down_blocks\.(\d)\.downsampler\.conv", r"down_levels.\1.resample.layers.1"),
             (r"up_blocks\.(\d)\.upsampler\.conv", r"up_levels.\1.resample.layers.0"),
             (r"mid_block\.resnets\.(\d)", r"mid.\1.resnet"), (r"mid_block\.attention", "mid.0.attention"),
             (r"mid_block\.graph", "mid.1.graph")]
    for pattern, replacement in rules:
        name = re.sub("^" + pattern, replacement, name)
    return name.replace(".graph.layer.", ".graph.graph.")  # a graph block's layer was its graph


def test_checkpoints_with_the_older_parameter_names_load_and_compute_the_same(tmp_path):
    """Older checkpoints: other names, and graph blocks whose layer had its own residual path and projection."""
    model = tiny(graph_positions="all", layers_per_block=2, graph_learnable_edge_weight=True)
    for module in model.modules():
        if isinstance(module, GraphBlock):
            module.use_residual_layer()
    model = wake_graph_blocks(model)
    old = {old_name(name): tensor for name, tensor in model.state_dict().items()}
    assert set(old_groups(old)) == set(OLD_LAYOUT)
    assert {convert_key(name) for name in old} == set(model.state_dict())
    parameters = [name for name, _ in model.named_parameters()]  # an optimiser's state follows the older order
    assert old_groups([old_name(name) for name in older_parameter_order(parameters)]) == OLD_LAYOUT
    sample, timestep, text = inputs(model, 2)
    with torch.no_grad():
        expected = model(sample, timestep, text).sample
        fresh = tiny(seed=5, graph_positions="all", layers_per_block=2, graph_learnable_edge_weight=True)
        fresh.load_state_dict(old)  # strict: every older name found its parameter
        assert torch.equal(fresh(sample, timestep, text).sample, expected)
        model.save_config(tmp_path)
        save_file({name: tensor.contiguous() for name, tensor in old.items()},
                  tmp_path / "diffusion_pytorch_model.safetensors")
        loaded, info = GUNet.from_pretrained(tmp_path, output_loading_info=True, low_cpu_mem_usage=False)
        assert not any(info.values())
        assert torch.equal(loaded.eval()(sample, timestep, text).sample, expected)
        assert torch.equal(GUNet.from_pretrained(tmp_path).eval()(sample, timestep, text).sample, expected)



def test_save_load_round_trip(tmp_path):
    model = wake_graph_blocks(tiny(graph_layer="gatv2", graph_positions=["mid", "up_0"], graph_kwargs={"heads": 2}))
    model.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "diffusion_pytorch_model.safetensors"]
    loaded = GUNet.from_pretrained(tmp_path).eval()
    assert public(loaded.config) == public(model.config)
    sample, timestep, text = inputs(model, 3)
    with torch.no_grad():
        assert torch.equal(loaded(sample, timestep, text).sample, model(sample, timestep, text).sample)


def test_config_keys_are_the_constructor_arguments(tmp_path):
    arguments = [name for name in inspect.signature(GUNet.__init__).parameters if name != "self"]
    model = tiny()
    assert [key for key in model.config if not key.startswith("_")] == arguments
    model.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert set(arguments) <= set(saved)
    assert public(GUNet.from_config(saved).config) == public(model.config)


def test_seeded_determinism():
    first, second = tiny(seed=3), tiny(seed=3)
    assert all(torch.equal(v, second.state_dict()[k]) for k, v in first.state_dict().items())
    sample, timestep, text = inputs(first, 2)
    with torch.no_grad():
        assert torch.equal(first(sample, timestep, text).sample, first(sample, timestep, text).sample)
        assert torch.equal(first(sample, timestep, text).sample, second(sample, timestep, text).sample)


# --- presets -----------------------------------------------------------------------------------------


def test_presets_and_overrides():
    assert set(PRESETS) == {"tiny", "cpu", "paper"}
    assert sum(p.numel() for p in tiny().parameters()) < 1_000_000
    model = GUNet.from_preset("tiny", graph_layer="gat", cross_attention_dim=768)
    assert model.config.graph_layer == "gat" and model.config.cross_attention_dim == 768
    default = GUNet()
    assert public(GUNet.from_preset("cpu").config) == public(default.config)  # cpu: the constructor's defaults
    for name, preset in PRESETS.items():  # a preset lists only what differs from the defaults
        assert all(default.config[k] != v for k, v in preset.items()), name


@pytest.mark.parametrize("batch", [1, 3, 64])
def test_cpu_preset_runs(batch):
    torch.manual_seed(0)
    model = GUNet.from_preset("cpu").eval()
    sample, timestep, text = inputs(model, batch, tokens=12)
    with torch.inference_mode():
        assert model(sample, timestep, text).sample.shape == (batch, 17, 32, 32)


@pytest.mark.slow
def test_paper_preset_runs_at_batch_1_and_3():
    """The paper's size runs at odd batch sizes too."""
    torch.manual_seed(0)
    model = GUNet.from_preset("paper").eval()
    assert model.config.block_out_channels == (320, 640, 1280, 1280) and model.config.cross_attention_dim == 768
    with torch.inference_mode():
        for batch in (1, 3):
            sample, timestep, text = inputs(model, batch, tokens=8)
            out = model(sample, timestep, text).sample
            assert out.shape == (batch, 17, 32, 32) and torch.isfinite(out).all()


# --- bad input ---------------------------------------------------------------------------------------


def test_wrong_sample_shape_is_a_clear_error():
    model = tiny()
    _, timestep, text = inputs(model, 2)
    with pytest.raises(ValueError, match=r"expects sample of shape \(batch, 17, 16, 16\).*got \(2, 18, 16, 16\)"):
        model(torch.randn(2, 18, 16, 16), timestep, text)
    with pytest.raises(ValueError, match=r"got \(2, 17, 32, 32\)"):
        model(torch.randn(2, 17, 32, 32), timestep, text)


def test_text_width_mismatch_names_the_text_encoder():
    model = tiny()
    sample, timestep, _ = inputs(model, 2)
    with pytest.raises(ValueError, match="width 32 \\(cross_attention_dim\\) but got width 384; the text encoder must"):
        model(sample, timestep, torch.randn(2, 6, 384))
    with pytest.raises(ValueError, match="encoder_hidden_states of shape \\(batch=2, tokens, 32\\)"):
        model(sample, timestep, torch.randn(3, 6, 32))


def test_bad_mask_and_timestep_shapes_are_clear_errors():
    model = tiny()
    sample, timestep, text = inputs(model, 2)
    with pytest.raises(ValueError, match="encoder_attention_mask of shape \\(batch, tokens\\) = \\(2, 6\\)"):
        model(sample, timestep, text, torch.ones(2, 5))
    with pytest.raises(ValueError, match="timestep as a scalar or of shape \\(batch=2,\\)"):
        model(sample, torch.tensor([1, 2, 3]), text)


def test_bad_config_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown graph layer 'gin'; valid names: none, gcn, gat"):
        GUNet.from_preset("tiny", graph_layer="gin")
    with pytest.raises(ValueError, match="unknown GUNet preset 'huge'; presets: tiny, cpu, paper"):
        GUNet.from_preset("huge")
    with pytest.raises(ValueError, match="unknown config keys \\['graph_layers'\\]"):
        GUNet.from_preset("tiny", graph_layers="gat")
    with pytest.raises(ValueError, match="unknown graph_positions \\['middle'\\]"):
        GUNet.from_preset("tiny", graph_positions=["middle"])
    with pytest.raises(ValueError, match="sample_size 18 must be a multiple of 4"):
        GUNet.from_preset("tiny", sample_size=18)
    with pytest.raises(ValueError, match="attention_levels has 3 entries for 2 levels"):
        GUNet.from_preset("tiny", attention_levels=(True, True, True))
