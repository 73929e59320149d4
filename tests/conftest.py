"""Shared fixtures: package-shipped photos, synthetic videos made from them, and the shared media folder."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MEDIA = Path(os.environ.get("TRYON_SHARED_MEDIA", ROOT.parent / "shared" / "media"))


def shared_media(*parts: str) -> Path:
    """A file of ../shared/media, or skip the test when the folder is absent."""
    path = SHARED_MEDIA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test media not found: {path}")
    return path


def run_cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real `tryon` command in a subprocess."""
    return subprocess.run([sys.executable, "-c", "from tryon_cli.app import main; main()", *args],
                          capture_output=True, text=True, input=stdin, cwd=cwd, timeout=600)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def source_photo() -> Path:
    """A portrait of another person shipped inside the insightface package."""
    spec = importlib.util.find_spec("insightface")
    if spec is None or spec.origin is None:
        pytest.skip("insightface is not installed (pip install --no-deps insightface)")
    return Path(spec.origin).parent / "data" / "images" / "Tom_Hanks_54745.png"


@pytest.fixture(scope="session")
def talking_video(tmp_path_factory, astronaut) -> Path:
    """A 2 s, 25 fps, 320x320 synthetic talking head with an audio track."""
    import cv2

    from tryon_cli.faceswap.synthetic import synthetic_talking_video

    path = tmp_path_factory.mktemp("video") / "talking.mp4"
    synthetic_talking_video(cv2.resize(astronaut, (320, 320)), path, seconds=2.0, fps=25)
    return path


@pytest.fixture(scope="session")
def encoder():
    from tryon_cli.analysis.identity import DlibFaceEncoder

    return DlibFaceEncoder()
