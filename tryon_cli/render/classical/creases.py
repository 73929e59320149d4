"""Expression creases: the target's, not the source photo's.

A source photo's scowl, grimace or laugh leaves creases in its skin (the furrows between the brows, the
forehead's lines, the folds beside the nose and mouth). Neutralising the shape does not remove them from
the texture, so they would sit on every frame whatever the target's face does. They live in a middle
band of spatial frequencies (a few pixels to a few percent of the face's width): above the fine band of
pores and grain, below the broad shading that gives the face its shape. On the skin away from the
features, the rendered face's middle band is replaced by the target frame's own on the forehead and the
root of the nose (a scowl): the creases there come and go with the target's expression. Around the nose,
mouth and chin the source's band is only weakened (a target's moustache or beard lives in that band). Eyes, brows, lips and nostrils (grown by FEATURE_CLEARANCE, so
their edges' band stays) and the broad shading are the source's.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...colour import SkinLowPass, masked_blur
from ...face3d import landmarks as lm
from ...masks.face import face_region, feature_regions
from ...masks.shapes import hull_mask

CREASE_BAND = (0.006, 0.05)  # the middle band: between these Gaussian blurs, as fractions of the face's width
FEATURE_CLEARANCE = 0.03  # features grown by this fraction of the face's width are left out of the zone
OUTLINE_CLEARANCE = 0.04  # and so is the face's outline shrunk by this (the band's halo of the jaw line)
ZONE_FEATHER = 0.02  # the zone's soft edge (Gaussian sigma), as a fraction of the face's width
BROW_LINE_DROP = 0.03  # the forehead zone reaches this far (fraction of the face's width) below the brows' line
FOLDS_REACH = 0.08  # the folds zone: the nose's wings, the lips and the chin, grown by this fraction
FOLDS_WEIGHT = 0.5  # how much of the source's band the folds zone loses; it gets none of the target's: a
# target's moustache or beard is in that band there (it showed as a ghost moustache), and swapped fully,
# the skin around the mouth took dlib's same-person rate down with it
CHIN = 152
NOSE_WINGS = (129, 358)  # mesh points at the outer edge of each nostril's wing
NASOLABIAL = ((203, 206, 216, 212, 202), (423, 426, 436, 432, 422))  # mesh points along each smile fold: beside
# the nose's wing, past the mouth's corner, down towards the chin (where portrait_c's folds lie on its mesh)
NASOLABIAL_HALF_WIDTH = 0.05  # the folds' zone: the lines through NASOLABIAL grown by this fraction of the face's width
NASOLABIAL_CLEARANCE = 0.012  # the features grown by this fraction stay out of it: at FEATURE_CLEARANCE the folds'
# upper ends beside the nose's wings kept a brown line
FOLD_SWAP_BAND = (0.004, 0.1)  # the band swapped there (fractions of the face's width, as CREASE_BAND): a smile's
# fold is a broad shadow with a thin crease in it; with CREASE_BAND a brown line stayed along each fold
# Cost: dlib reads the photo's folds as identity. portrait_c onto grimaces_blinks (--end 2), same-person rate
# 0.46 -> 0.04 (closer to the source 0.83 -> 0.75); half swapped 0.17 (0.83), the streaks half there; onto
# talking_frontal 1.0 either way (benchmarks/swap_quality.py)


FACIAL_HAIR_SHARE = 0.72  # a face pixel darker than this share of the skin's level around it is facial hair
# (a moustache, a goatee, stubble): grimaces_blinks' moustache is at 0.3 / 0.6 of its skin's level (10th / 50th
# percentile of the upper lip's skin), talking_frontal's clean upper lip and mouth corners above 0.89
FACIAL_HAIR_LEVEL = 0.08  # the skin's level: a blur of this fraction of the face's width over the skin
FACIAL_HAIR_GROW = 0.008  # the hair found is grown by this fraction of the face's width (its soft edge)
FACIAL_HAIR_WORK_WIDTH = 100.0  # the hair is looked for on the face shrunk to this width (pixels): a moustache
# is still 5-6 px tall there


def facial_hair(lightness: np.ndarray, points: np.ndarray, face_width: float,
                grow: float = FACIAL_HAIR_GROW) -> np.ndarray:
    """Where the lower face of mesh `points` (below the nose's wings) holds facial hair (bool): pixels of float
    `lightness` (Lab L) darker than FACIAL_HAIR_SHARE of the skin's level around them, grown by `grow` of the
    face's width (FACIAL_HAIR_GROW: their soft edge). Eyes, brows, lips and nostrils are not hair.

    The level is a blur of FACIAL_HAIR_LEVEL of the face's width over the skin, read again without the hair
    found (a thick beard pulls it down). A face wider than FACIAL_HAIR_WORK_WIDTH is read shrunk to it and
    the mask upsampled (at the 200 px working size it cost 2.5-3.8 ms a frame, at 100 px about 0.5)."""
    return facial_hairs(lightness, points, face_width, (grow,))[0]


def facial_hairs(lightness: np.ndarray, points: np.ndarray, face_width: float,
                 grows: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """`facial_hair` grown by each of `grows` (fractions of the face's width), the hair found once."""
    shape = lightness.shape[:2]
    scale = min(1.0, FACIAL_HAIR_WORK_WIDTH / max(face_width, 1.0))
    if scale < 1.0:
        size = (max(int(round(shape[1] * scale)), 1), max(int(round(shape[0] * scale)), 1))
        factors = np.array([size[0] / shape[1], size[1] / shape[0], 1.0], dtype=np.float32)[: points.shape[1]]
        half = np.array([0.5, 0.5, 0.0], dtype=np.float32)[: points.shape[1]]
        smalls = facial_hairs(cv2.resize(lightness, size, interpolation=cv2.INTER_AREA),
                              (points + half) * factors - half, face_width * scale, grows)
        return tuple(np.zeros(shape, dtype=bool) if not small.any() else
                     cv2.resize(small.astype(np.uint8) * 255, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR) > 127
                     for small in smalls)
    candidates = (face_region(shape, points) > 0) & below_nose(shape, points) & ~(feature_regions(shape, points, 0) > 0)
    sigma = max(FACIAL_HAIR_LEVEL * face_width, 1.0)
    hair = np.zeros(shape, dtype=bool)
    for _ in range(2):
        level = SkinLowPass(candidates & ~hair, sigma)(lightness)
        hair = candidates & (lightness < FACIAL_HAIR_SHARE * level)
    if not hair.any():
        return tuple(hair for _ in grows)
    return tuple(cv2.dilate(hair.astype(np.uint8), _disc(max(int(round(grow * face_width)), 1))) > 0
                 for grow in grows)


def without_facial_hair(image: np.ndarray, points: np.ndarray, face_width: float,
                        hair: np.ndarray | None = None) -> np.ndarray:
    """`image` (RGB uint8) with the facial hair inside the lower face of mesh `points` (`facial_hair`, or
    `hair` when the caller has it) replaced by the skin's own colour round it (a blur over the skin that is
    not hair): the face as it would be shaved.

    The bands taken from a target frame for the source's face (`swap_fold_band`) are read from this: from
    the frame itself, a target's moustache and beard came with them onto a source that has none."""
    shape = image.shape[:2]
    if hair is None:
        hair = facial_hair(cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32), points, face_width)
    if not hair.any():
        return image
    face = (face_region(shape, points) > 0) & below_nose(shape, points)
    features = feature_regions(shape, points, 0) > 0
    clean = (face & ~features & ~hair).astype(np.float32)
    fill = masked_blur(image.astype(np.float32), clean, max(0.5 * max(FACIAL_HAIR_LEVEL * face_width, 1.0), 1.0))
    grow = max(int(round(FACIAL_HAIR_GROW * face_width)), 1)
    weight = cv2.GaussianBlur((hair & face).astype(np.float32), (0, 0), grow)[..., None]
    return np.clip(image * (1.0 - weight) + fill * weight + 0.5, 0, 255).astype(np.uint8)


def below_nose(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """Pixels below the line through the nose's wings (across the face, whatever its roll): where a moustache
    and a beard grow. Above it the lids, lashes and brows are dark too."""
    wings = points[[NOSE_WINGS[0], NOSE_WINGS[1]], :2]
    along = wings[1] - wings[0]
    down = np.array([-along[1], along[0]]) / max(float(np.hypot(*along)), 1e-6)
    if float(np.dot(points[CHIN, :2] - wings[0], down)) < 0:
        down = -down
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (xs - wings[0][0]) * down[0] + (ys - wings[0][1]) * down[1] > 0


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def expression_zones(shape: tuple[int, int], points: np.ndarray, face_width: float) -> tuple[np.ndarray, np.ndarray]:
    """Where expressions crease the skin (bool masks): the forehead and the root of the nose (above the
    brows' line, a scowl's furrows), and the folds around the nose's wings, the mouth and the chin (a
    grimace, a laugh). The cheeks and the skin around the eyes, which carry much of a face's identity, are
    in neither."""
    centres = [points[group, :2].mean(axis=0) for group in (lm.RIGHT_BROW, lm.LEFT_BROW)]
    along = centres[1] - centres[0]
    down = np.array([-along[1], along[0]]) / max(float(np.hypot(*along)), 1e-6)
    middle = (centres[0] + centres[1]) / 2
    if float(np.dot(points[CHIN, :2] - middle, down)) < 0:
        down = -down
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    depth = (xs - middle[0]) * down[0] + (ys - middle[1]) * down[1]
    forehead = depth < BROW_LINE_DROP * face_width
    lower = np.concatenate([points[lm.NOSTRILS, :2], points[lm.OUTER_LIPS, :2], points[[CHIN], :2]])
    folds = cv2.dilate(hull_mask(shape, lower), _disc(max(int(FOLDS_REACH * face_width), 1))) > 0
    return forehead, folds & ~forehead


def crease_zones(shape: tuple[int, int], points: np.ndarray, target_points: np.ndarray,
                 face_width: float) -> tuple[np.ndarray, np.ndarray]:
    """(removed, added): (h, w) float32 weights 0..1 of the rendered face's middle band taken out and of the
    target's put in. The forehead swaps it (1, 1); the folds lose FOLDS_WEIGHT of theirs and get none.
    Both stay clear of both faces' features and outlines."""
    grow = max(int(FEATURE_CLEARANCE * face_width), 1)
    shrink = max(int(OUTLINE_CLEARANCE * face_width), 1)
    skin = cv2.erode(face_region(shape, points) & face_region(shape, target_points), _disc(shrink))
    skin &= ~(feature_regions(shape, points, grow) | feature_regions(shape, target_points, grow))
    (forehead, folds), (target_forehead, target_folds) = (expression_zones(shape, p, face_width)
                                                        for p in (points, target_points))
    forehead &= target_forehead & (skin > 0)
    folds &= target_folds & (skin > 0)
    sigma = max(ZONE_FEATHER * face_width, 1.0)
    added = cv2.GaussianBlur(forehead.astype(np.float32), (0, 0), sigma)
    removed = cv2.GaussianBlur(forehead.astype(np.float32) + FOLDS_WEIGHT * folds, (0, 0), sigma)
    return removed, added


def middle_band(grey: np.ndarray, face_width: float) -> np.ndarray:
    """The grey image's creases band: the difference of two Gaussian blurs (CREASE_BAND of the face's width)."""
    low, high = (max(f * face_width, 0.5) for f in CREASE_BAND)
    return cv2.GaussianBlur(grey, (0, 0), low) - cv2.GaussianBlur(grey, (0, 0), high)


def carry_target_creases(image: np.ndarray, target: np.ndarray, removed: np.ndarray, added: np.ndarray,
                         face_width: float) -> np.ndarray:
    """`image` (RGB uint8, the face's box) with `removed` (0..1) of its middle band taken out and `added`
    (0..1) of `target`'s put in, in lightness only (the same change on R, G and B)."""
    grey_image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grey_target = cv2.cvtColor(target, cv2.COLOR_RGB2GRAY).astype(np.float32)
    change = added * middle_band(grey_target, face_width) - removed * middle_band(grey_image, face_width)
    return np.clip(image.astype(np.float32) + change[..., None] + 0.5, 0, 255).astype(np.uint8)


def nasolabial_zone(shape: tuple[int, int], points: np.ndarray, target_points: np.ndarray,
                    face_width: float) -> np.ndarray:
    """(h, w) float32 weights 0..1 of the smile folds' band (the lines through NASOLABIAL on the rendered
    mesh `points`, NASOLABIAL_HALF_WIDTH either side, feathered), clear of both faces' features and outlines.

    A smiling photo's folds ride on its mesh: wherever the face is drawn they lie along these lines, so
    the band swapped there (`swap_fold_band`) shows the target's own fold, which comes and goes with its
    expression, instead of the photo's."""
    lines = np.zeros(shape, dtype=np.uint8)
    thickness = max(int(2 * NASOLABIAL_HALF_WIDTH * face_width), 1)
    for line in NASOLABIAL:
        cv2.polylines(lines, [np.round(points[list(line), :2]).astype(np.int32)], False, 255, thickness)
    grow = max(int(NASOLABIAL_CLEARANCE * face_width), 1)
    shrink = max(int(OUTLINE_CLEARANCE * face_width), 1)
    skin = cv2.erode(face_region(shape, points) & face_region(shape, target_points), _disc(shrink))
    skin &= ~(feature_regions(shape, points, grow) | feature_regions(shape, target_points, grow))
    zone = ((lines > 0) & (skin > 0)).astype(np.float32)
    weights = cv2.GaussianBlur(zone, (0, 0), max(ZONE_FEATHER * face_width, 1.0))
    weights[feature_regions(shape, points, 0) > 0] = 0.0  # the feather stops at the features themselves
    return weights


def swap_fold_band(image: np.ndarray, target: np.ndarray, weights: np.ndarray, face_width: float) -> np.ndarray:
    """`image` (RGB uint8, the face's box) with `weights` (0..1) of its FOLD_SWAP_BAND replaced by `target`'s,
    on each channel: a fold's shadow is browner as well as darker (swapped in lightness only, a brown line
    stayed), and the target's band there (its own fold, a moustache's edge) comes with its colour. The
    broad colour below the band and the fine texture above it stay the image's."""
    low, high = (max(f * face_width, 0.5) for f in FOLD_SWAP_BAND)
    here, there = image.astype(np.float32), target.astype(np.float32)
    change = (cv2.GaussianBlur(there, (0, 0), low) - cv2.GaussianBlur(there, (0, 0), high)) - (
        cv2.GaussianBlur(here, (0, 0), low) - cv2.GaussianBlur(here, (0, 0), high))
    return np.clip(here + weights[..., None] * change + 0.5, 0, 255).astype(np.uint8)

