"""Free-form prompts: a frozen, held-out set for measuring how the model generalises beyond its captions.

The synthetic training captions (:mod:`posegraph.data.captions`) come from a fixed vocabulary of
templates and phrases. ``freeform_prompts.tsv``, shipped with this package, holds prompts written the
way people caption photos instead: scenes, clothes and objects, the action named in words the caption
generator never uses or only implied ("a catcher behind home plate", "asleep on the rug"). Each is
labelled with the action id of :data:`posegraph.data.synthetic.ACTIONS` that the rule-based checker
(:func:`posegraph.data.checker.check_action`) verifies, "left"/"right" being the person's own side.

The set is for evaluation only: never train on it, tune on it or add its wording to the caption
generator (``tests/test_freeform.py`` fails if a generated caption shares a word 5-gram with a prompt).
Keep it frozen so that results stay comparable: a changed prompt makes a different benchmark.

Usage::

    prompts, actions = load_freeform_prompts()
    keypoints = ...  # sample one pose per prompt
    semantic_accuracy(keypoints, actions)
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from posegraph.data.synthetic import ACTIONS

__all__ = ["FREEFORM_PROMPTS_FILE", "load_freeform_prompts"]

#: The data file's name inside the ``posegraph.evaluation`` package: a UTF-8 TSV with a header row
#: ``action<TAB>prompt``; lines starting with ``#`` and blank lines are comments.
FREEFORM_PROMPTS_FILE = "freeform_prompts.tsv"
_HEADER = ["action", "prompt"]


def load_freeform_prompts(path: str | Path | None = None) -> tuple[list[str], list[str]]:
    """The free-form evaluation prompts and their action ids, in file order.

    Held out for evaluating how the model generalises to free-form prompts; never used for training.

    Args:
        path: a TSV in the same format to read instead of the packaged set (for tests of the format).

    Returns:
        ``(prompts, actions)``: two lists of equal length; every action is an id of ``ACTIONS``.

    Raises:
        ValueError: naming the file and line, for a malformed line, an unknown action id or an empty prompt.
    """
    source = resources.files(__package__).joinpath(FREEFORM_PROMPTS_FILE) if path is None else Path(path)
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
