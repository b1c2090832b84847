"""What every benchmark script shares: the section header (date, machine, command, commit), medians, peak memory.

Each ``benchmarks/*_bench.py`` has a ``main(argv=None) -> str`` that prints its Markdown section and
returns it; ``benchmarks/run.py`` runs them one after another and appends the sections to RESULTS.md.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the scripts import posegraph from this checkout, installed or not

__all__ = ["ROOT", "GB", "machine", "git_commit", "header", "median_seconds", "peak_rss_bytes", "current_rss_bytes",
           "peak_cuda_bytes", "run_worker"]

GB = 1024**3


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> str:
    """CPU model, the cores this process may use, torch threads, OS, Python and torch versions, and the GPU if any."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpu = f", {torch.cuda.get_device_name()} (CUDA {torch.version.cuda})" if torch.cuda.is_available() else ""
    return (f"{_cpu_model()}, {cores} cores, {torch.get_num_threads()} torch threads{gpu}, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}, torch {torch.__version__}")


def git_commit() -> str:
    """The short commit of the checkout, marked when tracked files have uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def header(title: str, script: str, argv: list[str] | None, workload: str) -> list[str]:
    """The opening lines of a benchmark's Markdown section.

    Args:
        title: the section title (``## title``).
        script: the script's file name, e.g. ``"heatmaps_bench.py"``.
        argv: the arguments it was given (``None``: ``sys.argv[1:]``), quoted into the exact command.
        workload: one line saying what was measured and how often.
    """
    args = sys.argv[1:] if argv is None else argv
    command = " ".join(["python", f"benchmarks/{script}", *args])
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return [f"## {title}", "", f"- date: {date}", f"- machine: {machine()}", f"- command: `{command}`",
            f"- git commit: {git_commit()}", f"- workload: {workload}", ""]


def seconds(fn: Callable[[], object]) -> float:
    """Wall-clock seconds of one call of ``fn``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_bytes() -> int:
    """This process's resident-set high-water mark: Linux's VmHWM, elsewhere ``ru_maxrss`` (KiB on Linux, bytes
    on macOS; Linux updates it lazily, so it can lag behind the resident set a moment ago)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def current_rss_bytes() -> int:
    """This process's resident memory now (Linux's /proc/self/statm)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()


def peak_cuda_bytes() -> int | None:
    """``torch.cuda.max_memory_allocated()``, or ``None`` without CUDA."""
    return torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None


def run_worker(script: str, args: list[str]) -> dict:
    """Run ``benchmarks/<script> ARGS`` in a fresh Python process and return the JSON object it prints last.

    A fresh process per configuration isolates peak-memory figures (the high-water mark never goes down).

    Raises:
        RuntimeError: the worker failed; the message holds the end of its output.
    """
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], cwd=ROOT,
                            capture_output=True, text=True)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"benchmarks/{script} {' '.join(args)} failed (exit {result.returncode}):\n"
                           f"{(result.stdout + result.stderr)[-3000:]}")
    return json.loads(lines[-1])
