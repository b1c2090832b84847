"""The paper authors' released GUNet run through posegraph: a small random model in the release's layout (same
config keys and state-dict names, small widths, a tiny CLIP written here) stands in for the real weights."""
import json

import pytest
import torch
from diffusers import DPMSolverMultistepScheduler, PNDMScheduler, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from posegraph.heatmaps import keypoints_to_heatmaps, lowest_regions_to_keypoints
from posegraph.models import UpstreamGUNet, UpstreamSpatialBlock
from posegraph.pipelines import PoseGraphPipeline, is_upstream_release
from posegraph.render import draw_openpose
from posegraph.evaluate import main as evaluate_main
from posegraph.sample import main as sample_main

#: The release's fixed matrix, row by row, as its model code spells it out (COCO-17 order).
RELEASE_MATRIX = """
11100000000000000
11010000000000000
10101000000000000
01010000000000000
00101000000000000
00000111000100000
00000110100010000
00000101010000000
00000010101000000
00000001010000000
00000000101000000
00000100000111000
00000010000110100
00000000000101010
00000000000010101
00000000000001010
00000000000000101
"""

TINY_UNET = dict(
    sample_size=32, in_channels=17, out_channels=17, layers_per_block=1, block_out_channels=(8, 8, 16, 16),
    down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
    up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    cross_attention_dim=16, attention_head_dim=2, norm_num_groups=4, flip_sin_to_cos=True, freq_shift=0,
)


def release_block(x, theta, b):
    """The release's spatial block as its code runs it at batch 2: each sample copied 17 times, the graph
    product over the copies (the map's rows as channels), ReLU of the sum with the input, copies summed."""
    matrix = torch.tensor([[float(c) for c in row] for row in RELEASE_MATRIX.split()])[None]  # (1, 17, 17)
    outputs = []
    for sample in x:
        copies = sample[None].repeat(17, 1, 1, 1)                 # (17, C, H, W)
        nodes = copies.permute(1, 0, 2, 3).permute(0, 2, 3, 1)    # (C, H, W, 17)
        product = torch.einsum("knm,bitm->bitkn", matrix, nodes)
        mixed = torch.einsum("iok,bitkn->botn", theta, product) + b
        out = torch.relu(mixed + nodes).permute(0, 3, 1, 2).permute(1, 0, 2, 3)
        outputs.append(out.sum(0, keepdim=True))
    return torch.cat(outputs)


def tiny_clip(folder):
    letters = list("abcdefghijklmnopqrstuvwxyz")
    tokens = letters + [c + "</w>" for c in letters] + ["<|startoftext|>", "<|endoftext|>"]
    vocab = folder / "vocab.json"
    vocab.write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    merges = folder / "merges.txt"
    merges.write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(vocab_file=str(vocab), merges_file=str(merges), model_max_length=77)
    config = CLIPTextConfig(vocab_size=len(tokens), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                            num_attention_heads=2, max_position_embeddings=77, bos_token_id=len(tokens) - 2,
                            eos_token_id=len(tokens) - 1, pad_token_id=len(tokens) - 1)
    return CLIPTextModel(config), tokenizer


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A random model saved in the release's layout, as diffusers saves the authors' pipeline."""
    folder = tmp_path_factory.mktemp("release")
    torch.manual_seed(0)
    unet = UpstreamGUNet(**TINY_UNET)
    with torch.no_grad():
        unet.spa_block.theta.mul_(3)  # a block that visibly changes the output
    unet.save_pretrained(folder / "unet")
    config = json.loads((folder / "unet" / "config.json").read_text())
    config["_class_name"] = "GUNet2DConditionModel"
    (folder / "unet" / "config.json").write_text(json.dumps(config, indent=2))
    PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True,
                  set_alpha_to_one=False, steps_offset=1).save_pretrained(folder / "scheduler")
    (folder / "text_encoder").mkdir()
    (folder / "tokenizer").mkdir()
    text_model, tokenizer = tiny_clip(folder / "tokenizer")
    text_model.save_pretrained(folder / "text_encoder")
    tokenizer.save_pretrained(folder / "tokenizer")
    (folder / "model_index.json").write_text(json.dumps({
        "_class_name": "G_StableDiffusionPipeline", "unet": ["model", "GUNet2DConditionModel"],
        "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
        "scheduler": ["diffusers", "PNDMScheduler"], "vae": [None, None], "safety_checker": [None, None],
        "feature_extractor": [None, None]}))
    return folder


@pytest.fixture(scope="module")
def pipe(release):
    return PoseGraphPipeline.from_pretrained(release)


def inputs(batch, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(batch, 17, 32, 32, generator=g), torch.randint(0, 1000, (batch,), generator=g),
            torch.randn(batch, 6, 16, generator=g))


# -- the spatial block ------------------------------------------------------------------------------------


def test_the_spatial_block_is_the_release_formula_per_sample():
    torch.manual_seed(0)
    block = UpstreamSpatialBlock()
    with torch.no_grad():
        block.theta.mul_(3)
    x = torch.randn(2, 24, 4, 4)
    expected = release_block(x, block.theta.detach(), block.b.detach())
    torch.testing.assert_close(block(x), expected, atol=1e-5, rtol=1e-5)
    assert [name for name, _ in block.state_dict().items()] == ["theta", "b"]
    assert block.theta.shape == (4, 4, 1) and block.b.shape == (1, 4, 1, 1)


def test_the_spatial_block_refuses_maps_of_the_wrong_height():
    with pytest.raises(ValueError, match="height 4.*32x32"):
        UpstreamSpatialBlock()(torch.randn(1, 8, 8, 8))


# -- the model --------------------------------------------------------------------------------------------


def test_the_model_at_batch_2_matches_diffusers_unet_with_the_release_block(release):
    """Independent reference: diffusers' UNet2DConditionModel with the same weights and the release's own
    batch-2 formula hooked after its middle block."""
    model = UpstreamGUNet.from_pretrained(release / "unet").eval()
    state = model.state_dict()
    reference = UNet2DConditionModel(**TINY_UNET).eval()
    reference.load_state_dict({k: v for k, v in state.items() if not k.startswith("spa_block.")})
    reference.mid_block.register_forward_hook(
        lambda module, args, output: release_block(output, state["spa_block.theta"], state["spa_block.b"]))
    sample, timestep, text = inputs(2)
    with torch.no_grad():
        got = model(sample, timestep, encoder_hidden_states=text).sample
        expected = reference(sample, timestep, encoder_hidden_states=text).sample
        plain = UNet2DConditionModel(**TINY_UNET).eval()
        plain.load_state_dict(reference.state_dict())
        without_block = plain(sample, timestep, encoder_hidden_states=text).sample
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert (got - without_block).abs().max() > 1e-2  # the block matters: the comparison is not vacuous


@pytest.mark.parametrize("batch", [1, 3, 64])
def test_any_batch_size_gives_each_sample_its_output_alone(release, batch):
    model = UpstreamGUNet.from_pretrained(release / "unet").eval()
    sample, timestep, text = inputs(batch, seed=batch)
    with torch.no_grad():
        together = model(sample, timestep, encoder_hidden_states=text).sample
        for i in range(batch):
            alone = model(sample[i:i + 1], timestep[i:i + 1], encoder_hidden_states=text[i:i + 1]).sample
            torch.testing.assert_close(together[i:i + 1], alone, atol=1e-5, rtol=1e-5)


def test_the_text_mask_is_ignored_as_the_release_attends_to_every_position(release):
    model = UpstreamGUNet.from_pretrained(release / "unet").eval()
    sample, timestep, text = inputs(2)
    mask = torch.tensor([[1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0]], dtype=torch.bool)
    with torch.no_grad():
        torch.testing.assert_close(model(sample, timestep, text, encoder_attention_mask=mask).sample,
                                   model(sample, timestep, text).sample)


# -- the decoder ------------------------------------------------------------------------------------------


def test_the_decoder_places_a_joint_at_the_centroid_of_its_lowest_region():
    keypoints = torch.tensor([[10.3, 20.7, 2.0], [8.0, 9.0, 2.0]]).repeat(9, 1)[:17]
    maps = 1 - 2 * keypoints_to_heatmaps(keypoints, 32, sigma=3.0)  # the release's range: joint at -1
    maps[1] = 1.0
    maps[1, 20:28, 2:10] = -0.5   # 64 pixels, shallower but larger ...
    maps[1, 0:2, 0:2] = -1.0      # ... than the 4 deepest pixels: the largest region wins
    maps[2] = torch.randn(32, 32, generator=torch.Generator().manual_seed(0))  # noise: scattered, no joint
    decoded, confidence = lowest_regions_to_keypoints(maps[None], return_confidence=True)
    assert decoded.shape == (1, 17, 3) and confidence.shape == (1, 17)
    torch.testing.assert_close(decoded[0, 0, :2], torch.tensor([10.3, 20.7]), atol=0.1, rtol=0)
    torch.testing.assert_close(decoded[0, 1], torch.tensor([5.5, 23.5, 2.0]))
    assert confidence[0, 1].item() == pytest.approx(0.75)
    assert decoded[0, 2, 2] == 0 and decoded[0, 3, 2] == 2
    torch.testing.assert_close(decoded[0, 3, :2], torch.tensor([8.0, 9.0]), atol=0.1, rtol=0)


def test_a_region_whose_outline_area_is_5_or_less_is_no_joint():
    maps = torch.ones(2, 10, 10)  # 100 pixels: the lowest 5 % is every pixel at or below the 6th lowest value
    maps[0, 2:5, 2:5] = -1        # 3x3: outline area 4
    maps[1, 2:5, 2:6] = -1        # 3x4: outline area 6
    decoded = lowest_regions_to_keypoints(maps)
    assert decoded[0, 2] == 0 and decoded[1, 2] == 2
    torch.testing.assert_close(decoded[1, :2], torch.tensor([3.5, 3.0]))


# -- loading, sampling, files -----------------------------------------------------------------------------


def test_from_pretrained_recognises_the_release_folder(release, pipe):
    assert is_upstream_release(release)
    assert isinstance(pipe.unet, UpstreamGUNet) and pipe.unet.heatmap_size == 32
    assert isinstance(pipe.scheduler, PNDMScheduler) and pipe.scheduler.config.prediction_type == "epsilon"
    assert isinstance(pipe.text_encoder.model, CLIPTextModel)
    # every prompt padded to the encoder's full length, as the release encodes with CLIP-L
    assert pipe.text_encoder.to_config() == {"name_or_path": str(release), "max_length": 77}


def test_a_release_folder_without_safetensors_weights_is_refused(release, tmp_path):
    folder = tmp_path / "release"
    (folder / "unet").mkdir(parents=True)
    (folder / "unet" / "config.json").write_text((release / "unet" / "config.json").read_text())
    (folder / "unet" / "diffusion_pytorch_model.bin").write_bytes(b"")
    with pytest.raises(ValueError, match="pickled .bin"):
        PoseGraphPipeline.from_pretrained(folder)


def test_sampling_any_number_of_poses_with_dpm_solver(pipe):
    out = pipe(["a man riding a wave", "a girl drinking coffee"], num_poses_per_prompt=3, scheduler="dpm-solver++",
               num_inference_steps=3, generator=0, canvas_size=64, batch_size=4, return_heatmaps=True)
    assert out.keypoints.shape == (6, 17, 3) and out.heatmaps.shape == (6, 17, 32, 32)
    assert out.heatmaps.min() >= 0 and out.heatmaps.max() <= 1
    xy = out.keypoints[..., :2]
    assert torch.isfinite(xy).all() and ((xy >= -0.5) & (xy <= 63.5)).all()
    again = pipe("a girl drinking coffee", scheduler="dpm-solver++", num_inference_steps=3, generator=out.seeds[4],
                 canvas_size=64)
    torch.testing.assert_close(again.keypoints[0], out.keypoints[4], atol=1e-3, rtol=0)  # batch-independent
    assert draw_openpose(out.keypoints[0], 64, 64).shape == (64, 64, 3)


def test_the_stored_scheduler_runs_the_release_s_own_loop(pipe):
    out = pipe("a person", num_inference_steps=4, generator=1, canvas_size=32, guidance_scale=7.5)
    assert out.keypoints.shape == (1, 17, 3)
    stepped = pipe("a person", num_inference_steps=4, generator=1, canvas_size=32,
                   scheduler=DPMSolverMultistepScheduler.from_config(pipe.scheduler.config))
    assert not torch.equal(out.keypoints, stepped.keypoints)


def test_save_and_reload_a_pipeline_loaded_from_the_release(pipe, tmp_path):
    pipe.save_pretrained(tmp_path / "saved")
    again = PoseGraphPipeline.from_pretrained(tmp_path / "saved")
    assert isinstance(again.unet, UpstreamGUNet) and type(again.scheduler) is PNDMScheduler
    first = pipe("a person", num_inference_steps=2, generator=3, scheduler="ddim")
    second = again("a person", num_inference_steps=2, generator=3, scheduler="ddim")
    torch.testing.assert_close(first.keypoints, second.keypoints)


def test_the_sample_command_writes_controlnet_images_and_json_for_5_poses(release, tmp_path):
    out = sample_main(["--checkpoint", str(release), "--prompt", "a man riding a surfboard", "--num-samples", "5",
                       "--steps", "2", "--size", "128", "--out", str(tmp_path / "poses")])
    for i in range(5):
        assert (out / f"pose_{i:04d}.png").is_file()
        openpose = json.loads((out / f"pose_{i:04d}_keypoints.json").read_text())
        assert len(openpose["people"][0]["pose_keypoints_2d"]) == 18 * 3
    poses = json.loads((out / "poses.json").read_text())
    assert len(poses) == 5 and all(len(p["keypoints"]) == 17 * 3 for p in poses)
    assert (out / "grid.png").is_file()


#: A standing person in a 32-pixel frame (COCO-17 order): what the decoder returns in the evaluation test,
#: since random weights draw no body whose frame the metrics can measure.
STANDING = [(16, 4), (17, 3), (15, 3), (18, 4), (14, 4), (19, 8), (13, 8), (20, 12), (12, 12), (20, 16), (12, 16),
            (18, 16), (14, 16), (18, 22), (14, 22), (18, 28), (14, 28)]


def test_the_evaluate_command_takes_the_release_folder(release, tmp_path, monkeypatch):
    def standing(sample, return_confidence):
        jitter = torch.randn(len(sample), 17, 2, generator=torch.Generator().manual_seed(len(sample))) * 0.5
        xy = torch.tensor(STANDING, dtype=torch.float32) + jitter
        return torch.cat([xy, torch.full((len(sample), 17, 1), 2.0)], -1), torch.ones(len(sample), 17)

    monkeypatch.setattr("posegraph.pipelines.pose_graph_pipeline.lowest_regions_to_keypoints", standing)
    out = tmp_path / "eval"
    evaluate_main(["--checkpoint", str(release), "--data", "synthetic", "--out", str(out), "--num-captions", "3",
                   "--no-plots", "--samples-per-caption", "2", "--steps", "1", "--bootstrap", "20"])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["meta"]["sample_size"] == 32 and metrics["meta"]["graph_layer"] == "upstream spatial block"
    assert "paper_protocol" in metrics["sections"]
