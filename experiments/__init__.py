"""Experiments built on posegraph's public API and its command-line programs (``python -m experiments.ablation``)."""
