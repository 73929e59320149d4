"""Relighting the swapped face: spherical-harmonics lighting fitted on the mesh's normals (opt-in).

Skin lightness is modelled as albedo times a second-order spherical-harmonics function of the surface
normal (nine coefficients, the Lambertian-lighting model of Ramamoorthi and Hanrahan). One lighting is
fitted to the warped source, one to the target frame, both over skin and on the same normals (the
swapped face's mesh); the face's lightness is multiplied by their ratio, normalised to mean 1 so the
overall brightness stays the colour match's job. Unlike a blurred lightness ratio, the ratio follows the
face's shape (a side light darkens the far cheek, not a blurry disc), and the source's own shading,
fitted the same way, is divided out.
"""

from __future__ import annotations

import numpy as np
import cv2

from ...face3d.raster import Raster, vertex_normals

MAX_SAMPLES = 4000  # skin pixels used per fit (evenly strided)
RIDGE = 1e-2  # regularisation of the fit, relative to the data's scale (keeps a thin region sane)
MAX_RATIO = 1.5  # the relighting ratio stays within [1 / MAX_RATIO, MAX_RATIO]


def sh_basis(normals: np.ndarray) -> np.ndarray:
    """(..., 9) second-order real spherical-harmonics basis of unit normals (..., 3), constants dropped
    (a least-squares fit absorbs them)."""
    x, y, z = normals[..., 0], normals[..., 1], normals[..., 2]
    return np.stack([np.ones_like(x), x, y, z, x * y, x * z, y * z, x * x - y * y, 3 * z * z - 1], axis=-1)


def box_normals(points: np.ndarray, triangles: np.ndarray, raster: Raster) -> np.ndarray:
    """Unit normals (h, w, 3) of the mesh over the raster's box (x right, y up, z towards the camera)."""
    normals = vertex_normals(points, triangles) * np.array([1.0, -1.0, -1.0], dtype=np.float32)
    local = raster.interpolate(normals, triangles, fill=0.0)
    return local / np.maximum(np.linalg.norm(local, axis=2, keepdims=True), 1e-6)


def fit_lighting(lightness: np.ndarray, basis: np.ndarray, region: np.ndarray) -> np.ndarray | None:
    """The nine coefficients that best explain `lightness` over `region` (ridge least squares); None when
    the region is too small to fit."""
    ys, xs = np.nonzero(region)
    if len(ys) < 100:
        return None
    step = max(len(ys) // MAX_SAMPLES, 1)
    ys, xs = ys[::step], xs[::step]
    design = basis[ys, xs].astype(np.float64)
    values = lightness[ys, xs].astype(np.float64)
    gram = design.T @ design
    gram += RIDGE * np.trace(gram) / 9 * np.eye(9)
    return np.linalg.solve(gram, design.T @ values)


def relight(image: np.ndarray, target: np.ndarray, normals: np.ndarray, image_skin: np.ndarray,
            target_skin: np.ndarray) -> np.ndarray:
    """`image` (RGB uint8, the face's box) with its SH shading replaced by the target's."""
    basis = sh_basis(normals)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    target_l = cv2.cvtColor(target, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    here = fit_lighting(lab[..., 0], basis, image_skin > 0)
    there = fit_lighting(target_l, basis, target_skin > 0)
    if here is None or there is None:
        return image
    shading_here = np.maximum(basis @ here, 8.0)
    shading_there = np.maximum(basis @ there, 8.0)
    ratio = shading_there / shading_here
    ratio /= max(float(np.mean(ratio[image_skin > 0])), 1e-6)
    lab[..., 0] *= np.clip(ratio, 1.0 / MAX_RATIO, MAX_RATIO).astype(np.float32)
    return cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
