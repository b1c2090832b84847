"""The CUDA-path options (autocast, channels_last, torch.compile) of the pipeline and the trainer, exercised on CPU.

Each option must be applied (a hook sees it inside the unet) and must not change the results beyond the
rounding of its precision. The random tiny unet's heatmaps are nearly flat, so their argmax keypoints can
jump between pixels under any rounding: the heatmaps are compared, not the keypoints. DDIM (which clips
its clean-sample estimate, as the training schedule's config says) keeps random predictions bounded.
"""
import copy
import shutil

import pytest
import torch
from diffusers import DDPMScheduler
from safetensors.torch import load_file

from posegraph.models import GUNet
from posegraph.pipelines import PoseGraphPipeline
from posegraph.text import TextEncoder
from posegraph.train import build_parser
from posegraph.training import TrainConfig, Trainer
from posegraph.training.config import config_from_arguments, config_mismatches

PROMPTS = ["a person sitting", "a person waving with the right hand"]


@pytest.fixture(scope="module")
def text_encoder():
    return TextEncoder.from_pretrained("default")


def make_pipeline(text_encoder):
    torch.manual_seed(0)
    unet = GUNet.from_preset("tiny", cross_attention_dim=text_encoder.hidden_size).eval()
    pipe = PoseGraphPipeline(unet=unet, scheduler=DDPMScheduler(beta_schedule="squaredcos_cap_v2"),
                             text_encoder=text_encoder)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def draw(pipe):
    return pipe(PROMPTS, num_poses_per_prompt=3, num_inference_steps=3, scheduler="ddim", guidance_scale=3.0,
                generator=0, return_heatmaps=True).heatmaps


@pytest.fixture(scope="module")
def plain(text_encoder):
    return draw(make_pipeline(text_encoder))


class UnetSpy:
    """Records, at every unet call, the autocast state, the input's memory format and inference mode."""

    def __init__(self, unet):
        self.calls = []
        self.handle = unet.register_forward_pre_hook(self.record)

    def record(self, module, args):
        self.calls.append({
            "autocast": torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else None,
            "channels_last": args[0].is_contiguous(memory_format=torch.channels_last),
            "inference_mode": torch.is_inference_mode_enabled(),
        })


def spied_draw(pipe):
    spy = UnetSpy(pipe.unet)
    try:
        return draw(pipe), spy.calls
    finally:
        spy.handle.remove()


# --- the pipeline --------------------------------------------------------------------------------------


def test_the_plain_path_runs_under_inference_mode_without_autocast_in_nchw(text_encoder, plain):
    heatmaps, calls = spied_draw(make_pipeline(text_encoder))
    torch.testing.assert_close(heatmaps, plain, rtol=0, atol=0)
    assert calls == [{"autocast": None, "channels_last": False, "inference_mode": True}] * 3


@pytest.mark.parametrize("dtype, expected, atol", [("bf16", torch.bfloat16, 0.1), (torch.float16, torch.float16, 0.02)])
def test_autocast_runs_the_unet_in_half_precision_with_float32_outputs(text_encoder, plain, dtype, expected, atol):
    pipe = make_pipeline(text_encoder)
    pipe.enable_autocast(dtype)
    heatmaps, calls = spied_draw(pipe)
    assert [call["autocast"] for call in calls] == [expected] * 3
    assert heatmaps.dtype == torch.float32 and next(pipe.unet.parameters()).dtype == torch.float32
    torch.testing.assert_close(heatmaps, plain, rtol=0, atol=atol)
    pipe.disable_autocast()
    torch.testing.assert_close(draw(pipe), plain, rtol=0, atol=0)


def test_autocast_refuses_other_dtypes_naming_the_choices(text_encoder):
    with pytest.raises(ValueError, match=r"torch.bfloat16 \('bf16'\) or torch.float16 \('fp16'\), got torch.float64"):
        make_pipeline(text_encoder).enable_autocast(torch.float64)


def test_channels_last_stores_conv_weights_and_inputs_nhwc_with_the_same_results(text_encoder, plain):
    pipe = make_pipeline(text_encoder)
    pipe.enable_channels_last()
    heatmaps, calls = spied_draw(pipe)
    assert all(call["channels_last"] for call in calls)
    convolutions = [m.weight for m in pipe.unet.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convolutions and all(w.is_contiguous(memory_format=torch.channels_last) for w in convolutions)
    torch.testing.assert_close(heatmaps, plain, rtol=0, atol=1e-4)


def recording_backend(graphs):
    """A torch.compile backend that records each captured graph and runs it as traced."""
    def backend(graph_module, example_inputs):
        graphs.append(graph_module)
        return graph_module.forward
    return backend


@pytest.mark.slow  # dynamo traces the unet: about 10 s on 2 cores
def test_compile_traces_the_unet_in_place_with_the_same_results(text_encoder, plain):
    pipe = make_pipeline(text_encoder)
    names = list(pipe.unet.state_dict())
    graphs = []
    torch._dynamo.reset()
    pipe.enable_compile(backend=recording_backend(graphs))
    heatmaps = draw(pipe)
    assert graphs, "torch.compile never traced the unet"
    assert isinstance(pipe.unet, GUNet) and list(pipe.unet.state_dict()) == names
    torch.testing.assert_close(heatmaps, plain, rtol=0, atol=1e-4)


def test_autocast_and_channels_last_together_match_and_are_not_saved(text_encoder, plain, tmp_path):
    pipe = make_pipeline(text_encoder)
    pipe.enable_autocast("bf16")
    pipe.enable_channels_last()
    heatmaps, calls = spied_draw(pipe)
    assert calls == [{"autocast": torch.bfloat16, "channels_last": True, "inference_mode": True}] * 3
    torch.testing.assert_close(heatmaps, plain, rtol=0, atol=0.1)
    pipe.save_pretrained(tmp_path / "pipe")
    loaded = PoseGraphPipeline.from_pretrained(tmp_path / "pipe", text_encoder=text_encoder)
    loaded.set_progress_bar_config(disable=True)
    heatmaps, calls = spied_draw(loaded)
    assert calls == [{"autocast": None, "channels_last": False, "inference_mode": True}] * 3
    torch.testing.assert_close(heatmaps, plain, rtol=0, atol=1e-5)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("g++") is None and shutil.which("clang++") is None,
                    reason="torch.compile's default (inductor) backend needs a C++ compiler on CPU")
def test_compile_with_the_default_backend_on_cpu(text_encoder):
    """The real inductor path on CPU: one unguided step of one pose (compiling takes minutes on 2 cores)."""
    pipe = make_pipeline(text_encoder)
    kwargs = dict(num_inference_steps=1, scheduler="ddim", guidance_scale=1.0, generator=0, return_heatmaps=True)
    expected = pipe("a person sitting", **kwargs).heatmaps
    torch._dynamo.reset()
    pipe.enable_compile()
    torch.testing.assert_close(pipe("a person sitting", **kwargs).heatmaps, expected, rtol=0, atol=1e-4)


# --- training ------------------------------------------------------------------------------------------


def tiny_trainer(tmp_path, **flags):
    config = TrainConfig.from_preset("tiny", synthetic_size=16, batch_size=8, **flags)
    return Trainer(config, tmp_path / "run")


@pytest.fixture(scope="module")
def plain_trainer(tmp_path_factory):
    trainer = tiny_trainer(tmp_path_factory.mktemp("plain"))
    batch = trainer.dataset.collate([trainer.dataset[i] for i in range(8)])
    return trainer, batch


def losses_then_step(trainer, batch):
    """The first batch's per-sample losses, then the raw weights after one optimiser step on it."""
    generator = trainer.generator.get_state()
    losses, _ = trainer.losses(batch)
    trainer.generator.set_state(generator)  # the step draws the same noise again
    trainer.train_step(batch)
    return losses.detach(), {name: p.detach().clone() for name, p in trainer.unet.named_parameters()}


@pytest.fixture(scope="module")
def plain_results(plain_trainer):
    return losses_then_step(*plain_trainer)


def assert_same_training(results, expected, atol):
    (losses, weights), (expected_losses, expected_weights) = results, expected
    torch.testing.assert_close(losses, expected_losses, rtol=0, atol=atol)
    assert weights.keys() == expected_weights.keys()
    for name in weights:
        torch.testing.assert_close(weights[name], expected_weights[name], rtol=0, atol=atol, msg=name)


def test_channels_last_training_keeps_the_model_nhwc_and_trains_the_same(tmp_path, plain_trainer, plain_results):
    trainer = tiny_trainer(tmp_path, channels_last=True)
    seen = []
    trainer.model.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    results = losses_then_step(trainer, plain_trainer[1])
    assert seen and all(x.is_contiguous(memory_format=torch.channels_last) for x in seen)
    assert all(m.weight.is_contiguous(memory_format=torch.channels_last)
               for m in trainer.unet.modules() if isinstance(m, torch.nn.Conv2d))
    assert_same_training(results, plain_results, atol=1e-5)
    trainer.save()  # safetensors stores only contiguous tensors
    saved = load_file(tmp_path / "run" / "checkpoints" / "step_000001" / "unet_raw"
                      / "diffusion_pytorch_model.safetensors")
    assert all(torch.equal(saved[name], weight) for name, weight in results[1].items())


@pytest.mark.slow  # dynamo traces the unet's forward: about 10 s on 2 cores
def test_compiled_training_traces_the_unet_and_trains_the_same(tmp_path, plain_trainer, plain_results, monkeypatch):
    graphs, compile_ = [], torch.compile
    monkeypatch.setattr(torch, "compile", lambda fn, **kwargs: compile_(fn, backend=recording_backend(graphs)))
    torch._dynamo.reset()
    trainer = tiny_trainer(tmp_path, compile=True)
    results = losses_then_step(trainer, plain_trainer[1])
    assert graphs, "torch.compile never traced the unet"
    assert isinstance(trainer.unet, GUNet)
    assert_same_training(results, plain_results, atol=1e-5)


def test_gradient_checkpointing_training_recomputes_the_units_and_trains_the_same(tmp_path, plain_trainer,
                                                                                     plain_results):
    trainer = tiny_trainer(tmp_path, gradient_checkpointing=True)
    assert trainer.unet.is_gradient_checkpointing
    assert_same_training(losses_then_step(trainer, plain_trainer[1]), plain_results, atol=1e-6)


def test_the_flags_parse_validate_and_may_change_on_resume():
    args = build_parser().parse_args(["--preset", "tiny", "--compile", "--no-channels-last",
                                      "--gradient-checkpointing"])
    config = config_from_arguments(args)
    assert config.compile is True and config.channels_last is False and config.gradient_checkpointing is True
    assert config_mismatches(TrainConfig.from_preset("tiny"), config) == {}
    with pytest.raises(ValueError, match="--channels-last: must be true or false, got 'yes'"):
        TrainConfig.from_preset("tiny", channels_last="yes")
