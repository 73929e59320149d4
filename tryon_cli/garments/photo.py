"""A garment from its flat photo: segmented from the plain background and landmarked.

Landmarks (image-left first): shoulders, hem corners, sleeve ends, neck and hem centre for tops and
dresses; waistband and hem corners for bottoms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError
from ..masks.shapes import bounding_box, fill_holes
from .neckline import neck_opening


@dataclass(frozen=True)
class GarmentModel:
    """A segmented garment photo and its landmarks (name -> (x, y) in the photo). `channels` (optional,
    uint8) is backdrop the mask holds between parts of a top (see `_backdrop_channels`): the photo to warp
    carries the garment's own colours across it (`continue_across`)."""

    image: np.ndarray
    mask: np.ndarray
    landmarks: dict[str, np.ndarray]
    category: str
    channels: np.ndarray | None = field(default=None, repr=False, compare=False)
    bled: np.ndarray = field(init=False, repr=False, compare=False)  # the photo to warp: see bleed_edges
    # a top's neck opening (its inner back, never worn on the chest): see neckline.neck_opening
    opening: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        bled = bleed_edges(self.image, self.mask)
        if self.channels is not None and self.channels.any():
            bled = continue_across(bled, self.mask, self.channels)
        object.__setattr__(self, "bled", bled)
        opening = np.zeros(self.mask.shape, np.uint8)
        if self.category != "lower" and "shoulder_left" in self.landmarks:
            opening = neck_opening(self.image, self.mask, (self.landmarks["shoulder_left"],
                                                           self.landmarks["shoulder_right"]))
        object.__setattr__(self, "opening", opening)


EDGE_BAND = 2  # px of the mask's rim whose colour is taken from inside the garment ...
EDGE_BLEED_SIGMA = 3.0  # ... (normalised blur of the garment's inner colours at this scale)
SHADOW_RIM = 0.012  # share of the photo's long side inside the mask's outline where backdrop-like pixels ...
SHADOW_RIM_CHROMA = 5.0  # ... (8-bit Lab a, b this near the backdrop's, lightness at least SHADOW_RIM_LIGHTNESS
SHADOW_RIM_LIGHTNESS = 0.8  # of the backdrop's: its soft drop shadow) are rim too
SHADOW_RIM_SHARE = 0.75  # ... where they are at least this share of the outline's band around them
FAR_BLEED_SIGMA = 8.0  # the colour of rim pixels too far in for EDGE_BLEED_SIGMA's blur comes from this one


def shadow_rim(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The mask's pixels near its outline that are the backdrop or its drop shadow (the backdrop's chroma,
    a little darker): the segmentation's outline, upscaled from its working size, overshoots the garment,
    and a shadow along one side is taken in (a pink trouser leg was worn with a light grey strip along it)."""
    garment = (mask > 0).astype(np.uint8)
    reach = max(int(round(SHADOW_RIM * max(mask.shape))), 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)
    far = cv2.dilate(garment, kernel) == 0
    if far.sum() < 100:
        return np.zeros(mask.shape, bool)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    backdrop = np.median(lab[far], axis=0)
    near_outline = (garment > 0) & (cv2.erode(garment, kernel) == 0)
    chroma = np.linalg.norm(lab[..., 1:] - backdrop[1:], axis=2)
    rim = near_outline & (chroma < SHADOW_RIM_CHROMA) & (lab[..., 0] >= SHADOW_RIM_LIGHTNESS * backdrop[0])
    # a shadow runs on along the outline; the white stripes of a striped top reach it only every other
    # stripe, and are the garment's (taken for rim, the top was worn with a dark outline)
    # (measured on the outline itself, then what joins it inside)
    outline = (garment > 0) & (cv2.erode(garment, np.ones((3, 3), np.uint8), iterations=2) == 0)
    sigma = 2.0 * reach
    share = cv2.GaussianBlur((rim & outline).astype(np.float32), (0, 0), sigma) \
        / np.maximum(cv2.GaussianBlur(outline.astype(np.float32), (0, 0), sigma), 1e-4)
    count, parts = cv2.connectedComponents(rim.astype(np.uint8), connectivity=8)
    seeded = np.unique(parts[rim & outline & (share >= SHADOW_RIM_SHARE)])
    return np.isin(parts, seeded[seeded > 0])


def _inner_colour(image: np.ndarray, inner: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The blurred weight of `inner` at `sigma`, and the colours of `inner`'s pixels spread by the same
    blur over every pixel (a normalised convolution)."""
    weight = cv2.GaussianBlur(inner.astype(np.float32), (0, 0), sigma)
    spread = cv2.GaussianBlur(image.astype(np.float32) * inner[..., None], (0, 0), sigma)
    return weight, spread / np.maximum(weight, 1e-4)[..., None]


def bleed_edges(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The photo with the garment's rim (and any backdrop or shadow the mask took in along its outline: see
    `shadow_rim`) and the background just around it replaced by the garment's own colours from further
    in: a warp interpolates across the mask's edge, and the photo's backdrop (white) or a rim pixel mixed
    with it would otherwise draw a light line around the worn garment."""
    solid = ((mask > 0) & ~shadow_rim(image, mask)).astype(np.uint8)
    inner = cv2.erode(solid, np.ones((3, 3), np.uint8), iterations=EDGE_BAND)
    if not inner.any():
        return image
    # the near blur's colour wherever it reaches, the far one's beyond
    far_weight, colour = _inner_colour(image, inner, FAR_BLEED_SIGMA)
    near_weight, near = _inner_colour(image, inner, EDGE_BLEED_SIGMA)
    colour = np.where((near_weight > 1e-3)[..., None], near, colour)
    replace = (inner == 0) & ((far_weight > 1e-3) | (mask > 0))
    bled = image.copy()
    bled[replace] = np.clip(colour[replace] + 0.5, 0, 255).astype(np.uint8)
    return bled


def continue_across(image: np.ndarray, mask: np.ndarray, channels: np.ndarray) -> np.ndarray:
    """The photo with each row's `channels` pixels taken from the garment on their inner side (towards
    the garment's centre column), mirrored about the channel's edge: a flat top's torso runs on under its
    sleeve, so the side a channel shows is more of the torso (its stripes run straight across)."""
    solid = (mask > 0) & (channels == 0)
    xs = np.nonzero(solid.any(axis=0))[0]
    if not len(xs):
        return image
    height, width = mask.shape
    columns = np.broadcast_to(np.arange(width), (height, width))
    # per pixel, the nearest solid garment column at or left of it, and at or right of it
    left = np.maximum.accumulate(np.where(solid, columns, -1), axis=1)
    right = np.flip(np.minimum.accumulate(np.flip(np.where(solid, columns, width), axis=1), axis=1), axis=1)
    ys, cols = np.nonzero(channels)
    inward = cols < (xs[0] + xs[-1]) / 2.0  # left of the centre: the torso lies to the right
    edge = np.where(inward, right[ys, cols], left[ys, cols])
    found = (edge >= 0) & (edge < width)
    ys, cols, edge = ys[found], cols[found], edge[found]
    source = 2 * edge - cols  # mirrored about the edge
    framed = (source >= 0) & (source < width)
    mirrored = framed.copy()
    mirrored[framed] = solid[ys[framed], source[framed]]
    source = np.where(mirrored, source, edge)
    result = image.copy()
    result[ys, cols] = image[ys, source]
    return result


GARMENT_WORKING_SIZE = 512  # long side (px) at which a garment photo is segmented
BORDER_BAND = 0.02  # fraction of the short side: the band along the edges that models the background
MIN_COLOUR_DISTANCE = 1.5  # Lab units: a pixel this far from the background model is surely not background
NOISE_TO_THRESHOLD = 5.0  # ... or this many times the background's own noise (MAD), whichever is larger
SHADOW_CHROMA = 2.0  # a shadow keeps the background's chroma (a, b within this) ...
SHADOW_DARKENING = (0.45, 0.97)  # ... and scales its lightness by a factor in this range
EDGE_THRESHOLDS = (8, 24)  # Canny on the smoothed lightness: low, so white-on-white outlines register
EDGE_GAIN_NOISE = 2.0  # lightness gain for edges: this over the backdrop's noise (L units) ...
MAX_EDGE_GAIN = 10.0  # ... at most this (8-bit levels per L unit; 2.55 is plain)
SURE_DISTANCE_FACTOR = 4.0  # ... this many thresholds away: surely garment, whatever GrabCut thinks
CLOSE_SIZE = 15  # px at the working size: bridges gaps in a faint outline before holes are filled
GRABCUT_BAND = 0.015  # fraction of the long side: GrabCut decides the outline within this band
CHANNEL_COLOUR_SHARE = 0.65  # backdrop channels are looked for on a garment at least this share unlike its backdrop ...
CHANNEL_RADIUS = 0.03  # ... each at most this wide (half width, share of the working long side)
MIN_GARMENT_FRACTION = 0.03  # a garment covering less of its photo than this is not found
MAX_GARMENT_FRACTION = 0.9  # ... more than this: the "garment" is the whole photo


def _background_model(lab: np.ndarray, band: int) -> tuple[np.ndarray, float]:
    """A smooth background (a quadratic surface per Lab channel fitted to the border band, outliers
    dropped) and its noise: a studio backdrop is rarely flat (vignetting, a grey sweep)."""
    height, width = lab.shape[:2]
    border = np.zeros((height, width), bool)
    border[:band], border[-band:], border[:, :band], border[:, -band:] = True, True, True, True
    ys, xs = np.nonzero(border)
    u, v = xs / width - 0.5, ys / height - 0.5
    design = np.stack([np.ones_like(u), u, v, u * u, v * v, u * v], axis=1)
    values = lab[ys, xs]
    keep = np.ones(len(values), bool)
    for _ in range(3):  # refit without the border pixels the garment itself reaches (a cropped hem)
        coef, *_ = np.linalg.lstsq(design[keep], values[keep], rcond=None)
        residual = np.linalg.norm(values - design @ coef, axis=1)
        mad = float(np.median(residual[keep])) + 1e-3
        keep = residual < max(4.0 * mad, 3.0)
    gy, gx = np.mgrid[0:height, 0:width]
    u, v = gx / width - 0.5, gy / height - 0.5
    full = np.stack([np.ones_like(u), u, v, u * u, v * v, u * v], axis=-1) @ coef
    return full.astype(np.float32), mad


def _main_parts(mask: np.ndarray, share: float = 0.15) -> np.ndarray:
    """The largest connected part and any other part at least `share` of its size (a pair of shoes, a
    detached strap are rare, but two legs joined only by a thin crotch seam are not)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count < 2:
        return np.zeros_like(mask)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = 1 + np.nonzero(areas >= share * areas.max())[0]
    return np.where(np.isin(labels, keep), 255, 0).astype(np.uint8)


def _backdrop_channels(cues: np.ndarray, mask: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Backdrop the closing and hole filling sealed into the mask: a narrow channel of pure backdrop (no
    colour cue, no edge) reaching the photo's border between two parts of the garment (a sleeve hanging
    against the torso, the legs of trousers, an armpit notch). Worn, it was a white strip on the body.
    Only on a garment that mostly stands out from its backdrop: on white on white, garment and channel
    look alike (a white sleeve whose faint outline leaks), and the filled mask is kept."""
    inside = mask > 0
    if not inside.any() or float(colour[inside].mean()) < CHANNEL_COLOUR_SHARE:
        return np.zeros_like(mask)
    free = np.where(cues == 0, 255, 0).astype(np.uint8)
    padded = cv2.copyMakeBorder(free, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=255)
    _, labels = cv2.connectedComponents(padded, connectivity=4)
    reached = (labels == labels[0, 0])[1:-1, 1:-1]  # backdrop connected to the photo's border
    count, parts = cv2.connectedComponents((reached & inside).astype(np.uint8), connectivity=8)
    radius = CHANNEL_RADIUS * max(mask.shape)
    channels = np.zeros_like(mask)
    for label in range(1, count):
        part = np.where(parts == label, 255, 0).astype(np.uint8)
        half_width = cv2.distanceTransform(cv2.copyMakeBorder(part, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0),
                                           cv2.DIST_L2, 3).max()
        if half_width <= radius:
            channels |= part
    # (grown over the outline's edge cues beside it: the rim there is the backdrop's light blur too)
    return cv2.dilate(channels, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))) & mask


def segment_garment(image: np.ndarray) -> np.ndarray:
    """The garment on a plain (light, possibly white) background, as uint8 0/255 at the photo's size
    (see `segment_with_channels`)."""
    return segment_with_channels(image)[0]


def segment_with_channels(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The garment on a plain (light, possibly white) background, as uint8 0/255 at the photo's size.

    Three cues, because white on white defeats colour alone: the distance to a background model fitted
    to the border (soft shadows, which keep the backdrop's chroma, do not count), the outline's edges
    (a white garment is still outlined by its seams and shading), and GrabCut deciding the last few
    pixels of the outline. Enclosed holes are filled and stray specks dropped. Second, the backdrop
    channels the mask holds (`_backdrop_channels`), uint8 0/255 at the photo's size, inside the mask."""
    height, width = image.shape[:2]
    scale = min(1.0, GARMENT_WORKING_SIZE / max(height, width))
    small = cv2.resize(image, (max(int(round(width * scale)), 16), max(int(round(height * scale)), 16)),
                       interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    blurred = cv2.GaussianBlur(small, (5, 5), 0)
    lab = cv2.cvtColor(blurred.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    band = max(int(BORDER_BAND * min(sh, sw)), 2)
    background, noise = _background_model(lab, band)
    difference = lab - background
    distance = np.linalg.norm(difference, axis=2)
    chroma = np.linalg.norm(difference[..., 1:], axis=2)
    ratio = lab[..., 0] / np.maximum(background[..., 0], 1.0)
    shadow = (chroma < SHADOW_CHROMA) & (ratio > SHADOW_DARKENING[0]) & (ratio < SHADOW_DARKENING[1])
    threshold = max(NOISE_TO_THRESHOLD * noise, MIN_COLOUR_DISTANCE)
    colour = (distance > threshold) & ~shadow
    # lightness stretched about the backdrop's: on a clean white backdrop a white garment's outline is a
    # step of two or three L units, which plain 8-bit lightness rounds into noise
    gain = float(np.clip(EDGE_GAIN_NOISE / max(noise, 1e-3), 2.55, MAX_EDGE_GAIN))
    lightness = np.clip(255.0 - (background[..., 0] - lab[..., 0]) * gain, 0, 255).astype(np.uint8)
    edges = cv2.Canny(lightness, *EDGE_THRESHOLDS) | cv2.Canny(np.clip(blurred.max(axis=2), 0, 255).astype(np.uint8),
                                                                *EDGE_THRESHOLDS)
    edges[:band], edges[-band:], edges[:, :band], edges[:, -band:] = 0, 0, 0, 0
    cues = np.where(colour, 255, 0).astype(np.uint8) | cv2.dilate(edges, np.ones((3, 3), np.uint8))
    rough = cv2.morphologyEx(cues, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (CLOSE_SIZE, CLOSE_SIZE)))
    rough = _main_parts(fill_holes(rough))
    rough = cv2.morphologyEx(rough, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    if not rough.any():
        raise InputError("no garment found on the photo's background")
    # GrabCut settles the outline within a band: inside surely garment, far outside surely background
    reach = max(int(GRABCUT_BAND * max(sh, sw)), 2)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    labels = np.full((sh, sw), cv2.GC_BGD, np.uint8)
    labels[cv2.dilate(rough, kernel) > 0] = cv2.GC_PR_BGD
    labels[rough > 0] = cv2.GC_PR_FGD
    labels[cv2.erode(rough, kernel) > 0] = cv2.GC_FGD
    strong = cv2.erode(np.where(distance > SURE_DISTANCE_FACTOR * threshold, 255, 0).astype(np.uint8), np.ones((3, 3), np.uint8))
    labels[(strong > 0) & (rough > 0)] = cv2.GC_FGD  # clearly not backdrop (the blur's fringe eroded away)
    cv2.setRNGSeed(0)  # GrabCut's k-means start: same photo, same mask
    try:
        cv2.grabCut(small, labels, None, np.zeros((1, 65)), np.zeros((1, 65)), 3, cv2.GC_INIT_WITH_MASK)
        refined = np.where((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
    except cv2.error:
        refined = rough
    refined = _main_parts(fill_holes(refined))
    channels = _backdrop_channels(cues, refined, colour)
    # back to full size with a smooth outline: the upscaled mask blurred, then cut at one half
    soft = cv2.resize(refined.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    soft = cv2.GaussianBlur(soft, (0, 0), max(0.5 / scale, 0.5))
    mask = np.where(soft >= 127.5, 255, 0).astype(np.uint8)
    if not channels.any():
        return mask, np.zeros_like(mask)
    soft = cv2.resize(channels.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    soft = cv2.GaussianBlur(soft, (0, 0), max(0.5 / scale, 0.5))
    return mask, np.where(soft >= 127.5, 255, 0).astype(np.uint8) & mask


def _segment_for(image: np.ndarray, category: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The segmented mask and channels for a category: backdrop channels are cut from a bottom's mask
    (the gap between its legs) and kept for a top or dress, whose own colours are carried over them (its
    torso runs on under the sleeve; see `continue_across`)."""
    mask, channels = segment_with_channels(image)
    if category == "lower":
        return _main_parts(mask & ~channels), None
    return mask, channels


def _row_extent(mask: np.ndarray, row: int) -> tuple[int, int] | None:
    xs = np.nonzero(mask[int(np.clip(row, 0, mask.shape[0] - 1))])[0]
    return (int(xs.min()), int(xs.max())) if len(xs) else None


def garment_landmarks(mask: np.ndarray, category: str) -> dict[str, np.ndarray]:
    """Landmarks from the garment's silhouette."""
    box = bounding_box(mask)
    if box is None:
        raise InputError("the garment mask is empty")
    x0, y0, x1, y1 = box
    height = y1 - y0
    top_row, hem_row = y0 + int(0.04 * height), y1 - 1 - int(0.03 * height)
    top, hem = _row_extent(mask, top_row), _row_extent(mask, hem_row)
    if top is None or hem is None:
        raise InputError("cannot find the garment's outline")
    points = {"hem_left": (hem[0], hem_row), "hem_right": (hem[1], hem_row),
              "hem_centre": ((hem[0] + hem[1]) / 2, hem_row)}
    if category == "lower":
        points.update({"waist_left": (top[0], top_row), "waist_right": (top[1], top_row),
                       "waist_centre": ((top[0] + top[1]) / 2, top_row)})
    else:
        shoulder_row = y0 + int(0.1 * height)
        shoulder = _row_extent(mask, shoulder_row) or top
        ys, xs = np.nonzero(mask[: y0 + int(0.6 * height)])
        left, right = int(np.argmin(xs)), int(np.argmax(xs))
        points.update({"shoulder_left": (shoulder[0], shoulder_row), "shoulder_right": (shoulder[1], shoulder_row),
                       "sleeve_left": (xs[left], ys[left]), "sleeve_right": (xs[right], ys[right]),
                       "neck": ((top[0] + top[1]) / 2, y0)})
    return {k: np.asarray(v, dtype=np.float64) for k, v in points.items()}


def prepare_garment(image: np.ndarray, category: str, mask: np.ndarray | None = None) -> GarmentModel:
    """Segment (unless a mask is given) and landmark a flat garment photo."""
    channels = None
    if mask is None:
        mask, channels = _segment_for(image, category)
    return GarmentModel(image=image, mask=mask, landmarks=garment_landmarks(mask, category), category=category,
                        channels=channels)


PRINT_RING = 0.5  # a face counts as printed on the garment when garment surrounds it this far (face sizes) ...
PRINT_RING_COVER = 0.85  # ... on at least this share of the ring; a worn head has backdrop above it


def _face_is_printed(mask: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    """A face in the middle of the garment (a graphic tee) rather than a head above a body."""
    x0, y0, x1, y1 = box
    pad = PRINT_RING * max(x1 - x0, y1 - y0)
    height, width = mask.shape
    ox0, oy0 = int(max(x0 - pad, 0)), int(max(y0 - pad, 0))
    ox1, oy1 = int(min(x1 + pad, width)), int(min(y1 + pad, height))
    ring = np.zeros(mask.shape, bool)
    ring[oy0:oy1, ox0:ox1] = True
    ring[int(max(y0, 0)) : int(y1), int(max(x0, 0)) : int(x1)] = False
    touches_edge = ox0 == 0 or oy0 == 0 or ox1 == width or oy1 == height
    return bool(ring.any()) and not touches_edge and float((mask[ring] > 0).mean()) >= PRINT_RING_COVER


def check_garment_photo(image: np.ndarray, mask: np.ndarray, faces: list[tuple[float, float, float, float]]) -> None:
    """InputError when the photo shows a person (a face not printed on the garment) or the segmentation
    is implausible (tiny, or the whole photo)."""
    for box in faces:
        if not _face_is_printed(mask, box):
            raise InputError("it shows a person (a face was found), not a flat garment photo")
    share = float((mask > 0).mean())
    if share < MIN_GARMENT_FRACTION:
        raise InputError(f"no garment found (the segmented garment covers {share:.1%} of the photo)")
    if share > MAX_GARMENT_FRACTION:
        raise InputError(f"no plain background around the garment (the segmentation covers {share:.0%} of the photo)")


def dataset_mask_path(path: Path) -> Path | None:
    """The garment's own mask shipped with a dataset: VITON-HD's `cloth-mask/NAME` beside `cloth/NAME`."""
    if path.parent.name != "cloth":
        return None
    for candidate in (path.parent.parent / "cloth-mask" / path.name,
                      path.parent.parent / "cloth-mask" / (path.stem + ".png")):
        if candidate.is_file():
            return candidate
    return None


def load_garment(path: Path, category: str, mask_path: Path | None = None, faces=None) -> GarmentModel:
    """Read, check and prepare a garment photo; every InputError names the file.

    The mask is `mask_path`, else the dataset's own (VITON-HD `cloth-mask/`), else segmented. `faces`
    is a `FaceMeshAnalyzer` for still images (its detector is the one that does not mistake a belt buckle
    for a face); one is made for the call when None."""
    from ..io.media import read_image, read_mask

    image = read_image(path)
    mask_path = mask_path or dataset_mask_path(path)
    try:
        mask = None
        if mask_path is not None:
            mask = read_mask(mask_path)
            if mask.shape != image.shape[:2]:
                raise InputError(f"the mask {mask_path} is {mask.shape[1]}x{mask.shape[0]}, the photo "
                                 f"{image.shape[1]}x{image.shape[0]}")
        channels = None
        if mask is None:
            mask, channels = _segment_for(image, category)
        if faces is None:
            from ..analysis.face import FaceMeshAnalyzer

            with FaceMeshAnalyzer(max_faces=2, tracking=False) as detector:
                boxes = [face.bbox for face in detector.detect(image)]
        else:
            boxes = [face.bbox for face in faces.detect(image)]
        check_garment_photo(image, mask, boxes)
        return GarmentModel(image=image, mask=mask, landmarks=garment_landmarks(mask, category), category=category,
                            channels=channels)
    except InputError as error:
        raise InputError(f"{path}: {error}") from None
