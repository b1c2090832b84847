"""The web app: ``python -m posegraph.app --checkpoint runs/demo`` serves a page that turns prompts into
ControlNet-ready pose images (needs the ``app`` extra: ``pip install 'posegraph[app]'``).

:class:`PoseMaker` is the app's work without the page (checks, sampling, files); :func:`build_app` is the
Gradio page around it; :func:`main` is the command line. Gradio is imported only when the page is built.
"""
from posegraph.app.poses import NO_CHECKPOINT_MESSAGE, PoseBatch, PoseMaker, RequestError
from posegraph.app.server import build_app, main

__all__ = ["PoseMaker", "PoseBatch", "RequestError", "NO_CHECKPOINT_MESSAGE", "build_app", "main"]
