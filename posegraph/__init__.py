"""posegraph: text -> 2D pose skeletons with a graph-aware diffusion UNet (GUNet, arXiv 2409.11689).

The public names, importable from the package itself::

    from posegraph import COCO_17, GUNet, PoseGraphPipeline, SkeletonGraphBlock, TextEncoder, make_graph_layer
    from posegraph import UpstreamGUNet  # the paper authors' released model

Only the skeleton layouts are imported with the package; the other names load their module (and
diffusers / transformers with it) the first time they are used, so ``import posegraph.data`` or
``import posegraph.heatmaps`` stays as cheap as its own imports.
"""
from importlib import import_module

from posegraph.skeleton import COCO_17, OPENPOSE_18, Skeleton

__version__ = "0.1.0"

# name -> the module that defines it, imported on first access (PEP 562).
_LAZY = {
    "SkeletonGraphBlock": "posegraph.nn",
    "GRAPH_LAYERS": "posegraph.nn",
    "make_graph_layer": "posegraph.nn",
    "resolve_graph_layer": "posegraph.nn",
    "GUNet": "posegraph.models",
    "UpstreamGUNet": "posegraph.models",
    "PoseGraphPipeline": "posegraph.pipelines",
    "PoseGraphPipelineOutput": "posegraph.pipelines",
    "TextEncoder": "posegraph.text",
}

__all__ = ["Skeleton", "COCO_17", "OPENPOSE_18", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'posegraph' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
