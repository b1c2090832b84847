"""Training GUNet: the config, the loop, checkpoints (``python -m posegraph.train`` is the command line)."""
from posegraph.training.checkpoint import complete_checkpoints, resolve_resume
from posegraph.training.config import PRESETS, TrainConfig
from posegraph.training.loop import NonFiniteLossError, Trainer, train

__all__ = ["TrainConfig", "PRESETS", "Trainer", "train", "NonFiniteLossError", "complete_checkpoints",
           "resolve_resume"]
