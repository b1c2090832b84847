"""Canonical sides: side-free captions train one mirror image, sampling gives back both."""
import json

import numpy as np
import pytest
import torch
from diffusers import DDPMScheduler

from posegraph.data.captions import names_side
from posegraph.data.checker import action_sides
from posegraph.data.dataset import PoseTextDataset
from posegraph.data.sides import mirror_to_canonical, side_score
from posegraph.data.synthetic import SyntheticPoseGenerator
from posegraph.heatmaps import heatmaps_to_keypoints
from posegraph.models import GUNet
from posegraph.pipelines import PoseGraphPipeline
from posegraph.skeleton import COCO_17, Skeleton
from posegraph.text import TextEncoder
from posegraph.training.config import TrainConfig

SIZE = 32


def synthetic(n, actions=None, seed=0, size=SIZE):
    return SyntheticPoseGenerator(size=size, seed=seed, actions=actions).sample(n)


def test_names_side_finds_left_and_right_as_words_only():
    assert names_side("a man raising his LEFT arm") and names_side("Right hand up")
    assert not names_side("a woman standing on one leg") and not names_side("a leftover bright kite")


def test_mirroring_a_pose_negates_its_score_and_exactly_one_of_the_two_is_canonical():
    keypoints = synthetic(500).keypoints
    mirrored = COCO_17.flip_keypoints(keypoints, SIZE)
    np.testing.assert_allclose(side_score(mirrored), -side_score(keypoints), atol=1e-4)  # float32 pixels
    asymmetric = np.abs(side_score(keypoints)) > 1e-3
    assert asymmetric.mean() > 0.9
    np.testing.assert_array_equal(mirror_to_canonical(keypoints)[asymmetric],
                                  ~mirror_to_canonical(mirrored)[asymmetric])


def test_canonical_orientation_settles_the_side_of_side_free_actions():
    """Which side a one-leg pose, a punch or a throw uses is the same for most canonical poses."""
    for action, least in (("one_leg", 0.95), ("punching", 0.9), ("throwing", 0.8)):
        keypoints = synthetic(300, [action]).keypoints
        canonical = np.where(mirror_to_canonical(keypoints)[:, None, None],
                             COCO_17.flip_keypoints(keypoints, SIZE), keypoints)
        sides = action_sides(canonical, action)
        told = sides[np.isin(sides, ["left", "right"])]
        assert len(told) > 100
        assert max(np.mean(told == "left"), np.mean(told == "right")) >= least, action


def test_a_layout_without_limb_pairs_scores_zero():
    blob = Skeleton(names=("head", "neck", "tail"), bones=[(0, 1), (1, 2)])
    assert np.all(side_score(np.random.default_rng(0).random((4, 3, 3)) + 0.5, blob) == 0)


def test_the_dataset_trains_side_free_captions_in_their_canonical_orientation_only():
    samples = synthetic(64, ["one_leg", "punching", "raise_left_arm"])
    captions = [[f"{c}", "someone standing on one leg", "a person lifting the left leg"] for c in samples.captions]
    dataset = PoseTextDataset(samples.keypoints, captions, size=SIZE, flip_prob=0.5, canonical_side=True,
                              augment_seed=0, max_rotation=0, scale_range=(1, 1))
    free = named = 0
    for epoch in range(4):
        dataset.set_epoch(epoch)
        for item in dataset.__getitems__(list(range(len(dataset)))):
            if names_side(item["caption"]):
                named += 1
            else:
                free += 1
                assert side_score(item["keypoints"].numpy()) >= 0, item["caption"]
    assert free > 100 and named > 100
    plain = PoseTextDataset(samples.keypoints, captions, size=SIZE, flip_prob=0.5, augment_seed=0,
                            max_rotation=0, scale_range=(1, 1))
    scores = [side_score(item["keypoints"].numpy()) for item in plain.__getitems__(list(range(len(plain))))]
    assert np.mean(np.array(scores) < 0) > 0.2  # without it, flips put side-free poses either way


def test_the_cpu_presets_train_canonical_sides_and_configs_written_before_do_not(tmp_path):
    assert TrainConfig.from_preset("cpu").canonical_side and TrainConfig.from_preset("tiny").canonical_side
    old = TrainConfig.from_preset("cpu").to_dict()
    del old["canonical_side"]
    (tmp_path / "train_config.json").write_text(json.dumps(old))
    assert TrainConfig.from_json(tmp_path / "train_config.json").canonical_side is False


# --- sampling ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def text_encoder():
    return TextEncoder.from_pretrained("default")


def make_pipe(unet, text_encoder, canonical_side):
    scheduler = DDPMScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="sample")
    pipe = PoseGraphPipeline(unet=unet, scheduler=scheduler, text_encoder=text_encoder, canonical_side=canonical_side)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def pipes(text_encoder):
    torch.manual_seed(0)
    unet = GUNet.from_preset("tiny", cross_attention_dim=text_encoder.hidden_size).eval()
    return make_pipe(unet, text_encoder, False), make_pipe(unet, text_encoder, True)


def test_side_free_prompts_come_out_mirrored_half_the_time_and_named_sides_never(pipes):
    plain, canonical = pipes
    size = plain.unet.heatmap_size
    for prompt, mirrored_share in (("a person standing on one leg", (0.25, 0.75)),
                                   ("a man raising his left arm", (0.0, 0.0))):
        kwargs = dict(num_poses_per_prompt=24, num_inference_steps=2, generator=3, return_heatmaps=True,
                      canvas_size=size)
        a, b = plain(prompt, **kwargs), canonical(prompt, **kwargs)
        assert a.seeds == b.seeds
        flipped = a.heatmaps.flip(-1)[:, plain.skeleton.flip_permutation]
        same = (b.heatmaps - a.heatmaps).abs().amax((1, 2, 3)) < 1e-5
        mirror = (b.heatmaps - flipped).abs().amax((1, 2, 3)) < 1e-5
        assert torch.all(same | mirror)
        low, high = mirrored_share
        assert low <= (mirror & ~same).float().mean() <= high, prompt
        again = canonical(prompt, **{**kwargs, "num_poses_per_prompt": 1, "generator": b.seeds[5]})
        torch.testing.assert_close(again.keypoints[0], b.keypoints[5])


def test_a_given_pose_is_sampled_in_its_canonical_orientation_and_its_kept_joints_come_back(pipes):
    _, canonical = pipes
    size = canonical.unet.heatmap_size
    keypoints = torch.as_tensor(synthetic(40, ["one_leg"], seed=1, size=size).keypoints)
    given = keypoints[torch.from_numpy(mirror_to_canonical(keypoints))][:1]  # a pose that needs mirroring
    out = canonical("a person standing on one leg", keypoints=given, keep="left_leg", num_inference_steps=2,
                    generator=0, canvas_size=size, num_poses_per_prompt=2, return_heatmaps=True)
    legs = [COCO_17.index(name) for name in ("left_hip", "left_knee", "left_ankle")]
    torch.testing.assert_close(out.keypoints[:, legs], given[:, legs].expand(2, -1, -1))
    # the heatmaps too: the kept channels were mirrored in, held, and mirrored back to where they were given
    drawn = heatmaps_to_keypoints(out.heatmaps)[:, legs, :2]
    assert (drawn - given[:, legs, :2]).abs().max() < 0.5


def test_canonical_side_travels_with_the_pipeline(pipes, tmp_path):
    plain, canonical = pipes
    canonical.save_pretrained(tmp_path / "saved")
    assert PoseGraphPipeline.from_pretrained(tmp_path / "saved", text_encoder=canonical.text_encoder) \
        .config.canonical_side is True
    plain.save_pretrained(tmp_path / "step")
    index = json.loads((tmp_path / "step" / "model_index.json").read_text())
    del index["canonical_side"]
    (tmp_path / "step" / "model_index.json").write_text(json.dumps(index))
    load = lambda: PoseGraphPipeline.from_pretrained(tmp_path / "step", text_encoder=plain.text_encoder)  # noqa: E731
    assert load().config.canonical_side is False  # a checkpoint from before: no key anywhere
    (tmp_path / "step" / "train_config.json").write_text(json.dumps({"canonical_side": True}))
    assert load().config.canonical_side is True
