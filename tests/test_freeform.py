"""The free-form prompt sets (test and dev): well-formed, labelled with checkable actions, out of the caption
generator's reach, and apart from each other."""
import re
from collections import Counter

import numpy as np
import pytest

from posegraph.data.captions import ACTION_PHRASES, caption_for, make_captions
from posegraph.data.synthetic import ACTIONS
from posegraph.evaluation import load_freeform_prompts
from posegraph.evaluation.freeform import FREEFORM_SPLITS

N_GRAM = 5


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def _ngrams(text: str, n: int = N_GRAM) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _normal(text: str) -> str:
    return " ".join(_words(text))


@pytest.fixture(scope="module", params=list(FREEFORM_SPLITS))
def freeform(request):
    """Each packaged split's ``(prompts, actions)``."""
    return load_freeform_prompts(split=request.param)


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


def test_the_dev_set_covers_every_action_at_least_ten_times():
    prompts, actions = load_freeform_prompts(split="dev")
    assert len(prompts) >= 300 and len({_normal(p) for p in prompts}) == len(prompts)
    counts = Counter(actions)
    assert all(counts[a] >= 10 for a in ACTIONS), counts


def test_the_dev_set_shares_no_prompt_and_no_word_5_gram_with_the_test_set():
    """Tuning on the dev set must not tune on the test set's wording; failures name the dev prompts only."""
    dev, _ = load_freeform_prompts(split="dev")
    test, _ = load_freeform_prompts(split="test")
    test_prompts = {_normal(p) for p in test}
    test_grams = set().union(*(_ngrams(p) for p in test))
    same = [p for p in dev if _normal(p) in test_prompts]
    assert not same, "dev prompts that are also test prompts:\n" + "\n".join(same)
    overlapping = [p for p in dev if _ngrams(p) & test_grams]
    assert not overlapping, "dev prompts sharing a word 5-gram with a test prompt:\n" + "\n".join(overlapping)


def test_no_prompt_can_come_out_of_the_caption_generator(freeform, generated_captions):
    """Failures name the prompts only, not the generated captions they resemble."""
    prompts, _ = freeform
    generated = {_normal(c) for c in generated_captions}
    generated_prompts = [p for p in prompts if _normal(p) in generated]
    assert not generated_prompts, "prompts the caption generator can produce:\n" + "\n".join(generated_prompts)


def test_no_reported_prompt_shares_a_word_5gram_with_the_caption_generator(generated_captions):
    """The frozen test set only: the development set may share short phrases with the generator (see
    ``posegraph.evaluation.freeform``)."""
    prompts, _ = load_freeform_prompts(split="test")
    generated_grams = set().union(*(_ngrams(c) for c in generated_captions))
    phrase_grams = set().union(*(_ngrams(p) for phrases in ACTION_PHRASES.values() for p in phrases))
    overlapping = [p for p in prompts if _ngrams(p) & (generated_grams | phrase_grams)]
    assert not overlapping, ("prompts sharing a word 5-gram with a generated caption or action phrase:\n"
                             + "\n".join(overlapping))


def test_an_unknown_split_is_refused():
    with pytest.raises(ValueError, match="unknown split 'train'"):
        load_freeform_prompts(split="train")


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


def saved_tiny_run(directory, **pipeline_options):
    """A randomly initialised tiny-preset pipeline saved to ``directory`` (what the picture scripts load)."""
    import torch
    from diffusers import DDPMScheduler

    from posegraph.models import GUNet
    from posegraph.pipelines import PoseGraphPipeline
    from posegraph.text import TextEncoder

    text_encoder = TextEncoder.from_pretrained("default")
    torch.manual_seed(0)
    unet = GUNet.from_preset("tiny", cross_attention_dim=text_encoder.hidden_size)
    PoseGraphPipeline(unet=unet, scheduler=DDPMScheduler(), text_encoder=text_encoder,
                      **pipeline_options).save_pretrained(directory)
    return str(directory)


def load_script(name):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_png(path) -> bool:
    return path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_picture_script_draws_one_captioned_pose_per_chosen_prompt(tmp_path, capsys):
    run = saved_tiny_run(tmp_path / "run")
    path = load_script("freeform_grid").main(["--checkpoint", run, "--out", str(tmp_path / "grid.png"), "--n", "4"])
    assert is_png(path)
    assert re.search(r"\d/4 follow their prompt, \d/4 whole", capsys.readouterr().out)


def test_the_side_free_grid_script_draws_and_names_each_side(tmp_path):
    run = saved_tiny_run(tmp_path / "run", canonical_side=True)
    module = load_script("side_free_grid")
    path = module.main(["--checkpoint", run, "--out", str(tmp_path / "grid.png"), "--per-prompt", "2",
                        "--prompt", "a person punching", "--action", "punching"])
    assert is_png(path)
    with pytest.raises(SystemExit):
        module.main(["--checkpoint", run, "--prompt", "a person punching"])
