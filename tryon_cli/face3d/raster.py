"""Triangle rasterisation of a face mesh: z-ordered triangle ids and barycentric coordinates.

One raster serves the piecewise-affine texture warp and the normal map, so both agree pixel for pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay


def triangulate(frontal_points: np.ndarray) -> np.ndarray:
    """Triangles (T, 3) covering a frontal face layout, eye and mouth openings included."""
    return Delaunay(np.asarray(frontal_points)[:, :2].astype(np.float64)).simplices.astype(np.int32)


@dataclass(frozen=True)
class Raster:
    """Per-pixel triangle id (-1 outside) inside the box at (x0, y0), and the mesh's 2-D points (pixels)."""

    x0: int
    y0: int
    triangle: np.ndarray
    xy: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.triangle.shape

    @property
    def coverage(self) -> np.ndarray:
        return self.triangle >= 0

    def interpolate(self, values: np.ndarray, triangles: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Interpolate per-vertex `values` (N, C) over covered pixels -> (h, w, C) float32.

        Barycentric interpolation inside a triangle is an affine function of the pixel's (x, y), so each
        triangle gets its plane (value = cx * x + cy * y + c0, per channel) once, and every pixel of the
        box is one gather and two multiply-adds: no per-pixel barycentric weights.
        """
        a = self.xy[triangles[:, 0]] - (self.x0, self.y0)
        e1 = self.xy[triangles[:, 1]] - self.xy[triangles[:, 0]]
        e2 = self.xy[triangles[:, 2]] - self.xy[triangles[:, 0]]
        det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
        det = np.where(np.abs(det) < 1e-6, 1e-6, det)[:, None]
        v = np.asarray(values, dtype=np.float64)
        v0, d1, d2 = v[triangles[:, 0]], v[triangles[:, 1]] - v[triangles[:, 0]], v[triangles[:, 2]] - v[triangles[:, 0]]
        # l1 = (e2y px - e2x py) / det, l2 = (e1x py - e1y px) / det, px = x - ax, py = y - ay
        cx = (d1 * e2[:, 1:2] - d2 * e1[:, 1:2]) / det
        cy = (d2 * e1[:, 0:1] - d1 * e2[:, 0:1]) / det
        c0 = v0 - cx * a[:, 0:1] - cy * a[:, 1:2]
        channels = v.shape[1]
        # one row per coefficient and channel (cx, then cy, then c0), column 0 for uncovered pixels: each
        # plane is a 1-D gather from a table that stays in cache, 3x faster than gathering (h, w, 3C) rows
        table = np.empty((3 * channels, len(triangles) + 1), dtype=np.float32)
        table[:, 0] = 0.0
        table[2 * channels :, 0] = fill
        table[:channels, 1:], table[channels : 2 * channels, 1:], table[2 * channels :, 1:] = cx.T, cy.T, c0.T
        h, w = self.shape
        ids = self.triangle + 1
        xs = np.arange(w, dtype=np.float32)[None, :]
        ys = np.arange(h, dtype=np.float32)[:, None]
        out = np.empty((h, w, channels), dtype=np.float32)
        for c in range(channels):
            plane = np.take(table[c], ids) * xs
            plane += np.take(table[channels + c], ids) * ys
            plane += np.take(table[2 * channels + c], ids)
            out[..., c] = plane
        return out


def rasterize(points: np.ndarray, triangles: np.ndarray, image_shape: tuple[int, int]) -> Raster:
    """Rasterise the mesh (points in pixels, z used for painter's order: far triangles first)."""
    height, width = image_shape
    xy = np.asarray(points[:, :2], dtype=np.float64)
    x0 = int(np.clip(np.floor(xy[:, 0].min()), 0, width - 1))
    y0 = int(np.clip(np.floor(xy[:, 1].min()), 0, height - 1))
    x1 = int(np.clip(np.ceil(xy[:, 0].max()) + 1, x0 + 1, width))
    y1 = int(np.clip(np.ceil(xy[:, 1].max()) + 1, y0 + 1, height))
    ids = np.full((y1 - y0, x1 - x0), -1, dtype=np.int32)
    local = np.round((xy - (x0, y0)) * 16).astype(np.int32)
    order = np.argsort(-points[triangles, 2].mean(axis=1), kind="stable")
    for polygon, t in zip(local[triangles[order]], order.tolist()):  # gathered once, not per triangle
        cv2.fillConvexPoly(ids, polygon, t, lineType=cv2.LINE_8, shift=4)
    return Raster(x0=x0, y0=y0, triangle=ids, xy=xy)


def texture_coordinates(texture_points: np.ndarray, raster: Raster, triangles: np.ndarray) -> np.ndarray:
    """Where each pixel of the raster's box samples the texture: (h, w, 2) float32, -1 outside."""
    return raster.interpolate(texture_points[:, :2].astype(np.float32), triangles, fill=-1.0)


def warp_texture(texture: np.ndarray, texture_points: np.ndarray, raster: Raster, triangles: np.ndarray,
                 border: int = cv2.BORDER_REFLECT, coords: np.ndarray | None = None) -> np.ndarray:
    """Piecewise-affine warp of `texture` onto the raster's box (h, w, 3) uint8.

    Use `border=cv2.BORDER_CONSTANT` for masks: a reflected mask would claim pixels beyond the image.
    `coords` (from `texture_coordinates`) saves recomputing them when several images share one warp.
    """
    if coords is None:
        coords = texture_coordinates(texture_points, raster, triangles)
    return cv2.remap(texture, coords[..., 0], coords[..., 1], cv2.INTER_LINEAR, borderMode=border, borderValue=0)


def vertex_normals(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Unit normals per vertex (area-weighted), oriented towards the camera (negative z)."""
    p = points.astype(np.float64)
    face_normals = np.cross(p[triangles[:, 1]] - p[triangles[:, 0]], p[triangles[:, 2]] - p[triangles[:, 0]])
    face_normals *= np.where(face_normals[:, 2:3] > 0, -1.0, 1.0)
    normals = np.zeros_like(p)
    for k in range(3):
        np.add.at(normals, triangles[:, k], face_normals)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-9)
    return normals.astype(np.float32)


def normal_map(points: np.ndarray, triangles: np.ndarray, image_shape: tuple[int, int],
               raster: Raster | None = None) -> np.ndarray:
    """Full-frame RGB normal map (x right, y up, z towards the camera; background (128, 128, 255) is flat)."""
    raster = raster or rasterize(points, triangles, image_shape)
    normals = vertex_normals(points, triangles) * np.array([1.0, -1.0, -1.0], dtype=np.float32)
    local = raster.interpolate(normals, triangles, fill=0.0)
    norm = np.maximum(np.linalg.norm(local, axis=2, keepdims=True), 1e-6)
    rgb = np.where(raster.coverage[..., None], (local / norm + 1.0) * 127.5, (128.0, 128.0, 255.0))
    out = np.empty(tuple(image_shape) + (3,), dtype=np.uint8)
    out[...] = (128, 128, 255)
    h, w = raster.shape
    out[raster.y0 : raster.y0 + h, raster.x0 : raster.x0 + w] = np.clip(rgb, 0, 255).astype(np.uint8)
    return out
