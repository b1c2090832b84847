"""The contrastive text-pose evaluator: learns a separable toy set, ranks honestly, saves and loads."""
import json

import numpy as np
import pytest
import torch

from evaluation_poses import STANDING_XY, pose
from posegraph.evaluation.retrieval import (
    PoseTextEvaluator,
    pool_text_embeddings,
    retrieval_precision,
    train_evaluator,
)

CLASSES, PER_CLASS, TEXT_DIM = 40, 20, 16


def toy_pairs(seed=0):
    """40 pose shapes, each with its own text embedding; 20 noisy poses per shape."""
    rng = np.random.default_rng(seed)
    templates = STANDING_XY + rng.normal(0, 4, (CLASSES, 17, 2))
    labels = np.repeat(np.arange(CLASSES), PER_CLASS)
    keypoints = pose(templates[labels] + rng.normal(0, 0.5, (len(labels), 17, 2)))
    texts = rng.normal(0, 1, (CLASSES, TEXT_DIM)).astype(np.float32)[labels]
    return keypoints, texts, labels


@pytest.fixture(scope="module")
def trained():
    keypoints, texts, labels = toy_pairs()
    return train_evaluator(keypoints, texts, epochs=25, batch_size=128, seed=0), keypoints, texts, labels


def test_reaches_high_precision_on_a_separable_set(trained):
    evaluator, keypoints, texts, _ = trained
    validation = evaluator.metadata["validation"]
    assert validation["top1"]["value"] >= 0.9 and validation["top3"]["value"] >= 0.95
    assert evaluator.metadata["validation_pool_size"] == 32
    assert evaluator.metadata["train_pairs"] + evaluator.metadata["validation_pairs"] == len(keypoints)
    assert evaluator.metadata["loss"][-1] < evaluator.metadata["loss"][0]
    result = retrieval_precision(evaluator, keypoints, texts)
    assert result["top1"].value >= 0.9 and result["top1"].n == len(keypoints)


def test_poses_of_the_wrong_text_rank_near_chance(trained):
    evaluator, keypoints, texts, _ = trained
    wrong = np.roll(keypoints, PER_CLASS, axis=0)  # every pose now belongs to the next class's text
    assert retrieval_precision(evaluator, wrong, texts)["top1"].value < 0.1


def test_groups_keep_same_group_texts_out_of_the_pool(trained):
    evaluator, keypoints, texts, labels = trained
    groups = labels % 4  # 4 groups of 10 texts: 30 texts of other groups per pose
    # A pool of 31 must then hold exactly those 30: no randomness is left.
    full = [retrieval_precision(evaluator, keypoints, texts, groups=groups, pool_size=31, seed=s) for s in (0, 1)]
    assert full[0]["top1"].value == full[1]["top1"].value
    assert set(retrieval_precision(evaluator, keypoints, texts, groups=groups, pool_size=8, top_k=(1, 5))) == {"top1", "top5"}
    with pytest.raises(ValueError, match="only 30 texts of other groups"):
        retrieval_precision(evaluator, keypoints, texts, groups=groups, pool_size=32)
    with pytest.raises(ValueError, match="pool_size must be at least 2"):
        retrieval_precision(evaluator, keypoints, texts, pool_size=1)


def test_save_and_load_round_trip(trained, tmp_path):
    evaluator, keypoints, texts, _ = trained
    evaluator.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["text_dim"] == TEXT_DIM and config["metadata"]["validation"]["top1"]["value"] >= 0.9
    loaded = PoseTextEvaluator.from_pretrained(tmp_path)
    with torch.no_grad():
        torch.testing.assert_close(loaded.encode_poses(keypoints[:5]), evaluator.encode_poses(keypoints[:5]))
        torch.testing.assert_close(loaded.encode_texts(texts[:5]), evaluator.encode_texts(texts[:5]))
    assert repr(loaded) == f"PoseTextEvaluator(text_dim={TEXT_DIM}, embed_dim=128, hidden_dim=256)"
    with pytest.raises(FileNotFoundError, match="train-evaluator"):
        PoseTextEvaluator.from_pretrained(tmp_path / "nothing")


def test_training_is_deterministic_and_leaves_global_rng_alone():
    keypoints, texts, _ = toy_pairs()
    state = torch.random.get_rng_state()
    a = train_evaluator(keypoints[:200], texts[:200], epochs=2, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    b = train_evaluator(keypoints[:200], texts[:200], epochs=2, seed=3)
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name


def test_text_input_checks(trained):
    evaluator, keypoints, texts, _ = trained
    with pytest.raises(ValueError, match="pool_text_embeddings"):
        retrieval_precision(evaluator, keypoints, texts[:, None, :])
    with pytest.raises(ValueError, match="another text encoder"):
        evaluator.encode_texts(torch.zeros(2, TEXT_DIM + 1))


def test_pooling_is_a_masked_mean():
    hidden = torch.tensor([[[1.0, 1.0], [3.0, 5.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    torch.testing.assert_close(pool_text_embeddings(hidden, mask), torch.tensor([[2.0, 3.0]]))
    torch.testing.assert_close(pool_text_embeddings(hidden), hidden.mean(1))


def test_a_single_held_out_caption_is_refused():
    keypoints, texts, _ = toy_pairs()
    with pytest.raises(ValueError, match="single caption"):
        train_evaluator(keypoints[:40], np.repeat(texts[:1], 40, axis=0), epochs=1)
