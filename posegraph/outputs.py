"""Output folders written as a unit: a crash, a full disk or a second process never leaves a mix of runs.

:class:`StagedOutputDir` checks the folder before any work starts, hands out a fresh hidden staging folder
beside it (``.NAME.staging-PID-XXXXXXXX``), and at the end renames the staging folder into place under a
lock on the parent folder, replacing the earlier run's folder whole::

    with StagedOutputDir(out, is_ours=SAMPLE_FILE.fullmatch) as staging:   # checks out, creates staging
        ...write files into staging...
    # out now holds exactly these files; on an error out is as it was and staging is gone

Rules:

* ``out`` must be a directory or not exist yet (its parents are created); a file is an error.
* An existing ``out`` is replaced only when every entry in it is one a run writes (``is_ours``): an earlier
  run's output. Anything else is refused, so a mistyped ``--out`` never deletes someone's files.
* Two processes publishing into one ``out`` take turns; the last one's files are what ``out`` holds, never
  a mix. A staging folder left by a killed process is removed by the next run into the same ``out``.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Callable

__all__ = ["OutputDirError", "StagedOutputDir", "SAMPLE_FILE"]

#: The names ``python -m posegraph.sample`` writes: poses (``pose_NNNN.png``, ``pose_NNNN_keypoints.json``,
#: ``grid.png``) or scenes of several people (``scene_NNNN.png``, ``scene_NNNN_keypoints.json``,
#: ``coco_results.json``), and ``poses.json``.
SAMPLE_FILE = re.compile(r"(?:pose|scene)_\d{4,}\.png|(?:pose|scene)_\d{4,}_keypoints\.json|grid\.png|poses\.json"
                         r"|coco_results\.json")

_STAGING = re.compile(r"\.(?P<name>.+)\.(?:staging|replaced)-(?P<pid>\d+)-[0-9a-f]{8}")


class OutputDirError(ValueError):
    """An output folder that cannot take a run: a file, not writable, or holding other files."""


class StagedOutputDir:
    """Write a folder's files elsewhere and put them in place at once (see the module docstring).

    Args:
        out: the output folder.
        is_ours: whether a file name is one that runs write (an existing ``out`` holding only such names is
            an earlier run's output and is replaced).
        flag: how the folder is named in messages (e.g. ``"--out"``).

    Raises:
        OutputDirError: on construction, when ``out`` cannot take the run (before any work is done).
    """

    def __init__(self, out: str | os.PathLike, is_ours: Callable[[str], object], flag: str = "output folder"):
        self.out, self.is_ours, self.flag = Path(out), is_ours, flag
        self._target = self.out.resolve()
        self._check_target()
        parent = self._target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputDirError(f"{flag} {self.out}: cannot create its parent folder {parent} "
                                 f"({error.strerror or error})") from None
        _remove_stale_staging(parent, self._target.name)
        self.path = parent / f".{self._target.name}.staging-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            self.path.mkdir()
        except OSError as error:
            raise OutputDirError(f"{flag} {self.out}: cannot write in {parent} ({error.strerror or error}); "
                                 "choose a folder you can write to") from None

    def _check_target(self) -> None:
        target, flag = self._target, self.flag
        if target.exists() and not target.is_dir():
            raise OutputDirError(f"{flag} {self.out} is a file, not a folder; give a folder (it is created if "
                                 "missing)")
        if target.is_dir():
            foreign = sorted(entry.name for entry in target.iterdir() if not self.is_ours(entry.name))
            if foreign:
                listed = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
                raise OutputDirError(f"{flag} {self.out} holds files that no earlier run here wrote ({listed}); "
                                     "choose a new or empty folder: a run replaces the folder's contents whole")

    def publish(self) -> Path:
        """Rename the staging folder into place, replacing an earlier run's ``out`` whole; returns ``out``."""
        parent, target = self._target.parent, self._target
        with _locked(parent):
            try:
                self._check_target()  # another process may have put files there meanwhile
            except OutputDirError:
                self.discard()
                raise
            aside = None
            if target.exists():
                aside = parent / f".{target.name}.replaced-{os.getpid()}-{secrets.token_hex(4)}"
                os.replace(target, aside)
            os.replace(self.path, target)
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
        return self.out

    def discard(self) -> None:
        """Remove the staging folder and all in it (``out`` is left as it was)."""
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.publish()
        else:
            self.discard()


@contextlib.contextmanager
def _locked(directory: Path):
    """An exclusive ``flock`` on ``directory`` (a no-op where ``fcntl`` does not exist)."""
    try:
        import fcntl
    except ImportError:  # Windows: the renames below are still each atomic
        yield
        return
    handle = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


def _remove_stale_staging(parent: Path, name: str) -> None:
    """Remove ``parent``'s staging folders for ``name`` whose process is gone (a kill during a run)."""
    for entry in parent.iterdir():
        match = _STAGING.fullmatch(entry.name)
        if match is None or match.group("name") != name or not entry.is_dir():
            continue
        pid = int(match.group("pid"))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError as error:  # EPERM: alive, another user's
            if error.errno != errno.EPERM:
                raise
