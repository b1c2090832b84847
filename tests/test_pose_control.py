"""Pose control with the tiny GUNet (randomly initialised): keeping joints, editing, several people."""
import json

import numpy as np
import pytest
import torch
from diffusers import DDPMScheduler

from posegraph.compose import compose_people, side_by_side_boxes
from posegraph.data.synthetic import SyntheticPoseGenerator
from posegraph.heatmaps import heatmaps_to_keypoints
from posegraph.io import read_coco_keypoints, read_openpose_json
from posegraph.models import GUNet
from posegraph.pipelines import SCHEDULERS, PoseGraphPipeline
from posegraph.pipelines.control import box_to_frame, frame_to_box, keep_mask
from posegraph.render import draw_openpose
from posegraph.skeleton import BODY_PARTS, COCO_17
from posegraph.text import TextEncoder

STEPS = 4
CANVAS = 256
LEGS = [COCO_17.index(j) for j in BODY_PARTS["legs"]]
PROMPTS = ["a man raising both arms", "a woman with her hands on her hips"]


@pytest.fixture(scope="module")
def text_encoder():
    return TextEncoder.from_pretrained("default")


def make_pipe(text_encoder, prediction_type="v_prediction", **scheduler_options):
    torch.manual_seed(0)
    unet = GUNet.from_preset("tiny", cross_attention_dim=text_encoder.hidden_size).eval()
    scheduler = DDPMScheduler(beta_schedule="squaredcos_cap_v2", prediction_type=prediction_type, **scheduler_options)
    pipe = PoseGraphPipeline(unet=unet, scheduler=scheduler, text_encoder=text_encoder)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def pipe(text_encoder):
    return make_pipe(text_encoder)


@pytest.fixture(scope="module")
def trained_like(text_encoder):
    """The scheduler config the trainer writes: clean-sample prediction, trailing spacing, clipping."""
    return make_pipe(text_encoder, "sample", timestep_spacing="trailing", clip_sample_range=1.0)


def standing_poses(n=2, canvas=CANVAS, seed=0):
    """Synthetic standing poses in canvas pixels (absent joints (0, 0, 0))."""
    size = 32
    kp = torch.as_tensor(SyntheticPoseGenerator(size=size, seed=seed).sample(n, "standing").keypoints)
    xy = (kp[..., :2] + 0.5) * canvas / size - 0.5
    return torch.cat([torch.where(kp[..., 2:] > 0, xy, 0.0), kp[..., 2:]], -1)


def to_canvas(keypoints, size, canvas=CANVAS):
    return frame_to_box(keypoints, size, (0, 0, canvas, canvas))


# --- keeping joints -----------------------------------------------------------------------------------


@pytest.mark.parametrize("pipe_name", ["pipe", "trained_like"])
@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_kept_joints_come_back_within_half_a_pixel_with_every_scheduler(request, pipe_name, scheduler):
    pipe = request.getfixturevalue(pipe_name)
    given = standing_poses(2)
    out = pipe(PROMPTS, keypoints=given, keep="legs", scheduler=scheduler, num_inference_steps=STEPS, generator=0,
               canvas_size=CANVAS, return_heatmaps=True)
    assert out.keypoints.shape == (2, 17, 3)
    assert torch.equal(out.keypoints[:, LEGS], given[:, LEGS])  # returned as given
    decoded = to_canvas(heatmaps_to_keypoints(out.heatmaps), pipe.unet.config.sample_size)
    present = given[:, LEGS, 2] > 0
    error = (decoded[:, LEGS, :2] - given[:, LEGS, :2]).norm(dim=-1)[present]
    assert error.max() < 0.5, f"{scheduler}: kept joints moved by up to {error.max():.3f} px in the heatmaps"
    free = pipe(PROMPTS, scheduler=scheduler, num_inference_steps=STEPS, generator=0, canvas_size=CANVAS,
                return_heatmaps=True)
    others = [k for k in range(17) if k not in LEGS]
    torch.testing.assert_close(out.heatmaps.shape, free.heatmaps.shape)
    assert not torch.equal(out.heatmaps[:, others], free.heatmaps[:, others])  # the rest saw the kept joints


class _Recorder(torch.nn.Module):
    """Wraps a unet and records the samples it is given."""

    def __init__(self, unet):
        super().__init__()
        self.unet, self.inputs, self.timesteps = unet, [], []

    def forward(self, sample, timestep, **kwargs):
        self.inputs.append(sample.clone())
        self.timesteps.append(int(timestep[0]))
        return self.unet(sample, timestep, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.unet, name)


@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_kept_channels_are_noised_to_each_steps_timestep(trained_like, scheduler, monkeypatch):
    """What the unet sees in a kept channel is sqrt(abar_t) x0 + sqrt(1 - abar_t) eps at the step's own t."""
    pipe = trained_like
    recorder = _Recorder(pipe.unet)
    monkeypatch.setitem(pipe.__dict__, "unet", recorder)
    given = standing_poses(1)
    out = pipe(PROMPTS[0], keypoints=given, keep="legs", scheduler=scheduler, num_inference_steps=STEPS,
               generator=3, guidance_scale=1.0, canvas_size=CANVAS, return_heatmaps=True)
    config = recorder.unet.config
    x0 = out.heatmaps[:, LEGS] * config.heatmap_scale + config.heatmap_shift
    shape = (1, 17, config.sample_size, config.sample_size)
    eps = torch.randn(shape, generator=torch.Generator().manual_seed(3))[:, LEGS]
    abar = pipe.scheduler.alphas_cumprod
    assert len(recorder.inputs) == STEPS and len(set(recorder.timesteps)) == STEPS
    for sample, t in zip(recorder.inputs, recorder.timesteps):
        expected = abar[t].sqrt() * x0 + (1 - abar[t]).sqrt() * eps
        torch.testing.assert_close(sample[:, LEGS], expected, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_resampling_takes_every_step_but_the_last_again_and_keeps_the_joints(trained_like, scheduler, monkeypatch):
    given = standing_poses(1)
    once = trained_like(PROMPTS[0], keypoints=given, keep="legs", scheduler=scheduler, num_inference_steps=STEPS,
                        generator=0, guidance_scale=1.0, canvas_size=CANVAS, return_heatmaps=True)
    recorder = _Recorder(trained_like.unet)
    monkeypatch.setitem(trained_like.__dict__, "unet", recorder)
    twice = trained_like(PROMPTS[0], keypoints=given, keep="legs", scheduler=scheduler, num_inference_steps=STEPS,
                         generator=0, guidance_scale=1.0, canvas_size=CANVAS, resample=3, return_heatmaps=True)
    steps = list(dict.fromkeys(recorder.timesteps))
    assert len(steps) == STEPS and recorder.timesteps == [t for t in steps[:-1] for _ in range(3)] + steps[-1:]
    assert torch.equal(twice.keypoints[:, LEGS], given[:, LEGS])
    decoded = to_canvas(heatmaps_to_keypoints(twice.heatmaps), trained_like.unet.config.sample_size)
    present = given[:, LEGS, 2] > 0
    assert (decoded[:, LEGS, :2] - given[:, LEGS, :2]).norm(dim=-1)[present].max() < 0.5
    assert not torch.equal(once.heatmaps, twice.heatmaps)
    config = recorder.unet.config
    x0 = twice.heatmaps[:, LEGS] * config.heatmap_scale + config.heatmap_shift
    eps = torch.randn((1, 17, config.sample_size, config.sample_size), generator=torch.Generator().manual_seed(0))
    abar = trained_like.scheduler.alphas_cumprod
    for sample, t in zip(recorder.inputs, recorder.timesteps):  # every repeat sees the kept channels at its own t
        expected = abar[t].sqrt() * x0 + (1 - abar[t]).sqrt() * eps[:, LEGS]
        torch.testing.assert_close(sample[:, LEGS], expected, atol=1e-4, rtol=1e-4)


def test_keypoints_alone_keep_their_present_joints_and_one_pose_serves_every_prompt(pipe):
    given = standing_poses(1)[0]
    given[[COCO_17.index(j) for j in BODY_PARTS["arms"] + BODY_PARTS["head"]]] = 0.0  # only legs labelled
    out = pipe(PROMPTS, keypoints=given, num_inference_steps=STEPS, generator=0, canvas_size=CANVAS)
    assert torch.equal(out.keypoints[:, LEGS], given[LEGS].expand(2, -1, -1))


def test_a_kept_absent_joint_stays_absent(pipe):
    given = standing_poses(1)[0]
    given[COCO_17.index("left_ankle")] = 0.0
    out = pipe(PROMPTS[0], keypoints=given, keep="legs", num_inference_steps=STEPS, generator=0, canvas_size=CANVAS,
               return_heatmaps=True)
    assert out.keypoints[0, COCO_17.index("left_ankle")].tolist() == [0.0, 0.0, 0.0]
    assert out.heatmaps[0, COCO_17.index("left_ankle")].max() == 0


def test_keep_names_parts_joints_lists_and_masks():
    legs = keep_mask("legs")
    assert legs.dtype == torch.bool and legs.nonzero().flatten().tolist() == sorted(LEGS)
    assert torch.equal(keep_mask("legs, nose"), legs | keep_mask("nose"))
    assert torch.equal(keep_mask(["left_leg", "right_leg"]), legs)
    assert torch.equal(keep_mask(legs.numpy()), legs) and torch.equal(keep_mask(legs.tolist()), legs)
    assert keep_mask("arms").sum() == 6 and keep_mask("head").sum() == 5 and keep_mask("torso").sum() == 4


# --- editing --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_strength_0_returns_the_input_and_1_ignores_it(trained_like, scheduler):
    given = standing_poses(1)[0]
    present = given[:, 2] > 0
    same = trained_like("a person sitting", init_keypoints=given, strength=0.0, scheduler=scheduler,
                        num_inference_steps=STEPS, canvas_size=CANVAS)
    assert (same.keypoints[0, present, :2] - given[present, :2]).norm(dim=-1).max() < 0.01
    ignored = trained_like("a person sitting", init_keypoints=given, strength=1.0, scheduler=scheduler,
                           num_inference_steps=STEPS, generator=4, canvas_size=CANVAS)
    free = trained_like("a person sitting", scheduler=scheduler, num_inference_steps=STEPS, generator=4,
                        canvas_size=CANVAS)
    assert torch.equal(ignored.keypoints, free.keypoints)


@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
def test_an_edit_runs_the_last_strength_share_of_the_steps_and_combines_with_keep(trained_like, scheduler,
                                                                                    monkeypatch):
    recorder = _Recorder(trained_like.unet)
    monkeypatch.setitem(trained_like.__dict__, "unet", recorder)
    given = standing_poses(1)[0]
    out = trained_like("a person raising both arms", init_keypoints=given, strength=0.5, keep="legs",
                       scheduler=scheduler, num_inference_steps=STEPS, guidance_scale=1.0, canvas_size=CANVAS)
    assert len(recorder.inputs) == STEPS // 2
    assert torch.equal(out.keypoints[0, LEGS], given[LEGS])


# --- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    ({"keypoints": torch.zeros(17, 2), "keep": "legs"}, "keypoints must have shape"),
    ({"keypoints": torch.zeros(18, 3), "keep": "legs"}, "keypoints has 18 joints"),
    ({"keypoints": torch.zeros(3, 17, 3), "keep": "legs"}, "keypoints holds 3 poses"),
    ({"keypoints": "pose.json", "keep": "legs"}, "keypoints must be coco_17 keypoints"),
    ({"keypoints": torch.zeros(17, 3), "keep": torch.ones(18, dtype=torch.bool)}, "keep: a mask must have shape (17,)"),
    ({"keypoints": torch.zeros(17, 3), "keep": "tail"}, "keep: unknown body part or joint 'tail'"),
    ({"keypoints": torch.zeros(17, 3), "keep": [1, 0, 1]}, "keep must be"),
    ({"keep": "legs"}, "keep is set but neither keypoints nor init_keypoints"),
    ({"keypoints": torch.tensor([[300.0, 10.0, 2.0]] * 17), "keep": "legs"}, "outside the 256x256 canvas"),
    ({"init_keypoints": torch.tensor([[-5.0, 10.0, 2.0]] * 17)}, "init_keypoints: pose 0, joint nose at (-5, 10)"),
    ({"init_keypoints": torch.zeros(17, 3), "strength": 1.5}, "strength must be a number in [0, 1]"),
    ({"init_keypoints": torch.zeros(17, 3), "strength": -0.1}, "strength must be a number in [0, 1]"),
    ({"strength": 0.5}, "strength is set but init_keypoints is not"),
    ({"keypoints": torch.tensor([[1.0, 1.0, 3.0]] * 17)}, "visibility v must be 0"),
    ({"keypoints": torch.zeros(17, 3), "resample": 0}, "resample must be a positive integer"),
])
def test_bad_control_arguments_raise_naming_the_argument(pipe, kwargs, message):
    with pytest.raises((ValueError, TypeError)) as error:
        pipe(PROMPTS, num_inference_steps=1, canvas_size=CANVAS, **kwargs)
    assert message in str(error.value)


def test_keypoints_outside_the_square_frame_of_a_wide_canvas_are_an_error(pipe):
    given = torch.tensor([[10.0, 50.0, 2.0]] * 17)  # inside a 400 x 100 canvas, left of its centred 100 x 100 frame
    with pytest.raises(ValueError, match="outside the pose's square frame"):
        pipe("a person", keypoints=given, canvas_size=(100, 400), num_inference_steps=1)


def test_sigma_travels_with_the_pipeline(pipe, tmp_path):
    wide = PoseGraphPipeline(unet=pipe.unet, scheduler=pipe.scheduler, text_encoder=pipe.text_encoder,
                             heatmap_sigma=1.5)
    wide.save_pretrained(tmp_path / "saved")
    assert PoseGraphPipeline.from_pretrained(tmp_path / "saved", text_encoder=pipe.text_encoder) \
        .config.heatmap_sigma == 1.5
    pipe.save_pretrained(tmp_path / "step")
    index = json.loads((tmp_path / "step" / "model_index.json").read_text())
    del index["heatmap_sigma"]
    (tmp_path / "step" / "model_index.json").write_text(json.dumps(index))
    (tmp_path / "step" / "train_config.json").write_text(json.dumps({"sigma": 2.5}))
    assert PoseGraphPipeline.from_pretrained(tmp_path / "step", text_encoder=pipe.text_encoder) \
        .config.heatmap_sigma == 2.5
    with pytest.raises(ValueError, match="heatmap_sigma"):
        PoseGraphPipeline(unet=pipe.unet, scheduler=pipe.scheduler, text_encoder=pipe.text_encoder, heatmap_sigma=0)


# --- several people -------------------------------------------------------------------------------------


def test_frame_to_box_and_back_are_inverse():
    kp = torch.tensor([[0.0, 0.0, 2.0], [15.0, 7.5, 2.0], [-0.5, 15.5, 1.0]])
    box = (100.0, 20.0, 200.0, 80.0)
    canvas = frame_to_box(kp, 16, box)
    assert canvas[0, 0] == pytest.approx(100 + 60 + 2.5 - 0.5)  # scale 5, frame centred: 60 px to its left
    torch.testing.assert_close(box_to_frame(canvas, 16, box), kp)


def test_a_scene_writes_one_openpose_people_entry_and_one_coco_record_per_person(pipe, tmp_path):
    boxes = [(0, 0, 200, 200), (210, 40, 150, 150), (380, 0, 120, 240)]
    scene = compose_people(pipe, ["a man waving", "a woman sitting", "a child jumping"], boxes,
                           canvas_size=(240, 500), generator=0, num_inference_steps=STEPS)
    assert scene.keypoints.shape == (3, 17, 3) and scene.seeds == [0, 1, 2]
    scene.write_openpose_json(tmp_path / "scene.json")
    loaded = read_openpose_json(tmp_path / "scene.json")
    assert loaded.shape == (3, 17, 3)
    content = json.loads((tmp_path / "scene.json").read_text())
    assert len(content["people"]) == 3 and (content["canvas_width"], content["canvas_height"]) == (500, 240)
    present = scene.keypoints[..., 2] > 0
    torch.testing.assert_close(loaded[..., :2][present], scene.keypoints[..., :2][present], atol=2e-3, rtol=0)
    scene.write_coco_keypoints(tmp_path / "coco.json", image_id=7)
    coco = read_coco_keypoints(tmp_path / "coco.json")
    assert coco.image_ids == [7, 7, 7] and coco.keypoints.shape == (3, 17, 3)
    for person, (x, y, w, h) in enumerate(boxes):  # every present joint in its own box
        xy = scene.keypoints[person, present[person], :2]
        assert ((xy[:, 0] >= x - 0.5) & (xy[:, 0] <= x + w - 0.5) & (xy[:, 1] >= y - 0.5)
                & (xy[:, 1] <= y + h - 0.5)).all()


def test_the_controlnet_image_shows_each_person_in_its_box(pipe):
    height, width = 256, 512
    boxes = side_by_side_boxes(2, height, width)
    assert boxes == [(0.0, 0.0, 256.0, 256.0), (256.0, 0.0, 256.0, 256.0)]
    left, right = standing_poses(2, canvas=256)
    right[..., 0] = torch.where(right[..., 2] > 0, right[..., 0] + 256, 0.0)
    scene = compose_people(pipe, PROMPTS, keypoints=torch.stack([left, right]), keep=torch.ones(17, dtype=torch.bool),
                           canvas_size=(height, width), num_inference_steps=STEPS, generator=0)
    assert torch.equal(scene.keypoints, torch.stack([left, right]))
    per_person = compose_people(pipe, PROMPTS, keypoints=[left, right], keep=["legs", "arms"],
                                canvas_size=(height, width), num_inference_steps=STEPS, generator=0)
    arms = [COCO_17.index(j) for j in BODY_PARTS["arms"]]
    assert torch.equal(per_person.keypoints[0, LEGS], left[LEGS]) and torch.equal(per_person.keypoints[1, arms], right[arms])
    image = scene.draw()
    assert image.shape == (height, width, 3)
    lit = image.any(-1)
    for person, (x, y, w, h) in enumerate(boxes):
        inside = lit[int(y): int(y + h), int(x): int(x + w)]
        assert inside.sum() > 500, f"person {person} is missing from its box"
        alone = draw_openpose(scene.keypoints[person], (height, width), (height, width))
        region = (slice(int(y), int(y + h)), slice(int(x), int(x + w)))
        assert np.array_equal(image[region], alone[region]), f"box {person} shows something else than person {person}"


def test_generated_people_stay_inside_their_boxes(pipe):
    boxes = [(10, 10, 100, 100), (150, 10, 100, 100)]
    scene = compose_people(pipe, PROMPTS, boxes, canvas_size=(120, 260), num_inference_steps=STEPS, generator=1)
    lit = scene.draw(out_size=(120, 260)).any(-1)
    margin = 5  # joint discs and limb ellipses reach a few pixels past the joints
    allowed = np.zeros_like(lit)
    for x, y, w, h in boxes:
        allowed[max(0, y - margin): y + h + margin, max(0, x - margin): x + w + margin] = True
    assert not (lit & ~allowed).any()


@pytest.mark.parametrize("kwargs, message", [
    ({"boxes": [(0, 0, 100, 100)]}, "boxes: got 1 boxes for 2 prompts"),
    ({"boxes": [(0, 0, 100, 100), (50, 0, 100, 100)]}, "overlap"),
    ({"boxes": [(0, 0, 100, 100), (200, 0, 100, 100)]}, "boxes[1] (200.0, 0.0, 100.0, 100.0) reaches outside"),
    ({"boxes": [(0, 0, 100, 100), (120, 0, 0, 100)]}, "at least one pixel"),
    ({"boxes": [(0, 0, 100, 100), (120, 0, 100)]}, "boxes[1] must be four"),
    ({"keypoints": [torch.tensor([[150.0, 50.0, 2.0]] * 17), None]}, "keypoints[0]: pose 0, joint nose"),
    ({"keep": "legs"}, "keep is set for person 0 but keypoints[0] is None"),
    ({"keypoints": [None]}, "keypoints must hold one pose (K, 3) or None per person (2), got 1"),
    ({"strength": 0.5}, "strength is not accepted"),
])
def test_bad_scenes_raise_naming_the_argument(pipe, kwargs, message):
    boxes = kwargs.pop("boxes", [(0, 0, 100, 100), (120, 0, 100, 100)])
    with pytest.raises((ValueError, TypeError)) as error:
        compose_people(pipe, PROMPTS, boxes, canvas_size=(100, 250), num_inference_steps=1, **kwargs)
    assert message in str(error.value)


def test_overlapping_boxes_are_drawn_when_allowed(pipe):
    scene = compose_people(pipe, PROMPTS, [(0, 0, 100, 100), (50, 0, 100, 100)], canvas_size=100 + 50,
                           allow_overlap=True, num_inference_steps=1, generator=0)
    assert scene.keypoints.shape == (2, 17, 3)


# --- the measurement and figure scripts ------------------------------------------------------------------


def load_script(name):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_measurement_and_figure_scripts_run_on_a_checkpoint(trained_like, tmp_path):
    trained_like.save_pretrained(tmp_path / "pipe")
    report = load_script("measure_pose_control").main([
        "--checkpoint", str(tmp_path / "pipe"), "--out", str(tmp_path / "measure"), "--num-poses", "3",
        "--reference-poses", "50", "--steps", "2", "--schedulers", "ddim", "unipc", "--resample", "2"])
    assert len(report["rows"]) == 2 * 5
    for row in report["rows"]:
        assert set(row["accuracy"]) == {"raise_both_arms", "waving_left", "hands_on_hips", "mean"}
        assert 0 <= row["valid_bodies"] <= 1
        assert row["kept_error_px"] is None or row["kept_error_px"] < 0.5
    assert report["valid_bodies_of_the_kept_standing_poses"] == 1.0
    assert "| ddim | keep legs |" in (tmp_path / "measure" / "report.md").read_text()
    figure = load_script("pose_control_figure").main([
        "--checkpoint", str(tmp_path / "pipe"), "--out", str(tmp_path / "figure.png"), "--steps", "2"])
    assert figure.stat().st_size > 10_000
