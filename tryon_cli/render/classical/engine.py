"""The classical engine: piecewise-affine warp, colour match and blending, on CPU, no weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from .blend import composite
from ...colour import transfer_colour, transfer_shading
from ...face3d.raster import rasterize, warp_texture
from ...masks.face import face_region, skin_sample_region
from ..contract import Conditions, FaceTarget, GarmentConditions, SourceFace, SwapConditions, paste_back


@dataclass
class ClassicalEngine:
    """Warp + colour match + blend. One frame at a time (temporal care is the planner's smoothing)."""

    blend: str = "multiband"
    colour_match: bool = True
    feather: float = 0.06
    name: str = "classical"
    window: int = 1
    overlap: int = 0
    needs_normal_map: bool = False

    def render(self, frames: Sequence[np.ndarray], masks: Sequence[np.ndarray],
               conditions: Sequence[Conditions]) -> list[np.ndarray]:
        out = []
        for frame, mask, condition in zip(frames, masks, conditions):
            if isinstance(condition, SwapConditions):
                out.append(self.render_swap(frame, mask, condition))
            elif isinstance(condition, GarmentConditions):
                out.append(self.render_garment(frame, mask, condition))
            else:
                raise TypeError(f"the classical engine cannot render {type(condition).__name__}")
        return out

    def render_swap(self, frame: np.ndarray, mask: np.ndarray, condition: SwapConditions) -> np.ndarray:
        result = frame
        for face in condition.faces:
            result = self._swap_face(result, mask, condition.source, face)
        return result

    def _swap_face(self, frame: np.ndarray, mask: np.ndarray, source: SourceFace, face: FaceTarget) -> np.ndarray:
        shape = frame.shape[:2]
        raster = rasterize(face.points, source.triangles, shape)
        texture_points = face.texture_points if face.texture_points is not None else source.texture_points
        warped = warp_texture(source.texture, texture_points, raster, source.triangles)
        h, w = raster.shape
        box = (slice(raster.y0, raster.y0 + h), slice(raster.x0, raster.x0 + w))
        size = float(np.ptp(face.points[:, 0]))
        if self.colour_match and face.target_skin is not None:
            warped = transfer_colour(warped, source.skin_stats, face.target_skin)
            offset = np.array([raster.x0, raster.y0, 0], dtype=np.float32)
            skin_here = skin_sample_region((h, w), face.points - offset) & np.where(raster.coverage, 255, 0).astype(np.uint8)
            skin_there = skin_sample_region((h, w), face.target_points - offset)
            warped = transfer_shading(warped, frame[box], skin_here, skin_there, sigma=max(size * 0.1, 2.0))
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
        return composite(frame, patch, allowed, method=self.blend, feather_radius=max(int(size * self.feather), 1))

    def render_garment(self, frame: np.ndarray, mask: np.ndarray, condition: GarmentConditions) -> np.ndarray:
        """Composite the warped garment; the rest of the mask is filled from the surroundings."""
        from .garment import render_garment_classical

        return render_garment_classical(frame, mask, condition)


def fill_masked(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Fill the masked area plausibly from its surroundings (Telea inpainting at reduced size)."""
    h, w = mask.shape
    scale = min(1.0, 384.0 / max(h, w))
    small = cv2.resize(frame, (max(int(w * scale), 1), max(int(h * scale), 1)), interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(mask, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    filled = cv2.inpaint(small, small_mask, 5, cv2.INPAINT_TELEA)
    filled = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
    return paste_back(frame, filled, (mask > 0).astype(np.float32))
