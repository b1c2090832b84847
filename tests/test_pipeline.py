"""PoseGraphPipeline with the tiny GUNet (randomly initialised) and the real offline MiniLM encoder."""
import json
import logging
import shutil

import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler

from posegraph.heatmaps import heatmaps_to_keypoints
from posegraph.models import GUNet
from posegraph.pipelines import SCHEDULERS, PoseGraphPipeline, limits, make_scheduler
from posegraph.text import TextEncoder

STEPS = 2


@pytest.fixture(scope="module")
def text_encoder():
    return TextEncoder.from_pretrained("default")


def make_unet(text_encoder, seed=0, **overrides):
    torch.manual_seed(seed)
    overrides.setdefault("cross_attention_dim", text_encoder.hidden_size)
    return GUNet.from_preset("tiny", **overrides).eval()


def make_pipeline(unet, text_encoder):
    scheduler = DDPMScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
    pipe = PoseGraphPipeline(unet=unet, scheduler=scheduler, text_encoder=text_encoder)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def pipe(text_encoder):
    return make_pipeline(make_unet(text_encoder), text_encoder)


def sample(pipe, prompt="a person waving with the right hand", **kwargs):
    kwargs = {"num_inference_steps": STEPS, "generator": 0, "return_heatmaps": True, **kwargs}
    return pipe(prompt, **kwargs)


def save_checkpoint(pipe, directory, complete=True):
    """A checkpoint as the trainer lays it out: the pipeline files, a train config, maybe no COMPLETE marker."""
    pipe.save_pretrained(directory)
    (directory / "train_config.json").write_text("{}")
    if not complete:
        (directory / "COMPLETE").unlink()
    return directory


# --- outputs ----------------------------------------------------------------------------------------


def test_outputs_have_the_documented_shapes_and_order(pipe):
    size = pipe.unet.config.sample_size
    out = sample(pipe, ["a person sitting", "a person squatting"], num_poses_per_prompt=3, generator=7,
                 canvas_size=(300, 200))
    assert out.keypoints.shape == (6, 17, 3) and out.keypoints.dtype == torch.float32
    assert out.confidence.shape == (6, 17)
    assert out.heatmaps.shape == (6, 17, size, size)
    assert out.heatmaps.min() >= 0 and out.heatmaps.max() <= 1
    assert out.prompts == ["a person sitting"] * 3 + ["a person squatting"] * 3
    assert out.seeds == [7, 8, 9, 10, 11, 12]
    x, y, v = out.keypoints.unbind(-1)
    assert x.min() >= -0.5 and x.max() <= 199.5 and y.min() >= -0.5 and y.max() <= 299.5
    assert torch.equal(v, torch.where(out.confidence >= 0.2, 2.0, 0.0))
    keypoints, confidence, heatmaps, prompts, seeds = sample(pipe, return_dict=False, return_heatmaps=False)
    assert keypoints.shape == (1, 17, 3) and heatmaps is None and prompts == ["a person waving with the right hand"]


def test_keypoints_are_the_decoded_heatmaps_scaled_to_fit_the_canvas_and_centred(pipe):
    size = pipe.unet.config.sample_size
    square = sample(pipe, canvas_size=size)
    decoded = heatmaps_to_keypoints(square.heatmaps)
    torch.testing.assert_close(square.keypoints, decoded)
    wide = sample(pipe, canvas_size=(4 * size, 8 * size))  # 4x scale, centred horizontally
    expected_x = (decoded[..., 0] + 0.5) * 4 - 0.5 + 2 * size
    expected_y = (decoded[..., 1] + 0.5) * 4 - 0.5
    torch.testing.assert_close(wide.keypoints, torch.stack([expected_x, expected_y, decoded[..., 2]], -1))


# --- randomness -----------------------------------------------------------------------------------


def test_same_seed_gives_identical_poses_and_different_seeds_differ(pipe):
    a, b = sample(pipe, num_poses_per_prompt=2, generator=3), sample(pipe, num_poses_per_prompt=2, generator=3)
    assert torch.equal(a.keypoints, b.keypoints) and torch.equal(a.heatmaps, b.heatmaps)
    c = sample(pipe, num_poses_per_prompt=2, generator=4)
    assert not torch.equal(a.heatmaps, c.heatmaps)
    assert not torch.equal(a.heatmaps[0], a.heatmaps[1])  # poses of one prompt differ
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(sample(pipe, generator=g1).heatmaps, sample(pipe, generator=g2).heatmaps)


def test_a_poses_seed_draws_it_again_on_its_own(pipe):
    prompts = ["a person sitting", "a person raising both arms above the head"]
    batch = sample(pipe, prompts, num_poses_per_prompt=2, generator=torch.Generator().manual_seed(1))
    alone = sample(pipe, batch.prompts[3], generator=batch.seeds[3])
    torch.testing.assert_close(alone.heatmaps[0], batch.heatmaps[3], atol=1e-4, rtol=0)


def test_chunking_gives_the_same_poses_as_one_batch(pipe):
    prompts = ["a person sitting", "a person walking to the left"]
    whole = sample(pipe, prompts, num_poses_per_prompt=2, scheduler="ddpm", batch_size=64)
    chunked = sample(pipe, prompts, num_poses_per_prompt=2, scheduler="ddpm", batch_size=3)  # chunks of 3 and 1
    torch.testing.assert_close(chunked.heatmaps, whole.heatmaps, atol=1e-5, rtol=0)
    canvas_pixels_per_heatmap_pixel = 512 / pipe.unet.config.sample_size  # the default canvas
    torch.testing.assert_close(chunked.keypoints, whole.keypoints, atol=1e-3 * canvas_pixels_per_heatmap_pixel, rtol=0)
    assert chunked.seeds == whole.seeds


# --- schedulers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_every_scheduler_name_runs_with_the_training_schedule(pipe, name):
    scheduler = make_scheduler(name, pipe.scheduler)
    assert scheduler.config.beta_schedule == "squaredcos_cap_v2"
    assert scheduler.config.prediction_type == "v_prediction"
    out = sample(pipe, num_poses_per_prompt=2, scheduler=name)
    assert out.keypoints.shape == (2, 17, 3) and torch.isfinite(out.heatmaps).all()


def test_a_scheduler_object_is_used_as_given(pipe):
    ddim = DDIMScheduler.from_config(pipe.scheduler.config)
    assert torch.equal(sample(pipe, scheduler=ddim).heatmaps, sample(pipe, scheduler="ddim").heatmaps)


def test_unknown_scheduler_lists_the_valid_names(pipe):
    with pytest.raises(ValueError, match=r"unknown scheduler 'euler'; valid names are ddpm, ddim, dpm-solver\+\+, unipc"):
        sample(pipe, scheduler="euler")
    with pytest.raises(TypeError, match="scheduler must be a name"):
        sample(pipe, scheduler=3)


# --- guidance and text --------------------------------------------------------------------------------


def test_guidance_batches_conditional_and_unconditional_passes_into_one_forward(pipe):
    batches = []
    handle = pipe.unet.register_forward_pre_hook(lambda module, args: batches.append(args[0].shape[0]))
    try:
        guided = sample(pipe, num_poses_per_prompt=3, guidance_scale=4.0, guidance_interval=None)
        assert batches == [6] * STEPS
        batches.clear()
        plain = sample(pipe, num_poses_per_prompt=3, guidance_scale=1.0)
        assert batches == [3] * STEPS
    finally:
        handle.remove()
    assert not torch.allclose(guided.heatmaps, plain.heatmaps)


def test_guidance_applies_only_inside_its_interval_of_timesteps(pipe):
    batches = []
    handle = pipe.unet.register_forward_pre_hook(lambda module, args: batches.append(args[0].shape[0]))
    try:  # 4 steps: timesteps 750, 500, 250, 0; the default interval guides the first alone
        sample(pipe, num_poses_per_prompt=3, num_inference_steps=4)
        assert batches == [6, 3, 3, 3]
        batches.clear()
        sample(pipe, num_poses_per_prompt=3, num_inference_steps=4, guidance_interval=None)
        assert batches == [6] * 4
        batches.clear()  # an edit guides every step it takes
        pose = sample(pipe).keypoints[0]
        batches.clear()
        sample(pipe, num_poses_per_prompt=3, num_inference_steps=4, init_keypoints=pose, strength=0.75)
        assert batches == [6] * 3
    finally:
        handle.remove()
    everywhere = sample(pipe, num_inference_steps=4, guidance_interval=None)
    torch.testing.assert_close(sample(pipe, num_inference_steps=4, guidance_interval=(0, 1000)).heatmaps,
                               everywhere.heatmaps)
    nowhere = sample(pipe, num_inference_steps=4, guidance_interval=(2000, 3000), negative_prompt="a person sitting")
    conditional = sample(pipe, num_inference_steps=4, guidance_scale=1.0)
    torch.testing.assert_close(nowhere.heatmaps, conditional.heatmaps)  # unguided steps read the prompt's rows
    assert not torch.allclose(everywhere.heatmaps, conditional.heatmaps, atol=1e-3)


@pytest.mark.parametrize("interval", [(500, 100), (-1, 10), (0.5, 10), (10,), "all"])
def test_a_bad_guidance_interval_is_a_value_error_naming_it(pipe, interval):
    with pytest.raises(ValueError, match="guidance_interval must be None, 'auto' or two timesteps"):
        sample(pipe, guidance_interval=interval)


def test_guidance_moves_away_from_the_negative_prompt(pipe):
    """With the negative prompt equal to the prompt, uncond + w * (cond - uncond) is the conditional output."""
    prompt = "a person kicking with the left leg"
    plain = sample(pipe, prompt, guidance_scale=1.0)
    same = sample(pipe, prompt, guidance_scale=5.0, negative_prompt=prompt)
    torch.testing.assert_close(same.heatmaps, plain.heatmaps, atol=1e-4, rtol=0)
    other = sample(pipe, prompt, guidance_scale=5.0, negative_prompt="a person sitting", guidance_interval=None)
    assert not torch.allclose(other.heatmaps, plain.heatmaps, atol=1e-3)


def test_each_unique_prompt_is_encoded_once(pipe, monkeypatch):
    calls = []
    encode = pipe.text_encoder.encode
    monkeypatch.setattr(pipe.text_encoder, "encode", lambda texts: calls.append(list(texts)) or encode(texts))
    sample(pipe, ["a person sitting", "a person squatting", "a person sitting"], num_poses_per_prompt=4,
           negative_prompt="a person squatting", guidance_scale=2.0)
    assert calls == [["a person sitting", "a person squatting"]]


def test_the_empty_prompt_samples_unconditionally_with_the_null_embedding(pipe, monkeypatch):
    encode, null = pipe.text_encoder.encode, pipe.text_encoder.null_embedding
    calls = []
    monkeypatch.setattr(pipe.text_encoder, "encode", lambda texts: calls.append(("encode", list(texts))) or encode(texts))
    monkeypatch.setattr(pipe.text_encoder, "null_embedding", lambda n: calls.append(("null", n)) or null(n))
    alone = sample(pipe, "", guidance_scale=1.0, generator=2)
    assert calls == [("null", 1)]
    mixed = sample(pipe, ["a person sitting", ""], guidance_scale=1.0, generator=1)  # "" is pose 1: seed 2
    torch.testing.assert_close(mixed.heatmaps[1], alone.heatmaps[0], atol=1e-4, rtol=0)


def test_a_prompt_longer_than_the_encoder_limit_is_truncated_with_a_warning(pipe):
    long_prompt = "a person raising both arms above the head " * 200
    with pytest.warns(UserWarning, match="exceed the limit of .* tokens and were truncated"):
        out = sample(pipe, long_prompt)
    assert out.keypoints.shape == (1, 17, 3)


# --- bad input ------------------------------------------------------------------------------------


def test_non_string_prompts_are_a_type_error_naming_the_index(pipe):
    with pytest.raises(TypeError, match=r"prompt\[1\] must be a string, got int: 3"):
        sample(pipe, ["a person sitting", 3])
    with pytest.raises(TypeError, match="prompt must be a string or a list of strings, got NoneType"):
        sample(pipe, None)
    with pytest.raises(TypeError, match=r"negative_prompt\[0\] must be a string"):
        sample(pipe, ["a"], negative_prompt=[None], guidance_scale=2.0)
    with pytest.raises(ValueError, match="prompt is an empty list"):
        sample(pipe, [])
    with pytest.raises(ValueError, match="negative_prompt has 2 entries for 1 prompts"):
        sample(pipe, ["a"], negative_prompt=["b", "c"], guidance_scale=2.0)


@pytest.mark.parametrize("name", ["num_poses_per_prompt", "num_inference_steps", "batch_size"])
@pytest.mark.parametrize("value", [0, -2])
def test_counts_below_one_are_a_value_error(pipe, name, value):
    with pytest.raises(ValueError, match=f"{name} must be a positive integer, got {value}"):
        sample(pipe, **{name: value})


def test_bad_generator_guidance_and_canvas_are_errors(pipe):
    with pytest.raises(TypeError, match="generator must be an int seed"):
        sample(pipe, generator="seed")
    with pytest.raises(TypeError, match="guidance_scale must be a finite number, got nan"):
        sample(pipe, guidance_scale=float("nan"))
    with pytest.raises(ValueError, match=r"canvas_size must be a positive integer S or a pair .*got \(64, 0\)"):
        sample(pipe, canvas_size=(64, 0))
    with pytest.raises(ValueError, match=r"canvas_size must be .* \(height, width\), got \(512,\)"):
        sample(pipe, canvas_size=(512,))


# --- saving and loading ---------------------------------------------------------------------------------


def test_save_and_load_round_trip_keeps_the_text_encoder_by_reference(pipe, tmp_path):
    pipe.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "text_encoder.json").read_text()) == pipe.text_encoder.to_config()
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.safetensors")) == [
        "unet/diffusion_pytorch_model.safetensors"]  # no text encoder weights
    assert (tmp_path / "COMPLETE").is_file() and (tmp_path / "model_index.json").is_file()
    loaded = PoseGraphPipeline.from_pretrained(tmp_path)
    loaded.set_progress_bar_config(disable=True)
    assert type(loaded.scheduler) is type(pipe.scheduler)
    assert loaded.scheduler.config.prediction_type == "v_prediction"
    torch.testing.assert_close(sample(loaded).heatmaps, sample(pipe).heatmaps, atol=1e-6, rtol=0)


def test_the_pipeline_is_on_diffusers_machinery(pipe, tmp_path):
    """Registered components, diffusers' to() (the text encoder moves with the unet) and save_pretrained, whose
    model_index.json lists the text encoder as not saved; an index written before that (naming its class) loads."""
    assert list(pipe.components) == ["unet", "scheduler", "text_encoder"] and pipe.components["text_encoder"] is \
        pipe.text_encoder
    assert "to" not in vars(PoseGraphPipeline) and "save_pretrained" in vars(PoseGraphPipeline)
    pipe.save_pretrained(tmp_path)
    index = json.loads((tmp_path / "model_index.json").read_text())
    assert index["text_encoder"] == [None, None] and index["unet"] == ["posegraph.models.gunet", "GUNet"]
    index["text_encoder"] = ["posegraph.text", "TextEncoder"]  # as saved pipelines named it before
    (tmp_path / "model_index.json").write_text(json.dumps(index))
    loaded = PoseGraphPipeline.from_pretrained(tmp_path)  # its own text encoder, from text_encoder.json
    loaded.set_progress_bar_config(disable=True)
    torch.testing.assert_close(sample(loaded).heatmaps, sample(pipe).heatmaps, atol=1e-6, rtol=0)
    moved = loaded.to(dtype=torch.bfloat16)
    assert moved is loaded and loaded.unet.dtype == loaded.text_encoder.dtype == loaded.text_encoder.null.dtype == \
        torch.bfloat16


def test_a_run_directory_loads_its_latest_complete_checkpoint(text_encoder, tmp_path, caplog):
    checkpoints = tmp_path / "run" / "checkpoints"
    for step, seed, complete in [(100, 1, True), (200, 2, True), (300, 3, False)]:
        save_checkpoint(make_pipeline(make_unet(text_encoder, seed), text_encoder), checkpoints / f"step_{step:06d}",
                        complete)
    (checkpoints / ".tmp_step_000400").mkdir()  # a save in progress
    with caplog.at_level(logging.WARNING):
        loaded = PoseGraphPipeline.from_pretrained(tmp_path / "run", text_encoder=text_encoder)
    expected = make_unet(text_encoder, 2).state_dict()
    assert all(torch.equal(value, expected[key]) for key, value in loaded.unet.state_dict().items())
    assert "step_000300" in caplog.text
    direct = PoseGraphPipeline.from_pretrained(checkpoints / "step_000100", text_encoder=text_encoder)
    assert torch.equal(next(direct.unet.parameters()), next(make_unet(text_encoder, 1).parameters()))


def test_missing_truncated_and_mismatched_directories_are_errors_naming_the_path(pipe, text_encoder, tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=f"{missing}: no such directory"):
        PoseGraphPipeline.from_pretrained(missing)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty: not a pipeline, checkpoint or run directory"):
        PoseGraphPipeline.from_pretrained(tmp_path / "empty")

    truncated = save_checkpoint(pipe, tmp_path / "step_000001", complete=False)
    with pytest.raises(ValueError, match=f"{truncated}: truncated checkpoint \\(no COMPLETE marker"):
        PoseGraphPipeline.from_pretrained(truncated)
    run = tmp_path / "run"
    shutil.copytree(truncated, run / "checkpoints" / "step_000001")
    with pytest.raises(FileNotFoundError, match=r"checkpoints: no complete checkpoint \(found: step_000001\)"):
        PoseGraphPipeline.from_pretrained(run)

    gutted = save_checkpoint(pipe, tmp_path / "gutted")
    (gutted / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(ValueError, match="gutted: truncated checkpoint, missing unet/diffusion_pytorch_model.safetensors"):
        PoseGraphPipeline.from_pretrained(gutted)


def test_a_config_that_does_not_match_the_weights_is_an_error_naming_the_path(pipe, text_encoder, tmp_path):
    edited = save_checkpoint(pipe, tmp_path / "edited")
    config_path = edited / "unet" / "config.json"
    config = json.loads(config_path.read_text())
    config["cross_attention_dim"] = 2 * config["cross_attention_dim"]
    config_path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match=f"{edited / 'unet' / 'config.json'}: incompatible file \\(it does not describe "
                                         "the weights: .* in the weights, .* in the model it describes\\)"):
        PoseGraphPipeline.from_pretrained(edited, text_encoder=text_encoder)

    other = save_checkpoint(make_pipeline(make_unet(text_encoder, cross_attention_dim=32), text_encoder),
                            tmp_path / "other")
    with pytest.raises(ValueError, match="other: the text encoder .* cross_attention_dim=32"):
        PoseGraphPipeline.from_pretrained(other, text_encoder=text_encoder)


def test_bfloat16_unet_samples_on_cpu(pipe, text_encoder):
    half = make_pipeline(make_unet(text_encoder).to(torch.bfloat16), text_encoder)
    out = sample(half, num_inference_steps=1)
    assert out.keypoints.dtype == torch.float32 and torch.isfinite(out.heatmaps).all()


# --- limits, checked before any sampling ----------------------------------------------------------------


@pytest.fixture
def no_denoising(pipe, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("sampling started although the request is refused")

    monkeypatch.setattr(pipe, "_denoise", fail)
    return pipe


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_more_steps_than_training_timesteps_are_refused_with_the_limit(no_denoising, name):
    with pytest.raises(ValueError, match=r"num_inference_steps=100000 is too many for \w+Scheduler with this "
                                         r"model's 1000 training timesteps .*; it takes at most (999|1000) "):
        sample(no_denoising, scheduler=name, num_inference_steps=100_000)


def test_a_step_count_the_trailing_spacing_breaks_is_refused_with_its_neighbours(text_encoder, monkeypatch):
    trailing = PoseGraphPipeline(unet=make_unet(text_encoder), text_encoder=text_encoder,
                                 scheduler=DDPMScheduler(beta_schedule="squaredcos_cap_v2", timestep_spacing="trailing"))
    monkeypatch.setattr(trailing, "_denoise", lambda *a, **k: pytest.fail("sampling started"))
    with pytest.raises(ValueError, match=r"num_inference_steps=61 does not give a proper DPMSolverMultistepScheduler "
                                         r"schedule .*'trailing' timestep spacing \(62 timesteps, the last -1: a "
                                         r"rounding quirk of diffusers\); use 60 or 62"):
        trailing("a person sitting", num_inference_steps=61, scheduler="dpm-solver++")


def test_seeds_beyond_torchs_range_are_refused(no_denoising):
    with pytest.raises(ValueError, match=r"generator=18446744073709551615: the poses' seeds .* must lie in"):
        sample(no_denoising, generator=2**64 - 1, num_poses_per_prompt=2)


def test_a_request_that_would_not_fit_in_memory_is_refused(no_denoising, monkeypatch):
    monkeypatch.setattr(limits, "available_memory_bytes", lambda: 2**20)
    with pytest.raises(ValueError, match=r"1,000,000,000 poses: their keypoints would need 372.5 GiB of memory, "
                                         r"1.0 MiB is available; ask for at most 2,621 poses at a time"):
        sample(no_denoising, num_poses_per_prompt=10**9, return_heatmaps=False)
    with pytest.raises(ValueError, match=r"100 poses: their keypoints and heatmaps \(return_heatmaps=True\)"):
        sample(no_denoising, num_poses_per_prompt=100, return_heatmaps=True)


def test_heatmaps_are_returned_only_on_request_and_prompts_are_encoded_batch_by_batch(pipe, monkeypatch):
    calls = []
    encode = pipe.text_encoder.encode
    monkeypatch.setattr(pipe.text_encoder, "encode", lambda texts: calls.append(list(texts)) or encode(texts))
    out = pipe(["a", "b", "c"], num_inference_steps=1, generator=0, batch_size=2, guidance_scale=1.0)
    assert out.heatmaps is None and out.keypoints.shape == (3, 17, 3)
    assert calls == [["a", "b"], ["c"]]
