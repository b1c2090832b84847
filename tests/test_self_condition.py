"""Self-conditioning: the unet reads its previous clean-sample estimate; training and sampling feed it."""
import pytest
import torch
from diffusers import DDPMScheduler

from posegraph.models import GUNet
from posegraph.pipelines import PoseGraphPipeline
from posegraph.pipelines.schedulers import predicted_clean
from posegraph.text import TextEncoder
from posegraph.training.config import TrainConfig
from posegraph.training.loop import Trainer, diffusion_target


def tiny(**overrides):
    torch.manual_seed(0)
    return GUNet.from_preset("tiny", cross_attention_dim=8, **overrides).eval()


def inputs(unet, batch=2):
    size = unet.config.sample_size
    return (torch.randn(batch, unet.config.in_channels, size, size), torch.tensor([10, 500][:batch]),
            torch.randn(batch, 3, 8))


def test_the_estimate_steers_the_output_and_none_means_zeros():
    unet = tiny(self_condition=True)
    sample, t, text = inputs(unet)
    with torch.no_grad():
        none = unet(sample, t, text).sample
        zeros = unet(sample, t, text, self_cond=torch.zeros_like(sample)).sample
        given = unet(sample, t, text, self_cond=torch.randn_like(sample)).sample
    torch.testing.assert_close(none, zeros)
    assert (given - none).abs().max() > 1e-4


def test_a_wrong_estimate_is_refused_naming_it():
    sample, t, text = inputs(tiny())
    with pytest.raises(ValueError, match="self_condition"):
        tiny()(sample, t, text, self_cond=torch.zeros_like(sample))
    with pytest.raises(ValueError, match="self_cond of the sample's shape"):
        tiny(self_condition=True)(sample, t, text, self_cond=torch.zeros(2, 3, 4, 4))


@pytest.mark.parametrize("prediction_type", ["epsilon", "sample", "v_prediction"])
def test_predicted_clean_inverts_the_training_target(prediction_type):
    scheduler = DDPMScheduler(beta_schedule="squaredcos_cap_v2", prediction_type=prediction_type)
    clean, noise = torch.randn(4, 3, 8, 8), torch.randn(4, 3, 8, 8)
    timesteps = torch.tensor([0, 200, 600, 900])
    noisy = scheduler.add_noise(clean, noise, timesteps)
    target = diffusion_target(scheduler, clean, noise, timesteps)
    torch.testing.assert_close(predicted_clean(scheduler, target, noisy, timesteps), clean, atol=2e-3, rtol=1e-3)


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    config = TrainConfig.from_preset("tiny", model={"self_condition": True}, max_steps=2)
    return Trainer(config, tmp_path_factory.mktemp("run"))


def test_training_feeds_half_the_samples_their_own_detached_estimate(trainer, monkeypatch):
    calls = []
    forward = trainer.model.forward

    def record(sample, timestep, **kwargs):
        calls.append((torch.is_grad_enabled(), len(sample), kwargs.get("self_cond")))
        return forward(sample, timestep, **kwargs)

    monkeypatch.setattr(trainer.model, "forward", record)
    batch = trainer.dataset.collate([trainer.dataset[i] for i in range(16)])
    trainer.losses(batch)
    *estimates, (grad, size, self_cond) = calls
    assert grad and size == 16 and self_cond is not None
    fed = self_cond.flatten(1).abs().amax(1) > 0
    assert 0 < fed.sum() < 16  # about half: each sample draws
    assert len(estimates) == 1 and not estimates[0][0] and estimates[0][1] == int(fed.sum())


def test_sampling_feeds_each_steps_estimates_to_the_next_per_guidance_branch(monkeypatch):
    encoder = TextEncoder.from_pretrained("default")
    torch.manual_seed(0)
    unet = GUNet.from_preset("tiny", cross_attention_dim=encoder.hidden_size, self_condition=True).eval()
    pipe = PoseGraphPipeline(unet=unet, scheduler=DDPMScheduler(beta_schedule="squaredcos_cap_v2",
                                                               prediction_type="sample"), text_encoder=encoder)
    pipe.set_progress_bar_config(disable=True)
    seen, outputs = [], []
    forward = unet.forward

    def record(sample, timestep, **kwargs):
        seen.append(kwargs.get("self_cond"))
        out = forward(sample, timestep, **kwargs)
        outputs.append(out.sample.clone())
        return out

    monkeypatch.setattr(unet, "forward", record)
    pipe("a person standing", num_poses_per_prompt=2, num_inference_steps=3, generator=0, guidance_interval=None)
    assert seen[0] is None and len(seen) == 3
    for before, estimate in zip(outputs, seen[1:]):  # clean-sample prediction: the estimate is the output itself
        assert estimate.shape == (4, *before.shape[1:])  # unconditional and conditional rows apart
        torch.testing.assert_close(estimate, before)
    seen.clear(), outputs.clear()  # timesteps 666, 333, 0: guided, then one conditional pass from 333 down
    pipe("a person standing", num_poses_per_prompt=2, num_inference_steps=3, generator=0, guidance_interval=(500, 999))
    assert [len(x) for x in outputs] == [4, 2, 2]
    torch.testing.assert_close(seen[1], outputs[0][2:])  # the conditional rows' estimate goes on
    torch.testing.assert_close(seen[2], outputs[1])
    seen.clear(), outputs.clear()  # and back: unguided at 666, guided at 333 and 0, the estimate read by both rows
    pipe("a person standing", num_poses_per_prompt=2, num_inference_steps=3, generator=0, guidance_interval=(0, 500))
    assert [len(x) for x in outputs] == [2, 4, 4]
    torch.testing.assert_close(seen[1], torch.cat([outputs[0]] * 2))
