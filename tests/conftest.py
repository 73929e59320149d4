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


def dance_frame(index: int) -> np.ndarray:
    """Frame `index` (within its first 2 s) of the shared full_body_dance.mp4, or skip when it is absent."""
    from tryon_cli.io.video import iter_frames

    path = shared_media("tryon", "video", "full_body_dance.mp4")
    return next(frame.image for frame in iter_frames(path, end=2.0) if frame.index == index)


def pink_jeans_on(image: np.ndarray):
    """The body found on `image` (one frame) and the frame with the shared pink jeans tried on as a lower
    garment by the classical engine, through the planner's own per-frame path."""
    from tryon_cli.analysis.body import BodyAnalyzer
    from tryon_cli.garments.photo import load_garment
    from tryon_cli.garments.planner import tryon_frames
    from tryon_cli.io.video import Frame
    from tryon_cli.masks.garment import MaskOptions
    from tryon_cli.render.classical.engine import ClassicalEngine

    model = load_garment(shared_media("tryon", "garments", "lower_pink_jeans.jpg"), "lower")
    out = {}
    with BodyAnalyzer() as analyzer:
        body = analyzer.analyse(image)
        tryon_frames(iter([Frame(0, image, 0, 0.0)]), model, ClassicalEngine(), MaskOptions(category="lower"),
                     "mask", False, 0, lambda frame, result: out.setdefault("image", result), analyzer=analyzer)
    return body, out["image"]


def run_cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real `tryon` command in a subprocess."""
    return subprocess.run([sys.executable, "-c", "from tryon_cli.app import main; main()", *args],
                          capture_output=True, text=True, input=stdin, cwd=cwd, timeout=600)


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    image = data.astronaut()
    image.setflags(write=False)  # shared by the whole session: a test or library writing into it would leak
    return image


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


COLOURS = [(40, 90, 200), (200, 40, 40), (40, 160, 60), (230, 200, 40), (120, 40, 160), (20, 20, 20)]


@pytest.fixture(scope="session")
def viton(tmp_path_factory, astronaut) -> Path:
    """A VITON-HD-style folder: the astronaut wearing each T-shirt (dressed by our own try-on), and the shirts."""
    import cv2

    from test_tryon import tshirt
    from tryon_cli.io.media import write_image

    root = tmp_path_factory.mktemp("viton")
    (root / "image").mkdir()
    (root / "cloth").mkdir()
    person = root.parent / f"{root.name}-plain.png"
    write_image(person, cv2.resize(astronaut, (320, 320)))
    for i, colour in enumerate(COLOURS):
        shirt = root / "cloth" / f"{i:05d}_00.png"
        write_image(shirt, tshirt(colour))
        out = root / "image" / f"{i:05d}_00.png"
        result = run_cli("tryon", str(person), str(shirt), "-o", str(out), "-q", "--mode", "mask-free")
        assert result.returncode == 0, result.stderr
    person.unlink()
    return root


@pytest.fixture(scope="session")
def built(tmp_path_factory, viton) -> Path:
    """viton built once into triplet files (copy it before changing anything)."""
    out = tmp_path_factory.mktemp("built") / "build"
    result = run_cli("build-triplets", str(viton), "-o", str(out), "-q")
    assert result.returncode == 0, result.stderr
    return out
