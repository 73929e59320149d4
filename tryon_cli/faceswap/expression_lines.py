"""A photo's upper-face expression lines softened, so a neutral face does not wear them.

A scowl furrows the skin between the brows and wrinkles it across the nose's root; a squint or a laugh
folds it beside the eyes' outer corners (crow's feet) and bunches it under the lower lids. Neutralising
the shape moves the brows and mouth back, but these lines stay in the photo's texture and were pasted
on every frame (an angry face on a calm talker). `folds.py` does the same for a smile's folds around the
nose and mouth. Before the photo is used, a share of the lines' band of spatial frequencies (above
pores and grain, below the face's broad shading, which the render takes from the target anyway) is
taken out of those zones, as much as the photo's expression is strong: the glabella, the forehead's
middle and the nose's root by how far its brows are from rest (`scowl_strength`), the eyes' corners and
the skin under them by how much it smiles (`folds.smile_strength`). Brows,
eyes, nostrils and lips keep theirs (they carry identity); the band is measured on the skin only.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..colour import masked_blur
from ..face3d import landmarks as lm
from ..face3d.morphable import BROWS, MorphableModel, population_rest
from ..masks.face import face_region, feature_regions
from ..masks.shapes import hull_mask, points_box

BROW_RAMP = (0.035, 0.07)  # the brows' distance from rest (eye distances, `scowl_strength`) from which the
# scowl's lines are softened, fully at the second: portrait_anger 0.074, portrait_dark_lowres 0.087,
# portrait_fringe_laughing 0.056, side_light 0.042, a wink 0.032, portrait_a 0.032, a smile 0.012 (rest: the
# model's mean face)
EXPRESSION_RAMP = (1.4, 2.2)  # the fitted expression's distance from neutral (prior standard deviations,
# `expression_strength`) from which the lines are softened, fully at the second. The rebuilt morphable model's
# priors are wider (residuals from each person's rest face, mouths open while talking): portrait_a 1.05,
# b 1.5, glasses 1.55, c 1.9, dark_lowres 2.1, anger 2.2, a wink 2.2, side_light 2.9, a laugh 4.3 (the earlier
# model's ramp 4.0-6.5 measured a 3.0, anger 6.8, laugh 7.5; these strengths match its within 0.3 but for
# c 0.59 (was 0.28) and glasses 0.19 (was 0.64))
SCOWL_SHARE = 0.4  # the glabella's, forehead's and nose root's lines lose this share of their band at full
# strength: 0.7 took the face further from the source in dlib's eyes (portrait_anger onto a talking_frontal
# frame 0.42 -> 0.46, base 0.42 at 0.4; portrait_fringe_laughing 0.60 -> 0.63, 0.61 at 0.4)
FURROW_WIDTH = 0.05  # furrows and creases narrower than this (fraction of the face's width) are found as lines
CALM_SPREAD = 2.0  # ... and squashed in the scowl zone to about this many times their median there (lightness)
EYE_SHARE = 0.45  # the crow's feet and the creases under the eyes (the eyes' surroundings carry identity: less)
LINE_BAND = (0.005, 0.06)  # the lines' band: between these Gaussian blurs, as fractions of the face's width
SCOWL_REACH = 0.05  # the scowl zone (brows' inner halves, forehead middle, nasion) grown by this fraction
CORNER_REACH = 0.09  # the crow's feet: a disc this big (fraction of the face's width) beside each outer corner
UNDER_EYE_DEPTH = 0.07  # the skin under each lower lid down to this far (fraction of the face's width)
FEATURE_CLEARANCE = 0.01  # eyes, brows, nostrils and lips grown by this fraction stay out of every zone
ZONE_FEATHER = 0.02  # the zones' soft edges (Gaussian sigma), as a fraction of the face's width
# the scowl zone: both brows' inner halves, the forehead's middle, the nose's root and its bridge's upper half
# (a scowl wrinkles the skin across it)
SCOWL_POINTS = np.array([107, 66, 55, 65, 336, 296, 285, 295, 9, 151, 8, 168, 6, 197, 193, 417, 122, 351, 196, 419, 3, 248],
                        dtype=np.int64)
OUTER_CORNERS = (33, 263)  # the eyes' outer corners (right, left)
INNER_CORNERS = (133, 362)
LOWER_LIDS = (np.array([33, 7, 163, 144, 145, 153, 154, 155, 133]),
              np.array([263, 249, 390, 373, 374, 380, 381, 382, 362]))


def scowl_strength(model: MorphableModel, shape: np.ndarray) -> float:
    """How far a face's brows are from rest, 0..1: their mean distance (eye distances, in the image plane)
    from where a face at rest has them (`morphable.population_rest`: the model's mean face on the rigid
    points; the rebuilt model's identity fit spans lowered brows, and called a scowl the person's own), ramped
    over BROW_RAMP. A scowl's or a glare's furrows come with the brows' motion; a laugh or a wink that
    leaves the brows where they rest measures 0, and its glabella keeps its band (softening it at the
    expression's full strength cost those photos dlib's same-person rate and the mouth's correlation)."""
    rest = population_rest(model, shape)
    distance = float(np.linalg.norm((np.asarray(shape) - rest)[BROWS, :2], axis=1).mean())
    low, high = BROW_RAMP
    return float(np.clip((distance - low) / (high - low), 0.0, 1.0))


def expression_strength(model: MorphableModel, shape: np.ndarray) -> float:
    """How far a face's fitted expression is from neutral, 0..1: the Mahalanobis length of its expression
    coefficients (each over its prior standard deviation), ramped over EXPRESSION_RAMP."""
    beta = model.fit(shape).expression.astype(np.float64)
    distance = float(np.sqrt(np.sum(beta**2 / model.expression_variance)))
    low, high = EXPRESSION_RAMP
    return float(np.clip((distance - low) / (high - low), 0.0, 1.0))


def line_zones(shape: tuple[int, int], points: np.ndarray, face_width: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scowl, eyes, features): float32 0..1 feathered weights of the scowl's zone (glabella, forehead
    middle, nose root) and the eyes' zone (crow's feet, under the lower lids), inside the face, and the
    bool mask of the features (eyes, brows, nostrils, lips) kept out of both."""
    def disc(radius: float) -> np.ndarray:
        r = max(int(radius), 1)
        return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)

    inside = face_region(shape, points) > 0
    features = feature_regions(shape, points, max(int(FEATURE_CLEARANCE * face_width), 1)) > 0
    scowl = cv2.dilate(hull_mask(shape, points[SCOWL_POINTS, :2]), disc(SCOWL_REACH * face_width)) > 0
    eyes = np.zeros(shape, dtype=np.uint8)
    for outer, inner, lid in zip(OUTER_CORNERS, INNER_CORNERS, LOWER_LIDS):
        corner, other = points[outer, :2], points[inner, :2]
        outward = (corner - other) / max(float(np.linalg.norm(corner - other)), 1e-6)
        centre = corner + outward * 0.5 * CORNER_REACH * face_width
        cv2.circle(eyes, tuple(int(v) for v in np.round(centre)), max(int(CORNER_REACH * face_width), 1), 255, -1)
        below = np.concatenate([points[lid, :2], points[lid, :2] + (0.0, UNDER_EYE_DEPTH * face_width)])
        eyes |= hull_mask(shape, below)
    sigma = max(ZONE_FEATHER * face_width, 1.0)
    weights = []
    for zone in (scowl, eyes > 0):
        w = cv2.GaussianBlur((zone & inside & ~features).astype(np.float32), (0, 0), sigma)
        w[feature_regions(shape, points, 0) > 0] = 0.0  # the feather stops at the features themselves
        weights.append(w)
    return weights[0], weights[1], features


def soften_lines(image: np.ndarray, points: np.ndarray, scowl: float, eyes: float,
                 usable: np.ndarray | None = None) -> np.ndarray:
    """`image` (RGB uint8) with SCOWL_SHARE * `scowl` (0..1) of the lines' band taken out of the glabella,
    forehead middle and nose root, and EYE_SHARE * `eyes` out of the crow's feet and under the eyes, of
    the face whose mesh is `points` (pixels). `usable` (uint8, 0 where the photo shows no skin: hair, a
    hand) keeps those pixels out of the band's measurement. Both strengths 0: `image` itself."""
    if scowl <= 0.0 and eyes <= 0.0:
        return image
    face_width = float(np.ptp(points[lm.FACE_OVAL, 0]))
    low, high = (max(f * face_width, 0.5) for f in LINE_BAND)
    # Work in the upper face's box grown by the zones' and the wider blur's reach: the cost a face's.
    upper = points[np.concatenate([SCOWL_POINTS, lm.RIGHT_EYE, lm.LEFT_EYE, lm.RIGHT_BROW, lm.LEFT_BROW]), :2]
    margin = (CORNER_REACH * 1.5 + UNDER_EYE_DEPTH + 3 * ZONE_FEATHER) * face_width + 3 * high
    found = points_box(upper, margin, image.shape)
    if found is None:
        return image
    x0, y0, x1, y1 = found
    box = (slice(y0, y1), slice(x0, x1))
    scowl_zone, eye_zone, features = line_zones((y1 - y0, x1 - x0), points[:, :2] - (x0, y0), face_width)
    skin = (~features).astype(np.float32)
    if usable is not None:
        skin *= usable[box] > 127
    pixels = image[box].astype(np.float32)
    band = masked_blur(pixels, skin, low) - masked_blur(pixels, skin, high)
    # In the scowl zone the furrows and creases (dark valleys and the bunched ridges between them, narrower
    # than FURROW_WIDTH: a grey closing's and opening's top-hats, whatever the broad shading round them)
    # keep only their calm part: squashed softly to about the zone's usual size (CALM_SPREAD times their
    # median there), so the deep ones go and the pores stay (the glabella does not turn to wax); then
    # SCOWL_SHARE of the band is taken off, as before.
    grey = pixels.mean(axis=2)
    grey = np.where(skin > 0, grey, masked_blur(grey, skin, high))  # features filled
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * max(int(FURROW_WIDTH * face_width / 2), 1) + 1,) * 2)
    furrows = (grey - cv2.morphologyEx(grey, cv2.MORPH_OPEN, disc)) - (cv2.morphologyEx(grey, cv2.MORPH_CLOSE, disc) - grey)
    furrows = cv2.GaussianBlur(furrows, (0, 0), low)
    measured = (skin > 0) & (scowl_zone > 0.5)  # the zone's own skin: its furrows are the fewer pixels
    calm = CALM_SPREAD * float(np.median(np.abs(furrows[measured]))) if measured.any() else 0.0
    excess = furrows - calm * np.tanh(furrows / max(calm, 1e-6))
    scowl_weight = (scowl * scowl_zone)[..., None]
    eye_weight = (EYE_SHARE * eyes * eye_zone)[..., None] * (1.0 - scowl_weight)
    removed = scowl_weight * (SCOWL_SHARE * band + (1.0 - SCOWL_SHARE) * excess[..., None]) + eye_weight * band
    out = image.copy()
    out[box] = np.clip(pixels - removed + 0.5, 0, 255).astype(np.uint8)
    return out
