"""The notebooks under notebooks/: committed clean, and they run end to end with small settings.

Each notebook is executed with nbclient in a fresh temporary working directory with
``POSEGRAPH_NOTEBOOK_SMALL=1`` (its first code cell shrinks every step to seconds), then the files it
promises to write are checked.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["quickstart.ipynb", "graph_layers.ipynb", "ablation.ipynb"]
TRAINING = ["quickstart.ipynb", "graph_layers.ipynb"]  # these shrink their settings with POSEGRAPH_NOTEBOOK_SMALL=1
CELL_TIMEOUT_S = 120
PYTHON_CHECK = "import sys; print(sys.executable)"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_clean(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.kernelspec.name == "python3"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, f"{name} has no code cells"
    for i, cell in enumerate(code):
        assert cell.outputs == [] and cell.execution_count is None, f"{name}: code cell {i} has outputs; clear them"
    if name in TRAINING:
        assert "POSEGRAPH_NOTEBOOK_SMALL" in code[0].source, f"{name}: the first code cell must read the small switch"


def test_public_names_resolve_and_load_lazily():
    """The names the notebooks import from ``posegraph``: each resolves, and only on first use pulls diffusers in."""
    code = ("import sys, posegraph; assert 'diffusers' not in sys.modules, 'import posegraph loaded diffusers'; "
            "[getattr(posegraph, name) for name in posegraph.__all__]; assert 'diffusers' in sys.modules; "
            "print(sorted(posegraph.__all__))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    names = set(ast.literal_eval(result.stdout))
    assert {"Skeleton", "COCO_17", "OPENPOSE_18", "GUNet", "PoseGraphPipeline", "SkeletonGraphBlock",
            "make_graph_layer", "GRAPH_LAYERS", "TextEncoder"} <= names


def execute(name: str, workdir: Path, monkeypatch) -> nbformat.NotebookNode:
    """Run notebooks/<name> in ``workdir`` with small settings; returns the executed notebook.

    A last cell printing ``sys.executable`` is appended to check that the kernel is this interpreter (the
    venv's), not another python on the PATH.
    """
    from nbclient import NotebookClient

    monkeypatch.setenv("POSEGRAPH_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PYTHON_CHECK))
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()  # raises CellExecutionError with the cell's traceback on the first error
    printed = "".join(output.get("text", "") for output in nb.cells[-1].outputs)
    assert Path(printed.strip()) == Path(sys.executable), f"the kernel ran {printed.strip()!r}, not {sys.executable}"
    return nb


def images_shown(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in output.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for output in cell.outputs)


def stream_text(nb: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs)


@pytest.mark.slow
def test_quickstart_trains_samples_and_exports(tmp_path, monkeypatch):
    from posegraph.io import read_openpose_json

    nb = execute("quickstart.ipynb", tmp_path, monkeypatch)

    assert list((tmp_path / "runs/quickstart-small/checkpoints").glob("step_*/unet"))
    out = tmp_path / "outputs/quickstart"
    assert (out / "grid.png").stat().st_size > 0 and (out / "heatmaps.png").stat().st_size > 0
    poses = sorted(out.glob("pose_[0-9]*.png"))
    files = sorted(out.glob("pose_*_keypoints.json"))
    assert len(poses) == len(files) == 8  # 4 prompts x 2 poses each with small settings
    keypoints = read_openpose_json(files[0])
    assert keypoints.shape == (1, 17, 3)
    assert json.loads(files[0].read_text())["canvas_width"] == 512
    assert (out / "pose_control.png").stat().st_size > 0 and (out / "scene.png").stat().st_size > 0
    assert read_openpose_json(out / "scene_keypoints.json").shape == (2, 17, 3)  # two people, one file
    assert len(json.loads((out / "scene_coco.json").read_text())) == 2
    assert images_shown(nb) >= 5


@pytest.mark.slow
def test_graph_layers_trains_each_layer(tmp_path, monkeypatch):
    nb = execute("graph_layers.ipynb", tmp_path, monkeypatch)

    out = tmp_path / "outputs/graph_layers"
    assert (out / "validation_loss.png").stat().st_size > 0 and (out / "samples.png").stat().st_size > 0
    text = stream_text(nb)
    for layer in ("none", "gcn", "gat"):
        assert f"{layer:5} validation loss" in text
    assert images_shown(nb) >= 2


@pytest.mark.slow
def test_ablation_says_results_are_missing_and_plots_an_example(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEGRAPH_ABLATION_RESULTS", str(tmp_path / "no-results-here"))
    nb = execute("ablation.ipynb", tmp_path, monkeypatch)

    assert "No ablation results at" in stream_text(nb) and "INLINE EXAMPLE" in stream_text(nb)
    assert (tmp_path / "outputs/ablation/ablation.png").stat().st_size > 0
    assert images_shown(nb) == 1


def ablation_record(variant: str, seed: int, distance: float) -> dict:
    """One run as experiments/ablation.py writes it to runs.json (figures it could not compute are null)."""
    return {"variant": variant, "seed": seed, "model": {"graph_layer": variant}, "num_parameters": 1000,
            "train_seconds": 1.0, "eval_seconds": 1.0,
            "figures": {"distance": distance, "semantic": 0.5, "fpd": None},
            "real": {"distance": 100.0, "semantic": 1.0}}


@pytest.mark.slow
def test_ablation_reads_the_runners_runs_json(tmp_path, monkeypatch):
    results = tmp_path / "results"
    results.mkdir()
    records = [ablation_record(v, s, d) for v, d in (("none", 300.0), ("gcn-mid", 200.0)) for s in (0, 1)]
    (results / "runs.json").write_text(json.dumps(records))
    monkeypatch.setenv("POSEGRAPH_ABLATION_RESULTS", str(results))
    nb = execute("ablation.ipynb", tmp_path, monkeypatch)

    assert "4 runs from" in stream_text(nb) and "INLINE EXAMPLE" not in stream_text(nb)
    table = next(output["data"]["text/markdown"] for cell in nb.cells if cell.cell_type == "code"
                 for output in cell.outputs if "text/markdown" in output.get("data", {}))
    assert "| distance | 300 ± 0 | 200 ± 0 | 100 |" in table
    assert "fpd" not in table  # no run has it
    paired = [output["data"]["text/markdown"] for cell in nb.cells if cell.cell_type == "code"
              for output in cell.outputs if "text/markdown" in output.get("data", {})][1]
    assert "| distance | -100 [-100, -100] **better** |" in paired  # lower is better, both seeds agree
    assert (tmp_path / "outputs/ablation/ablation.png").stat().st_size > 0


COMMITTED_RESULTS = NOTEBOOKS.parent / "experiments/results/standard"


@pytest.mark.slow
@pytest.mark.skipif(not (COMMITTED_RESULTS / "runs.json").is_file(), reason="the standard ablation has not been committed")
def test_ablation_plots_the_committed_standard_results(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEGRAPH_ABLATION_RESULTS", str(COMMITTED_RESULTS))
    nb = execute("ablation.ipynb", tmp_path, monkeypatch)

    assert "INLINE EXAMPLE" not in stream_text(nb)
    assert (tmp_path / "outputs/ablation/ablation.png").stat().st_size > 0
