"""Thin glasses frames without the face parser: dark thin ridges in a ring round each eye and over the
nose's bridge, where the face mesh says a pair of glasses sits.

The skin-colour occlusion model drops anything narrower than a few pixels (its speck filter) and
everything next to the eyes and brows (its feature guard), so a thin frame was swapped away; the parser
misses the frames of a blurry old photo altogether. Here a frame is a line darker than the pixels a
few of its widths away on both sides (a morphological black-hat of the lightness), in the lenses' ring
(each eye's surroundings, not the eye itself nor the brow's hairs) and across the bridge. Wrinkles and
lid creases are such lines too, so glasses are declared only when the lines go most of the way round
both eyes and one crosses the bridge: a crease is short and on one side.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..face3d import landmarks as lm
from .shapes import as_mask, polygon_mask

LINE_WIDTH_PER_FACE_WIDTH = 0.035  # the black-hat's kernel: lines up to about half this wide are found
MIN_KERNEL = 5  # pixels
WORK_FACE_WIDTH = 240.0  # pixels: a wider face is searched shrunk by a whole factor
RIDGE_CONTRAST = 9.0  # a line this much darker (grey level, 0..255) than its surroundings is a candidate
RING_OUTER = (1.3, 1.2)  # the lens ring's outer ellipse: eye widths from the eye's centre (x, y)
RING_INNER = 0.5  # ... and a line of a frame lies mostly outside this share of it (lid creases and the
# lines under the eyes lie inside)
EYE_GUARD_PER_EYE_WIDTH = 0.22  # the eye's opening grown this much is never frame (lashes, lid line, lid crease)
BROW_GUARD_PER_EYE_WIDTH = 0.04  # ... nor the brow's hull grown this much
SECTORS = 16  # angular sectors round each eye ...
MIN_SECTORS = 9  # ... at least this many of them holding a line, on both eyes, for glasses
MIN_LOWER_SECTORS = 6  # ... this many of them in the lower half (a scowl's creases are above and beside)
MIN_PART_PER_EYE_WIDTH = 0.25  # a line shorter than this is a pore or a speck
BRIDGE_SPAN = 0.7  # lines over the bridge cover at least this share of the inner corners' gap (columns)


def _eye_frame(points: np.ndarray, corners: tuple[int, int]) -> tuple[np.ndarray, float]:
    a, b = points[corners[0], :2], points[corners[1], :2]
    return (a + b) / 2.0, float(np.linalg.norm(b - a))


def thin_frames(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The frame of thin glasses worn by the face at `points` (uint8 0/255, `image`'s size), or all zero
    when the lines round the eyes do not make a pair of glasses. Found in the box round both lenses, with
    a face wider than WORK_FACE_WIDTH shrunk by a whole factor to that width or under (the sizes are all
    shares of the face, and a close-up's frame is still several pixels wide)."""
    shape = image.shape[:2]
    empty = np.zeros(shape, dtype=np.uint8)
    (right_c, right_w), (left_c, left_w) = (_eye_frame(points, lm.RIGHT_EYE_CORNERS),
                                            _eye_frame(points, lm.LEFT_EYE_CORNERS))
    eye_width = max((right_w + left_w) / 2.0, 1.0)
    centre = (right_c + left_c) / 2.0
    half = np.array([np.linalg.norm(left_c - right_c) / 2.0 + RING_OUTER[0] * eye_width,
                     RING_OUTER[1] * eye_width]) + 4
    x0, y0 = np.maximum(np.floor(centre - half).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(centre + half).astype(int) + 1, (shape[1], shape[0]))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return empty
    window = np.ascontiguousarray(image[y0:y1, x0:x1])
    local = points[:, :2].astype(np.float64) - (x0, y0)
    factor = int(np.ceil(float(np.ptp(points[:, 0])) / WORK_FACE_WIDTH))
    if factor > 1:
        small = cv2.resize(window, (max((x1 - x0) // factor, 1), max((y1 - y0) // factor, 1)),
                           interpolation=cv2.INTER_AREA)
        found = _lines(small, (local + 0.5) / factor - 0.5, float(np.ptp(points[:, 0])) / factor)
        if not found.any():  # no glasses (usually): nothing to upsample
            return empty
        found = cv2.resize(found, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        found = as_mask(found > 127)
    else:
        found = _lines(window, local, float(np.ptp(points[:, 0])))
    empty[y0:y1, x0:x1] = found
    return empty


def _lines(window: np.ndarray, local: np.ndarray, face_width: float) -> np.ndarray:
    """`thin_frames` inside a window (`local`: the mesh's x, y in the window's pixels; uint8 0/255)."""
    empty = np.zeros(window.shape[:2], dtype=np.uint8)
    (right_c, right_w), (left_c, left_w) = (_eye_frame(local, lm.RIGHT_EYE_CORNERS),
                                            _eye_frame(local, lm.LEFT_EYE_CORNERS))
    eye_width = max((right_w + left_w) / 2.0, 1.0)

    lightness = cv2.cvtColor(window, cv2.COLOR_RGB2GRAY)  # (Lab's L cost ten times as much, same lines)
    k = max(int(LINE_WIDTH_PER_FACE_WIDTH * face_width) | 1, MIN_KERNEL)
    ridge = cv2.morphologyEx(lightness, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    candidate = (ridge.astype(np.float32) > RIDGE_CONTRAST).astype(np.uint8)

    size = (window.shape[1], window.shape[0])
    search = np.zeros((size[1], size[0]), dtype=np.uint8)
    guard = np.zeros_like(search)
    eye_grow = max(int(EYE_GUARD_PER_EYE_WIDTH * eye_width), 1)
    brow_grow = max(int(BROW_GUARD_PER_EYE_WIDTH * eye_width), 1)
    for (c, _), eye, brow in (((right_c, right_w), lm.RIGHT_EYE, lm.RIGHT_BROW),
                              ((left_c, left_w), lm.LEFT_EYE, lm.LEFT_BROW)):
        cx, cy = c
        cv2.ellipse(search, (int(round(cx)), int(round(cy))),
                    (int(RING_OUTER[0] * eye_width), int(RING_OUTER[1] * eye_width)), 0, 0, 360, 255, -1)
        guard |= cv2.dilate(polygon_mask(search.shape, local[eye]),
                            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * eye_grow + 1,) * 2))
        hull = cv2.convexHull(np.round(local[brow]).astype(np.int32))
        brow_mask = cv2.fillConvexPoly(np.zeros_like(search), hull, 255)
        guard |= cv2.dilate(brow_mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * brow_grow + 1,) * 2))
    candidate &= (search > 0) & (guard == 0)

    # lines long enough to be part of a frame
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
    long_enough = np.zeros(count, dtype=bool)
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    long_enough[1:] = extent[1:] >= MIN_PART_PER_EYE_WIDTH * eye_width
    # ... and out in the ring: a part's mean distance from its nearer eye (in ring radii)
    ys, xs = np.nonzero(candidate)
    radius = np.full(len(xs), np.inf)
    for c in (right_c, left_c):
        cx, cy = c
        radius = np.minimum(radius, np.hypot((xs - cx) / RING_OUTER[0], (ys - cy) / RING_OUTER[1]) / eye_width)
    if len(xs):
        part = labels[ys, xs]
        mean = np.bincount(part, weights=radius, minlength=count) / np.maximum(np.bincount(part, minlength=count), 1)
        long_enough &= mean >= RING_INNER
    lines = long_enough[labels]
    if not lines.any():
        return empty

    # most of the way round both eyes
    ys, xs = np.nonzero(lines)
    for c in (right_c, left_c):
        cx, cy = c
        near = (((xs - cx) / (RING_OUTER[0] * eye_width)) ** 2 + ((ys - cy) / (RING_OUTER[1] * eye_width)) ** 2) <= 1.0
        angles = np.arctan2(ys[near] - cy, xs[near] - cx)
        sectors = np.unique(((angles + np.pi) / (2 * np.pi) * SECTORS).astype(int) % SECTORS)
        # (image y down: angles in (0, pi) are below the eye, where a lens always has its rim)
        lower = np.count_nonzero((sectors >= SECTORS // 2) & (sectors < SECTORS))
        if len(sectors) < MIN_SECTORS or lower < MIN_LOWER_SECTORS:
            return empty

    # and one line across the bridge, between the inner corners
    inner_r, inner_l = local[lm.RIGHT_EYE_CORNERS[1]], local[lm.LEFT_EYE_CORNERS[0]]
    gap_x0, gap_x1 = sorted((inner_r[0], inner_l[0]))
    gap = gap_x1 - gap_x0
    if gap < 2:
        return empty
    brow_bottom = min(local[lm.RIGHT_BROW, 1].max(), local[lm.LEFT_BROW, 1].max())
    top = int(max(min(brow_bottom, (inner_r[1] + inner_l[1]) / 2 - 0.5 * eye_width), 0))
    bottom = int(min((inner_r[1] + inner_l[1]) / 2 + 0.25 * eye_width, size[1] - 1))
    bridge_box = np.zeros_like(search)
    bridge_box[top : bottom + 1, int(gap_x0) : int(np.ceil(gap_x1)) + 1] = 255
    bridge_lines = (ridge.astype(np.float32) > RIDGE_CONTRAST) & (bridge_box > 0) & (guard == 0)
    # the lines there cover most of the gap's columns (the bridge, where it meets the rims, can break up)
    columns = bridge_lines[:, int(gap_x0) : int(np.ceil(gap_x1)) + 1].any(axis=0)
    if columns.mean() < BRIDGE_SPAN:
        return empty
    bridge = bridge_lines

    return as_mask(lines | bridge)


SMALL_FACE_WIDTH = 100.0  # pixels: a photo's face is also searched at about this width


def photo_thin_frames(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """`thin_frames` of a photo, also searched with the face shrunk to about SMALL_FACE_WIDTH pixels
    (uint8 0/255, `image`'s size): an old, blurry or blocky photo's frames are lines several pixels
    wide, and its compression blocks lines of their own at full size."""
    found = thin_frames(image, points)
    scale = SMALL_FACE_WIDTH / max(float(np.ptp(points[:, 0])), 1.0)
    if scale < 0.7:
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        local = points.copy()
        local[:, :2] = (points[:, :2] + 0.5) * scale - 0.5  # as cv2.resize maps pixel centres
        up = cv2.resize(thin_frames(small, local), (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
        found |= as_mask(up > 127)
    return found
