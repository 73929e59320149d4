"""The light on the person's own skin, read from the skin the photo shows (face, neck, hands, a bare arm),
so filled skin is shaded as that skin is: its falloff towards the silhouette and the side the light comes from.

Each visible piece of skin is taken as a rounded body part: at distance d inside its outline, of local
half-width R, its normal leans outwards (away from the middle line, in the image plane) by 1 - d/R and faces
the camera by sqrt(1 - (1 - d/R)^2) (`part_normals`). Its lightness relative to its own median is fitted, by
least squares over all pieces together, as 1 + side * n_x + falloff * (n_z - 1) (`fit_skin_light`): `side`
is the light's left-right lean (positive: lit from the image's right), `falloff` how much darker the skin
turns at the silhouette than where it faces the camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

LIGHT_WORKING_SIZE = 256.0  # long side (px) at which the visible skin's light is measured (it varies slowly)
MIN_PIECE_AREA = 0.0004  # a skin piece under this share of the working size squared is too small to read light
MIN_LIGHT_SAMPLES = 200  # working-size skin pixels needed before a fitted light is trusted
LIGHTNESS_CLIP = 0.3  # skin pixels this far from their piece's median lightness (relative) are not read (dark hair, a glint)
SIDE_RANGE = 0.25  # the fitted left-right lean kept within +-this (half of a hard side light's contrast)
FALLOFF_RANGE = (0.2, 0.3)  # the fitted falloff kept within this: never flatter than the fixed front light of
# before (0.2; flat, evenly lit photos fitted 0.1-0.12), and at most 0.3 (a studio-lit photo fitted 0.34; on
# full_body_dance the fit jumped 0.2-0.35 between frames, a flicker of the filled skin's edges)
DEFAULT_FALLOFF = 0.2  # falloff without enough visible skin: a soft front light


@dataclass(frozen=True)
class SkinLight:
    """The light on the person's skin: `side` (left-right lean of the lightness, + towards the image's
    right) and `falloff` (darkening at the silhouette), both as shares of the skin's median lightness."""

    side: float = 0.0
    falloff: float = DEFAULT_FALLOFF

    def shade(self, normals: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Lightness factor (float32) for skin of these normals (n_x, n_z): 1 where it faces the camera."""
        n_x, n_z = normals
        return (1.0 + self.side * n_x + self.falloff * (n_z - 1.0)).astype(np.float32)


def part_normals(part: np.ndarray, distance: np.ndarray, radius: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The normal's horizontal component n_x and its camera-facing component n_z (float32) of a rounded
    body part (`part`, uint8 0/1; `distance`, its distance transform, `cv2.DIST_L2` with a 3x3 mask, which
    the callers already made) whose local half-width is `radius` (px): at depth t = d / R inside its
    outline the normal leans outwards (against the distance's gradient) by 1 - t and faces the camera by
    sqrt(1 - (1 - t)^2). 0 and 1 (facing the camera) off the part."""
    depth = np.clip(distance / np.maximum(radius, 1e-3), 0.0, 1.0)
    # (the distance's gradient points inwards; its direction, smoothed, says which side of the middle line)
    smooth = cv2.GaussianBlur(distance, (0, 0), 1.0)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    norm = np.sqrt(gx * gx + gy * gy)
    lean = 1.0 - depth
    n_x = np.where((part > 0) & (norm > 1e-3), -lean * gx / np.maximum(norm, 1e-3), 0.0)
    n_z = np.where(part > 0, np.sqrt(1.0 - lean * lean), 1.0)
    return n_x.astype(np.float32), n_z.astype(np.float32)


def fit_skin_light(frame: np.ndarray, seen: np.ndarray | None) -> SkinLight:
    """The light on the visible skin `seen` (bool, frame-sized) of the RGB `frame`: its left-right lean and
    falloff fitted on each piece's normals (`part_normals`, the piece with its holes (eyes, lips) closed as
    its shape), clipped to SIDE_RANGE and FALLOFF_RANGE; the default front light when too little shows."""
    if seen is None or not seen.any():
        return SkinLight()
    h, w = seen.shape
    scale = min(1.0, LIGHT_WORKING_SIZE / max(h, w))
    size = (max(int(round(w * scale)), 1), max(int(round(h * scale)), 1))
    skin = cv2.resize(seen.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    grey = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA).astype(np.float32)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(skin, connectivity=8)
    rows, targets = [], []
    for index in range(1, count):
        if stats[index, cv2.CC_STAT_AREA] < MIN_PIECE_AREA * max(size) ** 2:
            continue
        piece = (labels == index).astype(np.uint8)
        shape = _closed(piece)
        distance = cv2.distanceTransform(shape, cv2.DIST_L2, 3)
        n_x, n_z = part_normals(shape, distance, np.full(shape.shape, float(distance.max()), np.float32))
        values = grey[piece > 0]
        relative = values / max(float(np.median(values)), 1.0) - 1.0
        # (beyond LIGHTNESS_CLIP is no shading but something else in the skin range: dark hair, a glint)
        on = piece > 0
        on[on] = np.abs(relative) < LIGHTNESS_CLIP
        relative = relative[np.abs(relative) < LIGHTNESS_CLIP]
        if len(relative) < MIN_PIECE_AREA * max(size) ** 2:
            continue
        # (each piece has its own level: its median lightness is its constant term)
        rows.append(np.stack([n_x[on], n_z[on] - float(np.mean(n_z[on]))], axis=1))
        targets.append(relative - float(np.mean(relative)))
    if not rows or sum(len(t) for t in targets) < MIN_LIGHT_SAMPLES:
        return SkinLight()
    (side, falloff), *_ = np.linalg.lstsq(np.concatenate(rows), np.concatenate(targets), rcond=None)
    return SkinLight(float(np.clip(side, -SIDE_RANGE, SIDE_RANGE)), float(np.clip(falloff, *FALLOFF_RANGE)))


def _closed(piece: np.ndarray) -> np.ndarray:
    """`piece` (uint8 0/1) with its holes filled: the outer contour drawn solid."""
    contours, _ = cv2.findContours(piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    solid = np.zeros_like(piece)
    cv2.drawContours(solid, contours, -1, 1, thickness=cv2.FILLED)
    return solid
