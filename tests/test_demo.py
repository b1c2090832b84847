"""The demo (README command 1) end to end at a tiny size, and its held-out prompts."""
import json

import pytest

from posegraph import demo
from posegraph.data.synthetic import ACTIONS


def test_held_out_prompts_cover_every_action_and_are_fixed():
    prompts, actions = demo.held_out_prompts(3)
    assert actions == [a for a in ACTIONS for _ in range(3)]
    assert prompts == demo.held_out_prompts(3)[0]
    assert all("left" in p for p, a in zip(prompts, actions) if a.endswith("_left"))
    assert all("right" in p for p, a in zip(prompts, actions) if a.endswith("_right"))


@pytest.mark.slow
def test_demo_trains_samples_and_reports(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["--preset", "tiny", "--out", str(out), "--max-steps", "4", "--eval-per-action", "1",
            "--samples-per-prompt", "1", "--steps", "2"]
    accuracy = demo.main(args)
    assert 0.0 <= accuracy <= 1.0
    assert (out / "poses" / "grid.png").is_file()
    assert len(json.loads((out / "poses" / "poses.json").read_text())) == len(demo.DEMO_ACTIONS)
    metrics = json.loads((out / "accuracy" / "metrics.json").read_text())
    assert set(metrics["sections"]["semantic"]["per_action"]) == set(ACTIONS)
    assert "report.md" in capsys.readouterr().out
