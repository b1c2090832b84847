"""GUNet presets: ``GUNet.from_preset(name, **overrides)`` builds one with any config key overridden.

Each preset lists only the keys in which it differs from the constructor's defaults.

- ``tiny``: for tests; 16x16 heatmaps and narrow levels, well under 1 M parameters, runs in milliseconds.
- ``cpu``: the default, the constructor's defaults themselves. 32x32 heatmaps folded to 16x16 by the stem (a
  space-to-depth patch embedding), levels of 32/64/128 channels at 16/8/4 pixels, self- and cross-attention
  (feed-forward x2) at 8x8, 4x4 and the middle only, one layer per level. Small enough to train on a 2-core
  CPU in minutes (its size and speed: ``benchmarks/RESULTS.md``).
- ``paper``: the paper's size: 320/640/1280/1280 channels, 2 layers per level, 8 attention heads, text width
  768 (CLIP-L / BERT-base), 32x32 heatmaps without a stem (``sample_size=64`` also works).
"""
from __future__ import annotations

__all__ = ["PRESETS"]

PRESETS: dict[str, dict] = {
    "tiny": dict(
        sample_size=16,
        block_out_channels=(16, 32),
        attention_levels=(True, True),
        num_attention_heads=2,
        cross_attention_dim=32,
        graph_channels_per_joint=2,
    ),
    "cpu": dict(),
    "paper": dict(
        block_out_channels=(320, 640, 1280, 1280),
        layers_per_block=2,
        attention_levels=(True, True, True, False),
        num_attention_heads=8,
        ff_mult=4,
        cross_attention_dim=768,
        norm_num_groups=32,
        stem_stride=1,
        conv_in_kernel=3,
        graph_channels_per_joint=16,
    ),
}
