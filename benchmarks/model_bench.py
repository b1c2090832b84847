"""Size and speed of GUNet: parameters, FLOPs and one denoising step's latency per preset, graph-layer overhead.

    .venv/bin/python benchmarks/model_bench.py [--repeats 5] [--tokens 16] [--skip-paper]

For each preset (tiny, cpu, paper): parameters, FLOPs of one sample's forward (torch.utils.flop_counter,
multiply-adds count 2), and the median latency of one forward under torch.inference_mode at batch 1,
2 (one prompt with classifier-free guidance) and 64 (the paper preset skips 64: minutes per step on a
CPU), plus batch 512 for the cpu preset (256 prompts with guidance: the sampling target of ~400
sample-forwards/s). Then the overhead of each graph layer over "none" on the cpu preset (graph block after
the middle block, batch 64), and the upstream reference, diffusers' UNet2DConditionModel with the paper's
configuration (3 CrossAttnDownBlock2D + 1 DownBlock2D, 320/640/1280/1280, 17 channels, 32x32, text width
768, random weights), timed in turns with the paper preset at batch 2 in the same run (the graph layers are
timed in turns too, so a change in the machine's load shifts all of them alike). Prints Markdown.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from diffusers import UNet2DConditionModel
from torch.utils.flop_counter import FlopCounterMode

from common import header

from posegraph.models import GUNet
from posegraph.nn import GRAPH_LAYERS


def step_inputs(model, batch: int, tokens: int):
    """Noisy heatmaps, one timestep per sample and text embeddings for one denoising step."""
    config, g = model.config, torch.Generator().manual_seed(0)
    sample = torch.randn(batch, config.in_channels, config.sample_size, config.sample_size, generator=g)
    timestep = torch.randint(0, 1000, (batch,), generator=g)
    text = torch.randn(batch, tokens, config.cross_attention_dim, generator=g)
    return sample, timestep, text


def latencies(models: dict, batch: int, tokens: int, repeats: int) -> dict:
    """Median seconds of one forward of each model (after one warm-up each), the models timed in turns so that
    a change in the machine's load hits all of them alike."""
    inputs = {name: step_inputs(model, batch, tokens) for name, model in models.items()}
    times = {name: [] for name in models}
    with torch.inference_mode():
        for name, model in models.items():
            model(*inputs[name])
        for _ in range(repeats):
            for name, model in models.items():
                start = time.perf_counter()
                model(*inputs[name])
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def latency(model, batch: int, tokens: int, repeats: int) -> float:
    """Median seconds of one forward (after one warm-up)."""
    return latencies({"model": model}, batch, tokens, repeats)["model"]


def flops_per_sample(model, tokens: int) -> float:
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(*step_inputs(model, 1, tokens))
    return counter.get_total_flops()


def parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def upstream_unet() -> UNet2DConditionModel:
    """diffusers' UNet2DConditionModel with the paper's configuration (what the upstream GUNet builds on)."""
    return UNet2DConditionModel(
        sample_size=32, in_channels=17, out_channels=17, layers_per_block=2,
        block_out_channels=(320, 640, 1280, 1280),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=768, attention_head_dim=8,
    ).eval()


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f}"


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="timed forwards per figure (median)")
    parser.add_argument("--tokens", type=int, default=16, help="text tokens per sample")
    parser.add_argument("--skip-paper", action="store_true", help="leave out the paper preset and the upstream model")
    args = parser.parse_args(argv)
    torch.manual_seed(0)

    presets = {"tiny": (1, 2, 64), "cpu": (1, 2, 64, 512)}
    if not args.skip_paper:
        presets["paper"] = (1, 2)
    preset_rows, upstream_rows = [], []
    paper = None
    for name, batches in presets.items():
        model = GUNet.from_preset(name).eval()
        figures = {b: latency(model, b, args.tokens, args.repeats) for b in batches}
        cells = [fmt_ms(figures[b]) if b in figures else "-" for b in (1, 2, 64, 512)]
        preset_rows.append(f"| {name} | {parameters(model) / 1e6:,.2f} M | {flops_per_sample(model, args.tokens) / 1e6:,.1f} | "
                           + " | ".join(cells) + f" | {max(batches) / figures[max(batches)]:,.1f} |")
        if name == "paper":
            paper = model  # kept for the side-by-side timing below
        del model

    if paper is not None:
        upstream = upstream_unet()
        seconds = latencies({"paper": paper, "upstream": upstream}, 2, args.tokens, args.repeats)
        upstream_rows = [
            f"| GUNet paper preset | {parameters(paper) / 1e6:,.1f} M | {flops_per_sample(paper, args.tokens) / 1e9:,.1f} | "
            f"{fmt_ms(seconds['paper'])} | {seconds['paper'] / seconds['upstream']:.2f} |",
            f"| diffusers UNet2DConditionModel (upstream config) | {parameters(upstream) / 1e6:,.1f} M | "
            f"{flops_per_sample(upstream, args.tokens) / 1e9:,.1f} | {fmt_ms(seconds['upstream'])} | 1.00 |",
        ]
        del paper, upstream

    layer_models = {layer: GUNet.from_preset("cpu", graph_layer=layer).eval() for layer in GRAPH_LAYERS}
    seconds = latencies(layer_models, 64, args.tokens, args.repeats)
    layer_rows = []
    for layer, model in layer_models.items():
        overhead = "-" if layer == "none" else f"{(seconds[layer] / seconds['none'] - 1) * 100:+.1f} %"
        layer_rows.append(f"| {layer} | {parameters(model) / 1e6:,.3f} M | {flops_per_sample(model, args.tokens) / 1e6:,.1f} | "
                          f"{fmt_ms(seconds[layer])} | {overhead} |")

    workload = (f"one denoising step (one forward) under torch.inference_mode, {args.tokens} text tokens per sample, "
                f"per-sample timesteps, median of {args.repeats} runs after a warm-up; FLOPs per sample forward")
    lines = header("GUNet size and speed (posegraph.models)", "model_bench.py", argv, workload) + [
        "| preset | parameters | MFLOPs / sample | ms @ batch 1 | ms @ 2 (1 prompt + guidance) | ms @ 64 | ms @ 512 | "
        "sample-forwards/s at largest batch |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *preset_rows,
    ]
    if upstream_rows:
        lines += ["", "Paper size against the upstream reference (random weights), batch 2, timed in turns:", "",
                  "| model | parameters | GFLOPs / sample | ms @ batch 2 | time vs upstream |", "|---|---:|---:|---:|---:|", *upstream_rows]
    lines += ["", "Graph layer overhead on the cpu preset (graph block after the middle block), batch 64, timed in turns:", "",
              "| graph_layer | parameters | MFLOPs / sample | ms @ batch 64 | overhead vs none |",
              "|---|---:|---:|---:|---:|", *layer_rows]
    section = "\n".join(lines)
    print(section)
    return section


if __name__ == "__main__":
    main()
