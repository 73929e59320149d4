"""The source identity: one or more photos of one person turned into texture, shape and skin colour.

With normalisation (the default) the photos' expressions and head turns do not reach the output: each
photo's shape is neutralised with the morphable model (its fitted expression removed; a shut eye of a
wink replaced by the mirrored open one) and the identity is their median. The mouth interior, hair,
glasses and hands are masked out (the skin model, or the face parser when one is passed in), and a smile's
folds beside the nose and mouth are flattened (`folds.py`). A photo turned away or winking is
unwrapped onto that frontal neutral shape (hidden side and shut eye filled from the mirrored side); a
photo facing the camera is used as it is. The photos sit side by side in one texture, one view each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..analysis.face import Face, FaceMeshAnalyzer
from ..analysis.parsing import FaceParser, crop, crop_box
from ..colour import is_colourless, skin_colour_statistics
from ..errors import InputError
from ..face3d import landmarks as lm
from ..face3d.lighting import delight as delight_face, divide_side_light, side_light
from ..face3d.fitting import Pose, frontalize, normalized_shape, robust_identity, rotation_angle_degrees
from ..face3d.morphable import (MorphableModel, calm_brows, population_rest, rest_brows, spread_brows_onto_skin,
                                spread_onto_skin)
from ..face3d.raster import rasterize, triangulate
from ..face3d.unwrap import closed_eye_points, mirror_fill, mirrored_shape, unwrap
from .mottling import calm_mottling
from .strands import hair_strands
from ..masks.face import face_region, occlusion_mask, skin_sample_region, skin_statistics
from ..masks.parsed import photo_glasses_frame
from ..masks.thin_frames import photo_thin_frames
from ..masks.shapes import as_mask, dilate, ellipse_kernel, polygon_mask
from ..render.classical.creases import below_nose
from ..render.contract import SourceFace, SourceView
from .expression_lines import expression_strength, scowl_strength, soften_lines
from .folds import FOLD_SHARE, flatten_folds, smile_strength

BROW_REST_SHARE = 0.25  # a strong expression's brows move this share of the way to rest (`rest_brows`): all of
# it took dlib's same-person rate down (portrait_anger -> grimaces_blinks 1.0 -> 0.88, portrait_c 0.29 -> 0.12),
# half of it still 1.0 -> 0.92
BROW_CALM_SHARE = 1.0  # a scowl's brows (`scowl_strength`) take this share of a resting brow's shape, in place
# (`calm_brows`): their bend is the scowl, their height and spacing the person
FACE_POINTS = 468  # the iris points stay out of the triangulation: they would fold the lids on a blink
MAX_TEXTURE_FACE_WIDTH = 512  # canonical face width in pixels (the photos' own resolution up to this)
UNWRAP_YAW = 30.0  # degrees: a photo turned further is unwrapped onto the frontal shape
BACKGROUND_GROW_PER_FACE_WIDTH = 0.02  # a turned photo's background inside its mesh, grown by this much
PROFILE = np.array([2, 164, 0, 13, 14, 17, 18, 200, 199, 175, 152])  # the midline from under the nose to the chin
NOSE_TIP = 1
SOURCE_PARSE_SIZE = 448  # a photo is parsed once, at the parser's training size (video crops: 320, for speed)
SIDE_LIGHT_SPREAD = 0.25  # with `even_light`, a photo whose lighting's odd part (`face3d.lighting.side_light`, log
# units) spreads further than this over its skin is evened out: dark_lowres 0.34 (a pale and a brown half face in every frame);
# every other portrait 0.16 or less (glasses and b 0.16, anger 0.15, a 0.13, the rest 0.07 or less), where the
# hair's edge and the face's own asymmetry weigh as much as the light
MIRROR_FILL_YAW = 20.0  # degrees: a photo facing the camera closer than this has a hidden brow or eye mirrored
MIRROR_FILL_GROW_PER_FACE_WIDTH = 0.04  # ... inside the brows' and eyes' hull grown this much
HOLE_MARGIN_PER_FACE_WIDTH = 0.15  # an unwrapped face's holes this far inside its outline are inpainted
SEAM_PER_FACE_WIDTH = 0.03  # ... and its gaps narrower than about this, anywhere inside it (the midline's seam)
EYE_GUARD_PER_FACE_WIDTH = 0.04  # the eyes, grown this much, are never hidden as objects
LASH_REACH_PER_FACE_WIDTH = 0.01  # ... nor taken for hair strands (`strands.py`), but only this far past the eye's
# corners: the hair curtain over portrait_b's outer lid lies inside the grown eye there (guarded whole, it
# stayed); guarded only 0.015 round the eye, its upper lash line, joined to that hair, went with it
STRAND_JOIN_PER_FACE_WIDTH = 0.05  # ... and joined to the parser's hair through dark pixels this far past the
# brows' and eyes' hull (`_brows_and_eyes`, itself grown 0.04): the hair's edge often stops short of it
STRAND_WIDTH_PER_FACE_WIDTH = 0.2  # ... and narrower than this: portrait_b's loose hair over its outer lid is
# 0.05-0.08 wide; a shaded temple is wider
FRAME_GROW_PER_FACE_WIDTH = 0.008  # the glasses' frame is grown this much before it is painted over
FRAME_DETAIL_SIGMA_PER_FACE_WIDTH = 0.0025  # ... with the smooth skin through its border and the fine detail
# (below this blur) of the skin beside it
FRAME_DETAIL_PATCH_PER_FACE_WIDTH = 0.03  # ... lent by a calm square of this half side, tiled
MOUSTACHE_REACH_PER_FACE_WIDTH = 0.05  # round the mouth (below the nose's wings, this far from the lips) ...
MOUSTACHE_CHROMA_SHARE = 0.5  # ... a pixel with under this share of the skin's chroma is grey or white hair
MOUSTACHE_SHARE = 0.3  # ... and the photo has a moustache when this share of that surround is hair: old_photo 0.44;
# every other shared portrait 0.13 or less (side_light 0.13, glasses 0.01, the rest 0.00)
MOUSTACHE_CLOSE_PER_FACE_WIDTH = 0.01  # the hair's strands and gaps closed over this (a moustache is no lace)


def _detect(images: list[tuple[Path, np.ndarray]]) -> list[tuple[Path, np.ndarray, Face]]:
    if not images:
        raise InputError("no source images given")
    faces: list[tuple[Path, np.ndarray, Face]] = []
    with FaceMeshAnalyzer(max_faces=4, tracking=False) as analyzer:
        for path, image in images:
            found = analyzer.detect(image)
            if not found:
                raise InputError(f"{path}: no face found in the source image")
            faces.append((path, image, found[0]))
    return faces


CLEAN_KINDS = ("hair", "objects", "glasses")  # what the source clean-up can take out, kind by kind
# Hair and glasses are cleaned by default, objects on request. Hair over the face cost dlib's same-person rate
# (portrait_a, b and side_light onto talking_frontal 0.96/0.94/0.78 -> 0.88/0.86/0.50 with hair painted;
# left to the target, music video 0.78 -> 0.58): dlib reads the dark hair framing a face as identity. But
# pasted, it is a dark slab over a laughing fringe's brows and eyes, and a dark band across the far
# temple whenever a head turns (music_video_turns, crowd_1080p): a broken picture, whatever dlib says.
# Glasses likewise: pasted, a source's thick black frames replaced a target's thin ones on every frame.
# Painted over (and the target's own frame kept, `masks/thin_frames.py`), portrait_glasses onto
# talking_glasses: cheek Delta E 4.97 -> 1.64, the target's glasses pixels kept 0.81 -> 0.98; dlib's
# same-person rate 0.06 -> 0.00 and its hair-blind one 0.98 -> 0.02 (dlib reads the glasses as identity:
# the photo with its frames painted is 0.26 from itself with them).
DEFAULT_CLEAN: tuple[str, ...] = ("hair", "glasses")


@dataclass(frozen=True)
class _Occluders:
    """What the face parser finds in front of a photo's face, as full-image masks (0/255)."""

    hair: np.ndarray  # hair and hats
    objects: np.ndarray  # inside the oval what is not face, ears or glasses (hands, objects), and the mouth's inside
    background: np.ndarray  # inside the oval, the parser's background (a near-profile's mesh overshoots the face)
    frame: np.ndarray  # a worn glasses frame (`masks.parsed.photo_glasses_frame`)
    skin_like: np.ndarray  # the face's skin-coloured pixels and its brows, to paint the frame from


def _parsed_occluders(parser: FaceParser, image: np.ndarray, face: Face, oval: np.ndarray) -> _Occluders:
    """What hides the photo's face, from the face parser (one parse of the photo).

    The glasses class covers the whole lens, eyes included: handing all of it to the target gave the
    target's eyes and cost identity. Only the frame is taken out (and painted over, `_paint_over`); the
    source's eyes behind the lenses stay.
    """
    box = crop_box(face.bbox, image_shape=image.shape)
    left, top = box[:2]
    window = crop(image, box)
    parsing = parser.parse(window, SOURCE_PARSE_SIZE)
    local_oval = _window(oval, box) > 0
    # The eyes are never taken for an object: a blurry photo's dark eye sockets parsed as background
    # handed the eyes to the target and identity fell to nothing.
    eyes = _window(_eyes(image.shape[:2], face.points), box) > 0
    objects = (local_oval & ~parsing.region(("face", "ears", "eyeglasses", "hair", "hat")) & ~eyes) \
        | parsing.region(("mouth",))
    frame, skin_like = photo_glasses_frame(parsing, window, face.points - np.array([left, top, 0], dtype=np.float32))
    shape = image.shape[:2]
    background = local_oval & parsing.region(("background",)) & ~eyes
    hair = parsing.region(("hair", "hat"))
    # the loose strands past the parser's hair edge over the brows and lids (the brows and lashes stay)
    face_width = float(np.ptp(face.points[:, 0]))
    lashes = _window(_lashes(image.shape[:2], face.points), box) > 0
    hair |= hair_strands(window, hair, parsing.region(("brows",)), parsing.region(("eyes", "eyeglasses")) | lashes | frame,
                         _window(_brows_and_eyes(image.shape[:2], face.points) & _under_brows(image.shape[:2], face.points),
                                 box) > 0,
                         max(int(STRAND_JOIN_PER_FACE_WIDTH * face_width), 1),
                         max(int(STRAND_WIDTH_PER_FACE_WIDTH * face_width), 3))
    return _Occluders(hair=_paste(hair, box, shape), objects=_paste(objects, box, shape),
                      background=_paste(background, box, shape), frame=_paste(frame, box, shape),
                      skin_like=_paste(skin_like, box, shape))


def _eyes(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """Both eyes' openings grown by EYE_GUARD_PER_FACE_WIDTH (0/255)."""
    grow = max(int(float(np.ptp(points[:, 0])) * EYE_GUARD_PER_FACE_WIDTH), 1)
    eyes = polygon_mask(shape, points[lm.RIGHT_EYE]) | polygon_mask(shape, points[lm.LEFT_EYE])
    return cv2.dilate(eyes, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))


def _lashes(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """The grown eyes (`_eyes`) between their corners, LASH_REACH_PER_FACE_WIDTH past them (0/255)."""
    reach = float(np.ptp(points[:, 0])) * LASH_REACH_PER_FACE_WIDTH
    columns = np.arange(shape[1])[None, :]
    band = np.zeros(shape, dtype=bool)
    for eye in (lm.RIGHT_EYE, lm.LEFT_EYE):
        xs = points[eye, 0]
        band |= (columns >= xs.min() - reach) & (columns <= xs.max() + reach)
    return _eyes(shape, points) & as_mask(band)


def _under_brows(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """Below the line through each brow's two ends, on its side of the face (0/255). Strands are taken only
    there: above a brow's outer end, portrait_b's were mirrored from bare skin into a pale spot beside the hair."""
    rows = np.arange(shape[0], dtype=np.float64)[:, None]
    columns = np.arange(shape[1], dtype=np.float64)[None, :]
    middle = float(points[np.concatenate([lm.RIGHT_BROW, lm.LEFT_BROW]), 0].mean())
    out = np.zeros(shape, dtype=bool)
    for brow in (lm.RIGHT_BROW, lm.LEFT_BROW):
        xs, ys = points[brow, 0].astype(np.float64), points[brow, 1].astype(np.float64)
        (x0, y0), (x1, y1) = (xs[np.argmin(xs)], ys[np.argmin(xs)]), (xs[np.argmax(xs)], ys[np.argmax(xs)])
        line = y0 + (columns - x0) * (y1 - y0) / max(x1 - x0, 1.0)
        side = (columns < middle) if xs.mean() < middle else (columns >= middle)
        out |= side & (rows > line)
    return as_mask(out)


def _beyond_profile(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """Below the nose of a turned head, what lies past the midline's profile (nose, philtrum, lips, chin)
    on the side the nose points to (0/255). The mesh's far side of the mouth and chin is guessed there,
    and its triangles took the background in front of the lips (a pale sky pasted as grey smears; the
    parser calls that sky skin too); masked, the unwrap mirrors them from the side it sees."""
    chain = points[PROFILE, :2].astype(np.float64)
    side = 1.0 if points[NOSE_TIP, 0] > points[lm.FACE_OVAL, 0].mean() else -1.0
    ys = np.arange(shape[0], dtype=np.float64)
    top, bottom = chain[0, 1], chain[-1, 1]
    order = np.argsort(chain[:, 1])
    x_mid = np.interp(ys, chain[order, 1], chain[order, 0])
    xs = np.arange(shape[1], dtype=np.float64)[None, :]
    beyond = ((xs - x_mid[:, None]) * side > 0) & ((ys >= top) & (ys <= bottom))[:, None]
    return np.where(beyond, 255, 0).astype(np.uint8)


def _fill_holes(texture: np.ndarray, mask: np.ndarray, points: np.ndarray,
                triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What is missing inside an unwrapped face (0/255 `mask`), away from its outline and lips,
    inpainted from around it. An unwrapped near-profile leaves holes on the midline, which the mirrored
    side cannot fill (its partner is itself): the background in front of the philtrum and under the lip,
    a nostril. Left empty, the target's own philtrum and chin showed through."""
    face_width = float(np.ptp(points[:, 0]))
    inside = cv2.erode(_silhouette(mask.shape, points, triangles),
                       cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(HOLE_MARGIN_PER_FACE_WIDTH * face_width) | 1,) * 2))
    grow = max(int(face_width * 0.02), 1)
    lips = cv2.dilate(polygon_mask(mask.shape, points[lm.OUTER_LIPS]), np.ones((2 * grow + 1,) * 2, np.uint8))
    holes = np.where((mask == 0) & (inside > 0) & (lips == 0), 255, 0).astype(np.uint8)
    if not holes.any():
        return texture, mask
    # every unusable pixel is unknown to the inpainting (their colours are the photo's background), the
    # holes alone take its result
    painted = cv2.inpaint(texture, np.where(mask == 0, 255, 0).astype(np.uint8), max(int(face_width * 0.03), 2),
                          cv2.INPAINT_TELEA)
    return np.where(holes[..., None] > 0, painted, texture), mask | holes


def _close_seams(texture: np.ndarray, mask: np.ndarray, points: np.ndarray,
                 triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An unwrapped face's thin gaps (0/255 `mask` closed by a disc SEAM_PER_FACE_WIDTH across), inside
    its outline but not in the mouth's opening, inpainted from around them and made usable.

    Where the photo's side and its mirror image meet on the midline of a turned face, both sides' masks
    stop a pixel short of it (the part past the profile is cut on each): a one- or two-pixel seam down
    the philtrum, the lips and the chin, which `_fill_holes` leaves (it keeps off the lips and the
    outline). The target's own pixels showed through it, a red line up the upper lip and a dark notch
    under it: a moustache-like smudge once blended."""
    face_width = float(np.ptp(points[:, 0]))
    size = max(int(SEAM_PER_FACE_WIDTH * face_width) | 1, 3)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    inside = cv2.erode(_silhouette(mask.shape, points, triangles), disc)
    opening = polygon_mask(mask.shape, points[lm.INNER_LIPS])
    seams = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, disc) & ~mask & inside & ~opening
    if not seams.any():
        return texture, mask
    painted = cv2.inpaint(texture, as_mask(mask == 0), max(size // 2, 2), cv2.INPAINT_TELEA)
    return np.where(seams[..., None] > 0, painted, texture), mask | seams


def _brows_and_eyes(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """The brows' and eyes' hull on each side, grown by MIRROR_FILL_GROW_PER_FACE_WIDTH (0/255)."""
    out = np.zeros(shape, dtype=np.uint8)
    for brow, eye in ((lm.RIGHT_BROW, lm.RIGHT_EYE), (lm.LEFT_BROW, lm.LEFT_EYE)):
        hull = cv2.convexHull(np.round(points[np.concatenate([brow, eye]), :2]).astype(np.int32))
        cv2.fillConvexPoly(out, hull, 255)
    grow = max(int(float(np.ptp(points[:, 0])) * MIRROR_FILL_GROW_PER_FACE_WIDTH), 1)
    return cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))


def _paste(local: np.ndarray, box: tuple[int, int, int, int], shape: tuple[int, int]) -> np.ndarray:
    """A box's boolean mask placed into a full-image mask (0/255; the parts outside the image dropped)."""
    left, top, right, bottom = box
    height, width = shape
    out = np.zeros((height, width), dtype=np.uint8)
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(bottom, height), min(right, width)
    out[y0:y1, x0:x1] = np.where(local[y0 - top : y1 - top, x0 - left : x1 - left], 255, 0)
    return out


def _membrane(values: np.ndarray, known: np.ndarray, iterations: int = 24) -> np.ndarray:
    """`values` (H x W x C float32) with the pixels not `known` replaced by the smoothest surface through
    the known ones (Laplace's equation, solved coarse to fine with Jacobi steps): the fill meets every
    known pixel around a hole without a step, and carries the shading across it."""
    height, width = known.shape
    weight = known.astype(np.float32)
    if min(height, width) <= 4 or not known.any():
        mean = (values * weight[..., None]).sum((0, 1)) / max(float(weight.sum()), 1.0)
        return np.where(known[..., None], values, mean[None, None, :]).astype(np.float32)
    size = ((width + 1) // 2, (height + 1) // 2)
    coarse_weight = cv2.resize(weight, size, interpolation=cv2.INTER_AREA)
    coarse_values = cv2.resize(values * weight[..., None], size, interpolation=cv2.INTER_AREA)
    coarse_values = coarse_values.reshape(size[1], size[0], -1) / np.maximum(coarse_weight, 1e-6)[..., None]
    coarse = _membrane(coarse_values.astype(np.float32), coarse_weight > 0.25, iterations)
    out = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR).reshape(values.shape)
    out = np.where(known[..., None], values, out)
    neighbours = np.array([[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]], np.float32)
    for _ in range(iterations):
        smoothed = cv2.filter2D(out, -1, neighbours, borderType=cv2.BORDER_REPLICATE).reshape(values.shape)
        out = np.where(known[..., None], values, smoothed)
    return out.astype(np.float32)


def _borrowed_detail(window: np.ndarray, known: np.ndarray, inside: np.ndarray, face_width: float) -> np.ndarray:
    """Fine skin detail (pores, the grain: the skin less its blur) for the `inside` pixels, zero elsewhere:
    a square of the `known` skin, tiled mirrored over them. A
    smooth paint alone read as a blurred band the shape of the frame; detail lent pixel by pixel from the
    nearest skin drew combs and carried the frame's own edge."""
    sigma = max(face_width * FRAME_DETAIL_SIGMA_PER_FACE_WIDTH, 0.8)
    weight = known.astype(np.float32)
    blur = cv2.GaussianBlur(window * weight[..., None], (0, 0), sigma) \
        / np.maximum(cv2.GaussianBlur(weight, (0, 0), sigma), 1e-6)[..., None]
    clear = cv2.distanceTransform(np.pad(known, 1).astype(np.uint8), cv2.DIST_L2, 3)[1:-1, 1:-1]
    half = max(int(face_width * FRAME_DETAIL_PATCH_PER_FACE_WIDTH), 2)
    detail = window - blur
    # a square wholly on skin (3 sigma inside it) of the skin's typical (median) detail: the most wrinkled
    # one (crow's feet) tiled drew chevrons, the calmest had none and left a smooth band
    energy = cv2.boxFilter((detail**2).sum(axis=2), -1, (2 * half + 1,) * 2)
    candidates = clear >= np.sqrt(2.0) * half + 3 * sigma
    out = np.zeros_like(window)
    if not candidates.any() or not inside.any():
        return out
    typical = np.where(candidates, np.abs(energy - np.median(energy[candidates])), np.inf)
    cy, cx = np.unravel_index(int(np.argmin(typical)), energy.shape)
    patch = detail[cy - half : cy + half, cx - half : cx + half]
    reps = (-(-window.shape[0] // (2 * patch.shape[0])), -(-window.shape[1] // (2 * patch.shape[1])))
    mirrored = np.concatenate([patch, patch[::-1]], axis=0)
    mirrored = np.concatenate([mirrored, mirrored[:, ::-1]], axis=1)
    tiled = np.tile(mirrored, (reps[0], reps[1], 1))[: window.shape[0], : window.shape[1]]
    out[inside] = tiled[inside]
    return out


def _paint_over(image: np.ndarray, frame: np.ndarray, skin_like: np.ndarray, face_width: float) -> np.ndarray:
    """`image` with `frame`'s pixels (a glasses frame, grown a little so its anti-aliased rim and shadow
    go too) painted with the skin around them: the smoothest surface through the skin-coloured pixels
    bordering it (`_membrane`). A normalised blur of the skin nearby averaged far-away skin into one flat,
    pale colour with a step at every edge (a pale ghost of the frame on every swapped frame), and an
    inpainting from the frame's raw border picked up its highlights."""
    if not frame.any():
        return image
    grow = max(int(round(face_width * FRAME_GROW_PER_FACE_WIDTH)), 1)
    grown = cv2.dilate(frame, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    ys, xs = np.nonzero(grown)
    pad = 8 * grow
    y0, y1 = max(ys.min() - pad, 0), min(ys.max() + pad + 1, image.shape[0])
    x0, x1 = max(xs.min() - pad, 0), min(xs.max() + pad + 1, image.shape[1])
    window = image[y0:y1, x0:x1].astype(np.float32)
    inside = grown[y0:y1, x0:x1] > 0
    # what the surface passes through: skin-coloured pixels outside the grown frame (the eyes, lashes and
    # the hair beside it are neither: the surface is free there, and they keep their own pixels)
    known = (skin_like[y0:y1, x0:x1] > 0) & ~inside
    fill = _membrane(window, known) + _borrowed_detail(window, known, inside, face_width)
    alpha = np.maximum(cv2.GaussianBlur(inside.astype(np.float32), (0, 0), grow / 2.0), inside)[..., None]
    out = image.copy()
    out[y0:y1, x0:x1] = np.clip(window + alpha * (fill - window), 0, 255).astype(np.uint8)
    return out


def _moustache(image: np.ndarray, points: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """A photo's grey or white moustache and beard round the mouth with the mouth they hide (0/255; none on a
    photo without one): in the lips' surround, the pixels below the nose's wings far greyer than the skin
    (`skin`: its Lab statistics), closed over the hair's gaps, and the lips. Pasted, an old man's white
    moustache lay grey over the target's mouth and hid its lips (mouth correlation 0.75). It is facial hair, neither skin nor lips, and is left to the
    target as the hair over the face is; the lips under it with it (the photo's own are hidden, and the
    target's mouth fills the opening anyway). A colourless (black-and-white) photo has no chroma to tell
    hair by, and is left as it is."""
    shape = image.shape[:2]
    none = np.zeros(shape, dtype=np.uint8)
    if is_colourless(skin):
        return none
    face_width = float(np.ptp(points[:, 0]))
    lips = polygon_mask(shape, points[lm.OUTER_LIPS])
    lower_face = below_nose(shape, points) & (face_region(shape, points) > 0)
    reach = max(int(round(MOUSTACHE_REACH_PER_FACE_WIDTH * face_width)), 1)
    around = (dilate(lips, reach) > 0) & lower_face & (lips == 0)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    chroma = np.hypot(lab[..., 1] - 128.0, lab[..., 2] - 128.0)
    skin_chroma = float(np.hypot(skin[0, 1] - 128.0, skin[0, 2] - 128.0))
    hair = lower_face & (chroma < MOUSTACHE_CHROMA_SHARE * skin_chroma)
    if not around.any() or hair[around].mean() < MOUSTACHE_SHARE:
        return none
    close = max(int(round(MOUSTACHE_CLOSE_PER_FACE_WIDTH * face_width)), 1)
    closed = cv2.morphologyEx(as_mask(hair), cv2.MORPH_CLOSE, ellipse_kernel(close))
    _, labels = cv2.connectedComponents(cv2.bitwise_and(closed, as_mask(lower_face)))
    touching = np.unique(labels[around])
    # only round the mouth: more of the beard left out cost dlib's same-person rate for no better mouth (old
    # photo onto talking_frontal, --end 2: the surround 0.05 face widths wide 0.96, mouth 0.968; 0.1 wide 0.76,
    # 0.959; --end 1, the whole beard 0.80, 0.895 against 0.1's 0.88, 0.876)
    return as_mask((np.isin(labels, touching[touching > 0]) & around) | (lips > 0))


def _window(mask: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The box's part of a full-image mask (zero outside the image)."""
    left, top, right, bottom = box
    out = np.zeros((bottom - top, right - left), dtype=mask.dtype)
    height, width = mask.shape[:2]
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(bottom, height), min(right, width)
    out[y0 - top : y1 - top, x0 - left : x1 - left] = mask[y0:y1, x0:x1]
    return out


def _silhouette(shape: tuple[int, int], points: np.ndarray, triangles: np.ndarray | None) -> np.ndarray:
    """Where the face mesh covers the photo (0/255): its triangles' union (`triangles` default: the
    photo's own frontal layout triangulated)."""
    if triangles is None:
        triangles = triangulate(frontalize(points)[:FACE_POINTS])
    raster = rasterize(points, triangles, shape)
    out = np.zeros(shape, dtype=np.uint8)
    h, w = raster.shape
    out[raster.y0 : raster.y0 + h, raster.x0 : raster.x0 + w] = np.where(raster.coverage, 255, 0)
    return out


def _usable(path: Path, image: np.ndarray, face: Face, without_mouth: bool,
            parser: FaceParser | None = None, chroma_weighted: bool = True, triangles: np.ndarray | None = None,
            clean: tuple[str, ...] = CLEAN_KINDS,
            turned: bool = False) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], np.ndarray]:
    """A photo cleaned with the face parser, its skin colour and the mask of its pixels that may be pasted.

    With the face parser, what hides the face is its classes, taken out kind by kind (`clean`):
    "hair" (hair and hats left out: a brow or eye under them is mirrored from the other side later,
    the rest left to the target), "objects" (hands, objects and the mouth's inside left
    out), "glasses" (the frame painted over, the eyes behind the lenses kept); without it, the
    skin-colour occlusion model. A `turned` photo (to be unwrapped) also loses the parser's background
    inside its mesh: past about 45 degrees the mesh's nose and lips overshoot the real profile, and the sky
    in front of the philtrum came out as torn grey-white wedges round the nostrils.
    """
    points = face.points
    skin_region = skin_sample_region(image.shape[:2], points)
    oval = face_region(image.shape[:2], points)
    if without_mouth:
        # A turned head's outline crosses itself, and the crossing would leave a hole in the oval; and
        # past about 45 degrees the nose and lips stand out beyond the far cheek's outline. The mesh's own
        # silhouette keeps them and nothing else (its convex hull also took the background in front of the
        # philtrum and under the lip of a near-profile, pasted as grey smears on the lips and chin).
        oval = _silhouette(image.shape[:2], points, triangles)
    if parser is not None:
        found = _parsed_occluders(parser, image, face, oval)
        face_width = float(np.ptp(points[:, 0]))
        hidden = np.zeros(oval.shape, dtype=np.uint8)
        if "glasses" in clean:
            # where the parser sees no glasses (thin frames, a blurry old photo's), they are looked for as
            # lines round the eyes; not beside the parser's frame: its lenses' creases and lids are lines too,
            # and painted they left the eyes as islands in a flat blob
            frame = found.frame if found.frame.any() else photo_thin_frames(image, points)
            image = _paint_over(image, frame, found.skin_like, face_width)
        if "objects" in clean:
            hidden |= found.objects
        if "hair" in clean:
            # Left to the target (a brow or eye under it is mirrored from the other side later). Painted
            # with the photo's own skin instead, the strands beside the parser's hair stayed as a dark
            # line on a turned face's temple, and same-person was no better (0.57 against 0.58).
            hidden |= found.hair
        if turned:
            # grown by a little: the anti-aliased edge pixels between the nose and the sky are half sky
            grow = max(int(round(BACKGROUND_GROW_PER_FACE_WIDTH * face_width)), 1)
            hidden |= cv2.dilate(found.background, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
        mask = oval & ~hidden
    else:
        mask = oval & ~occlusion_mask(image, points, oval, skin_statistics(image, skin_region))
    skin = skin_colour_statistics(image, skin_region, chroma_weighted)
    if skin is None:
        raise InputError(f"{path}: the source face is too small to use")
    if without_mouth:
        mask &= ~polygon_mask(image.shape[:2], points[lm.INNER_LIPS])
        if "hair" in clean:
            mask &= ~_moustache(image, points, skin)
    return image, skin, mask


def prepare_source(images: list[tuple[Path, np.ndarray]], neutralise: bool = True,
                   model: MorphableModel | None = None, parser: FaceParser | None = None,
                   chroma_weighted: bool = True, delight: bool = False,
                   clean: tuple[str, ...] = CLEAN_KINDS, tolerance: float = 0.0, even_light: bool = False
                   ) -> SourceFace:
    """The source identity from one or more photos: identity shape, texture, skin colour.

    `neutralise` removes the photos' expression and head turn (needs the morphable model: the shipped
    one unless `model` is given); without it the most frontal photo is used as it is. With `parser`
    (normalised sources only) the face parser says what hides the face, and `clean` (of CLEAN_KINDS:
    "hair", "objects", "glasses") what of it is taken out (`_usable`).
    `chroma_weighted`: the skin colour is weighted by chroma, so grey beards and hair do not pull it grey
    (`colour.skin_colour_statistics`); a black-and-white photo then has colourless stats (`is_colourless`).
    `delight` (opt-in): each photo's own lighting (spherical harmonics fitted on its mesh's normals) is
    divided out of its face (`face3d.lighting.delight`), so a side light's dark half-face is not pasted;
    the render gives the face the target's lighting. It helped side-lit sources but cost same-person on
    others (a dark low-resolution source 0.56 -> 0.42), so it is not the default.
    `tolerance`: the expression neutralised only beyond this many prior standard deviations, the mouth's
    opening wholly (`MorphableModel.neutralise`); the target's identities must be neutralised alike.
    `even_light` (opt-in, normalised sources): a photo lit hard from one side has that light's odd part
    divided out (`_side_light_evened`; only the part mirrored points disagree on, so the eye sockets' and
    the nose's own shading stay). On dark_lowres the face's halves came out closer (L 132/58 -> 101/82 on
    the warped face), closer-to-source rose onto grimaces_blinks (0.87 -> 1.0 on two clips), but dlib's
    same-person rate against the side-lit photo fell onto talking_frontal (three clips 1.0/1.0/0.53 ->
    0.6/0.33/0.13) and cheek Delta E moved both ways (2.5..4.0 from 3.5..4.7 there, +0.5 onto
    grimaces_blinks): evening the photo itself moves its own descriptor 0.20, as far as making it grey; so
    it is not the default.
    """
    unknown = set(clean) - set(CLEAN_KINDS)
    if unknown:
        raise InputError(f"unknown source clean-up {', '.join(sorted(unknown))}; choose from {', '.join(CLEAN_KINDS)}")
    # A blotchy photo's (old, noisy, compressed) mottled skin is calmed first (`mottling`): everything
    # after, its skin colour statistics included, sees the calmed photo.
    faces = [(path, calm_mottling(image, face.points), face) for path, image, face in _detect(images)]
    frontal_mesh = frontalize(faces[0][2].points)
    poses, shapes = zip(*(normalized_shape(frontal_mesh, face.points) for _, _, face in faces))
    frontal = int(np.argmin([rotation_angle_degrees(p.rotation, np.eye(3)) - 1e-3 * f.size
                             for p, (_, _, f) in zip(poses, faces)]))
    if not neutralise:
        return _as_photographed(faces, frontal_mesh, shapes, frontal, chroma_weighted, delight)
    return _normalised(faces, frontal_mesh, poses, shapes, frontal, model or MorphableModel.load(),
                       parser if clean else None, chroma_weighted, delight, tuple(clean), tolerance, even_light)


def _delit(image: np.ndarray, face: Face, mask: np.ndarray, triangles: np.ndarray,
           chroma_weighted: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The photo with its face's lighting divided out, fitted on its usable skin, and that skin's colour."""
    skin_region = skin_sample_region(image.shape[:2], face.points)
    image = delight_face(image, face.points, triangles, skin_region & mask)
    return image, skin_colour_statistics(image, skin_region, chroma_weighted)


def _side_light_evened(texture: np.ndarray, points: np.ndarray, triangles: np.ndarray, mirror: np.ndarray,
                       mask: np.ndarray, skin: np.ndarray, chroma_weighted: bool) -> tuple[np.ndarray, np.ndarray]:
    """A side-lit photo (its lighting's odd part spreads past SIDE_LIGHT_SPREAD) with that part divided out
    (`face3d.lighting.divide_side_light`), and its skin colour measured again; any other photo as it is."""
    region = skin_sample_region(texture.shape[:2], points) & mask
    odd, spread = side_light(texture, points, triangles, mirror, region)
    if spread <= SIDE_LIGHT_SPREAD:
        return texture, skin
    texture = divide_side_light(texture, points, triangles, odd)
    evened = skin_colour_statistics(texture, region, chroma_weighted)
    return texture, skin if evened is None else evened


def _as_photographed(faces: list[tuple[Path, np.ndarray, Face]], frontal_mesh: np.ndarray,
                     shapes: tuple[np.ndarray, ...], frontal: int, chroma_weighted: bool = True,
                     delight: bool = False) -> SourceFace:
    """The most frontal photo as it is (delit with `delight`); identity is the median shape (expression included)."""
    identity = robust_identity(np.stack(shapes))
    triangles = triangulate(identity[:FACE_POINTS])
    path, texture, face = faces[frontal]
    texture, skin, mask = _usable(path, texture, face, without_mouth=False, chroma_weighted=chroma_weighted)
    if delight:
        texture, skin = _delit(texture, face, mask, triangles, chroma_weighted)
    return SourceFace(texture=texture, texture_points=face.points, identity_shape=identity, frontal_mesh=frontal_mesh,
                      triangles=triangles, skin_stats=skin, texture_mask=mask)


def _neutral_shape(model: MorphableModel, shape: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
    """A photo's shape without its expression (beyond `tolerance`, `MorphableModel.neutralise`; carried onto
    the still skin around the mouth too, and its brows put at rest as much as it is far from neutral); a
    winked eye takes the open eye's mirrored shape."""
    neutral = spread_onto_skin(model, shape, model.neutralise(shape, tolerance))
    neutral = spread_brows_onto_skin(model, shape, neutral)  # a raised brow lowered takes its skin along
    # a scowl's, a wink's or a lifted brow: part of the way to where the rest of the face says they rest
    neutral = rest_brows(model, shape, neutral, BROW_REST_SHARE * expression_strength(model, shape))
    # a scowl's V (inner ends low and drawn together) unbent where the brows are: the target's expression
    # then bends them (a V pasted on every frame read angry whatever the target did)
    neutral = calm_brows(model, shape, neutral, BROW_CALM_SHARE * scowl_strength(model, shape))
    shut = closed_eye_points(shape)
    if len(shut):
        neutral[shut] = mirrored_shape(neutral, model.mirror)[shut]
    return neutral


def _normalised(faces: list[tuple[Path, np.ndarray, Face]], frontal_mesh: np.ndarray, poses: tuple[Pose, ...],
                shapes: tuple[np.ndarray, ...], frontal: int, model: MorphableModel,
                parser: FaceParser | None, chroma_weighted: bool = True, delight: bool = False,
                clean: tuple[str, ...] = CLEAN_KINDS, tolerance: float = 0.0, even_light: bool = False) -> SourceFace:
    neutrals = [_neutral_shape(model, s, tolerance) for s in shapes]
    identity = robust_identity(np.stack(neutrals))
    triangles = triangulate(identity[:FACE_POINTS])
    width = float(np.ptp(identity[:, 0]))
    face_width = float(np.clip(max(p.scale * width for p in poses), 64, MAX_TEXTURE_FACE_WIDTH))
    textures, masks, views, skins, smiles = [], [], [], [], []
    rest = model.fit(identity).expression  # views' expressions are relative to the person's own rest face
    for (path, image, face), pose, shape, neutral in zip(faces, poses, shapes, neutrals):
        yaw, pitch, _ = pose.euler_degrees()
        image, skin, mask = _usable(path, image, face, without_mouth=True, parser=parser,
                                    chroma_weighted=chroma_weighted, triangles=triangles, clean=clean,
                                    turned=abs(yaw) > UNWRAP_YAW)
        # A smile's folds beside the nose and mouth would be bent into streaks on a neutral mouth; a scowl's
        # furrows and a squint's crow's feet would sit on a calm face (`expression_lines`). (Flattening a
        # snarl's folds by the expression's strength too cost the mouth's expression correlation:
        # portrait_wink_hand onto grimaces_blinks 0.94 -> 0.89.)
        # against the people's rest face, not this person's neutral one: the rebuilt model's identity spans
        # mouth widths a smile also makes, and its neutral face called a thin-lipped mouth a smile
        smile = smile_strength(shape, population_rest(model, shape))
        smiles.append(smile)
        image = flatten_folds(image, face.points, FOLD_SHARE * smile, usable=mask)
        image = soften_lines(image, face.points, scowl_strength(model, shape), smile, usable=mask)
        if delight:
            image, skin = _delit(image, face, mask, triangles, chroma_weighted)
        shut = closed_eye_points(shape)
        texture, points = image, face.points
        if abs(yaw) > UNWRAP_YAW or len(shut):
            # Turned away or winking: unwrapped onto the frontal shape, the hidden side and the shut eye
            # filled from the mirrored side. A photo facing the camera is used as it is: resampling and
            # mirroring would cost it sharpness and its own asymmetry (identity).
            if abs(yaw) > UNWRAP_YAW:
                mask = mask & ~_beyond_profile(mask.shape, face.points)
            unwrapped = unwrap(image, mask, face.points, identity, triangles, model.mirror, pose.scale, face_width,
                               shut=shut)
            texture, points, mask = unwrapped.texture, unwrapped.points, unwrapped.mask
            texture, mask = _fill_holes(texture, mask, points, triangles)
            texture, mask = _close_seams(texture, mask, points, triangles)
            skin = skin_colour_statistics(texture, skin_sample_region(texture.shape[:2], points) & mask, chroma_weighted)
            if skin is None:
                raise InputError(f"{path}: the source face is too small to use")
        elif abs(yaw) < MIRROR_FILL_YAW:
            # A fringe over one brow or eye: filled from the other side (they carry identity); elsewhere
            # what is hidden is left to the target (a mirrored forehead or cheek edge drew seams).
            texture, mask = mirror_fill(texture, mask, points, triangles, model.mirror,
                                        where=_brows_and_eyes(texture.shape[:2], points))
        if even_light:
            texture, skin = _side_light_evened(texture, points, triangles, model.mirror, mask, skin, chroma_weighted)
        offset = np.array([sum(t.shape[1] for t in textures), 0, 0], dtype=np.float32)
        textures.append(texture)
        masks.append(mask)
        skins.append(skin)
        views.append(SourceView(texture_points=(points + offset).astype(np.float32), yaw=yaw, pitch=pitch,
                                expression=model.fit(shape).expression - rest))
    height = max(t.shape[0] for t in textures)
    texture = np.concatenate([np.pad(t, ((0, height - t.shape[0]), (0, 0), (0, 0))) for t in textures], axis=1)
    texture_mask = np.concatenate([np.pad(m, ((0, height - m.shape[0]), (0, 0))) for m in masks], axis=1)
    return SourceFace(
        texture=texture,
        texture_points=views[frontal].texture_points,
        identity_shape=identity,
        frontal_mesh=frontal_mesh,
        triangles=triangles,
        skin_stats=skins[frontal],
        texture_mask=texture_mask,
        views=tuple(views) if len(views) > 1 else (),
        smile=max(smiles),
    )
