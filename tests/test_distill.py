"""python -m posegraph.distill on the tiny presets: the run and its checkpoints, continuing an interrupted run, the
student in the pipeline (LCM scheduler, its steps, one forward a step), the consistency arithmetic, bad inputs."""
import dataclasses
import json
from pathlib import Path

import pytest
import torch
from diffusers import DDPMScheduler, LCMScheduler
from safetensors.torch import load_file

from posegraph.app.poses import PoseMaker, RequestError
from posegraph.distill import main
from posegraph.evaluate import main as evaluate_main
from posegraph.distillation import DistillConfig, Distiller
from posegraph.distillation.consistency import ddim_step, skipping_schedule, student_scheduler
from posegraph.pipelines import PoseGraphPipeline
from posegraph.pipelines.schedulers import consistency_output
from posegraph.sample import main as sample_main
from posegraph.train import main as train_main

PROMPTS = ["a person waving with the right hand", "a person standing on one leg"]


def weights(checkpoint, part):
    return load_file(Path(checkpoint) / part / "diffusion_pytorch_model.safetensors")


def distill_cli(teacher, out, *flags):
    return main(["--preset", "tiny", "--teacher", str(teacher), "--out", str(out), *flags])


def forward_batches(unet):
    """A list that records the batch size of every forward of ``unet``, and the hook's handle."""
    batches = []
    return batches, unet.register_forward_pre_hook(lambda module, args: batches.append(args[0].shape[0]))


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    """A tiny training run of 2 steps: the teacher."""
    out = tmp_path_factory.mktemp("teacher") / "run"
    train_main(["--preset", "tiny", "--out", str(out), "--max-steps", "2", "--checkpoint-every", "2"])
    return out


@pytest.fixture(scope="module")
def full_run(teacher, tmp_path_factory):
    """An uninterrupted tiny distillation (4 iterations, checkpoints at 2 and 4)."""
    out = tmp_path_factory.mktemp("student") / "run"
    distill_cli(teacher, out)
    return out


@pytest.fixture(scope="module")
def student(full_run):
    pipe = PoseGraphPipeline.from_pretrained(full_run)
    pipe.set_progress_bar_config(disable=True)
    return pipe


# --- the run and what it writes ----------------------------------------------------------------------


def test_a_run_writes_training_checkpoints_with_the_lcm_scheduler_and_the_distillation_config(teacher, full_run):
    checkpoints = sorted(p.name for p in (full_run / "checkpoints").iterdir())
    assert checkpoints == ["step_000002", "step_000004"]
    last = full_run / "checkpoints" / "step_000004"
    for name in ("COMPLETE", "unet", "unet_raw", "scheduler", "text_encoder.json", "train_config.json",
                 "training_state/optimizer.safetensors", "training_state/ema.json"):
        assert (last / name).exists(), name
    scheduler = json.loads((last / "scheduler" / "scheduler_config.json").read_text())
    assert scheduler["_class_name"] == "LCMScheduler" and scheduler["original_inference_steps"] == 10
    assert scheduler["prediction_type"] == "sample" and scheduler["clip_sample"] is False
    stored = DistillConfig.from_json(last / "distill_config.json")
    assert stored == DistillConfig.from_preset("tiny", teacher=str((teacher / "checkpoints" / "step_000002").resolve()))
    trained = json.loads((last / "train_config.json").read_text())
    assert trained["max_steps"] == 4 and trained["canonical_side"] is True and trained["sample_every"] == 0
    assert list((full_run / "logs").glob("events.out.tfevents.*"))


def test_the_student_starts_from_the_teachers_weights(teacher, full_run):
    """4 AdamW steps at lr 2e-4 move a weight by at most about 1e-3; a fresh initialisation would differ by far more."""
    taught = weights(teacher / "checkpoints" / "step_000002", "unet")
    for part in ("unet", "unet_raw"):
        student = weights(full_run / "checkpoints" / "step_000004", part)
        assert student.keys() == taught.keys()
        assert max((student[k] - taught[k]).abs().max().item() for k in taught) < 3e-3
    raw = weights(full_run / "checkpoints" / "step_000004", "unet_raw")
    assert any(not torch.equal(raw[k], taught[k]) for k in taught)


def test_an_interrupted_run_continues_to_the_same_step_and_weights(teacher, full_run, tmp_path):
    out = tmp_path / "run"
    distill_cli(teacher, out, "--stop-at", "2")
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000002"]
    main(["--out", str(out)])  # the stored config: no --teacher needed
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_000002", "step_000004"]
    for part in ("unet", "unet_raw"):
        a, b = weights(out / "checkpoints" / "step_000004", part), weights(full_run / "checkpoints" / "step_000004", part)
        assert all(torch.equal(a[k], b[k]) for k in a), part
    progress = json.loads((out / "checkpoints" / "step_000004" / "training_state" / "progress.json").read_text())
    assert progress["step"] == 4


def test_each_iteration_runs_the_guided_teacher_the_target_and_the_student_once(teacher, tmp_path):
    config = DistillConfig.from_preset("tiny", teacher=str((teacher / "checkpoints" / "step_000002").resolve()))
    distiller = Distiller(config, tmp_path / "run")
    assert distiller.target is not distiller.unet
    calls = {}
    handles = []
    for name, unet in (("teacher", distiller.teacher.unet), ("target", distiller.target), ("student", distiller.unet)):
        calls[name], handle = forward_batches(unet)
        handles.append(handle)
    batch = distiller.dataset.collate([distiller.dataset[i] for i in range(3)])
    losses, start = distiller.losses(batch)
    for handle in handles:
        handle.remove()
    assert calls == {"teacher": [6], "target": [3], "student": [3]}  # guidance: unconditional and conditional rows
    assert losses.shape == (3,) and torch.isfinite(losses).all() and losses.requires_grad
    assert set(start.tolist()) <= set(skipping_schedule(distiller.lcm)[0].tolist())


def test_the_teacher_is_guided_inside_its_interval_and_conditional_outside(teacher, tmp_path):
    config = DistillConfig.from_preset("tiny", teacher=str((teacher / "checkpoints" / "step_000002").resolve()),
                                       guidance_interval=[500, 1000])
    distiller = Distiller(config, tmp_path / "run")
    batch = distiller.dataset.collate([distiller.dataset[i] for i in range(2)])
    captions = list(batch["caption"])
    text, mask = distiller.captions(captions, torch.zeros(2, dtype=torch.bool))
    noisy = torch.randn(2, *batch["heatmaps"].shape[1:], generator=torch.Generator().manual_seed(0))
    start, end = torch.tensor([899, 99]), torch.tensor([799, 0])
    stepped = distiller.teacher_step(noisy, start, end, captions, text, mask)
    unguided = dataclasses.replace(config, guidance_scale=1.0)
    distiller.distill_config = unguided
    conditional = distiller.teacher_step(noisy, start, end, captions, text, mask)
    torch.testing.assert_close(stepped[1], conditional[1])  # timestep 99: outside, the conditional step
    assert not torch.allclose(stepped[0], conditional[0], atol=1e-4)  # timestep 899: guided
    with pytest.raises(ValueError, match="guidance-interval: must be two timesteps"):
        DistillConfig.from_preset("tiny", teacher="x", guidance_interval=[700, 100])


# --- the student in the pipeline -------------------------------------------------------------------------


def test_the_student_samples_with_its_lcm_scheduler_and_steps_one_forward_a_step(student):
    assert isinstance(student.scheduler, LCMScheduler) and student.config.distilled_steps == 2
    assert student.config.canonical_side is True
    batches, handle = forward_batches(student.unet)
    try:
        out = student(PROMPTS, num_poses_per_prompt=2, generator=0, canvas_size=64)
        assert batches == [4, 4]  # the stored 2 steps, no guidance
        batches.clear()
        student(PROMPTS, num_poses_per_prompt=2, num_inference_steps=1, generator=0, canvas_size=64)
        assert batches == [4]
    finally:
        handle.remove()
    assert out.keypoints.shape == (4, 17, 3) and torch.isfinite(out.keypoints).all()
    again = student(PROMPTS, num_poses_per_prompt=2, generator=0, canvas_size=64)
    assert torch.equal(out.keypoints, again.keypoints)


def test_the_sample_command_works_unchanged_on_the_student(full_run, tmp_path):
    out = sample_main(["--checkpoint", str(full_run), "--prompt", PROMPTS[0], "--num-samples", "2", "--size", "64",
                       "--out", str(tmp_path / "samples")])
    assert len(json.loads((out / "poses.json").read_text())) == 2


def test_the_evaluate_command_samples_the_student_with_its_own_scheduler_and_steps(full_run, tmp_path, capsys):
    out = tmp_path / "eval"
    evaluate_main(["--checkpoint", str(full_run), "--data", "synthetic", "--out", str(out), "--num-captions", "2",
                   "--samples-per-caption", "2", "--bootstrap", "10", "--no-plots"])
    meta = json.loads((out / "metrics.json").read_text())["meta"]
    assert (meta["scheduler"], meta["steps"], meta["guidance_scale"]) == ("LCMScheduler", 2, 1.0)
    with pytest.raises(SystemExit):
        evaluate_main(["--checkpoint", str(full_run), "--data", "synthetic", "--out", str(out), "--scheduler", "ddim"])
    assert "is a consistency-distilled student" in capsys.readouterr().err


def test_the_app_offers_the_students_own_sampler_and_refuses_guidance(student, tmp_path):
    maker = PoseMaker(student, out_dir=tmp_path)
    assert (maker.schedulers, maker.default_steps, maker.default_guidance) == (["lcm (distilled)"], 2, 1.0)
    batch = maker.make(PROMPTS[0], num_poses=2, width=64, height=64)
    assert len(batch.images) == 2
    with pytest.raises(RequestError, match="distilled with its guidance folded into the model"):
        maker.make(PROMPTS[0], guidance_scale=5)
    with pytest.raises(RequestError, match="num_inference_steps=11 is too many for LCMScheduler .* at most 10 "
                                           r"\(1 to 4, for a distilled checkpoint, is usual\)"):
        maker.make(PROMPTS[0], steps=11)
    with pytest.raises(RequestError, match="choose one of lcm"):
        maker.make(PROMPTS[0], scheduler="dpm-solver++")


def test_pose_control_works_with_the_student(student):
    pose = torch.tensor([[20.0 + k, 10.0 + 2 * k, 2.0] for k in range(17)])
    kept = student(PROMPTS[0], keypoints=pose, keep="legs", canvas_size=64, generator=1, resample=2)
    legs = [11, 12, 13, 14, 15, 16]
    assert torch.equal(kept.keypoints[0, legs], pose[legs])
    batches, handle = forward_batches(student.unet)
    try:
        edited = student(PROMPTS[1], init_keypoints=pose, strength=0.5, canvas_size=64, generator=1)
    finally:
        handle.remove()
    assert batches == [1] and edited.keypoints.shape == (1, 17, 3)


@pytest.mark.parametrize("kwargs, message", [
    ({"guidance_scale": 5.0}, "guidance_scale: this checkpoint is distilled with its teacher's guidance folded"),
    ({"scheduler": "dpm-solver++"}, r"scheduler='dpm-solver\+\+': this checkpoint is a consistency-distilled student"),
    ({"num_inference_steps": 11}, "num_inference_steps=11 is too many for LCMScheduler .* at most 10"),
])
def test_a_student_refuses_guidance_named_schedulers_and_more_steps_than_its_schedule(student, kwargs, message):
    with pytest.raises(ValueError, match=message):
        student(PROMPTS[0], **kwargs)


def test_a_saved_student_pipeline_keeps_its_steps(student, tmp_path):
    student.save_pretrained(tmp_path / "saved")
    assert PoseGraphPipeline.from_pretrained(tmp_path / "saved").config.distilled_steps == 2


# --- the consistency arithmetic --------------------------------------------------------------------------


def test_the_skipping_schedule_is_lcm_schedulers_and_each_step_goes_k_timesteps_down():
    scheduler = student_scheduler(DDPMScheduler(beta_schedule="squaredcos_cap_v2"), 50, 10.0)
    start, end = skipping_schedule(scheduler)
    assert start.tolist() == list(range(999, 0, -20)) and end.tolist() == list(range(979, 0, -20)) + [0]
    scheduler.set_timesteps(4)
    assert set(scheduler.timesteps.tolist()) <= set(start.tolist())


@pytest.mark.parametrize("prediction_type", ["sample", "epsilon", "v_prediction"])
def test_the_consistency_function_is_what_lcm_scheduler_steps_to(prediction_type):
    scheduler = student_scheduler(DDPMScheduler(beta_schedule="squaredcos_cap_v2", prediction_type=prediction_type),
                                  50, 10.0)
    generator = torch.Generator().manual_seed(0)
    sample, output = torch.randn(2, 3, 4, 4, generator=generator), torch.randn(2, 3, 4, 4, generator=generator)
    scheduler.set_timesteps(1)  # one step: no noise added, prev_sample is the denoised sample
    t = scheduler.timesteps[0]
    expected = scheduler.step(output, t, sample).prev_sample
    assert torch.allclose(consistency_output(scheduler, output, sample, t.expand(2)), expected, atol=1e-6)
    assert torch.equal(consistency_output(scheduler, output, sample, torch.zeros(2, dtype=torch.long)), sample)


def test_a_ddim_step_with_the_true_clean_sample_lands_on_the_forward_process():
    scheduler = DDPMScheduler(beta_schedule="squaredcos_cap_v2")
    generator = torch.Generator().manual_seed(0)
    clean, noise = torch.randn(3, 2, 4, 4, generator=generator), torch.randn(3, 2, 4, 4, generator=generator)
    start, end = torch.tensor([999, 519, 19]), torch.tensor([979, 499, 0])
    stepped = ddim_step(scheduler, clean, scheduler.add_noise(clean, noise, start), start, end)
    assert torch.allclose(stepped, scheduler.add_noise(clean, noise, end), atol=1e-4)


# --- bad inputs ------------------------------------------------------------------------------------------


def test_bad_inputs_are_one_message_naming_the_problem(teacher, full_run, tmp_path, capsys):
    pipeline_only = tmp_path / "pipeline"
    PoseGraphPipeline.from_pretrained(teacher).save_pretrained(pipeline_only)
    cases = [
        (["--teacher", str(tmp_path / "missing")], "--teacher: .*missing: no such directory"),
        (["--teacher", str(pipeline_only)], "is not a posegraph training checkpoint"),
        (["--teacher", str(full_run)], "is already a distilled student"),
        (["--teacher", str(teacher), "--steps", "0"], r"--steps: must be a positive integer at most "
                                                      r"--original-inference-steps \(10\), got 0"),
        (["--teacher", str(teacher), "--steps", "11"], r"--steps: .* at most --original-inference-steps \(10\)"),
        (["--teacher", str(teacher), "--original-inference-steps", "1001", "--steps", "4"],
         "--original-inference-steps: at most the teacher's 1000 training timesteps"),
        ([], "--teacher DIR is required"),
    ]
    for flags, message in cases:
        with pytest.raises(SystemExit, match=f"python -m posegraph.distill: error: .*{message}"):
            main(["--preset", "tiny", "--out", str(tmp_path / "out"), *flags])
    assert not (tmp_path / "out" / "checkpoints").exists()
    with pytest.raises(SystemExit, match="holds a training run, not a distillation"):
        main(["--preset", "tiny", "--teacher", str(teacher), "--out", str(teacher)])
    with pytest.raises(SystemExit, match=r"distilled with a different config \(steps: 2 there, 1 asked\)"):
        main(["--out", str(full_run), "--steps", "1"])
