"""Relighting the swapped face: spherical-harmonics lighting fitted on the mesh's normals (opt-in).

Skin lightness is modelled as albedo times a second-order spherical-harmonics function of the surface
normal (nine coefficients, the Lambertian-lighting model of Ramamoorthi and Hanrahan). One lighting is
fitted to the warped source, one to the target frame, both over skin and on the same normals (the
swapped face's mesh); the face's lightness is multiplied by their ratio, normalised to mean 1 so the
overall brightness stays the colour match's job. Unlike a blurred lightness ratio, the ratio follows the
face's shape (a side light darkens the far cheek, not a blurry disc), and the source's own shading,
fitted the same way, is divided out. The fit itself lives in `face3d/lighting.py` (the source photos are
delit with it).
"""

from __future__ import annotations

import cv2
import numpy as np

from ...face3d.lighting import box_normals, fit_lighting, sh_basis

__all__ = ["box_normals", "relight", "sh_basis"]

MAX_RATIO = 1.5  # the relighting ratio stays within [1 / MAX_RATIO, MAX_RATIO]


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
