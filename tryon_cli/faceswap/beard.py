"""The target's beard below the swapped face's chin, shaved off the frame before the face is rendered.

The swap region ends at the face's outline: a goatee or chin beard that hangs below a target's chin (and
the stubble along the underside of its jaw) stayed on every output, under a source that has none (a
woman with the target's goatee; dlib's descriptor reads it as the target). In a band along the lower
outline of both faces (the target's and the swapped one), widest under the chin and narrowing toward the
mouth corners' height so hair hanging beside the jaw (dreadlocks, long hair) is left alone, what is much
darker than the skin-coloured pixels around it is filled with their own colour: the neck under the chin,
as it would be shaved. The frame is changed before rendering, as the target's mouth is moved
(`mouth.mouth_into_opening`): the rendered face is blended over a frame without the beard.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..colour import masked_blur
from ..face3d import landmarks as lm
from ..masks.face import face_region, feature_regions, skin_distance, skin_sample_region, skin_statistics
from ..masks.shapes import dilate, erode, polygon_mask

LOWER_LIP_BOTTOM = 17
BEARD_REACH = 0.2  # the band reaches this fraction of the face's width below the chin...
BEARD_REACH_ENDS = 0.02  # ... tapering to this at the mouth corners' height
BEARD_SIDE = 0.1  # ... and this fraction of the face's width beyond the mouth's corners, across
BEARD_INSIDE = 0.06  # and this far inside the outline (the blend's feather shows the frame there)
BEARD_SHARE = 0.72  # darker than this share of the skin's level around it is hair (creases.FACIAL_HAIR_SHARE)
BEARD_LEVEL = 0.1  # the skin's level and fill: blurs of this fraction of the face's width over the skin
FINE_SHARE = 0.25  # the fill's near blur, as a share of the level's (BEARD_LEVEL)
FINE_SUPPORT = 0.3  # ... used alone where this share of its Gaussian falls on skin, blended toward the wide one below
BEARD_GROW = 0.02  # the hair found is grown by this fraction of the face's width (its soft edge)
CHIN_HAIR = (0.25, 0.4)  # a chin whose skin is this share hair (below the lower lip, inside the outline, darker
# than BEARD_SHARE of the cheeks' level) is bearded: shaved from none at the first to fully at the second.
# grimaces_blinks' goatee 0.41-0.67 (every other frame of 4 s); phone_portrait_dance at most 0.18;
# talking_frontal, talking_gaze_blinks, talking_glasses, talking_head_turns, music_video_turns at most 0.07
# (their dark under-chin shadow is no beard: filled, it looked like a goitre)
CHIN_MEMORY = 0.7  # a track's share is carried over frames with this weight on the previous (`smoothed_share`)
CHIN_INSET = 0.03  # the chin measured inside its outline and below the lips by this fraction of the face's width
CHIN_READ_WIDTH = 160.0  # the chin's share is read on the face shrunk to at most this many pixels wide
CHIN_EVERY = 4  # a track's chin is read on every this many frames, the read held between (`ChinShares`): a
# read cost about 4 ms a 720 close-up, in the planning stage every frame passes one by one; with reads
# held over 4 frames, grimaces_blinks stays fully shaved on all 48 frames of 4 s, talking_frontal and
# talking_head_turns never (smoothed share at most 0.10), phone_portrait_dance shaved on 12 of 64 frames
# (14 of 64 read on every frame)
SKIN_DISTANCE = 12.0  # skin-coloured: within this squared Mahalanobis distance of the target's cheeks' colour
# (a shadowed neck is; a beard, a pale backdrop and a white collar are not)


def _lower_outline(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The face oval's points below the mouth corners' line, in order along the outline, with each one's
    reach weight: 1 at the chin, 0 at the mouth corners' height."""
    oval = points[lm.FACE_OVAL, :2].astype(np.float64)
    left, down = lm.mouth_line(points)
    depth = (oval - left) @ down
    chin_depth = max(float((points[lm.CHIN, :2] - left) @ down), 1e-6)
    below = depth > 0
    # the oval is a loop: roll it so the points below the line are one run
    start = int(np.argmax(~below & np.roll(below, -1))) + 1
    order = np.roll(np.arange(len(oval)), -start)
    run = order[below[order]]
    return oval[run], np.clip(depth[run] / chin_depth, 0.0, 1.0)


def beard_zone(shape: tuple[int, int], target: np.ndarray, recombined: np.ndarray) -> np.ndarray:
    """Where a beard below the chin is looked for (bool): round the lower outline of both faces, BEARD_REACH
    of the face's width below the chin, tapering up to the mouth corners, below both faces' mouth corners'
    line; inside the swapped face only BEARD_INSIDE deep (the rest is rendered over) and never on either
    face's lips (the target's mouth interior is moved into the swapped opening before this: filled, a
    closed target mouth read as open)."""
    zone = np.zeros(shape, dtype=np.uint8)
    lips = np.zeros(shape, dtype=np.uint8)
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    below = np.ones(shape, dtype=bool)
    for points in (target, recombined):
        left, down = lm.mouth_line(points)
        below &= (xs - left[0]) * down[0] + (ys - left[1]) * down[1] > 0
        # across, no further from the chin than the mouth's corners plus BEARD_SIDE: hair hanging beside the
        # jaw (a dreadlock) is the head's, and filled it was cut off with its end left floating
        corners = points[list(lm.MOUTH_CORNERS), :2].astype(np.float64)
        across = np.array([down[1], -down[0]])
        span = 0.5 * abs(float((corners[1] - corners[0]) @ across)) + BEARD_SIDE * float(np.ptp(points[:, 0]))
        below &= np.abs((xs - points[lm.CHIN, 0]) * across[0] + (ys - points[lm.CHIN, 1]) * across[1]) < span
        width = float(np.ptp(points[:, 0]))
        outline, weight = _lower_outline(points)
        inside = max(int(round(BEARD_INSIDE * width)), 1)
        for (x, y), w in zip(outline, weight):
            radius = int(round((BEARD_REACH_ENDS + (BEARD_REACH - BEARD_REACH_ENDS) * w) * width))
            cv2.circle(zone, (int(round(x)), int(round(y))), max(radius, inside), 255, -1)
        if len(outline) > 1:
            cv2.polylines(zone, [np.round(outline).astype(np.int32)], False, 255, 2 * inside + 1)
        lips |= dilate(polygon_mask(shape, points[lm.OUTER_LIPS]), inside)
    width = float(np.ptp(recombined[:, 0]))
    rendered = erode(face_region(shape, recombined), max(int(round(BEARD_INSIDE * width)), 1))
    return (zone > 0) & below & (rendered == 0) & (lips == 0)


def chin_hair_share(grey: np.ndarray, points: np.ndarray, level: float) -> float:
    """The share of the chin's skin (inside the face's outline shrunk by CHIN_INSET, below the lower lip and
    clear of the lips by as much) darker than BEARD_SHARE of the skin's `level` (L of Lab, 0..255): a beard's.
    0 where no chin is left (a wide-open mouth on a small face)."""
    shape = grey.shape
    width = float(np.ptp(points[:, 0]))
    inset = max(int(round(CHIN_INSET * width)), 1)
    oval = cv2.erode(face_region(shape, points), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * inset + 1,) * 2))
    lip = points[LOWER_LIP_BOTTOM, :2]
    down = points[lm.CHIN, :2] - lip
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    below = (xs - lip[0]) * down[0] + (ys - lip[1]) * down[1] > inset * float(np.hypot(*down))
    chin = (oval > 0) & below & (feature_regions(shape, points, inset) == 0)
    if not chin.any():
        return 0.0
    return float(np.mean(grey[chin] < BEARD_SHARE * level))


def chin_beard(image: np.ndarray, target: np.ndarray) -> float:
    """`chin_hair_share` of the target's face (mesh `target`) in `image`, its level the cheeks' (0 without
    enough skin to measure). Measured on the face's box only: over the whole frame it cost 0.2 s a 1080p
    frame, in the planning stage every frame goes through one by one), shrunk to CHIN_READ_WIDTH."""
    height, width = image.shape[:2]
    x0, y0 = np.maximum(np.floor(target[:, :2].min(axis=0)).astype(int) - 2, 0)
    x1, y1 = np.minimum(np.ceil(target[:, :2].max(axis=0)).astype(int) + 3, (width, height))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return 0.0
    crop, local = image[y0:y1, x0:x1], target - np.array([x0, y0, 0], dtype=np.float32)
    scale = min(1.0, CHIN_READ_WIDTH / max(float(np.ptp(target[:, 0])), 1.0))
    if scale < 1.0:  # a share of pixels: read as well on a face CHIN_READ_WIDTH pixels wide
        size = (max(int(round(crop.shape[1] * scale)), 4), max(int(round(crop.shape[0] * scale)), 4))
        factors = np.array([size[0] / crop.shape[1], size[1] / crop.shape[0], 1.0], dtype=np.float32)
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        local = (local + (0.5, 0.5, 0.0)) * factors - (0.5, 0.5, 0.0)
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)
    model = skin_statistics(crop, skin_sample_region(crop.shape[:2], local), lab)
    if model is None:
        return 0.0
    return chin_hair_share(lab[..., 0].astype(np.float32), local, float(model[0][0]))


def smoothed_share(previous: float | None, share: float) -> float:
    """A track's chin-hair share carried over frames (an exponential mean, CHIN_MEMORY of the previous):
    a grimace that hides the chin for a frame (grimaces_blinks' frame 2 read 0.28, its neighbours 0.48 and
    0.51) would bring the goatee back for that frame."""
    return share if previous is None else CHIN_MEMORY * previous + (1.0 - CHIN_MEMORY) * share


class ChinShares:
    """Each track's chin-hair share, smoothed over its frames (`smoothed_share`), read (`chin_beard`) on its
    first frame and every CHIN_EVERY frames after, the last read held between: the share is smoothed over
    about three frames anyway, and a read costs more than the rest of a clean-chinned frame's shave."""

    def __init__(self, every: int = CHIN_EVERY) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, not {every}")
        self.every = every
        self._tracks: dict[int, tuple[float, float, int]] = {}  # track: smoothed share, last read, frames since

    def clear(self) -> None:
        """Forget every track (a scene cut)."""
        self._tracks.clear()

    def share(self, track: int, image: np.ndarray, target: np.ndarray) -> float:
        """Track `track`'s smoothed share on this frame (`image`, the target's mesh `target`)."""
        state = self._tracks.get(track)
        if state is None or state[2] + 1 >= self.every:
            read, since = chin_beard(image, target), 0
        else:
            read, since = state[1], state[2] + 1
        smoothed = smoothed_share(state[0] if state is not None else None, read)
        self._tracks[track] = (smoothed, read, since)
        return smoothed


def shave_below_chin(image: np.ndarray, target: np.ndarray, recombined: np.ndarray,
                     share: float | None = None) -> np.ndarray:
    """`image` (RGB uint8) with the dark hair in `beard_zone` filled with the skin-coloured pixels round it
    (a copy; the same array when none is found). `target` and `recombined` are the target's and the swapped
    face's meshes (image coordinates); `share` the chin's hair share (`chin_beard`, smoothed over a track),
    measured on this frame when None."""
    if share is not None and share <= CHIN_HAIR[0]:
        return image  # no beard: nothing to look for (most targets; each frame passes here one by one)
    height, width = image.shape[:2]
    face_width = float(max(np.ptp(target[:, 0]), np.ptp(recombined[:, 0])))
    margin = int(BEARD_REACH * face_width + 3 * BEARD_LEVEL * face_width) + 2
    both = np.concatenate([target[:, :2], recombined[:, :2]])
    x0, y0 = np.maximum(np.floor(both.min(axis=0)).astype(int) - margin, 0)
    x1, y1 = np.minimum(np.ceil(both.max(axis=0)).astype(int) + margin, (width, height))
    if x1 <= x0 or y1 <= y0:
        return image
    offset = np.array([x0, y0, 0], dtype=np.float32)
    crop = image[y0:y1, x0:x1]
    zone = beard_zone(crop.shape[:2], target - offset, recombined - offset)
    if not zone.any():
        return image
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)
    model = skin_statistics(crop, skin_sample_region(crop.shape[:2], target - offset), lab)
    if model is None:
        return image
    grey = lab[..., 0].astype(np.float32)
    if share is None:
        share = chin_hair_share(grey, target - offset, float(model[0][0]))
    bearded = float(np.clip((share - CHIN_HAIR[0]) / (CHIN_HAIR[1] - CHIN_HAIR[0]), 0.0, 1.0))
    if bearded == 0.0:
        return image
    sigma = max(BEARD_LEVEL * face_width, 1.0)
    # the skin round the zone: the neck under the chin, the chin and jaw above (read again without the hair
    # found, so a thick beard does not pull the level down)
    around = cv2.dilate(zone.astype(np.uint8), cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * int(sigma) + 1,) * 2)) > 0
    skin_like = skin_distance(crop, model, lab) < SKIN_DISTANCE
    skin = around & skin_like
    if not skin.any():
        return image
    hair = np.zeros(zone.shape, dtype=bool)
    for _ in range(2):
        level = masked_blur(grey, (skin & ~hair).astype(np.float32), sigma)
        hair = zone & (grey < BEARD_SHARE * level)
    if not hair.any():
        return image
    grow = max(int(round(BEARD_GROW * face_width)), 1)
    hair = cv2.dilate(hair.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)) > 0
    clean = (skin & ~hair).astype(np.float32)
    # the fill: the skin nearest each hair pixel (a blur a quarter as wide) where there is enough of it
    # within reach, else the wide blur's (one colour for the whole band under the chin lay lighter than the
    # neck, a pale strip under the chin)
    fine_sigma = max(FINE_SHARE * sigma, 1.0)
    reach = cv2.GaussianBlur(clean, (0, 0), fine_sigma)
    fine = masked_blur(crop.astype(np.float32), clean, fine_sigma)
    near = np.clip(reach / FINE_SUPPORT, 0.0, 1.0)[..., None]
    fill = near * fine + (1.0 - near) * masked_blur(crop.astype(np.float32), clean, sigma)
    weight = bearded * cv2.GaussianBlur((hair & zone).astype(np.float32), (0, 0), grow)
    # neither skin nor hair (a white collar, a pale backdrop beside the neck) keeps its own pixels: the fill's
    # soft edge spread the neck's colour over the collar, a brown haze along its edge on a turned head
    weight[~skin_like & (grey >= BEARD_SHARE * level)] = 0.0
    weight = weight[..., None]
    out = image.copy()
    out[y0:y1, x0:x1] = np.clip(crop * (1.0 - weight) + fill * weight + 0.5, 0, 255).astype(np.uint8)
    return out
