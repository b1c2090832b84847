"""Parameter names of GUNet checkpoints written before its levels became blocks, and their names now.

Until then a level was a list of units (``down_levels.0.units.1.resnet``, ``mid.0.attention``) and its
resampler a small ``Sequential`` (``down_levels.0.resample.layers.1``); now a level is a block that owns its
resnets, attentions, graph block and resampler (``down_blocks.0.resnets.1``, ``mid_block.attention``,
``down_blocks.0.downsampler.conv``), as in diffusers' UNets, and a graph block's skeleton-graph layer is its
``layer`` (``mid_block.graph.layer``), no longer its ``graph``. The tensors are the same, only their names
moved: :func:`convert_state_dict` renames them, and :class:`~posegraph.models.GUNet` applies it whenever
weights are loaded (``from_pretrained`` and ``load_state_dict``), so older checkpoints load and compute what
they did (their graph blocks' layers carry their own residual path and output projection, ``layer.proj``:
see :class:`~posegraph.models.blocks.GraphBlock`).
"""
from __future__ import annotations

import re

__all__ = ["RENAMED_KEYS", "convert_key", "convert_state_dict", "older_parameter_order"]

#: ``(pattern of an old name's start, its new start)``, tried in order; the first match renames.
RENAMED_KEYS: tuple[tuple[str, str], ...] = (
    (r"(down|up)_levels\.(\d+)\.units\.(\d+)\.resnet\.", r"\1_blocks.\2.resnets.\3."),
    (r"(down|up)_levels\.(\d+)\.units\.(\d+)\.attention\.", r"\1_blocks.\2.attentions.\3."),
    (r"(down|up)_levels\.(\d+)\.units\.\d+\.graph\.", r"\1_blocks.\2.graph."),  # only the last unit had one
    (r"down_levels\.(\d+)\.resample\.layers\.1\.", r"down_blocks.\1.downsampler.conv."),
    (r"up_levels\.(\d+)\.resample\.layers\.0\.", r"up_blocks.\1.upsampler.conv."),
    (r"mid\.(\d)\.resnet\.", r"mid_block.resnets.\1."),
    (r"mid\.0\.attention\.", "mid_block.attention."),
    (r"mid\.1\.graph\.", "mid_block.graph."),
)
_RENAMED = [(re.compile(pattern), replacement) for pattern, replacement in RENAMED_KEYS]
#: Inside a graph block, the skeleton-graph layer was named ``graph`` (``mid.1.graph.graph.conv``).
_INNER_GRAPH = re.compile(r"\.graph\.graph\.")


def convert_key(name: str) -> str:
    """The current name of parameter ``name`` (itself when it is already current)."""
    for pattern, replacement in _RENAMED:
        match = pattern.match(name)
        if match:
            name = match.expand(replacement) + name[match.end():]
            break
    return _INNER_GRAPH.sub(".graph.layer.", name)


def convert_state_dict(state_dict: dict, prefix: str = "") -> dict:
    """Rename, in place, the keys of ``state_dict`` below ``prefix`` that use an older name; returns it."""
    for key in [key for key in state_dict if key.startswith(prefix)]:
        new = prefix + convert_key(key[len(prefix):])
        if new != key:
            state_dict[new] = state_dict.pop(key)
    return state_dict


_LAYER = re.compile(r"(?P<block>(?:down|up)_blocks\.\d+|mid_block)\.(?P<part>resnets|attentions|attention|graph|"
                    r"downsampler|upsampler)\.(?:(?P<index>\d+)\.)?")
_PART_RANK = {"resnets": 0, "attentions": 1, "attention": 1, "graph": 2, "downsampler": 3, "upsampler": 3}


def older_parameter_order(names: list[str]) -> list[str]:
    """``names`` (a GUNet's ``named_parameters()`` names, in order) in the order the older layout registered them.

    A level's units came one after the other (resnet, attention, graph of unit 0, then of unit 1, ...; the
    middle's first unit resnet and attention, its second resnet and graph), where a block now registers its
    resnets, then its attentions, then its graph block. An optimiser's saved state follows that order.
    """
    matches = [_LAYER.match(name) for name in names]
    first = {}  # block -> position of its first parameter
    layers = {}  # block -> number of layers (resnets)
    for position, match in enumerate(matches):
        if match is not None:
            first.setdefault(match["block"], position)
            if match["part"] == "resnets":
                layers[match["block"]] = max(layers.get(match["block"], 0), int(match["index"]) + 1)

    def key(position: int) -> tuple:
        match = matches[position]
        if match is None:
            return (position,)
        block, part = match["block"], match["part"]
        if part in ("resnets", "attentions"):
            unit = int(match["index"])
        elif block == "mid_block":
            unit = 0 if part == "attention" else 1
        else:  # the graph block followed the last unit's attention; the resampler came after every unit
            unit = layers[block] - 1 if part == "graph" else layers[block]
        return first[block], unit, _PART_RANK[part], position

    return [names[position] for position in sorted(range(len(names)), key=key)]
