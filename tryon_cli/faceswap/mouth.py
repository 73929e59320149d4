"""The target's mouth interior (teeth, tongue) moved into the swapped face's mouth opening.

The swapped face's lips are the source's, carried by the morphable model: a narrower, fuller or lower
mouth than the target's. Keeping the target's mouth interior where the target has it showed its teeth
only where the two openings overlapped, and its own lips round or inside the source's (a double mouth,
a mouth that seemed not to open). The interior is instead warped from the target's inner-lip outline
onto the recombined one: across by the ratio of the mouths' widths, down by the ratio of their openings
(kept within a factor OPENING_SPREAD of the width's ratio), turned with the line between the corners.

Only the interior moves: the target's inner-lip outline shrunk by INTERIOR_ERODE of its width, less the
lip-coloured pixels near that outline (the target's lips, which showed as a second red lip edge inside
the source's). The gaps are filled from the interior round them. The paste's edge is soft over
PASTE_FEATHER of the face's width: the interior darkens towards the outline into the lips' shadow (their colour, darkened) and that
dark is feathered a little outside it, where the blend's narrow hole feather shows the frame through the
swapped lips: the lips fade into the mouth's shadow, not into a hard teeth edge or the target's lips.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..face3d import landmarks as lm
from ..masks.shapes import polygon_mask

OPENING_SPREAD = 2.0  # the opening's scale stays within this factor of the width's
MIN_OPENING_PX = 2.0  # a target opening narrower than this (pixels) scales like the width
INTERIOR_ERODE = 0.03  # the target's inner-lip outline is shrunk by this share of its mouth's width
LIP_RIM = 0.12  # lip-coloured pixels this share of the mouth's width from the outline are the target's lips
LIP_COLOUR_DISTANCE = 14.0  # Lab distance (a*, b* doubled, L once) to the lips' median colour that is "lip"
PASTE_FEATHER = 0.015  # the paste's soft edge (shaded inside, feathered outside), as a share of the face's width
RIM_SHADE = 0.4  # the mouth's shadow at its outline: the target's lip colour darkened this much
RIM_INTERIOR = 0.45  # the interior's share at the outline, over the shadow (1 deeper than PASTE_FEATHER in)


def _frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """A mouth's centre, its unit corner-to-corner axis, its inner width and its opening (pixels)."""
    left, right = points[lm.MOUTH_LEFT, :2].astype(np.float64), points[lm.MOUTH_RIGHT, :2].astype(np.float64)
    axis = right - left
    width = float(np.linalg.norm(axis))
    centre = points[lm.INNER_LIPS, :2].astype(np.float64).mean(axis=0)
    opening = float(np.linalg.norm(points[lm.MOUTH_TOP, :2] - points[lm.MOUTH_BOTTOM, :2]))
    return centre, axis / max(width, 1e-6), width, opening


def mouth_transform(target: np.ndarray, recombined: np.ndarray) -> np.ndarray:
    """The 2x3 affine map taking the target's mouth (image points) onto the recombined one's."""
    c_t, u_t, w_t, o_t = _frame(target)
    c_r, u_r, w_r, o_r = _frame(recombined)
    sx = w_r / max(w_t, 1e-6)
    sy = o_r / o_t if o_t >= MIN_OPENING_PX else sx
    sy = float(np.clip(sy, sx / OPENING_SPREAD, sx * OPENING_SPREAD))
    v_t, v_r = np.array([-u_t[1], u_t[0]]), np.array([-u_r[1], u_r[0]])
    # target pixel -> its mouth frame (along, across) -> scaled -> the recombined mouth's frame
    into_target = np.stack([u_t, v_t])  # rows: the target's axes
    out_of_recombined = np.stack([u_r, v_r], axis=1)  # columns: the recombined axes
    linear = out_of_recombined @ np.diag([sx, sy]) @ into_target
    return np.concatenate([linear, (c_r - linear @ c_t)[:, None]], axis=1)


def _lab(image: np.ndarray) -> np.ndarray:
    """`image` (RGB uint8) as float Lab with a* and b* weighted twice: lips differ from teeth in colour."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    return lab * np.array([1.0, 2.0, 2.0], dtype=np.float32)


def mouth_interior(image: np.ndarray, target: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The target's teeth, tongue and dark mouth inside `box` (x0, y0, x1, y1) of `image` (bool): its
    inner-lip outline shrunk by INTERIOR_ERODE of the mouth's width, less the pixels within LIP_RIM of
    that outline whose colour is the lips' (median of the ring between the outer and inner lips)."""
    x0, y0, x1, y1 = box
    shape = (y1 - y0, x1 - x0)
    _, _, mouth_width, _ = _frame(target)
    opening = polygon_mask(shape, target[lm.INNER_LIPS, :2] - (x0, y0))
    shrink = int(round(INTERIOR_ERODE * mouth_width))
    if shrink > 0:
        opening = cv2.erode(opening, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * shrink + 1,) * 2))
    interior = opening > 0
    lips = (polygon_mask(shape, target[lm.OUTER_LIPS, :2] - (x0, y0)) > 0) & ~(
        polygon_mask(shape, target[lm.INNER_LIPS, :2] - (x0, y0)) > 0)
    if not interior.any() or not lips.any():
        return interior
    lab = _lab(np.ascontiguousarray(image[y0:y1, x0:x1]))
    lip_colour = np.median(lab[lips], axis=0)
    lip_like = np.linalg.norm(lab - lip_colour, axis=2) < LIP_COLOUR_DISTANCE
    from_outline = cv2.distanceTransform(interior.astype(np.uint8), cv2.DIST_L2, 3)
    return interior & ~(lip_like & (from_outline < LIP_RIM * mouth_width))


def lip_shadow(image: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """The shadow between lips and teeth (RGB float): the target's lip colour (median over the ring
    between its outer and inner lips) times RIM_SHADE; None where the ring has no pixels."""
    height, width = image.shape[:2]
    outer = target[lm.OUTER_LIPS, :2]
    x0, y0 = np.maximum(np.floor(outer.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(outer.max(axis=0)).astype(int) + 1, (width, height))
    if x1 <= x0 or y1 <= y0:
        return None
    shape = (y1 - y0, x1 - x0)
    ring = (polygon_mask(shape, outer - (x0, y0)) > 0) & ~(polygon_mask(shape, target[lm.INNER_LIPS, :2] - (x0, y0)) > 0)
    if not ring.any():
        return None
    return np.median(image[y0:y1, x0:x1][ring].astype(np.float32), axis=0) * RIM_SHADE


def mouth_into_opening(image: np.ndarray, target: np.ndarray, recombined: np.ndarray) -> np.ndarray:
    """`image` (RGB uint8) with the target's mouth interior warped into the recombined inner-lip outline
    (inside it only; a copy). A face with closed recombined lips (an opening under MIN_OPENING_PX high on
    average) comes back unchanged."""
    height, width = image.shape[:2]
    outline = recombined[lm.INNER_LIPS, :2]
    _, _, mouth_width, _ = _frame(recombined)
    if cv2.contourArea(outline.astype(np.float32)) < MIN_OPENING_PX * mouth_width:
        return image  # closed lips: no opening to fill
    face_width = float(np.ptp(recombined[lm.FACE_OVAL, 0]))
    radius = max(PASTE_FEATHER * face_width, 1.0)
    margin = int(np.ceil(2 * radius)) + 2
    x0, y0 = np.maximum(np.floor(outline.min(axis=0)).astype(int) - margin, 0)
    x1, y1 = np.minimum(np.ceil(outline.max(axis=0)).astype(int) + margin + 1, (width, height))
    if x1 <= x0 or y1 <= y0:
        return image
    inside = polygon_mask((y1 - y0, x1 - x0), outline - (x0, y0))
    if not inside.any():
        return image
    matrix = mouth_transform(target, recombined)
    # the inverse map, shifted into the box: each box pixel reads the target's pixel it comes from
    inverse = cv2.invertAffineTransform(matrix)
    inverse[:, 2] += inverse[:, :2] @ np.array([x0, y0], dtype=np.float64)
    warped = cv2.warpAffine(image, inverse, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_REFLECT)
    # the target's interior, found in its own mouth's box and warped like its pixels
    source_box = cv2.transform(np.array([[[0, 0], [x1 - x0, 0], [0, y1 - y0], [x1 - x0, y1 - y0]]], np.float64),
                               inverse)[0]
    t_x0, t_y0 = np.maximum(np.floor(source_box.min(axis=0)).astype(int) - 2, 0)
    t_x1, t_y1 = np.minimum(np.ceil(source_box.max(axis=0)).astype(int) + 3, (width, height))
    if t_x1 > t_x0 and t_y1 > t_y0:
        interior = mouth_interior(image, target, (t_x0, t_y0, t_x1, t_y1)).astype(np.uint8) * 255
        shifted = inverse.copy()
        shifted[:, 2] -= (t_x0, t_y0)
        valid = cv2.warpAffine(interior, shifted, (x1 - x0, y1 - y0), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        valid = cv2.erode(valid, np.ones((3, 3), np.uint8)) > 0  # its edge read the lips too (bilinear)
        if valid.any():  # the lips' and the outline's pixels filled from the interior round them
            warped = cv2.inpaint(warped, (~valid).astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
    # The soft edge: the interior darkens towards the outline over `radius` (the lips' shadow), the dark
    # reaching about `radius` outside it, under the swapped lips, where the blend's narrow hole feather
    # shows the frame: the lips' inner edge fades into the mouth's dark, not into a hard teeth edge.
    shadow = lip_shadow(image, target)
    if shadow is not None:
        depth = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
        # a thin opening is shaded over at most a third of its depth: its teeth are not all shadow
        reach = min(radius, float(depth.max()) / 3.0) if depth.max() > 0 else radius
        weight = (RIM_INTERIOR + (1.0 - RIM_INTERIOR) * np.clip(depth / reach, 0.0, 1.0))[..., None]
        warped = (shadow + (warped.astype(np.float32) - shadow) * weight).round().astype(np.uint8)
    grown = cv2.dilate(inside, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * int(round(radius / 2)) + 1,) * 2))
    alpha = np.maximum(cv2.GaussianBlur(grown.astype(np.float32) / 255.0, (0, 0), radius / 2.0), inside > 0)
    out = image.copy()
    box = out[y0:y1, x0:x1]
    box[:] = cv2.blendLinear(box, warped, 1.0 - alpha, alpha.astype(np.float32))
    return out
