"""The target's mouth interior (teeth, tongue) moved into the swapped face's mouth opening.

The swapped face's lips are the source's, carried by the morphable model: a narrower, fuller or lower
mouth than the target's. Keeping the target's mouth interior where the target has it showed its teeth
only where the two openings overlapped, and its own lips round or inside the source's (a double mouth,
a mouth that seemed not to open). The interior is instead warped from the target's inner-lip outline
onto the recombined one: across by the ratio of the mouths' widths, down by the ratio of their openings
(kept within a factor OPENING_SPREAD of the width's ratio), turned with the line between the corners.

The warped target reaches past the opening by the width over which the classical blend fades the swapped
lips in round it (`render.classical.face.mouth_feather_radius`): across that band the target's own
teeth-to-lip edge, warped, meets the swapped lips. Pasted inside the opening only, the band showed the
target's pixels where they were before the warp (its lips or teeth, unmoved).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..face3d import landmarks as lm
from ..masks.shapes import polygon_mask
from ..render.classical.face import mouth_feather_radius

OPENING_SPREAD = 2.0  # the opening's scale stays within this factor of the width's
MIN_OPENING_PX = 2.0  # a target opening narrower than this (pixels) scales like the width
BAND_MARGIN_PX = 1  # the warped band reaches this far past the blend's fade (its rounding)


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


def band_width(recombined: np.ndarray) -> int:
    """Pixels the warped mouth reaches past the recombined opening: the classical blend's fade of the lips'
    inner edge for this face (its width is the mesh's; the fade spans twice the feather's radius), plus
    BAND_MARGIN_PX."""
    return 2 * mouth_feather_radius(float(np.ptp(recombined[:, 0]))) + BAND_MARGIN_PX


def mouth_into_opening(image: np.ndarray, target: np.ndarray, recombined: np.ndarray) -> np.ndarray:
    """`image` (RGB uint8) with the target's mouth warped into the recombined inner-lip outline and
    `band_width` pixels round it (a copy; nothing further out changes). A face with closed recombined lips
    (an opening under MIN_OPENING_PX high on average) comes back unchanged."""
    height, width = image.shape[:2]
    outline = recombined[lm.INNER_LIPS, :2]
    _, _, mouth_width, _ = _frame(recombined)
    if cv2.contourArea(outline.astype(np.float32)) < MIN_OPENING_PX * mouth_width:
        return image  # closed lips: no opening to fill
    band = band_width(recombined)
    x0, y0 = np.maximum(np.floor(outline.min(axis=0)).astype(int) - band - 2, 0)
    x1, y1 = np.minimum(np.ceil(outline.max(axis=0)).astype(int) + band + 3, (width, height))
    if x1 <= x0 or y1 <= y0:
        return image
    opening = polygon_mask((y1 - y0, x1 - x0), outline - (x0, y0))
    if not opening.any():
        return image
    inside = cv2.dilate(opening, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1,) * 2)) > 0
    matrix = mouth_transform(target, recombined)
    # the inverse map, shifted into the box: each box pixel reads the target's pixel it comes from
    inverse = cv2.invertAffineTransform(matrix)
    inverse[:, 2] += inverse[:, :2] @ np.array([x0, y0], dtype=np.float64)
    warped = cv2.warpAffine(image, inverse, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_REFLECT)
    out = image.copy()
    box = out[y0:y1, x0:x1]
    box[inside] = warped[inside]
    return out
