"""Metrics on generated COCO-17 keypoints and their report.

Pure functions on keypoint arrays ``(..., 17, 3)`` in heatmap pixels; ``python -m posegraph.evaluate``
samples a checkpoint and calls them. See docs/evaluation.md for what each figure means.
"""
from posegraph.evaluation.body import normalize_poses
from posegraph.evaluation.diversity import diversity, multimodality, pose_distance
from posegraph.evaluation.freeform import FREEFORM_DEV_FILE, FREEFORM_PROMPTS_FILE, load_freeform_prompts
from posegraph.evaluation.fpd import frechet_pose_distance, pose_features
from posegraph.evaluation.integrity import LIMB_JOINTS, limb_integrity, side_shares
from posegraph.evaluation.intervals import Estimate, bootstrap_mean, bootstrap_statistic
from posegraph.evaluation.paper import SAMPLES_PER_CAPTION, paper_protocol
from posegraph.evaluation.report import write_report
from posegraph.evaluation.retrieval import (
    PoseTextEvaluator,
    pool_text_embeddings,
    retrieval_precision,
    train_evaluator,
)
from posegraph.evaluation.semantic import SemanticResult, semantic_accuracy
from posegraph.evaluation.structure import StructureResult, structure_metrics

__all__ = [
    "Estimate",
    "bootstrap_mean",
    "bootstrap_statistic",
    "normalize_poses",
    "paper_protocol",
    "SAMPLES_PER_CAPTION",
    "semantic_accuracy",
    "SemanticResult",
    "structure_metrics",
    "StructureResult",
    "pose_distance",
    "diversity",
    "multimodality",
    "pose_features",
    "frechet_pose_distance",
    "PoseTextEvaluator",
    "pool_text_embeddings",
    "train_evaluator",
    "retrieval_precision",
    "write_report",
    "load_freeform_prompts",
    "FREEFORM_PROMPTS_FILE",
    "FREEFORM_DEV_FILE",
    "LIMB_JOINTS",
    "limb_integrity",
    "side_shares",
]
