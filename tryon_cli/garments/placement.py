"""Placing a garment on a body: a thin-plate-spline warp from the garment's landmarks to body points.

Body points are placed with the garment's own proportions, so length and sleeves follow the garment,
not the clothes being replaced.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.interpolate import RBFInterpolator

from ..analysis import body as bp
from ..analysis.body import Body
from ..masks.garment import GarmentMask, protection_mask
from .photo import GarmentModel

HIP_TO_WAISTBAND_WIDTH = 1.5  # a waistband is wider than the distance between the hip joints
SHOULDER_JOINTS_TO_GARMENT_WIDTH = 1.25  # a top's shoulder seams sit outside the shoulder joints
WARP_GRID = 8  # the spline is evaluated on this coarse grid (px) and interpolated
# Without a pose: shoulders and hips as fractions (x, y) of the mask's box.
BOX_SHOULDERS_AND_HIPS = ((0.25, 0.12), (0.75, 0.12), (0.3, 0.85), (0.7, 0.85))
LOWER_BOX_HIPS = ((0.25, -0.3), (0.75, -0.3), (0.3, 0.06), (0.7, 0.06))  # a lower mask's box: hips at the top


def _body_frame(body: Body, mask: GarmentMask, category: str = "upper"
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Image-left/right shoulders and hips on the body; from the mask's box when pose is missing (a lower
    mask's box starts at the hips, so its hips are at its top, not near its bottom)."""
    shoulders = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))
    hips = body.visible((bp.LEFT_HIP, bp.RIGHT_HIP))
    if len(shoulders) == 2 and len(hips) == 2:
        s = shoulders[np.argsort(shoulders[:, 0])]
        h = hips[np.argsort(hips[:, 0])]
        return s[0], s[1], h[0], h[1]
    x0, y0, x1, y1 = mask.box
    w, h = x1 - x0, y1 - y0
    (sl, st), (sr, _), (hl, hb), (hr, _) = BOX_SHOULDERS_AND_HIPS if category != "lower" else LOWER_BOX_HIPS
    return (np.array([x0 + sl * w, y0 + st * h]), np.array([x0 + sr * w, y0 + st * h]),
            np.array([x0 + hl * w, y0 + hb * h]), np.array([x0 + hr * w, y0 + hb * h]))


def _scaled(garment: GarmentModel, a: str, b: str) -> float:
    return float(np.linalg.norm(garment.landmarks[a] - garment.landmarks[b]))


def body_targets(garment: GarmentModel, body: Body, mask: GarmentMask) -> tuple[np.ndarray, np.ndarray]:
    """Matching (garment photo points, body points) for the warp."""
    g = garment.landmarks
    s_left, s_right, h_left, h_right = _body_frame(body, mask, garment.category)
    if garment.category == "lower":
        width = float(np.linalg.norm(h_right - h_left)) * HIP_TO_WAISTBAND_WIDTH
        centre = (h_left + h_right) / 2
        unit = width / max(_scaled(garment, "waist_left", "waist_right"), 1.0)
        names = ["waist_left", "waist_right", "waist_centre", "hem_left", "hem_right", "hem_centre"]
        targets = [centre + (g[n] - g["waist_centre"]) * unit for n in names]
        return np.stack([g[n] for n in names]), np.stack(targets)
    shoulder_width = float(np.linalg.norm(s_right - s_left)) * SHOULDER_JOINTS_TO_GARMENT_WIDTH
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
    for side, shoulder, chain in (("left", s_left, _arm(body, 0)), ("right", s_right, _arm(body, 1))):
        if chain is None:
            continue
        sources_side, targets_side = _sleeve_points(g, side, shoulder, chain, unit)
        sources.extend(sources_side)
        targets.extend(targets_side)
    return np.stack(sources), np.stack(targets)


def _arm(body: Body, image_side: int) -> list[np.ndarray] | None:
    """The image-left (0) or image-right (1) arm as [elbow, wrist?] (wrist only when visible); None
    without an elbow."""
    pairs = []
    for shoulder, elbow, wrist in ((bp.LEFT_SHOULDER, bp.LEFT_ELBOW, bp.LEFT_WRIST),
                                   (bp.RIGHT_SHOULDER, bp.RIGHT_ELBOW, bp.RIGHT_WRIST)):
        s, e, w = (body.visible((i,)) for i in (shoulder, elbow, wrist))
        if len(s) and len(e):
            pairs.append((s[0], [e[0]] + ([w[0]] if len(w) else [])))
    if len(pairs) != 2:
        return None
    pairs.sort(key=lambda pair: pair[0][0])
    return pairs[image_side][1]


def _sleeve_points(g: dict[str, np.ndarray], side: str, shoulder: np.ndarray, chain: list[np.ndarray],
                   unit: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Sleeve points that follow the upper arm, then the forearm: the sleeve's length (from the photo,
    scaled) is walked along shoulder -> elbow -> wrist, so a long sleeve bends at the elbow."""
    start, end = g[f"shoulder_{side}"], g[f"sleeve_{side}"]
    length = unit * float(np.linalg.norm(end - start))
    joints = [shoulder, *chain]
    sources, targets = [], []
    walked = 0.0
    for a, b in zip(joints[:-1], joints[1:]):
        segment = float(np.linalg.norm(b - a))
        if segment < 1e-6:
            continue
        if walked + segment >= length or b is joints[-1]:
            reach = min(length - walked, segment) if b is not joints[-1] else length - walked
            sources.append(end)
            targets.append(a + (b - a) / segment * reach)
            return sources, targets
        walked += segment  # the sleeve passes this joint: pin the matching point of the photo's sleeve
        sources.append(start + (end - start) * (walked / max(length, 1e-6)))
        targets.append(b)
    return sources, targets


def warp_garment(garment: GarmentModel, body: Body, mask: GarmentMask, shape: tuple[int, int],
                 category: str, grid: int = WARP_GRID) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
