"""Run the benchmarks one after another and append their sections to benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run.py [--only NAME ...] [--quick] [--no-write] [--results FILE] [--checkpoint DIR]

Each benchmark runs in its own Python process (``benchmarks/<script> ARGS``), so memory high-water marks,
caches and thread pools do not carry over from one to the next, and prints one Markdown section: the date,
the machine (CPU model, cores, torch threads, torch version), its exact command, the git commit and
figures that are medians of several runs. Each section is appended to the results file as soon as its
benchmark finishes; earlier sections are never rewritten. A benchmark that fails is reported on stderr
and the others still run (the exit status is then 1).

The full run uses each script's defaults (the sampling benchmark adds its fast-path table, whose compiled
variants spend minutes compiling on a CPU); ``--quick`` runs each with a tiny workload, to check that it
works, not to measure: its sections say so. Run the real thing on a quiet machine: other processes on the
CPU skew every figure (two torch threads contending with other work slow small operations many times over).
``--checkpoint DIR`` (e.g. the demo's ``runs/demo``) times sampling and the web app on that trained model,
so their figures and the demo's semantic accuracy belong to one checkpoint. The ``app`` benchmark drives the
app in headless Chromium (``apt-get install chromium chromium-driver``); without a browser it fails and the
others still run.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
PREAMBLE = """# posegraph benchmark results

Sections are appended by `python benchmarks/run.py` (newest last); each names its date, machine, command
and commit. Figures are medians of several runs; ratios are measured side by side in one run.
"""

#: name -> (script, its arguments in the full run, its arguments with --quick)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "sampling": ("sampling_bench.py", ["--fast-paths"],
                 ["--preset", "tiny", "--batch-sizes", "1", "4", "--steps", "2", "3", "--schedulers", "ddim",
                  "dpm-solver++", "--headline-batch", "4", "--headline-steps", "2", "--repeats", "1"]),
    "train": ("train_bench.py", [],
              ["--presets", "tiny", "--batch-sizes", "4", "8", "--steps", "2", "--repeats", "1", "--skip-paper"]),
    "model": ("model_bench.py", [], ["--skip-paper", "--repeats", "1"]),
    "upstream": ("upstream_bench.py", [], ["--small", "--poses", "4", "--batch-size", "4", "--upstream-poses", "1"]),
    "heatmaps": ("heatmaps_bench.py", [], ["--poses", "1000", "--repeats", "2"]),
    "text": ("text_bench.py", [], ["--captions", "256", "--batch-size", "64", "--repeats", "1"]),
    "synthetic": ("synthetic_bench.py", [], ["--samples", "2000", "--repeats", "1"]),
    "request_memory": ("request_memory_bench.py", [],
                       ["--prompts", "300", "--preset", "tiny", "--steps", "1", "--batch-size", "64"]),
    "quality": ("quality_bench.py", [],
                ["--preset", "tiny", "--recipes", "cpu", "--max-steps", "4", "--eval-at", "2", "--per-action", "1",
                 "--side-samples", "4", "--out", "runs/quality-quick", "--plot", "runs/quality-quick/curves.png"]),
    "evaluation": ("evaluation_bench.py", [], ["--captions", "50", "--poses", "500", "--evaluator-pairs", "500",
                                              "--evaluator-epochs", "1", "--repeats", "1"]),
    "app": ("app_bench.py", [], ["--preset", "tiny", "--poses", "2", "--steps", "2", "--repeats", "1"]),
    "distill": ("distill_bench.py", ["--teacher", "runs/demo", "--student", "runs/demo-lcm"],
                ["--tiny", "runs/distill-quick", "--teacher-steps", "2", "--student-steps", "1", "2", "--per-action",
                 "1", "--side-samples", "2", "--modes", "2", "--batch", "4", "--repeats", "1", "--plot",
                 "runs/distill-quick/plot.png"]),
}
#: the benchmarks that time a trained model when given --checkpoint
CHECKPOINT_BENCHMARKS = ("sampling", "app")
QUICK_NOTE = "- **quick run** (`benchmarks/run.py --quick`): a smoke test of the script, not a measurement"


def run_benchmark(name: str, quick: bool, extra: tuple[str, ...] = ()) -> str | None:
    """Run one benchmark in a fresh process (``extra`` appended to its arguments); its section, or ``None``."""
    script, full_args, quick_args = BENCHMARKS[name]
    command = [sys.executable, str(HERE / script), *(quick_args if quick else full_args), *extra]
    print(f"benchmarks/run.py: {name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
    result = subprocess.run(command, cwd=HERE.parent, stdout=subprocess.PIPE, text=True)  # stderr shows progress
    section = result.stdout.strip()
    if result.returncode != 0 or not section.startswith("## "):
        print(f"benchmarks/run.py: {name} failed (exit {result.returncode}); nothing written for it", file=sys.stderr)
        return None
    if quick:
        title, rest = section.split("\n", 1)
        section = f"{title}\n\n{QUICK_NOTE}{rest}"
    return section


def append_section(results: Path, section: str) -> None:
    """Append ``section`` to ``results`` (started with a short preamble if it does not exist yet)."""
    text = "" if results.exists() else PREAMBLE
    with results.open("a", encoding="utf-8") as file:
        file.write(f"{text}\n{section}\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), metavar="NAME",
                        help=f"run only these ({', '.join(BENCHMARKS)})")
    parser.add_argument("--quick", action="store_true", help="tiny workloads: check the scripts run, measure nothing")
    parser.add_argument("--no-write", action="store_true", help="print the sections, do not append them")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the file the sections are appended to")
    parser.add_argument("--checkpoint", metavar="DIR", help="time sampling and the app on this trained run or checkpoint")
    args = parser.parse_args(argv)

    failed = []
    for name in args.only or BENCHMARKS:
        extra = ("--checkpoint", args.checkpoint) if args.checkpoint and name in CHECKPOINT_BENCHMARKS else ()
        section = run_benchmark(name, args.quick, extra)
        if section is None:
            failed.append(name)
            continue
        print(section + "\n", flush=True)
        if not args.no_write:
            append_section(args.results, section)
    if failed:
        print(f"benchmarks/run.py: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
