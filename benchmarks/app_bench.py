"""The web app's latency as a user sees it: from clicking "Generate poses" to the poses in the gallery.

    .venv/bin/python benchmarks/app_bench.py [--checkpoint runs/demo | --preset cpu] [--poses 8] [--steps 20] [--repeats 5]

Starts ``python -m posegraph.app`` on a free local port (its own process, warmed up as it always is), opens
the page in headless Chromium (Debian's ``chromium`` + ``chromium-driver``, through Selenium), and clicks
generate ``--repeats`` times after one untimed click, each time with a new seed, ``--poses`` poses,
``--steps`` DPM-Solver++ steps (20, twice the app's default) and guidance 5. Per click it records the seconds from
the click to the page's answer, to every image of the gallery loaded in the browser, and the sampling time
the app reports. The project's goal: the first poses within 5 s of the click for 8 poses at 20 steps on a
2-core CPU.

Without ``--checkpoint`` the app serves the ``--preset`` unet with random weights (the speed does not
depend on them), saved into a temporary folder. The browser runs on the same CPU as the app, as it does
for a user on a laptop.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path

import torch
from diffusers import DDPMScheduler

from common import header

from posegraph.app.browser import AppPage, open_chromium, serve_app
from posegraph.models import GUNet
from posegraph.pipelines import PoseGraphPipeline
from posegraph.text import TextEncoder

TARGET_SECONDS = 5.0  # the first poses in the gallery after a click, 8 poses at 20 steps on a 2-core CPU
PROMPTS = ["a woman waving her left hand", "a man sitting on a chair", "a person kicking with the right leg",
           "a child raising both arms", "a man running", "a woman doing a handstand"]


def save_random_pipeline(preset: str, directory: Path) -> Path:
    torch.manual_seed(0)
    encoder = TextEncoder.from_pretrained("default")
    unet = GUNet.from_preset(preset, cross_attention_dim=encoder.hidden_size).eval()
    scheduler = DDPMScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="sample")
    PoseGraphPipeline(unet=unet, scheduler=scheduler, text_encoder=encoder).save_pretrained(directory)
    return directory


def measure(url: str, poses: int, steps: int, repeats: int) -> list[dict[str, float]]:
    """Clicks in the page at ``url``: one untimed, then ``repeats`` timed ones."""
    runs = []
    with open_chromium() as driver:
        page = AppPage(driver, url, timeout=600)
        page.fill("steps", steps)
        for repeat in range(repeats + 1):
            timing = page.generate(PROMPTS[repeat % len(PROMPTS)], poses, seed=1000 * repeat)
            reported = re.search(r"in ([0-9.]+) s\.", page.status())
            timing["sampling"] = float(reported.group(1)) if reported else float("nan")
            print(f"app_bench: click {repeat}{' (untimed)' if repeat == 0 else ''}: answer {timing['answer']:.2f} s, "
                  f"gallery shown {timing['shown']:.2f} s, sampling {timing['sampling']:.2f} s", file=sys.stderr)
            if repeat:
                runs.append(timing)
    return runs


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", metavar="DIR", help="a trained run, checkpoint or saved pipeline")
    parser.add_argument("--preset", default="cpu", help="the unet preset served (random weights) without --checkpoint")
    parser.add_argument("--poses", type=int, default=8, help="poses per click")
    parser.add_argument("--steps", type=int, default=20, help="denoising steps")
    parser.add_argument("--repeats", type=int, default=5, help="timed clicks")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="app-bench-") as tmp:
        checkpoint = args.checkpoint or save_random_pipeline(args.preset, Path(tmp) / "pipeline")
        log = Path(tmp) / "app.log"
        try:
            with serve_app(checkpoint, "--max-poses", str(max(64, args.poses)), "--max-steps",
                           str(max(100, args.steps)), log=log, timeout=600) as url:
                runs = measure(url, args.poses, args.steps, args.repeats)
        except Exception:
            print(f"app_bench: the app's output:\n{log.read_text() if log.exists() else '(none)'}", file=sys.stderr)
            raise

    source = f"checkpoint {args.checkpoint}" if args.checkpoint else f"{args.preset} preset, random weights"
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    worst = max(run["shown"] for run in runs)
    lines = header("Web app: click to poses in the browser", "app_bench.py", argv,
                   f"{source}; {args.poses} poses, {args.steps} DPM-Solver++ steps, guidance 5, a new seed and prompt "
                   f"per click; headless Chromium on the same CPU; median of {args.repeats} clicks after one untimed")
    lines += [
        "| from the click to | seconds (median) |",
        "|---|---:|",
        f"| the page's answer (sampling, files, transfer) | {median['answer']:.2f} |",
        f"| every gallery image loaded in the browser | **{median['shown']:.2f}** (slowest click {worst:.2f}) |",
        f"| of which sampling, as the app reports it | {median['sampling']:.2f} |",
        "",
        f"- goal: the first poses within {TARGET_SECONDS:.0f} s of the click (8 poses, 20 steps, 2-core CPU): "
        + (("met" if median["shown"] <= TARGET_SECONDS else "NOT met") if (args.poses, args.steps) == (8, 20)
           else f"not measured by this run ({args.poses} poses, {args.steps} steps)"),
    ]
    section = "\n".join(lines)
    print(section)
    return section


if __name__ == "__main__":
    main()
