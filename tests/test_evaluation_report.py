"""The report writer: JSON with nulls for NaN, Markdown tables, PNG plots, clear errors."""
import json

import numpy as np
import pytest

from evaluation_poses import jittered
from posegraph.evaluation.intervals import Estimate
from posegraph.evaluation.report import write_report
from posegraph.evaluation.semantic import semantic_accuracy
from posegraph.evaluation.structure import structure_metrics


def sections():
    kp = jittered(60, 2.0)
    semantic = semantic_accuracy(
        kp, ["a", "b"] * 30, predicates=["a", "b"], check=lambda k, acts: np.asarray(k)[:, 0, 0] > 32
    )
    return {
        "paper": {"distance": Estimate(262.2, 250.0, 270.0, 100, "percentile bootstrap over 100 captions")},
        "fpd": Estimate(0.5, 0.4, 0.6, 60, "bias-shifted percentile bootstrap of sets of 60/60 poses"),
        "semantic": semantic,
        "structure": structure_metrics(kp),
        "structure_real": structure_metrics(jittered(60, 1.0, seed=1)),
    }


def test_writes_json_markdown_and_plots(tmp_path):
    written = write_report(tmp_path / "out", sections(), meta={"checkpoint": "runs/x", "seed": 0})
    assert set(written) == {
        "metrics.json", "report.md", "semantic_confusion.png", "semantic_per_action.png", "structure_rates.png"
    }
    for name in ("semantic_confusion.png", "semantic_per_action.png", "structure_rates.png"):
        assert written[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads(written["metrics.json"].read_text())
    assert metrics["meta"] == {"checkpoint": "runs/x", "seed": 0}
    assert metrics["sections"]["paper"]["distance"]["value"] == 262.2
    assert metrics["sections"]["structure"]["rates"]["knee_hyperextension"]["value"] is None  # NaN -> null
    assert len(metrics["sections"]["semantic"]["confusion"]) == 2
    report = written["report.md"].read_text()
    assert "| distance | 262.2 | [250, 270] | 100 |" in report
    assert "## structure_real" in report and "![structure rates](structure_rates.png)" in report


def test_plots_can_be_left_out(tmp_path):
    written = write_report(tmp_path, sections(), plots=False)
    assert set(written) == {"metrics.json", "report.md"}
    assert not list(tmp_path.glob("*.png"))


def test_unknown_sections_are_rejected(tmp_path):
    with pytest.raises(TypeError, match="section 'x' is a str"):
        write_report(tmp_path, {"x": "not a result"})
