"""experiments/ablation.py: variants, the table, settings, git hygiene, and a micro ablation that runs end to end
and resumes without redoing finished work."""
import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import posegraph.evaluate
import posegraph.train

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # experiments/ is run from the repository root, not installed
from experiments import ablation  # noqa: E402

MICRO = ["--size", "micro", "--variants", "none", "gcn-mid"]


# --- variants, table, settings -------------------------------------------------------------------------


def test_the_default_variants_are_the_papers_two_and_four_graph_alternatives():
    variants = ablation.resolve_variants()
    assert list(variants) == ["none", "gcn-mid", "gcn-all", "gat", "gatv2", "cheb"]
    assert variants["none"][0] == {"graph_layer": "none"}
    assert variants["gcn-mid"][0] == {"graph_layer": "gcn", "graph_positions": "mid"}
    assert variants["gcn-all"][0]["graph_positions"] == "all"


def test_more_registered_layers_join_after_the_middle_block_once():
    variants = ablation.resolve_variants(["none"], ["sage", "GATConv", "graph_conv", "sage"])
    assert list(variants) == ["none", "sage", "gat", "graphconv"]
    assert variants["sage"][0] == {"graph_layer": "sage", "graph_positions": "mid"}
    with pytest.raises(ValueError, match="valid names: none, gcn"):
        ablation.resolve_variants(None, ["gin"])
    with pytest.raises(ValueError, match="choose from none, gcn-mid"):
        ablation.resolve_variants(["gcn"])


def record(variant, seed, **figures):
    values = {m.name: figures.get(m.name, 0.5) for m in ablation.METRICS}
    return {"variant": variant, "seed": seed, "model": {}, "num_parameters": 3_100_000, "train_seconds": 100.0,
            "eval_seconds": 20.0, "figures": values, "real": {"semantic": 0.97, "diversity": 0.7}}


def test_the_table_gives_mean_and_std_over_seeds_beside_the_real_poses():
    records = [record("none", 0, distance=300.0, top1=None), record("none", 1, distance=310.0, top1=0.25),
               record("none", 2, distance=320.0, top1=0.75), record("gcn-mid", 0, distance=250.0)]
    summary = ablation.summarize(records)
    assert summary["none"]["distance"]["mean"] == 310.0 and summary["none"]["distance"]["std"] == 10.0
    assert summary["none"]["top1"]["n"] == 2 and summary["none"]["top1"]["mean"] == 0.5  # the missing seed is left out
    assert summary["gcn-mid"]["distance"]["n"] == 1 and math.isnan(summary["gcn-mid"]["distance"]["std"])

    lines = ablation.markdown_table(summary, records[0]["real"])
    assert lines[0] == "| figure | none | gcn-mid | real poses |"
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines[2:]}
    assert rows["paper distance (MSE) (↓)"] == "| paper distance (MSE) (↓) | 310 ± 10 | 250 | – |"
    assert rows["semantic accuracy (↑)"].endswith("| 0.97 |")
    assert rows["retrieval top-1 (↑)"].startswith("| retrieval top-1 (↑) | 0.5 ± 0.35 | 0.5 |")
    assert rows["parameters (millions)"] == "| parameters (millions) | 3.1 ± 0 | 3.1 | |"


def test_an_out_directory_of_another_size_is_refused(tmp_path, capsys):
    (tmp_path / "ablation.json").write_text(json.dumps({"size": "micro", **ablation.SIZES["micro"].__dict__}))
    with pytest.raises(SystemExit) as exit_info:
        ablation.main(["--size", "quick", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert str(tmp_path / "ablation.json") in message and "choose another --out" in message


def test_an_unknown_layer_is_refused_before_any_work(tmp_path, capsys):
    with pytest.raises(SystemExit):
        ablation.main(["--size", "micro", "--out", str(tmp_path / "out"), "--layers", "gin"])
    assert "unknown graph layer 'gin'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_quick_fits_the_hour_it_promises():
    """The docstring's arithmetic with its quiet-machine figures: 0.25 s/step, 650 forwards/s, gcn-all at 3x,
    ~25 s of loading per run and ~30 s for the evaluator."""
    quick = ablation.SIZES["quick"]
    units = len(ablation.DEFAULT_VARIANTS) - 1 + 3
    per_unit = quick.max_steps * 0.25 + quick.num_captions * quick.samples_per_caption * quick.inference_steps * 2 / 650
    runs = len(ablation.DEFAULT_VARIANTS) * len(quick.seeds)
    assert len(quick.seeds) * units * per_unit + runs * 25 + 30 < 0.8 * 3600


def test_weights_stay_out_of_git_and_results_go_in():
    def ignored(path):
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO).returncode == 0

    assert ignored("experiments/results/quick/runs/gcn-mid/seed_0/train/checkpoints/step_000400/train_config.json")
    assert ignored("experiments/results/quick/evaluator/config.json")
    assert ignored("experiments/results/standard/runs/gcn-mid/seed_0/eval/metrics.json")  # a reader needs the tables
    for kept in ("results.md", "ablation.png", "paired.png", "runs.csv", "runs.json", "summary.csv"):
        assert not ignored(f"experiments/results/standard/{kept}"), kept


# --- a micro ablation end to end -----------------------------------------------------------------------


class Calls:
    """Counts the train and evaluate entry points the runner calls (and still runs them)."""

    def __init__(self, monkeypatch):
        self.train, self.evaluate = [], []
        for module, calls in ((posegraph.train, self.train), (posegraph.evaluate, self.evaluate)):
            monkeypatch.setattr(module, "main", self._counting(module.main, calls))

    @staticmethod
    def _counting(function, calls):
        def wrapper(argv):
            calls.append(argv)
            return function(argv)
        return wrapper


@pytest.fixture(scope="module")
def micro(tmp_path_factory):
    """2 variants x 1 seed x 3 tiny training steps, 2 captions x 2 samples: the output folder and the calls."""
    out = tmp_path_factory.mktemp("ablation") / "micro"
    with pytest.MonkeyPatch.context() as monkeypatch:
        calls = Calls(monkeypatch)
        assert ablation.main([*MICRO, "--out", str(out)]) == out
    return out, calls


@pytest.mark.slow
def test_a_micro_ablation_trains_evaluates_and_writes_the_table_plots_and_figures(micro):
    out, calls = micro
    assert len(calls.train) == 2 and calls.evaluate[0][0] == "train-evaluator" and len(calls.evaluate) == 3
    assert json.loads(calls.train[1][calls.train[1].index("--model") + 1]) == {"graph_layer": "gcn",
                                                                                "graph_positions": "mid"}
    results = (out / "results.md").read_text()
    assert "| figure | none | gcn-mid | real poses |" in results and "![bar plots](ablation.png)" in results
    assert (out / "ablation.png").stat().st_size > 10_000
    against_none = results.split("## Against no graph")[1]
    assert "| figure (better) | gcn-mid |" in against_none and "- **gcn-mid** (1 paired seeds)" in against_none
    assert "![paired differences](paired.png)" in against_none and (out / "paired.png").stat().st_size > 10_000

    with open(out / "runs.csv") as file:
        rows = list(csv.DictReader(file))
    assert [(r["variant"], r["seed"]) for r in rows] == [("none", "0"), ("gcn-mid", "0")]
    assert all(float(r["distance"]) > 0 and 0 <= float(r["semantic"]) <= 1 for r in rows)
    runs = json.loads((out / "runs.json").read_text())
    assert runs[0]["num_parameters"] < runs[1]["num_parameters"]  # the graph block adds weights
    assert set(runs[0]["figures"]) == {m.name for m in ablation.METRICS}
    with open(out / "summary.csv") as file:
        summary = list(csv.DictReader(file))
    assert {(r["variant"], r["figure"]) for r in summary} >= {("none", "fpd"), ("gcn-mid", "top1")}
    assert json.loads((out / "ablation.json").read_text())["size"] == "micro"
    metrics = json.loads((out / "runs/gcn-mid/seed_0/eval/metrics.json").read_text())
    assert metrics["meta"]["graph_layer"] == "gcn" and metrics["meta"]["captions"] == 2


@pytest.mark.slow
def test_a_rerun_skips_every_finished_run(micro, monkeypatch):
    out, _ = micro
    before = (out / "runs.json").read_text()
    calls = Calls(monkeypatch)
    ablation.main([*MICRO, "--out", str(out)])
    assert calls.train == [] and calls.evaluate == []
    assert (out / "runs.json").read_text() == before


@pytest.mark.slow
def test_a_run_cut_short_redoes_only_what_it_lacks(micro, monkeypatch):
    out, _ = micro
    before = {r["variant"]: r["figures"] for r in json.loads((out / "runs.json").read_text())}
    # gcn-mid stopped after training; none stopped after its last checkpoint, before it was marked trained.
    (out / "runs/gcn-mid/seed_0/record.json").unlink()
    (out / "runs/none/seed_0/record.json").unlink()
    (out / "runs/none/seed_0/trained.json").unlink()
    weights = next((out / "runs/none/seed_0/train/checkpoints").glob("step_*/unet/*.safetensors"))
    written = weights.stat().st_mtime_ns

    calls = Calls(monkeypatch)
    ablation.main([*MICRO, "--out", str(out)])
    assert len(calls.train) == 1 and "--resume" in calls.train[0] and "latest" in calls.train[0]
    assert len(calls.evaluate) == 2  # no new evaluator
    assert weights.stat().st_mtime_ns == written  # resumed at its final step: nothing retrained
    after = {r["variant"]: r["figures"] for r in json.loads((out / "runs.json").read_text())}
    assert after == before  # evaluation is deterministic


@pytest.mark.slow
@pytest.mark.parametrize("command", [["-m", "experiments.ablation"], ["experiments/ablation.py"]])
def test_both_entry_points_start(command):
    result = subprocess.run([sys.executable, *command, "--help"], cwd=REPO, capture_output=True, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--size {micro,quick,standard,standard-1k,full}" in result.stdout and "Budget of ``quick``" in result.stdout
