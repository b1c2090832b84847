"""The GUNet denoiser (diffusers ``ModelMixin`` + ``ConfigMixin``), its blocks and presets."""
from posegraph.models.gunet import SKELETONS, GUNet
from posegraph.models.presets import PRESETS

__all__ = ["GUNet", "PRESETS", "SKELETONS"]
