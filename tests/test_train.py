"""python -m posegraph.train with the tiny preset: checkpoints, logs, resume, atomic saves, NaN, config errors."""
import json
import logging
import os
import random
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import DDPMScheduler
from safetensors.torch import load_file

import posegraph.training.checkpoint as checkpoint_module
import posegraph.training.loop as loop_module
from posegraph.pipelines import PoseGraphPipeline
from posegraph.text import TextEncoder
from posegraph.train import build_parser, main
from posegraph.training import PRESETS, TrainConfig, Trainer, complete_checkpoints, resolve_resume
from posegraph.training.config import config_from_arguments
from posegraph.training.data import CaptionEmbeddings, IndexStream
from posegraph.training.loop import diffusion_target, min_snr_weights
from posegraph.training.state import capture_rng, load_state, restore_rng, save_state

REPO = Path(__file__).resolve().parents[1]
# The tiny preset trains 8 steps; checkpoints every 2 keeping 2, a sample grid at step 4 and at the end.
WATCHED = ["--checkpoint-every", "2", "--keep-last", "2", "--sample-every", "4"]


def tiny_run(out, *flags):
    main(["--preset", "tiny", "--out", str(out), *WATCHED, *flags])


def weights(checkpoint, part):
    return load_file(Path(checkpoint) / part / "diffusion_pytorch_model.safetensors")


def assert_same_training_state(a, b):
    """Two checkpoints hold bit-identical weights, EMA, optimiser, LR schedule, RNG and progress."""
    for part in ("unet", "unet_raw"):
        wa, wb = weights(a, part), weights(b, part)
        assert wa.keys() == wb.keys()
        for name in wa:
            assert torch.equal(wa[name], wb[name]), f"{part}/{name} differs"
    for name in ("optimizer", "rng"):
        ta, tb = (load_file(Path(c) / "training_state" / f"{name}.safetensors") for c in (a, b))
        assert ta.keys() == tb.keys()
        assert all(torch.equal(ta[k], tb[k]) for k in ta), f"{name} state differs"
    for name in ("optimizer", "lr_scheduler", "ema", "progress", "rng"):
        ja, jb = ((Path(c) / "training_state" / f"{name}.json").read_text() for c in (a, b))
        assert ja == jb, f"{name}.json differs"


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """An uninterrupted tiny run (8 steps)."""
    out = tmp_path_factory.mktemp("train") / "full"
    tiny_run(out)
    return out


@pytest.fixture(scope="module")
def text_encoder():
    return TextEncoder.from_pretrained("default")


# --- a run and what it writes ------------------------------------------------------------------------


def test_a_run_writes_pruned_complete_checkpoints_logs_and_grids(full_run):
    checkpoints = complete_checkpoints(full_run)
    assert [c.name for c in checkpoints] == ["step_000006", "step_000008"]  # keep_last=2 of 2, 4, 6, 8
    assert sorted(p.name for p in (full_run / "checkpoints").iterdir()) == ["step_000006", "step_000008"]
    last = checkpoints[-1]
    for name in ("COMPLETE", "unet/config.json", "unet_raw/config.json", "scheduler/scheduler_config.json",
                 "text_encoder.json", "train_config.json", "training_state/optimizer.safetensors"):
        assert (last / name).is_file(), name
    assert TrainConfig.from_json(last / "train_config.json") == config_from_arguments(
        build_parser().parse_args(["--preset", "tiny", *WATCHED]))
    assert json.loads((last / "text_encoder.json").read_text()) == TextEncoder.from_pretrained("default").to_config()
    assert json.loads((last / "training_state/progress.json").read_text()) == {
        "step": 8, "samples_seen": 8 * PRESETS["tiny"]["batch_size"], "num_processes": 1}
    # Only safetensors, JSON, the marker, TensorBoard events and PNGs: nothing that unpickles.
    suffixes = {p.suffix for p in full_run.rglob("*") if p.is_file() and not p.name.startswith("events.out")}
    assert suffixes <= {".safetensors", ".json", "", ".png"}
    assert sorted(p.name for p in (full_run / "samples").iterdir()) == ["step_000004.png", "step_000008.png"]


def test_the_checkpoint_holds_ema_and_raw_weights_and_loads_as_a_pipeline(full_run):
    last = complete_checkpoints(full_run)[-1]
    ema, raw = weights(last, "unet"), weights(last, "unet_raw")
    assert ema.keys() == raw.keys()
    assert any(not torch.equal(ema[k], raw[k]) for k in ema)  # EMA lags the optimised weights
    pipe = PoseGraphPipeline.from_pretrained(full_run)  # the run directory stands for its newest checkpoint
    assert all(torch.equal(p.detach(), ema[n]) for n, p in pipe.unet.named_parameters())
    assert pipe.scheduler.config.prediction_type == "sample"  # the tiny preset predicts clean heatmaps
    assert pipe.scheduler.config.num_train_timesteps == 1000


def test_tensorboard_logs_hold_loss_per_timestep_quartile_and_lr(full_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(full_run / "logs"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"loss/all", "lr"} <= tags
    assert any(tag.startswith("loss/t_quartile_") for tag in tags)
    assert [e.step for e in events.Scalars("loss/all")] == list(range(1, 9))  # log_every=1 in the tiny preset
    lrs = [e.value for e in events.Scalars("lr")]
    assert lrs[1] == pytest.approx(PRESETS["tiny"].get("lr", TrainConfig.lr))  # warm-up of 2 steps, then decay
    assert lrs[-1] == pytest.approx(0.0, abs=1e-12)
    assert all(np.isfinite(e.value) for e in events.Scalars("loss/all"))


# --- resume --------------------------------------------------------------------------------------------


class SimulatedKill(BaseException):
    """Like SIGKILL: nothing catches it."""


def fail_save(step, part, error, monkeypatch):
    """Raise ``error`` when the checkpoint of ``step`` writes its ``part`` (``"rng"``, ``"optimizer"``, ...)."""
    real_save_state = checkpoint_module.save_state

    def save_state(state, directory, name):
        if f"step_{step:06d}" in str(directory) and name == part:
            raise error
        real_save_state(state, directory, name)

    monkeypatch.setattr(checkpoint_module, "save_state", save_state)


def test_a_kill_during_a_save_keeps_the_previous_checkpoint_and_resuming_gives_the_uninterrupted_run(
        full_run, tmp_path, monkeypatch):
    out = tmp_path / "killed"
    fail_save(6, "rng", SimulatedKill("during the save of step 6"), monkeypatch)
    with pytest.raises(SimulatedKill):
        tiny_run(out)
    monkeypatch.undo()
    assert [c.name for c in complete_checkpoints(out)] == ["step_000002", "step_000004"]
    assert (out / "checkpoints" / ".tmp_step_000006").is_dir()  # the half-written save, never renamed
    assert resolve_resume("latest", out).name == "step_000004"
    PoseGraphPipeline.from_pretrained(out)

    # The stored config is reused; run-control settings such as the checkpoint cadence may change.
    main(["--out", str(out), "--resume", "latest", "--checkpoint-every", "4"])
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000004", "step_000008"]
    assert_same_training_state(complete_checkpoints(out)[-1], complete_checkpoints(full_run)[-1])


def test_resume_errors_name_the_problem(full_run, tmp_path):
    with pytest.raises(SystemExit, match=r"seed: 0 there, 5 asked"):
        main(["--out", str(full_run), "--resume", "latest", "--seed", "5"])
    with pytest.raises(SystemExit, match="preset: 'tiny' there, 'cpu' asked"):
        main(["--out", str(full_run), "--resume", "latest", "--preset", "cpu"])
    with pytest.raises(SystemExit, match="already holds checkpoints .*--resume latest"):
        tiny_run(full_run)
    with pytest.raises(SystemExit, match="no such directory"):
        main(["--out", str(tmp_path / "new"), "--resume", str(tmp_path / "missing")])
    truncated = shutil.copytree(complete_checkpoints(full_run)[-1], tmp_path / "step_000008")
    (truncated / "COMPLETE").unlink()
    with pytest.raises(SystemExit, match="truncated checkpoint"):
        main(["--out", str(tmp_path / "new"), "--resume", str(truncated)])
    (truncated / "COMPLETE").touch()
    (truncated / "training_state" / "optimizer.json").unlink()
    with pytest.raises(SystemExit, match="missing training_state/optimizer.json"):
        main(["--out", str(tmp_path / "new"), "--resume", str(truncated)])


# --- NaN -------------------------------------------------------------------------------------------------


def nan_loss_at_step(step, monkeypatch):
    """Make the training loss NaN at the ``step``-th step (counted from 1), real elsewhere."""
    real_loss, calls = loop_module.diffusion_loss, []

    def loss_with_nan(prediction, target):
        calls.append(1)
        loss = real_loss(prediction, target)
        return loss * float("nan") if len(calls) == step else loss

    monkeypatch.setattr(loop_module, "diffusion_loss", loss_with_nan)


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    nan_loss_at_step(3, monkeypatch)
    out = tmp_path / "nan"
    with pytest.raises(SystemExit, match=r"NaN/inf at step 3.*last good checkpoint is .*step_000002"):
        main(["--preset", "tiny", "--out", str(out), "--checkpoint-every", "2"])
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000002"]
    PoseGraphPipeline.from_pretrained(out)


def test_the_nan_advice_works_as_written_and_the_change_is_recorded(tmp_path, monkeypatch):
    nan_loss_at_step(3, monkeypatch)
    out = tmp_path / "nan"
    with pytest.raises(SystemExit) as exit_info:
        main(["--preset", "tiny", "--out", str(out), "--checkpoint-every", "2"])
    monkeypatch.undo()
    advice = re.search(r"Continue from it with a gentler setting: (--resume latest --lr \S+) \(or (--warmup-steps \S+), "
                       r"(--max-grad-norm \S+)\)", str(exit_info.value))
    assert advice, str(exit_info.value)
    flags = " ".join(advice.groups()).split()
    main(["--out", str(out), *flags])  # as the message says, all three at once
    final = complete_checkpoints(out)[-1]
    assert final.name == "step_000008"
    stored = TrainConfig.from_json(final / "train_config.json")
    tiny = TrainConfig.from_preset("tiny")
    assert (stored.lr, stored.warmup_steps, stored.max_grad_norm) == (tiny.lr / 10, 100, tiny.max_grad_norm / 2)
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert history == [{"step": 2, "resumed_from": str(out / "checkpoints" / "step_000002"), "changed": {
        "lr": [tiny.lr, tiny.lr / 10], "warmup_steps": [tiny.warmup_steps, 100],
        "max_grad_norm": [tiny.max_grad_norm, tiny.max_grad_norm / 2]}}]
    lr_state = json.loads((final / "training_state" / "lr_scheduler.json").read_text())
    assert lr_state["base_lrs"] == [tiny.lr / 10]
    assert lr_state["_last_lr"][0] == pytest.approx(tiny.lr / 10 * 8 / 100)  # still warming up: step 8 of 100


def test_resume_falls_back_from_a_damaged_newest_checkpoint_and_still_matches_the_uninterrupted_run(
        full_run, tmp_path, caplog):
    out = tmp_path / "damaged"
    tiny_run(out, "--stop-at", "6")
    assert [c.name for c in complete_checkpoints(out)] == ["step_000004", "step_000006"]
    optimizer = out / "checkpoints" / "step_000006" / "training_state" / "optimizer.safetensors"
    optimizer.write_bytes(optimizer.read_bytes()[: optimizer.stat().st_size // 2])

    with pytest.raises(SystemExit, match=f"{optimizer}: corrupt file .*use the earlier checkpoint .*step_000004"):
        main(["--out", str(tmp_path / "other"), "--resume", str(optimizer.parents[1])])
    with caplog.at_level(logging.WARNING):
        main(["--out", str(out), "--resume", "latest"])
    assert f"{optimizer}: corrupt file" in caplog.text and "previous complete checkpoint" in caplog.text
    assert_same_training_state(complete_checkpoints(out)[-1], complete_checkpoints(full_run)[-1])


def test_a_full_disk_during_a_save_is_one_message_and_leaves_no_partial_checkpoint(tmp_path, monkeypatch):
    fail_save(4, "optimizer", Exception("Error while serializing: I/O error: No space left on device (os error 28)"),
              monkeypatch)
    out = tmp_path / "full"
    with pytest.raises(SystemExit, match=r"cannot write the checkpoint of step 4 into .*No space left on device.*"
                                         r"the earlier checkpoints are intact"):
        tiny_run(out)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000002"]


def test_bf16_mixed_precision_v_prediction_min_snr_and_unit_variance_heatmaps(tmp_path):
    out = tmp_path / "bf16"
    main(["--preset", "tiny", "--out", str(out), "--mixed-precision", "bf16", "--prediction-type", "v_prediction",
          "--snr-gamma", "5", "--model", '{"heatmap_scale": 10.0, "heatmap_shift": -0.2, "pooled_text": true}',
          "--max-steps", "2"])
    checkpoint = out / "checkpoints" / "step_000002"
    for part in ("unet", "unet_raw"):
        assert all(w.dtype == torch.float32 and torch.isfinite(w).all() for w in weights(checkpoint, part).values())
    pipeline = PoseGraphPipeline.from_pretrained(out)
    assert pipeline.scheduler.config.prediction_type == "v_prediction" and pipeline.unet.config.heatmap_scale == 10
    assert pipeline("a man standing", num_inference_steps=2, generator=0, return_heatmaps=True).heatmaps.max() <= 1


def test_adafactor_without_ema_keeps_no_weight_sized_state_and_resumes_exactly(tmp_path):
    """The low-memory setting: Adafactor's factored moments, no EMA copy (``unet/`` = the trained weights)."""
    flags = ["--optimizer", "adafactor", "--lr", "0.01", "--ema-decay", "0"]
    tiny_run(tmp_path / "full", *flags)
    final = complete_checkpoints(tmp_path / "full")[-1]
    trained, raw = weights(final, "unet"), weights(final, "unet_raw")
    assert all(torch.equal(trained[name], raw[name]) for name in raw)
    assert not torch.equal(raw["conv_in.1.weight"], weights(complete_checkpoints(tmp_path / "full")[0],
                                                             "unet_raw")["conv_in.1.weight"])
    moments = load_file(final / "training_state" / "optimizer.safetensors")
    assert sum(t.numel() for t in moments.values()) < sum(w.numel() for w in raw.values()) / 2  # AdamW: 2x

    main(["--preset", "tiny", "--out", str(tmp_path / "stopped"), *WATCHED, *flags, "--stop-at", "4"])
    main(["--out", str(tmp_path / "stopped"), "--resume", "latest"])
    assert_same_training_state(complete_checkpoints(tmp_path / "stopped")[-1], final)


def test_a_run_written_with_the_older_residual_graph_layer_resumes_exactly(tmp_path, monkeypatch):
    """Checkpoints written before graph blocks had one residual path hold a residual layer (``layer.proj``) in
    each: resuming builds today's model to that layout before its optimiser, and carries on as the run would."""
    from posegraph.models import GUNet
    from posegraph.models.blocks import GraphBlock

    today = GUNet.from_preset

    def older(*args, **kwargs):
        unet = today(*args, **kwargs)
        for module in unet.modules():
            if isinstance(module, GraphBlock):
                module.use_residual_layer()
        return unet

    with monkeypatch.context() as patch:  # the older model, for the run and its first half
        patch.setattr(loop_module.GUNet, "from_preset", older)
        tiny_run(tmp_path / "full")
        tiny_run(tmp_path / "stopped", "--stop-at", "4")
    main(["--out", str(tmp_path / "stopped"), "--resume", "latest"])  # today's model, given the checkpoint's layout
    final = complete_checkpoints(tmp_path / "stopped")[-1]
    assert_same_training_state(final, complete_checkpoints(tmp_path / "full")[-1])
    assert any(".layer.proj." in name for name in weights(final, "unet"))
    PoseGraphPipeline.from_pretrained(tmp_path / "stopped")  # and it samples


# --- the pieces ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    config = TrainConfig.from_preset("tiny", synthetic_size=64, batch_size=64, cond_dropout=0.5)
    return Trainer(config, tmp_path_factory.mktemp("trainer"))


class Recorder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model, self.calls = model, []

    def forward(self, sample, timestep, **kwargs):
        self.calls.append((timestep, kwargs))
        return self.model(sample, timestep, **kwargs)


def test_timesteps_are_per_sample_and_text_is_dropped_for_a_fraction(trainer, text_encoder, monkeypatch):
    recorder = Recorder(trainer.model)
    monkeypatch.setattr(trainer, "model", recorder)
    batch = trainer.dataset.collate([trainer.dataset[i] for i in range(64)])
    losses, timesteps = trainer.losses(batch)
    (seen, kwargs), = recorder.calls
    assert losses.shape == timesteps.shape == seen.shape == (64,)
    assert len(seen.unique()) > 32
    null, null_mask = text_encoder.null_embedding(1)
    length = int(null_mask.sum())
    is_null = [torch.allclose(row[:length], null[0, :length], atol=1e-5) and not mask[length:].any()
               for row, mask in zip(kwargs["encoder_hidden_states"], kwargs["encoder_attention_mask"])]
    assert 16 < sum(is_null) < 48  # cond_dropout=0.5 of 64


def test_token_dropout_hides_words_but_never_the_first_token_or_the_padding(trainer, monkeypatch):
    batch = trainer.dataset.collate([trainer.dataset[i] for i in range(64)])
    real = trainer.captions(batch["caption"], torch.zeros(64, dtype=torch.bool))[1]
    recorder = Recorder(trainer.model)
    monkeypatch.setattr(trainer, "model", recorder)
    monkeypatch.setattr(trainer.config, "cond_dropout", 0.0)
    monkeypatch.setattr(trainer.config, "token_dropout", 0.5)
    trainer.losses(batch)
    (_, kwargs), = recorder.calls
    seen = kwargs["encoder_attention_mask"]
    assert seen[:, 0].all() and not (seen & ~real).any()  # the first token always; padding never
    hidden = (real & ~seen)[:, 1:].sum() / real[:, 1:].sum()
    assert 0.4 < hidden < 0.6


def test_the_target_is_noise_clean_heatmaps_or_velocity():
    clean, noise = torch.randn(3, 17, 8, 8), torch.randn(3, 17, 8, 8)
    t = torch.tensor([0, 500, 999])
    epsilon = DDPMScheduler(prediction_type="epsilon")
    assert torch.equal(diffusion_target(epsilon, clean, noise, t), noise)
    assert torch.equal(diffusion_target(DDPMScheduler(prediction_type="sample"), clean, noise, t), clean)
    v = DDPMScheduler(prediction_type="v_prediction")
    alpha = v.alphas_cumprod[t].view(-1, 1, 1, 1)
    assert torch.allclose(diffusion_target(v, clean, noise, t), alpha.sqrt() * noise - (1 - alpha).sqrt() * clean)


def test_snr_weights_count_each_step_as_a_clean_sample_error_of_weight_min_snr_gamma_plus_one():
    t = torch.tensor([0, 300, 700, 999])
    for kind, factor in [("sample", lambda snr: 1), ("epsilon", lambda snr: 1 / (snr + 1e-8)),
                         ("v_prediction", lambda snr: 1 / (snr + 1))]:
        scheduler = DDPMScheduler(prediction_type=kind, beta_schedule="squaredcos_cap_v2")
        alpha = scheduler.alphas_cumprod[t]
        snr = alpha / (1 - alpha)
        expected = (snr.clamp(max=5.0) + 1) * factor(snr)
        torch.testing.assert_close(min_snr_weights(scheduler, t, 5.0), expected)


def test_the_frozen_text_encoder_stays_out_of_the_optimiser(trainer):
    optimised = {id(p) for group in trainer.optimizer.param_groups for p in group["params"]}
    assert optimised == {id(p) for p in trainer.unet.parameters()}
    text_parameters = list(trainer.text_encoder.parameters())  # a torch.nn.Module holding the transformers model
    assert text_parameters and not any(id(p) in optimised or p.requires_grad for p in text_parameters)


def test_the_index_stream_is_shuffled_sharded_and_resumable():
    n, batch = 10, 3
    single = iter(IndexStream(n, batch, seed=1))
    order = [i for _ in range(10) for i in next(single)]  # 30 positions = 3 epochs
    for epoch in range(3):
        assert sorted(order[epoch * n:(epoch + 1) * n]) == list(range(n))
    assert order[:n] != order[n:2 * n]
    resumed = iter(IndexStream(n, batch, seed=1, start=12))
    assert next(resumed) == order[12:15]
    ranks = [iter(IndexStream(n, batch, seed=1, rank=r, num_processes=2)) for r in range(2)]
    assert next(ranks[0]) + next(ranks[1]) == order[:6]  # one global step, split between the processes


def test_captions_are_encoded_once_up_front_and_dropped_to_the_null_embedding():
    encoder = TextEncoder.from_pretrained("default")
    captions = ["a person sitting", "a man waving his right hand", "a person sitting"]
    conditioning = CaptionEmbeddings(encoder, captions, show_progress=False)
    assert encoder.cache_size == 2
    emb, mask = conditioning(["a person sitting", "a man waving his right hand", "a person sitting"],
                             torch.tensor([False, False, True]))
    assert encoder.cache_size == 2  # batches only read the cache
    expected, expected_mask = encoder.encode(captions[:2])
    assert emb.shape[:2] == mask.shape == (3, expected_mask.shape[1])  # padded to the batch's longest caption
    assert torch.equal(mask[:2], expected_mask)
    assert torch.allclose(emb[:2], expected, atol=1e-5)
    null, null_mask = encoder.null_embedding(1)
    length = null_mask.shape[1]
    assert mask[2].tolist() == null_mask[0].tolist() + [False] * (mask.shape[1] - length)
    assert torch.allclose(emb[2, :length], null[0], atol=1e-6) and not emb[2, length:].any()


def test_training_state_round_trips_through_safetensors_and_json(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1, betas=(0.8, 0.9))
    for _ in range(2):
        optimizer.zero_grad()
        model(torch.randn(5, 4)).square().sum().backward()
        optimizer.step()
    save_state(optimizer.state_dict(), tmp_path, "optimizer")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["optimizer.json", "optimizer.safetensors"]
    restored = load_state(tmp_path, "optimizer")
    assert restored["param_groups"][0]["betas"] == (0.8, 0.9)
    twin = torch.nn.Linear(4, 3)
    twin.load_state_dict(model.state_dict())
    twin_optimizer = torch.optim.AdamW(twin.parameters(), lr=0.1, betas=(0.8, 0.9))
    twin_optimizer.load_state_dict(restored)
    x = torch.randn(5, 4)
    for m, o in ((model, optimizer), (twin, twin_optimizer)):
        o.zero_grad()
        m(x).square().sum().backward()
        o.step()
    assert torch.equal(model.weight, twin.weight)
    with pytest.raises(ValueError, match="cannot read training state 'missing'"):
        load_state(tmp_path, "missing")


def test_rng_states_round_trip(tmp_path):
    generator = torch.Generator().manual_seed(3)
    save_state(capture_rng(generator), tmp_path, "rng")

    def draw():
        return (torch.rand(3).tolist(), np.random.rand(3).tolist(), [random.random() for _ in range(3)],
                torch.rand(3, generator=generator).tolist())

    first = draw()
    restore_rng(load_state(tmp_path, "rng"), generator)
    assert draw() == first


# --- configuration ---------------------------------------------------------------------------------------


def test_flags_override_the_preset():
    args = build_parser().parse_args(["--preset", "tiny", "--max-steps", "3", "--lr", "0.01", "--model",
                                      '{"graph_layer": "gat"}', "--sample-prompts", "a", "b", "--max-length", "none",
                                      "--prediction-type", "v_prediction"])
    config = config_from_arguments(args)
    assert config == TrainConfig.from_preset("tiny", max_steps=3, lr=0.01, model={"graph_layer": "gat"},
                                             sample_prompts=["a", "b"], prediction_type="v_prediction")
    assert config.batch_size == PRESETS["tiny"]["batch_size"]
    assert config_from_arguments(build_parser().parse_args([])) == TrainConfig.from_preset("cpu")  # the default


def test_help_lists_every_config_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for name in TrainConfig.__dataclass_fields__:
        assert "--" + name.replace("_", "-") in text


def test_the_config_round_trips_through_json(tmp_path):
    config = TrainConfig.from_preset("paper", coco_keypoints="k.json", coco_captions="c.json")
    config.save(tmp_path / "train_config.json")
    assert TrainConfig.from_json(tmp_path / "train_config.json") == config
    (tmp_path / "bad.json").write_text(json.dumps({**config.to_dict(), "learning_rate": 1}))
    with pytest.raises(ValueError, match=r"bad.json: unknown training config keys \['learning_rate'\]"):
        TrainConfig.from_json(tmp_path / "bad.json")


@pytest.mark.parametrize("flags, message", [
    (["--batch-size", "0"], "--batch-size: must be a positive integer, got 0"),
    (["--mixed-precision", "fp8"], "--mixed-precision: must be one of no, bf16, fp16"),
    (["--optimizer", "sgd"], "--optimizer: must be one of adamw, adafactor"),
    (["--prediction-type", "x0"], "--prediction-type: must be one of epsilon, sample, v_prediction"),
    (["--cond-dropout", "1"], r"--cond-dropout: must be in \[0, 1\)"),
    (["--beta-schedule", "cosine"], "--beta-schedule: must be one of linear, scaled_linear, squaredcos_cap_v2"),
    (["--scale-range", "1.1", "0.9"], "--scale-range: must be two numbers LOW HIGH with 0 < LOW <= HIGH"),
    (["--data", "coco"], "--data coco needs both --coco-keypoints FILE and --coco-captions FILE"),
    (["--config", "x.json"], "give --config FILE or --preset NAME, not both"),
])
def test_bad_settings_are_refused_with_the_flag_named(flags, message, tmp_path):
    with pytest.raises(SystemExit, match=message):
        main(["--preset", "tiny", "--out", str(tmp_path), *flags])
    assert not (tmp_path / "checkpoints").exists()


# --- several processes -----------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_cpu_processes_with_accelerate_launch(full_run, tmp_path):
    """Two gloo processes on the CPU; each trains on its own shard, only the main one writes.

    (``accelerate launch --cpu`` starts several CPU processes only through mpirun; torchrun-style
    processes on the CPU are ``--multi_gpu`` with ``ACCELERATE_USE_CPU=1``.)
    """
    out = tmp_path / "ddp"
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    launch = [str(Path(sys.executable).with_name("accelerate")), "launch", "--multi_gpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
              "--main_process_port", str(free_port()), "-m", "posegraph.train", "--out", str(out),
              "--resume", "latest"]
    result = subprocess.run([*launch, "--preset", "tiny", "--stop-at", "4"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    result = subprocess.run(launch, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    last = complete_checkpoints(out)[-1]
    assert last.name == "step_000008"
    progress = json.loads((last / "training_state/progress.json").read_text())
    assert progress == {"step": 8, "samples_seen": 8 * 2 * PRESETS["tiny"]["batch_size"], "num_processes": 2}
    rng = load_state(last / "training_state", "rng")
    assert set(rng) == {"rank0", "rank1"}
    assert not torch.equal(rng["rank0"]["generator"], rng["rank1"]["generator"])
    assert len(list((out / "logs").iterdir())) == 2  # one events file per launch: the main process's
    ddp, single = weights(last, "unet_raw"), weights(complete_checkpoints(full_run)[-1], "unet_raw")
    assert all(torch.isfinite(w).all() for w in ddp.values())
    assert any(not torch.equal(ddp[k], single[k]) for k in ddp)  # a global batch of 2 x 4, not 4
    PoseGraphPipeline.from_pretrained(out)
