"""Classical face swap: warp the source texture onto the recombined face, match colour, blend."""

from __future__ import annotations

import cv2
import numpy as np

from ...colour import transfer_skin
from ...face3d.raster import rasterize, texture_coordinates, warp_texture
from ...masks.face import face_region, skin_sample_region
from ..contract import FaceTarget, SourceFace, SwapConditions
from ..options import ClassicalOptions, Eyes
from .blend import composite
from .creases import carry_target_creases, crease_zones
from .detail import restore_detail
from .eyes import eye_openings, open_eye_points, paste_target_eyes, shift_gaze, slide_lids
from .grain import detail_region, match_face_grain
from .relight import box_normals, relight

FEATHER_PER_FACE_WIDTH = 0.06  # blend feather radius, as a fraction of the face's width
SHADING_SIGMA_PER_FACE_WIDTH = 0.1  # low-frequency lighting scale, as a fraction of the face's width


def render_face_swap(frame: np.ndarray, mask: np.ndarray, conditions: SwapConditions,
                     options: ClassicalOptions) -> np.ndarray:
    """Every face of `conditions` swapped into `frame`, inside `mask`."""
    result = frame.copy()
    for face in conditions.faces:
        _swap_face(result, mask, conditions.source, face, options)
    return result


def _swap_face(out: np.ndarray, mask: np.ndarray, source: SourceFace, face: FaceTarget,
               options: ClassicalOptions) -> None:
    """Swap one face into `out` in place. All work is inside the face's box grown by the blend's margin."""
    shape = out.shape[:2]
    # With the source's rest face (3-D swaps) the eyes are rendered open and their lids slid shut after.
    open_points = open_eye_points(face.points, face.rest_points) if face.rest_points is not None else None
    raster = rasterize(face.points if open_points is None else open_points, source.triangles, shape)
    texture_points = face.texture_points if face.texture_points is not None else source.texture_points
    coords = texture_coordinates(texture_points, raster, source.triangles)
    warped = warp_texture(source.texture, texture_points, raster, source.triangles, coords=coords)
    offset = np.array([raster.x0, raster.y0, 0], dtype=np.float32)
    if open_points is not None:
        if options.eyes in (Eyes.gaze, Eyes.follow):
            # gaze: where the target looks; follow: the recombined face's irises, the source's own gaze
            # moved by the target's glances (its iris motion from its track's rest face)
            looks = face.target_points if options.eyes is Eyes.gaze else face.points
            warped, _ = shift_gaze(warped, open_points - offset, texture_points, looks, source.triangles)
        warped = slide_lids(warped, open_points - offset, face.points - offset)
    h, w = raster.shape
    box = (slice(raster.y0, raster.y0 + h), slice(raster.x0, raster.x0 + w))
    size = float(np.ptp(face.points[:, 0]))
    covered = np.where(raster.coverage, 255, 0).astype(np.uint8)
    if options.relight or options.restore_detail or (options.colour_match and face.target_skin is not None):
        # skin to measure on, under the rendered face and under the target's own face
        skin_here = skin_sample_region((h, w), face.points - offset) & covered
        skin_there = skin_sample_region((h, w), face.target_points - offset)
    if options.relight:
        warped = relight(warped, out[box], box_normals(face.points, source.triangles, raster), skin_here, skin_there)
    if options.colour_match and face.target_skin is not None:
        warped = transfer_skin(warped, source.skin_stats, face.target_skin, out[box], skin_here, skin_there,
                               sigma=max(size * SHADING_SIGMA_PER_FACE_WIDTH, 2.0),
                               eyes=eye_openings((h, w), face.points - offset))
    if options.target_creases:
        removed, added = crease_zones((h, w), face.points - offset, face.target_points - offset, size)
        warped = carry_target_creases(warped, out[box], removed * raster.coverage, added * raster.coverage, size)
    local = covered & face_region((h, w), face.points - offset)
    local &= mask[box]
    if source.texture_mask is not None:
        usable = warp_texture(source.texture_mask, texture_points, raster, source.triangles,
                              border=cv2.BORDER_CONSTANT, coords=coords)
        local &= np.where(usable > 127, 255, 0).astype(np.uint8)
    if options.eyes is Eyes.target:
        # The eyes come from the frame, not the texture: the texture's mask (its glasses) does not apply.
        warped, eyes = paste_target_eyes(warped, out, face.points - offset, face.target_points)
        local |= eyes & covered & mask[box]
    elif options.eyes in (Eyes.gaze, Eyes.follow) and open_points is None:  # 2-D: the target's own landmarks
        warped, _ = shift_gaze(warped, face.points - offset, texture_points, face.target_points)
    if options.restore_detail:
        # Measured where the grain match measures: the pasted pixels shrunk off their edge.
        warped = restore_detail(warped, out[box], detail_region(local, size), skin_here & skin_there)
    if options.match_grain:
        warped = match_face_grain(warped, out[box], local, coords, float(np.ptp(texture_points[:, 0])), size,
                                  add_grain=options.grain)
    # The blend reads at most its margin beyond the mask's box (composite's own crop), so compositing
    # this region gives the same pixels as compositing the whole frame.
    feather_radius = max(int(size * FEATHER_PER_FACE_WIDTH), 1)
    margin = 2 * feather_radius + 4
    y0, x0 = max(raster.y0 - margin, 0), max(raster.x0 - margin, 0)
    y1, x1 = min(raster.y0 + h + margin, shape[0]), min(raster.x0 + w + margin, shape[1])
    base = out[y0:y1, x0:x1]
    inner = (slice(raster.y0 - y0, raster.y0 - y0 + h), slice(raster.x0 - x0, raster.x0 - x0 + w))
    patch = base.copy()
    patch[inner] = np.where(raster.coverage[..., None], warped, base[inner])
    allowed = np.zeros(base.shape[:2], dtype=np.uint8)
    allowed[inner] = local
    out[y0:y1, x0:x1] = composite(base, patch, allowed, method=options.blend.value, feather_radius=feather_radius)
