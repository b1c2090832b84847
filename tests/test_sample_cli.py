"""`python -m posegraph.sample` on a training-run layout holding a randomly initialised tiny GUNet."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from diffusers import DDPMScheduler
from PIL import Image

from posegraph.io import read_coco_keypoints, read_openpose_json, write_coco_keypoints, write_openpose_json
from posegraph.models import GUNet
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


# --- pose control -----------------------------------------------------------------------------------

LEGS = list(range(11, 17))


def a_pose(canvas=(96, 96)):
    """A standing-like COCO-17 pose in pixels of a (height, width) canvas."""
    height, width = canvas
    xs = np.linspace(0.3, 0.7, 17) * width
    ys = np.linspace(0.1, 0.9, 17) * height
    return torch.tensor(np.stack([xs, ys, np.full(17, 2.0)], -1), dtype=torch.float32)


def written(out):
    records = json.loads((out / "poses.json").read_text())
    return records, torch.tensor([r["keypoints"] for r in records], dtype=torch.float32).reshape(len(records), 17, 3)


def test_init_pose_with_keep_holds_the_files_joints_on_the_files_canvas(run_dir, tmp_path):
    pose = a_pose((80, 120))
    write_openpose_json(tmp_path / "pose.json", pose, (80, 120))
    out = main(["--checkpoint", str(run_dir), "--prompt", PROMPTS[1], "--num-samples", "2", "--steps", "2",
                "--init-pose", str(tmp_path / "pose.json"), "--keep", "legs", "--resample", "2",
                "--out", str(tmp_path / "samples")])
    records, keypoints = written(out)
    assert (records[0]["width"], records[0]["height"]) == (120, 80)
    torch.testing.assert_close(keypoints[:, LEGS], pose[LEGS].expand(2, -1, -1), atol=1e-3, rtol=0)
    assert np.asarray(Image.open(out / "pose_0000.png")).shape == (80, 120, 3)


def test_init_pose_from_coco_results_at_strength_0_comes_back_and_size_rescales_openpose_files(run_dir, tmp_path):
    pose = a_pose()
    write_coco_keypoints(tmp_path / "coco.json", torch.stack([torch.zeros(17, 3), pose]), [1, 2], 96)
    out = run_cli(run_dir, tmp_path / "samples", "--prompt", PROMPTS[0], "--init-pose", str(tmp_path / "coco.json"),
                  "--pose-index", "1", "--strength", "0")
    _, keypoints = written(out)
    torch.testing.assert_close(keypoints, pose.expand(2, -1, -1), atol=0.01, rtol=0)
    write_openpose_json(tmp_path / "small.json", pose, 96, canvas_size=48)  # the same pose on a 48-pixel canvas
    out = run_cli(run_dir, tmp_path / "rescaled", "--prompt", PROMPTS[0], "--init-pose", str(tmp_path / "small.json"),
                  "--strength", "0")
    _, keypoints = written(out)
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
    records, keypoints = written(out)
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
