"""Placing a garment on a body, part by part.

The garment photo is cut into parts (tops and dresses: torso and each sleeve; bottoms: hips and each
leg). Each part is mapped onto the body without shear: the torso by a similarity whose width follows
the body from the chest to the hips, each sleeve rigidly along the upper arm and then the forearm,
each leg along the thigh and then the shin. Lengths follow the garment photo (scaled), not the clothes
being replaced. Parts are laid torso/hips first, limbs over them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..analysis import body as bp
from ..analysis.body import Body
from ..masks.garment import GarmentMask, protection_mask
from .photo import GarmentModel

CHEST_PER_SHOULDER_JOINTS = 0.95  # a top's body width under the arms, in shoulder-joint distances
# A flat top's lengths are scaled so its torso band would be this many shoulder-joint distances wide (it is
# then narrowed to the body: a wrap, not a shear). Measured on the shared product photos, whose tees lie
# narrower than half their circumference: at 1.25 a plain tee (VITON-HD 00057) reached the crotch of a man
# whose own tee ends at his hips; at 1.0 it ends there too.
FLAT_WIDTH_PER_SHOULDER_JOINTS = 1.0
# A dress's band is its bodice at the waist (DRESS_BODICE_ROWS), narrower than a top's torso: its own scale.
FLAT_BODICE_PER_SHOULDER_JOINTS = 1.25
CHEST_ROWS = (0.2, 0.6)  # the person's chest width is measured across these shares of shoulder line -> hips
# A silhouette run wider than this many shoulder-joint distances is not the chest (people measure 0.8-1.13 on
# the shared photos): the silhouette has merged with something beside the person (a helmet, a chair, the
# backdrop), and the fixed share is used.
MAX_CHEST_PER_SHOULDER_JOINTS = 1.8
NECK_BASE_WIDTH = 0.6  # shoulder-joint distances: walking up from the shoulder line, the neck starts where
# the person's silhouette is first narrower than this
MAX_NECK_BASE = 0.4  # ... looked for up to this far above the shoulder line (shoulder-joint distances)
LIMB_WRAP = 0.9  # a sleeve's or leg's width seen from the front, as a share of its flat width
HIPS_PER_HIP_JOINTS = 1.7  # the body's width at the hips, in hip-joint distances
HIP_NOTCH_LENGTH = 0.6  # hip-joint distances: about half the longest run down a column closed where a bottom's
# legs meet its hips ...
HIP_NOTCH_DEPTH = 0.5  # ... from the hip joints down this share of the way to the knees
LEG_GAP_CLOSE = 0.3  # hip-joint distances: a gap this narrow between the new legs, on the person, is closed
HIP_TO_WAISTBAND_WIDTH = 1.6  # a waistband's width seen from the front, in hip-joint distances
MAX_WAIST_LIFT = 0.6  # the waistband is raised to the old garment's at most this many hip-joint distances
MAX_RISE, USUAL_RISE = 0.5, 0.3  # waistband to crotch, as shares of waistband to hem
FLAT_WAIST_PER_HIP_JOINTS = 2.1  # a flat waistband's width (half the waist round), in hip-joint distances
TOP_TORSO_ROWS = (0.3, 0.98)  # a top's torso width is measured in these rows (shares of its height) ...
DRESS_BODICE_ROWS = (0.12, 0.35)  # ... a dress's in its bodice, so its skirt keeps its own flare
TORSO_PERCENTILE = 10  # each side of the torso in the photo: this percentile of the central run's reach
SLEEVE_OVERLAP = 0.04  # sleeves reach this far (garment widths) into the torso band, so no seam gap
SLEEVE_MIN_REACH = 0.12  # a sleeve reaches at least this far (garment widths) beyond the torso band
SLEEVE_MIN_WIDTH = 0.06  # pieces outside the torso band thinner than this (garment widths) are no sleeve
ARMHOLE_DEPTH = 0.3  # the armpit lies this many torso-band widths below the shoulder seam's top, in the photo
SHOULDER_CAP = 0.1  # a sleeve starts this far (shoulder-joint distances) above the shoulder joint, over its cap
ARM_WIDTH_ROWS = (0.15, 0.3, 0.45, 0.6, 0.75, 0.9)  # the arm's and sleeve's widths are compared at these
# shares of the upper arm and of the forearm
ARM_WIDTH_MAX = 0.3  # the arm's outer half is measured up to this far (shoulder-joint distances) from the bone
MAX_SLEEVE_WIDENING = 1.6  # a sleeve is widened at most this much to cover the arm ...
MIN_SLEEVE_NARROWING = 0.75  # ... and narrowed at most this much towards it (a stiff flat sleeve hangs closer)
SLEEVE_EASE = 1.1  # a sleeve's half-width over the arm's, where it follows the arm
ARM_RADIUS = (0.12, 0.1)  # upper arm, forearm half-width in shoulder-joint distances (arms in front) ...
HAND_MATCH = 0.3  # shoulder-joint distances: a detected hand this near a side's pose knuckles is that hand
ARM_FROM = 0.35  # ... from this far down the upper arm (the shoulder itself is under the garment)
ARM_FRAME_MARGIN = 0.05  # shoulder-joint distances: an unseen elbow this close to the frame's border is cut by it
SHOULDER_CLIP_BELOW = 0.15  # down to this far below the shoulder joints (shoulder-joint distances) ...
SHOULDER_CLIP_MARGIN = 0.03  # ... a top stays within the person's silhouette grown by this much: a flat
# photo's shoulder seam and collar do not float in the air beside the neck
COLLAR_COLUMNS = 0.5  # the old collar is looked for across this share of the shoulder width about the centre ...
MAX_YOKE = 0.35  # ... up to this far (shoulder-joint distances) above the shoulder line
SHOULDER_FIT_MAX = 0.12  # a top's shoulder line is raised to the old garment's by at most this much ...
SHOULDER_FIT_DEPTH = 0.3  # ... stretched down to this far below the shoulder line (shoulder-joint distances)
SHOULDER_FIT_SMOOTH = 0.08  # ... the lift smoothed along this share of the shoulder width
SLEEVE_SIDE_REACH = 0.15  # shoulder-joint distances: a sleeved top is carried this far over the old garment beside it
# A bared arm's half-width at the shoulder (deltoid), elbow and wrist, in shoulder-joint distances: the person's
# silhouette across the bare or tightly sleeved arms of the shared photos measured 0.13-0.16 on the upper arm,
# 0.11-0.12 at the elbow and 0.09-0.11 on the forearm (these joints' distance is narrower than the shoulders)
BARE_ARM_RADII = (0.15, 0.115, 0.085)
TORSO_PER_SHOULDER_JOINTS = 1.5  # shoulder line to hip line, when the hips are out of the frame ...
HIP_JOINTS_PER_SHOULDER_JOINTS = 0.7  # ... and the hip joints' distance
FOOTPRINT_STEP = 4  # a warp's scale is measured on every this-many-th output pixel
# Without a pose: shoulders and hips as fractions (x, y) of the mask's box.
BOX_SHOULDERS_AND_HIPS = ((0.25, 0.12), (0.75, 0.12), (0.3, 0.85), (0.7, 0.85))
LOWER_BOX_HIPS = ((0.25, -0.3), (0.75, -0.3), (0.3, 0.06), (0.7, 0.06))  # a lower mask's box: hips at the top


@dataclass(frozen=True)
class Part:
    """One piece of the warped garment: colour, alpha in [0, 1], and whether it lies over the arms."""

    image: np.ndarray
    alpha: np.ndarray
    limb: bool


def _body_frame(body: Body, mask: GarmentMask | None, category: str = "upper", anchors: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Image-left/right shoulders and hips on the body; from the mask's box when pose is missing (a lower
    mask's box starts at the hips, so its hips are at its top, not near its bottom); `anchors` (4, 2),
    when given, are used as they are (a video easing its placement from the box onto the pose)."""
    if anchors is not None:
        return tuple(np.asarray(point, np.float64) for point in anchors)  # type: ignore[return-value]
    shoulders = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))
    hips = body.visible((bp.LEFT_HIP, bp.RIGHT_HIP))
    if len(shoulders) == 2 and len(hips) == 2:
        s = shoulders[np.argsort(shoulders[:, 0])]
        h = hips[np.argsort(hips[:, 0])]
        return s[0], s[1], h[0], h[1]
    if len(shoulders) == 2 and category != "lower":  # hips out of the frame (a portrait): from the shoulders
        s = shoulders[np.argsort(shoulders[:, 0])].astype(np.float64)
        width = float(np.linalg.norm(s[1] - s[0]))
        across = (s[1] - s[0]) / max(width, 1e-6)
        down = np.array([-across[1], across[0]])
        hip_centre = (s[0] + s[1]) / 2 + down * TORSO_PER_SHOULDER_JOINTS * width
        return s[0], s[1], hip_centre - across * HIP_JOINTS_PER_SHOULDER_JOINTS * width / 2, \
            hip_centre + across * HIP_JOINTS_PER_SHOULDER_JOINTS * width / 2
    x0, y0, x1, y1 = mask.box
    w, h = x1 - x0, y1 - y0
    (sl, st), (sr, _), (hl, hb), (hr, _) = BOX_SHOULDERS_AND_HIPS if category != "lower" else LOWER_BOX_HIPS
    return (np.array([x0 + sl * w, y0 + st * h]), np.array([x0 + sr * w, y0 + st * h]),
            np.array([x0 + hl * w, y0 + hb * h]), np.array([x0 + hr * w, y0 + hb * h]))


def body_anchors(body: Body, mask: GarmentMask, category: str) -> np.ndarray:
    """The (4, 2) points a garment is placed by: image-left/right shoulder, left/right hip (from the pose,
    or from the mask's box without one)."""
    return np.array(_body_frame(body, mask, category), np.float64)


def body_size(anchors: np.ndarray, category: str) -> float:
    """The distance a garment's lengths are scaled by: the shoulder joints' (a bottom's: the hip joints')."""
    return float(np.linalg.norm(anchors[3] - anchors[2] if category == "lower" else anchors[1] - anchors[0]))


def torso_corners(body: Body) -> np.ndarray | None:
    """Both shoulders and hips (image-left shoulder, right shoulder, right hip, left hip), the hips
    estimated from the shoulders when out of the frame; None unless both shoulders are seen."""
    if len(body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))) < 2:
        return None
    s_left, s_right, h_left, h_right = _body_frame(body, None)
    return np.array([s_left, s_right, h_right, h_left], np.float32)


def _limbs(body: Body, joints: tuple[tuple[int, int, int], tuple[int, int, int]]) -> list[np.ndarray | None]:
    """Image-left then image-right limb as an array of joints (root, middle[, end]); None when the
    middle joint is not visible."""
    found = []
    for indices in joints:
        points = [body.visible((i,)) for i in indices]
        if len(points[0]) and len(points[1]):
            found.append(np.stack([p[0] for p in points if len(p)]).astype(np.float64))
    if len(found) != 2:
        return [None, None]
    found.sort(key=lambda chain: chain[0][0])
    return found


def _arms(body: Body, shape: tuple[int, int] | None = None) -> list[np.ndarray | None]:
    """Image-left then image-right arm (shoulder, elbow[, wrist]); with the frame's `shape`, an arm whose
    elbow is out of the frame (an upper-body shot) follows the pose's extrapolated elbow and wrist."""
    seen = _limbs(body, bp.ARMS)
    if seen[0] is not None or shape is None:
        return seen
    return _framed_out_arms(body, shape)


def _framed_out_arms(body: Body, shape: tuple[int, int]) -> list[np.ndarray | None]:
    """Arms cut by the frame (a presenter framed at the chest): each arm's visible joints, or, where its
    elbow is unseen, the pose's extrapolated elbow and wrist when that elbow lies beyond the frame's border
    (less ARM_FRAME_MARGIN); None for both when an unseen elbow lies inside the frame (an arm hidden
    behind the body, not cut by the frame) or the shoulders are not both seen."""
    if body.keypoints is None or len(body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))) < 2:
        return [None, None]
    points = body.keypoints
    width = float(np.linalg.norm(points[bp.LEFT_SHOULDER, :2] - points[bp.RIGHT_SHOULDER, :2]))
    margin = ARM_FRAME_MARGIN * width
    height, frame_width = shape
    found = []
    for joints in bp.ARMS:
        elbow = points[joints[1]]
        if elbow[2] >= bp.VISIBLE:
            chain = [points[i, :2] for i in joints if points[i, 2] >= bp.VISIBLE]
        elif margin <= elbow[0] < frame_width - margin and margin <= elbow[1] < height - margin:
            return [None, None]
        else:
            chain = [points[i, :2] for i in joints]
        found.append(np.stack(chain).astype(np.float64))
    found.sort(key=lambda chain: chain[0][0])
    return found


def _legs(body: Body) -> list[np.ndarray | None]:
    return _limbs(body, ((bp.LEFT_HIP, bp.LEFT_KNEE, bp.LEFT_ANKLE), (bp.RIGHT_HIP, bp.RIGHT_KNEE, bp.RIGHT_ANKLE)))


def _central_runs(mask: np.ndarray, rows: range, centre: int) -> list[tuple[int, int]]:
    """Per row, the run of garment pixels that holds the centre column (rows where it is empty skipped)."""
    runs = []
    for row in rows:
        line = mask[row] > 0
        if not line[centre]:
            continue
        left = centre - int(np.argmin(line[centre::-1])) + 1 if not line[: centre + 1].all() else 0
        right = centre + int(np.argmin(line[centre:])) - 1 if not line[centre:].all() else len(line) - 1
        runs.append((left, right))
    return runs


@dataclass(frozen=True)
class _PhotoFrame:
    """The garment photo's torso band (left, right columns), its top row and centre column."""

    left: float
    right: float
    top: float
    bottom: float

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2

    @property
    def width(self) -> float:
        return max(self.right - self.left, 1.0)


def _photo_frame(garment: GarmentModel) -> _PhotoFrame:
    """The torso band of a top or dress photo, centred between its shoulders: each side's half-width is a
    low percentile of the central run's reach on that side below the armpits (a sleeve hanging beside the
    torso widens some rows), and the wider side wins (a segmentation that bit into one side, say a print
    taken for background, shrinks only that side)."""
    ys, xs = np.nonzero(garment.mask)
    y0, y1 = int(ys.min()), int(ys.max())
    g = garment.landmarks
    centre = int(round((g["shoulder_left"][0] + g["shoulder_right"][0]) / 2))
    height = y1 - y0
    first, last = DRESS_BODICE_ROWS if garment.category == "dress" else TOP_TORSO_ROWS
    runs = _central_runs(garment.mask, range(y0 + int(first * height), y0 + int(last * height)), centre)
    if not runs:
        return _PhotoFrame(float(g["shoulder_left"][0]), float(g["shoulder_right"][0]), float(y0), float(y1))
    reach = [float(np.percentile([centre - l for l, _ in runs], TORSO_PERCENTILE)),
             float(np.percentile([r - centre for _, r in runs], TORSO_PERCENTILE))]
    half = max(reach)
    return _PhotoFrame(centre - half, centre + half, float(g["shoulder_left"][1]), float(y1))


def _footprint(map_x: np.ndarray, map_y: np.ndarray, shape: tuple[int, int]) -> float:
    """Photo px per output px of a warp (the square root of its local area ratio, the median over the
    output pixels it takes from inside the photo; measured on every FOOTPRINT_STEP-th pixel)."""
    step = FOOTPRINT_STEP
    mx, my = map_x[::step, ::step], map_y[::step, ::step]
    if mx.shape[0] < 2 or mx.shape[1] < 2:
        return 1.0
    # the Jacobian's determinant from forward differences across and down the output
    area = np.abs(np.diff(mx, axis=1)[:-1] * np.diff(my, axis=0)[:, :-1]
                  - np.diff(my, axis=1)[:-1] * np.diff(mx, axis=0)[:, :-1]) / (step * step)
    x, y = mx[:-1, :-1], my[:-1, :-1]
    inside = (x >= 0) & (x < shape[1]) & (y >= 0) & (y < shape[0])
    return float(np.sqrt(np.median(area[inside]))) if inside.any() else 1.0


def _remap(garment: GarmentModel, part_mask: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> Part:
    """The photo and the part's mask sampled through the maps. A photo shrunk onto the body (the usual
    case: a 1024 px product photo onto a torso of a few hundred px) is first area-averaged to the warp's
    scale: sampled bilinearly at 2-3 photo px per output px, a fine stripe aliased into moire that
    crawled as the body moved."""
    image, mask = garment.bled, part_mask
    footprint = _footprint(map_x, map_y, mask.shape)
    if footprint > 1.0:
        height, width = mask.shape
        size = (max(int(round(width / footprint)), 1), max(int(round(height / footprint)), 1))
        fx, fy = size[0] / width, size[1] / height
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
        # pixel centres: photo x maps to (x + 0.5) * f - 0.5 in the shrunk photo
        map_x = ((map_x + 0.5) * fx - 0.5).astype(np.float32)
        map_y = ((map_y + 0.5) * fy - 0.5).astype(np.float32)
    image = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.remap(mask, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return Part(image, alpha.astype(np.float32) / 255.0, False)


def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    return xs.astype(np.float32), ys.astype(np.float32)


def _torso_part(garment: GarmentModel, photo: _PhotoFrame, part_mask: np.ndarray, shoulders: tuple[np.ndarray, np.ndarray],
                hips: tuple[np.ndarray, np.ndarray], shape: tuple[int, int], unit: float | None = None,
                yoke: tuple[float, float] | None = None) -> Part:
    """Torso (or a bottom's hips): a similarity from the photo's band onto the body, whose width goes from
    the chest at the top to the hips at the hip line (then stays), so the garment is never sheared.
    `yoke` (photo px, body px): above the shoulder line, that many photo rows span that many body px."""
    top_left, top_right = shoulders
    centre = (top_left + top_right) / 2
    across = (top_right - top_left) / max(np.linalg.norm(top_right - top_left), 1e-6)
    down = np.array([-across[1], across[0]])
    top_width = float(np.linalg.norm(top_right - top_left))
    hip_centre = (hips[0] + hips[1]) / 2
    hip_width = float(np.linalg.norm(hips[1] - hips[0]))
    hip_depth = max(float((hip_centre - centre) @ down), 1.0)
    unit = unit or top_width / photo.width  # body px per photo px down the garment (its own proportions)
    xs, ys = _grid(shape)
    u = (xs - centre[0]) * across[0] + (ys - centre[1]) * across[1]
    v = (xs - centre[0]) * down[0] + (ys - centre[1]) * down[1]
    # the rows turn from the shoulder line's slant at the top to the hip line's at the hips (then keep it):
    # a hem hangs level with level hips under a raised shoulder (05997's rose with her shoulders, slanted)
    hip_across = (hips[1] - hips[0]) / max(hip_width, 1e-6)
    hip_down = np.array([-hip_across[1], hip_across[0]])
    if hip_width > 1.0 and float(hip_down @ down) > 0.5:
        at_hips = (xs - hip_centre[0]) * hip_down[0] + (ys - hip_centre[1]) * hip_down[1] + hip_depth
        turn = np.clip(v / hip_depth, 0.0, 1.0)
        v = v + (at_hips - v) * turn
    share = np.clip(v / hip_depth, 0.0, 1.0)
    width = top_width + (hip_width - top_width) * share
    # the centre line runs from between the shoulders to between the hips (a turned or leaning body)
    u = u - share * float((hip_centre - centre) @ across)
    map_x = (photo.centre + u / width * photo.width).astype(np.float32)
    map_y = photo.top + v / unit
    if yoke is not None:
        map_y = np.where(v < 0, photo.top + v * yoke[0] / max(yoke[1], 1.0), map_y)
    return _remap(garment, part_mask, map_x, map_y.astype(np.float32))


def _collar_depth(mask: GarmentMask, s_left: np.ndarray, s_right: np.ndarray) -> float | None:
    """How far (body px) above the shoulder line the old garment's collar rises beside the neck (its top
    across COLLAR_COLUMNS of the shoulder width about the centre, a low percentile so a V-neck's sides
    count), at most MAX_YOKE shoulder-joint distances; None without an old garment there."""
    if mask.garment is None or not mask.garment.any():
        return None
    width = float(np.linalg.norm(s_right - s_left))
    centre = (s_left + s_right) / 2
    across = (s_right - s_left) / max(width, 1e-6)
    down = np.array([-across[1], across[0]])
    height, frame_width = mask.garment.shape
    tops = []
    for u in np.linspace(-COLLAR_COLUMNS / 2, COLLAR_COLUMNS / 2, 9) * width:
        # walk down the column from MAX_YOKE above the shoulder line to the line
        steps = np.arange(0.0, MAX_YOKE * width, 1.0)
        points = centre + across * u - down[None, :] * (MAX_YOKE * width - steps[:, None])
        xs, ys = np.round(points[:, 0]).astype(int), np.round(points[:, 1]).astype(int)
        framed = (xs >= 0) & (xs < frame_width) & (ys >= 0) & (ys < height)
        hits = np.nonzero(framed & (mask.garment[np.clip(ys, 0, height - 1), np.clip(xs, 0, frame_width - 1)] > 0))[0]
        if len(hits):
            tops.append(MAX_YOKE * width - steps[hits[0]])
    if len(tops) < 5:
        return None
    return float(np.percentile(tops, 80))


def _run_through(mask: np.ndarray, row: int, column: int) -> int:
    """The length of the run of `mask` pixels along `row` that holds `column` (0 when that pixel is off)."""
    height, width = mask.shape
    if not (0 <= row < height and 0 <= column < width) or not mask[row, column]:
        return 0
    line = mask[row] > 0
    left = column - int(np.argmin(line[column::-1])) if not line[: column + 1].all() else -1
    right = column + int(np.argmin(line[column:])) if not line[column:].all() else width
    return right - left - 1


def _chest_width(body: Body, shape: tuple[int, int], s_left: np.ndarray, s_right: np.ndarray,
                 h_left: np.ndarray, h_right: np.ndarray) -> float | None:
    """The person's torso width (px) across the chest: the median, over the rows CHEST_ROWS of the way from
    the shoulder line down to the hips, of the silhouette's run (less the arms in front of it, so an arm
    hanging beside the torso is not counted) through the torso's centre line; None without a silhouette or
    with too few rows measured (arms crossed over the centre)."""
    if not body.person.any():
        return None
    torso = (body.person > 0) & (arms_in_front(body, shape) == 0)
    top, bottom = (s_left + s_right) / 2, (h_left + h_right) / 2
    widths = []
    for share in np.linspace(*CHEST_ROWS, 9):
        x, y = top + share * (bottom - top)
        run = _run_through(torso, int(round(y)), int(round(x)))
        if run > 0:
            widths.append(run)
    return float(np.median(widths)) if len(widths) >= 5 else None


def _neck_base(person: np.ndarray, s_left: np.ndarray, s_right: np.ndarray) -> float | None:
    """How far (px) above the shoulder line the neck starts: walking up the centre from the line, the first
    row where the silhouette's run is narrower than NECK_BASE_WIDTH shoulder-joint distances (the sides of
    the neck, where a collar sits); None without a silhouette there or no such row within MAX_NECK_BASE."""
    width = float(np.linalg.norm(s_right - s_left))
    centre = (s_left + s_right) / 2
    x = int(round(centre[0]))
    if not person.any() or _run_through(person, int(round(centre[1])), x) < NECK_BASE_WIDTH * width:
        return None
    for rise in range(1, int(MAX_NECK_BASE * width) + 1):
        run = _run_through(person, int(round(centre[1])) - rise, x)
        if run == 0:
            return None
        if run < NECK_BASE_WIDTH * width:
            return float(rise)
    return None


def _limb_part(garment: GarmentModel, part_mask: np.ndarray, root: np.ndarray, end: np.ndarray, chain: np.ndarray,
               unit: float, shape: tuple[int, int], wrap: float = LIMB_WRAP,
               profile: tuple[np.ndarray, np.ndarray] | None = None) -> Part:
    """A sleeve or leg: the photo's axis root -> end laid rigidly along the chain's first segment, and the
    rest along the second (so it bends at the elbow or knee); the wedge at the outside of the bend, beyond
    the first segment's end and before the second's start, is the first segment's continued (it was left
    empty: a notch of backdrop in the knee of a bent leg).
    `profile` (photo px along the axis, factor) scales `wrap` along the limb, so a sleeve follows the
    arm's width and taper."""
    axis = end - root
    length = max(float(np.linalg.norm(axis)), 1.0)
    axis /= length
    normal = np.array([-axis[1], axis[0]])
    ys, xs = np.nonzero(part_mask)
    if len(xs):  # the part's centre line (mean offset across the axis) lies on the limb's bones
        root = root + normal * float(np.mean((xs - root[0]) * normal[0] + (ys - root[1]) * normal[1]))
    xs, ys = _grid(shape)
    image = np.zeros((*shape, 3), np.float32)
    alpha = np.zeros(shape, np.float32)
    walked = 0.0  # photo px along the axis at the current joint
    segments = [(chain[i], chain[i + 1]) for i in range(len(chain) - 1)]
    previous = None  # the last segment's (t, its end in t, map_x, map_y)
    for index, (a, b) in enumerate(segments):
        seg = float(np.linalg.norm(b - a))
        if seg < 1e-6:
            continue
        d = (b - a) / seg
        n = np.array([-d[1], d[0]])
        t = ((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / unit + walked
        local_wrap = wrap if profile is None else wrap * np.interp(t, *profile).astype(np.float32)
        s = ((xs - a[0]) * n[0] + (ys - a[1]) * n[1]) / (unit * local_wrap)
        last = index == len(segments) - 1
        lo = -np.inf if index == 0 else walked
        hi = np.inf if last else walked + seg / unit
        map_x = (root[0] + t * axis[0] + s * normal[0]).astype(np.float32)
        map_y = (root[1] + t * axis[1] + s * normal[1]).astype(np.float32)
        piece = _remap(garment, part_mask, map_x, map_y)
        piece_alpha = piece.alpha * ((t >= lo) & (t < hi))
        image = np.where(piece_alpha[..., None] > alpha[..., None], piece.image, image)
        alpha = np.maximum(alpha, piece_alpha)
        if previous is not None:  # the wedge outside the bend: past the last segment, short of this one
            wedge = (previous[0] >= previous[1]) & (t < lo)
            if wedge.any():
                filler = _remap(garment, part_mask, previous[2], previous[3])
                filler_alpha = filler.alpha * wedge
                image = np.where(filler_alpha[..., None] > alpha[..., None], filler.image, image)
                alpha = np.maximum(alpha, filler_alpha)
        previous = (t, hi, map_x, map_y)
        walked += seg / unit
        if walked >= length:
            break
    return Part(np.clip(image, 0, 255).astype(np.uint8), alpha, True)


def _farthest(mask: np.ndarray, origin: np.ndarray) -> np.ndarray | None:
    """The mean of the part's pixels in the farthest tenth of its distances from `origin` (a cuff, a hem)."""
    ys, xs = np.nonzero(mask)
    if not len(xs):
        return None
    distance = np.hypot(xs - origin[0], ys - origin[1])
    far = distance >= np.percentile(distance, 90)
    return np.array([xs[far].mean(), ys[far].mean()])


def _sleeve_mask(mask: np.ndarray, photo: _PhotoFrame, side: int, columns: np.ndarray, overlap: float) -> np.ndarray:
    """One sleeve of the photo: the largest piece outside the torso band once thin slivers (the torso's
    own flared edge) are opened away, reaching `overlap` into the band next to it."""
    outside = np.where(columns < photo.left if side == 0 else columns > photo.right, mask, 0).astype(np.uint8)
    size = max(int(SLEEVE_MIN_WIDTH * photo.width), 3)
    core = cv2.morphologyEx(outside, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(core)
    # a sleeve starts above the armpit; a piece that starts lower is a skirt's flare or a hem, not a sleeve
    armpit = photo.top + ARMHOLE_DEPTH * photo.width
    candidates = [label for label in range(1, count) if stats[label, cv2.CC_STAT_TOP] <= armpit]
    if not candidates:
        return np.zeros_like(mask)
    best = max(candidates, key=lambda label: stats[label, cv2.CC_STAT_AREA])
    core = np.where(labels == best, 255, 0).astype(np.uint8)
    xs = np.nonzero(core.any(axis=0))[0]
    reach = photo.left - xs.min() if side == 0 else xs.max() - photo.right
    if reach < SLEEVE_MIN_REACH * photo.width:
        return np.zeros_like(mask)  # a strap, or the torso's own flare: no sleeve
    edge = photo.left + overlap if side == 0 else photo.right - overlap
    near = cv2.dilate(core, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * size + 1, 2 * size + 1)))
    return np.where((columns < edge if side == 0 else columns > edge) & (near > 0), mask, 0).astype(np.uint8)


def _shoulder_wedge(mask: np.ndarray, photo: _PhotoFrame, side: int, shoulder: np.ndarray) -> np.ndarray:
    """The part of the photo beside the torso band that is still torso: between the band's edge and the
    sleeve's seam (the line from the shoulder seam's top to the armpit). Cut into the sleeve, it was laid
    along the arm and left the shoulder bare."""
    h, w = mask.shape
    edge = photo.left if side == 0 else photo.right
    armpit = np.array([edge, shoulder[1] + ARMHOLE_DEPTH * photo.width])
    ys, xs = np.mgrid[0:h, 0:w]
    # the band's centre and the wedge lie on the same side of the seam line
    seam = armpit - shoulder
    cross = (xs - shoulder[0]) * seam[1] - (ys - shoulder[1]) * seam[0]
    inner = (photo.centre - shoulder[0]) * seam[1] - (photo.top - shoulder[1]) * seam[0]
    beside = xs < edge if side == 0 else xs > edge
    return np.where(beside & (ys < armpit[1]) & (np.sign(cross) == np.sign(inner)), mask, 0).astype(np.uint8)


def _mirror_filled(mask: np.ndarray, photo: _PhotoFrame, first_row: int) -> np.ndarray:
    """The torso band of the photo's mask with each side completed from its mirror image about the centre
    (below `first_row`): a flat top is symmetric, so a bite the segmentation took out of one side (a print
    near the edge taken for background) is garment, not a hole the old garment shows through."""
    h, w = mask.shape
    columns = np.arange(w, dtype=np.float32)
    mirrored = cv2.remap(mask, np.broadcast_to(2 * photo.centre - columns, (h, w)).astype(np.float32),
                         np.broadcast_to(np.arange(h, dtype=np.float32)[:, None], (h, w)).astype(np.float32),
                         cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    band = (columns[None, :] >= photo.left) & (columns[None, :] <= photo.right) & (np.arange(h)[:, None] >= first_row)
    return np.where(band, np.maximum(mask, mirrored), mask).astype(np.uint8)


def _torso_top_width(body: Body, shape: tuple[int, int], frame: tuple[np.ndarray, ...], still: bool) -> float:
    """A top's torso width (px) at the shoulder line: CHEST_PER_SHOULDER_JOINTS shoulder-joint distances,
    or, on a `still` photo, the person's own chest where that is wider (a broad torso: at the fixed share
    its sides were left to be filled as skin). On video the fixed share alone: the silhouette's width
    changes from frame to frame, and the garment's width would jitter with it."""
    s_left, s_right, h_left, h_right = frame
    chest = CHEST_PER_SHOULDER_JOINTS * float(np.linalg.norm(s_right - s_left))
    if not still or len(body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))) < 2:
        return chest
    measured = _chest_width(body, shape, s_left, s_right, h_left, h_right)
    if measured is None or measured > MAX_CHEST_PER_SHOULDER_JOINTS * float(np.linalg.norm(s_right - s_left)):
        return chest
    return max(chest, measured)


def _upper_parts(garment: GarmentModel, body: Body, mask: GarmentMask, shape: tuple[int, int],
                 anchors: np.ndarray | None = None, size: float | None = None) -> list[Part]:
    photo = _photo_frame(garment)
    s_left, s_right, h_left, h_right = _body_frame(body, mask, garment.category, anchors)
    centre = (s_left + s_right) / 2
    # a still photo (no anchors or size held steady over a video's frames) is measured on its silhouette
    still = anchors is None and size is None
    chest = _torso_top_width(body, shape, (s_left, s_right, h_left, h_right), still)
    half = (s_right - s_left) / max(np.linalg.norm(s_right - s_left), 1e-6) * chest / 2
    hip_centre = (h_left + h_right) / 2
    # (a top is at least as wide at the hips as across the chest: a broad torso's tee does not taper in)
    hip_half = (h_right - h_left) / max(np.linalg.norm(h_right - h_left), 1e-6) \
        * max(HIPS_PER_HIP_JOINTS * float(np.linalg.norm(h_right - h_left)), chest) / 2
    columns = np.arange(garment.mask.shape[1])[None, :]
    overlap = SLEEVE_OVERLAP * photo.width
    ys = np.nonzero(garment.mask.any(axis=1))[0]
    first = TOP_TORSO_ROWS[0] if garment.category != "dress" else DRESS_BODICE_ROWS[0]
    filled = _mirror_filled(garment.mask, photo, int(ys[0] + first * (ys[-1] - ys[0])))
    torso_mask = np.where((columns >= photo.left) & (columns <= photo.right), filled, 0).astype(np.uint8)
    wedges = [_shoulder_wedge(garment.mask, photo, side, garment.landmarks[name])
              for side, name in ((0, "shoulder_left"), (1, "shoulder_right"))]
    torso_mask = torso_mask | wedges[0] | wedges[1]
    sleeves = [_sleeve_mask(garment.mask, photo, side, columns, overlap) for side in (0, 1)]
    if garment.category == "dress":  # the skirt's flare beside the band, below the sleeves, is the skirt's
        rows = np.arange(garment.mask.shape[0])[:, None]
        flare = (garment.mask > 0) & (rows > photo.top + ARMHOLE_DEPTH * photo.width) & (sleeves[0] == 0) \
            & (sleeves[1] == 0)
        torso_mask = np.where(flare, 255, torso_mask).astype(np.uint8)
    arms = _arms(body, shape)
    if arms[0] is None:
        torso_mask = garment.mask  # no arms to follow: the sleeves stay where the photo has them
    # the photo's inner back, seen through its neck opening, is not worn on the chest: the body shows there
    torso_mask = np.where(garment.opening > 0, 0, torso_mask).astype(np.uint8)
    flat = FLAT_BODICE_PER_SHOULDER_JOINTS if garment.category == "dress" else FLAT_WIDTH_PER_SHOULDER_JOINTS
    unit = flat * (size or float(np.linalg.norm(s_right - s_left))) / photo.width
    # a neckline that would sit below the neck's base or the old collar is raised to the higher of them (the
    # yoke stretched, the rest kept): a tee's back collar sits where the neck starts, not on the collarbones
    # (on a still photo: on video the silhouette's neck moves from frame to frame, and the collar would too)
    raised = [d for d in (_collar_depth(mask, s_left, s_right),
                          _neck_base(body.person, s_left, s_right) if still else None) if d is not None]
    collar = max(raised) if raised else None
    yoke = (photo.top - ys[0], collar) if collar is not None and collar > (photo.top - ys[0]) * unit else None
    parts = [_torso_part(garment, photo, torso_mask, (centre - half, centre + half),
                         (hip_centre - hip_half, hip_centre + hip_half), shape, unit, yoke)]
    if arms[0] is None:
        return parts
    for side, chain in ((0, arms[0]), (1, arms[1])):
        sleeve = sleeves[side]
        root = np.array([photo.left if side == 0 else photo.right, photo.top])
        end = _farthest(sleeve, root)
        if end is None or np.linalg.norm(end - root) < 0.05 * photo.width:
            continue
        # the sleeve starts over the shoulder's cap, above the joint
        shoulder_width = float(np.linalg.norm(s_right - s_left))
        upper = (chain[1] - chain[0]) / max(float(np.linalg.norm(chain[1] - chain[0])), 1e-6)
        capped = np.vstack([chain[0] - upper * SHOULDER_CAP * shoulder_width, chain[1:]])
        part = _limb_part(garment, sleeve, root, end, capped, unit, shape)
        # the sleeve follows the arm's width (a sleeve narrower than the arm would leave the old sleeve
        # showing at its sides; a stiff flat one wider than it stands off as a block) and its taper
        profile = _sleeve_profile(part.alpha, body.person, chain, centre, shoulder_width,
                                  SHOULDER_CAP * shoulder_width, unit)
        if profile is not None:
            part = _limb_part(garment, sleeve, root, end, capped, unit, shape, LIMB_WRAP, profile)
        parts.append(part)
    return parts


def _reach(mask: np.ndarray, point: np.ndarray, direction: np.ndarray, limit: float) -> float:
    """How far (px, up to `limit`) `mask` runs from `point` along `direction` (0 when `point` is outside);
    `limit` when the run reaches the image's border (a limb cut by the frame cannot be measured)."""
    steps = np.arange(int(limit) + 1)
    xs = np.round(point[0] + steps * direction[0]).astype(int)
    ys = np.round(point[1] + steps * direction[1]).astype(int)
    framed = (xs >= 0) & (xs < mask.shape[1]) & (ys >= 0) & (ys < mask.shape[0])
    inside = framed.copy()
    inside[framed] = mask[ys[framed], xs[framed]] > 0
    gaps = np.nonzero(~inside)[0]
    if len(gaps) and not framed[gaps[0]]:
        return float(limit)
    return float(gaps[0] if len(gaps) else len(steps))


def _sleeve_profile(alpha: np.ndarray, person: np.ndarray, chain: np.ndarray, centre: np.ndarray,
                    shoulder_width: float, cap: float, unit: float,
                    narrowest: float = MIN_SLEEVE_NARROWING) -> tuple[np.ndarray, np.ndarray] | None:
    """Along the arm (photo px from the sleeve's start, `cap` body px above the shoulder joint), the factor
    that brings the sleeve's outer half-width to the arm's (times SLEEVE_EASE), measured on the outer side
    of the upper arm and forearm (the inner side may touch the torso) where the sleeve reaches; None when
    nowhere measurable (a short sleeve off the person mask, a forearm across the torso)."""
    if not person.any():
        return None
    limit = ARM_WIDTH_MAX * shoulder_width
    covered = (alpha > 0.5).astype(np.uint8)
    ts, factors = [], []
    walked = cap
    for a, b in zip(chain[:-1], chain[1:]):
        length = float(np.linalg.norm(b - a))
        if length < 1e-6:
            continue
        d = (b - a) / length
        outward = np.array([-d[1], d[0]])
        if float(((a + b) / 2 - centre) @ outward) < 0:
            outward = -outward
        for share in ARM_WIDTH_ROWS:
            point = a + share * (b - a)
            arm = _reach(person, point, outward, limit)
            sleeve = _reach(covered, point, outward, 3 * limit)  # (a stiff flat sleeve may stand far off)
            if 0 < arm < limit and 0 < sleeve < 3 * limit:
                ts.append((walked + share * length) / unit)
                factors.append(SLEEVE_EASE * arm / sleeve)
        walked += length
    if not ts:
        return None
    factors = np.clip(np.asarray(factors), narrowest, MAX_SLEEVE_WIDENING)
    if len(factors) >= 3:  # a running median: one odd measurement (a hand at the hip) does not kink it
        padded = np.concatenate([factors[:1], factors, factors[-1:]])
        factors = np.median(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)
    return np.asarray(ts, np.float64), factors


def _crotch_row(garment: GarmentModel, centre: int, top: int, bottom: int) -> int:
    """The first row below the waistband where the centre column leaves the garment (between the legs)."""
    column = garment.mask[top:bottom, centre] > 0
    gaps = np.nonzero(~column[int(0.1 * len(column)) :])[0]
    crotch = top + int(0.1 * len(column)) + int(gaps[0]) if len(gaps) else bottom
    # no gap in the upper part (a skirt, or a segmentation that closed the legs): a trouser's usual rise
    return crotch if crotch - top <= MAX_RISE * (bottom - top) else top + int(USUAL_RISE * (bottom - top))


def _waist_lift(old: np.ndarray | None, h_left: np.ndarray, h_right: np.ndarray, waist: np.ndarray,
                down: np.ndarray, limit: float) -> float:
    """How far (px, 0..limit) the old lower garment's waistband lies above `waist` (the new garment's top
    on the body): the old garment's top row where it spans most of the way between the hip joints."""
    if old is None or not old.any():
        return 0.0
    x0, x1 = sorted((int(round(h_left[0])), int(round(h_right[0]))))
    x0, x1 = max(x0, 0), min(x1 + 1, old.shape[1])
    if x1 - x0 < 2:
        return 0.0
    rows = np.nonzero((old[:, x0:x1] > 0).mean(axis=1) > 0.5)[0]
    if not len(rows):
        return 0.0
    top = np.array([(x0 + x1) / 2, float(rows.min())])
    return float(np.clip((waist - top) @ down, 0.0, limit))


def _lower_parts(garment: GarmentModel, body: Body, mask: GarmentMask, shape: tuple[int, int],
                 anchors: np.ndarray | None = None, size: float | None = None) -> list[Part]:
    g = garment.landmarks
    _, _, h_left, h_right = _body_frame(body, mask, "lower", anchors)
    hip_width = float(np.linalg.norm(h_right - h_left))
    band = HIP_TO_WAISTBAND_WIDTH * hip_width
    waist_w = max(float(np.linalg.norm(g["waist_right"] - g["waist_left"])), 1.0)
    unit = FLAT_WAIST_PER_HIP_JOINTS * (size or hip_width) / waist_w  # lengths from the flat waistband, like a top's
    top, bottom = int(g["waist_centre"][1]), int(g["hem_centre"][1])
    centre = int(round(g["waist_centre"][0]))
    crotch = _crotch_row(garment, centre, top, bottom)
    # the hip joints sit about halfway between the waistband and the crotch
    split = top + 0.5 * (crotch - top)
    hip_centre = (h_left + h_right) / 2
    across = (h_right - h_left) / max(hip_width, 1e-6)
    down = np.array([-across[1], across[0]])
    waist_on_body = hip_centre - down * (split - top) * unit
    # a higher old waistband (high-waisted trousers) is covered: the hips part is stretched up to it, the
    # legs stay on the hip joints
    # (measured from the garment's visible top at its centre, which may lie above the waistband landmark)
    column = np.nonzero(garment.mask[:, centre] > 0)[0]
    visible_top = float(column.min()) if len(column) else float(top)
    rise = max((split - visible_top) * unit, 1.0)  # body px from the visible top to the hip joints
    lift = _waist_lift(mask.garment, h_left, h_right, hip_centre - down * rise, down, MAX_WAIST_LIFT * hip_width)
    hips_unit = unit * (rise + lift) / rise
    waist_on_body = hip_centre - down * (split - top) * hips_unit
    photo = _PhotoFrame(float(g["waist_left"][0]), float(g["waist_right"][0]), float(top), float(bottom))
    half = across * band / 2
    parts = [_torso_part(garment, photo, garment.mask, (waist_on_body - half, waist_on_body + half),
                         (waist_on_body - half, waist_on_body + half), shape, hips_unit)]
    legs = _legs(body)
    if legs[0] is None:
        return parts
    rows = np.arange(garment.mask.shape[0])[:, None]
    columns = np.arange(garment.mask.shape[1])[None, :]
    parts[0] = _torso_part(garment, photo, np.where(rows < crotch, garment.mask, 0).astype(np.uint8),
                           (waist_on_body - half, waist_on_body + half), (waist_on_body - half, waist_on_body + half),
                           shape, hips_unit)
    for side, chain in ((0, legs[0]), (1, legs[1])):
        leg = np.where((rows >= split) & ((columns < centre) if side == 0 else (columns >= centre)),
                       garment.mask, 0).astype(np.uint8)
        ys, xs = np.nonzero(leg[: crotch + 1])
        root = np.array([xs.mean() if len(xs) else (photo.left + centre) / 2, split])
        end = _farthest(leg, root)
        if end is None:
            continue
        parts.append(_limb_part(garment, leg, root, end, chain, unit, shape))
    return parts


def _close_leg_gap(warped: np.ndarray, alpha: np.ndarray, body: Body) -> tuple[np.ndarray, np.ndarray]:
    """Where the person's legs touch, the flat photo's gap between the trouser legs is no gap: a narrow
    run across a row between two garment pixels, on the person, takes the colours on either side
    (blended across), so no strip of the old trousers or the backdrop is left between the new legs."""
    hips = body.visible((bp.LEFT_HIP, bp.RIGHT_HIP))
    if len(hips) < 2 or not body.person.any():
        return warped, alpha
    width = max(int(LEG_GAP_CLOSE * float(np.linalg.norm(hips[0] - hips[1]))), 3)
    solid = (alpha > 0.5).astype(np.uint8)
    closed = cv2.morphologyEx(solid, cv2.MORPH_CLOSE, np.ones((1, width), np.uint8)) > 0
    gap = closed & (solid == 0) & (body.person > 0)
    if not gap.any():
        return warped, alpha
    columns = np.broadcast_to(np.arange(solid.shape[1]), solid.shape)
    left = np.maximum.accumulate(np.where(solid > 0, columns, 0), axis=1)  # last garment column to the left
    right = np.flip(np.minimum.accumulate(np.flip(np.where(solid > 0, columns, solid.shape[1] - 1), axis=1),
                                          axis=1), axis=1)  # first garment column to the right
    ys, xs = np.nonzero(gap)
    lx, rx = left[ys, xs], right[ys, xs]
    share = ((xs - lx) / np.maximum(rx - lx, 1))[:, None]
    warped = warped.copy()
    warped[ys, xs] = warped[ys, lx] * (1 - share) + warped[ys, rx] * share
    alpha = alpha.copy()
    alpha[ys, xs] = 1.0
    return warped, alpha


def _close_hip_notches(warped: np.ndarray, alpha: np.ndarray, body: Body) -> tuple[np.ndarray, np.ndarray]:
    """The notches at the seam of a bottom's hips and its legs (from the hip joints down to HIP_NOTCH_DEPTH of
    the way to the knees), on the person: a run down a column between two garment pixels, shorter than
    HIP_NOTCH_LENGTH hip-joint distances, is garment too, its colour carried in from the garment round it
    (inpainted). The hips are laid square and each leg along its thigh: where a thigh turns in, the leg
    stepped in below the hips' corner and out again lower down, and the old trousers' place between was
    filled as a grey block of backdrop (full_body_dance, pink jeans, frame 22)."""
    hips = body.visible((bp.LEFT_HIP, bp.RIGHT_HIP))
    knees = body.visible((bp.LEFT_KNEE, bp.RIGHT_KNEE))
    if len(hips) < 2 or not len(knees) or not body.person.any():
        return warped, alpha
    hip_width = float(np.linalg.norm(hips[0] - hips[1]))
    top = int(max(hips[:, 1].min() - HIP_NOTCH_LENGTH * hip_width, 0))
    bottom = int(min(hips[:, 1].max() + HIP_NOTCH_DEPTH * max(float(knees[:, 1].mean() - hips[:, 1].mean()), 0.0),
                     alpha.shape[0]))
    if bottom <= top:
        return warped, alpha
    length = max(int(HIP_NOTCH_LENGTH * hip_width), 1)
    solid = (alpha[top:bottom] > 0.5).astype(np.uint8)
    column = np.ones((2 * length + 1, 1), np.uint8)  # (closing: runs up to about twice the half-length)
    notch = np.zeros(alpha.shape, bool)
    notch[top:bottom] = (cv2.morphologyEx(solid, cv2.MORPH_CLOSE, column) > 0) & (solid == 0) \
        & (body.person[top:bottom] > 0)
    if not notch.any():
        return warped, alpha
    # (inpainted from the garment alone, in the band: the warp is black off the garment)
    band = np.clip(warped[top:bottom], 0, 255).astype(np.uint8)
    filled = np.zeros(warped.shape, np.uint8)
    filled[top:bottom] = cv2.inpaint(band, 1 - solid, 3, cv2.INPAINT_TELEA)
    warped = np.where(notch[..., None], filled.astype(warped.dtype), warped)
    alpha = np.where(notch, 1.0, alpha).astype(alpha.dtype)
    return warped, alpha


def _neck_half_width(garment: GarmentModel, chest: float) -> float:
    """Half the new top's neck opening on the body (px): its top row's extent in the photo, at the torso's
    scale (the torso band spans `chest` px, see `_torso_top_width`)."""
    photo = _photo_frame(garment)
    ys = np.nonzero(garment.mask.any(axis=1))[0]
    xs = np.nonzero(garment.mask[ys[0] + max(int(0.04 * (ys[-1] - ys[0])), 1)])[0]
    if not len(xs):
        return 0.0
    return float(xs.max() - xs.min()) / 2 * chest / photo.width


def _fit_shoulders(warped: np.ndarray, alpha: np.ndarray, old: np.ndarray, s_left: np.ndarray,
                   s_right: np.ndarray, neck: float) -> tuple[np.ndarray, np.ndarray]:
    """The new top's shoulders raised, column by column, to the old garment's where those rise higher (a
    jacket's padded shoulders), by at most SHOULDER_FIT_MAX: each column is stretched between its top and
    SHOULDER_FIT_DEPTH below the shoulder line (nothing moves below), so no strip of the old garment is
    left above the new one to be filled as skin. The neck opening (`neck` px either side of the centre)
    keeps its shape: a shirt collar rising up the neck is no shoulder."""
    height, width = alpha.shape
    span = float(np.linalg.norm(s_right - s_left))
    if span < 8:
        return warped, alpha
    columns = np.arange(width, dtype=np.float64)
    slope = (s_right[1] - s_left[1]) / (s_right[0] - s_left[0]) if abs(s_right[0] - s_left[0]) > 1e-6 else 0.0
    line = s_left[1] + (columns - s_left[0]) * slope  # the shoulder line's row in every column
    anchor = line + SHOULDER_FIT_DEPTH * span
    rows = np.arange(height, dtype=np.float64)[:, None]
    window = (rows >= line[None, :] - MAX_YOKE * span) & (rows < anchor[None, :])

    def first_row(mask: np.ndarray) -> np.ndarray:
        hit = mask & window
        return np.where(hit.any(axis=0), np.argmax(hit, axis=0), -1).astype(np.float64)

    new_top, old_top = first_row(alpha > 0.5), first_row(old > 0)
    lift = np.where((new_top >= 0) & (old_top >= 0), np.clip(new_top - old_top, 0, SHOULDER_FIT_MAX * span), 0.0)
    # none inside the neck opening, rising to full over SHOULDER_FIT_SMOOTH beyond it
    centre = (s_left[0] + s_right[0]) / 2
    lift *= np.clip((np.abs(columns - centre) - neck) / (SHOULDER_FIT_SMOOTH * span), 0.0, 1.0)
    if not lift.any():
        return warped, alpha
    # a smooth lift along the shoulder: one stray column of the old region (a strand of hair) does not spike it
    size = max(int(SHOULDER_FIT_SMOOTH * span) | 1, 3)
    lift = cv2.GaussianBlur(cv2.medianBlur(lift.astype(np.float32)[None, :], min(size, 5)), (size, 1), 0)[0]
    depth = np.maximum(anchor - new_top, 1.0)
    squeeze = np.where(new_top >= 0, depth / (depth + lift), 1.0)  # source rows per output row above the anchor
    source = np.where(rows < anchor[None, :], anchor[None, :] - (anchor[None, :] - rows) * squeeze[None, :], rows)
    map_x = np.broadcast_to(columns[None, :], (height, width)).astype(np.float32)
    map_y = source.astype(np.float32)
    warped = cv2.remap(warped.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.remap(alpha, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped, alpha


def _widen_to_old(warped: np.ndarray, alpha: np.ndarray, old: np.ndarray, bottom: int,
                  reach: int, neck: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Above row `bottom`, the old garment just beside a sleeved top (a padded shoulder, a jacket's sleeve
    wider than the new one) is covered: each row's outermost garment colour is carried out over the old
    garment next to it, at most `reach` px, so no clothed shoulder is left to be filled as skin. Between
    the `neck` columns (the shoulder joints) a gap with garment on both sides is the neck opening: the
    body shows there, it is not closed."""
    solid = (alpha[:bottom] > 0.5).astype(np.uint8)
    if not solid.any():
        return warped, alpha
    grown = cv2.dilate(solid, np.ones((1, 2 * reach + 1), np.uint8)) > 0
    gap = grown & (solid == 0) & (old[:bottom] > 0)
    if not gap.any():
        return warped, alpha
    width = solid.shape[1]
    columns = np.broadcast_to(np.arange(width), solid.shape)
    inner = cv2.erode(solid, np.ones((1, 5), np.uint8)) > 0  # (colours a few px inside: no soft edge smeared)
    left = np.maximum.accumulate(np.where(inner, columns, -1), axis=1)  # last garment column to the left
    right = np.flip(np.minimum.accumulate(np.flip(np.where(inner, columns, width), axis=1), axis=1), axis=1)
    ys, xs = np.nonzero(gap)
    lx, rx = left[ys, xs], right[ys, xs]
    use_left = (lx >= 0) & ((rx >= width) | (xs - lx <= rx - xs))
    source = np.where(use_left, lx, rx)
    opening = (lx >= 0) & (rx < width) & (xs > neck[0]) & (xs < neck[1])
    found = (source >= 0) & (source < width) & ~opening
    ys, xs, source = ys[found], xs[found], source[found]
    warped, alpha = warped.copy(), alpha.copy()
    warped[ys, xs] = warped[ys, source]
    alpha[ys, xs] = 1.0
    return warped, alpha


def _detected_wrist(body: Body, wrist: np.ndarray, width: float) -> np.ndarray:
    """The hand detector's own wrist (landmark 0) for the pose wrist `wrist`, when one of its hands lies
    where that side's pose knuckles are (within HAND_MATCH shoulder-joint distances); else `wrist`. The
    pose's wrist drifts where the arm is cut by the frame or folded (crossed arms), the hand's does not."""
    if body.keypoints is None or not body.hands:
        return wrist
    points = body.keypoints
    side = min(((bp.LEFT_WRIST, (17, 19, 21)), (bp.RIGHT_WRIST, (18, 20, 22))),
               key=lambda s: float(np.linalg.norm(points[s[0], :2] - wrist)))
    knuckles = body.visible(side[1])
    if not len(knuckles):
        return wrist
    centre = knuckles.mean(axis=0)
    hand = min(body.hands, key=lambda h: float(np.linalg.norm(h.mean(axis=0) - centre)))
    if np.linalg.norm(hand.mean(axis=0) - centre) > HAND_MATCH * width:
        return wrist
    return np.asarray(hand[0], np.float64)


def arms_in_front(body: Body, shape: tuple[int, int]) -> np.ndarray:
    """The arms (shoulder -> elbow -> wrist capsules within the person): in front of a garment's torso.
    A wrist the hand detector saw is taken from it (`_detected_wrist`)."""
    mask = np.zeros(shape, np.uint8)
    shoulders = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))
    if len(shoulders) < 2:
        return mask
    width = float(np.linalg.norm(shoulders[0] - shoulders[1]))
    for chain in _arms(body, shape):
        if chain is None:
            continue
        if len(chain) == 3:
            chain = np.vstack([chain[:2], _detected_wrist(body, chain[2], width)[None]])
        chain = np.vstack([chain[0] + ARM_FROM * (chain[1] - chain[0]), chain[1:]])
        for (a, b), radius in zip(zip(chain[:-1], chain[1:]), ARM_RADIUS):
            r = max(int(radius * width), 1)
            cv2.line(mask, tuple(int(v) for v in a), tuple(int(v) for v in b), 255, 2 * r)
            cv2.circle(mask, tuple(int(v) for v in b), r, 255, -1)
    return mask & body.person if body.person.any() else mask


def _tapered_limb(coverage: np.ndarray, chain: np.ndarray, radii: tuple[float, ...]) -> None:
    """Draw the joints `chain` (n, 2) as segments whose half-width goes linearly from `radii[i]` to
    `radii[i + 1]`, with round ends, into `coverage` (float32, in place, the maximum kept): 1 inside, 0
    outside, the pixel across the outline anti-aliased (coverage = half-width - distance + 0.5)."""
    h, w = coverage.shape
    for (a, b), (ra, rb) in zip(zip(chain[:-1], chain[1:]), zip(radii[:-1], radii[1:])):
        reach = max(ra, rb) + 1.0
        x0, y0 = max(int(min(a[0], b[0]) - reach), 0), max(int(min(a[1], b[1]) - reach), 0)
        x1, y1 = min(int(max(a[0], b[0]) + reach) + 1, w), min(int(max(a[1], b[1]) + reach) + 1, h)
        if x0 >= x1 or y0 >= y1:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        along = b - a
        length2 = max(float(along @ along), 1e-6)
        # (the nearest point of the bone; its half-width there, a linear taper: near enough to the exact
        # tapered capsule's outline for an arm's gentle taper)
        t = np.clip(((xs - a[0]) * along[0] + (ys - a[1]) * along[1]) / length2, 0.0, 1.0)
        distance = np.hypot(xs - (a[0] + t * along[0]), ys - (a[1] + t * along[1]))
        inside = np.clip(ra + (rb - ra) * t - distance + 0.5, 0.0, 1.0)
        np.maximum(coverage[y0:y1, x0:x1], inside, out=coverage[y0:y1, x0:x1])


def body_figure(body: Body, shape: tuple[int, int]) -> np.ndarray | None:
    """The body's outline from the pose (float32 coverage in [0, 1], anti-aliased): the torso from the
    shoulder joints straight down to the hips' outer sides (HIPS_PER_HIP_JOINTS), all above the shoulder
    line between the joints (neck and shoulders' slope), and each arm tapering from the shoulder through
    the elbow to the wrist (BARE_ARM_RADII). What an old garment leaves outside it is not the body: a long
    sleeve's straight tube beyond a bared arm, a loose tee's box beside a bared midriff. None without both
    shoulders and an arm found (then nothing says where the body ends)."""
    arms = _arms(body, shape)
    if len(body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))) < 2 or arms[0] is None:
        return None
    s_left, s_right, h_left, h_right = _body_frame(body, None)
    width = float(np.linalg.norm(s_right - s_left))
    centre, half = (h_left + h_right) / 2, (h_right - h_left) * HIPS_PER_HIP_JOINTS / 2
    bottom = float(shape[0] + width)  # (below the hips the torso goes on down: hips and legs are a bottom's)
    right, left = centre + half, centre - half
    polygon = np.array([(s_left[0], -width), (s_right[0], -width), s_right, right, (right[0], bottom),
                        (left[0], bottom), left, s_left], np.float64)
    torso = np.zeros(shape, np.uint8)
    cv2.fillPoly(torso, [np.round(polygon * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    coverage = torso.astype(np.float32) / 255.0
    for chain in arms:
        radii = [r * width for r in BARE_ARM_RADII[: len(chain)]]
        if len(chain) == 3:
            wrist = _detected_wrist(body, chain[2], width)
            # (carried on into the hand, kept in front, by the wrist's half-width: the round end stopped
            # short of the hand and the old cuff beside it was filled from the backdrop, a notch at the wrist)
            forearm = wrist - chain[1]
            beyond = wrist + forearm * radii[2] / max(float(np.linalg.norm(forearm)), 1e-6)
            chain = np.vstack([chain[:2], wrist[None], beyond[None]])
            radii.append(radii[2])
        _tapered_limb(coverage, chain, tuple(radii))
    return coverage


def warp_garment(garment: GarmentModel, body: Body, mask: GarmentMask, shape: tuple[int, int],
                 category: str, arms: np.ndarray | None = None, anchors: np.ndarray | None = None,
                 size: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The garment warped onto the body: RGB, its alpha in [0, 1], and what stays in front of it
    (face, hair, hands) as a uint8 mask. The torso goes under `arms` (a mask), sleeves over them.
    `anchors` (image-left/right shoulder, left/right hip) replace the body's own (see `body_anchors`);
    `size` replaces the shoulder-joint distance (a bottom's: hip-joint) the garment's lengths are scaled
    by (a video holds it steady: a body turning narrows its shoulders, not its height)."""
    parts = _lower_parts(garment, body, mask, shape, anchors, size) if garment.category == "lower" else \
        _upper_parts(garment, body, mask, shape, anchors, size)
    image = np.zeros((*shape, 3), np.float32)
    alpha = np.zeros(shape, np.float32)
    for part in parts:
        a = part.alpha if part.limb or arms is None else part.alpha * (arms == 0)
        image = image * (1 - a[..., None]) + part.image.astype(np.float32) * a[..., None]
        alpha = alpha + a * (1 - alpha)
    # un-premultiply: colour where alpha is partial is the parts' colour, not mixed with black
    warped = np.where(alpha[..., None] > 1e-3, image / np.maximum(alpha[..., None], 1e-3), 0)
    if garment.category == "lower":
        warped, alpha = _close_leg_gap(warped, alpha, body)
        warped, alpha = _close_hip_notches(warped, alpha, body)
    s_left, s_right, _, _ = _body_frame(body, mask, category, anchors)
    scale = float(np.linalg.norm(s_right - s_left)) or 0.25 * min(shape)
    shoulders_seen = len(body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER))) == 2
    if garment.category != "lower" and shoulders_seen and mask.garment is not None:
        _, _, h_left, h_right = _body_frame(body, mask, category, anchors)
        chest = _torso_top_width(body, shape, (s_left, s_right, h_left, h_right), anchors is None and size is None)
        warped, alpha = _fit_shoulders(warped, alpha, mask.garment, s_left, s_right, _neck_half_width(garment, chest))
        if any(part.limb for part in parts):  # sleeves: the old garment's shoulders and arms beside them are covered
            bottom = int(max(s_left[1], s_right[1]) + SHOULDER_FIT_DEPTH * scale)
            if _limbs(body, bp.ARMS)[0] is None:  # arms cut by the frame: all along the sleeves, as far as they go
                sleeved = np.nonzero(np.any([part.alpha > 0.5 for part in parts if part.limb], axis=0).any(axis=1))[0]
                bottom = max(bottom, int(sleeved.max()) + 1 if len(sleeved) else 0)
            warped, alpha = _widen_to_old(warped, alpha, mask.garment, bottom, max(int(SLEEVE_SIDE_REACH * scale), 1),
                                          (float(s_left[0]), float(s_right[0])))
    if garment.category != "lower" and body.person.any() and shoulders_seen:
        line = int(max(s_left[1], s_right[1]) + SHOULDER_CLIP_BELOW * scale)
        if line > 0:
            near = cv2.dilate(body.person, cv2.getStructuringElement(
                cv2.MORPH_ELLIPSE, (2 * max(int(SHOULDER_CLIP_MARGIN * scale), 1) + 1,) * 2)) > 0
            alpha[:line] *= near[:line]
    keep = protection_mask(body, shape, category, scale)
    return np.clip(warped + 0.5, 0, 255).astype(np.uint8), alpha, keep
