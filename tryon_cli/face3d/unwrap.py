"""A photo's face unwrapped onto a frontal, neutral layout, its hidden side filled from the mirrored side.

A three-quarter photo sees one cheek edge-on or not at all; warping that texture straight onto a
frontal target stretches a few pixels over half the face. Unwrapping renders the photo's triangles
onto the frontal neutral shape (a canonical image) and, where a triangle was back-facing or strongly
foreshortened in the photo, or its pixels are masked out (hair, a hand, a shut eye of a wink), takes
it from its left/right partner instead (the mirrored side, matched in low-frequency brightness). The
renderer then warps this frontal texture like any photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from . import landmarks as lm
from .raster import rasterize, warp_texture

VISIBLE_FROM, VISIBLE_TO = 0.25, 0.55  # projected-over-true area: below FROM mirrored, above TO the photo's own
CANONICAL_MARGIN = 0.08  # of the face width, around the canonical layout


@dataclass(frozen=True)
class Unwrapped:
    """A frontal texture, its mask (0/255) and the canonical points the renderer samples it at."""

    texture: np.ndarray
    mask: np.ndarray
    points: np.ndarray
    own_weight: np.ndarray  # (h, w) float32: 1 where the photo's own pixels were used, 0 where mirrored


def canonical_points(shape: np.ndarray, face_width: float) -> tuple[np.ndarray, tuple[int, int]]:
    """A frontal shape's points laid out in a canonical image `face_width` pixels wide, and that image's size."""
    xy = np.asarray(shape, dtype=np.float64)
    scale = face_width / max(float(np.ptp(xy[:, 0])), 1e-6)
    margin = CANONICAL_MARGIN * face_width
    points = (xy - xy.min(axis=0)) * scale
    points[:, :2] += margin
    size = (int(np.ceil(points[:, 1].max() + margin)) + 1, int(np.ceil(points[:, 0].max() + margin)) + 1)
    return points.astype(np.float32), size


def triangle_visibility(photo_points: np.ndarray, frontal_shape: np.ndarray, triangles: np.ndarray,
                        scale: float) -> np.ndarray:
    """Per triangle: its projected area in the photo over its true area (about the cosine to the camera).

    Negative for triangles that face away (their winding flips against the frontal layout).
    """
    def signed_area(points: np.ndarray) -> np.ndarray:
        a, b, c = (points[triangles[:, k], :2].astype(np.float64) for k in range(3))
        return 0.5 * ((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])

    s = np.asarray(frontal_shape, dtype=np.float64)
    true_area = 0.5 * np.linalg.norm(np.cross(s[triangles[:, 1]] - s[triangles[:, 0]], s[triangles[:, 2]] - s[triangles[:, 0]]), axis=1)
    orientation = np.sign(signed_area(s))
    return (orientation * signed_area(photo_points) / np.maximum(scale**2 * true_area, 1e-9)).astype(np.float32)


def closed_eye_points(shape: np.ndarray) -> np.ndarray:
    """The eye points of an eye that is shut while the other is open (a wink): fill them from the open eye.

    `shape` is pose-normalised (frontal), so a turned head's foreshortened eye does not look shut.
    """
    ratios = []
    for (upper, lower), (a, b) in ((lm.RIGHT_EYE_LIDS, lm.RIGHT_EYE_CORNERS), (lm.LEFT_EYE_LIDS, lm.LEFT_EYE_CORNERS)):
        gap = np.linalg.norm(shape[upper, :2] - shape[lower, :2])
        ratios.append(gap / max(np.linalg.norm(shape[a, :2] - shape[b, :2]), 1e-6))
    right, left = ratios
    if right < 0.5 * left:
        return np.concatenate([lm.RIGHT_EYE, lm.RIGHT_IRIS])
    if left < 0.5 * right:
        return np.concatenate([lm.LEFT_EYE, lm.LEFT_IRIS])
    return np.zeros(0, dtype=np.int64)


def mirrored_shape(shape: np.ndarray, mirror: np.ndarray) -> np.ndarray:
    """The shape reflected about its midline (x flipped, points renamed to their partners)."""
    s = np.asarray(shape, dtype=np.float32)
    midline = float(np.median(s[mirror == np.arange(len(s)), 0])) if np.any(mirror == np.arange(len(s))) else float(s[:, 0].mean())
    out = s[mirror].copy()
    out[:, 0] = 2 * midline - out[:, 0]
    return out


def _low_pass(image: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Weighted Gaussian mean (normalised convolution): reaches into where the weight is 0."""
    w = cv2.GaussianBlur(weight.astype(np.float32), (0, 0), sigma)
    v = cv2.GaussianBlur(image.astype(np.float32) * weight[..., None], (0, 0), sigma)
    return v / np.maximum(w, 1e-4)[..., None]


def unwrap(image: np.ndarray, mask: np.ndarray, photo_points: np.ndarray, frontal_shape: np.ndarray,
           triangles: np.ndarray, mirror: np.ndarray, scale: float, face_width: float,
           shut: np.ndarray | None = None) -> Unwrapped:
    """Render the photo's face onto the frontal shape; fill hidden or shut parts from the mirrored side.

    `scale` is the photo's pixels per unit of `frontal_shape` (its pose's scale); `mask` (0/255, the
    photo's size) marks the pixels that may be used; `mirror` gives each point's left/right partner;
    `shut`: points of an eye shut in the photo while the other is open (a wink), taken from the other.
    """
    points, size = canonical_points(frontal_shape, face_width)
    raster = rasterize(points, triangles, size)
    h, w = raster.shape
    box = (slice(raster.y0, raster.y0 + h), slice(raster.x0, raster.x0 + w))

    def render(source: np.ndarray, at: np.ndarray, border: int) -> np.ndarray:
        out = np.zeros(size + source.shape[2:], dtype=source.dtype)
        out[box] = warp_texture(source, at, raster, triangles, border=border)
        return out

    own = render(image, photo_points, cv2.BORDER_REFLECT).astype(np.float32)
    own_mask = render(mask, photo_points, cv2.BORDER_CONSTANT).astype(np.float32) / 255.0
    mirrored = render(image, photo_points[mirror], cv2.BORDER_REFLECT).astype(np.float32)
    mirrored_mask = render(mask, photo_points[mirror], cv2.BORDER_CONSTANT).astype(np.float32) / 255.0

    visibility = triangle_visibility(photo_points, frontal_shape, triangles, scale)
    if shut is not None and len(shut):
        visibility[np.isin(triangles, shut).any(axis=1)] = -1.0
    # Per-vertex visibility (the worst adjacent triangle), interpolated for a soft seam.
    vertex = np.ones(len(points), dtype=np.float32)
    np.minimum.at(vertex, triangles.ravel(), np.repeat(visibility, 3))
    own_weight = np.clip((vertex - VISIBLE_FROM) / (VISIBLE_TO - VISIBLE_FROM), 0.0, 1.0)
    mirror_weight = own_weight[mirror]
    # A poorly seen point takes its partner only where the partner was seen at least about twice as
    # well (edge-on on both sides, as the face outline is, keeps its own pixels).
    partner = vertex[mirror]
    better = np.clip((vertex / np.maximum(partner, 1e-3) - 0.5) / 0.4, 0.0, 1.0)
    better[partner <= 0] = 1.0
    keep = own_weight + (1.0 - own_weight) * better
    weights = np.zeros(size + (3,), dtype=np.float32)
    weights[..., 0] = 1.0
    weights[box] = raster.interpolate(np.stack([keep, own_weight, mirror_weight], axis=1), triangles, fill=1.0)
    # What a hand or an object hides inside the face is filled from the mirrored side too, where that
    # is clear; hair over the outline is left out (the target shows there), a seam there would show.
    inner = np.zeros(size, dtype=np.uint8)
    inner[box] = np.where(raster.coverage, 255, 0)
    inner = cv2.erode(inner, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(0.25 * face_width) | 1,) * 2)) > 0
    alpha = np.clip(weights[..., 0], 0.0, 1.0) * np.maximum(own_mask, 1.0 - mirrored_mask * inner)

    # Match the mirrored side's low-frequency brightness and colour to the photo's own pixels where both
    # sides were seen (the band around the midline), carried outwards by a normalised blur.
    both = (weights[..., 1] > 0.99) & (weights[..., 2] > 0.99) & (own_mask > 0.5) & (mirrored_mask > 0.5)
    if both.sum() >= 50:
        sigma = max(face_width / 6.0, 2.0)
        gain = _low_pass(own, both.astype(np.float32), sigma) / np.maximum(
            _low_pass(mirrored, both.astype(np.float32), sigma), 1.0)
        mirrored = mirrored * np.clip(gain, 0.5, 2.0)
    # Each side weighs in as far as its pixels are usable: a masked side's pixels (the background in
    # front of a near-profile's lips, hair) would otherwise tint the mix grey where the other side is kept.
    own_part, mirrored_part = alpha * own_mask, (1.0 - alpha) * mirrored_mask
    usable = own_part + mirrored_part
    plain = alpha[..., None] * own + (1.0 - alpha[..., None]) * mirrored
    weighted = (own_part[..., None] * own + mirrored_part[..., None] * mirrored) / np.maximum(usable, 1e-3)[..., None]
    texture = np.where((usable > 1e-3)[..., None], weighted, plain)
    covered = raster.coverage
    usable_full = np.zeros(size, dtype=np.uint8)
    usable_full[box] = np.where(covered & (usable[box] > 0.5), 255, 0)
    return Unwrapped(texture=np.clip(texture, 0, 255).astype(np.uint8), mask=usable_full, points=points,
                     own_weight=alpha)


def mirror_fill(image: np.ndarray, mask: np.ndarray, points: np.ndarray, triangles: np.ndarray,
                mirror: np.ndarray, where: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A photo's masked-out pixels inside its face filled, in place, from the mirrored side where that is usable.

    For a photo used as photographed (facing the camera): a fringe over one brow or a hand on one cheek
    takes the other side's brow or cheek, reflected through the mesh and matched in low-frequency
    brightness and colour, instead of being handed to the target. Only the face's inside is filled (the
    mesh's coverage eroded by a quarter face width, as `unwrap` does), and only inside `where` (0/255, the
    image's size) when given: along the outline the hair is left out and the target shows there. Returns the filled image and its mask (0/255, the filled pixels added).
    """
    face_width = float(np.ptp(points[:, 0]))
    raster = rasterize(points, triangles, image.shape[:2])
    h, w = raster.shape
    box = (slice(raster.y0, raster.y0 + h), slice(raster.x0, raster.x0 + w))
    own = image[box].astype(np.float32)
    own_mask = mask[box] > 127
    mirrored = warp_texture(image, points[mirror], raster, triangles, border=cv2.BORDER_REFLECT).astype(np.float32)
    mirrored_mask = warp_texture(mask, points[mirror], raster, triangles, border=cv2.BORDER_CONSTANT) > 127
    covered = np.where(raster.coverage, 255, 0).astype(np.uint8)
    inner = cv2.erode(covered, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(0.25 * face_width) | 1,) * 2)) > 0
    fill = inner & ~own_mask & mirrored_mask
    if where is not None:
        fill &= where[box] > 0
    if not fill.any():
        return image, mask
    both = raster.coverage & own_mask & mirrored_mask
    if both.sum() >= 50:
        # the mirrored side's shading brought to this side's (a side light would otherwise flip)
        sigma = max(face_width / 6.0, 2.0)
        gain = _low_pass(own, both.astype(np.float32), sigma) / np.maximum(
            _low_pass(mirrored, both.astype(np.float32), sigma), 1.0)
        mirrored = mirrored * np.clip(gain, 0.5, 2.0)
    # The fill reaches a little past the mask's edge (a parser's edge leaves a few hair pixels there) and
    # fades out beyond it, so no hard seam shows.
    seam = max(int(face_width * 0.015), 1)
    grown = (cv2.dilate(fill.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * seam + 1,) * 2)) > 0)
    grown &= inner & mirrored_mask
    if where is not None:
        grown &= where[box] > 0
    alpha = np.maximum(cv2.GaussianBlur(grown.astype(np.float32), (0, 0), seam / 2.0) * grown, fill)
    out, out_mask = image.copy(), mask.copy()
    out[box] = np.clip(own + alpha[..., None] * (mirrored - own), 0, 255).astype(np.uint8)
    out_mask[box] = np.where(own_mask | fill, 255, 0).astype(np.uint8)
    return out, out_mask
