"""Distilling a trained GUNet into a few-step student (``python -m posegraph.distill`` is the command line)."""
from posegraph.distillation.config import DISTILL_PRESETS, DistillConfig
from posegraph.distillation.loop import Distiller, distill, teacher_checkpoint

__all__ = ["DistillConfig", "DISTILL_PRESETS", "Distiller", "distill", "teacher_checkpoint"]
