"""A garment from its flat photo: segmented from the plain background, landmarked, warped onto a body.

Landmarks (image-left first): shoulders, hem corners, sleeve ends, neck and hem centre for tops and
dresses; waistband and hem corners for bottoms. The warp is a thin-plate spline from the garment's
landmarks to points placed on the body with the garment's own proportions, so length and sleeves
follow the garment, not the clothes being replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.interpolate import RBFInterpolator

from ..analysis import body as bp
from ..analysis.body import Body
from ..errors import InputError
from ..masks.garment import GarmentMask, protection_mask
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


def _body_frame(body: Body, mask: GarmentMask) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Image-left/right shoulders and hips on the body; from the mask's box when pose is missing."""
    shoulders = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))
    hips = body.visible((bp.LEFT_HIP, bp.RIGHT_HIP))
    if len(shoulders) == 2 and len(hips) == 2:
        s = shoulders[np.argsort(shoulders[:, 0])]
        h = hips[np.argsort(hips[:, 0])]
        return s[0], s[1], h[0], h[1]
    x0, y0, x1, y1 = mask.box
    w, h = x1 - x0, y1 - y0
    return (np.array([x0 + 0.25 * w, y0 + 0.12 * h]), np.array([x0 + 0.75 * w, y0 + 0.12 * h]),
            np.array([x0 + 0.3 * w, y0 + 0.85 * h]), np.array([x0 + 0.7 * w, y0 + 0.85 * h]))


def _scaled(garment: GarmentModel, a: str, b: str) -> float:
    return float(np.linalg.norm(garment.landmarks[a] - garment.landmarks[b]))


def body_targets(garment: GarmentModel, body: Body, mask: GarmentMask) -> tuple[np.ndarray, np.ndarray]:
    """Matching (garment photo points, body points) for the warp."""
    g = garment.landmarks
    s_left, s_right, h_left, h_right = _body_frame(body, mask)
    if garment.category == "lower":
        width = float(np.linalg.norm(h_right - h_left)) * 1.5
        centre = (h_left + h_right) / 2
        unit = width / max(_scaled(garment, "waist_left", "waist_right"), 1.0)
        names = ["waist_left", "waist_right", "waist_centre", "hem_left", "hem_right", "hem_centre"]
        targets = [centre + (g[n] - g["waist_centre"]) * unit for n in names]
        return np.stack([g[n] for n in names]), np.stack(targets)
    shoulder_width = float(np.linalg.norm(s_right - s_left)) * 1.25
    centre = (s_left + s_right) / 2
    across = (s_right - s_left) / max(np.linalg.norm(s_right - s_left), 1e-6)
    down = np.array([-across[1], across[0]])
    unit = shoulder_width / max(_scaled(garment, "shoulder_left", "shoulder_right"), 1.0)
    garment_centre = (g["shoulder_left"] + g["shoulder_right"]) / 2
    garment_across = (g["shoulder_right"] - g["shoulder_left"]) / max(_scaled(garment, "shoulder_left", "shoulder_right"), 1e-6)
    garment_down = np.array([-garment_across[1], garment_across[0]])

    def place(point: np.ndarray) -> np.ndarray:
        offset = point - garment_centre
        return centre + unit * (offset @ garment_across) * across + unit * (offset @ garment_down) * down

    names = ["shoulder_left", "shoulder_right", "neck", "hem_left", "hem_right", "hem_centre"]
    sources = [g[n] for n in names]
    targets = [place(g[n]) for n in names]
    elbows = body.visible((bp.LEFT_ELBOW, bp.RIGHT_ELBOW))
    if len(elbows) == 2:
        elbows = elbows[np.argsort(elbows[:, 0])]
        for side, shoulder, elbow in (("left", s_left, elbows[0]), ("right", s_right, elbows[1])):
            length = unit * _scaled(garment, f"shoulder_{side}", f"sleeve_{side}")
            direction = (elbow - shoulder) / max(np.linalg.norm(elbow - shoulder), 1e-6)
            sources.append(g[f"sleeve_{side}"])
            targets.append(shoulder + direction * length)
    return np.stack(sources), np.stack(targets)


def warp_garment(garment: GarmentModel, body: Body, mask: GarmentMask, shape: tuple[int, int],
                 category: str, grid: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The garment warped onto the body: RGB, its alpha in [0, 1], and what stays in front of it
    (face, hair, hands) as a uint8 mask."""
    sources, targets = body_targets(garment, body, mask)
    height, width = shape
    spline = RBFInterpolator(targets, sources, kernel="thin_plate_spline", smoothing=1.0)
    ys, xs = np.mgrid[0:height + grid:grid, 0:width + grid:grid]
    coarse = spline(np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64))
    map_x = cv2.resize(coarse[:, 0].reshape(xs.shape).astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    map_y = cv2.resize(coarse[:, 1].reshape(xs.shape).astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    warped = cv2.remap(garment.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.remap(garment.mask, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    alpha = alpha.astype(np.float32) / 255.0
    scale = float(np.linalg.norm(targets[1] - targets[0])) if len(targets) > 1 else 0.25 * min(shape)
    keep = protection_mask(body, shape, category, scale)
    return warped, alpha, keep
