"""The GUNet denoiser (diffusers ``ModelMixin`` + ``ConfigMixin``), its blocks and presets, and the paper authors' released model."""
from posegraph.models.gunet import GUNet
from posegraph.models.presets import PRESETS
from posegraph.models.upstream import UpstreamGUNet, UpstreamSpatialBlock
from posegraph.skeleton import SKELETONS

__all__ = ["GUNet", "PRESETS", "SKELETONS", "UpstreamGUNet", "UpstreamSpatialBlock"]
