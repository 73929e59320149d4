"""Lighting on a face mesh: second-order spherical harmonics fitted on the mesh's normals.

Skin lightness is modelled as albedo times a second-order spherical-harmonics function of the surface
normal (nine coefficients, the Lambertian-lighting model of Ramamoorthi and Hanrahan). `delight` divides
a photo's fitted shading out of its face (what is left is close to the albedo, as under flat light), so a
side-lit source does not bring its dark half-face into every frame; the render then applies the target's
lighting. `render/classical/relight.py` uses the same fit to swap one lighting for another.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..colour import masked_blur, soft_clip_lightness
from . import landmarks as lm
from .raster import Raster, rasterize, vertex_normals, warp_texture

MAX_SAMPLES = 4000  # skin pixels used per fit (evenly strided)
RIDGE = 1e-2  # regularisation of the fit, relative to the data's scale (keeps a thin region sane)
OUTLIER_MADS = 2.5  # a second fit drops skin pixels this many median absolute deviations off the first
# (a beard, a mole, a cast shadow's core or a specular spot are not the lighting)
MAX_DELIGHT = 1.6  # the delighting ratio (mean shading / shading) stays within [1 / MAX_DELIGHT, MAX_DELIGHT]
RATIO_SIGMA = 0.05  # the ratio is smoothed at this fraction of the face's width: lighting is low-frequency,
# and the mesh's normals are not (nostrils, lip edges, the brow ridge fold), so an unsmoothed ratio flared them
SPECULAR_MADS = 3.0  # delit skin brighter than its median by this many MADs is a specular highlight:
SPECULAR_KEEP = 0.35  # only this much of the excess is kept (a shine of the photo's light, not the skin)
SHADING_FLOOR = 8.0
FACE_MESH_POINTS = 468  # a face mesh (MediaPipe's layout) has its eyes and lips where `landmarks` says  # OpenCV-Lab lightness: shading below this is taken as this (no division blow-up)


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


def _solve(design: np.ndarray, values: np.ndarray) -> np.ndarray:
    terms = design.shape[1]
    gram = design.T @ design
    gram += RIDGE * np.trace(gram) / terms * np.eye(terms)
    return np.linalg.solve(gram, design.T @ values)


def fit_lighting(lightness: np.ndarray, basis: np.ndarray, region: np.ndarray, robust: bool = False) -> np.ndarray | None:
    """The coefficients (one per basis term: nine for `sh_basis`) that best explain `lightness` over `region`
    (ridge least squares); None when the region is too small to fit. `robust`: refit without the first fit's outliers (OUTLIER_MADS)."""
    ys, xs = np.nonzero(region)
    if len(ys) < 100:
        return None
    step = max(len(ys) // MAX_SAMPLES, 1)
    ys, xs = ys[::step], xs[::step]
    design = basis[ys, xs].astype(np.float64)
    values = lightness[ys, xs].astype(np.float64)
    coefficients = _solve(design, values)
    if robust:
        residual = values - design @ coefficients
        spread = np.median(np.abs(residual - np.median(residual))) + 1e-6
        keep = np.abs(residual) <= OUTLIER_MADS * spread / 0.6745
        if keep.sum() >= 100:
            coefficients = _solve(design[keep], values[keep])
    return coefficients


def _eyes_and_lips(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The eyes' and lips' openings (0/255), grown a little: never taken for a shine."""
    mask = np.zeros(shape, dtype=np.uint8)
    for loop in (lm.RIGHT_EYE, lm.LEFT_EYE, lm.OUTER_LIPS):
        cv2.fillPoly(mask, [np.round(points[loop, :2]).astype(np.int32)], 255)
    grow = max(int(0.02 * np.ptp(points[:, 0])), 1)
    return cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))


def _feather(inside: np.ndarray, width: int) -> np.ndarray:
    """0..1 weight, 1 inside the mesh and falling to 0 over 4% of its `width` at its outline."""
    edge = max(int(0.04 * width), 1)
    return cv2.GaussianBlur(cv2.erode(inside, np.ones((3, 3), np.uint8), iterations=edge), (0, 0), edge / 2 + 0.5)


def delight(image: np.ndarray, points: np.ndarray, triangles: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """`image` (RGB uint8) with the face's spherical-harmonics shading divided out of its lightness.

    The lighting is fitted on the skin pixels (`skin`, a full-image mask) against the normals of the
    photo's own mesh (`points` in image pixels); the face's Lab lightness is divided by the fitted shading
    normalised to mean 1 over the skin, so the face's mean lightness is kept and its colour untouched.
    Outside the mesh the image is unchanged; where the fit fails (too little skin) it is returned as is.
    """
    raster = rasterize(points, triangles, image.shape[:2])
    h, w = raster.shape
    box = (slice(raster.y0, raster.y0 + h), slice(raster.x0, raster.x0 + w))
    covered = raster.coverage
    region = (skin[box] > 0) & covered
    basis = sh_basis(box_normals(points, triangles, raster))
    lab = cv2.cvtColor(image[box], cv2.COLOR_RGB2LAB).astype(np.float32)
    coefficients = fit_lighting(lab[..., 0], basis, region, robust=True)
    if coefficients is None:
        return image
    shading = basis @ coefficients
    # No extrapolation: normals the skin sample never saw (the nose's sides and tip, the jaw's turn) take
    # the nearest shading it did see; a quadratic fitted on the cheeks can dive there and flare the nose.
    low, high = np.percentile(shading[region], [1.0, 99.0])
    shading = np.clip(shading, max(low, SHADING_FLOOR), max(high, SHADING_FLOOR))
    ratio = np.clip(float(np.mean(shading[region])) / shading, 1.0 / MAX_DELIGHT, MAX_DELIGHT).astype(np.float32)
    inside = covered.astype(np.float32)
    sigma = max(RATIO_SIGMA * w, 1.0)
    ratio = masked_blur(ratio, inside, sigma)
    # Feathered to 1 at the mesh's outline, so the face meets the untouched image without a step.
    weight = _feather(inside, w)
    lightness = lab[..., 0] * (1.0 + weight * (ratio - 1.0))
    # The photo's shine (nose, forehead) is its light's too: compressed toward the skin's level, on the skin
    # and the nose only (eye whites and teeth are bright by nature).
    skin_values = lightness[region]
    median = float(np.median(skin_values))
    knee = median + SPECULAR_MADS * float(np.median(np.abs(skin_values - median))) / 0.6745
    shiny = lightness > knee
    if len(points) >= FACE_MESH_POINTS:
        shiny &= ~(_eyes_and_lips(points - (raster.x0, raster.y0, 0), (h, w)) > 0)
    lightness = np.where(shiny, knee + SPECULAR_KEEP * (lightness - knee) * weight + (1 - weight) * (lightness - knee), lightness)
    # Highlights are compressed, not clipped: a brightened specular spot keeps its shape instead of a white patch.
    lab[..., 0] = soft_clip_lightness(lightness)
    out = image.copy()
    out[box] = cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    return out


SIDE_DETAIL_SIGMA = 0.02  # the log-lightness is smoothed at this fraction of the face's width before each pixel is
# compared with its mirrored partner: pores and a few pixels of mesh misregistration are not lighting
MAX_SIDE_RATIO = 2.0  # the side light's correction stays within [1 / MAX_SIDE_RATIO, MAX_SIDE_RATIO]
LOG_FLOOR = 8.0  # OpenCV-Lab lightness below this is taken as this in the log (no blow-up in a black shadow)


def side_light(image: np.ndarray, points: np.ndarray, triangles: np.ndarray, mirror: np.ndarray,
               skin: np.ndarray) -> tuple[np.ndarray, float]:
    """The part of the face's log-shading that differs between mirrored points, and its strength.

    The skin's albedo is taken as left/right symmetric (each point and its mirrored partner, `mirror`, share
    it), so half the log-lightness difference between a pixel and its partner is the lighting's odd part,
    which a side light makes and the face's own features (eye sockets, the nose's shape, a darker forehead)
    do not. It is fitted, as a function of the normals at both points (second-order spherical harmonics on
    the photo's own mesh), on the skin seen on both sides; what is returned is that smooth, geometry-explained
    field (h, w) over the raster's box, in log units, to be subtracted, and its spread over the skin (the
    standard deviation: 0 for an evenly lit face).
    """
    raster = rasterize(points, triangles, image.shape[:2])
    h, w = raster.shape
    box = (slice(raster.y0, raster.y0 + h), slice(raster.x0, raster.x0 + w))
    covered = raster.coverage
    lightness = cv2.cvtColor(image[box], cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    own_skin = (skin[box] > 0) & covered
    log_l = masked_blur(np.log(np.maximum(lightness, LOG_FLOOR)), own_skin.astype(np.float32),
                        max(SIDE_DETAIL_SIGMA * w, 1.0))
    local = points - (raster.x0, raster.y0, 0)
    partner = local[mirror]
    mirrored_l = warp_texture(log_l, partner, raster, triangles)
    mirrored_skin = warp_texture(own_skin.astype(np.uint8) * 255, partner, raster, triangles,
                                 border=cv2.BORDER_CONSTANT) > 127
    region = own_skin & mirrored_skin
    normals = vertex_normals(points, triangles) * np.array([1.0, -1.0, -1.0], dtype=np.float32)
    own_n = raster.interpolate(normals, triangles, fill=0.0)
    partner_n = raster.interpolate(normals[mirror], triangles, fill=0.0)
    own_n /= np.maximum(np.linalg.norm(own_n, axis=2, keepdims=True), 1e-6)
    partner_n /= np.maximum(np.linalg.norm(partner_n, axis=2, keepdims=True), 1e-6)
    design = (sh_basis(own_n) - sh_basis(partner_n))[..., 1:]  # the constant cancels
    coefficients = fit_lighting(log_l - mirrored_l, design, region, robust=True)
    if coefficients is None:
        return np.zeros((h, w), np.float32), 0.0
    odd = 0.5 * (design @ coefficients).astype(np.float32)
    # No extrapolation (as in `delight`): normals the fit never saw (the outline, the nose's underside) take
    # the nearest value it did see.
    low, high = np.percentile(odd[region], [1.0, 99.0])
    odd = np.clip(odd, max(low, -np.log(MAX_SIDE_RATIO)), min(high, np.log(MAX_SIDE_RATIO)))
    odd = masked_blur(odd, covered.astype(np.float32), max(RATIO_SIGMA * w, 1.0)) * covered
    return odd, float(np.std(odd[region]))


def divide_side_light(image: np.ndarray, points: np.ndarray, triangles: np.ndarray, odd: np.ndarray) -> np.ndarray:
    """`image` (RGB uint8) with a side light's odd shading (`side_light`'s field over the mesh's box) divided
    out of the face's Lab lightness, feathered to nothing at the mesh's outline. Each mirrored pair of points
    meets at their geometric mean, so the face's overall lightness and its colour are kept."""
    raster = rasterize(points, triangles, image.shape[:2])
    h, w = raster.shape
    box = (slice(raster.y0, raster.y0 + h), slice(raster.x0, raster.x0 + w))
    lab = cv2.cvtColor(image[box], cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= np.exp(-odd * _feather(raster.coverage.astype(np.float32), w))
    out = image.copy()
    out[box] = cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    return out
