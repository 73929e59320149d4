"""A garment from its flat photo: segmented from the plain background and landmarked.

Landmarks (image-left first): shoulders, hem corners, sleeve ends, neck and hem centre for tops and
dresses; waistband and hem corners for bottoms.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import InputError
from ..masks.shapes import bounding_box


@dataclass(frozen=True)
class GarmentModel:
    """A segmented garment photo and its landmarks (name -> (x, y) in the photo)."""

    image: np.ndarray
    mask: np.ndarray
    landmarks: dict[str, np.ndarray]
    category: str


def segment_garment(image: np.ndarray, threshold: float = 14.0) -> np.ndarray:
    """The garment on a plain background: far from the border colour, holes filled, largest part."""
    lab = cv2.cvtColor(cv2.GaussianBlur(image, (5, 5), 0), cv2.COLOR_RGB2LAB).astype(np.float32)
    border = np.concatenate([lab[:4].reshape(-1, 3), lab[-4:].reshape(-1, 3), lab[:, :4].reshape(-1, 3),
                             lab[:, -4:].reshape(-1, 3)])
    distance = np.linalg.norm(lab - np.median(border, axis=0), axis=2)
    mask = np.where(distance > threshold, 255, 0).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count < 2:
        raise InputError("no garment found on the photo's background")
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    mask = np.where(labels == largest, 255, 0).astype(np.uint8)
    flood = mask.copy()
    cv2.floodFill(flood, np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), np.uint8), (0, 0), 255)
    return mask | cv2.bitwise_not(flood)


def _row_extent(mask: np.ndarray, row: int) -> tuple[int, int] | None:
    xs = np.nonzero(mask[int(np.clip(row, 0, mask.shape[0] - 1))])[0]
    return (int(xs.min()), int(xs.max())) if len(xs) else None


def garment_landmarks(mask: np.ndarray, category: str) -> dict[str, np.ndarray]:
    """Landmarks from the garment's silhouette."""
    box = bounding_box(mask)
    if box is None:
        raise InputError("the garment mask is empty")
    x0, y0, x1, y1 = box
    height = y1 - y0
    top_row, hem_row = y0 + int(0.04 * height), y1 - 1 - int(0.03 * height)
    top, hem = _row_extent(mask, top_row), _row_extent(mask, hem_row)
    if top is None or hem is None:
        raise InputError("cannot find the garment's outline")
    points = {"hem_left": (hem[0], hem_row), "hem_right": (hem[1], hem_row),
              "hem_centre": ((hem[0] + hem[1]) / 2, hem_row)}
    if category == "lower":
        points.update({"waist_left": (top[0], top_row), "waist_right": (top[1], top_row),
                       "waist_centre": ((top[0] + top[1]) / 2, top_row)})
    else:
        shoulder_row = y0 + int(0.1 * height)
        shoulder = _row_extent(mask, shoulder_row) or top
        ys, xs = np.nonzero(mask[: y0 + int(0.6 * height)])
        left, right = int(np.argmin(xs)), int(np.argmax(xs))
        points.update({"shoulder_left": (shoulder[0], shoulder_row), "shoulder_right": (shoulder[1], shoulder_row),
                       "sleeve_left": (xs[left], ys[left]), "sleeve_right": (xs[right], ys[right]),
                       "neck": ((top[0] + top[1]) / 2, y0)})
    return {k: np.asarray(v, dtype=np.float64) for k, v in points.items()}


def prepare_garment(image: np.ndarray, category: str, mask: np.ndarray | None = None) -> GarmentModel:
    """Segment (unless a mask is given) and landmark a flat garment photo."""
    mask = segment_garment(image) if mask is None else mask
    return GarmentModel(image=image, mask=mask, landmarks=garment_landmarks(mask, category), category=category)
