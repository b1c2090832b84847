"""GUNet: a text-conditioned diffusion UNet over ``K``-channel joint heatmaps with skeleton-graph blocks."""
from __future__ import annotations

import inspect
from typing import Iterable, Sequence

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.unets.unet_2d import UNet2DOutput
from torch import Tensor, nn

from posegraph.models.blocks import GraphBlock, MidBlock, get_down_block, get_up_block
from posegraph.models.presets import PRESETS
from posegraph.models.state_dict_keys import convert_key, convert_state_dict
from posegraph.nn import NODE_FEATURES, resolve_graph_layer
from posegraph.skeleton import SKELETONS, Skeleton, resolve_skeleton

__all__ = ["GUNet", "pool_text"]


#: The values of ``GUNet(text_context=...)``.
TEXT_CONTEXTS = ("tokens", "sentence", "both")


def pool_text(text: Tensor, mask: Tensor | None = None) -> Tensor:
    """The sentence embedding: the mean of the real tokens' embeddings, L2-normalised.

    Shapes: ``text (batch, tokens, dim)``, ``mask (batch, tokens)`` (1/True on real tokens) -> ``(batch, dim)``
    """
    weights = torch.ones(text.shape[:2], dtype=text.dtype, device=text.device) if mask is None else mask.to(text.dtype)
    mean = (text * weights[..., None]).sum(1) / weights.sum(1, keepdim=True).clamp(min=1)
    return nn.functional.normalize(mean, dim=-1)


class GUNet(ModelMixin, ConfigMixin):
    r"""Predicts the noise (or ``v``) in noisy joint heatmaps, conditioned on a timestep and text tokens.

    The layout is a UNet over ``len(block_out_channels)`` levels, each a block of
    :mod:`posegraph.models.blocks` that owns its layers, skips, graph block and resampler. A stem folds
    ``stem_stride x stem_stride`` pixels into channels (space-to-depth) so the first level already works at
    ``sample_size / stem_stride``. A level has ``layers_per_block`` layers, each a resnet (with the time
    embedding) followed, where ``attention_levels`` says so, by self-attention over the pixels + cross-attention
    to the text + feed-forward (``AttnDownBlock`` / ``AttnUpBlock``; the others never see the text); where
    ``graph_positions`` says so, a skeleton-graph block follows the level's last layer. Levels are joined by
    space-to-depth / depth-to-space resamplers. The middle block works at the smallest map: resnet, attention
    (so the text always reaches the model), resnet, and the paper's graph block (``graph_positions="mid"``).

    Graph blocks (:class:`~posegraph.models.blocks.GraphBlock`) project the level's channels to
    ``K * graph_channels_per_joint`` channels with a 1x1 convolution, pass messages between the ``K`` joints
    of each sample along the skeleton's bones (:class:`~posegraph.nn.SkeletonGraphLayer`), project back with a
    zero-initialised 1x1 convolution and add the result: one residual path. With ``graph_layer="none"`` (or
    ``graph_positions=[]``) there are no graph blocks at all: the plain UNet of the paper's UNet-T2H ablation.

    ``enable_gradient_checkpointing()`` (diffusers' ``ModelMixin``) keeps only each layer's inputs in a training
    forward pass and recomputes the layer in the backward pass.

    Checkpoints written before the levels were blocks name their parameters otherwise; loading renames them
    (:mod:`posegraph.models.state_dict_keys`).

    Args:
        sample_size: heatmap side ``S``; inputs are ``(batch, in_channels, S, S)``.
        in_channels: heatmap channels in, one per joint of ``skeleton`` (``K`` = 17 for COCO-17).
        out_channels: channels out (the prediction for every heatmap): ``K`` as well.
        block_out_channels: channels of each level, from the largest map to the smallest.
        layers_per_block: layers per level (on the way down and on the way up).
        attention_levels: per level, whether its layers have self- and cross-attention (keep it to small maps).
        num_attention_heads: attention heads in every attention block (head width = channels / heads).
        ff_mult: width of the attention blocks' feed-forward, in multiples of the level's channels.
        cross_attention_dim: width ``D`` of the text token embeddings (384 for MiniLM, 768 for CLIP-L / BERT).
        norm_num_groups: GroupNorm groups.
        stem_stride: space-to-depth factor of the stem (1: the first level works at ``S x S``).
        conv_in_kernel: kernel side of the stem's convolution, after the space-to-depth fold (1: per folded pixel).
        conv_out_kernel: kernel side of the head's convolution, before the depth-to-space unfold.
        pixel_head_channels: ``0``, or the width ``c`` of a full-resolution head around the stem: a 3x3 conv
            makes ``c`` features per pixel before the space-to-depth fold, and the output is a 3x3 conv over
            the unfolded body features beside those (a skip at ``S x S``). Lets a folded body predict per-pixel
            noise (``epsilon``, ``v_prediction``) for about ``18 c K S^2`` more multiply-adds.
        graph_layer: a graph-layer registry name (``posegraph.nn.GRAPH_LAYERS``) or ``"none"``.
        graph_positions: ``"mid"`` (after the middle block, the paper), ``"all"`` (every level and the
            middle) or a list of position names ``"down_<level>"``, ``"mid"``, ``"up_<level>"``
            (level 0 has the largest map).
        graph_channels_per_joint: ``c``, the channels per joint inside a graph block.
        graph_node_features: ``"map"`` (a joint's node is its whole ``c x h x w`` map) or ``"pixel"`` (one
            ``K``-node graph per pixel, ``c`` features per node); see :class:`~posegraph.nn.SkeletonGraphLayer`.
            A map layer holds about ``(c h w)^2`` weights: cheap at the middle (cpu preset: 128 features per
            joint), heavy on large maps, so with ``graph_positions="all"`` prefer ``"pixel"`` (docs/architecture.md
            gives the sizes).
        graph_hops: connect joints up to this many bones apart.
        graph_learnable_edge_weight: learn a weight per joint pair (gcn, cheb, graphconv).
        graph_kwargs: further :class:`~posegraph.nn.SkeletonGraphLayer` / layer keyword arguments, e.g.
            ``{"heads": 4}`` for gat or ``{"dense": True}`` for gcn.
        skeleton: the joint layout: ``"coco_17"``, ``"openpose_18"`` (:data:`posegraph.skeleton.SKELETONS`), or any
            :class:`~posegraph.skeleton.Skeleton` (stored in the config as its ``to_config()`` dict). It is the one
            source of ``K``: heatmap channel ``k`` is its joint ``k``, so ``in_channels`` and ``out_channels``
            must equal its joint count; the graph blocks pass messages along its bones, and the pipeline,
            decoding, drawing and writers read the layout from here (``GUNet.skeleton``).
        pooled_text: also condition on the whole sentence: the masked mean of the token embeddings,
            L2-normalised (all-MiniLM-L6-v2's sentence embedding, trained to map paraphrases close together),
            through a two-layer MLP added to the time embedding. Cross-attention still reads every token.
        text_context: what cross-attention reads: ``"tokens"`` (every token's embedding), ``"sentence"`` (the
            sentence embedding of ``pooled_text`` alone, as one token: the model cannot key on single words,
            so paraphrases land where their meaning is) or ``"both"`` (the sentence embedding as one more
            token before the others).
        self_condition: self-conditioning (Chen et al. 2023, "Analog Bits"): ``forward`` also reads the model's
            previous estimate of the clean sample (``self_cond``, beside ``sample`` as ``in_channels`` more input
            channels; zeros where there is none yet), so each step can refine a pose already chosen instead of
            choosing again. Training feeds half the samples their own detached estimate, the pipeline each
            step's estimate to the next.
        input_skip: add the noisy ``sample`` to the output, scaled per channel by a gain the time embedding sets
            (zero-initialised, so the model starts as without it): a learnt form of the EDM preconditioning's
            ``c_skip`` (Karras et al. 2022). Where the noise is low the model passes the sharp joints it is
            given on and predicts a correction, instead of redrawing every joint through the stem's fold.
        heatmap_scale, heatmap_shift: the model's value range: a ``[0, 1]`` heatmap ``h`` is the sample
            ``h * heatmap_scale + heatmap_shift`` (:func:`posegraph.heatmaps.normalize_heatmaps`). Not used by
            ``forward``; training and the pipeline read them, as diffusers pipelines read a VAE's
            ``scaling_factor``. ``2, -1`` is ``[-1, 1]``; the ``cpu`` preset's ``10, -0.2`` gives heatmaps
            about zero mean and unit variance, the scale the noise schedule is made for.

    Shapes:
        - **sample:** ``(batch, in_channels, sample_size, sample_size)``
        - **timestep:** ``(batch,)`` or a scalar
        - **encoder_hidden_states:** ``(batch, tokens, cross_attention_dim)``
        - **encoder_attention_mask:** ``(batch, tokens)``, 1/True for real tokens, 0/False for padding
        - **self_cond** (``self_condition`` only): ``(batch, in_channels, sample_size, sample_size)`` or ``None``
        - **output** ``.sample``: ``(batch, out_channels, sample_size, sample_size)``
    """

    _supports_gradient_checkpointing = True

    @register_to_config
    def __init__(
        self,
        sample_size: int = 32,
        in_channels: int = 17,
        out_channels: int = 17,
        block_out_channels: Sequence[int] = (32, 64, 128),
        layers_per_block: int = 1,
        attention_levels: Sequence[bool] = (False, True, True),
        num_attention_heads: int = 4,
        ff_mult: int = 2,
        cross_attention_dim: int = 384,
        norm_num_groups: int = 8,
        stem_stride: int = 2,
        pixel_head_channels: int = 0,
        conv_in_kernel: int = 1,
        conv_out_kernel: int = 3,
        graph_layer: str = "gcn",
        graph_positions: str | Sequence[str] = "mid",
        graph_channels_per_joint: int = 8,
        graph_node_features: str = "map",
        graph_hops: int = 1,
        graph_learnable_edge_weight: bool = False,
        graph_kwargs: dict | None = None,
        skeleton: str | dict | Skeleton = "coco_17",
        pooled_text: bool = False,
        text_context: str = "tokens",
        self_condition: bool = False,
        input_skip: bool = False,
        heatmap_scale: float = 2.0,
        heatmap_shift: float = -1.0,
    ):
        super().__init__()
        channels = list(block_out_channels)
        num_levels = len(channels)
        sizes = [sample_size // stem_stride // 2**i for i in range(num_levels)]
        graph_at = self._check_config(sizes, sample_size, stem_stride, attention_levels, graph_layer, graph_positions,
                                      graph_node_features, text_context)
        self.skeleton = self._check_skeleton(skeleton, in_channels, out_channels)
        temb_channels = 4 * channels[0]
        attention = dict(num_attention_heads=num_attention_heads, cross_attention_dim=cross_attention_dim,
                         ff_mult=ff_mult)

        def graph(position: str, size: int) -> dict | None:
            """The GraphBlock keyword arguments of a position that has one, else None."""
            if position not in graph_at:
                return None
            return dict(size=size, layer=graph_layer, skeleton=self.skeleton,
                        channels_per_joint=graph_channels_per_joint, node_features=graph_node_features,
                        hops=graph_hops, learnable_edge_weight=graph_learnable_edge_weight, **(graph_kwargs or {}))

        def level(i: int) -> dict:
            """What the down and the up block of level ``i`` share."""
            return dict(out_channels=channels[i], temb_channels=temb_channels, num_layers=layers_per_block,
                        norm_num_groups=norm_num_groups, **(attention if attention_levels[i] else {}))

        def kind(i: int, name: str) -> str:
            return f"Attn{name}" if attention_levels[i] else name

        self.time_proj = Timesteps(channels[0], flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(channels[0], temb_channels)
        self.text_embedding = TimestepEmbedding(cross_attention_dim, temb_channels) if pooled_text else None
        inputs = 2 * in_channels if self_condition else in_channels  # the sample, and the estimate beside it
        pixels = pixel_head_channels or inputs  # channels of each pixel the stem folds
        self.pixel_in = nn.Conv2d(inputs, pixels, 3, padding=1) if pixel_head_channels else nn.Identity()
        self.conv_in = nn.Sequential(nn.PixelUnshuffle(stem_stride),
                                     nn.Conv2d(pixels * stem_stride**2, channels[0], conv_in_kernel,
                                               padding=conv_in_kernel // 2))
        self.down_blocks = nn.ModuleList(
            get_down_block(kind(i, "DownBlock"), in_channels=channels[i], graph=graph(f"down_{i}", sizes[i]),
                           downsample_channels=channels[i + 1] if i + 1 < num_levels else None, **level(i))
            for i in range(num_levels)
        )
        self.mid_block = MidBlock(channels=channels[-1], temb_channels=temb_channels, norm_num_groups=norm_num_groups,
                                  graph=graph("mid", sizes[-1]), **attention)
        self.up_blocks = nn.ModuleList(
            get_up_block(kind(i, "UpBlock"), graph=graph(f"up_{i}", sizes[i]),
                         upsample_channels=channels[i - 1] if i > 0 else None, **level(i))
            for i in reversed(range(num_levels))
        )
        self.norm_out = nn.GroupNorm(norm_num_groups, channels[0], eps=1e-6)
        unfolded = pixel_head_channels or out_channels  # channels of each pixel the body's output unfolds to
        self.conv_out = nn.Sequential(nn.SiLU(), nn.Conv2d(channels[0], unfolded * stem_stride**2, conv_out_kernel,
                                                padding=conv_out_kernel // 2),
                                      nn.PixelShuffle(stem_stride))
        self.pixel_out = nn.Sequential(nn.SiLU(), nn.Conv2d(2 * pixels, out_channels, 3, padding=1)) \
            if pixel_head_channels else None
        self.skip_gain = nn.Sequential(nn.SiLU(), nn.Linear(temb_channels, out_channels)) if input_skip else None
        if input_skip:
            nn.init.zeros_(self.skip_gain[1].weight)
            nn.init.zeros_(self.skip_gain[1].bias)

    @property
    def heatmap_size(self) -> int:
        """The heatmap side ``S`` the model samples (``sample_size``)."""
        return self.config.sample_size

    @classmethod
    def from_preset(cls, name: str = "cpu", **overrides) -> "GUNet":
        """A freshly initialised GUNet of preset ``name`` (``"tiny"``, ``"cpu"``, ``"paper"``), any key overridden.

        A ``skeleton`` override sets ``in_channels`` and ``out_channels`` to its joint count unless they are
        overridden too. Example: ``GUNet.from_preset("cpu", graph_layer="gat", skeleton="openpose_18")``.
        """
        if name not in PRESETS:
            raise ValueError(f"unknown GUNet preset {name!r}; presets: {', '.join(PRESETS)}")
        unknown = sorted(set(overrides) - set(cls._config_keys()))
        if unknown:
            raise ValueError(f"GUNet.from_preset: unknown config keys {unknown}; valid keys: {cls._config_keys()}")
        if "skeleton" in overrides:
            try:
                joints = resolve_skeleton(overrides["skeleton"]).num_joints
            except (ValueError, TypeError) as error:
                raise ValueError(f"GUNet.from_preset: {error}") from None
            overrides = {"in_channels": joints, "out_channels": joints, **overrides}
        return cls(**{**PRESETS[name], **overrides})

    @classmethod
    def _config_keys(cls) -> list[str]:
        return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]

    def forward(
        self,
        sample: Tensor,
        timestep: Tensor | float | int,
        encoder_hidden_states: Tensor,
        encoder_attention_mask: Tensor | None = None,
        self_cond: Tensor | None = None,
        return_dict: bool = True,
    ) -> UNet2DOutput | tuple[Tensor]:
        """Denoise ``sample`` at ``timestep`` (one per sample, or one for all) given text token embeddings (and,
        with ``self_condition``, the previous estimate ``self_cond`` of the clean sample; ``None``: zeros)."""
        self._check_inputs(sample, encoder_hidden_states, encoder_attention_mask, self_cond)
        # 1. embed the time (and the sentence, where pooled_text asks); what cross-attention reads
        temb, text, text_bias = self._embed(sample, timestep, encoder_hidden_states, encoder_attention_mask)
        # 2. stem: fold stem_stride x stem_stride pixels (of the sample and the estimate) into channels
        inputs = sample
        if self.config.self_condition:
            inputs = torch.cat([sample, torch.zeros_like(sample) if self_cond is None else self_cond.to(sample)], 1)
        pixels = self.pixel_in(inputs)
        h = self.conv_in(pixels)
        # 3. down, keeping every layer's output as a skip
        skips = []
        for block in self.down_blocks:
            h, block_skips = block(h, temb, text, text_bias) if block.has_cross_attention else block(h, temb)
            skips.append(block_skips)
        # 4. middle
        h = self.mid_block(h, temb, text, text_bias)
        # 5. up, each block taking back the skips of its level
        for block in self.up_blocks:
            block_skips = skips.pop()
            h = block(h, block_skips, temb, text, text_bias) if block.has_cross_attention else block(h, block_skips, temb)
        # 6. head: unfold to pixels (beside the full-resolution features when pixel_head_channels is set)
        out = self.conv_out(self.norm_out(h))
        if self.pixel_out is not None:
            out = self.pixel_out(torch.cat([out, pixels], dim=1))
        # 7. the input skip: the noisy sample, scaled per channel by a gain of the timestep
        if self.skip_gain is not None:
            out = out + self.skip_gain(temb)[:, :, None, None].to(out.dtype) * sample
        return UNet2DOutput(sample=out) if return_dict else (out,)

    def _embed(self, sample: Tensor, timestep, tokens: Tensor, mask: Tensor | None):
        """The time embedding ``(batch, temb_channels)``, what cross-attention reads ``(batch, n, D)`` and its
        additive bias ``(batch, 1, n)`` (0 keep, -10000 padding) or ``None``."""
        temb = self.time_embedding(self.time_proj(self._timesteps(timestep, sample)).to(sample.dtype))
        sentence = None  # the sentence embedding, computed only where pooled_text or text_context reads it
        if self.text_embedding is not None or self.config.text_context != "tokens":
            sentence = pool_text(tokens, mask)
        if self.text_embedding is not None:
            temb = temb + self.text_embedding(sentence)
        text, mask = self._context(sentence, tokens, mask)
        text_bias = None if mask is None else ((1 - mask.to(sample.dtype)) * -10000.0).unsqueeze(1)
        return temb, text, text_bias

    def _context(self, sentence: Tensor | None, tokens: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """What cross-attention reads (``text_context``): ``(batch, n, D)`` and its mask ``(batch, n)`` or None."""
        if self.config.text_context == "tokens":
            return tokens, mask
        sentence = sentence[:, None].to(tokens.dtype)
        if self.config.text_context == "sentence":
            return sentence, None
        if mask is None:
            mask = torch.ones(tokens.shape[:2], dtype=torch.bool, device=tokens.device)
        first = torch.ones(len(tokens), 1, dtype=mask.dtype, device=mask.device)
        return torch.cat([sentence, tokens], dim=1), torch.cat([first, mask], dim=1)

    def match_checkpoint_layout(self, names: Iterable[str]) -> None:
        """Give each graph block the residual layer that checkpoints written before the single residual path hold,
        where a checkpoint's parameter ``names`` (current or older ones) name its projection ``layer.proj``.

        Loading does this on its own; a trainer resuming such a checkpoint calls it before it builds its optimiser.
        """
        names = {convert_key(name) for name in names}
        for name, module in self.named_modules():
            if isinstance(module, GraphBlock) and f"{name}.layer.proj.weight" in names:
                module.use_residual_layer()

    def _fix_state_dict_keys_on_load(self, state_dict: dict) -> dict:
        """diffusers' hook between reading a checkpoint and counting its keys: older parameter names renamed,
        and graph blocks whose weights hold an older residual layer given that layer."""
        convert_state_dict(state_dict)
        self.match_checkpoint_layout(state_dict)
        return state_dict

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        convert_state_dict(state_dict, prefix)  # load_state_dict of a checkpoint's older parameter names
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # --- checks ----------------------------------------------------------------------------------------

    @staticmethod
    def _check_config(sizes, sample_size, stem_stride, attention_levels, graph_layer, graph_positions,
                      graph_node_features, text_context) -> set[str]:
        """Validate the config; return the names of the positions that get a graph block."""
        num_levels = len(sizes)
        factor = stem_stride * 2 ** (num_levels - 1)
        if sample_size % factor:
            raise ValueError(f"GUNet: sample_size {sample_size} must be a multiple of {factor} "
                             f"(stem_stride {stem_stride} x 2^{num_levels - 1} for {num_levels} levels)")
        if len(attention_levels) != num_levels:
            raise ValueError(f"GUNet: attention_levels has {len(attention_levels)} entries for {num_levels} levels "
                             "(one per entry of block_out_channels)")
        if text_context not in TEXT_CONTEXTS:
            raise ValueError(f"GUNet: text_context must be one of {TEXT_CONTEXTS}, got {text_context!r}")
        if graph_node_features not in NODE_FEATURES:
            raise ValueError(f"GUNet: graph_node_features must be one of {NODE_FEATURES}, got {graph_node_features!r}")
        if not isinstance(graph_layer, str):
            raise TypeError(f"GUNet: graph_layer must be a registry name (a string that goes into config.json), "
                            f"got {graph_layer!r}")
        if resolve_graph_layer(graph_layer) is None:
            return set()
        names = [f"down_{i}" for i in range(num_levels)] + ["mid"] + [f"up_{i}" for i in range(num_levels)]
        if graph_positions == "all":
            return set(names)
        positions = [graph_positions] if isinstance(graph_positions, str) else list(graph_positions)
        unknown = [p for p in positions if p not in names]
        if unknown:
            raise ValueError(f"GUNet: unknown graph_positions {unknown}; use 'mid', 'all' or a list of {names}")
        return set(positions)

    def _check_skeleton(self, skeleton, in_channels: int, out_channels: int) -> Skeleton:
        """The layout ``skeleton`` names, checked against the channel counts; a Skeleton given as an object is
        stored in the config by name (built-in layouts) or as its ``to_config()`` dict."""
        try:
            layout = resolve_skeleton(skeleton)
        except (ValueError, TypeError) as error:
            raise ValueError(f"GUNet: {error}") from None
        if not layout.num_joints == in_channels == out_channels:
            raise ValueError(f"GUNet: the skeleton {layout.name!r} has {layout.num_joints} joints, one heatmap each, so "
                             f"in_channels and out_channels must both be {layout.num_joints}; got in_channels="
                             f"{in_channels}, out_channels={out_channels} (GUNet.from_preset sets them from the "
                             "skeleton)")
        if isinstance(skeleton, Skeleton):
            builtin = next((name for name, known in SKELETONS.items() if known == skeleton), None)
            self.register_to_config(skeleton=builtin or skeleton.to_config())
        return layout

    def _check_inputs(self, sample: Tensor, text: Tensor, mask: Tensor | None, self_cond: Tensor | None) -> None:
        config = self.config
        expected = (config.in_channels, config.sample_size, config.sample_size)
        if sample.dim() != 4 or tuple(sample.shape[1:]) != expected:
            raise ValueError(f"GUNet expects sample of shape (batch, {', '.join(map(str, expected))}) "
                             f"(in_channels, sample_size, sample_size), got {tuple(sample.shape)}")
        if self_cond is not None and not config.self_condition:
            raise ValueError("GUNet got self_cond but was built without self_condition; pass self_cond=None")
        if self_cond is not None and tuple(self_cond.shape) != tuple(sample.shape):
            raise ValueError(f"GUNet expects self_cond of the sample's shape {tuple(sample.shape)}, "
                             f"got {tuple(self_cond.shape)}")
        if text.dim() != 3 or text.shape[0] != sample.shape[0]:
            raise ValueError(f"GUNet expects encoder_hidden_states of shape (batch={sample.shape[0]}, tokens, "
                             f"{config.cross_attention_dim}), got {tuple(text.shape)}")
        if text.shape[-1] != config.cross_attention_dim:
            raise ValueError(f"GUNet expects text token embeddings of width {config.cross_attention_dim} "
                             f"(cross_attention_dim) but got width {text.shape[-1]}; the text encoder must be the "
                             "one the model was built for (or build the model with cross_attention_dim="
                             f"{text.shape[-1]})")
        if mask is not None and tuple(mask.shape) != tuple(text.shape[:2]):
            raise ValueError(f"GUNet expects encoder_attention_mask of shape (batch, tokens) = "
                             f"{tuple(text.shape[:2])}, got {tuple(mask.shape)}")

    @staticmethod
    def _timesteps(timestep: Tensor | float | int, sample: Tensor) -> Tensor:
        """One timestep per sample ``(batch,)`` from a scalar, a ``(1,)`` or a ``(batch,)`` tensor."""
        t = torch.as_tensor(timestep, device=sample.device)
        if t.dim() == 0 or t.shape == (1,):
            return t.reshape(1).expand(len(sample))
        if t.shape != (len(sample),):
            raise ValueError(f"GUNet expects timestep as a scalar or of shape (batch={len(sample)},), "
                             f"got shape {tuple(t.shape)}")
        return t
