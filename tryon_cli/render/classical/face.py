"""Classical face swap: warp the source texture onto the recombined face, match colour, blend."""

from __future__ import annotations

import cv2
import numpy as np

from ...colour import transfer_colour, transfer_shading
from ...face3d.raster import rasterize, warp_texture
from ...masks.face import face_region, skin_sample_region
from ..contract import FaceTarget, SourceFace, SwapConditions
from ..options import ClassicalOptions
from .blend import composite

FEATHER_PER_FACE_WIDTH = 0.06  # blend feather radius, as a fraction of the face's width
SHADING_SIGMA_PER_FACE_WIDTH = 0.1  # low-frequency lighting scale, as a fraction of the face's width


def render_face_swap(frame: np.ndarray, mask: np.ndarray, conditions: SwapConditions,
                     options: ClassicalOptions) -> np.ndarray:
    """Every face of `conditions` swapped into `frame`, inside `mask`."""
    result = frame
    for face in conditions.faces:
        result = _swap_face(result, mask, conditions.source, face, options)
    return result


def _swap_face(frame: np.ndarray, mask: np.ndarray, source: SourceFace, face: FaceTarget,
               options: ClassicalOptions) -> np.ndarray:
    shape = frame.shape[:2]
    raster = rasterize(face.points, source.triangles, shape)
    texture_points = face.texture_points if face.texture_points is not None else source.texture_points
    warped = warp_texture(source.texture, texture_points, raster, source.triangles)
    h, w = raster.shape
    box = (slice(raster.y0, raster.y0 + h), slice(raster.x0, raster.x0 + w))
    size = float(np.ptp(face.points[:, 0]))
    if options.colour_match and face.target_skin is not None:
        warped = transfer_colour(warped, source.skin_stats, face.target_skin)
        offset = np.array([raster.x0, raster.y0, 0], dtype=np.float32)
        skin_here = skin_sample_region((h, w), face.points - offset) & np.where(raster.coverage, 255, 0).astype(np.uint8)
        skin_there = skin_sample_region((h, w), face.target_points - offset)
        warped = transfer_shading(warped, frame[box], skin_here, skin_there, sigma=max(size * SHADING_SIGMA_PER_FACE_WIDTH, 2.0))
    patch = frame.copy()
    patch[box] = np.where(raster.coverage[..., None], warped, frame[box])
    local = np.where(raster.coverage, 255, 0).astype(np.uint8)
    local &= face_region((h, w), face.points - np.array([raster.x0, raster.y0, 0], dtype=np.float32))
    local &= mask[box]
    if source.texture_mask is not None:
        usable = warp_texture(source.texture_mask, texture_points, raster, source.triangles,
                              border=cv2.BORDER_CONSTANT)
        local &= np.where(usable > 127, 255, 0).astype(np.uint8)
    allowed = np.zeros(shape, dtype=np.uint8)
    allowed[box] = local
    return composite(frame, patch, allowed, method=options.blend.value, feather_radius=max(int(size * FEATHER_PER_FACE_WIDTH), 1))
