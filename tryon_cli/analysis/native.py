"""Keep the native libraries' start-up chatter (TFLite, glog) off the user's terminal."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@contextmanager
def silenced_native_stderr() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null while native code starts (Python's stderr is untouched)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def mediapipe_solutions():
    """`mediapipe.solutions`, imported on first use (it takes seconds), with its start-up chatter silenced."""
    with silenced_native_stderr():
        import mediapipe as mp

    return mp.solutions
