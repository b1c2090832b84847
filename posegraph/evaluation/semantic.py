"""Semantic accuracy: does a pose show the action its prompt asked for?

Each pose is checked with the synthetic data's rule-based checker
(:func:`posegraph.data.checker.check_action`) against the action it was prompted with, and against
every other action's predicate for the confusion matrix: entry ``[a, p]`` is the fraction of poses
prompted with action ``a`` that satisfy predicate ``p``. The diagonal is the per-action accuracy;
off-diagonal mass shows which actions a model confuses (or which predicates overlap: "raise both
arms" poses also pass "raise left arm").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from posegraph.evaluation.body import as_keypoints
from posegraph.evaluation.intervals import Estimate, bootstrap_mean

__all__ = ["SemanticResult", "semantic_accuracy"]

Check = Callable[[np.ndarray, Sequence[str]], np.ndarray]


@dataclass
class SemanticResult:
    """Pass rates of the action checker.

    Attributes:
        overall: fraction of all poses that pass their own action's check.
        per_action: action -> fraction of its poses that pass.
        confusion: ``(len(actions), len(predicates))`` pass rate of predicate ``p`` on poses prompted ``a``.
        actions: the prompted actions (confusion rows), in ``predicates`` order.
        predicates: the predicates checked (confusion columns).
    """

    overall: Estimate
    per_action: dict[str, Estimate]
    confusion: np.ndarray
    actions: list[str]
    predicates: list[str]

    def to_dict(self) -> dict:
        return {
            "overall": self.overall.to_dict(),
            "per_action": {k: v.to_dict() for k, v in self.per_action.items()},
            "confusion": self.confusion.tolist(),
            "actions": list(self.actions),
            "predicates": list(self.predicates),
        }


def _default_checker() -> tuple[Check, tuple[str, ...]]:
    from posegraph.data.checker import check_action
    from posegraph.data.synthetic import ACTIONS

    return check_action, ACTIONS


def semantic_accuracy(
    keypoints,
    actions: Sequence[str],
    *,
    predicates: Sequence[str] | None = None,
    check: Check | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
) -> SemanticResult:
    """Checker pass rates of ``(n, 17, 3)`` keypoints prompted with ``actions`` (one action id per pose).

    Args:
        keypoints: poses in the frame the checker expects (the synthetic data's ``size``).
        actions: ``(n,)`` the action id each pose was prompted with.
        predicates: confusion-matrix columns; default every action of the synthetic data (``ACTIONS``).
        check: ``check(keypoints, actions) -> bool (n,)``; default ``posegraph.data.checker.check_action``.
        n_resamples, seed: of the bootstrap over poses.
    """
    keypoints = as_keypoints(keypoints, "semantic_accuracy: keypoints", ndim=3)
    actions = np.asarray(actions, dtype=str)
    if actions.shape != (len(keypoints),):
        raise ValueError(
            f"semantic_accuracy: need one action per pose, got {actions.shape[0] if actions.ndim else 0} "
            f"actions for {len(keypoints)} poses"
        )
    if check is None or predicates is None:
        default_check, default_predicates = _default_checker()
        check = default_check if check is None else check
        predicates = default_predicates if predicates is None else predicates
    predicates = list(predicates)
    unknown = sorted(str(a) for a in set(actions) - set(predicates))
    if unknown:
        raise ValueError(f"semantic_accuracy: prompted actions {unknown} are not among the predicates {predicates}")
    rows = [p for p in predicates if p in set(actions)]
    # passes[p, i]: does pose i satisfy predicate p (one vectorised checker call per predicate)
    passes = np.stack([np.asarray(check(keypoints, [p] * len(keypoints)), dtype=bool) for p in predicates])
    own = passes[[predicates.index(a) for a in actions], np.arange(len(actions))].astype(float)
    prompted = actions[None, :] == np.asarray(rows)[:, None]  # (A, n)
    confusion = (prompted.astype(float) @ passes.T.astype(float)) / prompted.sum(1, keepdims=True)
    boot = dict(n_resamples=n_resamples, seed=seed, unit="poses")
    return SemanticResult(
        overall=bootstrap_mean(own, **boot),
        per_action={a: bootstrap_mean(own[m], **boot) for a, m in zip(rows, prompted)},
        confusion=confusion,
        actions=rows,
        predicates=predicates,
    )
