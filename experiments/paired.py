"""Each ablation variant against no graph, paired: the same training seeds, captions and sampling seeds.

Every run of an ablation samples the same held-out captions with the same sampling seeds, so a variant's
run of seed ``s`` and the ``none`` run of seed ``s`` differ only by the variant. The difference of a figure
is read from those pairs:

* figures with a value per caption (:data:`CAPTION_FIGURES`, recomputed from each run's ``eval/poses.npz``):
  the mean over seeds and captions, with a 95 % percentile interval from a two-way bootstrap that redraws the
  seeds and the captions (the same draw for both runs of a pair);
* figures of the whole sample (:data:`SET_FIGURES`: FPD, diversity, multimodality, retrieval), one value per
  run: the mean of the per-seed differences with a Student-t 95 % interval over the seeds (with 3 seeds,
  2 degrees of freedom: wide).

Where the better way is "closest to the real poses", the statistic is how much closer the variant is:
``|variant - real| - |none - real|`` (negative: closer). A variant is *better* on a figure when the whole
interval lies on the better side of zero, *worse* when it lies on the other, and otherwise *not
distinguishable* from none.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from posegraph.data.checker import check_action
from posegraph.evaluation.integrity import full_body, limb_integrity
from posegraph.evaluation.paper import paper_per_caption
from posegraph.evaluation.structure import bone_length_spread, structure_metrics

__all__ = ["CAPTION_FIGURES", "SET_FIGURES", "Difference", "caption_figures", "paired_bootstrap",
           "paired_seeds", "compare", "verdicts", "sentence", "markdown", "plot_differences"]

BASELINE = "none"


@dataclass(frozen=True)
class Figure:
    name: str
    label: str
    better: str  #: "lower", "higher" or "real"


#: Figures with a value per caption: the mean of its poses' values (rates over the poses a check applies to).
CAPTION_FIGURES = (
    Figure("semantic", "semantic accuracy", "higher"),
    Figure("integrity", "limb-joint integrity", "higher"),
    Figure("distance", "paper distance (MSE)", "lower"),
    Figure("variance", "paper variance (Var)", "real"),
    Figure("bone_spread", "bone-length spread", "real"),
    Figure("joint_angle", "joint-angle defect rate", "lower"),
    Figure("bone_length", "bone-length defect rate", "lower"),
    Figure("limb_asymmetry", "limb-asymmetry rate", "lower"),
    Figure("missing", "fraction of joints missing", "real"),
)
#: Figures of a whole run's sample, read from its record (``ablation.METRICS``).
SET_FIGURES = (
    Figure("fpd", "Frechet pose distance", "lower"),
    Figure("diversity", "diversity", "real"),
    Figure("multimodality", "multimodality", "real"),
    Figure("top1", "retrieval top-1", "higher"),
    Figure("top3", "retrieval top-3", "higher"),
)


@dataclass(frozen=True)
class Difference:
    """A variant's paired difference from none on one figure (see the module docstring for ``value``)."""

    value: float
    low: float
    high: float
    n_seeds: int
    method: str

    def verdict(self, better: str) -> str:
        """``"better"``, ``"worse"`` or ``"not distinguishable"`` (``"–"`` without an interval)."""
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            return "–"
        sign = 1.0 if better == "higher" else -1.0  # lower and real: a negative statistic is better
        low, high = sorted((sign * self.low, sign * self.high))
        return "better" if low > 0 else "worse" if high < 0 else "not distinguishable"


def caption_figures(poses: np.ndarray, actions, ground_truth: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """``{figure: (C,)}`` of :data:`CAPTION_FIGURES` for ``(C, s, 17, 3)`` poses of ``C`` synthetic captions.

    ``actions`` are the captions' action ids and ``ground_truth`` ``(C, 17, 3)`` their poses, in a ``size`` frame.
    Limb integrity is NaN for the captions of arm gestures, rates where no pose of the caption is checked.
    """
    C, s = poses.shape[:2]
    flat = poses.reshape(C * s, 17, 3)
    per_pose = structure_metrics(flat, n_resamples=1).per_sample
    paper = paper_per_caption(poses, ground_truth, size)
    integrity = limb_integrity(flat).reshape(C, s).mean(1)
    figures = {
        "semantic": check_action(flat, np.repeat(actions, s)).reshape(C, s).mean(1),
        "integrity": np.where(full_body(actions), integrity, np.nan),
        "distance": paper["distance"],
        "variance": paper["variance"],
        "bone_spread": bone_length_spread(poses),
        "missing": (flat[:, :, 2] <= 0).reshape(C, s * 17).mean(1),
    }
    with np.errstate(invalid="ignore"):
        for name in ("joint_angle", "bone_length", "limb_asymmetry"):
            rates = per_pose[name].reshape(C, s)
            checked = np.isfinite(rates).sum(1)
            figures[name] = np.where(checked > 0, np.nansum(rates, 1) / np.maximum(checked, 1), np.nan)
    return {figure.name: figures[figure.name].astype(float) for figure in CAPTION_FIGURES}


def _statistic(variant: np.ndarray, base: np.ndarray, real, better: str) -> np.ndarray:
    """The paired statistic over the last axis of means (see the module docstring)."""
    if better == "real":
        return np.abs(variant - real) - np.abs(base - real)
    return variant - base


def paired_bootstrap(variant: np.ndarray, base: np.ndarray, real: np.ndarray | None, better: str, *,
                     n_resamples: int = 2000, seed: int = 0) -> Difference:
    """The difference of the mean of ``(S, C)`` per-seed, per-caption values, seeds and captions redrawn together.

    ``real`` is the real poses' ``(C,)`` per-caption figure where ``better`` is ``"real"``. Means skip NaNs
    (a caption a figure does not apply to).
    """
    S, C = variant.shape
    rng = np.random.default_rng(seed)
    seeds, captions = rng.integers(0, S, (n_resamples, S)), rng.integers(0, C, (n_resamples, C))
    pick = lambda values: values[seeds[:, :, None], captions[:, None, :]]  # noqa: E731  (n, S, C)
    with np.errstate(invalid="ignore"):
        real_mean = np.nanmean(real) if real is not None else None
        value = _statistic(np.nanmean(variant), np.nanmean(base), real_mean, better)
        real_draws = np.nanmean(real[captions], axis=1) if real is not None else None
        draws = _statistic(np.nanmean(pick(variant), axis=(1, 2)), np.nanmean(pick(base), axis=(1, 2)),
                           real_draws, better)
    draws = draws[np.isfinite(draws)]
    low, high = np.percentile(draws, [2.5, 97.5]) if draws.size else (math.nan, math.nan)
    return Difference(float(value), float(low), float(high), S, f"bootstrap over {S} seeds x {C} captions")


def paired_seeds(variant: np.ndarray, base: np.ndarray, real: float | None, better: str) -> Difference:
    """The mean of the per-seed statistics of ``(S,)`` run figures, with a Student-t interval over the seeds."""
    differences = _statistic(np.asarray(variant, float), np.asarray(base, float), real, better)
    differences = differences[np.isfinite(differences)]
    n = differences.size
    if n < 2:
        value = float(differences[0]) if n else math.nan
        return Difference(value, math.nan, math.nan, n, "one seed: no interval")
    half = stats.t.ppf(0.975, n - 1) * differences.std(ddof=1) / math.sqrt(n)
    mean = float(differences.mean())
    return Difference(mean, mean - half, mean + half, n, f"Student-t over {n} seeds")


def compare(records: list[dict], folder_of, real_per_caption: dict[str, np.ndarray], real: dict[str, float],
            n_resamples: int = 2000) -> dict[str, dict[str, Difference]]:
    """``{variant: {figure: Difference}}`` of every variant with runs paired to a ``none`` run of its seed.

    Args:
        records: the ablation's run records (``variant``, ``seed``, ``figures``).
        folder_of: ``(variant, seed) -> Path`` of the run, whose ``eval/poses.npz`` holds its poses.
        real_per_caption: :func:`caption_figures` of the held-out real poses.
        real: the real poses' figure of each set figure (from the records).
    """
    runs = {(r["variant"], r["seed"]): r for r in records}
    per_caption: dict[tuple[str, int], dict[str, np.ndarray]] = {}

    def figures_of(key):
        if key not in per_caption:
            folder = Path(folder_of(*key)) / "eval"
            data = np.load(folder / "poses.npz")
            size = json.loads((folder / "metrics.json").read_text())["meta"]["sample_size"]
            per_caption[key] = caption_figures(data["generated"][0], data["actions"], data["ground_truth"], size)
        return per_caption[key]

    result: dict[str, dict[str, Difference]] = {}
    for variant in dict.fromkeys(r["variant"] for r in records):
        seeds = sorted(seed for v, seed in runs if v == variant and (BASELINE, seed) in runs)
        if variant == BASELINE or not seeds:
            continue
        result[variant] = {}
        for figure in CAPTION_FIGURES:
            stack = lambda name: np.stack([figures_of((name, s))[figure.name] for s in seeds])  # noqa: E731
            reference = real_per_caption[figure.name] if figure.better == "real" else None
            result[variant][figure.name] = paired_bootstrap(stack(variant), stack(BASELINE), reference,
                                                            figure.better, n_resamples=n_resamples)
        for figure in SET_FIGURES:
            values = lambda name: np.array([runs[name, s]["figures"].get(figure.name) for s in seeds],  # noqa: E731
                                           dtype=float)
            reference = real.get(figure.name) if figure.better == "real" else None
            result[variant][figure.name] = paired_seeds(values(variant), values(BASELINE), reference, figure.better)
    return result


def verdicts(differences: dict[str, Difference]) -> dict[str, str]:
    """``{figure: verdict}`` of one variant's differences."""
    better = {f.name: f.better for f in CAPTION_FIGURES + SET_FIGURES}
    return {name: difference.verdict(better[name]) for name, difference in differences.items()}


def _others(n: int) -> str:
    return f"not distinguishable on {n} other figure{'s' if n != 1 else ''}"


def sentence(variant: str, differences: dict[str, Difference]) -> str:
    """One plain sentence: on which figures ``variant`` beats none, trails it, or cannot be told apart."""
    labels = {f.name: f.label for f in CAPTION_FIGURES + SET_FIGURES}
    by_verdict: dict[str, list[str]] = {}
    for name, verdict in verdicts(differences).items():
        by_verdict.setdefault(verdict, []).append(labels[name])
    seeds = max(d.n_seeds for d in differences.values())
    parts = [f"better than none on {', '.join(by_verdict['better'])}" if "better" in by_verdict else "",
             f"worse on {', '.join(by_verdict['worse'])}" if "worse" in by_verdict else "",
             _others(len(by_verdict["not distinguishable"])) if "not distinguishable" in by_verdict else ""]
    said = [part for part in parts if part]
    if not by_verdict.keys() - {"not distinguishable", "–"}:
        said = ["not distinguishable from none on any figure"]
    return f"**{variant}** ({seeds} paired seeds): {'; '.join(said)}."


def _cell(difference: Difference, verdict: str) -> str:
    mark = {"better": " **better**", "worse": " **worse**"}.get(verdict, "")
    if not math.isfinite(difference.low):
        return f"{difference.value:+.3g}"
    return f"{difference.value:+.3g} [{difference.low:+.3g}, {difference.high:+.3g}]{mark}"


def markdown(comparison: dict[str, dict[str, Difference]]) -> list[str]:
    """The differences as a table (one row per figure, one column per variant) and one sentence per variant."""
    variants = list(comparison)
    arrows = {"lower": "↓", "higher": "↑", "real": "closer to real: ↓"}
    lines = ["| figure (better) | " + " | ".join(variants) + " |", "|---|" + "---:|" * len(variants)]
    for figure in CAPTION_FIGURES + SET_FIGURES:
        cells = [_cell(comparison[v][figure.name], comparison[v][figure.name].verdict(figure.better))
                 for v in variants]
        lines.append(f"| {figure.label} ({arrows[figure.better]}) | " + " | ".join(cells) + " |")
    return lines + [""] + [f"- {sentence(variant, comparison[variant])}" for variant in variants]


def plot_differences(comparison: dict[str, dict[str, Difference]], path: Path) -> None:
    """One panel per figure: each variant's difference from none with its 95 % interval, coloured by verdict."""
    from matplotlib.figure import Figure as MplFigure

    figures, variants, columns = CAPTION_FIGURES + SET_FIGURES, list(comparison), 5
    rows = math.ceil(len(figures) / columns)
    colours = {"better": "tab:green", "worse": "tab:red"}
    fig = MplFigure(figsize=(3.0 * columns, 0.35 * len(variants) * rows + 1.2 * rows), layout="constrained")
    for i, figure in enumerate(figures):
        ax = fig.add_subplot(rows, columns, i + 1)
        for y, variant in enumerate(variants):
            d = comparison[variant][figure.name]
            colour = colours.get(d.verdict(figure.better), "tab:gray")
            if math.isfinite(d.low):
                ax.plot([d.low, d.high], [y, y], color=colour, linewidth=2)
            ax.plot([d.value], [y], "o", color=colour, markersize=4)
        ax.axvline(0, color="k", linewidth=0.8)
        ax.set_yticks(range(len(variants)), variants if i % columns == 0 else [""] * len(variants), fontsize=8)
        ax.invert_yaxis()
        ax.tick_params(axis="x", labelsize=7)
        better = {"lower": "better <-", "higher": "-> better", "real": "closer to real <-"}[figure.better]
        ax.set_title(f"{figure.label}\n({better})", fontsize=8)
    fig.suptitle("difference from none, paired by seed and caption, 95 % interval (green better, red worse)",
                 fontsize=9)
    fig.savefig(path, dpi=110)
