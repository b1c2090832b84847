"""The web app on a randomly initialised tiny pipeline: its checks and files (no browser), the Gradio server
answering through its API, and the page driven in headless Chromium."""
import json
import logging
import shutil
import time
import zipfile

import numpy as np
import pytest
import torch
from diffusers import DDPMScheduler
from PIL import Image

from posegraph.app import NO_CHECKPOINT_MESSAGE, PoseMaker, RequestError
from posegraph.app.poses import DEMO_COMMAND
from posegraph.io import read_openpose_json
from posegraph.models import GUNet
from posegraph.pipelines import PoseGraphPipeline
from posegraph.text import TextEncoder

logger = logging.getLogger(__name__)
PROMPT = "a woman waving her left hand"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    text_encoder = TextEncoder.from_pretrained("default")
    torch.manual_seed(0)
    unet = GUNet.from_preset("tiny", cross_attention_dim=text_encoder.hidden_size)
    directory = tmp_path_factory.mktemp("app") / "pipeline"
    PoseGraphPipeline(unet=unet, scheduler=DDPMScheduler(), text_encoder=text_encoder).save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def maker(checkpoint):
    maker = PoseMaker.from_checkpoint(checkpoint, max_poses=16, max_steps=50)
    yield maker
    maker.close()


# --- what the app does, without the page ---------------------------------------------------------------------


def test_a_request_gives_controlnet_images_openpose_json_and_a_zip_of_them(maker):
    batch = maker.make(PROMPT, num_poses=3, seed=5, steps=2, width=96, height=64)
    assert [record["seed"] for record in batch.records] == [5, 6, 7]
    assert [path.name for path in batch.images] == ["pose_0000.png", "pose_0001.png", "pose_0002.png"]
    for index, (image, json_path, record) in enumerate(zip(batch.images, batch.jsons, batch.records)):
        assert np.asarray(Image.open(image)).shape == (64, 96, 3)
        keypoints = read_openpose_json(json_path)
        assert keypoints.shape == (1, 17, 3)
        expected = torch.tensor(record["keypoints"], dtype=torch.float32).reshape(17, 3)
        present = expected[:, 2] > 0
        torch.testing.assert_close(keypoints[0, present, :2], expected[present, :2], atol=2e-3, rtol=0)
        assert record["prompt"] == PROMPT and record["index"] == index and (record["width"], record["height"]) == (96, 64)
    with zipfile.ZipFile(batch.archive) as archive:
        assert sorted(archive.namelist()) == sorted([p.name for p in batch.images + batch.jsons] + ["poses.json"])
        assert json.loads(archive.read("poses.json")) == batch.records
    assert batch.caption(1) == "#2 · seed 6"


def test_the_poses_are_the_pipelines_for_the_same_request(maker):
    batch = maker.make(PROMPT, negative_prompt="sitting", num_poses=2, seed=3, steps=2, scheduler="ddim",
                       guidance_scale=4.0, width=128, height=128)
    expected = maker.pipeline(PROMPT, num_poses_per_prompt=2, negative_prompt="sitting", guidance_scale=4.0,
                              num_inference_steps=2, scheduler="ddim", generator=3, canvas_size=128).keypoints
    written = torch.tensor([record["keypoints"] for record in batch.records]).reshape(2, 17, 3)
    torch.testing.assert_close(written, expected, atol=1e-3, rtol=0)


def test_seed_minus_one_draws_random_seeds(maker):
    seeds = [record["seed"] for record in maker.make(PROMPT, num_poses=2, seed=-1, steps=1).records]
    assert seeds != [0, 1] and len(set(seeds)) == 2


@pytest.mark.parametrize("request_, message", [
    (dict(prompt=""), "Type a prompt first"),
    (dict(prompt="   \n "), "Type a prompt first"),
    (dict(prompt="x" * 2000), "under 1000"),
    (dict(num_poses=10**9), "number of poses must be from 1 to 16 (the server's limit; start it with --max-poses"),
    (dict(num_poses=0), "from 1 to 16"),
    (dict(num_poses=2.5), "whole number"),
    (dict(num_poses=None), "whole number"),
    (dict(steps=10**6), "steps must be from 1 to 50"),
    (dict(width=10), "canvas width must be from 64 to 2048"),
    (dict(seed=2**70), "seed must be from 0"),
    (dict(scheduler="euler"), "Unknown scheduler 'euler': choose one of ddpm, ddim, dpm-solver++, unipc"),
    (dict(guidance_scale=float("nan")), "Guidance must be a number from 0 to 30"),
])
def test_bad_requests_are_messages_that_say_what_to_change(maker, request_, message):
    arguments = dict(prompt=PROMPT, num_poses=1, steps=1) | request_
    with pytest.raises(RequestError) as error:
        maker.make(**arguments)
    assert message in str(error.value) and "Traceback" not in str(error.value)
    assert len(maker.make(PROMPT, num_poses=1, steps=1).images) == 1  # and the next request is served


def test_without_a_checkpoint_the_maker_says_how_to_train_one():
    maker = PoseMaker.from_checkpoint(None)
    assert maker.problem == NO_CHECKPOINT_MESSAGE and DEMO_COMMAND in maker.problem and "--checkpoint runs/demo" in maker.problem
    with pytest.raises(RequestError, match="No checkpoint is loaded"):
        maker.make(PROMPT)
    maker.close()


def test_a_checkpoint_that_fails_to_load_is_a_message_not_an_exception(checkpoint, tmp_path, caplog):
    broken = tmp_path / "broken"
    shutil.copytree(checkpoint, broken)
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"not safetensors")
    for path in (tmp_path / "missing", broken):
        with caplog.at_level(logging.ERROR):
            maker = PoseMaker.from_checkpoint(path)
        assert not maker.ready and maker.problem.startswith(f"Could not load the checkpoint `{path}`: ")
        assert DEMO_COMMAND in maker.problem and "Traceback" not in maker.problem
        with pytest.raises(RequestError, match="Could not load the checkpoint"):
            maker.make(PROMPT)
        maker.close()


def test_old_request_folders_are_deleted_and_close_removes_the_rest(checkpoint, tmp_path):
    maker = PoseMaker(PoseGraphPipeline.from_pretrained(checkpoint), keep_batches=1)
    first = maker.make(PROMPT, num_poses=1, steps=1).directory
    second = maker.make(PROMPT, num_poses=1, steps=1).directory
    assert not first.exists() and second.exists()
    maker.close()
    assert not maker.out_dir.exists()


# --- the Gradio server, through its API ---------------------------------------------------------------------


def test_the_server_answers_a_bad_request_with_a_message_and_keeps_serving(maker):
    pytest.importorskip("gradio", reason="the web app needs the app extra: pip install -e '.[app]'")
    from gradio_client import Client

    from posegraph.app import build_app
    from posegraph.app.browser import free_port

    app = build_app(maker).queue()
    app.launch(server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        client = Client(app.local_url, verbose=False, download_files=False)
        request = dict(negative_prompt="", seed=0, steps=2, scheduler="dpm-solver++", guidance_scale=5, width=128,
                       height=128, answers=0, api_name="/generate")
        gallery, status, downloads, *_, answers = client.predict(prompt="", num_poses=2, **request)
        assert gallery == [] and status.startswith("⚠️ Type a prompt first") and answers == 1
        _, status, *_ = client.predict(prompt=PROMPT, num_poses=10**6, **request)
        assert "from 1 to 16" in status
        gallery, status, downloads, *_ = client.predict(prompt=PROMPT, num_poses=2, **request)
        assert len(gallery) == 2 and status.startswith(f"2 poses for “{PROMPT}” (seeds 0–1)")
        assert [d["orig_name"] if isinstance(d, dict) else d for d in downloads][0].endswith("poses.zip")
    finally:
        app.close()


# --- the page in a real browser -------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_page_in_headless_chromium_makes_poses_and_downloads_their_files(checkpoint, tmp_path):
    pytest.importorskip("gradio", reason="the web app needs the app extra: pip install -e '.[app]'")
    from posegraph.app.browser import AppPage, find_chromium, open_chromium, serve_app

    try:
        find_chromium()
    except RuntimeError as error:
        pytest.skip(f"no browser to drive: {error}")
    downloads = tmp_path / "downloads"
    log = tmp_path / "app.log"
    with serve_app(checkpoint, "--max-poses", "16", log=log, timeout=600) as url, \
            open_chromium(downloads) as driver:
        page = AppPage(driver, url, timeout=300)
        assert page.notice() == ""
        timing = page.generate(PROMPT, num_poses=4)
        print(f"app latency: 4 poses (tiny preset, 20 steps): answer {timing['answer']:.2f} s, "
              f"gallery shown {timing['shown']:.2f} s after the click")
        assert len(page.gallery_images()) == 4
        assert page.status().startswith(f"4 poses for “{PROMPT}” (seeds 0–3)")

        links = page.download_links()
        assert list(links) == ["poses.zip"] + [f"pose_{i:04d}{suffix}" for i in range(4)
                                               for suffix in (".png", "_keypoints.json")]
        links["pose_0002_keypoints.json"].click()
        links["poses.zip"].click()
        saved_json, saved_zip = downloads / "pose_0002_keypoints.json", downloads / "poses.zip"
        page.wait_for(lambda d: saved_json.exists() and saved_zip.exists(), "the downloads")
        time.sleep(0.5)  # the browser renames a finished download into place; let it close the file
        assert read_openpose_json(saved_json).shape == (1, 17, 3)
        with zipfile.ZipFile(saved_zip) as archive:
            assert len(archive.namelist()) == 9

        page.gallery_images()[2].click()  # pick a pose: its own files
        page.wait_for(lambda d: list(page.download_links("selected-files")) == ["pose_0002.png",
                                                                                 "pose_0002_keypoints.json"],
                      "the picked pose's files")

        status, _ = page.submit("", 4)
        assert status.startswith("⚠️ Type a prompt first") and page.gallery_images() == []
        status, _ = page.submit(PROMPT, 10**6)
        assert "must be from 1 to 16" in status and "Traceback" not in driver.page_source
        page.generate("a man sitting on a chair", num_poses=2, seed=7)  # the server still serves
        assert page.status().startswith("2 poses for “a man sitting on a chair” (seeds 7–8)")

    broken = tmp_path / "broken"
    with serve_app(broken, log=log, timeout=600) as url, open_chromium() as driver:
        page = AppPage(driver, url, timeout=300)
        notice = " ".join(page.notice().split())  # the path is set as code, on a line of its own
        assert notice.startswith("⚠️ Could not load the checkpoint") and str(broken) in notice
        status, _ = page.submit(PROMPT, 2)
        assert status.startswith("⚠️ Could not load the checkpoint") and "Traceback" not in driver.page_source
