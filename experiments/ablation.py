"""The graph-layer ablation: does a skeleton-graph layer help GUNet, which one, and where?

    python -m experiments.ablation --size quick --out experiments/results/quick    # this 2-core CPU, < 1 h
    python experiments/ablation.py --size full --out experiments/results/full      # a GPU machine
    python -m experiments.ablation --size quick --layers graphconv sage            # more registered layers

Every variant trains with ``python -m posegraph.train`` for each seed at the same budget of optimiser steps,
then ``python -m posegraph.evaluate`` samples it on the same held-out synthetic captions with the same
sampling seeds. One retrieval evaluator (``python -m posegraph.evaluate train-evaluator``) serves every run.
Variants (GUNet keyword overrides, the rest of the preset unchanged):

    none      no graph blocks: the paper's UNet-T2H
    gcn-mid   GCN after the middle block: the paper's GUNet
    gcn-all   GCN at every level and the middle, one joint graph per pixel (``graph_node_features="pixel"``;
              whole-map joint nodes on the large maps would take the cpu preset from 3.1 M to 21 M parameters)
    gat, gatv2, cheb, and each ``--layers NAME``: that layer after the middle block

``--out`` receives ``results.md`` (a table of mean +- std over seeds beside the held-out real poses' own
figures), ``ablation.png`` (one bar plot per figure, seeds as dots), ``runs.csv`` / ``runs.json`` (every
run's figures), ``summary.csv`` (mean, std and count per variant and figure) and ``ablation.json`` (the
settings). Each run lives in ``runs/<variant>/seed_<seed>/``: ``train/`` (checkpoints; git-ignored),
``eval/`` (metrics.json, report.md) and ``record.json``, written last.

Resuming: run the same command again. A run with a ``record.json`` is skipped; a run whose training
stopped continues from its newest checkpoint (``--resume latest``, every ``checkpoint_every`` steps); a
trained run that was not evaluated is only evaluated. Nothing finished is lost on a crash.

Budget of ``quick`` on a quiet 2-core CPU, from the cpu preset's figures (~0.25 s per training step at
batch 64, ~650 sample-forwards/s; 20 guided sampling steps = 40 forwards per pose), counting gcn-all as
3 variants (its per-pixel graphs cost 2-3x per forward, a rough figure from a shared CPU): 8 units a seed.
    train  3 seeds x 8 units x 300 steps x 0.25 s                                          = 1,800 s
    eval   3 seeds x 8 units x (32 captions x 10 samples x 40 forwards / 650 = 20 s)       =   480 s
    rest   18 runs x ~25 s (loading, encoding 1,500 training pairs' captions, bootstraps)
           + ~30 s for the evaluator (3,000 pairs)                                         =   480 s
    total ~2,760 s = 46 min < 60 min.
``full`` (a GPU machine; its time is not measured yet): the cpu preset for 20,000 steps on 20,000 pairs,
250 captions x 10 samples.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

if not __package__:  # run as a script (python experiments/ablation.py): the repository root holds experiments/
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from experiments import paired  # noqa: E402
from posegraph import evaluate as evaluate_cli  # noqa: E402
from posegraph import train as train_cli  # noqa: E402
from posegraph.evaluation.run import synthetic_evaluation_set  # noqa: E402
from posegraph.nn import graph_layer_name  # noqa: E402
from posegraph.pipelines import DEFAULT_GUIDANCE_INTERVAL, DEFAULT_GUIDANCE_SCALE, DEFAULT_INFERENCE_STEPS  # noqa: E402

__all__ = ["Size", "SIZES", "Metric", "METRICS", "DEFAULT_VARIANTS", "Ablation", "resolve_variants", "summarize",
           "markdown_table", "plot_summary", "write_results", "main"]


@dataclass(frozen=True)
class Size:
    """The training budget and the evaluation every variant of one ablation gets.

    Attributes:
        preset: the training preset (``posegraph.training.PRESETS``), which is also the GUNet preset.
        max_steps, batch_size, synthetic_size: training steps, batch and synthetic pairs.
        checkpoint_every: how much training a crash can cost.
        num_captions, samples_per_caption, inference_steps, bootstrap: the evaluation (held-out synthetic
            captions, poses per caption, DPM-Solver++ steps with guidance 5, bootstrap resamples).
        evaluator_pairs, evaluator_epochs: the retrieval evaluator's training.
        run_minutes: minutes one run (training and evaluation) takes on a quiet 2-core CPU, for the plan
            printed at start until this directory's own finished runs give the rate (``None``: not measured).
        seeds: training seeds.
    """

    preset: str
    max_steps: int
    batch_size: int
    synthetic_size: int
    checkpoint_every: int
    num_captions: int
    samples_per_caption: int
    inference_steps: int
    bootstrap: int
    evaluator_pairs: int
    evaluator_epochs: int
    run_minutes: float | None = None
    seeds: tuple[int, ...] = (0, 1, 2)


SIZES = {
    # The tests' end-to-end size: seconds per run.
    "micro": Size(preset="tiny", max_steps=3, batch_size=4, synthetic_size=16, checkpoint_every=3, num_captions=2,
                  samples_per_caption=2, inference_steps=2, bootstrap=20, evaluator_pairs=64, evaluator_epochs=1,
                  run_minutes=0.1, seeds=(0,)),
    # Under an hour on a quiet 2-core CPU (see the budget in the module docstring).
    "quick": Size(preset="cpu", max_steps=300, batch_size=64, synthetic_size=1_500, checkpoint_every=100,
                  num_captions=32, samples_per_caption=10, inference_steps=20, bootstrap=1_000,
                  evaluator_pairs=3_000, evaluator_epochs=20, run_minutes=2.0),
    # Models that follow their prompts: every run is the demo's training (the cpu preset, 2,500 steps at batch
    # 64 on 10,000 pairs), evaluated with the pipeline's default sampler (see STANDARD_BUDGET).
    "standard": Size(preset="cpu", max_steps=2_500, batch_size=64, synthetic_size=10_000, checkpoint_every=250,
                     num_captions=250, samples_per_caption=10, inference_steps=DEFAULT_INFERENCE_STEPS,
                     bootstrap=1_000, evaluator_pairs=10_000, evaluator_epochs=20, run_minutes=12.0),
    # The less-data axis of the standard size: the same training on 1,000 pairs instead of 10,000.
    "standard-1k": Size(preset="cpu", max_steps=2_500, batch_size=64, synthetic_size=1_000, checkpoint_every=250,
                        num_captions=250, samples_per_caption=10, inference_steps=DEFAULT_INFERENCE_STEPS,
                        bootstrap=1_000, evaluator_pairs=10_000, evaluator_epochs=20, run_minutes=12.0),
    # A GPU machine: the cpu-preset model trained to convergence on 20,000 synthetic pairs.
    "full": Size(preset="cpu", max_steps=20_000, batch_size=64, synthetic_size=20_000, checkpoint_every=1_000,
                 num_captions=250, samples_per_caption=10, inference_steps=20, bootstrap=1_000,
                 evaluator_pairs=20_000, evaluator_epochs=40),
}

#: name -> (GUNet keyword overrides, what it is)
DEFAULT_VARIANTS: dict[str, tuple[dict, str]] = {
    "none": ({"graph_layer": "none"}, "no graph blocks (the paper's UNet-T2H)"),
    "gcn-mid": ({"graph_layer": "gcn", "graph_positions": "mid"}, "GCN after the middle block (the paper's GUNet)"),
    "gcn-all": ({"graph_layer": "gcn", "graph_positions": "all", "graph_node_features": "pixel"},
                "GCN at every level and the middle, per-pixel joint graphs"),
    "gat": ({"graph_layer": "gat", "graph_positions": "mid"}, "GAT after the middle block"),
    "gatv2": ({"graph_layer": "gatv2", "graph_positions": "mid"}, "GATv2 after the middle block"),
    "cheb": ({"graph_layer": "cheb", "graph_positions": "mid"}, "Chebyshev (K=2) after the middle block"),
}


@dataclass(frozen=True)
class Metric:
    """A figure of the table: where it is in ``metrics.json`` and where the real poses' own figure is."""

    name: str
    label: str
    path: tuple[str, ...]
    better: str  #: "lower", "higher" or "real" (closest to the real poses' figure)
    real_path: tuple[str, ...] | None = None


METRICS = (
    Metric("distance", "paper distance (MSE)", ("paper_protocol", "distance"), "lower",
           ("paper_protocol", "real_distance")),
    Metric("variance", "paper variance (Var)", ("paper_protocol", "variance"), "real",
           ("paper_protocol", "real_variance")),
    Metric("semantic", "semantic accuracy", ("semantic_accuracy", "overall"), "higher",
           ("semantic_accuracy_real", "overall")),
    Metric("fpd", "Frechet pose distance", ("frechet_pose_distance", "fpd"), "lower"),
    Metric("diversity", "diversity", ("diversity", "diversity"), "real", ("diversity", "real_diversity")),
    Metric("multimodality", "multimodality", ("diversity", "multimodality"), "real",
           ("diversity", "real_multimodality")),
    Metric("joint_angle", "joint-angle defect rate", ("structure_generated", "rates", "joint_angle"), "lower",
           ("structure_real", "rates", "joint_angle")),
    Metric("bone_length", "bone-length defect rate", ("structure_generated", "rates", "bone_length"), "lower",
           ("structure_real", "rates", "bone_length")),
    Metric("limb_asymmetry", "limb-asymmetry rate", ("structure_generated", "rates", "limb_asymmetry"), "lower",
           ("structure_real", "rates", "limb_asymmetry")),
    Metric("integrity", "limb-joint integrity", ("limb_integrity", "whole"), "higher",
           ("limb_integrity", "real_whole")),
    Metric("missing", "fraction of joints missing", ("structure_generated", "missing_fraction"), "real",
           ("structure_real", "missing_fraction")),
    Metric("top1", "retrieval top-1", ("retrieval", "top1"), "higher", ("retrieval", "real_top1")),
    Metric("top3", "retrieval top-3", ("retrieval", "top3"), "higher", ("retrieval", "real_top3")),
)
_ARROWS = {"lower": "↓", "higher": "↑", "real": "≈ real"}


def resolve_variants(names: list[str] | None = None, layers: list[str] | None = None) -> dict[str, tuple[dict, str]]:
    """The asked-for default variants (all by default) and one ``<layer>`` variant per extra registered layer.

    Raises:
        ValueError: an unknown variant or graph-layer name (the message lists the valid ones).
    """
    unknown = sorted(set(names or ()) - set(DEFAULT_VARIANTS))
    if unknown:
        raise ValueError(f"unknown variants {unknown}; choose from {', '.join(DEFAULT_VARIANTS)} "
                         "(other registered layers go to --layers)")
    variants = {name: DEFAULT_VARIANTS[name] for name in (names or DEFAULT_VARIANTS)}
    for layer in layers or ():
        name = graph_layer_name(layer)  # ValueError for a name the registry does not know
        if name not in variants and name != "none":
            variants[name] = ({"graph_layer": name, "graph_positions": "mid"}, f"{name} after the middle block")
    return variants


def _lookup(sections: dict, path: tuple[str, ...]) -> float | None:
    """The value of the figure at ``path`` in ``metrics.json`` (None where there is no such figure, or it is null)."""
    node = sections
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node.get("value") if isinstance(node, dict) else None


def _figures(metrics: dict) -> dict:
    """``{"figures": ..., "real": ...}`` of a run's ``metrics.json``: every figure of :data:`METRICS`."""
    sections = metrics["sections"]
    return {"figures": {m.name: _lookup(sections, m.path) for m in METRICS},
            "real": {m.name: _lookup(sections, m.real_path) for m in METRICS if m.real_path}}


def _number(value) -> str:
    """A CSV cell: empty for a missing figure."""
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".tmp_{path.name}")
    temporary.write_text(text)
    os.replace(temporary, path)


class Ablation:
    """Runs the variants x seeds of one ``--out`` directory, skipping finished runs."""

    def __init__(self, out: Path, size_name: str, variants: dict[str, tuple[dict, str]], seeds: tuple[int, ...]):
        self.out, self.size_name, self.size = out, size_name, SIZES[size_name]
        self.variants, self.seeds = variants, seeds

    def check_settings(self) -> None:
        """Record the size in ``ablation.json``; refuse an ``--out`` that holds runs of another size."""
        settings = {"size": self.size_name,
                    **{k: v for k, v in asdict(self.size).items() if k not in ("seeds", "run_minutes")}}
        path = self.out / "ablation.json"
        if path.is_file():
            stored = json.loads(path.read_text())
            if stored != settings:
                changed = sorted(k for k in settings if stored.get(k) != settings[k])
                raise ValueError(f"{path}: this directory holds runs of other settings (differing: {changed}); "
                                 "choose another --out, or the same --size as before")
        self.out.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, json.dumps(settings, indent=2) + "\n")

    def runs(self) -> list[tuple[str, int]]:
        """``(variant, seed)`` in the order they run: seed by seed, so that every finished seed compares all
        variants (a run that spans several sittings has paired results early)."""
        return [(variant, seed) for seed in self.seeds for variant in self.variants]

    def finished(self) -> list[dict]:
        """The records of the runs finished so far, variant by variant, their figures read again from each run's
        ``eval/metrics.json`` where it is there (so a figure added to :data:`METRICS` covers earlier runs)."""
        records = []
        for variant in self.variants:
            for seed in self.seeds:
                folder = self.folder(variant, seed)
                if (folder / "record.json").is_file():
                    record = json.loads((folder / "record.json").read_text())
                    if (folder / "eval" / "metrics.json").is_file():
                        record.update(_figures(json.loads((folder / "eval" / "metrics.json").read_text())))
                    records.append(record)
        return records

    def plan(self) -> str:
        """Runs done, runs left and the time left, at this directory's measured rate (else the size's figure)."""
        done = self.finished()
        left = len(self.runs()) - len(done)
        if done:
            minutes = np.mean([r["train_seconds"] + r["eval_seconds"] for r in done]) / 60
            rate = f"{minutes:.1f} min a run, measured over the {len(done)} done"
        elif self.size.run_minutes is not None:
            minutes, rate = self.size.run_minutes, f"{self.size.run_minutes:g} min a run, the size's figure"
        else:
            return f"[ablation] {len(done)} runs done, {left} to do (no measured rate for this size yet)"
        return (f"[ablation] {len(self.variants)} variants x {len(self.seeds)} seeds: {len(done)} runs done, {left} to "
                f"do, about {left * minutes / 60:.1f} h left at {rate}")

    def run_all(self) -> list[dict]:
        """Every variant x seed (finished runs read back); returns their records, variant by variant."""
        print(self.plan(), flush=True)
        evaluator = self.evaluator()
        for variant, seed in self.runs():
            self.run(variant, seed, evaluator)
        return self.finished()

    def folder(self, variant: str, seed: int) -> Path:
        return self.out / "runs" / variant / f"seed_{seed}"

    def evaluator(self) -> Path:
        """The shared retrieval evaluator, trained once."""
        directory = self.out / "evaluator"
        if not (directory / "config.json").is_file():
            print(f"[ablation] training the retrieval evaluator on {self.size.evaluator_pairs} pairs", flush=True)
            evaluate_cli.main(["train-evaluator", "--data", "synthetic", "--out", str(directory),
                               "--num-pairs", str(self.size.evaluator_pairs),
                               "--epochs", str(self.size.evaluator_epochs)])
        return directory

    def run(self, variant: str, seed: int, evaluator: Path) -> dict:
        """Train and evaluate one variant and seed (or read its record); returns its record."""
        folder = self.folder(variant, seed)
        record_file, trained_file = folder / "record.json", folder / "trained.json"
        if record_file.is_file():
            print(f"[ablation] {variant} seed {seed}: done before, skipped", flush=True)
            return json.loads(record_file.read_text())
        folder.mkdir(parents=True, exist_ok=True)
        model, _ = self.variants[variant]
        if not trained_file.is_file():
            print(f"[ablation] {variant} seed {seed}: training {self.size.max_steps} steps", flush=True)
            start = time.perf_counter()
            train_cli.main(self._train_arguments(folder / "train", model, seed))
            _write_atomically(trained_file, json.dumps({"seconds": time.perf_counter() - start}) + "\n")
        print(f"[ablation] {variant} seed {seed}: evaluating", flush=True)
        start = time.perf_counter()
        evaluate_cli.main(self._evaluate_arguments(folder, evaluator))
        eval_seconds = time.perf_counter() - start
        metrics = json.loads((folder / "eval" / "metrics.json").read_text())
        record = {
            "variant": variant, "seed": seed, "model": model,
            "num_parameters": metrics["meta"]["num_parameters"],
            "train_seconds": json.loads(trained_file.read_text())["seconds"], "eval_seconds": eval_seconds,
            **_figures(metrics),
        }
        _write_atomically(record_file, json.dumps(record, indent=2, allow_nan=False) + "\n")
        return record

    def _train_arguments(self, run_dir: Path, model: dict, seed: int) -> list[str]:
        s = self.size
        return ["--preset", s.preset, "--out", str(run_dir), "--resume", "latest", "--seed", str(seed),
                "--model", json.dumps(model), "--max-steps", str(s.max_steps), "--batch-size", str(s.batch_size),
                "--synthetic-size", str(s.synthetic_size), "--checkpoint-every", str(s.checkpoint_every),
                "--keep-last", "1", "--sample-every", str(s.max_steps)]

    def _evaluate_arguments(self, folder: Path, evaluator: Path) -> list[str]:
        s = self.size
        return ["--checkpoint", str(folder / "train"), "--data", "synthetic", "--out", str(folder / "eval"),
                "--num-captions", str(s.num_captions), "--samples-per-caption", str(s.samples_per_caption),
                "--steps", str(s.inference_steps), "--guidance-scale", str(DEFAULT_GUIDANCE_SCALE), "--seed", "0",
                "--evaluator", str(evaluator),
                "--bootstrap", str(s.bootstrap), "--no-plots"]


def summarize(records: list[dict]) -> dict[str, dict[str, dict]]:
    """``{variant: {figure: {"mean", "std", "n", "values"}}}`` over seeds (missing figures left out; std needs 2)."""
    summary: dict[str, dict[str, dict]] = {}
    for record in records:
        figures = {**record["figures"], "num_parameters": record["num_parameters"],
                   "train_seconds": record["train_seconds"]}
        for name, value in figures.items():
            entry = summary.setdefault(record["variant"], {}).setdefault(name, {"values": []})
            entry["values"].append(math.nan if value is None else float(value))
    for figures in summary.values():
        for entry in figures.values():
            values = np.array(entry["values"], dtype=float)
            values = values[np.isfinite(values)]
            entry.update(n=int(values.size), mean=float(values.mean()) if values.size else math.nan,
                         std=float(values.std(ddof=1)) if values.size > 1 else math.nan)
    return summary


def _cell(entry: dict, scale: float = 1.0) -> str:
    """``mean ± std`` (the mean alone for one seed, "–" for none)."""
    if entry["n"] == 0:
        return "–"
    mean = f"{entry['mean'] * scale:.3g}"
    return mean if math.isnan(entry["std"]) else f"{mean} ± {entry['std'] * scale:.2g}"


def markdown_table(summary: dict[str, dict[str, dict]], real: dict[str, float]) -> list[str]:
    """One row per figure, one column per variant (mean ± std over seeds) and the real poses' figure."""
    variants = list(summary)
    lines = ["| figure | " + " | ".join(variants) + " | real poses |", "|---|" + "---:|" * (len(variants) + 1)]
    for metric in METRICS:
        reference = real.get(metric.name)
        cells = [_cell(summary[v][metric.name]) for v in variants]
        real_cell = "–" if reference is None else f"{reference:.3g}"
        lines.append(f"| {metric.label} ({_ARROWS[metric.better]}) | " + " | ".join(cells) + f" | {real_cell} |")
    for name, label, scale in (("num_parameters", "parameters (millions)", 1e-6),
                               ("train_seconds", "training seconds per run", 1.0)):
        cells = [_cell(summary[v][name], scale) for v in variants]
        lines.append(f"| {label} | " + " | ".join(cells) + " | |")
    return lines


def plot_summary(summary: dict[str, dict[str, dict]], real: dict[str, float], path: Path) -> None:
    """A bar plot per figure: mean over seeds with a std error bar, each seed a dot, the real poses dashed."""
    from matplotlib.figure import Figure

    variants, columns = list(summary), 4
    rows = math.ceil(len(METRICS) / columns)
    fig = Figure(figsize=(3.2 * columns, 2.6 * rows), layout="constrained")
    for i, metric in enumerate(METRICS):
        ax = fig.add_subplot(rows, columns, i + 1)
        entries = [summary[v][metric.name] for v in variants]
        ax.bar(range(len(variants)), [e["mean"] for e in entries], color="tab:blue", alpha=0.7,
               yerr=[0 if math.isnan(e["std"]) else e["std"] for e in entries], capsize=3)
        for x, entry in enumerate(entries):
            ax.plot([x] * len(entry["values"]), entry["values"], "k.", markersize=4)
        reference = real.get(metric.name)
        if reference is not None:
            ax.axhline(reference, color="k", linestyle="--", linewidth=1)
        ax.set_xticks(range(len(variants)), variants, rotation=45, ha="right", fontsize=8)
        ax.set_title(f"{metric.label} ({_ARROWS[metric.better]})", fontsize=9)
    fig.suptitle("mean over seeds ± std (bars), each seed (dots), held-out real poses (dashed)", fontsize=9)
    fig.savefig(path, dpi=110)


def paired_comparison(ablation: Ablation, records: list[dict], real: dict) -> dict:
    """Every variant against ``none``, paired by seed and caption (:func:`experiments.paired.compare`)."""
    first = ablation.folder(records[0]["variant"], records[0]["seed"]) / "eval"
    size = json.loads((first / "metrics.json").read_text())["meta"]["sample_size"]
    held_out = synthetic_evaluation_set(ablation.size.num_captions, size, ablation.size.samples_per_caption)
    real_per_caption = paired.caption_figures(held_out.real_per_caption, held_out.actions, held_out.ground_truth,
                                              size)
    return paired.compare(records, ablation.folder, real_per_caption, real)


def write_results(out: Path, ablation: Ablation, records: list[dict]) -> None:
    """``results.md``, ``ablation.png``, ``paired.png``, ``runs.csv``, ``runs.json`` and ``summary.csv`` in ``out``."""
    summary, real = summarize(records), records[0]["real"]  # every run is evaluated on the same real poses
    comparison = paired_comparison(ablation, records, real)
    size = ablation.size
    _write_atomically(out / "runs.json", json.dumps(records, indent=2, allow_nan=False) + "\n")
    with open(out / "runs.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["variant", "seed", "num_parameters", "train_seconds", "eval_seconds",
                         *(m.name for m in METRICS)])
        for r in records:
            writer.writerow([r["variant"], r["seed"], r["num_parameters"], f"{r['train_seconds']:.1f}",
                             f"{r['eval_seconds']:.1f}"] + [_number(r["figures"][m.name]) for m in METRICS])
    with open(out / "summary.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["variant", "figure", "mean", "std", "n", "real"])
        for variant, figures in summary.items():
            for name, entry in figures.items():
                writer.writerow([variant, name, _number(entry["mean"]), _number(entry["std"]), entry["n"],
                                 _number(real.get(name))])
    plot_summary(summary, real, out / "ablation.png")
    against_none = ["No variant has a run paired with a finished `none` run of its seed yet."]
    if comparison:
        paired.plot_differences(comparison, out / "paired.png")
        against_none = [
            "Each variant minus `none`, paired by training seed and by caption (the same held-out captions and "
            "sampling seeds): per-caption figures with a 95 % two-way bootstrap interval over seeds and captions, "
            "whole-sample figures (FPD, diversity, multimodality, retrieval) with a Student-t interval over seeds. "
            "For figures best when closest to the real poses, the value is how much closer the variant is "
            "(negative: closer). **better** / **worse**: the interval lies on that side of zero.", "",
            *paired.markdown(comparison), "", "![paired differences](paired.png)"]
    seeds = sorted({r["seed"] for r in records})
    low, high = DEFAULT_GUIDANCE_INTERVAL
    lines = [
        f"# Graph-layer ablation ({ablation.size_name})", "",
        f"GUNet `{size.preset}` preset trained for {size.max_steps} steps at batch {size.batch_size} on "
        f"{size.synthetic_size} synthetic pairs, seeds {seeds}; evaluated on {size.num_captions} held-out captions "
        f"x {size.samples_per_caption} samples (DPM-Solver++, {size.inference_steps} steps, "
        f"guidance {DEFAULT_GUIDANCE_SCALE:g} at timesteps {low}-{high}). "
        "Cells: mean ± std over seeds; arrows say which way is better (≈ real: closest to the real poses).", "",
        *markdown_table(summary, real), "",
        "## Against no graph", "", *against_none, "",
        "## Variants", "",
        "| variant | GUNet overrides | what it is |", "|---|---|---|",
        *[f"| {name} | `{json.dumps(model)}` | {about} |" for name, (model, about) in ablation.variants.items()],
        "", "![bar plots](ablation.png)", "",
        f"Per-run figures: runs.csv / runs.json; per-variant statistics: summary.csv. Command: "
        f"`python -m experiments.ablation --size {ablation.size_name} --out {out}`.",
    ]
    _write_atomically(out / "results.md", "\n".join(lines) + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments.ablation", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--size", choices=list(SIZES), default="quick", help="training budget and evaluation size")
    parser.add_argument("--out", type=Path, help="results directory (default: experiments/results/<size>)")
    parser.add_argument("--variants", nargs="+", metavar="NAME",
                        help=f"a subset of the default variants ({', '.join(DEFAULT_VARIANTS)}; default: all)")
    parser.add_argument("--layers", nargs="+", default=[], metavar="NAME",
                        help="more registered graph layers to try after the middle block (e.g. graphconv sage)")
    parser.add_argument("--seeds", nargs="+", type=int, metavar="SEED", help="training seeds (default: 0 1 2)")
    parser.add_argument("--report", action="store_true",
                        help="train nothing: write the results of the runs finished so far (a partial ablation)")
    return parser


def main(argv: list[str] | None = None) -> Path:
    """Run (or resume) the ablation and write its results; returns the results directory."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        variants = resolve_variants(args.variants, args.layers)
    except ValueError as error:
        parser.error(str(error))
    out = args.out or Path("experiments/results") / args.size
    seeds = tuple(args.seeds) if args.seeds else SIZES[args.size].seeds
    ablation = Ablation(out, args.size, variants, seeds)
    try:
        ablation.check_settings()
    except ValueError as error:
        parser.error(str(error))
    if args.report:
        print(ablation.plan(), flush=True)
        records = ablation.finished()
        if not records:
            parser.error(f"--report: no finished runs in {out}; run the ablation first (without --report)")
    else:
        records = ablation.run_all()
    write_results(out, ablation, records)
    print(f"[ablation] {len(records)} runs; wrote results.md, ablation.png, runs.csv, runs.json, summary.csv to {out}/")
    return out


if __name__ == "__main__":
    main()
