"""`python -m posegraph.sample` on a training-run layout holding a randomly initialised tiny GUNet."""
import errno
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import DDPMScheduler
from PIL import Image

from posegraph.io import read_coco_keypoints, read_openpose_json, write_coco_keypoints, write_openpose_json
from posegraph.models import GUNet
import posegraph.sample as sample_module
from posegraph.pipelines import PoseGraphPipeline
from posegraph.sample import main
from posegraph.text import TextEncoder

PROMPTS = ["a person sitting on a chair", "a person waving with the right hand"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    text_encoder = TextEncoder.from_pretrained("default")
    torch.manual_seed(0)
    unet = GUNet.from_preset("tiny", cross_attention_dim=text_encoder.hidden_size)
    pipe = PoseGraphPipeline(unet=unet, scheduler=DDPMScheduler(), text_encoder=text_encoder)
    run = tmp_path_factory.mktemp("run")
    pipe.save_pretrained(run / "checkpoints" / "step_000010")
    return run


def run_cli(run_dir, out, *extra):
    return main(["--checkpoint", str(run_dir), "--num-samples", "2", "--steps", "2", "--size", "96",
                 "--seed", "5", "--out", str(out), *extra])


def test_writes_one_png_and_openpose_json_per_pose_a_grid_and_poses_json(run_dir, tmp_path, capsys):
    out = tmp_path / "samples"
    assert run_cli(run_dir, out, "--prompt", PROMPTS[0], "--prompt", PROMPTS[1]) == out
    assert str(out) in capsys.readouterr().out

    records = json.loads((out / "poses.json").read_text())
    assert [(r["prompt"], r["index"], r["seed"]) for r in records] == [
        (PROMPTS[0], 0, 5), (PROMPTS[0], 1, 6), (PROMPTS[1], 2, 7), (PROMPTS[1], 3, 8)]
    for record in records:
        assert set(record) == {"prompt", "seed", "index", "width", "height", "keypoints"}
        assert record["width"] == record["height"] == 96
        keypoints = np.array(record["keypoints"], dtype=float).reshape(17, 3)
        assert ((keypoints[:, :2] >= -0.5) & (keypoints[:, :2] <= 95.5)).all()
        assert set(keypoints[:, 2]) <= {0.0, 2.0}

        i = record["index"]
        image = np.asarray(Image.open(out / f"pose_{i:04d}.png"))
        assert image.shape == (96, 96, 3) and image.dtype == np.uint8
        from_openpose = read_openpose_json(out / f"pose_{i:04d}_keypoints.json")
        present = keypoints[:, 2] > 0
        np.testing.assert_allclose(from_openpose[0, present, :2].numpy(), keypoints[present, :2], atol=2e-3)
    assert Image.open(out / "grid.png").size[0] > 96


def test_poses_json_holds_the_pipelines_keypoints(run_dir, tmp_path):
    out = run_cli(run_dir, tmp_path / "samples", "--prompt", PROMPTS[1], "--scheduler", "ddim")
    records = json.loads((out / "poses.json").read_text())
    pipe = PoseGraphPipeline.from_pretrained(run_dir)
    pipe.set_progress_bar_config(disable=True)
    expected = pipe(PROMPTS[1], num_poses_per_prompt=2, num_inference_steps=2, scheduler="ddim", generator=5,
                    canvas_size=96).keypoints
    written = torch.tensor([r["keypoints"] for r in records]).reshape(2, 17, 3)
    torch.testing.assert_close(written, expected, atol=1e-3, rtol=0)


def test_autocast_runs_the_unet_in_bf16(run_dir, tmp_path):
    out = run_cli(run_dir, tmp_path / "samples", "--prompt", PROMPTS[0], "--autocast", "bf16")
    written = torch.tensor([r["keypoints"] for r in json.loads((out / "poses.json").read_text())]).reshape(2, 17, 3)
    pipe = PoseGraphPipeline.from_pretrained(run_dir)
    pipe.set_progress_bar_config(disable=True)
    plain = pipe(PROMPTS[0], num_poses_per_prompt=2, num_inference_steps=2, scheduler="dpm-solver++", generator=5,
                 canvas_size=96).keypoints
    pipe.enable_autocast("bf16")
    half = pipe(PROMPTS[0], num_poses_per_prompt=2, num_inference_steps=2, scheduler="dpm-solver++", generator=5,
                canvas_size=96).keypoints
    torch.testing.assert_close(written, half, atol=1e-3, rtol=0)
    assert not torch.equal(half, plain)  # the flag took effect


def test_prompts_file_takes_one_prompt_a_line_and_skips_blank_lines(run_dir, tmp_path):
    prompts_file = tmp_path / "prompts.txt"
    prompts_file.write_text(f"{PROMPTS[0]}\n\n  {PROMPTS[1]}  \n")
    out = run_cli(run_dir, tmp_path / "samples", "--prompts-file", str(prompts_file), "--num-samples", "1")
    assert [r["prompt"] for r in json.loads((out / "poses.json").read_text())] == PROMPTS


@pytest.mark.parametrize(
    "args, message",
    [
        (["--prompts-file", "no_such_file.txt"], "--prompts-file no_such_file.txt: cannot read it"),
        (["--prompt", "a", "--scheduler", "euler"], "invalid choice: 'euler' (choose from"),
        (["--prompt", "a", "--num-samples", "0"], "must be a positive integer, got 0"),
        (["--prompt", "a", "--steps", "-1"], "must be a positive integer, got -1"),
        ([], "one of the arguments --prompt --prompts-file --person is required"),
    ],
)
def test_bad_arguments_exit_with_a_message(run_dir, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run_dir, tmp_path / "samples", *args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    if "euler" in args:
        assert all(name in err for name in ("ddpm", "ddim", "dpm-solver++", "unipc"))


def test_a_bad_checkpoint_exits_with_a_message_naming_it(tmp_path, capsys):
    empty = tmp_path / "empty_run"
    empty.mkdir()
    with pytest.raises(SystemExit):
        main(["--checkpoint", str(empty), "--prompt", "a", "--out", str(tmp_path / "samples")])
    assert f"{empty}: not a pipeline, checkpoint or run directory" in capsys.readouterr().err


@pytest.mark.slow
def test_runs_as_a_module(run_dir, tmp_path):
    out = tmp_path / "samples"
    result = subprocess.run(
        [sys.executable, "-m", "posegraph.sample", "--checkpoint", str(run_dir), "--prompt", PROMPTS[0],
         "--num-samples", "1", "--steps", "1", "--out", str(out)],
        capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "poses.json" in result.stdout and (out / "pose_0000.png").is_file()


# --- output folders written as a unit ------------------------------------------------------------------


def written(out):
    return sorted(path.name for path in out.iterdir())


def test_a_rerun_with_fewer_samples_replaces_the_folder_whole(run_dir, tmp_path):
    out = tmp_path / "samples"
    run_cli(run_dir, out, "--prompt", PROMPTS[0], "--num-samples", "3")
    assert len(written(out)) == 3 * 2 + 2
    run_cli(run_dir, out, "--prompt", PROMPTS[1], "--num-samples", "1")
    assert written(out) == ["grid.png", "pose_0000.png", "pose_0000_keypoints.json", "poses.json"]
    assert [r["prompt"] for r in json.loads((out / "poses.json").read_text())] == [PROMPTS[1]]
    assert os.listdir(tmp_path) == ["samples"]


def no_model(*args, **kwargs):
    raise AssertionError("the model was loaded although the arguments are wrong")


@pytest.mark.parametrize("kind", ["file", "foreign", "under_a_file"])
def test_an_output_folder_that_cannot_take_the_run_is_refused_before_the_model_loads(run_dir, tmp_path, capsys,
                                                                                    monkeypatch, kind):
    monkeypatch.setattr(PoseGraphPipeline, "from_pretrained", no_model)
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    out, message = {"file": (tmp_path / "a_file", "is a file, not a folder"),
                    "foreign": (tmp_path / "notes", r"holds files that no earlier run here wrote \(todo.txt\)"),
                    "under_a_file": (tmp_path / "a_file" / "samples", "cannot create its parent folder")}[kind]
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run_dir, out, "--prompt", "a")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and "Traceback" not in err
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"


def test_a_full_disk_while_writing_leaves_the_earlier_run_and_no_partial_files(run_dir, tmp_path, capsys,
                                                                              monkeypatch):
    out = tmp_path / "samples"
    run_cli(run_dir, out, "--prompt", PROMPTS[0])
    before = {name: (out / name).read_bytes() for name in written(out)}
    real_save_png, calls = sample_module.save_png, []

    def disk_full_at_the_second_image(image, path):
        calls.append(path)
        if len(calls) == 2:
            Path(path).write_bytes(b"")  # what a full disk leaves behind
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_save_png(image, path)

    monkeypatch.setattr(sample_module, "save_png", disk_full_at_the_second_image)
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run_dir, out, "--prompt", PROMPTS[1])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "cannot write the poses (No space left on device" in err and f"{out} was left as it was" in err
    assert {name: (out / name).read_bytes() for name in written(out)} == before
    assert os.listdir(tmp_path) == ["samples"]


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 256 KiB tmpfs (root only; skipped where mounting is not allowed)."""
    mount_point = tmp_path / "small_disk"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip() or result.returncode}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_real_full_disk_leaves_no_partial_output(run_dir, small_tmpfs, capsys):
    out = small_tmpfs / "samples"
    run_cli(run_dir, out, "--prompt", PROMPTS[0], "--num-samples", "1")
    before = {name: (out / name).read_bytes() for name in written(out)}
    with pytest.raises(SystemExit) as exit_info:  # 40 poses at 512 px do not fit in what is left
        run_cli(run_dir, out, "--prompt", PROMPTS[1], "--num-samples", "40", "--size", "512")
    assert exit_info.value.code == 1
    assert "No space left on device" in capsys.readouterr().err
    assert {name: (out / name).read_bytes() for name in written(out)} == before
    assert os.listdir(small_tmpfs) == ["samples"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--num-samples", "1000000000"], r"--num-samples 1000000000: 1,000,000,000 poses: their keypoints would need "
                                          r".* of memory, .* is available; ask for at most"),
        (["--size", "100000"], "--size: must be at most 16384, got 100000"),
        (["--size", "20000x64"], "--size: must be at most 16384 a side, got 20000x64"),
        (["--seed", "1180591620717411303424"], "--seed: must be an integer from 0 to 2\\*\\*63 - 1"),
        (["--seed", "-1"], "--seed: must be an integer from 0 to 2\\*\\*63 - 1, got -1"),
        (["--guidance-scale", "nan"], "--guidance-scale: must be a finite number, got 'nan'"),
        (["--steps", "ten"], "--steps: must be an integer, got 'ten'"),
        (["--device", "no_such_device"], "--device no_such_device: not usable on this machine"),
    ],
)
def test_wrong_numbers_exit_2_with_one_message_before_the_model_loads(run_dir, tmp_path, capsys, monkeypatch,
                                                                     args, message):
    monkeypatch.setattr(PoseGraphPipeline, "from_pretrained", no_model)
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run_dir, tmp_path / "samples", "--prompt", "a", *args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and "Traceback" not in err
    assert not (tmp_path / "samples").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_device_cuda_without_cuda_is_refused(run_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(PoseGraphPipeline, "from_pretrained", no_model)
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run_dir, tmp_path / "samples", "--prompt", "a", "--device", "cuda")
    assert exit_info.value.code == 2
    assert "--device cuda: not usable on this machine" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--steps", "100000"], r"--steps 100000 is too many for DPMSolverMultistepScheduler with this model's 1000 "
                                r"training timesteps .*; it takes at most 999"),
        (["--steps", "1001", "--scheduler", "ddim"], r"--steps 1001 is too many for DDIMScheduler .* at most 1000"),
        (["--steps", "1000", "--scheduler", "unipc"], "--steps 1000 is too many for UniPCMultistepScheduler"),
    ],
)
def test_too_many_steps_fail_fast_with_the_limit(run_dir, tmp_path, capsys, args, message):
    start = time.perf_counter()
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run_dir, tmp_path / "samples", "--prompt", "a", *args)
    assert time.perf_counter() - start < 10
    assert exit_info.value.code == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "samples").exists()


def test_a_prompts_file_that_is_not_utf8_is_refused(run_dir, tmp_path, capsys):
    prompts_file = tmp_path / "prompts.txt"
    prompts_file.write_bytes(b"a person \xff\xfe sitting\n")
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run_dir, tmp_path / "samples", "--prompts-file", str(prompts_file))
    assert exit_info.value.code == 2
    assert f"--prompts-file {prompts_file}: not UTF-8 text (byte 9); save it as UTF-8" in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["truncated", "random", "bad_config", "shape"])
def test_a_damaged_newest_checkpoint_names_the_file_and_the_good_one(run_dir, tmp_path, capsys, damage):
    run = tmp_path / "run"
    shutil.copytree(run_dir / "checkpoints" / "step_000010", run / "checkpoints" / "step_000010")
    newest = shutil.copytree(run_dir / "checkpoints" / "step_000010", run / "checkpoints" / "step_000020")
    weights = newest / "unet" / "diffusion_pytorch_model.safetensors"
    config = newest / "unet" / "config.json"
    damaged, says = weights, "corrupt file"
    if damage == "truncated":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif damage == "random":
        weights.write_bytes(np.random.default_rng(0).bytes(weights.stat().st_size))
    elif damage == "bad_config":
        config.write_text(config.read_text()[:50])
        damaged = config
    else:
        values = json.loads(config.read_text())
        values["block_out_channels"] = [2 * c for c in values["block_out_channels"]]
        config.write_text(json.dumps(values))
        damaged, says = config, "incompatible file"
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run, tmp_path / "samples", "--prompt", "a")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    message = err.strip().splitlines()[-1]  # the usage, then one line
    assert message.startswith(f"python -m posegraph.sample: error: --checkpoint: {damaged}: {says} (")
    assert message.endswith(f"; use the earlier checkpoint {run / 'checkpoints' / 'step_000010'}")
    assert "Traceback" not in err and len(message) < 600


@pytest.mark.slow
def test_two_samplers_into_one_folder_at_once_never_mix(run_dir, tmp_path):
    out = tmp_path / "samples"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    for repeat in range(2):
        runs = [subprocess.Popen([sys.executable, "-m", "posegraph.sample", "--checkpoint", str(run_dir), "--prompt",
                                  prompt, "--num-samples", str(count), "--steps", "1", "--size", str(size), "--seed",
                                  str(seed), "--out", str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for prompt, count, size, seed in [(PROMPTS[0], 5, 64, 1), (PROMPTS[1], 2, 96, 2)]]
        for process in runs:
            assert process.wait(timeout=600) == 0, process.stderr.read().decode()[-2000:]
        records = json.loads((out / "poses.json").read_text())
        count, size = (5, 64) if records[0]["prompt"] == PROMPTS[0] else (2, 96)
        assert len(records) == count and {r["width"] for r in records} == {size}
        assert written(out) == sorted(["grid.png", "poses.json"] + [f"pose_{i:04d}{suffix}" for i in range(count)
                                                                   for suffix in (".png", "_keypoints.json")])
        assert all(Image.open(out / f"pose_{i:04d}.png").size == (size, size) for i in range(count))
        assert os.listdir(tmp_path) == ["samples"]


# --- pose control -----------------------------------------------------------------------------------

LEGS = list(range(11, 17))


def a_pose(canvas=(96, 96)):
    """A standing-like COCO-17 pose in pixels of a (height, width) canvas."""
    height, width = canvas
    xs = np.linspace(0.3, 0.7, 17) * width
    ys = np.linspace(0.1, 0.9, 17) * height
    return torch.tensor(np.stack([xs, ys, np.full(17, 2.0)], -1), dtype=torch.float32)


def read_records(out):
    records = json.loads((out / "poses.json").read_text())
    return records, torch.tensor([r["keypoints"] for r in records], dtype=torch.float32).reshape(len(records), 17, 3)


def test_init_pose_with_keep_holds_the_files_joints_on_the_files_canvas(run_dir, tmp_path):
    pose = a_pose((80, 120))
    write_openpose_json(tmp_path / "pose.json", pose, (80, 120))
    out = main(["--checkpoint", str(run_dir), "--prompt", PROMPTS[1], "--num-samples", "2", "--steps", "2",
                "--init-pose", str(tmp_path / "pose.json"), "--keep", "legs", "--resample", "2",
                "--out", str(tmp_path / "samples")])
    records, keypoints = read_records(out)
    assert (records[0]["width"], records[0]["height"]) == (120, 80)
    torch.testing.assert_close(keypoints[:, LEGS], pose[LEGS].expand(2, -1, -1), atol=1e-3, rtol=0)
    assert np.asarray(Image.open(out / "pose_0000.png")).shape == (80, 120, 3)


def test_init_pose_from_coco_results_at_strength_0_comes_back_and_size_rescales_openpose_files(run_dir, tmp_path):
    pose = a_pose()
    write_coco_keypoints(tmp_path / "coco.json", torch.stack([torch.zeros(17, 3), pose]), [1, 2], 96)
    out = run_cli(run_dir, tmp_path / "samples", "--prompt", PROMPTS[0], "--init-pose", str(tmp_path / "coco.json"),
                  "--pose-index", "1", "--strength", "0")
    _, keypoints = read_records(out)
    torch.testing.assert_close(keypoints, pose.expand(2, -1, -1), atol=0.01, rtol=0)
    write_openpose_json(tmp_path / "small.json", pose, 96, canvas_size=48)  # the same pose on a 48-pixel canvas
    out = run_cli(run_dir, tmp_path / "rescaled", "--prompt", PROMPTS[0], "--init-pose", str(tmp_path / "small.json"),
                  "--strength", "0")
    _, keypoints = read_records(out)
    torch.testing.assert_close(keypoints, pose.expand(2, -1, -1), atol=0.01, rtol=0)


def test_people_with_boxes_make_one_scene_image_one_openpose_file_and_coco_records_per_person(run_dir, tmp_path):
    out = main(["--checkpoint", str(run_dir), "--person", PROMPTS[0], "--box", "0,0,60,60", "--person", PROMPTS[1],
                "--box", "70,10,50,50", "--size", "128x64", "--num-samples", "2", "--steps", "2", "--seed", "3",
                "--out", str(tmp_path / "scenes")])
    for j in range(2):
        assert np.asarray(Image.open(out / f"scene_{j:04d}.png")).shape == (64, 128, 3)
        assert read_openpose_json(out / f"scene_{j:04d}_keypoints.json").shape == (2, 17, 3)
    coco = read_coco_keypoints(out / "coco_results.json")
    assert coco.image_ids == [0, 0, 1, 1]
    records, keypoints = read_records(out)
    assert [(r["index"], r["person"], r["prompt"], r["seed"]) for r in records] == [
        (0, 0, PROMPTS[0], 3), (0, 1, PROMPTS[1], 4), (1, 0, PROMPTS[0], 5), (1, 1, PROMPTS[1], 6)]
    assert records[1]["box"] == [70, 10, 50, 50] and (records[0]["width"], records[0]["height"]) == (128, 64)
    torch.testing.assert_close(keypoints, coco.keypoints, atol=1e-3, rtol=0)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--prompt", "a", "--keep", "legs"], "--keep needs --init-pose FILE"),
        (["--prompt", "a", "--strength", "0.5"], "--strength needs --init-pose FILE"),
        (["--prompt", "a", "--init-pose", "no_such.json"], "--init-pose no_such.json: cannot read it"),
        (["--prompt", "a", "--init-pose", "BAD", "--keep", "legs"], "not a JSON file"),
        (["--prompt", "a", "--init-pose", "EMPTY_PEOPLE", "--keep", "legs"], "--pose-index 0: --init-pose"),
        (["--prompt", "a", "--init-pose", "POSE", "--keep", "tail"], "--keep: unknown body part or joint 'tail'"),
        (["--prompt", "a", "--init-pose", "POSE", "--strength", "2"], "--strength must be a number in [0, 1]"),
        (["--prompt", "a", "--init-pose", "FAR", "--keep", "legs"], "outside the 96x96 canvas"),
        (["--person", "a", "--person", "b", "--box", "0,0,10,10"], "--box: got 1 boxes for 2 --person prompts"),
        (["--person", "a", "--person", "b", "--box", "0,0,50,50", "--box", "60,0,50,50"], "--box[1]"),
        (["--person", "a", "--person", "b", "--box", "0,0,50,50", "--box", "20,0,50,50"], "overlap"),
        (["--person", "a", "--box", "0,0,50"], "must be x,y,width,height"),
        (["--prompt", "a", "--box", "0,0,50,50"], "--box needs --person"),
        (["--prompt", "a", "--size", "12x"], "must be N or WIDTHxHEIGHT"),
    ],
)
def test_bad_pose_control_arguments_exit_with_a_message(run_dir, tmp_path, capsys, args, message):
    (tmp_path / "BAD").write_text("{not json")
    (tmp_path / "EMPTY_PEOPLE").write_text(json.dumps({"people": [], "canvas_width": 96, "canvas_height": 96}))
    write_openpose_json(tmp_path / "POSE", a_pose(), 96)
    write_coco_keypoints(tmp_path / "FAR", torch.tensor([[200.0, 10.0, 2.0]] * 17), [0], 96)
    args = [str(tmp_path / a) if a in ("BAD", "EMPTY_PEOPLE", "POSE", "FAR") else a for a in args]
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run_dir, tmp_path / "samples", *args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


# --- scenes: the same staged folder and up-front checks --------------------------------------------------


def scene_files(count):
    return sorted(["coco_results.json", "poses.json"] + [f"scene_{j:04d}{suffix}" for j in range(count)
                                                         for suffix in (".png", "_keypoints.json")])


def test_scenes_replace_an_earlier_runs_folder_whole_and_are_replaced_in_turn(run_dir, tmp_path):
    out = tmp_path / "samples"
    run_cli(run_dir, out, "--prompt", PROMPTS[0])
    run_cli(run_dir, out, "--person", PROMPTS[0], "--person", PROMPTS[1], "--size", "128x64")
    assert written(out) == scene_files(2)
    assert os.listdir(tmp_path) == ["samples"]
    run_cli(run_dir, out, "--prompt", PROMPTS[1], "--num-samples", "1")
    assert written(out) == ["grid.png", "pose_0000.png", "pose_0000_keypoints.json", "poses.json"]


def test_a_scene_run_into_a_folder_with_other_files_is_refused_before_the_model_loads(run_dir, tmp_path, capsys,
                                                                                     monkeypatch):
    monkeypatch.setattr(PoseGraphPipeline, "from_pretrained", no_model)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run_dir, tmp_path / "notes", "--person", "a", "--person", "b")
    assert exit_info.value.code == 2
    assert "holds files that no earlier run here wrote (todo.txt)" in capsys.readouterr().err
    assert written(tmp_path / "notes") == ["todo.txt"]


def test_a_full_disk_while_writing_scenes_leaves_the_earlier_run(run_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "samples"
    run_cli(run_dir, out, "--person", PROMPTS[0], "--person", PROMPTS[1], "--size", "128x64")
    before = {name: (out / name).read_bytes() for name in written(out)}
    real_save_png, calls = sample_module.save_png, []

    def disk_full_at_the_second_scene(image, path):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_save_png(image, path)

    monkeypatch.setattr(sample_module, "save_png", disk_full_at_the_second_scene)
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run_dir, out, "--person", PROMPTS[1], "--person", PROMPTS[0], "--size", "128x64", "--seed", "9")
    assert exit_info.value.code == 1
    assert f"{out} was left as it was" in capsys.readouterr().err
    assert {name: (out / name).read_bytes() for name in written(out)} == before
    assert os.listdir(tmp_path) == ["samples"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--person", "a", "--person", "b", "--box", "0,0,10,10"], "--box: got 1 boxes for 2 --person prompts"),
        (["--person", "a", "--num-samples", "1000000000"], "--num-samples 1000000000: 1,000,000,000 poses"),
        (["--person", "a", "--size", "0x64"], "--size: must be N or WIDTHxHEIGHT in positive pixels"),
        (["--person", "a", "--steps", "ten"], "--steps: must be an integer, got 'ten'"),
    ],
)
def test_wrong_scene_arguments_exit_2_before_the_model_loads(run_dir, tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.setattr(PoseGraphPipeline, "from_pretrained", no_model)
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run_dir, tmp_path / "samples", *args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "samples").exists()


def test_too_many_steps_for_a_scene_name_the_flag(run_dir, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run_dir, tmp_path / "samples", "--person", "a", "--person", "b", "--steps", "100000")
    assert exit_info.value.code == 2
    assert "--steps 100000 is too many for DPMSolverMultistepScheduler" in capsys.readouterr().err
    assert not (tmp_path / "samples").exists()


def test_a_canvas_too_large_for_the_memory_names_width_and_height(run_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(PoseGraphPipeline, "from_pretrained", no_model)
    monkeypatch.setattr(sample_module, "available_memory_bytes", lambda: 33 * 64 * 32)
    with pytest.raises(SystemExit) as exit_info:
        run_cli(run_dir, tmp_path / "samples", "--person", "a", "--size", "256x128")
    assert exit_info.value.code == 2
    assert ("--size 256x128: drawing one 256 x 128 image needs about 1.0 MiB of memory, 66.0 KiB is available; "
            "use --size 64x32 or less") in capsys.readouterr().err
