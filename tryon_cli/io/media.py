"""Image files and input discovery: read, write (atomic), classify paths."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from ..errors import InputError
from .outputs import write_bytes_atomic

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"})


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def read_image(path: Path) -> np.ndarray:
    """Read an image as RGB uint8 (EXIF orientation applied); InputError when unreadable."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a file")
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise InputError(f"{path}: cannot read the image (corrupt or not an image)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_mask(path: Path) -> np.ndarray:
    """Read a mask image as uint8 {0, 255}."""
    image = read_image(path)
    return np.where(image.max(axis=2) > 127, 255, 0).astype(np.uint8)


def encode_image(image: np.ndarray, suffix: str) -> bytes:
    """Encode RGB (or single-channel) uint8 to the format named by `suffix`."""
    array = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, buffer = cv2.imencode(suffix, array)
    if not ok:
        raise InputError(f"cannot encode an image as '{suffix}'")
    return buffer.tobytes()


def write_image(path: Path, image: np.ndarray) -> None:
    """Write an RGB or grey uint8 image atomically."""
    write_bytes_atomic(path, encode_image(image, path.suffix.lower() or ".png"))


def expand_image_inputs(paths: Iterable[Path]) -> list[Path]:
    """Files and folders to a sorted list of image files; InputError when none."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.is_file() and is_image(p)))
        elif path.exists():
            if not is_image(path):
                raise InputError(f"{path}: unsupported image extension '{path.suffix}'")
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    if not found:
        raise InputError(f"no images found in {', '.join(str(p) for p in paths)}")
    return found
