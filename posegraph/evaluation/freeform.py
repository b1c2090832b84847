"""Free-form prompts: held-out sets for measuring how the model generalises beyond its captions.

The synthetic training captions (:mod:`posegraph.data.captions`) come from a fixed vocabulary of
templates and phrases. Two sets shipped with this package hold prompts written the way people caption
photos instead: scenes, clothes and objects, the action named in words the caption generator never uses
or only implied by the activity ("a catcher behind home plate", "asleep on the rug"). Each prompt is
labelled with the action id of :data:`posegraph.data.synthetic.ACTIONS` that the rule-based checker
(:func:`posegraph.data.checker.check_action`) verifies, "left"/"right" being the person's own side.

- ``split="test"`` (``freeform_prompts.tsv``): the frozen set, the one results report. Never tune on it:
  a recipe chosen for its score on this set would make the score an overestimate.
- ``split="dev"`` (``freeform_dev.tsv``): the development set, written independently of the test set
  (no shared prompt or word 5-gram), 12 prompts per action. Choose between training recipes, sampling
  settings or anything else on this one, then report the test set. It and the caption generator were
  written apart from each other, yet about one prompt in seven shares a word 5-gram with a generated
  caption ("a woman in an apron"): dev figures run somewhat higher than the test set's.

Neither is for training: never train on them or add their wording to the caption generator
(``tests/test_freeform.py`` fails if a generated caption equals a prompt of either, or shares a word 5-gram
with a prompt of the test set).
Keep both frozen so that results stay comparable: a changed prompt makes a different benchmark.

Usage::

    prompts, actions = load_freeform_prompts()  # the test set; split="dev" while tuning
    keypoints = ...  # sample one pose per prompt
    semantic_accuracy(keypoints, actions)
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from posegraph.data.synthetic import ACTIONS

__all__ = ["FREEFORM_DEV_FILE", "FREEFORM_PROMPTS_FILE", "FREEFORM_SPLITS", "load_freeform_prompts"]

#: The data file's name inside the ``posegraph.evaluation`` package: a UTF-8 TSV with a header row
#: ``action<TAB>prompt``; lines starting with ``#`` and blank lines are comments.
FREEFORM_PROMPTS_FILE = "freeform_prompts.tsv"
#: The development set's file name, in the same package and format.
FREEFORM_DEV_FILE = "freeform_dev.tsv"
#: The packaged file of each split: ``"test"`` the frozen, reported set; ``"dev"`` the one to tune on.
FREEFORM_SPLITS = {"test": FREEFORM_PROMPTS_FILE, "dev": FREEFORM_DEV_FILE}
_HEADER = ["action", "prompt"]


def load_freeform_prompts(path: str | Path | None = None, split: str = "test") -> tuple[list[str], list[str]]:
    """The free-form evaluation prompts of one split and their action ids, in file order.

    Held out for evaluating how the model generalises to free-form prompts; never used for training.

    Args:
        path: a TSV in the same format to read instead of the packaged set (for tests of the format).
        split: which packaged set, when ``path`` is None: ``"test"`` (the frozen set that results report;
            never tuned on) or ``"dev"`` (for choosing between recipes and settings).

    Returns:
        ``(prompts, actions)``: two lists of equal length; every action is an id of ``ACTIONS``.

    Raises:
        ValueError: for an unknown split; naming the file and line, for a malformed line, an unknown
            action id or an empty prompt.
    """
    if split not in FREEFORM_SPLITS:
        raise ValueError(f"load_freeform_prompts: unknown split {split!r}; choose one of {list(FREEFORM_SPLITS)}")
    source = resources.files(__package__).joinpath(FREEFORM_SPLITS[split]) if path is None else Path(path)
    prompts: list[str] = []
    actions: list[str] = []
    header_seen = False
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        where = f"{source}, line {number}"
        fields = line.split("\t")
        if not header_seen:
            if fields != _HEADER:
                raise ValueError(f"{where}: expected the header row {'<TAB>'.join(_HEADER)!r}, got {line!r}")
            header_seen = True
            continue
        if len(fields) != 2:
            raise ValueError(f"{where}: expected 2 tab-separated fields (action, prompt), got {len(fields)}: {line!r}")
        action, prompt = fields
        if action not in ACTIONS:
            raise ValueError(f"{where}: unknown action id {action!r}; see posegraph.data.synthetic.ACTIONS")
        if not prompt.strip() or prompt != prompt.strip():
            raise ValueError(f"{where}: the prompt is empty or has surrounding whitespace: {prompt!r}")
        prompts.append(prompt)
        actions.append(action)
    if not header_seen:
        raise ValueError(f"{source}: no header row {'<TAB>'.join(_HEADER)!r} and no prompts")
    return prompts, actions
