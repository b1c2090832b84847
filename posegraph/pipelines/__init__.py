"""Sampling pipelines: prompts -> keypoints + heatmaps."""
from posegraph.pipelines.checkpoints import (CorruptCheckpointError, is_upstream_release, latest_checkpoint,
                                             resolve_pipeline_dir)
from posegraph.pipelines.pose_graph_pipeline import (DEFAULT_GUIDANCE_INTERVAL, DEFAULT_GUIDANCE_SCALE,
                                                     DEFAULT_INFERENCE_STEPS, DEFAULT_SCHEDULER, PoseGraphPipeline,
                                                     PoseGraphPipelineOutput, guided_at)
from posegraph.pipelines.schedulers import SCHEDULERS, make_scheduler

__all__ = [
    "PoseGraphPipeline",
    "PoseGraphPipelineOutput",
    "DEFAULT_GUIDANCE_INTERVAL",
    "DEFAULT_GUIDANCE_SCALE",
    "DEFAULT_INFERENCE_STEPS",
    "DEFAULT_SCHEDULER",
    "guided_at",
    "SCHEDULERS",
    "make_scheduler",
    "resolve_pipeline_dir",
    "latest_checkpoint",
    "CorruptCheckpointError",
    "is_upstream_release",
]
