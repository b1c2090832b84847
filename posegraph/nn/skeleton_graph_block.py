"""Message passing between the joints of each pose: the skeleton-graph layer, and the block that adds a residual path."""
from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn.conv import MessagePassing

from posegraph.nn.registry import graph_layer_name, make_graph_layer, takes_edge_weight
from posegraph.skeleton import COCO_17, Skeleton

__all__ = ["SkeletonGraphLayer", "SkeletonGraphBlock", "NODE_FEATURES"]

NODE_FEATURES = ("map", "pixel")


class SkeletonGraphLayer(nn.Module):
    r"""A graph convolution over the ``K`` joints of a skeleton, applied to every pose on its own.

    .. math::
        \mathbf{X}^{\prime} = \sigma\big(\mathrm{Conv}_{\mathcal{G}}(\mathrm{LN}(\mathbf{X}))\big)

    where :math:`\mathbf{X} \in \mathbb{R}^{K \times F}` holds one pose's joint features, LN is a layer norm
    over the features of each joint, :math:`\mathrm{Conv}_{\mathcal{G}}` is a PyG convolution (any layer of
    the registry) over the skeleton graph :math:`\mathcal{G}` (the bones, or all joints up to ``hops``
    bones apart) and :math:`\sigma` is SiLU. No residual path: :class:`SkeletonGraphBlock` adds one with an
    output projection, and GUNet's graph block puts its own around projections into and out of the joints.
    With ``layer="none"`` the layer has no parameters and returns its input.

    The joint axis is explicit and never the batch axis: a batch of ``N`` poses is one disconnected graph
    of ``N * K`` nodes (the skeleton's ``edge_index`` repeated with offsets ``n * K``), so no message
    crosses from one pose to another. This also makes layers that fix ``node_dim=0`` (GAT, GATv2,
    Transformer) batch correctly.

    Feature maps ``(batch, K * c, height, width)`` have their channels grouped per joint (joint ``k`` owns
    channels ``k * c ... k * c + c - 1``) and become node features in one of two ways:

    - ``node_features="map"``: joint ``k``'s feature vector is its whole channel group, ``c * height * width``
      values, so ``channels = c * height * width`` and the layer is tied to one map size. Messages carry
      whole maps between joints; cheap at the small maps after a UNet's middle block (where GUNet puts it).
    - ``node_features="pixel"``: every pixel of every pose is its own ``K``-node graph with ``c`` features
      (``channels = c``); works at any map size, costs ``O(height * width)`` graphs.

    Args:
        channels: node features per joint ``F`` (see above for feature maps).
        layer: a registry name (``"gcn"``, ``"gat"``, ``"gatv2"``, ``"cheb"``, ``"graphconv"``, ``"sage"``,
            ``"transformer"``, ``"none"``) or a PyG ``MessagePassing`` class.
        skeleton: the layout whose bones carry the messages (default COCO-17).
        node_features: ``"map"`` or ``"pixel"``, how feature maps become node features.
        hops: connect joints up to this many bones apart (``Skeleton.k_hop_edge_index``).
        learnable_edge_weight: learn one positive weight per joint pair of the graph (per bone when
            ``hops=1``), initialised to 1; only for layers that take ``edge_weight`` (gcn, cheb, graphconv).
        dense: run the dense twin of the layer on the ``(K, K)`` adjacency instead of sparse message
            passing (gcn and graphconv; same parameters, same result, faster for many small graphs).
        **layer_kwargs: passed to the layer's constructor (e.g. ``heads=4``).

    Shapes:
        - **input:** node features ``(batch, K, channels)`` or feature maps ``(batch, K * c, height, width)``
        - **output:** the input's shape
    """

    def __init__(
        self,
        channels: int,
        layer: str | type[MessagePassing] = "gcn",
        skeleton: Skeleton = COCO_17,
        *,
        node_features: str = "map",
        hops: int = 1,
        learnable_edge_weight: bool = False,
        dense: bool = False,
        **layer_kwargs,
    ):
        super().__init__()
        self._build(channels, channels, layer, skeleton, node_features=node_features, hops=hops,
                    learnable_edge_weight=learnable_edge_weight, dense=dense, **layer_kwargs)

    def _build(self, channels: int, hidden_channels: int, layer: str | type[MessagePassing] = "gcn",
               skeleton: Skeleton = COCO_17, *, node_features: str = "map", hops: int = 1,
               learnable_edge_weight: bool = False, dense: bool = False, **layer_kwargs) -> None:
        """Check the arguments and make the convolution (``channels -> hidden_channels``), edge weights and norm."""
        name = self.__class__.__name__
        if node_features not in NODE_FEATURES:
            raise ValueError(f"{name}: node_features must be one of {NODE_FEATURES}, got {node_features!r}")
        self.channels = channels
        self.hidden_channels = hidden_channels
        self.skeleton = skeleton
        self.num_joints = skeleton.num_joints
        self.layer_name = graph_layer_name(layer)
        self.node_features = node_features
        self.hops = hops
        self.dense = dense
        self.conv = make_graph_layer(layer, channels, hidden_channels, dense=dense, **layer_kwargs)
        if self.conv is None:
            self.log_edge_weight = None
            return
        if learnable_edge_weight and not takes_edge_weight(layer):
            raise ValueError(
                f"{name}: layer {self.layer_name!r} takes no edge_weight, so it cannot learn edge weights; "
                "use learnable_edge_weight=False or a layer that does (gcn, cheb, graphconv)"
            )
        edge_index = skeleton.k_hop_edge_index(hops)
        low, high = edge_index.min(0).values, edge_index.max(0).values
        pairs, pair_of_edge = torch.unique(low * self.num_joints + high, return_inverse=True)
        self.register_buffer("edge_index", edge_index, persistent=False)
        self.register_buffer("pair_of_edge", pair_of_edge, persistent=False)  # both directions share a weight
        self.log_edge_weight = nn.Parameter(torch.zeros(len(pairs))) if learnable_edge_weight else None
        self.norm = nn.LayerNorm(channels)
        self.act = nn.SiLU()
        self._batched = None  # (num_graphs, device, edge_index of num_graphs poses)

    def reset_parameters(self) -> None:
        """Re-initialise every parameter (edge weights to 1)."""
        if self.conv is None:
            return
        self.norm.reset_parameters()
        self.conv.reset_parameters()
        if self.log_edge_weight is not None:
            nn.init.zeros_(self.log_edge_weight)

    def __repr__(self) -> str:
        extras = "".join(
            [f", hops={self.hops}" if self.hops != 1 else "",
             ", learnable_edge_weight=True" if self.log_edge_weight is not None else "",
             ", dense=True" if self.dense else "",
             ", node_features='pixel'" if self.node_features == "pixel" else ""]
        )
        return (f"{self.__class__.__name__}({self.layer_name}, {self.num_joints} joints, "
                f"{self.channels} -> {self.hidden_channels}{extras})")

    def edge_weight(self) -> Tensor | None:
        """The weight of each edge of ``edge_index`` ``(num_edges,)``, or ``None`` when not learned."""
        if self.log_edge_weight is None:
            return None
        return self.log_edge_weight.exp()[self.pair_of_edge]

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``(batch, K, channels)`` or ``(batch, K * c, height, width)``; returns the same shape."""
        nodes = self._to_nodes(x)
        if self.conv is None:
            return x
        return self._from_nodes(self.message(nodes), x.shape)

    def message(self, nodes: Tensor) -> Tensor:
        """What the joints tell each other: node features ``(N, K, channels) -> (N, K, hidden_channels)``."""
        return self.act(self._convolve(self.norm(nodes)))

    def _convolve(self, x: Tensor) -> Tensor:
        """The graph convolution on every pose at once: ``(N, K, channels) -> (N, K, hidden_channels)``."""
        n, k, f = x.shape
        weight = self.edge_weight()
        if self.dense:
            adjacency = x.new_zeros(k, k).index_put((self.edge_index[1], self.edge_index[0]),
                                                    x.new_ones(()) if weight is None else weight.to(x.dtype))
            return self.conv(x, adjacency)
        kwargs = {} if weight is None else {"edge_weight": weight.to(x.dtype).repeat(n)}
        return self.conv(x.reshape(n * k, f), self._batched_edge_index(n), **kwargs).view(n, k, -1)

    def _batched_edge_index(self, num_graphs: int) -> Tensor:
        """``edge_index`` of ``num_graphs`` disjoint skeletons ``(2, num_graphs * num_edges)``, cached per size."""
        device = self.edge_index.device
        if self._batched is None or self._batched[:2] != (num_graphs, device):
            offsets = torch.arange(num_graphs, device=device) * self.num_joints
            batched = (self.edge_index[:, None, :] + offsets[None, :, None]).reshape(2, -1)
            self._batched = (num_graphs, device, batched)
        return self._batched[2]

    def _to_nodes(self, x: Tensor) -> Tensor:
        """Check ``x`` and view it as node features ``(N, K, channels)``."""
        k, name = self.num_joints, self.__class__.__name__
        if x.dim() == 3:
            if x.shape[1:] != (k, self.channels):
                raise ValueError(f"{name}: expected node features (batch, {k}, {self.channels}), got {tuple(x.shape)}")
            return x
        if x.dim() != 4:
            raise ValueError(f"{name}: expected (batch, {k}, {self.channels}) node features or (batch, {k} * c, "
                             f"height, width) feature maps, got a tensor of shape {tuple(x.shape)}")
        b, c, h, w = x.shape
        if c % k:
            raise ValueError(f"{name}: {c} channels are not a multiple of the {k} joints of {self.skeleton.name}; "
                             f"channels are grouped per joint ({k} * c), so project to {k} * c channels first "
                             "(GUNet does this with graph_channels_per_joint)")
        per_joint = c // k
        if self.node_features == "pixel":
            if per_joint != self.channels:
                raise ValueError(f"{name}: node_features='pixel' expects {k} * {self.channels} channels, got {c}")
            return x.view(b, k, per_joint, h, w).permute(0, 3, 4, 1, 2).reshape(b * h * w, k, per_joint)
        if per_joint * h * w != self.channels:
            raise ValueError(f"{name}: node_features='map' makes each joint's {per_joint} x {h} x {w} map one "
                             f"feature vector of {per_joint * h * w} values, but the block was built for "
                             f"{self.channels}; build it with channels={per_joint * h * w} or use node_features='pixel'")
        return x.reshape(b, k, per_joint * h * w)

    def _from_nodes(self, nodes: Tensor, shape: torch.Size) -> Tensor:
        """Undo :meth:`_to_nodes`: node features ``(N, K, channels)`` back to ``shape``."""
        if len(shape) == 3 or self.node_features == "map":
            return nodes.reshape(shape)
        b, c, h, w = shape
        return nodes.view(b, h, w, self.num_joints, -1).permute(0, 3, 4, 1, 2).reshape(shape)


class SkeletonGraphBlock(SkeletonGraphLayer):
    r"""A residual :class:`SkeletonGraphLayer`: the layer's messages, projected, added to the input.

    .. math::
        \mathbf{X}^{\prime} = \mathbf{X} + \sigma\big(\mathrm{Conv}_{\mathcal{G}}(\mathrm{LN}(\mathbf{X}))\big)
        \mathbf{W}_o + \mathbf{b}_o

    with :math:`\mathbf{W}_o` (and :math:`\mathbf{b}_o`) zero at initialisation, so a fresh block is the
    identity. With ``layer="none"`` the block is the identity and has no parameters.

    Args:
        channels, layer, skeleton, node_features, hops, learnable_edge_weight, dense, **layer_kwargs: as
            :class:`SkeletonGraphLayer`.
        hidden_channels: the convolution's output width (default ``channels``), projected back to ``channels``.

    Shapes: as :class:`SkeletonGraphLayer`.
    """

    def __init__(self, channels: int, layer: str | type[MessagePassing] = "gcn", skeleton: Skeleton = COCO_17, *,
                 hidden_channels: int | None = None, **kwargs):
        nn.Module.__init__(self)
        self._build(channels, hidden_channels or channels, layer, skeleton, **kwargs)
        if self.conv is not None:
            self.proj = nn.Linear(self.hidden_channels, channels)
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every parameter: edge weights to 1 and the output projection to zero (the identity)."""
        super().reset_parameters()
        if self.conv is not None:
            nn.init.zeros_(self.proj.weight)
            nn.init.zeros_(self.proj.bias)

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``(batch, K, channels)`` or ``(batch, K * c, height, width)``; returns the same shape."""
        nodes = self._to_nodes(x)
        if self.conv is None:
            return x
        return self._from_nodes(nodes + self.proj(self.message(nodes)), x.shape)
