"""Face-swap masks: (target face U recombined face) minus occluders, and the mouth interior."""

from __future__ import annotations

import cv2
import numpy as np

from ..face3d import landmarks as lm
from .shapes import dilate, polygon_mask


def face_region(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """The face oval of a mesh as a mask."""
    return polygon_mask(shape, points[lm.FACE_OVAL])


def mouth_interior(shape: tuple[int, int], target: np.ndarray, recombined: np.ndarray) -> np.ndarray:
    """Where both the target's and the recombined inner lips are open: the target's teeth and tongue."""
    return cv2.bitwise_and(polygon_mask(shape, target[lm.INNER_LIPS]), polygon_mask(shape, recombined[lm.INNER_LIPS]))


def feature_regions(shape: tuple[int, int], points: np.ndarray, grow: int) -> np.ndarray:
    """Eyes, brows, lips and nostrils: dark or coloured by nature, never taken for occluders."""
    mask = np.zeros(shape, dtype=np.uint8)
    for polygon in (lm.RIGHT_EYE, lm.LEFT_EYE, lm.OUTER_LIPS):
        mask |= polygon_mask(shape, points[polygon])
    for group in (lm.RIGHT_BROW, lm.LEFT_BROW, lm.NOSTRILS):
        hull = cv2.convexHull(np.round(points[group, :2]).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 255)
    return dilate(mask, grow)


def skin_statistics(image: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean and covariance of Lab colour over a region's pixels (None when it is too small)."""
    pixels = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[region > 0].astype(np.float64)
    if len(pixels) < 50:
        return None
    return pixels.mean(axis=0), np.cov(pixels.T) + np.eye(3) * 4.0


def occlusion_mask(image: np.ndarray, points: np.ndarray, face: np.ndarray,
                   skin: tuple[np.ndarray, np.ndarray] | None, threshold: float = 5.0) -> np.ndarray:
    """Pixels inside the target face that are not skin and not a facial feature: hair, glasses, objects.

    A pixel is an occluder when its Lab colour is more than `threshold` Mahalanobis units from the
    face's skin model; small specks are dropped and the rest slightly grown.
    """
    if skin is None:
        return np.zeros_like(face)
    size = float(np.ptp(points[:, 0]))
    mean, covariance = skin
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float64)
    ys, xs = np.nonzero(face)
    delta = lab[ys, xs] - mean
    distance = np.einsum("ni,ij,nj->n", delta, np.linalg.inv(covariance), delta)
    candidate = np.zeros_like(face)
    candidate[ys[distance > threshold**2], xs[distance > threshold**2]] = 255
    candidate[feature_regions(face.shape, points, max(int(size * 0.03), 1)) > 0] = 0
    candidate = cv2.morphologyEx(candidate, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= (size * size) * 0.004
    return dilate(np.where(keep[labels], 255, 0).astype(np.uint8), max(int(size * 0.01), 1))


def skin_sample_region(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """Face oval without its features, shrunk away from the outline: a clean sample of skin."""
    size = float(np.ptp(points[:, 0]))
    region = cv2.erode(face_region(shape, points), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)),
                       iterations=max(int(size * 0.02), 1))
    return cv2.bitwise_and(region, cv2.bitwise_not(feature_regions(shape, points, max(int(size * 0.02), 1))))
