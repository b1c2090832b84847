"""GUNet's building blocks: down, middle and up blocks, their text attention, graph blocks and resamplers.

Each block owns its forward, its skip connections and its graph block, in the manner of diffusers'
``unet_2d_blocks``: a down block returns its output and the skip of each of its layers, an up block takes
those skips back, deepest first. Blocks without attention (:class:`DownBlock`, :class:`UpBlock`) take no text;
their attention twins (:class:`AttnDownBlock`, :class:`AttnUpBlock`) and the :class:`MidBlock` do
(``has_cross_attention``). :func:`get_down_block` and :func:`get_up_block` build one by type name from
keyword arguments.

The resnet and transformer layers are diffusers' own (``ResnetBlock2D``, ``BasicTransformerBlock`` with
SDPA attention); the modules here wire them together.
"""
from __future__ import annotations

import torch
from diffusers.models.attention import BasicTransformerBlock
from diffusers.models.resnet import ResnetBlock2D
from torch import Tensor, nn

from posegraph.nn import SkeletonGraphBlock, SkeletonGraphLayer
from posegraph.skeleton import Skeleton

__all__ = ["TextAttention", "GraphBlock", "Downsample", "Upsample", "DownBlock", "AttnDownBlock", "MidBlock",
           "UpBlock", "AttnUpBlock", "get_down_block", "get_up_block"]


class TextAttention(nn.Module):
    """Self-attention over the pixels, cross-attention to the text tokens and a feed-forward, residual.

    GroupNorm -> linear projection -> diffusers ``BasicTransformerBlock`` -> linear projection, added to the input.

    Shapes:
        - **input:** ``x (batch, channels, height, width)``, ``text (batch, tokens, cross_attention_dim)``,
          ``text_bias (batch, 1, tokens)`` additive attention bias (0 keep, -10000 padding) or ``None``
        - **output:** ``(batch, channels, height, width)``
    """

    def __init__(self, channels: int, num_heads: int, cross_attention_dim: int, norm_num_groups: int, ff_mult: int = 4):
        super().__init__()
        if channels % num_heads:
            raise ValueError(f"TextAttention: {channels} channels do not split into {num_heads} attention heads")
        self.norm = nn.GroupNorm(norm_num_groups, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, channels)
        self.transformer = BasicTransformerBlock(channels, num_heads, channels // num_heads,
                                                 cross_attention_dim=cross_attention_dim, ff_inner_dim=ff_mult * channels)
        self.proj_out = nn.Linear(channels, channels)

    def forward(self, x: Tensor, text: Tensor, text_bias: Tensor | None) -> Tensor:
        b, c, h, w = x.shape
        tokens = self.proj_in(self.norm(x).flatten(2).transpose(1, 2))  # (batch, h * w, channels)
        tokens = self.transformer(tokens, encoder_hidden_states=text, encoder_attention_mask=text_bias)
        return x + self.proj_out(tokens).transpose(1, 2).reshape(b, c, h, w)


class GraphBlock(nn.Module):
    """Skeleton-graph message passing inside a UNet level, on one residual path.

    ``x + proj_out(layer(proj_in(x)))``: a 1x1 convolution to ``K * c`` channels grouped per joint, a
    :class:`~posegraph.nn.SkeletonGraphLayer` over the ``K`` joints of each sample, and a 1x1 convolution back,
    zero at initialisation, so a fresh block is the identity and the model starts as the plain UNet.

    Checkpoints written before this single residual path ran a residual
    :class:`~posegraph.nn.SkeletonGraphBlock` (with its own output projection, ``layer.proj``) as the layer;
    loading one of them gives the block that layer back (:meth:`use_residual_layer`), so it computes what it
    was trained to.

    Args:
        channels: the UNet level's channels ``C``.
        size: the level's map side (a ``"map"`` node holds ``c * size * size`` features).
        layer: a graph-layer registry name.
        skeleton: the joint layout (``K`` joints).
        channels_per_joint: ``c``.
        node_features: ``"map"`` or ``"pixel"`` (see :class:`~posegraph.nn.SkeletonGraphLayer`).
        **layer_kwargs: further :class:`~posegraph.nn.SkeletonGraphLayer` keyword arguments.

    Shapes:
        - **input:** ``(batch, channels, height, width)``
        - **output:** ``(batch, channels, height, width)``
    """

    def __init__(self, channels: int, size: int, layer: str, skeleton: Skeleton, channels_per_joint: int,
                 node_features: str, **layer_kwargs):
        super().__init__()
        graph_channels = skeleton.num_joints * channels_per_joint
        node_channels = channels_per_joint * size * size if node_features == "map" else channels_per_joint
        self._layer_arguments = ((node_channels, layer, skeleton), dict(node_features=node_features, **layer_kwargs))
        self.proj_in = nn.Conv2d(channels, graph_channels, 1)
        self.layer = SkeletonGraphLayer(*self._layer_arguments[0], **self._layer_arguments[1])
        self.proj_out = nn.Conv2d(graph_channels, channels, 1)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.proj_out(self.layer(self.proj_in(x)))

    def use_residual_layer(self) -> None:
        """Make the layer a residual :class:`~posegraph.nn.SkeletonGraphBlock`, as in checkpoints written before
        the single residual path (their weights name its output projection ``layer.proj``)."""
        if isinstance(self.layer, SkeletonGraphBlock):
            return
        device = self.proj_in.weight.device
        self.layer = SkeletonGraphBlock(*self._layer_arguments[0], **self._layer_arguments[1])
        if device.type != "meta":  # a model being built empty for loading gets its weights from the checkpoint
            self.layer.to(device=device, dtype=self.proj_in.weight.dtype)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if f"{prefix}layer.proj.weight" in state_dict:
            self.use_residual_layer()
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class Downsample(nn.Module):
    """Halve the map: space-to-depth (2x2 pixels -> 4x channels), then a 1x1 convolution.

    Shapes: ``(batch, in_channels, height, width) -> (batch, out_channels, height / 2, width / 2)``
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(4 * in_channels, out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(nn.functional.pixel_unshuffle(x, 2))


class Upsample(nn.Module):
    """Double the map: a 1x1 convolution to 4x channels, then depth-to-space.

    Shapes: ``(batch, in_channels, height, width) -> (batch, out_channels, 2 * height, 2 * width)``
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 4 * out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.pixel_shuffle(self.conv(x), 2)


class _Block(nn.Module):
    """The layers of one UNet level: ``num_layers`` x (resnet -> text attention, if any), then the graph block
    (if any) after the last layer.

    Under gradient checkpointing (diffusers' ``enable_gradient_checkpointing()`` sets ``gradient_checkpointing``
    on every block) each layer keeps only its inputs and is recomputed in the backward pass.
    """

    has_cross_attention = False

    def __init__(self, *, layer_in_channels: list[int], out_channels: int, temb_channels: int, norm_num_groups: int,
                 attention: dict | None, graph: dict | None):
        super().__init__()
        self.resnets = nn.ModuleList(
            ResnetBlock2D(in_channels=channels, out_channels=out_channels, temb_channels=temb_channels,
                          groups=norm_num_groups, eps=1e-6)
            for channels in layer_in_channels)
        self.attentions = nn.ModuleList(
            TextAttention(out_channels, norm_num_groups=norm_num_groups, **attention) for _ in layer_in_channels
        ) if attention is not None else None
        self.graph = GraphBlock(out_channels, **graph) if graph is not None else None
        self.gradient_checkpointing = False

    def _layer(self, index: int, hidden_states: Tensor, temb: Tensor, *text: Tensor | None) -> Tensor:
        """Layer ``index``: resnet, text attention, and the graph block after the last layer."""
        hidden_states = self.resnets[index](hidden_states, temb)
        if self.attentions is not None:
            hidden_states = self.attentions[index](hidden_states, *text)
        if self.graph is not None and index == len(self.resnets) - 1:
            hidden_states = self.graph(hidden_states)
        return hidden_states

    def _run_layer(self, index: int, hidden_states: Tensor, temb: Tensor, *text: Tensor | None) -> Tensor:
        if self.gradient_checkpointing and torch.is_grad_enabled():
            return self._gradient_checkpointing_func(self._layer, index, hidden_states, temb, *text)
        return self._layer(index, hidden_states, temb, *text)


class DownBlock(_Block):
    """One level of the down path: layers of resnet (-> graph block after the last), each output kept as a
    skip, then the downsampler to the next level (``downsample_channels``), if any.

    Shapes:
        - **input:** ``hidden_states (batch, in_channels, h, w)``, ``temb (batch, temb_channels)``
        - **output:** ``(batch, downsample_channels, h / 2, w / 2)`` (or ``(batch, out_channels, h, w)`` without
          a downsampler) and ``num_layers`` skips ``(batch, out_channels, h, w)``
    """

    def __init__(self, *, in_channels: int, out_channels: int, temb_channels: int, num_layers: int,
                 norm_num_groups: int, downsample_channels: int | None = None, graph: dict | None = None,
                 attention: dict | None = None):
        super().__init__(layer_in_channels=[in_channels] + [out_channels] * (num_layers - 1), out_channels=out_channels,
                         temb_channels=temb_channels, norm_num_groups=norm_num_groups, attention=attention, graph=graph)
        self.downsampler = Downsample(out_channels, downsample_channels) if downsample_channels else None

    def forward(self, hidden_states: Tensor, temb: Tensor) -> tuple[Tensor, tuple[Tensor, ...]]:
        return self._forward(hidden_states, temb)

    def _forward(self, hidden_states: Tensor, temb: Tensor, *text: Tensor | None):
        skips = []
        for index in range(len(self.resnets)):
            hidden_states = self._run_layer(index, hidden_states, temb, *text)
            skips.append(hidden_states)
        if self.downsampler is not None:
            hidden_states = self.downsampler(hidden_states)
        return hidden_states, tuple(skips)


class AttnDownBlock(DownBlock):
    """A :class:`DownBlock` whose layers attend to the pixels and the text after each resnet.

    Shapes: as :class:`DownBlock`, plus ``text (batch, tokens, cross_attention_dim)`` and ``text_bias
    (batch, 1, tokens)`` or ``None`` (see :class:`TextAttention`).
    """

    has_cross_attention = True

    def __init__(self, *, num_attention_heads: int, cross_attention_dim: int, ff_mult: int, **kwargs):
        super().__init__(attention=dict(num_heads=num_attention_heads, cross_attention_dim=cross_attention_dim,
                                        ff_mult=ff_mult), **kwargs)

    def forward(self, hidden_states: Tensor, temb: Tensor, text: Tensor, text_bias: Tensor | None):
        return self._forward(hidden_states, temb, text, text_bias)


class UpBlock(_Block):
    """One level of the up path: each layer takes the next skip (the matching down level's, last first)
    beside its input, then the upsampler to the next level (``upsample_channels``), if any.

    Shapes:
        - **input:** ``hidden_states (batch, out_channels, h, w)``, ``skips``: ``num_layers`` tensors
          ``(batch, out_channels, h, w)`` in the order the down block made them, ``temb (batch, temb_channels)``
        - **output:** ``(batch, upsample_channels, 2 h, 2 w)`` (or ``(batch, out_channels, h, w)`` without one)
    """

    def __init__(self, *, out_channels: int, temb_channels: int, num_layers: int, norm_num_groups: int,
                 upsample_channels: int | None = None, graph: dict | None = None, attention: dict | None = None):
        super().__init__(layer_in_channels=[2 * out_channels] * num_layers, out_channels=out_channels,
                         temb_channels=temb_channels, norm_num_groups=norm_num_groups, attention=attention, graph=graph)
        self.upsampler = Upsample(out_channels, upsample_channels) if upsample_channels else None

    def forward(self, hidden_states: Tensor, skips: tuple[Tensor, ...], temb: Tensor) -> Tensor:
        return self._forward(hidden_states, skips, temb)

    def _forward(self, hidden_states: Tensor, skips: tuple[Tensor, ...], temb: Tensor, *text: Tensor | None):
        if len(skips) != len(self.resnets):
            raise ValueError(f"{type(self).__name__}: {len(self.resnets)} layers need as many skips, got {len(skips)}")
        for index, skip in enumerate(reversed(skips)):
            hidden_states = self._run_layer(index, torch.cat([hidden_states, skip], dim=1), temb, *text)
        if self.upsampler is not None:
            hidden_states = self.upsampler(hidden_states)
        return hidden_states


class AttnUpBlock(UpBlock):
    """An :class:`UpBlock` whose layers attend to the pixels and the text after each resnet (text as in
    :class:`AttnDownBlock`)."""

    has_cross_attention = True

    def __init__(self, *, num_attention_heads: int, cross_attention_dim: int, ff_mult: int, **kwargs):
        super().__init__(attention=dict(num_heads=num_attention_heads, cross_attention_dim=cross_attention_dim,
                                        ff_mult=ff_mult), **kwargs)

    def forward(self, hidden_states: Tensor, skips: tuple[Tensor, ...], temb: Tensor, text: Tensor,
                text_bias: Tensor | None) -> Tensor:
        return self._forward(hidden_states, skips, temb, text, text_bias)


class MidBlock(nn.Module):
    """The middle at the smallest map: resnet -> text attention -> resnet -> graph block (the paper's place).

    The attention is always there, so the text reaches every model, whatever ``attention_levels`` says.
    Under gradient checkpointing each half (resnet and attention; resnet and graph block) is recomputed.

    Shapes: ``hidden_states (batch, channels, h, w)``, ``temb``, ``text``, ``text_bias`` as in
    :class:`AttnDownBlock` -> ``(batch, channels, h, w)``
    """

    has_cross_attention = True

    def __init__(self, *, channels: int, temb_channels: int, norm_num_groups: int, num_attention_heads: int,
                 cross_attention_dim: int, ff_mult: int, graph: dict | None = None):
        super().__init__()
        self.resnets = nn.ModuleList(
            ResnetBlock2D(in_channels=channels, out_channels=channels, temb_channels=temb_channels,
                          groups=norm_num_groups, eps=1e-6) for _ in range(2))
        self.attention = TextAttention(channels, num_attention_heads, cross_attention_dim, norm_num_groups, ff_mult)
        self.graph = GraphBlock(channels, **graph) if graph is not None else None
        self.gradient_checkpointing = False

    def forward(self, hidden_states: Tensor, temb: Tensor, text: Tensor, text_bias: Tensor | None) -> Tensor:
        checkpointed = self.gradient_checkpointing and torch.is_grad_enabled()
        for half in (self._attend, self._graph):
            if checkpointed:
                hidden_states = self._gradient_checkpointing_func(half, hidden_states, temb, text, text_bias)
            else:
                hidden_states = half(hidden_states, temb, text, text_bias)
        return hidden_states

    def _attend(self, hidden_states: Tensor, temb: Tensor, text: Tensor, text_bias: Tensor | None) -> Tensor:
        return self.attention(self.resnets[0](hidden_states, temb), text, text_bias)

    def _graph(self, hidden_states: Tensor, temb: Tensor, text: Tensor, text_bias: Tensor | None) -> Tensor:
        hidden_states = self.resnets[1](hidden_states, temb)
        return self.graph(hidden_states) if self.graph is not None else hidden_states


_DOWN_BLOCKS = {"DownBlock": DownBlock, "AttnDownBlock": AttnDownBlock}
_UP_BLOCKS = {"UpBlock": UpBlock, "AttnUpBlock": AttnUpBlock}


def get_down_block(down_block_type: str, **kwargs) -> DownBlock:
    """The down block ``down_block_type`` (``"DownBlock"`` or ``"AttnDownBlock"``) built from keyword arguments.

    Keyword arguments: ``in_channels``, ``out_channels``, ``temb_channels``, ``num_layers``, ``norm_num_groups``,
    ``downsample_channels`` (``None``: no downsampler), ``graph`` (:class:`GraphBlock` keyword arguments besides
    ``channels``, or ``None``), and for ``"AttnDownBlock"`` ``num_attention_heads``, ``cross_attention_dim``,
    ``ff_mult``.
    """
    if down_block_type not in _DOWN_BLOCKS:
        raise ValueError(f"unknown down block type {down_block_type!r}; choose one of {list(_DOWN_BLOCKS)}")
    return _DOWN_BLOCKS[down_block_type](**kwargs)


def get_up_block(up_block_type: str, **kwargs) -> UpBlock:
    """The up block ``up_block_type`` (``"UpBlock"`` or ``"AttnUpBlock"``) built from keyword arguments: those of
    :func:`get_down_block` with ``upsample_channels`` for ``downsample_channels`` and no ``in_channels`` (an up
    layer reads its input beside a skip, ``2 * out_channels``)."""
    if up_block_type not in _UP_BLOCKS:
        raise ValueError(f"unknown up block type {up_block_type!r}; choose one of {list(_UP_BLOCKS)}")
    return _UP_BLOCKS[up_block_type](**kwargs)
