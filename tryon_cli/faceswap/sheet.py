"""A contact sheet of a swap for a person to judge at a glance: target | output | source at several
frames, then strips of consecutive face crops (target above, output below)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..analysis.face import FaceMeshAnalyzer
from ..errors import InputError
from ..io.media import read_image, write_image
from ..io.target_media import frames_of

ROW_HEIGHT = 256
CROP_SIDE = 160  # the strip's crops are this big, then the whole strip is scaled to the rows' width
GAP = 4


def _fit_height(image: np.ndarray, height: int) -> np.ndarray:
    width = max(int(round(image.shape[1] * height / image.shape[0])), 1)
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def _hstack(images: list[np.ndarray], gap: int = GAP) -> np.ndarray:
    height = max(i.shape[0] for i in images)
    parts = []
    for image in images:
        if image.shape[0] < height:
            image = cv2.copyMakeBorder(image, 0, height - image.shape[0], 0, 0, cv2.BORDER_CONSTANT, value=0)
        parts += [image, np.full((height, gap, 3), 255, np.uint8)]
    return np.concatenate(parts[:-1], axis=1)


def _fit_width(image: np.ndarray, width: int) -> np.ndarray:
    height = max(int(round(image.shape[0] * width / image.shape[1])), 1)
    interpolation = cv2.INTER_AREA if width < image.shape[1] else cv2.INTER_CUBIC
    return cv2.resize(image, (width, height), interpolation=interpolation)


def _vstack(images: list[np.ndarray], gap: int = GAP) -> np.ndarray:
    """Rows one above the other, each centred on the widest one's width (white margins, never black)."""
    width = max(i.shape[1] for i in images)
    parts = []
    for image in images:
        if image.shape[1] < width:
            left = (width - image.shape[1]) // 2
            image = cv2.copyMakeBorder(image, 0, 0, left, width - image.shape[1] - left, cv2.BORDER_CONSTANT,
                                       value=(255, 255, 255))
        parts += [image, np.full((gap, width, 3), 255, np.uint8)]
    return np.concatenate(parts[:-1], axis=0)


def _square_crop(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    x0, y0, x1, y1 = box
    side = 1.15 * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    matrix = np.array([[CROP_SIDE / side, 0, CROP_SIDE / 2 - cx * CROP_SIDE / side],
                       [0, CROP_SIDE / side, CROP_SIDE / 2 - cy * CROP_SIDE / side]], dtype=np.float64)
    return cv2.warpAffine(image, matrix, (CROP_SIDE, CROP_SIDE), flags=cv2.INTER_AREA, borderValue=(0, 0, 0))


def write_sheet(path: Path, sources: list[Path], target: Path, output: Path, rows: int = 4, strip: int = 8,
                start: float | None = None, end: float | None = None) -> Path:
    """Write the contact sheet PNG; returns its path."""

    def pairs():
        return ((o.image, t.image) for o, t in zip(frames_of(output), frames_of(target, start, end)))

    count = sum(1 for _ in pairs())  # a first pass counts, so only the picked frames are held
    if count == 0:
        raise InputError(f"{output}: no frames")
    source = _fit_height(read_image(sources[0]), ROW_HEIGHT)
    picks = {int(round(i)) for i in np.linspace(0, count - 1, min(rows, count))}
    middle = max(count // 2 - strip // 2, 0)
    blocks, top, bottom = [], [], []
    with FaceMeshAnalyzer(1, tracking=False) as mesh:
        for index, (out_img, in_img) in enumerate(pairs()):
            if index in picks:
                blocks.append(_hstack([_fit_height(in_img, ROW_HEIGHT), _fit_height(out_img, ROW_HEIGHT), source]))
            if middle <= index < middle + strip:
                faces = mesh.detect(in_img)
                if faces:
                    top.append(_square_crop(in_img, faces[0].bbox))
                    bottom.append(_square_crop(out_img, faces[0].bbox))
    if top:
        # The strips are scaled to the rows' width, so no column of the sheet is left empty.
        width = max(b.shape[1] for b in blocks) if blocks else None
        strips = [_hstack(top, 2), _hstack(bottom, 2)]
        blocks += [_fit_width(s, width) for s in strips] if width else strips
    write_image(path, _vstack(blocks))
    return path
