"""Sampling throughput of PoseGraphPipeline: poses/s against batch size, steps and scheduler, text encoding included.

    .venv/bin/python benchmarks/sampling_bench.py [--preset cpu | --checkpoint DIR] [--repeats 3] [--fast-paths]

One timed call is ``pipe(prompts, guidance_scale=5, guidance_interval=(LOW, HIGH), num_inference_steps=N,
scheduler=NAME, batch_size=B)`` on B synthetic captions, one pose each (so up to B distinct prompts are encoded in
every call, the worst case for text encoding), keypoints only. The headline configuration is the project's goal:
batch 256, 20 DPM-Solver++ steps with guidance, at least 10 poses/s on a 2-core CPU. Three sweeps vary one setting around it: the batch
size, the number of steps, the scheduler. Each figure is the median of ``--repeats`` calls after a short
warm-up call.

The unet is the preset's with random weights (the speed does not depend on them) and the cpu training
schedule, or a trained ``--checkpoint``. ``--autocast``, ``--channels-last`` and ``--compile`` switch the
pipeline's fast paths on for the sweeps (on CUDA: ``--device cuda --autocast bf16 --channels-last --compile``);
``--fast-paths`` adds a table of the headline configuration with each of them beside the plain path, measured
in turns in one run, so the ratios compare like with like.
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time

import torch
from diffusers import DDPMScheduler

from common import header, median_seconds

from posegraph.data.synthetic import SyntheticPoseGenerator
from posegraph.models import GUNet
from posegraph.pipelines import DEFAULT_GUIDANCE_INTERVAL, DEFAULT_GUIDANCE_SCALE, SCHEDULERS, PoseGraphPipeline
from posegraph.text import TextEncoder

TARGET = 10.0  # poses/s: the project's goal for the cpu preset on a 2-core CPU


def build_pipeline(args) -> PoseGraphPipeline:
    """The ``--checkpoint``'s pipeline, or the ``--preset`` unet with random weights and the cpu training schedule."""
    if args.checkpoint:
        pipe = PoseGraphPipeline.from_pretrained(args.checkpoint, device=args.device)
    else:
        torch.manual_seed(0)
        encoder = TextEncoder.from_pretrained("default", device=args.device)
        unet = GUNet.from_preset(args.preset, cross_attention_dim=encoder.hidden_size).eval()
        pipe = PoseGraphPipeline(unet=unet, scheduler=DDPMScheduler(beta_schedule="squaredcos_cap_v2"),
                                 text_encoder=encoder).to(args.device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def apply_fast_paths(pipe: PoseGraphPipeline, autocast: str | None, channels_last: bool, compiled: bool):
    if autocast:
        pipe.enable_autocast(autocast)
    if channels_last:
        pipe.enable_channels_last()
    if compiled:
        pipe.enable_compile()
    return pipe


def sampler(pipe: PoseGraphPipeline, captions: list[str], batch: int, steps: int, scheduler: str, guidance: float,
            interval: list[int] | None):
    """A call drawing ``batch`` poses in one chunk, and a shorter one to warm it up (same shapes, 2 steps)."""
    prompts = captions[:batch]

    def call(num_inference_steps=steps):
        pipe(prompts, guidance_scale=guidance, guidance_interval=interval, num_inference_steps=num_inference_steps,
             scheduler=scheduler, generator=0, batch_size=batch, return_heatmaps=False)

    return call, lambda: call(min(steps, 2))


def poses_per_second(pipe, captions, batch, steps, scheduler, guidance, interval, repeats) -> tuple[float, float]:
    """``(seconds per call, poses/s)``: the median of ``repeats`` calls after a warm-up."""
    call, warmup = sampler(pipe, captions, batch, steps, scheduler, guidance, interval)
    warmup()
    seconds = median_seconds(call, repeats, warmup=0)
    return seconds, batch / seconds


def sweep_rows(args, pipe, captions) -> tuple[list[str], float]:
    """One row per distinct configuration, the headline first (in bold), then the three sweeps; the headline's
    poses/s."""
    head = (args.headline_batch, args.headline_steps, args.headline_scheduler)
    configs = ([head] + [(b, head[1], head[2]) for b in args.batch_sizes] + [(head[0], s, head[2]) for s in args.steps]
               + [(head[0], head[1], name) for name in args.schedulers])
    rows, rates = [], []
    for batch, steps, scheduler in dict.fromkeys(configs):  # in order, each once
        seconds, rate = poses_per_second(pipe, captions, batch, steps, scheduler, args.guidance_scale,
                                         args.guidance_interval, args.repeats)
        cells = [batch, steps, scheduler, f"{seconds:.3f}", f"{1e3 * seconds / steps:.1f}", f"{rate:,.1f}"]
        rows.append("| " + " | ".join(f"**{c}**" if not rows else str(c) for c in cells) + " |")
        rates.append(rate)
    return rows, rates[0]


def fast_path_rows(args, pipe, captions) -> list[str]:
    """The headline configuration with each fast path beside the plain one, timed in turns."""
    variants = {
        "plain": (None, False, False),
        f"autocast {args.fast_dtype}": (args.fast_dtype, False, False),
        "channels_last": (None, True, False),
        "torch.compile": (None, False, True),
        f"all three ({args.fast_dtype})": (args.fast_dtype, True, True),
    }
    head = (args.headline_batch, args.headline_steps, args.headline_scheduler, args.guidance_scale,
            args.guidance_interval)
    calls, first = {}, {}
    for name, options in variants.items():
        variant = PoseGraphPipeline(unet=copy.deepcopy(pipe.unet), scheduler=pipe.scheduler,
                                    text_encoder=pipe.text_encoder)
        variant.set_progress_bar_config(disable=True)
        call, warmup = sampler(apply_fast_paths(variant, *options), captions, *head)
        start = time.perf_counter()
        warmup()  # compiles, for the compiled variants
        first[name], calls[name] = time.perf_counter() - start, call
    times = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    plain = statistics.median(times["plain"])
    rows = []
    for name, values in times.items():
        seconds = statistics.median(values)
        rows.append(f"| {name} | {first[name]:.1f} | {seconds:.3f} | {head[0] / seconds:,.1f} | "
                    f"{plain / seconds:.2f} |")
    return rows


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="cpu", help="GUNet preset with random weights (tiny, cpu, paper)")
    parser.add_argument("--checkpoint", metavar="DIR", help="a trained pipeline, checkpoint or run directory instead")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16, 64, 256])
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 20, 50])
    parser.add_argument("--schedulers", nargs="+", choices=list(SCHEDULERS), default=list(SCHEDULERS))
    parser.add_argument("--headline-batch", type=int, default=256)
    parser.add_argument("--headline-steps", type=int, default=20)
    parser.add_argument("--headline-scheduler", choices=list(SCHEDULERS), default="dpm-solver++")
    parser.add_argument("--guidance-scale", type=float, default=DEFAULT_GUIDANCE_SCALE)
    parser.add_argument("--guidance-interval", type=int, nargs=2, metavar=("LOW", "HIGH"),
                        default=DEFAULT_GUIDANCE_INTERVAL, help="the timesteps guided (0 1000: every step)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per figure (median)")
    parser.add_argument("--autocast", choices=["bf16", "fp16"], help="sweeps: run the unet under autocast")
    parser.add_argument("--channels-last", action="store_true", help="sweeps: channels_last unet")
    parser.add_argument("--compile", action="store_true", help="sweeps: torch.compile the unet")
    parser.add_argument("--fast-paths", action="store_true", help="add the fast-path comparison table")
    parser.add_argument("--fast-dtype", choices=["bf16", "fp16"], default="bf16", help="autocast dtype of that table")
    args = parser.parse_args(argv)

    pipe = build_pipeline(args)
    largest = max(args.batch_sizes + [args.headline_batch])
    captions = SyntheticPoseGenerator(size=64, seed=0).sample(largest).captions
    fast_rows = fast_path_rows(args, pipe, captions) if args.fast_paths else []
    apply_fast_paths(pipe, args.autocast, args.channels_last, args.compile)
    rows, headline = sweep_rows(args, pipe, captions)

    unet = pipe.unet
    source = f"checkpoint {args.checkpoint}" if args.checkpoint else f"{args.preset} preset, random weights"
    options = [name for name, on in (("autocast " + str(args.autocast), args.autocast),
                                     ("channels_last", args.channels_last), ("torch.compile", args.compile)) if on]
    parameters = sum(p.numel() for p in unet.parameters())
    workload = (f"PoseGraphPipeline on {args.device}: {source} ({parameters / 1e6:.2f} M parameters, "
                f"{unet.config.sample_size}x{unet.config.sample_size} heatmaps), text encoder "
                f"{pipe.text_encoder.to_config()['name_or_path']}, guidance {args.guidance_scale} at timesteps "
                f"{args.guidance_interval[0]}-{args.guidance_interval[1]} (one batched forward of 2 x batch per guided "
                f"step), one synthetic caption per pose, keypoints only, "
                f"fast paths: {', '.join(options) or 'none'}; median of {args.repeats} calls after a 2-step warm-up")
    lines = header("Sampling throughput (posegraph.pipelines)", "sampling_bench.py", argv, workload)
    head = f"batch {args.headline_batch}, {args.headline_steps} {args.headline_scheduler} steps, guidance on"
    lines += [f"**Headline: {headline:,.1f} poses/s** ({head}; the project's goal on the cpu preset and a 2-core "
              f"CPU: >= {TARGET:g} poses/s)", "",
              "| batch | steps | scheduler | seconds / call | ms / step | poses/s |", "|---:|---:|---|---:|---:|---:|",
              *rows]
    if fast_rows:
        lines += ["", f"Fast paths at the headline configuration ({head}), timed in turns in one run:", "",
                  "| variant | 2-step warm-up (s, compiling included) | seconds / call | poses/s | speed-up vs plain |",
                  "|---|---:|---:|---:|---:|", *fast_rows]
    section = "\n".join(lines)
    print(section)
    return section


if __name__ == "__main__":
    main()
