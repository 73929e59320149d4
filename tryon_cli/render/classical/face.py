"""Classical face swap: warp the source texture onto the recombined face, match colour, blend."""

from __future__ import annotations

import cv2
import numpy as np

from ...colour import is_colourless, lip_colour, match_lips, recolour_lip_band, transfer_skin
from ...face3d import landmarks as lm
from ...face3d.raster import Raster, rasterize, texture_coordinates, warp_texture
from ...masks.face import face_region, skin_sample_region
from ...masks.shapes import as_mask, bounding_box, dilate, polygon_mask
from ..contract import FaceTarget, SourceFace, SwapConditions
from ..options import ClassicalOptions, Eyes
from .blend import composite
from .creases import (FACIAL_HAIR_GROW, carry_target_creases, crease_zones, facial_hair, facial_hairs,
                      nasolabial_zone, swap_fold_band, without_facial_hair)
from .detail import restore_detail
from .eyes import (EYEBALL_FEATHER, EYEBALL_INSET, dim_stray_whites, eye_openings, iris_colour, iris_recolour,
                   open_eye_points, paste_target_eyeballs, shift_gaze, slide_lids)
from .grain import detail_region, grey, match_face_grain
from .relight import box_normals, relight

FEATHER_PER_FACE_WIDTH = 0.04  # blend feather radius of the face's outline, as a fraction of its width: the
# feather mixes the target in up to about twice its radius inside the outline, and there (the cheeks, temples
# and jaw 8-16 % of the face's width in) the source's face carried its identity (`benchmarks/identity_regions.py`:
# the target's pixels back in that band took portrait_a onto grimaces_blinks from 0.55 to 0.66 dlib distance).
# At 0.06, dlib same-person rate portrait_a onto grimaces_blinks 0.83, side_light onto talking_frontal 0.78;
# 0.04 (with JAW_FEATHER below) 0.96 and 0.96, the mean distance to the source down 0.02-0.04 on all eight pairs
# of portrait_a, b, glasses, side_light onto grimaces_blinks and talking_frontal (`--end 2`). At 0.03 side_light's photo showed its texture's own edge (a
# dark fleck on the cheek, its hair's pale streak on the forehead); at 0.04 the streak shows a little more
# than at 0.06, where it was already faintly there
JAW_FEATHER_PER_FACE_WIDTH = 0.03  # ... and below the mouth corners' line (`_below_mouth`), where the target's
# shaved chin and jaw line showed through (portrait_a onto grimaces_blinks mean distance 0.512 at 0.04 alone,
# 0.504 with this)
JAW_RAMP_PER_FACE_WIDTH = 0.1  # ... faded to the outline's feather over this much above that line
HOLE_FEATHER_PER_FACE_WIDTH = 0.03  # the blend's holes (the target's mouth, occluders) are feathered this
# narrowly (half the outline's feather before it narrowed):
# at the full radius the target's moustache showed through around its kept mouth (a grey smudge). Narrower,
# the source's own lips show round the kept mouth: portrait_c onto grimaces_blinks mouth-opening correlation
# 0.84 at 0.25, 0.89 at 0.5 (0.97 before). Open: dark_lowres onto talking_frontal reads 0.60 at 0.5 and at 1.0
# alike (0.94 before this branch; its lifted pale lips), one run at 0.5 read 0.90
MOUTH_FEATHER_PER_FACE_WIDTH = 0.02  # the swapped lips' inner edge is feathered this narrowly round an opening
# the frame fills with the target's warped mouth (`FaceTarget.mouth_filled`; the holes' feather is 0.03): the
# wide band showed the frame's unmoved pixels through the lips, a thin outline round the demo's teeth and the
# target's lips inside the source's (portrait_b onto grimaces_blinks mouth correlation 0.77 -> 0.85, c 0.82 ->
# 0.86). At 0.006 (0.93, 0.90) the rendered lips' own inner edge showed: dark drips from a closed photo's lip
# line stretched open, torn strips round a wide-open mouth (talking_head_turns flicker 1.10 -> 1.21)
SHADING_SIGMA_PER_FACE_WIDTH = 0.1  # low-frequency lighting scale, as a fraction of the face's width: at 0.05 a
# lit cheekbone's highlight came along (cheek Delta E lower) but so did the target's own face shading, and dlib's
# same-person rate fell (0.46 -> 0.18 dark_lowres onto talking_frontal, 0.83 -> 0.42 side_light onto grimaces)
EYE_SURROUND_GROWTH = 0.3  # the colour match keeps eye whites below white this far around the openings (a
# fraction of the eye's width): a blurry photo spreads its whites onto the lids, and a dark source's lift
# turned them into pale rings
LIP_FEATHER_PER_FACE_WIDTH = 0.008  # the lips' colour match fades over this fraction of the face's width
LIP_SKIN_PER_FACE_WIDTH = 0.05  # the lips' colour is set against the skin this far round them (a fraction of the
# face's width)
BEARD_SHADOW = 0.02  # the target's skin this far round its facial hair (a fraction of the face's width) is not
# measured either: its stubble's shadow (grimaces_blinks: L 0.68 / 0.77 / 0.89 of the cheeks' at 0-0.02 /
# 0.02-0.04 / 0.04-0.06 from the hair, b 3 units bluer) gave the swapped lips' surround and chin a grey-blue
# shaved look (portrait_a onto it, chin L over the cheeks' 0.66 at 0, 0.77 at 0.02, 0.81 at 0.04; the photo's
# own 0.92). At 0.04 portrait_c's mouth-open correlation there fell 0.935 -> 0.910 (0.925 at 0.02): against
# the clean upper lip the target's closed mouth line, kept in the blend's hole, read a little open
RAMP_GRID = 8  # `_below_mouth`'s weights are made on a grid this many pixels apart
WORK_PER_TEXTURE_WIDTH = 1.5  # the warp runs with at most this many output pixels per texture pixel
MIN_WORK_FACE_WIDTH = 192.0  # ... and never on a face narrower than this (pixels). At 2.0 and 256 (a 268 px
# working face from the usual 134 px texture face) the render cost about 60 ms CPU a 720 close-up, 12 more than
# now; the 1080 close-up showed no visible difference at 1:1 and the swap-quality grid moved within its noise


def render_face_swap(frame: np.ndarray, mask: np.ndarray, conditions: SwapConditions,
                     options: ClassicalOptions) -> np.ndarray:
    """Every face of `conditions` swapped into `frame`, inside `mask`."""
    result = frame.copy()
    for face in conditions.faces:
        _swap_face(result, mask, conditions.source, face, options)
    return result


def working_scale(face_width: float, texture_face_width: float) -> float:
    """Scale (at most 1) at which a face `face_width` pixels wide is warped and colour matched: about
    WORK_PER_TEXTURE_WIDTH times the texture's own face width, and at least MIN_WORK_FACE_WIDTH pixels.

    The warped face holds no detail finer than the texture's pixels, so a close-up drawn from a smaller
    photo is warped at that working size and upsampled: the cost stops growing with the face's area.
    """
    work = max(WORK_PER_TEXTURE_WIDTH * texture_face_width, MIN_WORK_FACE_WIDTH)
    return min(1.0, work / max(face_width, 1.0))


def _swap_face(out: np.ndarray, mask: np.ndarray, source: SourceFace, face: FaceTarget,
               options: ClassicalOptions) -> None:
    """Swap one face into `out` in place. All work is inside the face's box grown by the blend's margin.

    The warp, relighting, colour match and creases run at `working_scale` and are upsampled onto the box;
    the eyes, detail, grain and blend run at full size (`--grain` reads full-size texture coordinates, so
    with it everything does)."""
    shape = out.shape[:2]
    # With the source's rest face (3-D swaps) the eyes are drawn open and their lids slid shut after.
    open_points = open_eye_points(face.points, face.rest_points) if face.rest_points is not None else None
    drawn = face.points if open_points is None else open_points  # the mesh the texture is warped onto
    texture_points = face.texture_points if face.texture_points is not None else source.texture_points
    size = float(np.ptp(face.points[:, 0]))
    texture_width = float(np.ptp(texture_points[:, 0]))
    scale = 1.0 if options.match_grain and options.grain else working_scale(size, texture_width)
    full = rasterize(drawn, source.triangles, shape) if scale >= 1.0 else None
    x0, y0, w, h = _face_box(drawn, shape) if full is None else (full.x0, full.y0, full.shape[1], full.shape[0])
    box = (slice(y0, y0 + h), slice(x0, x0 + w))
    offset = np.array([x0, y0, 0], dtype=np.float32)
    if full is not None:
        raster = Raster(0, 0, full.triangle, full.xy - (x0, y0))
        points, target_points, frame = drawn - offset, face.target_points - offset, out[box]
    else:
        # Pixel centres are placed as cv2.resize maps them, so the upsampled result lands on the box.
        small = (max(int(np.ceil(h * scale)), 2), max(int(np.ceil(w * scale)), 2))
        factors = np.array([small[1] / w, small[0] / h, 1.0], dtype=np.float32)
        half = np.array([0.5, 0.5, 0.0], dtype=np.float32)
        points = (drawn - offset + half) * factors - half
        target_points = (face.target_points - offset + half) * factors - half
        frame = cv2.resize(out[box], (small[1], small[0]), interpolation=cv2.INTER_AREA)
        raster = _on_canvas(rasterize(points, source.triangles, small), small)
    work_size = float(np.ptp(points[:, 0]))
    coords = texture_coordinates(texture_points, raster, source.triangles)
    warped = warp_texture(source.texture, texture_points, raster, source.triangles, coords=coords)
    covered = as_mask(raster.coverage)
    usable = None
    if source.texture_mask is not None:
        usable = warp_texture(source.texture_mask, texture_points, raster, source.triangles,
                              border=cv2.BORDER_CONSTANT, coords=coords)
    skin_here = skin_there = frame_lab = fold_hair = lip_colours = None
    fold_share = source.smile - face.smile  # > 0: the target's fold band is swapped in (below)
    if options.relight or options.restore_detail or (options.colour_match and face.target_skin is not None):
        # skin to measure on, under the rendered face and under the target's own face; the texture's
        # unusable pixels (glasses, hair, hands) are not skin, nor the target's moustache and beard
        skin_here = skin_sample_region(covered.shape, points) & covered
        if usable is not None:
            skin_here &= as_mask(usable > 127)
        frame_lab = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB)  # once: the hair test, the skin's and lips' match
        # the target's hair found once: grown by its stubble's shadow off its skin, by its soft edge for the
        # fold band's shave
        grows = (FACIAL_HAIR_GROW + BEARD_SHADOW,) + ((FACIAL_HAIR_GROW,) if fold_share > 0.0 else ())
        hairs = facial_hairs(frame_lab[..., 0].astype(np.float32), target_points, work_size, grows)
        skin_there = target_skin_region(frame_lab, target_points, work_size, hair=hairs[0])
        fold_hair = hairs[1] if fold_share > 0.0 else None
    if options.relight:
        warped = relight(warped, frame, box_normals(points, source.triangles, raster), skin_here, skin_there)
    if options.colour_match and face.target_skin is not None:
        before = warped
        warped = transfer_skin(warped, source.skin_stats, face.target_skin, frame, skin_here, skin_there,
                               sigma=max(work_size * SHADING_SIGMA_PER_FACE_WIDTH, 2.0),
                               eyes=eye_openings(covered.shape, points, EYE_SURROUND_GROWTH), target_lab=frame_lab)
        lips, target_lips = _lips(covered.shape, points), _lips(covered.shape, target_points)
        around = _around_lips(covered.shape, points, LIP_SKIN_PER_FACE_WIDTH * work_size) & skin_here
        warped = match_lips(warped, before, frame, lips, target_lips, around,
                            source.skin_stats, face.target_skin, LIP_FEATHER_PER_FACE_WIDTH * work_size,
                            target_lab=frame_lab)
        if face.mouth_filled:
            lip_colours = _lip_colours(warped, frame_lab, lips, target_lips)
    if options.target_creases:
        removed, added = crease_zones(covered.shape, points, target_points, work_size)
        warped = carry_target_creases(warped, frame, removed * raster.coverage, added * raster.coverage, work_size)
    if fold_share > 0.0:
        # A smiling photo's folds (which flattening in `faceswap.folds` only softens) would stay on every
        # frame as dark curved streaks: along them the skin's middle band is the target's, as much as the
        # photo smiles more than the target. Where the target smiles as much, its folds are there too and
        # the photo's own stay: dlib reads them as the person (portrait_c onto grimaces_blinks, same-person
        # rate 0.67 with the band always swapped, 1.0 never, --end 1.5).
        folds = fold_share * nasolabial_zone(covered.shape, points, target_points, work_size) * raster.coverage
        # the target's own fold, shaved: its moustache and beard are not the source's
        warped = swap_fold_band(warped, without_facial_hair(frame, target_points, work_size, fold_hair), folds,
                                work_size)
    coverage = raster.coverage
    if full is None:
        # Outside the mesh the patch is the frame (below): filling the working image with it first keeps
        # the upsampling from pulling a dark fringe into the face's edge.
        warped = cv2.resize(cv2.copyTo(warped, covered, frame.copy()), (w, h), interpolation=cv2.INTER_LINEAR)
        covered = cv2.compare(cv2.resize(covered, (w, h), interpolation=cv2.INTER_LINEAR), 127, cv2.CMP_GT)
        coverage = covered > 0
        if usable is not None:
            usable = cv2.resize(usable, (w, h), interpolation=cv2.INTER_LINEAR)
        if skin_here is not None:
            skin_here = cv2.resize(skin_here, (w, h), interpolation=cv2.INTER_NEAREST) & covered
            skin_there = cv2.resize(skin_there, (w, h), interpolation=cv2.INTER_NEAREST)
        coords = None  # only `--grain` reads them, and it works at full size
    if open_points is not None:
        if options.eyes in (Eyes.gaze, Eyes.follow):
            # gaze: where the target looks; follow: the recombined face's irises, the source's own gaze
            # moved by the target's glances (its iris motion from its track's rest face)
            looks = face.target_points if options.eyes is Eyes.gaze else face.points
            warped, _ = shift_gaze(warped, open_points - offset, texture_points, looks, source.triangles)
        warped = slide_lids(warped, open_points - offset, face.points - offset)
    elif options.eyes in (Eyes.gaze, Eyes.follow):  # 2-D: the target's own landmarks
        warped, _ = shift_gaze(warped, face.points - offset, texture_points, face.target_points)
    local = covered & face_region((h, w), face.points - offset)
    local &= mask[box]
    if usable is not None:
        local &= as_mask(usable > 127)
    # A blurry photo's whites spread past its lids (and, under the target's eyeballs, lie in the band the
    # eyeball leaves inside them), a shut eye's white is left as a line: dimmed to the skin round them.
    warped = dim_stray_whites(warped, face.points - offset,
                              inside=EYEBALL_INSET + EYEBALL_FEATHER if options.eyes is Eyes.target else 0.0)
    if options.eyes is Eyes.target:
        # The eyeballs come from the frame, inside the lids where they end up (after sliding), not from the
        # texture: the texture's mask (its glasses, its unusable dark sockets) does not apply to them.
        recolour = None
        source_iris, target_iris = iris_colour(source.texture, texture_points), iris_colour(out, face.target_points)
        if source_iris is not None and target_iris is not None and face.target_skin is not None:
            # the target's iris in the source's colour (a grey-eyed target gave a brown-eyed photo grey eyes)
            recolour = iris_recolour(source_iris, source.skin_stats[0], target_iris, face.target_skin[0],
                                     is_colourless(source.skin_stats))
        warped, eyes = paste_target_eyeballs(warped, out, face.points - offset, face.target_points, recolour)
        local |= eyes & covered & mask[box]
    # Detail and grain measure sharpness over the same region: the pasted pixels shrunk off their edge.
    region = target_grey = None
    if options.restore_detail or options.match_grain:
        region, target_grey = detail_region(local, size), grey(out[box])  # the frame's grey: both read it
    if options.restore_detail:
        warped = restore_detail(warped, out[box], region, skin_here & skin_there, target_grey)
    if options.match_grain:
        warped = match_face_grain(warped, out[box], local, coords, texture_width, size, add_grain=options.grain,
                                  region=region, target_grey=target_grey)
    # The blend reads at most its margin beyond the mask's box (composite's own crop), so compositing
    # this region gives the same pixels as compositing the whole frame.
    feather_radius = max(int(size * FEATHER_PER_FACE_WIDTH), 1)
    margin = 2 * feather_radius + 4
    top, left = max(y0 - margin, 0), max(x0 - margin, 0)
    bottom, right = min(y0 + h + margin, shape[0]), min(x0 + w + margin, shape[1])
    base = out[top:bottom, left:right]
    inner = (slice(y0 - top, y0 - top + h), slice(x0 - left, x0 - left + w))
    hole_radius = max(int(size * HOLE_FEATHER_PER_FACE_WIDTH), 1)
    around_mouth = (_around_mouth(base.shape[:2], face.points - (left, top, 0), 2 * hole_radius + 2)
                    if face.mouth_filled else None)
    if around_mouth is not None and lip_colours is not None:
        # the target's lips in the mouth's filled band, faded into the swapped lips: in their colour
        base = recolour_lip_band(base, around_mouth * _off_mouth_interior(base.shape[:2], face.points - (left, top, 0),
                                                                           hole_radius),
                                 *lip_colours, face.target_skin[0])
    patch = base.copy()
    patch[inner] = cv2.copyTo(warped, covered, patch[inner])  # the warped face where it is covered
    allowed = np.zeros(base.shape[:2], dtype=np.uint8)
    allowed[inner] = local
    out[top:bottom, left:right] = composite(base, patch, allowed, method=options.blend.value,
                                            feather_radius=feather_radius, hole_radius=hole_radius,
                                            narrow=around_mouth,
                                            narrow_radius=mouth_feather_radius(size),
                                            tight=_below_mouth(base.shape[:2], face.points - (left, top, 0),
                                                               JAW_RAMP_PER_FACE_WIDTH * size),
                                            tight_radius=max(int(size * JAW_FEATHER_PER_FACE_WIDTH), 1))


def target_skin_region(frame_lab: np.ndarray, target_points: np.ndarray, face_width: float,
                       hair: np.ndarray | None = None) -> np.ndarray:
    """The target's skin to measure its colour and light on (0/255): `skin_sample_region` less its facial
    hair and BEARD_SHADOW round it (`hair`: that grown hair, when the caller has found it). `frame_lab`: the
    frame (OpenCV 8-bit Lab), `face_width` the mesh's width.

    Read as skin, a moustache's dark, colourless low band and the stubble's shadow round it were carried
    onto a clean-shaven source: a grey-blue shaved look round its mouth and chin."""
    skin = skin_sample_region(frame_lab.shape[:2], target_points)
    if hair is None:
        hair = facial_hair(frame_lab[..., 0].astype(np.float32), target_points, face_width,
                           grow=FACIAL_HAIR_GROW + BEARD_SHADOW)
    return skin & ~as_mask(hair)


def mouth_feather_radius(face_width: float) -> int:
    """The blend's feather (pixels) of the swapped lips' inner edge, for a face `face_width` pixels wide."""
    return max(int(face_width * MOUTH_FEATHER_PER_FACE_WIDTH), 1)


def _around_mouth(shape: tuple[int, int], points: np.ndarray, reach: int) -> np.ndarray:
    """Weights (float32): 1 within `reach` pixels of the mesh's mouth opening (its inner-lip outline),
    falling to 0 over `reach` more.

    The opening is grown by `reach` on its own box only (grown by reach + 2: the same pixels as a dilation
    of the whole shape, which cost ~9 ms a frame at 720p with its large kernel), and the distance beyond
    it taken on that box grown by 2 * reach + 2 (the 3x3 chamfer distance counts at least 0.955 a step, so
    farther pixels lie beyond `reach` and weigh 0; within, its shortest paths stay inside the box: the
    same distances as over the whole shape, which cost 5 ms a 1080 frame)."""
    outline = np.round(points[lm.INNER_LIPS, :2] * 16).astype(np.int32)  # polygon_mask's fixed point
    margin = reach + 2
    x0, y0 = (max(int(v) // 16 - margin, 0) for v in outline.min(axis=0))
    x1 = min(int(outline[:, 0].max()) // 16 + margin + 2, shape[1])
    y1 = min(int(outline[:, 1].max()) // 16 + margin + 2, shape[0])
    weights = np.zeros(shape, dtype=np.float32)
    if x1 <= x0 or y1 <= y0:
        return weights
    opening = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    cv2.fillPoly(opening, [outline - np.array([16 * x0, 16 * y0], np.int32)], 255, lineType=cv2.LINE_8, shift=4)
    grow = 2 * reach + 2
    gx0, gy0 = max(x0 - grow, 0), max(y0 - grow, 0)
    gx1, gy1 = min(x1 + grow, shape[1]), min(y1 + grow, shape[0])
    near = np.zeros((gy1 - gy0, gx1 - gx0), dtype=np.uint8)
    near[y0 - gy0 : y1 - gy0, x0 - gx0 : x1 - gx0] = dilate(opening, reach)
    outside = cv2.distanceTransform(cv2.bitwise_not(near), cv2.DIST_L2, 3)
    weights[gy0:gy1, gx0:gx1] = np.clip(1.0 - outside / max(reach, 1), 0.0, 1.0)
    return weights


def _below_mouth(shape: tuple[int, int], points: np.ndarray, ramp: float) -> np.ndarray:
    """Weights (float32): 1 below the line through a mesh's mouth corners (on its chin's side), falling to 0
    over `ramp` pixels above it."""
    left, down = lm.mouth_line(points)
    # The weight is linear but for its clip: made on a grid RAMP_GRID times coarser (sampled where the
    # upsampling puts its pixel centres) and upsampled bilinearly, within a pixel of the full-size ramp
    # (at full size it cost 4 ms a 720p close-up).
    height, width = shape
    small = (max(-(-height // RAMP_GRID), 2), max(-(-width // RAMP_GRID), 2))
    ys = (np.arange(small[0]) + 0.5) * height / small[0] - 0.5
    xs = (np.arange(small[1]) + 0.5) * width / small[1] - 0.5
    depth = np.add.outer((ys - left[1]) * down[1], (xs - left[0]) * down[0])
    weights = np.clip(1.0 + depth / max(ramp, 1.0), 0.0, 1.0).astype(np.float32)
    return cv2.resize(weights, (width, height), interpolation=cv2.INTER_LINEAR)


def _off_mouth_interior(shape: tuple[int, int], points: np.ndarray, depth: int) -> np.ndarray:
    """Weights (float32): 0 deeper than `depth` pixels inside a mesh's mouth opening (its inner-lip outline:
    the tongue and teeth), 1 elsewhere (the opening's rim, where the target's warped lip edge lies)."""
    weights = np.ones(shape, dtype=np.float32)
    outline = points[lm.INNER_LIPS, :2]
    x0, y0 = (max(int(v), 0) for v in np.floor(outline.min(axis=0)))
    x1, y1 = min(int(np.ceil(outline[:, 0].max())) + 2, shape[1]), min(int(np.ceil(outline[:, 1].max())) + 2, shape[0])
    if x1 <= x0 or y1 <= y0:
        return weights
    opening = polygon_mask((y1 - y0, x1 - x0), outline - (x0, y0))
    inside = cv2.distanceTransform(opening, cv2.DIST_L2, 3)  # each opening pixel's distance to its rim
    weights[y0:y1, x0:x1] = (inside <= depth).astype(np.float32)
    return weights


def _lip_colours(warped: np.ndarray, frame_lab: np.ndarray, lips: np.ndarray, target_lips: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """(the target's, the swapped face's) mean Lab lip colour: the frame's lip ring's redder half
    (`frame_lab`, OpenCV 8-bit Lab) and the lips of `warped` (RGB, after their colour match), read on the
    lips' box; None where either has too few lip pixels."""
    ours_box, theirs_box = bounding_box(lips, 1), bounding_box(target_lips, 1)
    if ours_box is None or theirs_box is None:
        return None
    x0, y0, x1, y1 = ours_box
    ours = lip_colour(cv2.cvtColor(warped[y0:y1, x0:x1], cv2.COLOR_RGB2LAB), lips[y0:y1, x0:x1], reddest=False)
    x0, y0, x1, y1 = theirs_box
    theirs = lip_colour(frame_lab[y0:y1, x0:x1], target_lips[y0:y1, x0:x1], reddest=True)
    return None if ours is None or theirs is None else (theirs, ours)


def _lips(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """The lips of a mesh: inside the outer lip line, outside the inner one (0/255)."""
    return polygon_mask(shape, points[lm.OUTER_LIPS]) & ~polygon_mask(shape, points[lm.INNER_LIPS])


def _around_lips(shape: tuple[int, int], points: np.ndarray, reach: float) -> np.ndarray:
    """The band (0/255) from 1 to `reach` pixels outside a mesh's outer lip line: the skin round the lips.

    Dilated on the lips' box grown by the reach only (farther out the band is 0, and a kernel there reads
    the same zeros as over the whole shape): the same pixels, where the whole shape's two dilations cost
    about 0.9 ms a 720p close-up."""
    outer = polygon_mask(shape, points[lm.OUTER_LIPS])
    band = np.zeros(shape, dtype=np.uint8)
    x, y, w, h = cv2.boundingRect(outer)
    if w == 0 or h == 0:
        return band
    radius = max(int(round(reach)), 2)
    y0, y1 = max(y - radius, 0), min(y + h + radius, shape[0])
    x0, x1 = max(x - radius, 0), min(x + w + radius, shape[1])
    lips = outer[y0:y1, x0:x1]
    band[y0:y1, x0:x1] = dilate(lips, radius) & ~dilate(lips, 1)
    return band


def _face_box(points: np.ndarray, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x0, y0, width, height): the box `rasterize` gives the mesh `points` in a frame of `shape`."""
    height, width = shape
    x0 = int(np.clip(np.floor(points[:, 0].min()), 0, width - 1))
    y0 = int(np.clip(np.floor(points[:, 1].min()), 0, height - 1))
    x1 = int(np.clip(np.ceil(points[:, 0].max()) + 1, x0 + 1, width))
    y1 = int(np.clip(np.ceil(points[:, 1].max()) + 1, y0 + 1, height))
    return x0, y0, x1 - x0, y1 - y0


def _on_canvas(raster: Raster, shape: tuple[int, int]) -> Raster:
    """`raster` on a canvas of `shape` with its box at the origin (triangle id -1 where it does not reach)."""
    ids = np.full(shape, -1, dtype=np.int32)
    h, w = raster.shape
    ids[raster.y0 : raster.y0 + h, raster.x0 : raster.x0 + w] = raster.triangle
    return Raster(0, 0, ids, raster.xy)
