"""The evaluation report: ``metrics.json``, ``report.md`` (tables) and PNG plots.

:func:`write_report` takes named sections, each one of

* an :class:`~posegraph.evaluation.intervals.Estimate` or a mapping of names to them (one table row each),
* a :class:`~posegraph.evaluation.semantic.SemanticResult` (overall + per-action table; confusion-matrix
  and per-action accuracy plots),
* a :class:`~posegraph.evaluation.structure.StructureResult` (rates table; every structure section
  goes into one grouped bar plot, so generated and real poses sit side by side),

plus free-form ``meta`` (checkpoint, data, seeds...). matplotlib is imported only when plotting, and
draws on its Agg canvas without touching pyplot's global backend.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from posegraph.evaluation.intervals import Estimate
from posegraph.evaluation.semantic import SemanticResult
from posegraph.evaluation.structure import StructureResult

__all__ = ["write_report", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Results -> plain JSON values (NaN becomes null)."""
    if hasattr(value, "to_dict"):
        return to_jsonable(value.to_dict())
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


def _fmt(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:.4g}"


def _table(rows: Mapping[str, Estimate], label: str = "metric") -> list[str]:
    lines = [f"| {label} | value | 95% interval | n |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {_fmt(e.value)} | [{_fmt(e.low)}, {_fmt(e.high)}] | {e.n} |" for name, e in rows.items()]
    methods = sorted({e.method.split(" over ")[0].split(" of ")[0] for e in rows.values()})
    return lines + ["", f"Intervals: {'; '.join(methods)} (see metrics.json for each figure's resampling)."]


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _plot_confusion(result: SemanticResult, path: Path) -> None:
    fig = _figure(1.2 + 0.3 * len(result.predicates), 1.2 + 0.3 * len(result.actions))
    ax = fig.add_subplot()
    image = ax.imshow(result.confusion, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(result.predicates)), result.predicates, rotation=90, fontsize=7)
    ax.set_yticks(range(len(result.actions)), result.actions, fontsize=7)
    ax.set_xlabel("predicate satisfied")
    ax.set_ylabel("prompted action")
    fig.colorbar(image, ax=ax, label="pass rate", shrink=0.8)
    fig.savefig(path, dpi=120)


def _errorbars(estimates: list[Estimate]) -> np.ndarray:
    values = np.array([e.value for e in estimates])
    bounds = np.array([[e.low, e.high] for e in estimates]).T
    return np.nan_to_num(np.abs(bounds - values), nan=0.0)


def _plot_per_action(result: SemanticResult, path: Path) -> None:
    names, estimates = list(result.per_action), list(result.per_action.values())
    fig = _figure(6, 1 + 0.25 * len(names))
    ax = fig.add_subplot()
    ax.barh(range(len(names)), [e.value for e in estimates], xerr=_errorbars(estimates), color="tab:blue", capsize=2)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("checker pass rate (95% interval)")
    ax.axvline(result.overall.value, color="k", linestyle="--", linewidth=1)
    ax.set_title(f"overall {result.overall.value:.3f} (dashed)", fontsize=9)
    fig.savefig(path, dpi=120)


def _plot_structure(results: Mapping[str, StructureResult], path: Path) -> None:
    names = list(next(iter(results.values())).rates)
    fig = _figure(6, 1 + 0.35 * len(names) * max(1, len(results) / 2))
    ax = fig.add_subplot()
    height = 0.8 / len(results)
    for i, (section, result) in enumerate(results.items()):
        estimates = [result.rates[n] for n in names]
        positions = np.arange(len(names)) + (i - (len(results) - 1) / 2) * height
        ax.barh(positions, [e.value for e in estimates], height, xerr=_errorbars(estimates), capsize=2, label=section)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("rate per pose (95% interval)")
    ax.legend(loc="best")
    fig.savefig(path, dpi=120)


def write_report(
    out_dir: str | Path,
    sections: Mapping[str, Any],
    *,
    title: str = "posegraph evaluation",
    meta: Mapping[str, Any] | None = None,
    plots: bool = True,
) -> dict[str, Path]:
    """Write ``metrics.json``, ``report.md`` and (if ``plots``) PNGs into ``out_dir``.

    Args:
        out_dir: created if needed.
        sections: section name -> result (see the module doc); the Markdown keeps this order.
        title: the report's heading.
        meta: run facts printed at the top and stored in the JSON.
        plots: draw the PNGs.

    Returns:
        name -> path of every file written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {"metrics.json": out / "metrics.json", "report.md": out / "report.md"}
    lines = [f"# {title}", ""]
    lines += [f"- **{k}**: {to_jsonable(v)}" for k, v in (meta or {}).items()]
    structure = {}
    for name, result in sections.items():
        lines += ["", f"## {name}", ""]
        if isinstance(result, Estimate):
            lines += _table({name: result})
        elif isinstance(result, SemanticResult):
            o = result.overall
            lines += [f"Overall pass rate: **{_fmt(o.value)}** [{_fmt(o.low)}, {_fmt(o.high)}] over {o.n} poses.", ""]
            lines += _table(result.per_action, "prompted action")
            if plots:
                for suffix, plot in (("confusion", _plot_confusion), ("per_action", _plot_per_action)):
                    path = written[f"{name}_{suffix}.png"] = out / f"{name}_{suffix}.png"
                    plot(result, path)
                    lines += ["", f"![{name} {suffix}]({path.name})"]
        elif isinstance(result, StructureResult):
            structure[name] = result
            a, m = result.mean_asymmetry, result.missing_fraction
            lines += _table(result.rates, "rate per pose")
            lines += [
                "",
                f"Mean limb asymmetry: {_fmt(a.value)} [{_fmt(a.low)}, {_fmt(a.high)}]; "
                f"mean fraction of joints missing: {_fmt(m.value)} [{_fmt(m.low)}, {_fmt(m.high)}].",
            ]
        elif isinstance(result, Mapping) and all(isinstance(v, Estimate) for v in result.values()):
            lines += _table(result)
        else:
            raise TypeError(
                f"write_report: section {name!r} is a {type(result).__name__}; expected an Estimate, a mapping of "
                "Estimates, a SemanticResult or a StructureResult"
            )
    if plots and structure:
        path = written["structure_rates.png"] = out / "structure_rates.png"
        _plot_structure(structure, path)
        lines += ["", "## structure rates", "", f"![structure rates]({path.name})"]
    payload = {"title": title, "meta": to_jsonable(meta or {}), "sections": to_jsonable(dict(sections))}
    written["metrics.json"].write_text(json.dumps(payload, indent=2, allow_nan=False))
    written["report.md"].write_text("\n".join(lines) + "\n")
    return written
