"""Any skeleton end to end: the tiny preset trained a few steps on OpenPose-18 (COCO-17 plus the neck) and on a
custom 5-joint layout, then sampled, drawn and written; COCO-17-only figures say so."""
import json

import numpy as np
import pytest
import torch

from posegraph.data.checker import check_action
from posegraph.evaluation.run import evaluate_pipeline, synthetic_evaluation_set
from posegraph.io import read_coco_keypoints, read_openpose_json, write_coco_keypoints, write_openpose_json
from posegraph.pipelines import PoseGraphPipeline
from posegraph.render import draw_openpose, draw_pose_grid
from posegraph.sample import main as sample_main
from posegraph.skeleton import COCO_17, OPENPOSE_18, Skeleton
from posegraph.training import TrainConfig, train

FIVE = Skeleton(["nose", "left_wrist", "right_wrist", "left_ankle", "right_ankle"],
                [("nose", "left_wrist"), ("nose", "right_wrist"), ("nose", "left_ankle"), ("nose", "right_ankle")],
                name="five")


@pytest.fixture(scope="module", params=[OPENPOSE_18, FIVE], ids=["openpose_18", "five"])
def run(request, tmp_path_factory):
    """A tiny run of 4 steps on the layout (the synthetic COCO-17 poses converted to it by joint name)."""
    skeleton = request.param
    out = tmp_path_factory.mktemp(skeleton.name) / "run"
    model = {"skeleton": skeleton.name if skeleton is OPENPOSE_18 else skeleton.to_config(),
             "graph_positions": "all", "graph_node_features": "pixel"}
    train(TrainConfig.from_preset("tiny", model=model, max_steps=4, checkpoint_every=4, sample_every=4), out)
    return skeleton, out


@pytest.fixture(scope="module")
def pipe(run):
    skeleton, out = run
    pipe = PoseGraphPipeline.from_pretrained(out)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_the_checkpoint_stores_the_layout_and_the_model_takes_k_from_it(run, pipe):
    skeleton, out = run
    assert pipe.skeleton == skeleton and pipe.unet.skeleton == skeleton
    k = skeleton.num_joints
    assert pipe.unet.config.in_channels == pipe.unet.config.out_channels == k
    assert (out / "samples" / "step_000004.png").is_file()  # the training grid draws the layout
    config = json.loads(next(out.glob("checkpoints/step_*/unet/config.json")).read_text())
    assert config["skeleton"] == (skeleton.name if skeleton is OPENPOSE_18 else skeleton.to_config())
    layers = [m for m in pipe.unet.modules() if hasattr(m, "edge_index") and hasattr(m, "num_joints")]
    assert layers and all(layer.num_joints == k and torch.equal(layer.edge_index, skeleton.edge_index)
                          for layer in layers)


def test_sampling_drawing_and_writing_follow_the_layout(run, pipe, tmp_path):
    skeleton, _ = run
    k = skeleton.num_joints
    output = pipe(["a man standing", "a person raising both arms"], num_poses_per_prompt=2, num_inference_steps=2,
                  generator=0, canvas_size=(96, 128), return_heatmaps=True)
    assert output.keypoints.shape == (4, k, 3) and output.confidence.shape == (4, k)
    assert output.heatmaps.shape == (4, k, 16, 16)
    image = draw_openpose(output.keypoints, (96, 128), (96, 128), skeleton=skeleton)
    assert image.shape == (96, 128, 3) and image.any()
    assert draw_pose_grid(output.keypoints, output.prompts, canvas_size=(96, 128), skeleton=skeleton,
                          path=tmp_path / "grid.png").is_file()

    path = write_coco_keypoints(tmp_path / "coco.json", output.keypoints, [0, 0, 1, 1], (96, 128), skeleton=skeleton)
    assert len(json.loads(path.read_text())[0]["keypoints"]) == 3 * k
    back = read_coco_keypoints(path, skeleton=skeleton).keypoints
    present = output.keypoints[..., 2] > 0
    torch.testing.assert_close(back[present], output.keypoints[present], atol=1e-3, rtol=0)
    if skeleton is OPENPOSE_18:
        write_openpose_json(tmp_path / "pose.json", output.keypoints, (96, 128), confidence=output.confidence,
                            skeleton=skeleton)
        again = read_openpose_json(tmp_path / "pose.json", skeleton=skeleton)
        torch.testing.assert_close(again[present], output.keypoints[present], atol=1e-3, rtol=0)
    else:
        with pytest.raises(ValueError, match="OpenPose JSON holds the 18 OpenPose body joints and the five layout "
                                             "has no neck, right_shoulder"):
            write_openpose_json(tmp_path / "pose.json", output.keypoints, (96, 128), skeleton=skeleton)


def test_pose_control_names_the_layouts_joints(run, pipe):
    skeleton, _ = run
    given = torch.zeros(skeleton.num_joints, 3)
    given[skeleton.index("nose")] = torch.tensor([60.0, 20.0, 2.0])
    output = pipe("a man standing", keypoints=given, keep="nose", num_inference_steps=2, generator=0,
                  canvas_size=128)
    assert torch.equal(output.keypoints[0, skeleton.index("nose")], given[skeleton.index("nose")])
    with pytest.raises(ValueError, match=f"keypoints has 17 joints per pose; the model draws the {skeleton.num_joints}"):
        pipe("a man standing", keypoints=torch.zeros(17, 3), keep="nose", canvas_size=128)


def test_the_sample_command_writes_the_layouts_files(run, tmp_path):
    skeleton, out = run
    folder = tmp_path / "poses"
    sample_main(["--checkpoint", str(out), "--prompt", "a man standing", "--num-samples", "2", "--steps", "2",
                 "--out", str(folder), "--size", "64"])
    records = json.loads((folder / "poses.json").read_text())
    assert [len(r["keypoints"]) for r in records] == [3 * skeleton.num_joints] * 2
    assert (folder / "pose_0001.png").is_file() and (folder / "grid.png").is_file()
    assert (folder / "pose_0000_keypoints.json").is_file() == (skeleton is OPENPOSE_18)


def test_figures_defined_on_coco_17_say_so(run, pipe):
    skeleton, _ = run
    data = synthetic_evaluation_set(num_captions=2, samples_per_caption=2, size=16)
    if skeleton is OPENPOSE_18:  # holds every COCO-17 joint: evaluated in COCO-17
        sections, _, _ = evaluate_pipeline(pipe, data, samples_per_caption=2, num_inference_steps=2, n_resamples=10)
        assert "semantic_accuracy" in sections
    else:
        with pytest.raises(ValueError, match="defined on the 17 COCO joints, and the model's five layout has no "
                                             "left_eye"):
            evaluate_pipeline(pipe, data, samples_per_caption=2, num_inference_steps=2)
    with pytest.raises(ValueError, match="the synthetic checker judges COCO-17 poses only"):
        check_action(np.zeros((1, skeleton.num_joints, 3)), "standing")
