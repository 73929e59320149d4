"""A smiling photo's expression folds flattened out of its skin, so a neutral face does not wear them.

A smile folds the skin beside the nose and mouth (the nasolabial folds, the cheeks' bulges, the dimples
at the mouth's corners). Neutralising the shape narrows the mouth but leaves the folds in the photo's
texture, and the warp onto a neutral or talking mouth then bent them into jagged brown streaks (the
cheeks stayed where the smile put them: `face3d.morphable.spread_onto_skin` now moves them with the
mouth, so the folds move smoothly). Before the photo is used, FOLD_SHARE of the folds' band of spatial
frequencies (above pores and grain, below the face's broad shading, which the render takes from the
target anyway) is taken out of the skin around the nose's wings, the mouth and the chin, as much as the
photo smiles: the smile lines soften (all of them gone cost dlib's identity). Lips, nostrils and eyes
keep theirs; the band is measured on the skin only, so the teeth and lips do not bleed into it.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..colour import masked_blur
from ..face3d import landmarks as lm
from ..masks.face import face_region, feature_regions
from ..masks.shapes import hull_mask, points_box

SMILE_RAMP = (0.08, 0.25)  # smile measure (eye distances) from which the folds are flattened, fully at the second
# (the source measures against the morphable model's mean, whose mouth is now at rest, a little narrower than a
# talking mean: portrait_a 0.076, portrait_anger 0.09; c, glasses and fringe_laughing 0.25 or more)
FOLD_SHARE = 0.25  # a broad smile's folds lose this share of their band (the cheeks following the mouth,
# `spread_onto_skin`, already keeps them from tearing): all of it took dlib's identity down with it
# (portrait_c -> talking_head_turns, closer to the source than the target 1.0 -> 0.47), half of it on
# grimaces_blinks (0.71 -> 0.46); a quarter costs nothing measurable there
FOLD_BAND = (0.004, 0.1)  # the folds' band: between these Gaussian blurs, as fractions of the face's width; from
# 1 % up, thin bent lines stayed at the nose's wings (the render gives the skin the target's fine detail anyway)
FOLD_REACH = 0.14  # the zone: nose wings, lips and chin grown by this fraction of the face's width
FEATURE_CLEARANCE = 0.0  # lips, nostrils and eyes grown by this fraction (at least a pixel) stay out of the zone;
# grown by 1 %, the creases at the mouth's corners stayed and were bent
ZONE_FEATHER = 0.025  # the zone's soft edge (Gaussian sigma), as a fraction of the face's width
CORNERS = lm.MOUTH_CORNERS  # the mouth's corners
CHIN = 152


def smile_strength(shape: np.ndarray, neutral: np.ndarray) -> float:
    """How much a face smiles, 0..1, from its pose-normalised shape and its neutralised one (eye distances):
    the mouth widened (corner to corner, over the neutral width, less 1) plus the corners raised, ramped
    over SMILE_RAMP. A pout, a scowl or an open mouth that neither widens nor lifts the corners is 0."""
    a, b = CORNERS
    width = float(np.linalg.norm(shape[a, :2] - shape[b, :2]))
    rest = max(float(np.linalg.norm(neutral[a, :2] - neutral[b, :2])), 1e-6)
    lift = float(np.mean(neutral[list(CORNERS), 1] - shape[list(CORNERS), 1]))  # image y points down
    measure = max(width / rest - 1.0, 0.0) + max(lift, 0.0)
    low, high = SMILE_RAMP
    return float(np.clip((measure - low) / (high - low), 0.0, 1.0))


def fold_zone(shape: tuple[int, int], points: np.ndarray, face_width: float) -> tuple[np.ndarray, np.ndarray]:
    """(weights, features): float32 0..1 weights of the folds' zone (the nose's wings, the lips and the chin
    grown by FOLD_REACH, inside the face, feathered) and the bool mask of the features kept out of it."""
    lower = np.concatenate([points[lm.NOSTRILS, :2], points[lm.OUTER_LIPS, :2], points[[CHIN], :2]])
    reach = max(int(FOLD_REACH * face_width), 1)
    grown = cv2.dilate(hull_mask(shape, lower), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2))
    features = feature_regions(shape, points, max(int(FEATURE_CLEARANCE * face_width), 1)) > 0
    zone = (grown > 0) & (face_region(shape, points) > 0) & ~features
    weights = cv2.GaussianBlur(zone.astype(np.float32), (0, 0), max(ZONE_FEATHER * face_width, 1.0))
    weights[feature_regions(shape, points, 0) > 0] = 0.0  # the feather stops at the features themselves
    return weights, features


def flatten_folds(image: np.ndarray, points: np.ndarray, strength: float,
                  usable: np.ndarray | None = None) -> np.ndarray:
    """`image` (RGB uint8) with `strength` (0..1) of the folds' band taken out of the skin around the nose
    and mouth of the face whose mesh is `points` (pixels). `usable` (uint8, 0 where the photo shows no skin:
    the mouth's inside, hair) keeps those pixels out of the band's measurement. Strength 0: `image` itself.
    """
    if strength <= 0.0:
        return image
    face_width = float(np.ptp(points[lm.FACE_OVAL, 0]))
    low, high = (max(f * face_width, 0.5) for f in FOLD_BAND)
    # Work in the zone's box grown by the wider blur's reach: the result is the same, the cost a face's.
    lower = np.concatenate([points[lm.NOSTRILS, :2], points[lm.OUTER_LIPS, :2], points[[CHIN], :2]])
    margin = (FOLD_REACH + 3 * ZONE_FEATHER) * face_width + 3 * high
    found = points_box(lower, margin, image.shape)
    if found is None:
        return image
    x0, y0, x1, y1 = found
    box = (slice(y0, y1), slice(x0, x1))
    local = points[:, :2] - (x0, y0)
    weights, features = fold_zone((y1 - y0, x1 - x0), local, face_width)
    skin = (~features).astype(np.float32)
    if usable is not None:
        skin *= usable[box] > 127
    pixels = image[box].astype(np.float32)
    # blurs of the skin alone (normalised convolution): the teeth and lips do not bleed into the band
    band = masked_blur(pixels, skin, low) - masked_blur(pixels, skin, high)
    out = image.copy()
    out[box] = np.clip(pixels - (strength * weights)[..., None] * band + 0.5, 0, 255).astype(np.uint8)
    return out
