"""TextEncoder: the bundled MiniLM offline, tiny BERT and CLIP text models by local path, caching, errors."""
import json
import warnings

import pytest
import torch
from transformers import BertConfig, BertModel, BertTokenizer, CLIPTextConfig, CLIPTextModel, CLIPTokenizer

from posegraph.text import TextEncoder

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "person", "man", "woman", "is", "waving", "with",
         "the", "left", "right", "hand", "sitting", "on", "bench", "raising", "both", "arms"]


@pytest.fixture(scope="module")
def minilm():
    return TextEncoder.from_pretrained("default")


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A randomly initialised 1-layer BERT (16 wide, 12 positions) with a word-level vocab.txt."""
    folder = tmp_path_factory.mktemp("tiny_bert")
    (folder / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    BertTokenizer.from_pretrained(folder).save_pretrained(folder)
    config = BertConfig(vocab_size=len(WORDS), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=12)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    return folder


def _tiny_clip_parts():
    letters = list("abcdefghijklmnopqrstuvwxyz")
    tokens = letters + [c + "</w>" for c in letters] + ["pe", "per", "<|startoftext|>", "<|endoftext|>"]
    tokenizer = CLIPTokenizer(vocab={t: i for i, t in enumerate(tokens)}, merges=[("p", "e"), ("pe", "r")],
                              model_max_length=16)
    config = CLIPTextConfig(vocab_size=len(tokens), hidden_size=24, intermediate_size=48, num_hidden_layers=1,
                            num_attention_heads=2, max_position_embeddings=16, bos_token_id=len(tokens) - 2,
                            eos_token_id=len(tokens) - 1, pad_token_id=len(tokens) - 1)
    torch.manual_seed(0)
    return CLIPTextModel(config), tokenizer


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    """A randomly initialised 1-layer CLIP text model (24 wide, 16 positions) with a letter-level BPE tokenizer."""
    folder = tmp_path_factory.mktemp("tiny_clip")
    model, tokenizer = _tiny_clip_parts()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


# -- the default encoder ---------------------------------------------------------------------------------


def test_the_default_encoder_is_minilm_loaded_offline_and_frozen(minilm):
    assert minilm.hidden_size == 384 and type(minilm.model).__name__ == "BertModel"
    assert not minilm.model.training
    assert not any(p.requires_grad for p in minilm.model.parameters())
    assert minilm.to_config() == {"name_or_path": "default", "max_length": None}
    for alias in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        other = TextEncoder.from_pretrained(alias)
        assert other.to_config()["name_or_path"] == alias
        assert torch.equal(other.encode(["a man waving"])[0], minilm.encode(["a man waving"])[0])


def test_encode_gives_token_embeddings_and_a_mask(minilm):
    embeddings, mask = minilm.encode(["a man waving", "a woman sitting on a bench next to a tree"])
    assert embeddings.shape == (2, 12, 384) and embeddings.dtype == torch.float32
    assert mask.dtype == torch.bool and mask.sum(1).tolist() == [5, 12]  # [CLS] a man waving [SEP]
    assert not embeddings.requires_grad and not embeddings.is_inference()
    # Ordinary tensors: a trained layer may take them as input.
    layer = torch.nn.Linear(384, 2)
    layer(embeddings).sum().backward()
    assert layer.weight.grad is not None


def test_a_prompt_embedding_does_not_depend_on_its_batch(minilm):
    batch, mask = minilm.encode(["a man waving", "a woman sitting on a bench next to a tree"])
    alone, _ = minilm.encode(["a man waving"])
    torch.testing.assert_close(batch[0, :5], alone[0], atol=1e-5, rtol=0)
    assert torch.all(batch[0, 5:] == 0)  # padding is zero and masked
    assert not torch.allclose(batch[0, :5], batch[1, :5], atol=1e-2)


def test_a_single_string_is_a_batch_of_one(minilm):
    assert torch.equal(minilm.encode("a man waving")[0], minilm.encode(["a man waving"])[0])


def test_a_non_string_prompt_is_a_type_error_naming_its_index(minilm):
    with pytest.raises(TypeError, match="prompt 2 is None of type NoneType"):
        minilm.encode(["a man waving", "a woman", None])
    with pytest.raises(TypeError, match="prompt 0 is 3 of type int"):
        minilm.encode_cached([3])


def test_null_embedding_is_the_empty_prompt_repeated(minilm):
    null, mask = minilm.null_embedding(3)
    empty, empty_mask = minilm.encode([""])
    assert null.shape == (3, 2, 384) and mask.all()  # [CLS] [SEP]
    assert torch.equal(null, empty.expand(3, -1, -1)) and torch.equal(mask, empty_mask.expand(3, -1))


def test_encode_unique_encodes_each_distinct_prompt_once_and_the_empty_one_as_the_null(minilm, monkeypatch):
    calls = []
    encode = minilm.encode
    monkeypatch.setattr(minilm, "encode", lambda prompts: calls.append(list(prompts)) or encode(prompts))
    prompts = ["a man waving", "", "a person sitting down on a chair", "a man waving", ""]
    embeddings, mask, rows = minilm.encode_unique(prompts, batch_size=1)
    assert calls == [["a man waving"], ["a person sitting down on a chair"]]  # each once, "" never encoded
    assert rows.tolist() == [0, 2, 1, 0, 2] and len(embeddings) == len(mask) == 3
    for prompt, row in zip(prompts, rows):
        expected, expected_mask = encode([prompt])
        length = expected.shape[1]
        assert torch.equal(mask[row, :length], expected_mask[0]) and not mask[row, length:].any()
        torch.testing.assert_close(embeddings[row, :length], expected[0], atol=1e-5, rtol=0)
    null, _ = minilm.null_embedding(1)
    assert torch.equal(embeddings[2, :null.shape[1]], null[0])


def test_encode_cached_encodes_each_distinct_prompt_once(minilm, monkeypatch):
    minilm.clear_cache()
    calls = []
    encode = minilm.encode
    monkeypatch.setattr(minilm, "encode", lambda prompts: calls.append(list(prompts)) or encode(prompts))
    prompts = ["a man waving", "a person sitting", "a man waving", "a child raising both arms"]
    cached, mask = minilm.encode_cached(prompts, batch_size=2)
    again, again_mask = minilm.encode_cached(["a person sitting", "a man waving"])
    assert sorted(p for chunk in calls for p in chunk) == sorted(set(prompts))  # each once, in chunks of 2
    assert all(len(chunk) <= 2 for chunk in calls) and minilm.cache_size == 3
    direct, direct_mask = encode(prompts)
    assert torch.equal(mask, direct_mask)
    torch.testing.assert_close(cached, direct, atol=1e-5, rtol=0)
    torch.testing.assert_close(again, direct[[1, 0], :again.shape[1]], atol=1e-5, rtol=0)
    assert len(calls) == 2  # the second call found everything in the cache
    minilm.clear_cache()
    assert minilm.cache_size == 0


def test_the_cache_can_store_half_precision():
    encoder = TextEncoder.from_pretrained("default", cache_dtype=torch.float16)
    cached, _ = encoder.encode_cached(["a man waving"])
    assert cached.dtype == torch.float32 and next(iter(encoder._cache.values()))[0].dtype == torch.float16
    torch.testing.assert_close(cached, encoder.encode(["a man waving"])[0], atol=1e-2, rtol=1e-3)


def test_max_length_pads_every_prompt_and_keeps_the_padding_outputs():
    encoder = TextEncoder.from_pretrained("default", max_length=16)
    embeddings, mask = encoder.encode(["a man waving", "a woman"])
    assert embeddings.shape == (2, 16, 384) and mask.sum(1).tolist() == [5, 4]
    assert embeddings[0, 5:].abs().sum() > 0  # the encoder's outputs at [PAD] positions, as SD keeps CLIP's
    cached, cached_mask = encoder.encode_cached(["a woman", "a man waving"])
    assert torch.equal(cached_mask, mask[[1, 0]])
    torch.testing.assert_close(cached, embeddings[[1, 0]], atol=1e-5, rtol=0)
    null, null_mask = encoder.null_embedding(2)
    assert null.shape == (2, 16, 384) and null_mask.sum(1).tolist() == [2, 2]
    assert encoder.to_config() == {"name_or_path": "default", "max_length": 16}


def test_a_prompt_over_the_limit_is_truncated_with_a_warning():
    encoder = TextEncoder.from_pretrained("default", max_length=8)
    with pytest.warns(UserWarning, match=r"1 prompt\(s\) \(index 1\) exceed the limit of 8 tokens and were truncated"):
        embeddings, mask = encoder.encode(["a man", "a man raising both arms above his head"])
    assert embeddings.shape == (2, 8, 384) and mask[1].all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoder.encode(["a man raising both arms"])  # exactly 8 tokens: no warning


def test_max_length_beyond_the_encoder_limit_is_an_error():
    with pytest.raises(ValueError, match="max_length must be between 2 and the encoder's limit of 512 tokens, got 600"):
        TextEncoder.from_pretrained("default", max_length=600)


# -- other encoders by local path ------------------------------------------------------------------------


def test_a_bert_model_loads_from_a_local_folder(tiny_bert):
    encoder = TextEncoder.from_pretrained(str(tiny_bert))
    assert encoder.hidden_size == 16 and encoder.model_max_length == 12
    assert encoder.to_config() == {"name_or_path": str(tiny_bert), "max_length": None}
    embeddings, mask = encoder.encode(["a man is waving with the left hand", "a woman"])
    assert embeddings.shape == (2, 10, 16) and mask.sum(1).tolist() == [10, 4]
    reference = BertModel.from_pretrained(tiny_bert).eval()
    ids = torch.tensor([[2, 5, 7, 9, 10, 11, 12, 13, 15, 3]])
    torch.testing.assert_close(embeddings[:1], reference(input_ids=ids).last_hidden_state, atol=1e-5, rtol=0)
    with pytest.warns(UserWarning, match="limit of 12 tokens"):
        encoder.encode(["a man is waving with the left hand a woman is sitting on the bench"])


def test_a_clip_text_model_loads_from_a_local_folder(tiny_clip):
    encoder = TextEncoder.from_pretrained(tiny_clip, max_length=16)
    assert isinstance(encoder.model, CLIPTextModel) and encoder.hidden_size == 24
    embeddings, mask = encoder.encode(["a person", "per"])
    assert embeddings.shape == (2, 16, 24) and mask.sum(1).tolist() == [7, 4]  # <bos> a per s o n <eos>
    reference, tokenizer = _tiny_clip_parts()
    tokens = tokenizer(["a person", "per"], padding="max_length", max_length=16, return_tensors="pt")
    expected = reference.eval()(**tokens).last_hidden_state
    torch.testing.assert_close(embeddings, expected, atol=1e-5, rtol=0)
    with pytest.warns(UserWarning, match="limit of 16 tokens"):
        encoder.encode(["a person waving with the right hand"])


def test_a_stable_diffusion_folder_uses_its_text_encoder_and_tokenizer(tiny_clip, tmp_path):
    model, tokenizer = _tiny_clip_parts()
    model.save_pretrained(tmp_path / "text_encoder")
    tokenizer.save_pretrained(tmp_path / "tokenizer")
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    from_sd = TextEncoder.from_pretrained(tmp_path)
    direct = TextEncoder.from_pretrained(tiny_clip)
    assert torch.equal(from_sd.encode(["a person"])[0], direct.encode(["a person"])[0])


def test_to_config_loads_the_same_encoder_again(tiny_bert):
    encoder = TextEncoder.from_pretrained(tiny_bert, max_length=10)
    again = TextEncoder.from_pretrained(**encoder.to_config())
    assert torch.equal(again.encode(["a man waving"])[0], encoder.encode(["a man waving"])[0])


# -- errors ------------------------------------------------------------------------------------------------


def test_an_unreachable_hub_id_says_how_to_pass_a_local_folder():
    with pytest.raises(OSError) as error:
        TextEncoder.from_pretrained("posegraph-tests/no-such-encoder")
    message = str(error.value)
    assert "'posegraph-tests/no-such-encoder'" in message and "HF_HUB_OFFLINE=1" in message
    assert "huggingface-cli download posegraph-tests/no-such-encoder --local-dir /path/to/no-such-encoder" in message
    assert "TextEncoder.from_pretrained('/path/to/no-such-encoder')" in message


def test_a_missing_or_empty_local_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no folder at '/no/such/clip-vit-large-patch14'"):
        TextEncoder.from_pretrained("/no/such/clip-vit-large-patch14")
    with pytest.raises(OSError, match=f"from the folder '{tmp_path}'"):
        TextEncoder.from_pretrained(tmp_path)


def test_the_encoder_runs_in_the_dtype_asked_for(tiny_bert):
    encoder = TextEncoder.from_pretrained(tiny_bert, dtype="bfloat16")
    assert encoder.dtype == torch.bfloat16
    embeddings, _ = encoder.encode(["a man waving"])
    assert embeddings.dtype == torch.bfloat16
    reference, _ = TextEncoder.from_pretrained(tiny_bert).encode(["a man waving"])
    torch.testing.assert_close(embeddings.float(), reference, atol=0.1, rtol=0.05)
    with pytest.raises(ValueError, match="unknown dtype 'float17'"):
        TextEncoder.from_pretrained(tiny_bert, dtype="float17")
