"""posegraph's poses through diffusers' ControlNet pipelines, with tiny randomly initialised models built from
configs (ControlNet, UNet, VAE, CLIP text encoders, a byte-level CLIP tokenizer): nothing is downloaded."""
import numpy as np
import pytest
import torch
from diffusers import (AutoencoderKL, ControlNetModel, DDIMScheduler, DDPMScheduler, StableDiffusionControlNetPipeline,
                       StableDiffusionPipeline, StableDiffusionXLControlNetPipeline, StableDiffusionXLPipeline,
                       UNet2DConditionModel)
from PIL import Image
from tokenizers import pre_tokenizers
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

from posegraph.controlnet import control_image, is_sdxl_controlnet, load_controlnet_pipeline, run_controlnet
from posegraph.io import read_openpose_json, write_openpose_json
from posegraph.models import GUNet
from posegraph.pipelines import PoseGraphPipeline
from posegraph.render import draw_openpose, save_png
from posegraph.text import TextEncoder

CANVASES = [(64, 64), (64, 96)]  # (height, width)


def tiny_tokenizer() -> CLIPTokenizer:
    """A CLIP tokenizer over single bytes (no merges): every text tokenizes, nothing is read from the hub."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tokens = ["<|startoftext|>", "<|endoftext|>"] + alphabet + [c + "</w>" for c in alphabet]
    return CLIPTokenizer(vocab={token: i for i, token in enumerate(tokens)}, merges=[], model_max_length=77)


def tiny_text_encoder(projection: bool = False):
    torch.manual_seed(0)
    config = CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=32, intermediate_size=37,
                            num_attention_heads=4, num_hidden_layers=2, vocab_size=600, max_position_embeddings=77,
                            projection_dim=32, hidden_act="gelu")
    return (CLIPTextModelWithProjection if projection else CLIPTextModel)(config).eval()


def tiny_vae():
    torch.manual_seed(0)
    return AutoencoderKL(block_out_channels=[4, 8], in_channels=3, out_channels=3, latent_channels=4,
                         down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                         norm_num_groups=2)


def unet_and_controlnet(sdxl: bool):
    """A 2-level UNet and a ControlNet of the same shape (the ControlNet's hint encoder halves once, like the VAE)."""
    shape = dict(block_out_channels=(4, 8), layers_per_block=1, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                 norm_num_groups=1, cross_attention_dim=64 if sdxl else 32, attention_head_dim=2)
    if sdxl:  # SDXL's size conditioning: 6 numbers x 8 + the pooled text embedding (32)
        shape.update(addition_embed_type="text_time", addition_time_embed_dim=8,
                     projection_class_embeddings_input_dim=6 * 8 + 32)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=16, in_channels=4, out_channels=4,
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), **shape)
    torch.manual_seed(1)
    controlnet = ControlNetModel(in_channels=4, conditioning_embedding_out_channels=(8, 16), **shape)
    return unet, controlnet


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Saved tiny SD and SDXL base pipelines and OpenPose-style ControlNets, as a user's local folders."""
    root = tmp_path_factory.mktemp("controlnet")
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1)
    unet, controlnet = unet_and_controlnet(sdxl=False)
    StableDiffusionPipeline(vae=tiny_vae(), text_encoder=tiny_text_encoder(), tokenizer=tiny_tokenizer(), unet=unet,
                            scheduler=scheduler, safety_checker=None, feature_extractor=None,
                            requires_safety_checker=False).save_pretrained(root / "sd")
    controlnet.save_pretrained(root / "sd-openpose")
    unet, controlnet = unet_and_controlnet(sdxl=True)
    StableDiffusionXLPipeline(vae=tiny_vae(), text_encoder=tiny_text_encoder(), text_encoder_2=tiny_text_encoder(True),
                              tokenizer=tiny_tokenizer(), tokenizer_2=tiny_tokenizer(), unet=unet,
                              scheduler=scheduler).save_pretrained(root / "sdxl")
    controlnet.save_pretrained(root / "sdxl-openpose")
    return root


@pytest.fixture(scope="module")
def poses():
    """posegraph's own output: a randomly initialised tiny pipeline's keypoints on each canvas."""
    text_encoder = TextEncoder.from_pretrained("default")
    torch.manual_seed(0)
    unet = GUNet.from_preset("tiny", cross_attention_dim=text_encoder.hidden_size)
    pipe = PoseGraphPipeline(unet=unet, scheduler=DDPMScheduler(), text_encoder=text_encoder)
    pipe.set_progress_bar_config(disable=True)
    return {canvas: pipe("a person waving", num_inference_steps=2, generator=0, canvas_size=canvas).keypoints[0]
            for canvas in CANVASES}


@pytest.mark.parametrize("canvas", CANVASES)
def test_a_pose_goes_through_stable_diffusion_controlnet_to_an_image_of_its_canvas_size(models, poses, canvas):
    pipe = load_controlnet_pipeline(models / "sd-openpose", models / "sd")
    assert type(pipe) is StableDiffusionControlNetPipeline
    pipe.set_progress_bar_config(disable=True)
    images = run_controlnet(pipe, "an astronaut dancing", poses[canvas], canvas_size=canvas, num_inference_steps=2,
                            generator=torch.Generator().manual_seed(0), output_type="pil")
    assert len(images) == 1 and images[0].size == (canvas[1], canvas[0])


@pytest.mark.parametrize("canvas", CANVASES)
def test_an_sdxl_controlnet_gets_the_sdxl_pipeline_and_gives_an_image_of_the_canvas_size(models, poses, canvas):
    pipe = load_controlnet_pipeline(models / "sdxl-openpose", models / "sdxl")
    assert type(pipe) is StableDiffusionXLControlNetPipeline
    pipe.set_progress_bar_config(disable=True)
    images = run_controlnet(pipe, "an astronaut dancing", poses[canvas], canvas_size=canvas, num_inference_steps=2,
                            generator=torch.Generator().manual_seed(0))
    assert images[0].size == (canvas[1], canvas[0])


def test_the_pipeline_kind_follows_the_controlnet_and_a_loaded_model_is_taken_as_is(models):
    sd_controlnet = ControlNetModel.from_pretrained(models / "sd-openpose")
    assert not is_sdxl_controlnet(sd_controlnet) and is_sdxl_controlnet(ControlNetModel.load_config(models / "sdxl-openpose"))
    pipe = load_controlnet_pipeline(sd_controlnet, models / "sd")
    assert pipe.controlnet is sd_controlnet


def test_control_image_draws_keypoints_like_the_renderer_and_reads_the_files_posegraph_writes(poses, tmp_path):
    keypoints = poses[(64, 96)]
    drawn = control_image(keypoints, canvas_size=(64, 96))
    assert drawn.mode == "RGB" and drawn.size == (96, 64)
    np.testing.assert_array_equal(np.asarray(drawn), draw_openpose(keypoints, (64, 96), (64, 96)))

    json_path = write_openpose_json(tmp_path / "pose_0000_keypoints.json", keypoints, (64, 96))
    from_json = control_image(json_path)  # the canvas size comes from the file; coordinates are rounded to 1/1000 px
    np.testing.assert_array_equal(np.asarray(from_json), draw_openpose(read_openpose_json(json_path), (64, 96), (64, 96)))
    png_path = save_png(np.asarray(drawn), tmp_path / "pose_0000.png")
    np.testing.assert_array_equal(np.asarray(control_image(png_path)), np.asarray(drawn))
    assert control_image(Image.open(png_path), size=(128, 192)).size == (192, 128)


def test_control_image_rounds_a_canvas_down_to_a_multiple_of_8_and_names_what_is_missing(poses):
    assert control_image(poses[(64, 64)], canvas_size=(70, 100)).size == (96, 64)
    with pytest.raises(ValueError, match="canvas_size"):
        control_image(poses[(64, 64)])
    with pytest.raises(ValueError, match="multiples of 8"):
        control_image(poses[(64, 64)], canvas_size=64, size=(60, 64))
