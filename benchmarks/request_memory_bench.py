"""Peak memory of one big sampling request through the Python API, with and without heatmaps kept.

    .venv/bin/python benchmarks/request_memory_bench.py [--prompts 10000] [--preset cpu | --checkpoint DIR]
        [--steps 2] [--batch-size 256]

One call ``pipe(prompts, guidance_scale=5, num_inference_steps=STEPS, scheduler="dpm-solver++",
batch_size=B, return_heatmaps=...)`` on ``--prompts`` distinct synthetic captions, one pose each, in a fresh
Python process per setting (this script with ``--worker``), so each peak resident set (RSS high-water mark)
is its own. Rows: the pipeline's default (``return_heatmaps=False``) and ``return_heatmaps=True``. Memory:
the RSS once the pipeline is loaded, and the peak over the call. The pipeline encodes the prompts batch by
batch, so the peak follows the batch and the kept results (about 0.4 KB a pose, plus 17 x S x S x 4 bytes of
heatmaps when they are kept), not the number of prompts; the step count changes the time, not the memory,
hence the short default. The goal: 10,000 prompts under 1.5 GB with the default.
"""
from __future__ import annotations

import argparse
import json
import time

import torch
from diffusers import DDPMScheduler

from common import GB, current_rss_bytes, header, peak_rss_bytes, run_worker

from posegraph.data.synthetic import SyntheticPoseGenerator
from posegraph.models import GUNet
from posegraph.pipelines import DEFAULT_GUIDANCE_SCALE, PoseGraphPipeline
from posegraph.text import TextEncoder

GOAL_GB = 1.5  # peak RSS for 10,000 prompts with the default


def worker(options: dict) -> dict:
    """Load the pipeline, make the captions, run one call; the figures as a dict."""
    torch.manual_seed(0)
    if options["checkpoint"]:
        pipe = PoseGraphPipeline.from_pretrained(options["checkpoint"])
    else:
        encoder = TextEncoder.from_pretrained("default")
        unet = GUNet.from_preset(options["preset"], cross_attention_dim=encoder.hidden_size).eval()
        pipe = PoseGraphPipeline(unet=unet, scheduler=DDPMScheduler(beta_schedule="squaredcos_cap_v2"),
                                 text_encoder=encoder)
    pipe.set_progress_bar_config(disable=True)
    generator = SyntheticPoseGenerator(size=pipe.unet.config.sample_size, seed=0)
    captions = list(dict.fromkeys(generator.sample(2 * options["prompts"]).captions))
    while len(captions) < options["prompts"]:  # the generator repeats itself: number the rest
        captions.append(f"{captions[len(captions) % 100]} ({len(captions)})")
    captions = captions[: options["prompts"]]
    loaded = current_rss_bytes()
    kwargs = {} if options["return_heatmaps"] is None else {"return_heatmaps": options["return_heatmaps"]}
    start = time.perf_counter()
    output = pipe(captions, guidance_scale=DEFAULT_GUIDANCE_SCALE, num_inference_steps=options["steps"],
                  scheduler="dpm-solver++", generator=0, batch_size=options["batch_size"], **kwargs)
    seconds = time.perf_counter() - start
    return {"poses": len(output.keypoints), "heatmaps": output.heatmaps is not None, "loaded_rss": loaded,
            "peak_rss": peak_rss_bytes(), "seconds": seconds}


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=10_000, help="distinct prompts, one pose each")
    parser.add_argument("--preset", default="cpu", help="GUNet preset with random weights (memory does not "
                                                        "depend on them)")
    parser.add_argument("--checkpoint", help="a trained run or checkpoint instead of --preset")
    parser.add_argument("--steps", type=int, default=2, help="denoising steps (time, not memory)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--worker", metavar="JSON", help=argparse.SUPPRESS)  # one setting, in this process
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return ""

    rows = []
    for label, return_heatmaps in [("default (`return_heatmaps=False`)", None), ("`return_heatmaps=True`", True)]:
        options = dict(prompts=args.prompts, preset=args.preset, checkpoint=args.checkpoint, steps=args.steps,
                       batch_size=args.batch_size, return_heatmaps=return_heatmaps)
        figures = run_worker("request_memory_bench.py", ["--worker", json.dumps(options)])
        rows.append(f"| {label} | {figures['poses']:,} | {'yes' if figures['heatmaps'] else 'no'} | "
                    f"{figures['loaded_rss'] / GB:.2f} | {figures['peak_rss'] / GB:.2f} | "
                    f"{(figures['peak_rss'] - figures['loaded_rss']) / GB:.2f} | {figures['seconds']:.1f} |")

    model = args.checkpoint or f"{args.preset} preset, random weights"
    workload = (f"one pipeline call on {args.prompts:,} distinct synthetic captions, one pose each ({model}), "
                f"{args.steps} DPM-Solver++ steps, guidance {DEFAULT_GUIDANCE_SCALE:g}, batch {args.batch_size}; "
                f"one process per row, once each; goal with the default: under {GOAL_GB} GB peak for 10,000 prompts")
    lines = header("Peak memory of a big sampling request (PoseGraphPipeline)", "request_memory_bench.py", argv,
                   workload)
    lines += ["| call | poses | heatmaps kept | RSS loaded (GB) | peak RSS (GB) | peak - loaded (GB) | seconds |",
              "|---|---:|---|---:|---:|---:|---:|", *rows]
    section = "\n".join(lines)
    print(section)
    return section


if __name__ == "__main__":
    main()
