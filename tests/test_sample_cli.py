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

from posegraph.io import read_openpose_json
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
        ([], "one of the arguments --prompt --prompts-file is required"),
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
