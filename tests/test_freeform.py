"""The free-form prompt set: well-formed, labelled with checkable actions, and out of the caption generator's reach."""
import re
from collections import Counter

import numpy as np
import pytest

from posegraph.data.captions import ACTION_PHRASES, caption_for, make_captions
from posegraph.data.synthetic import ACTIONS
from posegraph.evaluation import load_freeform_prompts

N_GRAM = 5


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def _ngrams(text: str, n: int = N_GRAM) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


@pytest.fixture(scope="module")
def freeform():
    return load_freeform_prompts()


@pytest.fixture(scope="module")
def generated_captions():
    """Captions as training draws them (scene-only ones included) and as prompts, for every action and side."""
    rng = np.random.default_rng(0)
    n = 20_000
    actions = rng.choice(ACTIONS, n)
    sides = rng.choice(["left", "right"], n)
    facings = rng.choice(["front", "back", "left", "right", "front-left"], n)
    captions = make_captions(rng, actions, sides, facings, rng.random(n) < 0.5, rng.random(n) < 0.2)
    captions += [caption_for(action, rng) for action in ACTIONS for _ in range(200)]
    return captions


def test_the_set_holds_at_least_300_distinct_prompts_for_every_action(freeform):
    prompts, actions = freeform
    assert len(prompts) >= 300
    assert len(set(prompts)) == len(prompts)
    assert set(actions) <= set(ACTIONS)
    counts = Counter(actions)
    assert all(counts[a] >= 5 for a in ACTIONS), counts


def test_no_prompt_can_come_out_of_the_caption_generator(freeform, generated_captions):
    prompts, _ = freeform
    normal = lambda text: " ".join(_words(text))  # noqa: E731
    generated = {normal(c) for c in generated_captions}
    assert not [p for p in prompts if normal(p) in generated]
    generated_grams = set().union(*(_ngrams(c) for c in generated_captions))
    phrase_grams = set().union(*(_ngrams(p) for phrases in ACTION_PHRASES.values() for p in phrases))
    shared = {p: _ngrams(p) & (generated_grams | phrase_grams) for p in prompts}
    assert not {p: g for p, g in shared.items() if g}


def test_a_malformed_file_is_refused_with_its_line(tmp_path):
    path = tmp_path / "prompts.tsv"
    path.write_text("action\tprompt\nstanding\tA man at a bus stop.\nflying\tA bird.\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 3: unknown action id 'flying'"):
        load_freeform_prompts(path)
    path.write_text("prompt\taction\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header"):
        load_freeform_prompts(path)
    path.write_text("action\tprompt\nstanding\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: expected 2 tab-separated fields"):
        load_freeform_prompts(path)


def test_the_picture_script_draws_one_captioned_pose_per_chosen_prompt(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    import torch
    from diffusers import DDPMScheduler

    from posegraph.models import GUNet
    from posegraph.pipelines import PoseGraphPipeline
    from posegraph.text import TextEncoder

    text_encoder = TextEncoder.from_pretrained("default")
    torch.manual_seed(0)
    unet = GUNet.from_preset("tiny", cross_attention_dim=text_encoder.hidden_size)
    PoseGraphPipeline(unet=unet, scheduler=DDPMScheduler(), text_encoder=text_encoder).save_pretrained(tmp_path / "run")
    script = Path(__file__).resolve().parents[1] / "scripts" / "freeform_grid.py"
    spec = importlib.util.spec_from_file_location("freeform_grid", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = module.main(["--checkpoint", str(tmp_path / "run"), "--out", str(tmp_path / "grid.png"), "--n", "4"])
    assert path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert re.search(r"\d/4 follow their prompt, \d/4 whole", capsys.readouterr().out)
