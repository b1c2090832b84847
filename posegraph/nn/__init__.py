"""Skeleton-graph layers that any pose model can import.

- :class:`SkeletonGraphLayer`: a PyG convolution over the joints of each pose, on node features
  ``(batch, K, F)`` or on feature maps ``(batch, K * c, height, width)`` whose channels are grouped per joint;
  :class:`SkeletonGraphBlock`: the same with a residual path through a zero-initialised output projection.
- the registry (:data:`GRAPH_LAYERS`, :func:`make_graph_layer`): ``"gcn" | "gat" | "gatv2" | "cheb" |
  "graphconv" | "sage" | "transformer" | "none"`` or a PyG class -> the layer.
"""
from posegraph.nn.registry import GRAPH_LAYERS, graph_layer_name, make_graph_layer, resolve_graph_layer, takes_edge_weight
from posegraph.nn.skeleton_graph_block import NODE_FEATURES, SkeletonGraphBlock, SkeletonGraphLayer

__all__ = [
    "SkeletonGraphLayer",
    "SkeletonGraphBlock",
    "NODE_FEATURES",
    "GRAPH_LAYERS",
    "make_graph_layer",
    "resolve_graph_layer",
    "graph_layer_name",
    "takes_edge_weight",
]
