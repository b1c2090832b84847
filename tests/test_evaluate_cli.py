"""`python -m posegraph.evaluate` on a tiny trained checkpoint: every metric with its interval, report, plots,
repeats, COCO files, the retrieval evaluator, and errors that say what to do."""
import json
import shutil

import numpy as np
import pytest
import torch

import posegraph.data.coco as coco_module
from posegraph.evaluate import build_parser, main
from posegraph.evaluation import PoseTextEvaluator
from posegraph.evaluation.integrity import full_body
from posegraph.evaluation.run import HELD_OUT_SEED, evaluate_pipeline, synthetic_evaluation_set
from posegraph.pipelines import PoseGraphPipeline
from posegraph.train import main as train_main

SMALL = ["--samples-per-caption", "2", "--steps", "1", "--bootstrap", "20"]
GENERATED = {"paper_protocol", "semantic_accuracy", "semantic_accuracy_real", "structure_generated",
             "structure_real", "limb_integrity", "diversity", "frechet_pose_distance", "retrieval"}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny GUNet trained for 2 steps on synthetic data of seed 1."""
    run = tmp_path_factory.mktemp("evaluate") / "run"
    train_main(["--preset", "tiny", "--out", str(run), "--max-steps", "2", "--checkpoint-every", "2",
                "--sample-every", "0", "--seed", "1"])
    return run


@pytest.fixture(scope="module")
def evaluator_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("evaluate") / "evaluator"
    main(["train-evaluator", "--data", "synthetic", "--out", str(out), "--num-pairs", "120", "--epochs", "2",
          "--size", "16", "--batch-size", "32"])
    return out


@pytest.fixture(scope="module")
def pipeline(run_dir):
    return PoseGraphPipeline.from_pretrained(run_dir)


def estimates(tree, path=()):
    """Every ``{"value", "low", "high", "n", "method"}`` dict in a metrics.json tree, with its path."""
    if isinstance(tree, dict):
        if {"value", "low", "high", "n", "method"} <= set(tree):
            yield path, tree
        else:
            for key, value in tree.items():
                yield from estimates(value, path + (key,))


def assert_valid_interval(path, e):
    assert isinstance(e["n"], int) and e["method"], path
    if e["n"] > 0 and e["value"] is not None and e["low"] is not None:
        assert e["low"] <= e["value"] + 1e-9 and e["value"] <= e["high"] + 1e-9, (path, e)


def error_of(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


# --- the report ----------------------------------------------------------------------------------------


def test_synthetic_evaluation_writes_every_metric_with_its_interval_the_report_and_plots(run_dir, evaluator_dir,
                                                                                         tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["--checkpoint", str(run_dir), "--data", "synthetic", "--out", str(out), "--num-captions", "6",
                 "--evaluator", str(evaluator_dir), *SMALL]) == out
    assert "12 poses for 6 captions" in capsys.readouterr().out

    metrics = json.loads((out / "metrics.json").read_text())
    sections = metrics["sections"]
    assert set(sections) == GENERATED
    assert set(sections["paper_protocol"]) == {"distance", "variance", "spread", "real_distance", "real_variance",
                                               "real_spread"}
    assert set(sections["diversity"]) == {"diversity", "multimodality", "real_diversity", "real_multimodality"}
    assert set(sections["retrieval"]) == {"top1", "top3", "real_top1", "real_top3"}
    assert sections["paper_protocol"]["distance"]["n"] == 6
    assert sections["semantic_accuracy"]["overall"]["n"] == 12
    assert np.asarray(sections["semantic_accuracy"]["confusion"]).ndim == 2
    assert {"joint_angle", "bone_length", "limb_asymmetry", "missing_joints"} <= set(
        sections["structure_generated"]["rates"])
    assert sections["frechet_pose_distance"]["fpd"]["value"] >= 0
    assert set(sections["limb_integrity"]) == {"whole", "real_whole"}
    full_body_poses = 2 * full_body(np.load(out / "poses.npz")["actions"]).sum()
    assert sections["limb_integrity"]["whole"]["n"] == full_body_poses
    found = list(estimates(sections))
    assert len(found) > 30
    for path, estimate in found:
        assert_valid_interval(path, estimate)

    meta = metrics["meta"]
    assert meta["captions"] == 6 and meta["samples_per_caption"] == 2 and meta["generated_poses"] == 12
    assert meta["graph_layer"] == "gcn" and meta["sample_size"] == 16 and meta["steps"] == 1
    assert meta["checkpoint"].endswith("step_000002")
    assert set(meta["evaluator_validation"]) == {"top1", "top3"}

    poses = np.load(out / "poses.npz")
    assert poses["generated"].shape == (1, 6, 2, 17, 3) and poses["ground_truth"].shape == (6, 17, 3)
    assert len(poses["captions"]) == len(poses["actions"]) == 6

    report = (out / "report.md").read_text()
    for section in GENERATED:
        assert f"## {section}\n" in report
    for plot in ("semantic_accuracy_confusion.png", "semantic_accuracy_per_action.png", "structure_rates.png"):
        assert (out / plot).stat().st_size > 1000 and f"]({plot})" in report


def test_without_an_evaluator_there_is_no_retrieval_and_no_plots_when_asked(run_dir, tmp_path):
    out = tmp_path / "eval"
    main(["--checkpoint", str(run_dir), "--data", "synthetic", "--out", str(out), "--num-captions", "3",
          "--no-plots", *SMALL])
    assert set(json.loads((out / "metrics.json").read_text())["sections"]) == GENERATED - {"retrieval"}
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "poses.npz", "report.md"]


def test_coco_files_give_the_protocol_structure_diversity_and_fpd_without_semantics(run_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(coco_module, "DEFAULT_CACHE_DIR", tmp_path / "cache")
    keypoints_file, captions_file = write_coco(tmp_path, images=6)
    out = tmp_path / "eval"
    main(["--checkpoint", str(run_dir), "--data", "coco", "--coco-keypoints", str(keypoints_file),
          "--coco-captions", str(captions_file), "--coco-split", "all", "--out", str(out), "--no-plots", *SMALL])
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["sections"]) == {"paper_protocol", "structure_generated", "structure_real", "limb_integrity",
                                        "diversity", "frechet_pose_distance"}
    assert metrics["sections"]["limb_integrity"]["whole"]["n"] == 24  # every pose: coco captions name no action
    assert set(metrics["sections"]["diversity"]) == {"diversity", "multimodality", "real_diversity"}
    assert set(metrics["sections"]["paper_protocol"]) == {"distance", "variance", "spread"}
    assert metrics["meta"]["captions"] == 12 and metrics["meta"]["images"] == 6  # two captions per image
    assert metrics["meta"]["data"] == "coco" and metrics["meta"]["coco_split"] == "all"


def write_coco(folder, images: int):
    """``images`` single-person images, a standing person in each, two captions per image."""
    xy = np.array([[32, 10], [34, 8], [30, 8], [36, 9], [28, 9], [38, 16], [26, 16], [40, 25], [24, 25], [41, 33],
                   [23, 33], [36, 34], [28, 34], [36, 45], [28, 45], [36, 56], [28, 56]], dtype=float)
    listed, annotations, captions = [], [], []
    for i in range(1, images + 1):
        listed.append({"id": i, "file_name": f"{i:012d}.jpg", "width": 640, "height": 480})
        keypoints = np.concatenate([xy * 3 + 10 * i, np.full((17, 1), 2.0)], axis=1)
        annotations.append({"id": 100 + i, "image_id": i, "iscrowd": 0, "keypoints": keypoints.ravel().tolist(),
                            "bbox": [70.0 + 10 * i, 20.0 + 10 * i, 60.0, 160.0], "num_keypoints": 17,
                            "category_id": 1, "area": 9600.0})
        captions += [{"id": 2 * i, "image_id": i, "caption": f"A person standing in room {i}."},
                     {"id": 2 * i + 1, "image_id": i, "caption": f"Someone waiting at door {i}."}]
    keypoints_file, captions_file = folder / "person_keypoints_val.json", folder / "captions_val.json"
    keypoints_file.write_text(json.dumps({"images": listed, "annotations": annotations, "categories": []}))
    captions_file.write_text(json.dumps({"images": listed, "annotations": captions}))
    return keypoints_file, captions_file


# --- sampling, seeds and repeats -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def evaluations(pipeline):
    """``evaluate(seed, repeats)`` -> ``(sections, info, poses)`` on 2 synthetic captions x 2 samples, memoised."""
    data = synthetic_evaluation_set(2, size=16, samples_per_caption=2)
    memo = {}

    def evaluate(seed, repeats=1):
        if (seed, repeats) not in memo:
            memo[seed, repeats] = evaluate_pipeline(pipeline, data, samples_per_caption=2, num_inference_steps=1,
                                                    seed=seed, repeats=repeats, n_resamples=20)
        return memo[seed, repeats]

    return evaluate


def test_the_same_seed_gives_the_same_figures_and_another_seed_other_ones(pipeline, evaluations):
    (first, info, poses), (other, _, _) = evaluations(0), evaluations(4)
    again, _, poses_again = evaluate_pipeline(pipeline, synthetic_evaluation_set(2, size=16, samples_per_caption=2),
                                 samples_per_caption=2, num_inference_steps=1, seed=0, n_resamples=20)
    distance = lambda sections: sections["paper_protocol"]["distance"].value  # noqa: E731
    assert distance(first) == distance(again) != distance(other)
    assert poses.shape == (1, 2, 2, 17, 3) and np.array_equal(poses, poses_again)
    assert info == {"captions": 2, "samples_per_caption": 2, "generated_poses": 4, "repeats": 1,
                    "generator_seed": HELD_OUT_SEED, "real_poses": 4}


def test_repeats_average_fresh_samplings_with_student_t_intervals(evaluations):
    combined, info, poses = evaluations(0, repeats=2)
    singles = [evaluations(seed)[0] for seed in (0, 4)]  # repeat r draws with seed SEED + r * (2 captions x 2)
    figures = [lambda s: s["paper_protocol"]["distance"], lambda s: s["diversity"]["multimodality"],
               lambda s: s["structure_generated"].mean_asymmetry, lambda s: s["semantic_accuracy"].overall]
    for figure in figures:
        estimate, values = figure(combined), [figure(single).value for single in singles]
        assert estimate.value == pytest.approx(np.mean(values))
        assert estimate.n == 2 and "Student-t" in estimate.method
        if values[0] != values[1]:
            assert estimate.low < min(values) and estimate.high > max(values)
    # The real poses are not resampled: their figures keep their bootstrap interval.
    assert "bootstrap" in combined["diversity"]["real_diversity"].method
    assert "bootstrap" in combined["paper_protocol"]["real_distance"].method
    assert info["repeats"] == 2
    assert poses.shape == (2, 2, 2, 17, 3) and np.array_equal(poses[1], evaluations(4)[2][0])


def test_a_set_in_another_frame_than_the_model_is_refused(pipeline):
    with pytest.raises(ValueError, match="16-pixel heatmaps"):
        evaluate_pipeline(pipeline, synthetic_evaluation_set(2, size=32, samples_per_caption=2))


# --- the retrieval evaluator ---------------------------------------------------------------------------


def test_train_evaluator_writes_a_loadable_evaluator_with_its_own_precision(evaluator_dir):
    assert sorted(p.name for p in evaluator_dir.iterdir()) == ["config.json", "model.safetensors"]
    evaluator = PoseTextEvaluator.from_pretrained(evaluator_dir)
    meta = evaluator.metadata
    assert meta["text_encoder"] == {"name_or_path": "default", "max_length": None}
    assert meta["data"] == "synthetic" and meta["size"] == 16 and meta["train_pairs"] + meta["validation_pairs"] == 120
    for name in ("top1", "top3"):
        figure = meta["validation"][name]
        assert 0 <= figure["low"] <= figure["value"] <= figure["high"] <= 1
    poses = torch.as_tensor(synthetic_evaluation_set(4, size=16).ground_truth)
    embedded = evaluator.encode_poses(poses)
    assert embedded.shape == (4, evaluator.config["embed_dim"])
    assert torch.allclose(embedded.norm(dim=-1), torch.ones(4), atol=1e-5)


def test_train_evaluator_is_deterministic(evaluator_dir, tmp_path):
    out = tmp_path / "again"
    main(["train-evaluator", "--data", "synthetic", "--out", str(out), "--num-pairs", "120", "--epochs", "2",
          "--size", "16", "--batch-size", "32"])
    assert (out / "model.safetensors").read_bytes() == (evaluator_dir / "model.safetensors").read_bytes()


# --- errors --------------------------------------------------------------------------------------------


def test_both_commands_share_one_main_and_their_help(capsys):
    assert "train-evaluator" in build_parser().format_help()
    with pytest.raises(SystemExit) as exit_info:
        main(["train-evaluator", "--help"])
    assert exit_info.value.code == 0
    assert "train-evaluator" in capsys.readouterr().out
    assert "--checkpoint" in error_of(capsys, ["--data", "synthetic", "--out", "x"])


def test_bad_arguments_say_what_to_do(run_dir, tmp_path, capsys):
    base = ["--checkpoint", str(run_dir), "--out", str(tmp_path / "eval")]
    assert "--coco-keypoints FILE and --coco-captions FILE" in error_of(capsys, base + ["--data", "coco"])
    assert "at least 2" in error_of(capsys, base + ["--data", "synthetic", "--samples-per-caption", "1"])
    assert "no such directory" in error_of(capsys, ["--checkpoint", str(tmp_path / "missing"), "--data", "synthetic",
                                                    "--out", str(tmp_path / "eval")])
    assert "train an evaluator" in error_of(capsys, base + ["--data", "synthetic", "--evaluator", str(tmp_path)])
    assert not (tmp_path / "eval").exists()


def test_a_checkpoint_trained_on_the_held_out_seed_is_refused(run_dir, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    for config in copy.glob("checkpoints/*/train_config.json"):
        config.write_text(json.dumps({**json.loads(config.read_text()), "seed": HELD_OUT_SEED}))
    message = error_of(capsys, ["--checkpoint", str(copy), "--data", "synthetic", "--out", str(tmp_path / "eval")])
    assert f"seed {HELD_OUT_SEED}" in message and "another --seed" in message


@pytest.mark.parametrize("field, value, expected", [
    ("text_encoder", {"name_or_path": "openai/clip-vit-large-patch14", "max_length": 77}, "--text-encoder default"),
    ("data", "coco", "train-evaluator --data synthetic"),
])
def test_an_evaluator_from_another_encoder_or_data_is_refused(run_dir, evaluator_dir, tmp_path, capsys, field, value,
                                                             expected):
    copy = tmp_path / "evaluator"
    shutil.copytree(evaluator_dir, copy)
    config = json.loads((copy / "config.json").read_text())
    config["metadata"][field] = value
    (copy / "config.json").write_text(json.dumps(config))
    message = error_of(capsys, ["--checkpoint", str(run_dir), "--data", "synthetic", "--out", str(tmp_path / "eval"),
                                "--evaluator", str(copy)])
    assert expected in message

