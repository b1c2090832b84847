"""Size and speed of GUNet: parameters, FLOPs and one denoising step's latency per preset, graph-layer overhead.

    .venv/bin/python benchmarks/model_bench.py [--repeats 5] [--tokens 16] [--skip-paper]

For each preset (tiny, cpu, paper): parameters, FLOPs of one sample's forward (torch.utils.flop_counter,
multiply-adds count 2), and the median latency of one forward under torch.inference_mode at batch 1,
2 (one prompt with classifier-free guidance) and 64 (the paper preset skips 64: minutes per step on a
CPU), plus batch 512 for the cpu preset (256 prompts with guidance: the sampling target of ~400
sample-forwards/s). Then the overhead of each graph layer over "none" on the cpu preset (graph block after
the middle block, batch 64), and the upstream reference, diffusers' UNet2DConditionModel with the paper's
configuration (3 CrossAttnDownBlock2D + 1 DownBlock2D, 320/640/1280/1280, 17 channels, 32x32, text width
768, random weights), side by side with the paper preset at batch 2 in the same run. Prints Markdown.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from diffusers import UNet2DConditionModel  # noqa: E402

from posegraph.models import GUNet  # noqa: E402
from posegraph.nn import GRAPH_LAYERS  # noqa: E402


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return (f"{cpu}, {torch.get_num_threads()} torch threads, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, torch {torch.__version__}")


def git_commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def step_inputs(model, batch: int, tokens: int):
    """Noisy heatmaps, one timestep per sample and text embeddings for one denoising step."""
    config, g = model.config, torch.Generator().manual_seed(0)
    sample = torch.randn(batch, config.in_channels, config.sample_size, config.sample_size, generator=g)
    timestep = torch.randint(0, 1000, (batch,), generator=g)
    text = torch.randn(batch, tokens, config.cross_attention_dim, generator=g)
    return sample, timestep, text


def latency(model, batch: int, tokens: int, repeats: int) -> float:
    """Median seconds of one forward (after one warm-up)."""
    sample, timestep, text = step_inputs(model, batch, tokens)
    times = []
    with torch.inference_mode():
        model(sample, timestep, text)
        for _ in range(repeats):
            start = time.perf_counter()
            model(sample, timestep, text)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


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


def main(argv=None) -> None:
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
    paper_batch2 = None
    for name, batches in presets.items():
        model = GUNet.from_preset(name).eval()
        figures = {b: latency(model, b, args.tokens, args.repeats) for b in batches}
        cells = [fmt_ms(figures[b]) if b in figures else "-" for b in (1, 2, 64, 512)]
        preset_rows.append(f"| {name} | {parameters(model) / 1e6:,.2f} M | {flops_per_sample(model, args.tokens) / 1e6:,.1f} | "
                           + " | ".join(cells) + f" | {max(batches) / figures[max(batches)]:,.1f} |")
        if name == "paper":
            paper_batch2 = (parameters(model), flops_per_sample(model, args.tokens), figures[2])
        del model

    if paper_batch2 is not None:
        upstream = upstream_unet()
        upstream_seconds = latency(upstream, 2, args.tokens, args.repeats)
        upstream_rows = [
            f"| GUNet paper preset | {paper_batch2[0] / 1e6:,.1f} M | {paper_batch2[1] / 1e9:,.1f} | {fmt_ms(paper_batch2[2])} |",
            f"| diffusers UNet2DConditionModel (upstream config) | {parameters(upstream) / 1e6:,.1f} M | "
            f"{flops_per_sample(upstream, args.tokens) / 1e9:,.1f} | {fmt_ms(upstream_seconds)} |",
        ]
        del upstream

    base = None
    layer_rows = []
    for layer in GRAPH_LAYERS:
        model = GUNet.from_preset("cpu", graph_layer=layer).eval()
        seconds = latency(model, 64, args.tokens, args.repeats)
        base = seconds if layer == "none" else base
        overhead = "-" if layer == "none" else f"{(seconds / base - 1) * 100:+.1f} %"
        layer_rows.append(f"| {layer} | {parameters(model) / 1e6:,.3f} M | {flops_per_sample(model, args.tokens) / 1e6:,.1f} | "
                          f"{fmt_ms(seconds)} | {overhead} |")

    command = "python benchmarks/model_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = [
        "## GUNet size and speed (posegraph.models)",
        "",
        f"- machine: {machine()}",
        f"- command: `{command.strip()}`",
        f"- git commit: {git_commit()}",
        f"- workload: one denoising step (one forward) under torch.inference_mode, {args.tokens} text tokens per "
        f"sample, per-sample timesteps, median of {args.repeats} runs after a warm-up; FLOPs per sample forward",
        "",
        "| preset | parameters | MFLOPs / sample | ms @ batch 1 | ms @ 2 (1 prompt + guidance) | ms @ 64 | ms @ 512 | "
        "sample-forwards/s at largest batch |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *preset_rows,
    ]
    if upstream_rows:
        lines += ["", "Paper size against the upstream reference (random weights), batch 2, same run:", "",
                  "| model | parameters | GFLOPs / sample | ms @ batch 2 |", "|---|---:|---:|---:|", *upstream_rows]
    lines += ["", "Graph layer overhead on the cpu preset (graph block after the middle block), batch 64:", "",
              "| graph_layer | parameters | MFLOPs / sample | ms @ batch 64 | overhead vs none |",
              "|---|---:|---:|---:|---:|", *layer_rows]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
