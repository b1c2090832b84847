"""The graph-layer registry: one place that turns a name (or a PyG convolution class) into a layer.

An ablation is a one-string change in a config: ``"gcn"``, ``"gat"``, ``"gatv2"``, ``"cheb"``,
``"graphconv"``, ``"sage"``, ``"transformer"`` or ``"none"``. Names are matched as PyG's resolvers match them
(:func:`torch_geometric.resolver.normalize_string`: case, ``-``, ``_`` and spaces are ignored), and the PyG
class name works too, with or without its ``Conv`` (``"GCNConv"``, ``"gcn_conv"``). Any :class:`~torch_geometric.nn.conv.MessagePassing`
subclass whose constructor reads ``(in_channels, out_channels, **kwargs)`` can be passed directly.
"""
from __future__ import annotations

import inspect

from torch import nn
from torch_geometric.nn.conv import (
    ChebConv,
    GATConv,
    GATv2Conv,
    GCNConv,
    GraphConv,
    MessagePassing,
    SAGEConv,
    TransformerConv,
)
from torch_geometric.nn.dense import DenseGCNConv, DenseGraphConv
from torch_geometric.resolver import normalize_string

__all__ = ["GRAPH_LAYERS", "resolve_graph_layer", "graph_layer_name", "takes_edge_weight", "make_graph_layer"]

GRAPH_LAYERS: dict[str, type[MessagePassing] | None] = {
    "none": None,
    "gcn": GCNConv,
    "gat": GATConv,
    "gatv2": GATv2Conv,
    "cheb": ChebConv,
    "graphconv": GraphConv,
    "sage": SAGEConv,
    "transformer": TransformerConv,
}

# Layers with a dense twin (x: (batch, K, F), adj: (K, K)) whose parameters have the same names and shapes,
# so one state dict serves both paths.
_DENSE_TWINS: dict[type[MessagePassing], type[nn.Module]] = {GCNConv: DenseGCNConv, GraphConv: DenseGraphConv}

# Constructor arguments each layer gets unless the caller gives them: ones PyG requires without a default, and
# the choice that keeps the output width equal to out_channels for multi-head layers (heads averaged, not concatenated).
_LAYER_KWARGS: dict[type[MessagePassing], dict] = {
    ChebConv: {"K": 2},
    GATConv: {"concat": False},
    GATv2Conv: {"concat": False},
    TransformerConv: {"concat": False},
}


def resolve_graph_layer(layer: str | type[MessagePassing]) -> type[MessagePassing] | None:
    """The PyG convolution class a registry name (or class) stands for; ``None`` for ``"none"``.

    Raises:
        ValueError: ``layer`` is a name the registry does not know (the message lists the valid names).
        TypeError: ``layer`` is neither a string nor a ``MessagePassing`` subclass.
    """
    if inspect.isclass(layer) and issubclass(layer, MessagePassing):
        return layer
    if not isinstance(layer, str):
        raise TypeError(
            f"graph layer must be a registry name or a torch_geometric MessagePassing class, got {layer!r}"
        )
    query = normalize_string(layer)
    for name, cls in GRAPH_LAYERS.items():
        names = {name}
        if cls is not None:
            class_name = normalize_string(cls.__name__)
            names |= {class_name, class_name.removesuffix("conv")}
        if query in names:
            return cls
    raise ValueError(f"unknown graph layer {layer!r}; valid names: {', '.join(GRAPH_LAYERS)} (or a PyG conv class)")


def graph_layer_name(layer: str | type[MessagePassing]) -> str:
    """The registry name of ``layer`` (``"gcn"`` for ``GCNConv`` or ``"GCN_Conv"``); a foreign class's own name."""
    cls = resolve_graph_layer(layer)
    return next((name for name, known in GRAPH_LAYERS.items() if known is cls), getattr(cls, "__name__", ""))


def takes_edge_weight(layer: str | type[MessagePassing]) -> bool:
    """Whether the layer's ``forward`` accepts a scalar ``edge_weight`` per edge (gcn, cheb, graphconv)."""
    cls = resolve_graph_layer(layer)
    return cls is not None and "edge_weight" in inspect.signature(cls.forward).parameters


def make_graph_layer(
    layer: str | type[MessagePassing], in_channels: int, out_channels: int, *, dense: bool = False, **kwargs
) -> nn.Module | None:
    """Build the graph convolution ``layer`` mapping ``in_channels`` to ``out_channels`` node features.

    Args:
        layer: a registry name (see :data:`GRAPH_LAYERS`) or a PyG ``MessagePassing`` class.
        in_channels: node features in.
        out_channels: node features out. Multi-head layers (gat, gatv2, transformer) average their heads
            by default (``concat=False``), so the output width is ``out_channels`` whatever ``heads`` is.
        dense: build the dense twin instead (``DenseGCNConv`` / ``DenseGraphConv``, called as
            ``conv(x, adj)`` with ``x: (batch, K, F)``, ``adj: (K, K)``); same parameter names and shapes.
        **kwargs: passed to the layer's constructor (e.g. ``heads=4``, ``K=3`` for cheb).

    Returns:
        the layer, or ``None`` for ``"none"``.
    """
    cls = resolve_graph_layer(layer)
    if cls is None:
        return None
    kwargs = {**_LAYER_KWARGS.get(cls, {}), **kwargs}
    if dense:
        if cls not in _DENSE_TWINS:
            dense_names = [graph_layer_name(c) for c in _DENSE_TWINS]
            raise ValueError(f"graph layer {graph_layer_name(cls)!r} has no dense variant; dense=True works with {dense_names}")
        return _DENSE_TWINS[cls](in_channels, out_channels, **kwargs)
    return cls(in_channels, out_channels, **kwargs)
