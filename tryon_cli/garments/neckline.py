"""The neck opening of a flat top's photo: what is seen through it is the garment's inside.

A top laid flat shows, inside its neckline, the inner back (its label, the back collar band, the lining
in shadow). Worn, that place is the person's neck and chest. The opening is found as the region above
the front neckline: a half ellipse hung between the opening's two top corners (the outline's highest
points either side of the centre), whose width and depth are those that run along the strongest colour
edge inside the garment (the front collar's seam), below the back neckline.
"""

from __future__ import annotations

import cv2
import numpy as np

NECK_SEARCH = 0.35  # the opening's corners are looked for this far (shoulder widths) either side of the centre
CORNER_TOLERANCE = 2  # px: outline points this close to the highest count as the top (the innermost is the corner)
MAX_CORNER_DROP = 0.1  # the corners lie at most this far (shoulder widths) below the garment's top (not so:
# the straps of a camisole rise above them, and what lies between is its front)
MIN_OPENING = 0.15  # an opening narrower than this (shoulder widths) is no neck opening (a shirt's closed collar)
MAX_BACK_DIP = 0.45  # the back neckline dips at most this much (half-openings) below the corners: deeper, the
# outline's top between the straps is the front itself (a camisole, a crop top), no inside is seen
WIDTHS = np.linspace(0.7, 1.0, 7)  # the front neckline's half-width, in half-openings ...
DEPTHS = np.arange(0.2, 1.3, 0.02)  # ... its depth below its centre ...
DROPS = (0.0, 0.1, 0.2)  # ... and its centre's drop below the corners (a collar band's inner edge is lower)
MIN_BELOW_BACK = 0.25  # the front neckline lies at least this far (half-openings) below the back neckline
EDGE_INSET = 0.06  # the arc keeps this far (half-openings) inside the garment (the outline is no seam)
MIN_CONTRAST = 2.0  # the best arc's edge strength over the median arc's: weaker, no seam was found ...
PRIOR_DEPTH = 0.5  # ... and the opening reaches this deep (half-openings), a crew neck's usual drop
ARC_SAMPLES = 60
ARC_SPAN = (0.15, 0.85)  # the arc is scored on this part of its half turn (its ends meet the outline)


def neck_opening(image: np.ndarray, mask: np.ndarray, shoulders: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The opening (uint8 0/255, within `mask`) of a top's flat photo: the inner back and the back collar
    seen above the front neckline; empty when the top has no such opening (a collar, straps)."""
    height, width = mask.shape
    empty = np.zeros(mask.shape, np.uint8)
    left, right = float(shoulders[0][0]), float(shoulders[1][0])
    span = right - left
    if span < 8 or not mask.any():
        return empty
    centre = (left + right) / 2
    top = np.where(mask.any(axis=0), np.argmax(mask > 0, axis=0), height)
    reach = int(NECK_SEARCH * span)
    sides = (np.arange(max(int(centre) - reach, 0), int(centre)),
             np.arange(int(centre) + 1, min(int(centre) + reach, width)))
    if not len(sides[0]) or not len(sides[1]):
        return empty
    corners = []
    for side, columns in enumerate(sides):
        rows = top[columns]
        highest = columns[rows <= rows.min() + CORNER_TOLERANCE]
        corners.append((float(highest.max() if side == 0 else highest.min()), float(rows.min())))
    (lx, ly), (rx, ry) = corners
    half = (rx - lx) / 2
    if 2 * half < MIN_OPENING * span or max(ly, ry) - top.min() > MAX_CORNER_DROP * span:
        return empty
    xc, yn = (lx + rx) / 2, (ly + ry) / 2
    back = float(top[int(round(xc))])
    if back - yn > MAX_BACK_DIP * half:
        return empty
    width_share, depth, drop = _front_neckline(image, mask, xc, yn, half, back)
    # everything above the front neckline between its ends: the inner back and the back collar band
    ys, xs = np.mgrid[0:height, 0:width]
    across = (xs - xc) / (width_share * half)
    below = yn + (drop + depth * np.sqrt(np.clip(1.0 - across ** 2, 0.0, 1.0))) * half
    opening = (np.abs(across) <= 1.0) & (ys <= below) & (mask > 0)
    return np.where(opening, 255, 0).astype(np.uint8)


def _front_neckline(image: np.ndarray, mask: np.ndarray, xc: float, yn: float, half: float,
                    back: float) -> tuple[float, float, float]:
    """(half-width, depth, centre's drop) of the front neckline in half-openings: the half ellipse below
    (xc, yn) along which the colour edge across it is strongest; PRIOR_DEPTH at full width when no edge
    stands out."""
    height, width = mask.shape
    lab = cv2.cvtColor(cv2.GaussianBlur(image, (0, 0), 1.5).astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    gx = np.stack([cv2.Sobel(lab[..., i], cv2.CV_32F, 1, 0, ksize=3) for i in range(3)], axis=-1)
    gy = np.stack([cv2.Sobel(lab[..., i], cv2.CV_32F, 0, 1, ksize=3) for i in range(3)], axis=-1)
    inset = max(int(EDGE_INSET * half), 1)
    inner = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * inset + 1,) * 2)) > 0
    turn = np.linspace(ARC_SPAN[0] * np.pi, ARC_SPAN[1] * np.pi, ARC_SAMPLES)
    scored = []
    for share, depth, drop in ((s, d, o) for s in WIDTHS for d in DEPTHS for o in DROPS):
        if yn + (drop + depth) * half < back + MIN_BELOW_BACK * half:
            continue
        a, b = share * half, depth * half
        xs = np.round(xc + a * np.cos(turn)).astype(int)
        ys = np.round(yn + drop * half + b * np.sin(turn)).astype(int)
        if (xs < 0).any() or (xs >= width).any() or (ys >= height).any() or not inner[ys, xs].all():
            continue
        # the edge across the arc: the colour gradient along the ellipse's normal
        nx, ny = np.cos(turn) / a, np.sin(turn) / b
        norm = np.hypot(nx, ny)
        strength = np.abs(gx[ys, xs] * (nx / norm)[:, None] + gy[ys, xs] * (ny / norm)[:, None]).sum(axis=1)
        scored.append((float(np.median(strength)), float(share), float(depth), float(drop)))
    if not scored:
        return 1.0, PRIOR_DEPTH, 0.0
    best = max(scored)
    if best[0] < MIN_CONTRAST * float(np.median([entry[0] for entry in scored])):
        return 1.0, max(PRIOR_DEPTH, (back - yn) / half + MIN_BELOW_BACK), 0.0
    return best[1], best[2], best[3]
