"""The eyes inside the swapped face: gaze, blinks and lids from the target frame, the source's eye shape.

The source texture's iris never moves, so the swapped face cannot look where the target looks. By
default (`paste_target_eyeballs`) each eye's eyeball (iris and white, inside the lid lines) is the
target frame's, laid on the swapped eye's corners, while its lids, lashes and outline stay the source's
(`slide_lids` closes them as the target's close). Alternatively `shift_gaze` moves the source's own iris
(`--eyes follow`, `--eyes gaze`): it only reads where the photo's eye is sharp and bright enough to
show an iris against its white.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...face3d import landmarks as lm
from ...masks.shapes import as_mask

MAX_GAZE_SHIFT = (0.25, 0.12)  # eye widths the iris may move along and across the corner line
MIN_OPENING = 0.12  # eye height over width below which an eye is too shut to move its iris


def _eye_frame(points: np.ndarray, corners: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Origin (first corner), unit axis along the corner line, its normal, and the eye's width."""
    a, b = points[corners[0], :2].astype(np.float64), points[corners[1], :2].astype(np.float64)
    width = float(np.linalg.norm(b - a))
    axis = (b - a) / max(width, 1e-6)
    return a, axis, np.array([-axis[1], axis[0]]), width


def _iris_in_eye(points: np.ndarray, corners: tuple[int, int], iris: np.ndarray) -> tuple[np.ndarray, float]:
    """The iris centre in eye coordinates (eye widths along and across the corner line) and its radius
    (eye widths)."""
    origin, axis, normal, width = _eye_frame(points, corners)
    offset = points[iris[0], :2] - origin
    radius = float(np.mean(np.linalg.norm(points[iris[1:], :2] - points[iris[0], :2], axis=1)))
    return np.array([offset @ axis, offset @ normal]) / max(width, 1e-6), radius / max(width, 1e-6)


def carry_point(point: np.ndarray, texture_points: np.ndarray, points: np.ndarray, triangles: np.ndarray
                ) -> np.ndarray | None:
    """Where the mesh warp takes the texture's `point`: the same barycentric weights in the triangle that
    holds it, applied to `points`. None when no triangle holds it."""
    a, b, c = (texture_points[triangles[:, k], :2].astype(np.float64) for k in range(3))
    v0, v1, v2 = b - a, c - a, np.asarray(point[:2], np.float64) - a
    det = v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0]
    ok = np.abs(det) > 1e-9
    safe = np.where(ok, det, 1.0)
    u = (v2[:, 0] * v1[:, 1] - v2[:, 1] * v1[:, 0]) / safe
    v = (v0[:, 0] * v2[:, 1] - v0[:, 1] * v2[:, 0]) / safe
    inside = ok & (u >= -1e-6) & (v >= -1e-6) & (u + v <= 1 + 1e-6)
    if not inside.any():
        return None
    k = int(np.argmax(inside))
    t = triangles[k]
    return ((1 - u[k] - v[k]) * points[t[0], :2] + u[k] * points[t[1], :2] + v[k] * points[t[2], :2]).astype(np.float64)


def shift_gaze(warped: np.ndarray, points: np.ndarray, texture_points: np.ndarray, target_points: np.ndarray,
               triangles: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`warped` (the face's box) with the source's own irises moved to where the target's look, and the
    mask (0/255) of the pixels changed.

    The iris is placed in eye coordinates (along and across the line between the eye's corners, in eye
    widths), so a wider or tilted eye keeps the target's gaze. Where it was, the eye is inpainted from
    the white around it; everything stays inside the swapped face's eye opening, so lids, lashes and the
    iris's colour stay the source's. `texture_points` locate the iris in the source photo; with the mesh's
    `triangles` the iris is found where the warp put it (the warp does not keep an iris's place between
    the corners when the face turns, and a glance measured from the photo's place went half as far).
    """
    h, w = warped.shape[:2]
    changed = np.zeros((h, w), np.uint8)
    if min(points.shape[0], texture_points.shape[0], target_points.shape[0]) < 478:
        return warped, changed
    out = warped.copy()
    for loop, lids, corners, iris in ((lm.RIGHT_EYE, lm.RIGHT_EYE_LIDS, lm.RIGHT_EYE_CORNERS, lm.RIGHT_IRIS),
                                      (lm.LEFT_EYE, lm.LEFT_EYE_LIDS, lm.LEFT_EYE_CORNERS, lm.LEFT_IRIS)):
        origin, axis, normal, width = _eye_frame(points, corners)
        opening = float(np.linalg.norm(points[lids[0], :2] - points[lids[1], :2]))
        if width < 6 or opening < MIN_OPENING * width:
            continue
        source_at, radius = _iris_in_eye(texture_points, corners, iris)
        if triangles is not None:
            rendered = carry_point(texture_points[iris[0]], texture_points, points, triangles)
            if rendered is not None:
                source_at = np.array([(rendered - origin) @ axis, (rendered - origin) @ normal]) / width
        target_at, _ = _iris_in_eye(target_points, corners, iris)
        move = np.clip(target_at - source_at, -np.array(MAX_GAZE_SHIFT), MAX_GAZE_SHIFT)
        if np.abs(move).max() * width < 0.05:  # sub-pixel moves count: a glance is often one pixel
            continue
        to_pixels = np.stack([axis, normal], axis=1) * width  # eye coordinates -> box pixels
        here = origin + to_pixels @ source_at
        shift = to_pixels @ move
        r = max(radius * width * 1.15, 1.5)
        # A window around the eye, large enough for the iris at both places.
        x0 = int(max(np.floor(min(points[loop, 0].min(), here[0] - r, here[0] + shift[0] - r)) - 3, 0))
        y0 = int(max(np.floor(min(points[loop, 1].min(), here[1] - r, here[1] + shift[1] - r)) - 3, 0))
        x1 = int(min(np.ceil(max(points[loop, 0].max(), here[0] + r, here[0] + shift[0] + r)) + 4, w))
        y1 = int(min(np.ceil(max(points[loop, 1].max(), here[1] + r, here[1] + shift[1] + r)) + 4, h))
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        window = out[y0:y1, x0:x1]
        local = np.array([x0, y0], dtype=np.float64)
        eye_mask = np.zeros(window.shape[:2], np.uint8)
        cv2.fillPoly(eye_mask, [np.round((points[loop, :2] - local) * 4).astype(np.int32)], 255,
                     lineType=cv2.LINE_AA, shift=2)
        centre = here - local
        disc = np.zeros_like(eye_mask)
        cv2.circle(disc, (int(round(centre[0] * 4)), int(round(centre[1] * 4))), int(round(r * 4)), 255, -1,
                   lineType=cv2.LINE_AA, shift=2)
        hole = np.where((disc > 0) & (eye_mask > 0), 255, 0).astype(np.uint8)
        emptied = cv2.inpaint(window, hole, 3, cv2.INPAINT_TELEA)  # mostly covered again by the moved iris
        moved = cv2.warpAffine(window, np.array([[1, 0, shift[0]], [0, 1, shift[1]]]), window.shape[1::-1],
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        moved_disc = cv2.warpAffine(disc, np.array([[1, 0, shift[0]], [0, 1, shift[1]]]), disc.shape[1::-1],
                                    flags=cv2.INTER_LINEAR)
        iris_alpha = cv2.GaussianBlur(moved_disc.astype(np.float32) / 255.0, (0, 0), max(r * 0.12, 0.5))
        eye_alpha = cv2.GaussianBlur(eye_mask.astype(np.float32) / 255.0, (0, 0), 0.7)
        eye_alpha[eye_alpha < 0.02] = 0.0
        inside = emptied.astype(np.float32) * (1 - iris_alpha[..., None]) + moved.astype(np.float32) * iris_alpha[..., None]
        mixed = window.astype(np.float32) * (1 - eye_alpha[..., None]) + inside * eye_alpha[..., None]
        out[y0:y1, x0:x1] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        changed[y0:y1, x0:x1] |= as_mask(eye_alpha > 0)
    return out, changed


# Blinks as a real lid does them: the upper lid slides down over the eyeball, it is not squashed.
UPPER_BAND = 1.8  # the skin above the upper lash line that makes room, in open-eye heights
LOWER_BAND = 1.0  # the same below the lower lash line (a smile's raised lower lid)
LASH_BAND = 0.3  # lashes and lid edge, moved whole (never stretched), in open-eye heights


def _similarity(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """2x3 similarity taking the segment a onto the segment b (rotation, uniform scale, shift)."""
    za, zb = complex(*(a[1] - a[0])), complex(*(b[1] - b[0]))
    k = zb / za if abs(za) > 1e-6 else 1.0
    rot = np.array([[k.real, -k.imag], [k.imag, k.real]])
    return np.hstack([rot, (b[0] - rot @ a[0])[:, None]])


def open_eye_points(points: np.ndarray, rest_points: np.ndarray) -> np.ndarray:
    """`points` with each eye's lids and iris replaced by the rest face's (open) ones, laid on `points`'
    eye corners: the mesh then warps the photo's eye unsquashed, and slide_lids closes it. An eye open
    wider than at rest keeps `points`' lids (the mesh opens it; there is nothing to slide)."""
    out = points.copy()
    if min(points.shape[0], rest_points.shape[0]) < 478:
        return out
    for loop, corners, iris, lids in ((lm.RIGHT_EYE, lm.RIGHT_EYE_CORNERS, lm.RIGHT_IRIS, lm.RIGHT_EYE_LIDS),
                                      (lm.LEFT_EYE, lm.LEFT_EYE_CORNERS, lm.LEFT_IRIS, lm.LEFT_EYE_LIDS)):
        if lm.eye_opening(points, lids, corners) >= lm.eye_opening(rest_points, lids, corners):
            continue
        move = _similarity((rest_points[corners[0], :2].astype(np.float64), rest_points[corners[1], :2].astype(np.float64)),
                           (points[corners[0], :2].astype(np.float64), points[corners[1], :2].astype(np.float64)))
        moved = np.concatenate([loop, iris])
        out[moved, :2] = rest_points[moved, :2] @ move[:, :2].T + move[:, 2]
    return out


def _profile(t: np.ndarray, v: np.ndarray, at: np.ndarray) -> np.ndarray:
    """A lid's across-coordinate at `at` (along-coordinates), linear between its points, 0 past the corners."""
    order = np.argsort(t)
    return np.interp(at, t[order], v[order], left=0.0, right=0.0)


def _slide(v: np.ndarray, edge: np.ndarray, moved: np.ndarray, lash: float, band: float) -> np.ndarray:
    """Source across-coordinates for output ones `v` on one lid's side, measured away from the eye (so
    larger is farther from the eyeball): the lash band [edge, edge + lash] comes whole from `moved`
    nearer the eyeball, the skin behind it stretches over [edge + lash, edge_open + band] to make room,
    and the rest stays. `edge` is where the lash line is now, `edge + moved` where it was."""
    open_edge = edge + moved
    far = open_edge + band
    out = v.copy()
    lashes = (v >= edge) & (v < edge + lash)
    out[lashes] = v[lashes] + moved[lashes]
    skin = (v >= edge + lash) & (v < far)
    span = np.maximum(far - edge - lash, 1e-6)
    out[skin] = (open_edge + lash + (v - edge - lash) * (far - open_edge - lash) / span)[skin]
    return out


def slide_lids(warped: np.ndarray, open_points: np.ndarray, points: np.ndarray) -> np.ndarray:
    """`warped` (the face's box, rendered with `open_points`' open eyes) with the lids slid to `points`.

    The mesh warp squashes a photo's thin lid into a closing eye and stretches its lashes into
    streaks. Here the face is rendered with the source's open eyes and each eye is remapped one column
    at a time across its corner line, as a lid moves: the lashes slide down whole over the eyeball
    (which stays where it is), the lid skin above them stretches to make room (a band UPPER_BAND
    open-eye heights tall), and a raised lower lid slides up the same way. Box coordinates throughout.
    """
    if min(points.shape[0], open_points.shape[0]) < 468:
        return warped
    h, w = warped.shape[:2]
    out = warped.copy()
    for loop, corners in ((lm.RIGHT_EYE, lm.RIGHT_EYE_CORNERS), (lm.LEFT_EYE, lm.LEFT_EYE_CORNERS)):
        c0, c1 = points[corners[0], :2].astype(np.float64), points[corners[1], :2].astype(np.float64)
        width = float(np.linalg.norm(c1 - c0))
        if width < 6:
            continue
        axis = (c1 - c0) / width
        normal = np.array([-axis[1], axis[0]])
        normal = normal if normal[1] >= 0 else -normal  # down the picture, toward the lower lid
        rest = open_points[loop, :2].astype(np.float64)
        rest_t, rest_v = (rest - c0) @ axis, (rest - c0) @ normal
        now = points[loop, :2].astype(np.float64)
        now_t, now_v = (now - c0) @ axis, (now - c0) @ normal
        upper, lower = rest_v < 0, rest_v > 0
        if upper.sum() < 2 or lower.sum() < 2:
            continue
        grid = np.linspace(0.0, width, 64)
        height = float(np.max(_profile(rest_t[lower], rest_v[lower], grid) - _profile(rest_t[upper], rest_v[upper], grid)))
        if height < 1.0:
            continue
        up, down, lash = UPPER_BAND * height, LOWER_BAND * height, LASH_BAND * height
        reach = np.array([c0 + a * axis + b * normal for a in (0.0, width)
                          for b in (rest_v.min() - up - 2, rest_v.max() + down + 2)])
        x0, y0 = np.maximum(np.floor(reach.min(axis=0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(reach.max(axis=0)).astype(int) + 1, (w, h))
        if x1 - x0 < 3 or y1 - y0 < 3:
            continue
        # rows and columns broadcast (the same products, summed in the same order as over a full grid)
        xs, ys = np.arange(x0, x1, dtype=np.float64)[None, :], np.arange(y0, y1, dtype=np.float64)[:, None]
        t = (xs - c0[0]) * axis[0] + (ys - c0[1]) * axis[1]
        v = (xs - c0[0]) * normal[0] + (ys - c0[1]) * normal[1]
        tc = np.clip(t, 0.0, width)
        uo, lo = _profile(rest_t[upper], rest_v[upper], tc), _profile(rest_t[lower], rest_v[lower], tc)
        un, ln = _profile(now_t[upper], now_v[upper], tc), _profile(now_t[lower], now_v[lower], tc)
        middle = 0.5 * (un + ln)
        crossed = un > ln  # lids drawn past each other: shut, at their middle
        un, ln = np.where(crossed, middle, un), np.where(crossed, middle, ln)
        du = np.clip(un - uo, 0.0, None)  # how far the upper lid came down (a wider eye stays as photographed)
        dl = np.clip(lo - ln, 0.0, None)  # how far the lower lid came up
        if max(float(du.max()), float(dl.max())) < 0.25:
            continue
        # upper side measured upward (negated), lower side downward
        src_v = np.where(v < uo + du, -_slide(-v, -(uo + du), du, lash, up), v)
        src_v = np.where(v > lo - dl, _slide(v, lo - dl, dl, lash, down), src_v)
        map_x = (c0[0] + t * axis[0] + src_v * normal[0]).astype(np.float32)
        map_y = (c0[1] + t * axis[1] + src_v * normal[1]).astype(np.float32)
        out[y0:y1, x0:x1] = cv2.remap(warped, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out



EYE_OPENING_GROWTH = 0.15  # eye openings grown by this fraction of an eye's width (blur spreads the whites)


def eye_openings(shape: tuple[int, int], points: np.ndarray, growth: float = EYE_OPENING_GROWTH) -> np.ndarray | None:
    """0..1 float weights of the face's two eye openings (the lid contours in `points`, box coordinates),
    grown and feathered by `growth` of the eye's width; None without a full mesh or with both eyes shut."""
    if points.shape[0] < 468:
        return None
    mask = np.zeros(shape, np.uint8)
    for loop in (lm.RIGHT_EYE, lm.LEFT_EYE):
        cv2.fillPoly(mask, [np.round(points[loop, :2]).astype(np.int32)], 255)
    if not mask.any():
        return None
    grow = max(int(round(growth * float(np.ptp(points[lm.RIGHT_EYE, 0])))), 1)
    sigma = max(0.5 * grow, 0.6)
    # Dilated and blurred inside the eyes' box grown by the dilation and the blur's reach only: farther
    # out the weights are exactly 0, and the box's reflected border reads zeros as the frame's would.
    reach = grow + int(round(sigma * 4 * 2 + 1)) // 2 + 1  # OpenCV's float Gaussian kernel: 4 sigma each side
    x, y, w, h = cv2.boundingRect(mask)
    y0, y1 = max(y - reach, 0), min(y + h + reach, shape[0])
    x0, x1 = max(x - reach, 0), min(x + w + reach, shape[1])
    grown = cv2.dilate(mask[y0:y1, x0:x1], cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    weights = np.zeros(shape, np.float32)
    weights[y0:y1, x0:x1] = cv2.GaussianBlur(grown.astype(np.float32) / 255.0, (0, 0), sigma)
    return weights


EYEBALL_INSET = 0.03  # the eyeball stops this far (eye widths) inside both lid lines: the lashes stay the source's
EYEBALL_FEATHER = 0.04  # past the inset its weight ramps to 1 over this many eye widths
MAX_EYEBALL_STRETCH = 1.3  # the target's eyeball stretched across the corner line at most this much


IRIS_CORE = 0.7  # the iris's colour is read within this share of its radius (its rim and the white stay out)
IRIS_LIGHTNESS_GAIN = (0.5, 1.5)  # how far the target's iris may be darkened or lightened toward the source's
IRIS_CHROMA_SHIFT = 25.0  # at most this far (Lab a, b units) is its colour moved


def iris_colour(image: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    """Median OpenCV Lab colour of both irises' cores (inside the eye openings), or None when fewer than
    8 pixels show (eyes shut, no iris points). Reads only the eyes' box."""
    if points.shape[0] < 478:
        return None
    h, w = image.shape[:2]
    eyes = points[np.concatenate([lm.RIGHT_EYE, lm.LEFT_EYE]), :2]
    x0, y0 = np.maximum(np.floor(eyes.min(axis=0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(eyes.max(axis=0)).astype(int) + 2, (w, h))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for loop, iris in ((lm.RIGHT_EYE, lm.RIGHT_IRIS), (lm.LEFT_EYE, lm.LEFT_IRIS)):
        opening = np.zeros_like(inside)
        cv2.fillPoly(opening, [np.round(points[loop, :2] - (x0, y0)).astype(np.int32)], 1)
        core = np.zeros_like(inside)
        radius = float(np.mean(np.linalg.norm(points[iris[1:], :2] - points[iris[0], :2], axis=1)))
        centre = tuple(int(v) for v in np.round(points[iris[0], :2] - (x0, y0)))
        cv2.circle(core, centre, max(int(round(IRIS_CORE * radius)), 1), 1, -1)
        inside |= opening & core
    if np.count_nonzero(inside) < 8:
        return None
    lab = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2LAB)
    return np.median(lab[inside > 0].astype(np.float32), axis=0)


def iris_recolour(source_iris: np.ndarray, source_skin: np.ndarray, target_iris: np.ndarray,
                  target_skin: np.ndarray, colourless: bool = False) -> tuple[float, np.ndarray]:
    """Lightness gain and (a, b) shift that give the target's iris the source's colour, within
    IRIS_LIGHTNESS_GAIN and IRIS_CHROMA_SHIFT. Lightness: the source iris's relative to its skin's.
    Chroma: the source iris's own, less the photo's cast (its skin's chroma scaled by the iris's lightness
    over the skin's: a dark iris carries a tint or a side light's colour in proportion), plus the target
    skin's cast at the new lightness; so a green-tinted photo's brown iris is neither green nor, taken
    relative to the whole skin's tint, red. A colourless source (a black-and-white photo) keeps the
    target's chroma. Colours are OpenCV Lab (skins: their means)."""
    source_ratio = float(source_iris[0]) / max(float(source_skin[0]), 1.0)
    wanted = source_ratio * float(target_skin[0])
    gain = float(np.clip(wanted / max(float(target_iris[0]), 1.0), *IRIS_LIGHTNESS_GAIN))
    if colourless:
        return gain, np.zeros(2, np.float32)
    own = (source_iris[1:3] - 128.0) - source_ratio * (source_skin[1:3] - 128.0)
    new_ratio = gain * float(target_iris[0]) / max(float(target_skin[0]), 1.0)
    shift = 128.0 + own + new_ratio * (target_skin[1:3] - 128.0) - target_iris[1:3]
    size = float(np.linalg.norm(shift))
    if size > IRIS_CHROMA_SHIFT:
        shift = shift * (IRIS_CHROMA_SHIFT / size)
    return gain, np.asarray(shift, np.float32)


def _recolour_iris(eye: np.ndarray, target_points: np.ndarray, iris: np.ndarray, matrix: np.ndarray,
                   scale: float, recolour: tuple[float, np.ndarray]) -> np.ndarray:
    """`eye` (the target's eye warped into a window by `matrix`) with its iris's lightness scaled and its
    chroma shifted by `recolour`, over a soft disc round the mapped iris; pixels brighter than the iris
    (its glints) keep their lightness."""
    gain, shift = recolour
    centre = matrix[:, :2] @ target_points[iris[0], :2].astype(np.float64) + matrix[:, 2]
    radius = scale * float(np.mean(np.linalg.norm(target_points[iris[1:], :2] - target_points[iris[0], :2], axis=1)))
    if radius < 1.0:
        return eye
    ys, xs = np.mgrid[0 : eye.shape[0], 0 : eye.shape[1]].astype(np.float32)
    disc = np.clip((1.1 * radius - np.hypot(xs - centre[0], ys - centre[1])) / max(0.2 * radius, 1.0), 0.0, 1.0)
    if not disc.any():
        return eye
    lab = cv2.cvtColor(eye, cv2.COLOR_RGB2LAB).astype(np.float32)
    level = float(np.median(lab[..., 0][disc > 0.5])) if np.count_nonzero(disc > 0.5) else 128.0
    glint = np.clip((lab[..., 0] - 1.5 * level - 10.0) / 20.0, 0.0, 1.0)  # a glint is no iris
    weight = disc * (1.0 - glint)
    lab[..., 0] *= 1.0 + (gain - 1.0) * weight
    for channel in (1, 2):  # channel by channel: numpy's broadcast over a 2-long last axis cost 4x
        lab[..., channel] += weight * shift[channel - 1]
    return cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def paste_target_eyeballs(warped: np.ndarray, frame: np.ndarray, points: np.ndarray, target_points: np.ndarray,
                          recolour: tuple[float, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`warped` (the face's box) with each eye's eyeball (iris and white, inside the lid lines) taken
    from `frame` (the whole target frame), and the mask (0/255) of the pixels changed.

    The target's eye is laid on the swapped eye's corners by a similarity (the iris stays round: an
    affine fitted to the lid contours squashed it into a narrower eye), stretched across the corner
    line only where the swapped eye is the more open (up to MAX_EYEBALL_STRETCH), and kept inside both
    eyes' lid lines, EYEBALL_INSET within them: the swapped face keeps its own lids, lashes and outline,
    and the gaze, the iris's place under the lids and the glints are the frame's. `points` are the
    swapped face's landmarks (lids where they end up) in the box's coordinates, `target_points` the
    target's in the frame's. `recolour` (`iris_recolour`: lightness gain, Lab a, b shift) gives the
    target's iris the source's colour (its glints, the white and the lids keep theirs)."""
    h, w = warped.shape[:2]
    changed = np.zeros((h, w), np.uint8)
    if points.shape[0] < 468 or target_points.shape[0] < 468:
        return warped, changed
    out = warped.copy()
    for loop, lids, corners, iris in ((lm.RIGHT_EYE, lm.RIGHT_EYE_LIDS, lm.RIGHT_EYE_CORNERS, lm.RIGHT_IRIS),
                                      (lm.LEFT_EYE, lm.LEFT_EYE_LIDS, lm.LEFT_EYE_CORNERS, lm.LEFT_IRIS)):
        origin, axis, normal, width = _eye_frame(points, corners)
        t_origin, t_axis, t_normal, t_width = _eye_frame(target_points, corners)
        if width < 6 or t_width < 4:
            continue
        ours, theirs_open = lm.eye_opening(points, lids, corners), lm.eye_opening(target_points, lids, corners)
        # a (nearly) shut eye shows no eyeball: faded out below MIN_OPENING, gone at half of it
        fade = float(np.clip((min(ours, theirs_open) - 0.5 * MIN_OPENING) / (0.5 * MIN_OPENING), 0.0, 1.0))
        if fade <= 0.0:
            continue
        stretch = float(np.clip(ours / max(theirs_open, 1e-6), 1.0, MAX_EYEBALL_STRETCH))
        # target frame -> box: eye coordinates (along, across the corner line) in the target's eye, the
        # across one stretched, then laid on the swapped eye's corners
        scale = width / t_width
        to_eye = np.stack([t_axis, t_normal])  # rows: frame offsets -> target eye coordinates (pixels)
        from_eye = np.stack([axis * scale, normal * scale * stretch], axis=1)
        linear = from_eye @ to_eye
        here = points[loop, :2].astype(np.float64)
        there = target_points[loop, :2].astype(np.float64) @ linear.T + (origin - linear @ t_origin)
        inset = max(EYEBALL_INSET * width, 0.5)
        reach = int(np.ceil(inset + 4 * EYEBALL_FEATHER * width)) + 2
        x0, y0 = np.maximum(np.floor(here.min(axis=0)).astype(int) - reach, 0)
        x1, y1 = np.minimum(np.ceil(here.max(axis=0)).astype(int) + reach + 1, (w, h))
        if x1 - x0 < 3 or y1 - y0 < 3:
            continue
        local = np.array([x0, y0], dtype=np.float64)
        matrix = np.hstack([linear, (origin - linear @ t_origin - local)[:, None]])
        eye = cv2.warpAffine(frame, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
        theirs = np.zeros_like(inside)
        cv2.fillPoly(inside, [np.round((here - local) * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
        cv2.fillPoly(theirs, [np.round((there - local) * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
        both = np.minimum(inside, theirs).astype(np.float32) / 255.0
        # inset: the distance inside both lid lines, ramped over the feather
        distance = cv2.distanceTransform(as_mask(both > 0.5), cv2.DIST_L2, 3)
        alpha = (fade * np.clip((distance - inset) / max(EYEBALL_FEATHER * width, 1.0), 0.0, 1.0)).astype(np.float32)
        if not alpha.any():
            continue
        if recolour is not None and target_points.shape[0] >= 478:
            eye = _recolour_iris(eye, target_points, iris, matrix, scale, recolour)
        window = out[y0:y1, x0:x1].astype(np.float32)
        mixed = window * (1 - alpha[..., None]) + eye.astype(np.float32) * alpha[..., None]
        out[y0:y1, x0:x1] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        changed[y0:y1, x0:x1] |= as_mask(alpha > 0)
    return out, changed


STRAY_WHITE_RING = 0.3  # eye widths round each eye's lid lines where whites brighter than the skin are dimmed
STRAY_WHITE_MARGIN = 10.0  # Lab lightness (0..255) above the skin's median that a pixel there may keep
STRAY_WHITE_KEEP = 0.1  # share of its excess over that level a pixel keeps


def dim_stray_whites(warped: np.ndarray, points: np.ndarray, inside: float = 0.0) -> np.ndarray:
    """`warped` (the face's box) with eye white left outside the lid lines dimmed to the skin around them.

    A blurry or low-resolution photo spreads its eye whites past its lids, and the sliding lids leave a
    shut eye's white as a line: outside the eye's opening, within STRAY_WHITE_RING eye widths of it (and
    inside it as the eye shuts), lightness above the surrounding skin's median (plus STRAY_WHITE_MARGIN)
    is cut to STRAY_WHITE_KEEP of its excess; so is a band `inside` eye widths wide within the lid lines
    (where the target's eyeball, `paste_target_eyeballs`, does not reach fully). `points` are the face's
    landmarks in the box's coordinates, lids where they end up."""
    if points.shape[0] < 468:
        return warped
    h, w = warped.shape[:2]
    out = warped.copy()
    for loop, lids, corners in ((lm.RIGHT_EYE, lm.RIGHT_EYE_LIDS, lm.RIGHT_EYE_CORNERS),
                                (lm.LEFT_EYE, lm.LEFT_EYE_LIDS, lm.LEFT_EYE_CORNERS)):
        width = float(np.linalg.norm(points[corners[0], :2] - points[corners[1], :2]))
        if width < 6:
            continue
        here = points[loop, :2].astype(np.float64)
        reach = int(np.ceil(2 * STRAY_WHITE_RING * width)) + 2
        x0, y0 = np.maximum(np.floor(here.min(axis=0)).astype(int) - reach, 0)
        x1, y1 = np.minimum(np.ceil(here.max(axis=0)).astype(int) + reach + 1, (w, h))
        if x1 - x0 < 3 or y1 - y0 < 3:
            continue
        opening = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(opening, [np.round((here - (x0, y0)) * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
        # distance outside the lid lines and inside them, in eye widths
        distance = cv2.distanceTransform(as_mask(opening <= 127), cv2.DIST_L2, 3) / width
        depth = cv2.distanceTransform(as_mask(opening > 127), cv2.DIST_L2, 3) / width
        window = out[y0:y1, x0:x1]
        lightness = cv2.cvtColor(window, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
        skin = (distance > STRAY_WHITE_RING) & (distance < 2 * STRAY_WHITE_RING)
        if np.count_nonzero(skin) < 10:
            continue
        level = float(np.median(lightness[skin])) + STRAY_WHITE_MARGIN
        # a shut eye (lid gap under MIN_OPENING of its width) has only lid inside: dimmed too
        shut = float(np.clip(1.0 - lm.eye_opening(points, lids, corners) / MIN_OPENING, 0.0, 1.0))
        band = np.where(depth <= inside, 1.0, 0.0) if inside > 0 else 0.0
        weight = np.where(distance > 0, np.clip(2.0 - distance / STRAY_WHITE_RING * 2.0, 0.0, 1.0),
                          np.maximum(shut, band))
        excess = np.clip(lightness - level, 0.0, None)
        dimmed = excess * weight > 0  # elsewhere the gain below is 1 and the pixel stays
        if not dimmed.any():
            continue
        wanted = lightness[dimmed] - weight[dimmed] * (1.0 - STRAY_WHITE_KEEP) * excess[dimmed]
        gain = wanted / np.maximum(lightness[dimmed], 1.0)
        window = out[y0:y1, x0:x1]
        window[dimmed] = np.clip(window[dimmed].astype(np.float32) * gain[:, None] + 0.5, 0, 255).astype(np.uint8)
    return out
