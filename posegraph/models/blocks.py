"""GUNet's building blocks: a UNet unit (resnet -> text attention -> skeleton graph), resamplers, adapters.

The resnet and transformer layers are diffusers' own (``ResnetBlock2D``, ``BasicTransformerBlock`` with
SDPA attention); the small modules here only wire them together.
"""
from __future__ import annotations

from torch import Tensor, nn
from diffusers.models.attention import BasicTransformerBlock
from diffusers.models.resnet import ResnetBlock2D

from posegraph.nn import SkeletonGraphBlock
from posegraph.skeleton import Skeleton

__all__ = ["TextAttention", "GraphAdapter", "UNetUnit", "UNetLevel", "Downsample", "Upsample"]


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


class GraphAdapter(nn.Module):
    """A :class:`~posegraph.nn.SkeletonGraphBlock` inside a UNet: 1x1 projections to and from ``K * c`` channels.

    ``x + proj_out(graph(proj_in(x)))`` with ``proj_out`` zero at initialisation, so a fresh adapter is the
    identity and the model starts as the plain UNet.

    Shapes:
        - **input:** ``(batch, channels, height, width)``
        - **output:** ``(batch, channels, height, width)``
    """

    def __init__(self, channels: int, size: int, layer: str, skeleton: Skeleton, channels_per_joint: int,
                 node_features: str, **block_kwargs):
        super().__init__()
        graph_channels = skeleton.num_joints * channels_per_joint
        node_channels = channels_per_joint * size * size if node_features == "map" else channels_per_joint
        self.proj_in = nn.Conv2d(channels, graph_channels, 1)
        self.graph = SkeletonGraphBlock(node_channels, layer, skeleton, node_features=node_features,
                                        zero_init=False, **block_kwargs)
        self.proj_out = nn.Conv2d(graph_channels, channels, 1)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.proj_out(self.graph(self.proj_in(x)))


class UNetUnit(nn.Module):
    """One step of a UNet level: ``ResnetBlock2D`` (with the time embedding), then optional text attention,
    then an optional graph adapter.

    Shapes:
        - **input:** ``x (batch, in_channels, height, width)``, ``temb (batch, temb_channels)``, text as in
          :class:`TextAttention`
        - **output:** ``(batch, out_channels, height, width)``
    """

    def __init__(self, in_channels: int, out_channels: int, temb_channels: int, norm_num_groups: int,
                 attention: TextAttention | None = None, graph: GraphAdapter | None = None):
        super().__init__()
        self.resnet = ResnetBlock2D(in_channels=in_channels, out_channels=out_channels, temb_channels=temb_channels,
                                    groups=norm_num_groups, eps=1e-6)
        self.attention = attention
        self.graph = graph

    def forward(self, x: Tensor, temb: Tensor, text: Tensor, text_bias: Tensor | None) -> Tensor:
        x = self.resnet(x, temb)
        if self.attention is not None:
            x = self.attention(x, text, text_bias)
        if self.graph is not None:
            x = self.graph(x)
        return x


class Downsample(nn.Module):
    """Halve the map: space-to-depth (2x2 pixels -> 4x channels), then a 1x1 convolution.

    Shapes: ``(batch, in_channels, height, width) -> (batch, out_channels, height / 2, width / 2)``
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.layers = nn.Sequential(nn.PixelUnshuffle(2), nn.Conv2d(4 * in_channels, out_channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class Upsample(nn.Module):
    """Double the map: a 1x1 convolution to 4x channels, then depth-to-space.

    Shapes: ``(batch, in_channels, height, width) -> (batch, out_channels, 2 * height, 2 * width)``
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.layers = nn.Sequential(nn.Conv2d(in_channels, 4 * out_channels, 1), nn.PixelShuffle(2))

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class UNetLevel(nn.Module):
    """The units of one UNet level and the resampler to the next (``None`` at the end of the path)."""

    def __init__(self, units: list[UNetUnit], resample: nn.Module | None):
        super().__init__()
        self.units = nn.ModuleList(units)
        self.resample = resample if resample is not None else nn.Identity()
