"""Try-on masks: where the new garment may go.

- dilate-relax (default, FitDiT-style): the box spanning the body keypoints of the category
  (upper: shoulders, elbows, wrists, knuckles, hips; lower: hips, knees, ankles, feet; dress: both),
  united with the current garment's region, padded; then face, hair, hands and feet protected.
- tight: the current garment's region, slightly grown.
- box: the padded keypoint box alone.

Without keypoints (a head cropped off, so no pose), the box comes from the current garment's region
(person mask + colour) and the hands; `source` says which way the mask was made.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np

from ..analysis import body as bp
from ..analysis.body import MIN_PERSON_SHARE, Body
from ..errors import FrameError, InputError
from .occluders import colour_lab, in_front
from .shapes import bounding_box, dilate, ellipse_kernel

class Category(str, Enum):
    """Which garment: tops, bottoms, or dresses (both)."""

    upper = "upper"
    lower = "lower"
    dress = "dress"


class Strategy(str, Enum):
    """How a try-on mask is shaped: FitDiT's dilate-relax box, the garment's own region, or a plain box."""

    dilate_relax = "dilate-relax"
    tight = "tight"
    box = "box"


CATEGORIES = tuple(c.value for c in Category)

SHOULDERS_PER_HIP_WIDTH = 1.4  # torso scale from the hips when the shoulders are not visible
FALLBACK_TORSO_FRACTION = 0.25  # torso scale as a fraction of the image when no joint is visible
GRABCUT_WORKING_SIZE = 224.0  # long side (px) at which the worn garment is segmented
PROBABLE_GARMENT_GROWTH = 0.08  # the sure seed grows by this fraction of the image into "probably garment"
SURE_GARMENT_SHRINK = 0.6  # the torso quadrilateral shrunk about its centre: surely garment
HEAD_RADIUS_PER_FACE_WIDTH = 0.9  # head radius from the spread of the face keypoints
MIN_HEAD_RADIUS_PER_TORSO = 0.25  # ... but never under this fraction of the torso scale
CHIN_BELOW_FACE_CENTRE = 0.9  # the chin line, in head radii below the face's centre
CHIN_ABOVE_SHOULDERS = 0.08  # ... and at least this many torso scales above the shoulders
HEAD_ELLIPSE = (0.3, 1.1, 1.6)  # the protected head: centre lifted, half width, half height (head radii)
STRATEGIES = tuple(s.value for s in Strategy)
PERSON_FILLS_BOX = 0.5  # without pose, the person mask is trusted when it fills this share of the box
PERSON_MARGIN = (0.25, 0.12)  # the mask reaches at most this far (torso scales; across, down) beyond the
# person's silhouette: wider across, where arms swing and agnostic masks hide the sleeves' width
FOOT_MARGIN = 0.08  # torso scales around the ankle-heel-toe hull (below its top) kept out of every mask
ANKLE_MARGIN = 0.03  # a lower mask ends this many torso scales below the ankles
COLLAR_MARGIN = 0.02  # skin this many torso scales below the old garment's top still counts as neck
NECK_ABOVE_SHOULDERS = 0.1  # the base of the neck, in torso scales above the shoulder joints
NECK_HALF_WIDTH = 0.2  # below it, the neck's half width in shoulder-joint distances ...
NECK_BELOW_BASE = 0.08  # ... down to this many torso scales below it
NECK_RIM_PX = 2  # the neck's skin grown this much (px) next to the old collar ...
NECK_RIM_LIGHTNESS = 30.0  # ... where within this 8-bit L of the neck's median (not the collar's edge)
NECK_FABRIC_CHROMA = 15.0  # 8-bit Lab (a, b) distance from the old garment's colour ...
NECK_FABRIC_LIGHTNESS = 50.0  # ... and lightness distance: its collar, no neck rim
COLLAR_SHADE_CHROMATICITY = 0.1  # RGB-share distance within which a pixel near the collar, nearer the old
# garment's than the neck's, is that garment in shade (full_body_dance's mustard collar edge: 0.05-0.09 from
# the fabric's median, 0.16-0.22 from the neck's; the two medians 0.14 apart) ...
MIN_COLLAR_CONTRAST = 0.05  # ... when the garment's and the neck's medians are at least this far apart
NECK_SHADE_MIN_SUM = 60  # R+G+B under which a pixel's RGB shares are noise (black fabric, a deep shadow)
LIPS_MARGIN = 0.25  # torso scales below the mouth's corners where the face's hull may still reach (lower lip, jaw):
# at 0.15 full_body_dance's bowed head (frames 104-105) put 6 mask pixels inside the face mesh's lips-to-brows hull,
# 25-30 px below the corners; at 0.25 none, frame 2's shaded collar still masked, frame 22's 128 px fewer
COLLAR_FABRIC_REACH = 0.3  # torso scales below the collar where the old garment's colour is read
NECK_SHADE_SAMPLES = 50  # pixels of the garment and of the skin above the collar needed to compare them
HAND_WRIST_END = 0.35  # the hand's hull nearer the wrist than this share of wrist->knuckles is kept only as skin
WAIST_ABOVE_HIPS = 0.65  # torso scales: the highest a worn lower garment's waistband is looked for (the high
# waistband of full_body_dance's jeans is 0.51-0.58 above the hip joints: at 0.4 a black strip of it stayed)
ROW_CHANGE = 12.0  # colour distance (occluders.colour_lab) of a row's mean from the chest's: another garment
HEM_CHANGE = 6.0  # ... on a headless video frame's segmentation-made mask, a change this big ends the top
ROW_CHANGE_SHARE = 0.9  # ... when this share of the rows below it have changed too
CHEST_BELOW_SHOULDERS = 0.2  # torso scales: the chest's colour is read from this far below the shoulders
HIP_SPAN = 0.3  # the lower garment is cut across the hip joints' span grown by this share on each side ...
SLEEVE_BAND = 0.3  # ... and beside it but for a band this many torso scales wide along each arm
SOLE_TO_ANKLE = 0.08  # without keypoints: the ankles sit this share of the person's height above the soles
DRESS_BAND = 0.3  # torso scales below the hip line where a dress's skirt is looked for ...
DRESS_SHARE = 0.9  # ... on the person across the hip joints' span: this share within ROW_CHANGE of the chest's
# median colour (relative to the chest's own share) is the top's fabric going on as a skirt
NATURAL_WAIST = 0.55  # a dress's waist, as a share of the way from the shoulder joints down to the hip joints


@dataclass(frozen=True)
class MaskOptions:
    """How to build a try-on mask; category and strategy are checked (and stored as plain strings)."""

    category: str = "upper"
    strategy: str = "dilate-relax"
    pad: float = 0.3
    train_jitter: bool = False
    jitter: float = 0.12
    protect: bool = True

    def __post_init__(self) -> None:
        for name, kind in (("category", Category), ("strategy", Strategy)):
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, kind(value).value)
            except ValueError:
                allowed = ", ".join(k.value for k in kind)
                raise InputError(f"unknown {name} '{value}' (use one of {allowed})") from None


@dataclass(frozen=True)
class GarmentMask:
    """A mask (uint8 0/255), the box it grew from, how it was made, and what it must never cover in this
    frame (face, hair, hands, feet, neck skin: `protected`, so a video's smoothing or a carried box that
    reaches back to earlier frames can take it out again); `front` is the part of it that stays in front
    of any garment (hands, also those only the pose found, and what they hold)."""

    mask: np.ndarray
    box: tuple[int, int, int, int] | None
    source: str
    garment: np.ndarray | None = None
    protected: np.ndarray | None = None
    front: np.ndarray | None = None


def _category_points(body: Body, category: str) -> np.ndarray:
    indices = {"upper": bp.UPPER, "lower": bp.LOWER, "dress": bp.UPPER + bp.LOWER}[category]
    return body.visible(indices)


def _needs(category: str) -> tuple[int, ...]:
    return {"upper": (bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER), "lower": (bp.LEFT_KNEE, bp.RIGHT_KNEE, bp.LEFT_HIP),
            "dress": (bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER, bp.LEFT_KNEE)}[category]


def _torso_scale(body: Body, shape: tuple[int, int]) -> float:
    shoulders = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))
    hips = body.visible((bp.LEFT_HIP, bp.RIGHT_HIP))
    if len(shoulders) == 2:
        return float(np.linalg.norm(shoulders[0] - shoulders[1]))
    if len(hips) == 2:
        return float(np.linalg.norm(hips[0] - hips[1])) * SHOULDERS_PER_HIP_WIDTH
    return FALLBACK_TORSO_FRACTION * min(shape)


def current_garment(image: np.ndarray, body: Body, category: str) -> np.ndarray:
    """The garment now worn in the category's region: GrabCut seeded from the body (at reduced size)."""
    height, width = image.shape[:2]
    scale = min(1.0, GRABCUT_WORKING_SIZE / max(height, width))
    small = cv2.resize(image, (max(int(width * scale), 8), max(int(height * scale), 8)), interpolation=cv2.INTER_AREA)
    person = cv2.resize(body.person, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    if not person.any():
        return np.zeros((height, width), np.uint8)
    labels = np.where(person > 0, cv2.GC_PR_BGD, cv2.GC_BGD).astype(np.uint8)
    seed = _seed_region(body, category, (height, width), scale, person)
    if seed is None or not seed.any():
        return np.zeros((height, width), np.uint8)
    labels[(seed > 0) & (person > 0)] = cv2.GC_FGD
    region = cv2.dilate(seed, np.ones((3, 3), np.uint8), iterations=max(int(min(small.shape[:2]) * PROBABLE_GARMENT_GROWTH), 1))
    labels[(region > 0) & (person > 0) & (labels != cv2.GC_FGD)] = cv2.GC_PR_FGD
    for protected in _protected_points(body, category):
        if len(protected):
            hull = cv2.convexHull(np.round(protected * scale).astype(np.int32))
            cv2.fillConvexPoly(labels, hull, int(cv2.GC_BGD))
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut's k-means start draws from OpenCV's RNG: same input, same region
    try:
        cv2.grabCut(small, labels, None, background, foreground, 2, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        pass
    garment = np.where((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    return cv2.resize(garment, (width, height), interpolation=cv2.INTER_NEAREST)


def _seed_region(body: Body, category: str, shape: tuple[int, int], scale: float,
                 person_small: np.ndarray) -> np.ndarray | None:
    """Pixels surely on the current garment: the torso (or legs) polygon, or the person's upper middle."""
    seed = np.zeros(person_small.shape, np.uint8)
    if body.keypoints is not None:
        if category in ("upper", "dress"):
            quad = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER, bp.RIGHT_HIP, bp.LEFT_HIP))
        else:
            quad = body.visible((bp.LEFT_HIP, bp.RIGHT_HIP, bp.RIGHT_KNEE, bp.LEFT_KNEE))
        if len(quad) == 4:
            centre = quad.mean(axis=0)
            shrunk = centre + SURE_GARMENT_SHRINK * (quad - centre)
            cv2.fillConvexPoly(seed, np.round(shrunk * scale).astype(np.int32), 255)
            return seed
        shoulders = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))
        if category != "lower" and len(shoulders) == 2:
            # hips out of the frame (a portrait): the chest below the shoulders, between them
            (xa, ya), (xb, yb) = shoulders[np.argsort(shoulders[:, 0])] * scale
            width = xb - xa
            top = int(max(ya, yb) + 0.15 * width)
            seed[top : top + max(int(0.5 * width), 1), int(xa + 0.2 * width) : int(xb - 0.2 * width) + 1] = 255
            if seed.any():
                return seed
    box = bounding_box(person_small)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    top = y0 + int(0.05 * h) if category != "lower" else y0 + int(0.55 * h)
    seed[top : top + max(int(0.2 * h), 1), x0 + int(0.4 * w) : x0 + int(0.6 * w) + 1] = 255
    return seed


def _protected_points(body: Body, category: str) -> list[np.ndarray]:
    groups = [body.visible(bp.FACE)]
    groups.extend(body.hands)
    if category == "upper":
        groups.append(body.visible(bp.FEET))
    return groups


def _chin_row(body: Body, scale: float) -> float | None:
    """The chin's row from the face keypoints (never below the shoulders' line less a margin); None
    without a face."""
    face = body.visible(bp.FACE)
    if len(face) < 3:
        return None
    centre = face.mean(axis=0)
    radius = max(float(np.ptp(face[:, 0])) * HEAD_RADIUS_PER_FACE_WIDTH, scale * MIN_HEAD_RADIUS_PER_TORSO)
    chin = centre[1] + radius * CHIN_BELOW_FACE_CENTRE
    shoulders = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))
    if len(shoulders):
        chin = min(chin, float(shoulders[:, 1].min()) - CHIN_ABOVE_SHOULDERS * scale)
    return float(chin)


def _hand_region(hand: np.ndarray, shape: tuple[int, int], image: np.ndarray | None) -> np.ndarray:
    """A hand's landmark hull; with the image, its wrist end (the part nearer the wrist than
    HAND_WRIST_END of the way to the knuckles) only where it is skin: the hull reaches over a sleeve's
    cuff, which must go with the old sleeve, not stay as a dark wedge at the wrist."""
    region = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(region, cv2.convexHull(np.round(hand).astype(np.int32)), 255)
    if image is None or len(hand) < 10:
        return region
    from ..analysis.body import is_skin

    wrist, knuckle = hand[0].astype(np.float64), hand[9].astype(np.float64)  # wrist, middle finger's knuckle
    axis = knuckle - wrist
    length = float(np.linalg.norm(axis))
    if length < 2:
        return region
    ys, xs = np.nonzero(region)
    along = ((xs - wrist[0]) * axis[0] + (ys - wrist[1]) * axis[1]) / length**2
    end = along < HAND_WRIST_END
    # (closed, not grown: grown it kept the cuff's last rows beside the skin, a dark line at the wrist)
    skin = cv2.morphologyEx(is_skin(image).astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)) > 0
    drop = end & ~skin[ys, xs]
    region[ys[drop], xs[drop]] = 0
    return region


def protection_mask(body: Body, shape: tuple[int, int], category: str, scale: float,
                    image: np.ndarray | None = None) -> np.ndarray:
    """Face and hair (head above the shoulders), hands, and feet: kept out of the mask (with the image,
    a hand's wrist end only where it is skin)."""
    mask = np.zeros(shape, np.uint8)
    face = body.visible(bp.FACE)
    if len(face) >= 3:
        centre = face.mean(axis=0)
        radius = max(float(np.ptp(face[:, 0])) * HEAD_RADIUS_PER_FACE_WIDTH, scale * MIN_HEAD_RADIUS_PER_TORSO)
        shoulders = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))
        chin = centre[1] + radius * CHIN_BELOW_FACE_CENTRE
        if len(shoulders):
            chin = min(chin, float(shoulders[:, 1].min()) - CHIN_ABOVE_SHOULDERS * scale)
        head = np.zeros(shape, np.uint8)
        (lift, half_width, half_height) = HEAD_ELLIPSE
        cv2.ellipse(head, (int(centre[0]), int(centre[1] - radius * lift)), (int(radius * half_width), int(radius * half_height)), 0,
                    0, 360, 255, -1)
        head[int(max(chin, 0)) :, :] = 0
        mask |= head & body.person if body.person.any() else head
    for hand in body.hands:
        mask |= _hand_region(hand, shape, image)
    feet = body.visible(bp.FEET)
    for side in (bp.FEET[0::2], bp.FEET[1::2]):  # each foot: ankle, heel, toe
        points = body.visible(side)
        if len(points):
            foot = np.zeros(shape, np.uint8)
            cv2.fillConvexPoly(foot, cv2.convexHull(np.round(points).astype(np.int32)), 255)
            mask |= _below_foot_top(dilate(foot, max(int(FOOT_MARGIN * scale), 1)), points)
    del feet
    return mask


def _below_foot_top(grown: np.ndarray, points: np.ndarray) -> np.ndarray:
    """A foot's grown hull (`grown`) without what lies above its highest keypoint (`points`, x, y): above the
    ankle is leg, the garment's to cover (grown round, a trouser cuff's round bite stayed above each shoe
    under a new long dress)."""
    grown = grown.copy()
    grown[: max(int(np.floor(points[:, 1].min())), 0)] = 0
    return grown


def _without_lower_garment(image: np.ndarray, body: Body, garment: np.ndarray, scale: float,
                           change: float = ROW_CHANGE, beside: bool = True) -> np.ndarray:
    """An upper garment's region without the lower garment it swallowed (a high-waisted skirt above the
    hip line). Row by row below the chest, the mean colour across the hips' span is compared with the
    chest's: from the row where it changes (by more than `change`) for good, the rows' pixels within the
    hips' span (and, with `beside`, those beside it but for bands along the arms) belong to the lower
    garment."""
    quad = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER, bp.RIGHT_HIP, bp.LEFT_HIP))
    if len(quad) < 4 or not garment.any():
        return garment
    middle = int(max(quad[:, 1].mean(), 0))  # the torso's middle row: the chest is above it
    top = int(max(quad[:2, 1].max() + CHEST_BELOW_SHOULDERS * scale, 0))
    hips = quad[2:, 0]
    reach = HIP_SPAN * float(np.ptp(hips))
    x0, x1 = int(max(hips.min() - reach, 0)), int(min(hips.max() + reach, garment.shape[1]))
    rows = np.nonzero(garment[:, x0:x1].any(axis=1))[0]
    if x1 - x0 < 4 or not len(rows) or rows.max() <= middle or middle <= top:
        return garment
    lab = colour_lab(image[:, x0:x1])
    inside = garment[:, x0:x1] > 0
    counts = inside.sum(axis=1)
    means = (lab * inside[..., None]).sum(axis=1) / np.maximum(counts, 1)[:, None]
    chest = [r for r in range(top, middle) if counts[r] > 0.3 * (x1 - x0)]
    if len(chest) < 5:
        return garment
    reference = np.median(means[chest], axis=0)
    bottom = int(rows.max())
    changed = (np.linalg.norm(means - reference, axis=1) > change) | (counts < 0.1 * (x1 - x0))
    # the first row from which (almost) every row down to the region's bottom has changed
    tail = np.cumsum(changed[::-1])[::-1]  # changed rows from each row to the end
    span = np.arange(len(changed))[::-1] + 1  # rows from each row to the end
    after = np.nonzero((tail[: bottom + 1] >= ROW_CHANGE_SHARE * (span[: bottom + 1] - (len(changed) - 1 - bottom)))
                       & (np.arange(bottom + 1) >= middle) & changed[: bottom + 1])[0]
    if not len(after):
        return garment
    cut = int(after[0])
    result = garment.copy()
    result[cut:, x0:x1] = 0
    if not beside:
        return result
    # beside the hips too, but for what lies along an arm (a long sleeve hanging there)
    result[cut:] &= _arm_bands(body, garment.shape, scale)[cut:]
    return result


def dress_waist(image: np.ndarray, body: Body, scale: float) -> int | None:
    """The waist row of a person in a dress (the chest's fabric goes on across the hips below the hip line,
    a skirt), else None. An upper garment's region stops there, not at the hips: what lies below a short
    new top on a dress is its skirt, and it was filled as a rectangle of skin cut straight across it."""
    quad = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER, bp.RIGHT_HIP, bp.LEFT_HIP))
    if len(quad) < 4:
        return None
    height, width = image.shape[:2]
    x0, x1 = int(max(quad[2:, 0].min(), 0)), int(min(quad[2:, 0].max(), width))
    top = int(max(quad[:2, 1].max() + CHEST_BELOW_SHOULDERS * scale, 0))
    middle = int(max(quad[:, 1].mean(), 0))
    line = int(max(quad[2:, 1].mean() + 0.1 * scale, 0))
    bottom = min(int(line + DRESS_BAND * scale), height)
    if x1 - x0 < 4 or middle <= top or bottom <= line:
        return None
    lab = colour_lab(image[:, x0:x1])
    person = body.person[:, x0:x1] > 0
    chest, below = lab[top:middle][person[top:middle]], lab[line:bottom][person[line:bottom]]
    if len(chest) < 50 or len(below) < 50:
        return None
    reference = np.median(chest, axis=0)
    share = (np.linalg.norm(below - reference, axis=1) < ROW_CHANGE).mean() \
        / max((np.linalg.norm(chest - reference, axis=1) < ROW_CHANGE).mean(), 1e-3)
    if share < DRESS_SHARE:
        return None
    shoulders, hips = float(quad[:2, 1].mean()), float(quad[2:, 1].mean())
    return int(shoulders + NATURAL_WAIST * (hips - shoulders))


def _arm_bands(body: Body, shape: tuple[int, int], scale: float) -> np.ndarray:
    """A band SLEEVE_BAND torso scales wide along each visible arm (where a long sleeve hangs)."""
    arms = np.zeros(shape, np.uint8)
    for side in bp.ARMS:
        points = body.visible(side)
        if len(points) >= 2:
            cv2.polylines(arms, [np.round(points).astype(np.int32)], False, 255, max(int(SLEEVE_BAND * scale), 1))
    return arms


def without_skirt_below_hem(image: np.ndarray, body: Body, mask: np.ndarray) -> np.ndarray:
    """A headless video frame's upper mask (built from the segmentation) without the lower garment below
    the old top's hem, across the hips' span: its box ran down to the wrists over upper1.mp4's high white
    skirt (median area 1.59 times the reference mask's, the bar 1.6). The skirt's white is close to the
    cream top's (8.5 against ROW_CHANGE 12), so a smaller change, HEM_CHANGE, ends the top; the arms beside
    the hips keep their mask (the reference's reaches round them)."""
    if not mask.any():
        return mask
    return _without_lower_garment(image, body, mask, _torso_scale(body, mask.shape), HEM_CHANGE, beside=False)


def neck_skin(image: np.ndarray, body: Body, garment: np.ndarray, scale: float) -> np.ndarray:
    """Skin above the old garment's collar (neck, chin, lips when the head is cut at the chin): kept out
    of an upper mask. The collar is the garment region's top row across the person's middle."""
    from ..analysis.body import is_skin

    box = bounding_box(body.person)
    if box is None or not garment.any():
        return np.zeros(garment.shape, np.uint8)
    x0, _, x1, _ = box
    middle = garment[:, x0 + (x1 - x0) // 3 : x1 - (x1 - x0) // 3 + 1]
    rows = np.nonzero(middle.any(axis=1))[0]
    if not len(rows):
        return np.zeros(garment.shape, np.uint8)
    collar = int(rows.min() + COLLAR_MARGIN * scale)
    shoulders = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))
    if len(shoulders):  # the region may have swallowed the neck: the collar is never above the neck's base
        collar = max(collar, int(shoulders[:, 1].min() - NECK_ABOVE_SHOULDERS * scale))
        # ... nor far below the neck's base (nor the shoulder joints): the chest a scoop neckline bares is
        # no neck, and a new garment with a higher neckline must be free to cover it
        collar = min(collar, int(shoulders[:, 1].max()),
                     int(shoulders[:, 1].min() + (NECK_BELOW_BASE - NECK_ABOVE_SHOULDERS) * scale))
    # (a red or pink sleeve in the skin's hue range is the old garment, not skin: its colour decides,
    # unless most of the skin above the collar has it too: a skin-coloured garment)
    fabric = _fabric_coloured(image, garment)
    candidates = is_skin(image) & (body.person > 0)
    above = candidates[: max(collar, 0)]
    lips = _below_lips(body, scale, garment.shape)  # (a bowed head's high collar reaches the jaw: the face stays out)
    if (above & fabric[: max(collar, 0)]).sum() > 0.5 * max(int(above.sum()), 1):
        fabric[:] = False
    else:  # (the collar's own shaded edge, darker and out of the fabric's Lab range, was kept as neck)
        # (from the garment region's own top: the collar row is held down to the neck's base)
        rim = max(int(0.04 * scale), 2)
        # (skin-range pixels only: the others are no neck anyway, and the backdrop beside the neck of a light
        # top's colour must stay under the neck's grown rim, else the new top's shoulder showed on it)
        top = min(collar, int(rows.min())) - rim
        fabric |= candidates & lips & _fabric_in_shade(image, garment, candidates & ~fabric, top, collar + rim,
                                                       int(COLLAR_FABRIC_REACH * scale))
    collar_fabric = fabric & (garment > 0)  # (before `fabric` is narrowed below)
    skin = np.where(candidates & ~fabric, 255, 0).astype(np.uint8)
    skin[max(collar, 0) :] = 0
    if len(shoulders) == 2:
        # below the neck's base only the neck's own columns are neck: the shoulders and the chest beside
        # it are the new garment's to cover (its neckline and shoulder seams sat cut off at an old cami's
        # top edge, and the cami's straps stayed)
        base = int(max(shoulders[:, 1].min() - NECK_ABOVE_SHOULDERS * scale, 0))
        chin = _chin_row(body, scale)
        if chin is not None:  # (a raised shoulder lifts the base: the face above the chin stays kept out)
            base = max(base, int(chin))
        centre = float(shoulders[:, 0].mean())
        half = NECK_HALF_WIDTH * float(np.linalg.norm(shoulders[0] - shoulders[1]))
        columns = np.abs(np.arange(skin.shape[1]) - centre) > half
        skin[base:, columns] = 0
    skin = cv2.morphologyEx(skin, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    # (grown to take the neck's soft rim, but not down into the old collar: that must go with the old
    # garment; higher up, where a skin-coloured garment's coarse region may reach the chin, grown whole)
    grown = dilate(skin, max(int(0.02 * scale), 1))
    rim = max(int(0.04 * scale), 2)
    near_collar = np.zeros(skin.shape, bool)
    near_collar[max(collar - rim, 0) :] = True
    # next to the collar only the anti-aliased rim itself, and nowhere the old garment's own colour: the
    # collar's ribbing, which the garment's coarse region often leaves out, is no neck (a grey ring of the
    # old tee stayed around the neck)
    edge = dilate(skin, NECK_RIM_PX)
    fabric &= skin == 0
    next_to_collar = edge & ~garment | skin
    if (skin > 0).any():
        # (nor the collar's anti-aliased edge, skin-coloured but much darker or lighter than the neck: kept,
        # it drew a thin line round the neck)
        lightness = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
        like_neck = np.abs(lightness - float(np.median(lightness[skin > 0]))) < NECK_RIM_LIGHTNESS
        next_to_collar = np.where(like_neck, next_to_collar, 0).astype(np.uint8)
    neck = np.where(fabric, skin, np.where(near_collar, next_to_collar, grown)).astype(np.uint8)
    neck[_just_above(collar_fabric, NECK_RIM_PX) & candidates & lips] = 0
    return neck


def _below_lips(body: Body, scale: float, shape: tuple[int, int]) -> np.ndarray:
    """The rows (bool image) more than LIPS_MARGIN torso scales below the mouth's corners (all rows without
    them): the collar's shade and edge are taken from the neck only there (full_body_dance's bowed head: 6 mask
    pixels inside the face mesh's lips-to-brows hull over 150 frames)."""
    below = np.ones(shape, bool)
    mouth = body.visible((9, 10))  # (BlazePose's mouth corners)
    if len(mouth):
        below[: max(int(float(mouth[:, 1].max()) + LIPS_MARGIN * scale), 0)] = False
    return below


def _just_above(region: np.ndarray, rows: int) -> np.ndarray:
    """The `rows` pixels above each pixel of `region` (bool), not in it: an old collar's soft top edge, a mix
    of the neck and the collar that no colour test calls either, kept as neck it stood as a line under the chin."""
    found = np.zeros(region.shape, bool)
    for step in range(1, rows + 1):
        found[:-step] |= region[step:]
    return found & ~region


def chromaticity(pixels: np.ndarray) -> np.ndarray:
    """Each pixel's RGB shares of R+G+B (float32; the last axis sums to 1): its colour without its
    lightness, the same for a fabric in the light and in its own shade."""
    values = pixels.astype(np.float32)
    return values / np.maximum(values.sum(axis=-1, keepdims=True), 1.0)


def _fabric_in_shade(image: np.ndarray, garment: np.ndarray, skin: np.ndarray, top: int, bottom: int,
                     reach: int) -> np.ndarray:
    """Pixels in rows top..bottom (the band round the collar) of the old garment's colour in its own shade:
    their chromaticity nearer the garment's median (within `reach` rows below the band's top: a dress's region
    takes in the trousers below) than the `skin`'s (above the band) and within
    COLLAR_SHADE_CHROMATICITY of it, and bright enough for their chromaticity to be read. A mock neck's
    collar folds over in shadow: darker and less saturated than the fabric in the light (out of
    `_fabric_coloured`'s range), in the skin range, it stayed as a mustard line under the chin."""
    found = np.zeros(garment.shape, bool)
    top, bottom = max(top, 0), min(bottom, garment.shape[0])
    near = garment[top : top + max(reach, 1)] > 0
    if bottom <= top or near.sum() < NECK_SHADE_SAMPLES or skin[:top].sum() < NECK_SHADE_SAMPLES:
        return found
    fabric = np.median(chromaticity(image[top : top + max(reach, 1)][near]), axis=0)
    neck = np.median(chromaticity(image[:top][skin[:top]]), axis=0)
    if np.linalg.norm(fabric - neck) < MIN_COLLAR_CONTRAST:
        return found  # (a skin-coloured garment: the colour cannot tell its shade from the neck)
    band = image[top:bottom]
    shares = chromaticity(band)
    to_fabric = np.linalg.norm(shares - fabric, axis=-1)
    found[top:bottom] = (to_fabric < np.linalg.norm(shares - neck, axis=-1)) \
        & (to_fabric < COLLAR_SHADE_CHROMATICITY) & (band.astype(np.int32).sum(axis=-1) >= NECK_SHADE_MIN_SUM)
    return found


def _fabric_coloured(image: np.ndarray, garment: np.ndarray) -> np.ndarray:
    """Pixels of the garment region's colour: its median chroma within NECK_FABRIC_CHROMA and lightness
    within NECK_FABRIC_LIGHTNESS (8-bit Lab; a collar's ribbing catches the light: lighter, same hue)."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    fabric = np.median(lab[garment > 0], axis=0)
    return (np.linalg.norm(lab[..., 1:] - fabric[1:], axis=2) < NECK_FABRIC_CHROMA) \
        & (np.abs(lab[..., 0] - fabric[0]) < NECK_FABRIC_LIGHTNESS)


def _box(points: np.ndarray, shape: tuple[int, int], pad: float, scale: float,
         pushes: np.ndarray | None) -> tuple[int, int, int, int]:
    height, width = shape
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    margin = pad * scale
    extra = np.zeros(4) if pushes is None else pushes * scale
    return (int(max(x0 - margin - extra[0], 0)), int(max(y0 - margin - extra[1], 0)),
            int(min(x1 + margin + extra[2], width)), int(min(y1 + margin + extra[3], height)))


# Fraction of the visible person's height (from the top edge) where the hips are, for a person whose
# head is cropped at about the chin: about 2.5 of the 6.5 head heights from chin to feet.
HIP_FRACTION = 0.42
KNEE_FRACTION = 0.7


def _between_legs(body: Body, mask: np.ndarray) -> np.ndarray:
    """Below the knees, each row of the mask from one leg's line (knee -> ankle) to the other's: a skirt
    hangs across the legs, and a mask held to the person left the gap between them out (a longer new
    dress split over the legs, its hem ragged along them)."""
    found = np.zeros(mask.shape, np.uint8)
    legs = [body.visible(joints) for joints in ((bp.LEFT_KNEE, bp.LEFT_ANKLE), (bp.RIGHT_KNEE, bp.RIGHT_ANKLE))]
    if any(len(leg) < 2 for leg in legs):
        return found
    top = int(max(min(legs[0][0, 1], legs[1][0, 1]), 0))
    rows = np.nonzero(mask[top:].any(axis=1))[0]
    if not len(rows):
        return found
    ys = np.arange(top, top + int(rows.max()) + 1)
    # each leg's centre per row, along knee -> ankle (extended past the ankle as the mask may run on)
    xs = [np.interp(ys, leg[:, 1], leg[:, 0], left=leg[0, 0], right=leg[1, 0]) if leg[1, 1] > leg[0, 1]
          else np.full(len(ys), leg[:, 0].mean()) for leg in legs]
    left, right = np.minimum(*xs), np.maximum(*xs)
    columns = np.arange(mask.shape[1])[None, :]
    found[ys] = np.where((columns >= left[:, None]) & (columns <= right[:, None]), 255, 0).astype(np.uint8)
    return found


def _segmentation_fallback(body: Body, garment: np.ndarray, category: str) -> tuple[np.ndarray, np.ndarray]:
    """Box points from the person mask and body proportions, when there are no trustworthy keypoints."""
    box = bounding_box(body.person)
    if box is None:
        raise FrameError("no person found")
    x0, y0, x1, y1 = box
    if y0 < 0.3 * body.person.shape[0]:
        y0 = 0  # the head is off the top: the garment reaches the frame's edge
    height = y1 - y0
    ankles = y1 - SOLE_TO_ANKLE * (y1 - box[1])
    bands = {"upper": (y0, y0 + HIP_FRACTION * height), "lower": (y0 + HIP_FRACTION * 0.9 * height, ankles),
             "dress": (y0, ankles)}
    top, bottom = (int(v) for v in bands[category])
    band = np.zeros_like(garment)
    band[top:bottom] = 255
    garment = garment & band
    rows = body.person[top:bottom].any(axis=0)
    xs = np.nonzero(rows)[0]
    left, right = (int(xs.min()), int(xs.max())) if len(xs) else (x0, x1)
    return garment, np.array([[left, top], [right, bottom]], dtype=np.float32)


def build_mask(image: np.ndarray, body: Body, options: MaskOptions = MaskOptions(),
               rng: np.random.Generator | None = None, sam=None) -> GarmentMask:
    """The try-on mask of one image; InputError when no person, or the category is not in the frame."""
    shape = image.shape[:2]
    if (body.keypoints is None or body.source == "carried") and (body.person > 0).mean() < MIN_PERSON_SHARE:
        raise FrameError("no person found")
    if body.keypoints is not None and len(body.visible(_needs(options.category))) < len(_needs(options.category)) \
            and options.category != "upper":
        raise FrameError(f"the {options.category} body is not in the frame (its keypoints are not visible)")
    scale = _torso_scale(body, shape)
    garment = None
    if sam is not None:
        from .sam import sam_garment_region

        garment = sam_garment_region(sam, image, body, options.category)
    if garment is None:
        garment = current_garment(image, body, options.category)
    points = _category_points(body, options.category)
    source = body.source
    hand_points = np.concatenate(body.hands) if body.hands else np.zeros((0, 2), np.float32)
    shoulders = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))
    if len(points) < 3 and len(shoulders) == 2 and options.category != "lower" and body.person.any():
        # a trusted skeleton cut by the frame (shoulders only, a head-and-shoulders shot): the garment
        # runs from the shoulders to where the person leaves the frame, as wide as the person there
        below = body.person[int(max(shoulders[:, 1].min(), 0)) :]
        columns = np.nonzero(below.any(axis=0))[0]
        rows = np.nonzero(below.any(axis=1))[0]
        if len(columns) and len(rows):
            bottom = float(shoulders[:, 1].min() + rows.max())
            points = np.concatenate([points, np.array([[columns.min(), bottom], [columns.max(), bottom]], np.float32)])
    if len(points) < 3:
        garment, points = _segmentation_fallback(body, garment, options.category)
        source = "segmentation"
    hips = body.visible((bp.LEFT_HIP, bp.RIGHT_HIP))
    if len(hips) and options.category != "dress":
        # an upper garment ends a little below the hip joints; a lower one starts at the waist, up to
        # WAIST_ABOVE_HIPS above them (a high waistband)
        line = int(hips[:, 1].mean() + (0.1 if options.category == "upper" else -WAIST_ABOVE_HIPS) * scale)
        if options.category == "upper":
            garment[max(line, 0) :] = 0  # an upper garment ends at the hips; below is the other garment
            garment = _without_lower_garment(image, body, garment, scale)
            waist = dress_waist(image, body, scale)
            if waist is not None:  # on a dress, at its waist: its skirt stays (a long sleeve below is
                garment[max(waist, 0) :] = 0  # on the arm, which the renderer replaces anyway)
        else:
            garment[: max(line, 0)] = 0
    if options.category in ("upper", "dress") and len(hand_points):
        wrists = hand_points[[i for i in range(0, len(hand_points), 21)]]
        points = np.concatenate([points, wrists])
    pushes = rng.uniform(0, options.jitter, size=4) if (options.train_jitter and rng is not None) else None
    box = _box(points, shape, options.pad, scale, pushes)
    box_mask = np.zeros(shape, np.uint8)
    box_mask[box[1] : box[3], box[0] : box[2]] = 255
    if options.strategy == "box":
        mask = box_mask
    elif options.strategy == "tight":
        mask = dilate(garment, max(int(scale * 0.04), 1))
    else:
        mask = box_mask | dilate(garment, max(int(scale * 0.04), 1))
    if options.category != "upper":  # stop at the ankles
        ankles = body.visible((bp.LEFT_ANKLE, bp.RIGHT_ANKLE))
        person_box = bounding_box(body.person)
        if source == "segmentation" and person_box is not None:
            mask[int(person_box[3] - SOLE_TO_ANKLE * (person_box[3] - person_box[1])) :] = 0
        elif len(ankles):
            mask[int(min(ankles[:, 1].max() + ANKLE_MARGIN * scale, shape[0])) :] = 0
    if options.strategy != "box" and body.person.any() and (
            source == "pose" or (body.person[box_mask > 0] > 0).mean() >= PERSON_FILLS_BOX):
        # as tight as the person allows, when the person mask can be trusted (a light garment on a light
        # wall can vanish from it: then the box stays)
        across, down = max(int(PERSON_MARGIN[0] * scale), 1), max(int(PERSON_MARGIN[1] * scale), 1)
        mask &= cv2.dilate(body.person, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * across + 1, 2 * down + 1)))
        if options.category == "dress" and source == "pose":
            mask |= _between_legs(body, mask)
    protected = front = None
    if options.protect and options.strategy != "box":
        protected = protection_mask(body, shape, options.category, scale, image)
        front = in_front(image, body, garment, scale)  # hands the hand detector missed, and what they hold
        protected |= front
        if options.category in ("upper", "dress"):
            protected |= neck_skin(image, body, garment, scale)
            chin = _chin_row(body, scale)
            if chin is not None and body.source == "pose":
                protected[: max(int(chin), 0)] = 255  # a visible face: nothing above the chin (hair, ears, backdrop)
        mask &= ~protected
    return GarmentMask(mask=mask, box=box, source=source, garment=garment & mask, protected=protected, front=front)


def carry_box(current: GarmentMask, previous: GarmentMask | None, body: Body, image_shape: tuple[int, int],
              min_iou: float = 0.5, carried_for: int = 0, max_carry: int = 10) -> GarmentMask:
    """Keep a segmentation-made mask from jumping: when its box disagrees with the last accepted box
    (a light garment lost against a light wall, say), use the last box again, shifted with the person."""
    from ..analysis.face import box_iou

    if previous is None or previous.box is None or current.box is None or current.source != "segmentation" \
            or previous.source not in ("segmentation", "carried") or carried_for >= max_carry:
        return current
    if box_iou(current.box, previous.box) >= min_iou:
        return current
    x0, y0, x1, y1 = previous.box
    if body.person[y0:y1, x0:x1].mean() < 0.3 * 255:
        return current  # the person is not where the last box was: never carry a box onto something else
    mask = np.zeros(image_shape, np.uint8)
    mask[y0:y1, x0:x1] = 255
    if current.protected is not None:
        mask &= ~current.protected
    return GarmentMask(mask=mask, box=previous.box, source="carried", garment=current.garment,
                       protected=current.protected, front=current.front)


@dataclass
class MaskSmoother:
    """Exponential smoothing of a video's masks (a soft average, then a threshold): no edge flicker."""

    keep: float = 0.6
    _average: np.ndarray | None = None

    def reset(self) -> None:
        self._average = None

    def __call__(self, mask: np.ndarray) -> np.ndarray:
        current = mask.astype(np.float32) / 255.0
        if self._average is None or self._average.shape != current.shape:
            self._average = current
        else:
            self._average = self.keep * self._average + (1 - self.keep) * current
        # the average decides where the past still reaches; the current mask is always kept whole, so a
        # growing mask (a person walking in) never lags behind the garment it must cover
        return np.where((self._average >= 0.5) | (current > 0), 255, 0).astype(np.uint8)


def overlay(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int] = (255, 40, 40)) -> np.ndarray:
    """A preview: the mask tinted over the image, its outline drawn."""
    out = image.copy()
    tint = np.array(colour, dtype=np.float32)
    inside = mask > 0
    out[inside] = (0.5 * out[inside] + 0.5 * tint).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, colour, 2)
    return out
