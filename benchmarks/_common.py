"""Helpers for the benchmark scripts: synthetic inputs, timed subprocesses with peak memory."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

OUT = Path(__file__).resolve().parent / "out"
SHARED_MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"


def widescreen_portrait(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Place a square photo in a widescreen frame over a blurred, stretched copy of itself."""
    width, height = size
    background = cv2.GaussianBlur(cv2.resize(image, (width, height)), (0, 0), 25)
    square = cv2.resize(image, (height, height))
    x0 = (width - height) // 2
    background[:, x0 : x0 + height] = square
    return background


def run_measured(args: list[str]) -> tuple[float, int, str]:
    """Run a command; return wall seconds, its peak resident memory in bytes, and stdout."""
    script = (
        "import resource, subprocess, sys, time, json;"
        "t=time.perf_counter(); p=subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "dt=time.perf_counter()-t;"
        "print(json.dumps({'rc': p.returncode, 'seconds': dt, 'peak': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss*1024,"
        " 'stdout': p.stdout, 'stderr': p.stderr[-2000:]}))"
    )
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result['stderr']}")
    return result["seconds"], result["peak"], result["stdout"]


def tryon(*args: str) -> list[str]:
    return [sys.executable, "-c", "from tryon_cli.app import main; main()", *args]


__all__ = ["OUT", "SHARED_MEDIA", "widescreen_portrait", "run_measured", "tryon", "resource", "time"]
