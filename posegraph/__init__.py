"""posegraph: text -> 2D pose skeletons with a graph-aware diffusion UNet (GUNet, arXiv 2409.11689)."""
from posegraph.skeleton import COCO_17, OPENPOSE_18, Skeleton

__version__ = "0.1.0"
__all__ = ["Skeleton", "COCO_17", "OPENPOSE_18"]
