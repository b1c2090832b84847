"""The paper authors' released GUNet, runnable at any batch size: diffusers' UNet plus their spatial block.

The release (a diffusers folder: ``unet/``, ``text_encoder/``, ``tokenizer/``, ``scheduler/``) stores its
denoiser as ``GUNet2DConditionModel``: a diffusers :class:`~diffusers.UNet2DConditionModel` (17 heatmap
channels in and out, CLIP-L cross-attention) whose middle block's output passes through a 20-parameter
spatial block (``spa_block.theta`` ``(4, 4, 1)``, ``spa_block.b`` ``(1, 4, 1, 1)``) before the up path.
:class:`UpstreamGUNet` is that model with the same config keys and state-dict names, so the released
weights load into it unchanged.

The spatial block, as the release samples with it (one prompt under classifier-free guidance, batch 2),
copies each sample's middle map ``x`` ``(C, 4, 4)`` 17 times, multiplies the copy axis by a fixed 17x17
matrix ``L`` (the COCO-17 bones without the ear-shoulder links, plus self-loops), mixes the map's 4 rows
with ``theta`` as if they were channels, adds ``b`` and the input, applies a ReLU and sums the 17 copies.
All copies are equal, so copy ``n`` of the product is ``x`` times row ``n``'s sum ``d_n``, and the block is
a function of each sample alone::

    y[c, h, w] = sum_n relu(d_n * sum_i theta[i, h] x[c, i, w] + b[h] + x[c, h, w])

:class:`UpstreamSpatialBlock` computes exactly this, for every sample of any batch. (The released code
applies it this way only at batch sizes other than 17 and 34; at those two it runs the graph product
over the batch axis instead, mixing samples; it crashes at the others above 2. Sampling one pose with
guidance, the way the release is meant to be used, goes through the formula above.)
"""
from __future__ import annotations

import inspect
import math

import torch
from diffusers import UNet2DConditionModel
from torch import Tensor, nn

from posegraph.skeleton import COCO_17, Skeleton

__all__ = ["UpstreamGUNet", "UpstreamSpatialBlock", "UPSTREAM_BONES", "UPSTREAM_CLASS_NAMES"]

#: The joint pairs (COCO-17 indices) the release's 17x17 matrix links, besides each joint to itself:
#: the COCO skeleton without the ear-shoulder links (the face is not linked to the body).
UPSTREAM_BONES = ((0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (5, 11), (6, 8), (6, 12), (7, 9), (8, 10),
                  (11, 12), (11, 13), (12, 14), (13, 15), (14, 16))

#: ``_class_name`` values in ``unet/config.json`` that :class:`UpstreamGUNet` loads: the release's own and ours.
UPSTREAM_CLASS_NAMES = ("GUNet2DConditionModel", "UpstreamGUNet")


def _upstream_matrix(num_joints: int = 17) -> Tensor:
    """The release's fixed ``(K, K)`` 0/1 matrix: :data:`UPSTREAM_BONES` both ways plus the identity."""
    matrix = torch.eye(num_joints)
    for i, j in UPSTREAM_BONES:
        matrix[i, j] = matrix[j, i] = 1.0
    return matrix


class UpstreamSpatialBlock(nn.Module):
    r"""The release's spatial block, applied to each sample of a batch on its own.

    .. math::
        y_{c,h,w} = \sum_{n=1}^{K} \mathrm{ReLU}\Big(d_n \sum_i \theta_{i,h}\, x_{c,i,w} + b_h + x_{c,h,w}\Big)

    where :math:`d_n` is the sum of row :math:`n` of the release's fixed matrix (:data:`UPSTREAM_BONES` plus
    self-loops): the release's graph product over 17 equal copies of the sample, summed (see the module
    docstring). The map's height axis plays the role of the block's ``channels``.

    Args:
        channels: the height of the maps the block sees (4: the release's 32x32 heatmaps after 3 downsamplings).
        num_joints: copies of the sample (the matrix's side).

    Shapes:
        - **input:** ``(batch, C, channels, W)``
        - **output:** ``(batch, C, channels, W)``
    """

    def __init__(self, channels: int = 4, num_joints: int = 17):
        super().__init__()
        self.theta = nn.Parameter(torch.empty(channels, channels, 1))  # (in rows, out rows, supports)
        self.b = nn.Parameter(torch.empty(1, channels, 1, 1))
        self.register_buffer("degree", _upstream_matrix(num_joints).sum(1), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The release's initialisation: Kaiming-uniform ``theta``, ``b`` uniform in ``+-1 / sqrt(fan_in)``."""
        nn.init.kaiming_uniform_(self.theta, a=math.sqrt(5))
        fan_in = self.theta.shape[1] * self.theta[0, 0].numel()
        nn.init.uniform_(self.b, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))

    def forward(self, x: Tensor) -> Tensor:
        rows = self.theta.shape[0]
        if x.dim() != 4 or x.shape[2] != rows:
            raise ValueError(f"{self}: expected maps (batch, C, {rows}, W) with height {rows}, got {tuple(x.shape)}; "
                             f"the released model samples {rows * 8}x{rows * 8} heatmaps (UpstreamGUNet.heatmap_size)")
        mixed = torch.einsum("bciw,ih->bchw", x, self.theta[..., 0])
        shifted = self.b.view(1, 1, rows, 1) + x
        copies = mixed.unsqueeze(-1) * self.degree.to(x.dtype) + shifted.unsqueeze(-1)  # (batch, C, rows, W, K)
        return torch.relu(copies).sum(-1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channels={self.theta.shape[0]}, num_joints={self.degree.numel()})"


class UpstreamGUNet(UNet2DConditionModel):
    """The released GUNet: diffusers' ``UNet2DConditionModel`` with :class:`UpstreamSpatialBlock` on the middle
    block's output, for any batch size.

    The constructor and config are ``UNet2DConditionModel``'s, one to one; the block adds ``spa_block.theta``
    and ``spa_block.b`` to the state dict. It runs as a forward hook on ``mid_block``, so diffusers' forward
    is used as it is. (A ControlNet or T2I-Adapter residual for the middle block is therefore added after
    the spatial block; the release adds it before.)

    ``forward`` accepts ``encoder_attention_mask`` and ignores it: the release was trained and samples
    attending to all of CLIP's padded positions, as Stable Diffusion does, so masking them would change
    its output.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.mid_block is None:
            raise ValueError("UpstreamGUNet: the spatial block sits after the middle block; "
                             "mid_block_type must not be None")
        self.spa_block = UpstreamSpatialBlock()
        self.mid_block.register_forward_hook(self._spatial_hook)

    # diffusers reads the config keys from the constructor's signature: they are UNet2DConditionModel's
    __init__.__signature__ = inspect.signature(UNet2DConditionModel.__init__)

    def _spatial_hook(self, module: nn.Module, inputs, output: Tensor) -> Tensor:
        return self.spa_block(output)

    @property
    def skeleton(self) -> Skeleton:
        """The joint layout of the release's 17 maps: COCO-17."""
        return COCO_17

    @property
    def heatmap_size(self) -> int:
        """The heatmap side the model samples: the one whose middle map is as high as the spatial block's rows
        (32 for the release; its config's ``sample_size`` may say otherwise, as its pipeline sampled 32x32)."""
        return self.spa_block.theta.shape[0] * 2**self.num_upsamplers

    def forward(self, sample: Tensor, timestep, encoder_hidden_states: Tensor, *args,
                encoder_attention_mask: Tensor | None = None, **kwargs):
        """``UNet2DConditionModel.forward`` with the spatial block after the middle block; the text mask is ignored."""
        return super().forward(sample, timestep, encoder_hidden_states, *args, **kwargs)
