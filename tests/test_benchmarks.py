"""The benchmark runner and its helpers: sections appended (never rewritten), failures isolated, workers' memory
figures, the sampling benchmark's table. Nothing here asserts a speed: the figures live in benchmarks/RESULTS.md."""
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    """The benchmark modules, imported as the scripts import each other (``benchmarks/`` on the path)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCHMARKS))
        yield {name: importlib.import_module(name) for name in ("common", "run", "sampling_bench")}


def read(path):
    return Path(path).read_text(encoding="utf-8")


# --- benchmarks/run.py ---------------------------------------------------------------------------------


def test_every_benchmark_script_is_run_by_the_runner(bench):
    scripts = {script for script, _, _ in bench["run"].BENCHMARKS.values()}
    assert scripts == {path.name for path in BENCHMARKS.glob("*_bench.py")}


def test_sections_are_appended_after_what_the_file_holds_and_a_failure_writes_nothing(bench, tmp_path, monkeypatch,
                                                                                     capsys):
    monkeypatch.setitem(bench["run"].BENCHMARKS, "broken", ("heatmaps_bench.py", [], ["--no-such-flag"]))
    results = tmp_path / "RESULTS.md"
    results.write_text("# results\n\nan old section that must stay\n", encoding="utf-8")
    assert bench["run"].main(["--only", "broken", "heatmaps", "--quick", "--results", str(results)]) == 1
    old, section = read(results).split("\n## Heatmap codec (posegraph.heatmaps)\n")
    assert old == "# results\n\nan old section that must stay\n" and "\n## " not in section
    assert bench["run"].QUICK_NOTE in section
    assert re.search(r"- date: \d{4}-\d\d-\d\d \d\d:\d\d UTC", section)
    assert re.search(r"- machine: .+, \d+ cores, \d+ torch threads, .*torch \d", section)
    assert "- command: `python benchmarks/heatmaps_bench.py --poses 1000 --repeats 2`" in section
    assert re.search(r"- git commit: [0-9a-f]{4,}", section)
    assert re.search(r"\| encode \| [\d.]+ \| [\d,]+ \|", section)
    out, err = capsys.readouterr()
    assert "## Heatmap codec" in out and "benchmarks/run.py: failed: broken" in err


def test_a_new_results_file_starts_with_the_preamble_and_no_write_writes_nothing(bench, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench["run"], "run_benchmark", lambda name, quick, extra: f"## {name}\n\nfigures")
    results = tmp_path / "RESULTS.md"
    assert bench["run"].main(["--only", "heatmaps", "text", "--no-write", "--results", str(results)]) == 0
    assert not results.exists() and capsys.readouterr().out == "## heatmaps\n\nfigures\n\n## text\n\nfigures\n\n"
    assert bench["run"].main(["--only", "heatmaps", "text", "--results", str(results)]) == 0
    assert read(results) == bench["run"].PREAMBLE + "\n## heatmaps\n\nfigures\n\n## text\n\nfigures\n"


def test_a_checkpoint_reaches_the_sampling_and_app_benchmarks_only(bench, tmp_path, monkeypatch):
    calls = {}

    def fake_run(name, quick, extra):
        calls[name] = list(extra)
        return f"## {name}\n"

    monkeypatch.setattr(bench["run"], "run_benchmark", fake_run)
    assert bench["run"].main(["--only", "sampling", "heatmaps", "app", "--checkpoint", "runs/demo", "--no-write"]) == 0
    assert calls == {"sampling": ["--checkpoint", "runs/demo"], "heatmaps": [], "app": ["--checkpoint", "runs/demo"]}


# --- benchmarks/common.py ------------------------------------------------------------------------------


def test_the_header_names_date_machine_exact_command_commit_and_workload(bench):
    lines = bench["common"].header("Title", "x_bench.py", ["--repeats", "3"], "what was timed")
    assert lines[0] == "## Title" and lines[-1] == ""
    assert "- command: `python benchmarks/x_bench.py --repeats 3`" in lines
    assert "- workload: what was timed" in lines
    assert any(line.startswith("- machine: ") and "torch threads" in line for line in lines)


def test_median_seconds_warms_up_then_takes_the_median(bench, monkeypatch):
    ticks = iter([0.0, 5.0, 10.0, 11.0, 20.0, 23.0])  # timed calls of 5, 1 and 3 seconds
    monkeypatch.setattr(bench["common"].time, "perf_counter", lambda: next(ticks))
    calls = []
    assert bench["common"].median_seconds(lambda: calls.append(1), repeats=3, warmup=2) == 3.0
    assert len(calls) == 5


def test_the_peak_memory_is_the_high_water_mark_of_the_process(bench):
    code = ("import common; x = b'1' * 300 * 2**20; del x; "
            "print(common.peak_rss_bytes() - common.current_rss_bytes(), common.peak_cuda_bytes())")
    result = subprocess.run([sys.executable, "-c", code], cwd=BENCHMARKS, capture_output=True, text=True, check=True)
    above, cuda = result.stdout.split()
    assert int(above) > 250 * 2**20  # the 300 MiB are gone, and still counted
    assert cuda == "None" or int(cuda) >= 0


def test_a_training_worker_reports_its_speed_and_memory_in_its_own_process(bench):
    options = dict(preset="tiny", batch_size=2, config=dict(gradient_checkpointing=True, optimizer="adafactor",
                                                            ema_decay=0.0), steps=1, repeats=1, save=False)
    figures = bench["common"].run_worker("train_bench.py", ["--worker", json.dumps(options)])
    assert figures["parameters"] > 0 and figures["sample_size"] == 16 and figures["step"] > 0
    assert figures["peak_rss"] >= figures["built_rss"] > 0 and figures["save"] is None
    with pytest.raises(RuntimeError, match=r"(?s)no_such_bench.py --x failed \(exit 2\).*can't open file"):
        bench["common"].run_worker("no_such_bench.py", ["--x"])


# --- benchmarks/sampling_bench.py ----------------------------------------------------------------------


def test_the_sampling_table_has_the_headline_first_then_each_configuration_once(bench, monkeypatch, capsys):
    compiled = []
    monkeypatch.setattr("posegraph.pipelines.PoseGraphPipeline.enable_compile", lambda pipe: compiled.append(pipe))
    section = bench["sampling_bench"].main(
        ["--preset", "tiny", "--batch-sizes", "1", "2", "--steps", "1", "--schedulers", "ddim", "unipc",
         "--headline-batch", "2", "--headline-steps", "1", "--headline-scheduler", "unipc", "--repeats", "1",
         "--fast-paths"])
    table, fast = section.split("Fast paths at the headline configuration")
    rows = [line.split(" | ")[:3] for line in table.splitlines() if re.match(r"\| \**\d", line)]
    assert rows == [["| **2**", "**1**", "**unipc**"], ["| 1", "1", "unipc"], ["| 2", "1", "ddim"]]
    headline = re.search(r"\*\*Headline: ([\d.,]+) poses/s\*\* \(batch 2, 1 unipc steps, guidance on", section)
    bold = [line for line in table.splitlines() if line.startswith("| **")]
    assert headline and len(bold) == 1 and bold[0].endswith(f"**{headline.group(1)}** |")
    variants = [line.split(" | ")[0] for line in fast.splitlines() if line.startswith("| ") and "---" not in line]
    assert variants == ["| variant", "| plain", "| autocast bf16", "| channels_last", "| torch.compile",
                        "| all three (bf16)"]
    assert len(compiled) == 2  # the compiled variants; the sweeps ran plain
    assert section in capsys.readouterr().out


# --- benchmarks/quality_bench.py -----------------------------------------------------------------------


def test_the_quality_benchmark_scores_the_free_form_test_and_dev_sets_alike(bench, monkeypatch):
    """Both free-form sets go through one code path and reach the results and the table, the dev set beside."""
    import torch

    from posegraph.evaluation import load_freeform_prompts

    quality = importlib.import_module("quality_bench")
    asked = []

    class Poses:  # a pipeline stand-in: records the prompts, draws no pose (every check fails)
        unet = type("U", (), {"config": type("C", (), {"sample_size": 16})()})()

        def set_progress_bar_config(self, **kwargs):
            pass

        def __call__(self, prompts, **kwargs):
            asked.append(list(prompts))
            return type("Out", (), {"keypoints": torch.zeros(len(prompts), 17, 3)})()

    monkeypatch.setattr("posegraph.pipelines.PoseGraphPipeline.from_pretrained", lambda path: Poses())
    point = quality.evaluate_checkpoint(Path("unused"), per_action=1, side_samples=2)
    for key, split in quality.FREEFORM_SETS.items():
        assert list(load_freeform_prompts(split=split)[0]) in asked
        assert point[f"{key}_accuracy"] == 0.0 and point[f"{key}_integrity"] == 0.0
    assert {"freeform_accuracy", "dev_accuracy", "dev_integrity"} <= set(point)

    point.update(step=500, seconds=60.0, freeform_accuracy=0.25, dev_accuracy=0.5, dev_integrity=0.75)
    old = {k: v for k, v in point.items() if not k.startswith("dev_")}  # a point from before the dev set
    lines = quality.table("cpu", [point, old])
    head, rule, new_row, old_row = lines[2:6]
    assert "| free-form acc. | dev free-form acc. | integrity template / free-form / dev |" in head
    assert head.count("|") == rule.count("|") == new_row.count("|") == old_row.count("|")
    assert "| 25.0 % | 50.0 % | 0.0 / 0.0 / 75.0 % |" in new_row
    assert "| 25.0 % | – | 0.0 / 0.0 / – % |" in old_row


# --- benchmarks/distill_bench.py -----------------------------------------------------------------------


def test_the_distillation_benchmark_measures_every_row_holds_students_to_the_goals_and_draws_the_plot(bench, tmp_path):
    distill = importlib.import_module("distill_bench")
    plot = tmp_path / "plot.png"
    section = distill.main(["--tiny", str(tmp_path / "runs"), "--teacher-steps", "2", "--student-steps", "1", "2",
                            "--per-action", "1", "--side-samples", "2", "--modes", "2", "--batch", "4", "--repeats",
                            "1", "--plot", str(plot)])
    rows = [line.split(" | ")[:4] for line in section.splitlines() if line.startswith(("| teacher", "| student"))]
    # the teacher's 2 steps (timesteps 999, 499): guided at the first alone, inside the guidance interval
    assert rows == [["| teacher", "DPM-Solver++, guidance 5", "2", "3"], ["| student", "LCM", "1", "1"],
                    ["| student", "LCM", "2", "2"], ["| student", "LCM, bf16 autocast", "1", "1"],
                    ["| student", "LCM, bf16 autocast", "2", "2"]]
    verdicts = re.findall(r"^- student, (\d) step\(s\)(, bf16)?: [\d,.]+ poses/s .*: goal (?:not )?met$", section,
                          flags=re.MULTILINE)
    assert verdicts == [("1", ""), ("2", ""), ("1", ", bf16"), ("2", ", bf16")]
    assert "Against the teacher at 2 guided steps" in section
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
