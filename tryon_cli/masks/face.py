"""Face-swap masks: (target face U recombined face) minus occluders, and the mouth interior."""

from __future__ import annotations

import cv2
import numpy as np

from ..face3d import landmarks as lm
from .shapes import as_mask, dilate, ellipse_kernel, polygon_mask

# The face parts (parser classes and groups) a swap replaces by default; a subset keeps the rest.
FACE_REGIONS: tuple[str, ...] = ("skin", "brows", "eyes", "nose", "lips", "mouth")


def check_regions(regions: tuple[str, ...]) -> tuple[str, ...]:
    """`regions` validated (ValueError naming the bad one); an empty tuple is refused."""
    if not regions:
        raise ValueError(f"at least one face region is needed (choose from {', '.join(FACE_REGIONS)})")
    for name in regions:
        if name not in FACE_REGIONS:
            raise ValueError(f"unknown face region '{name}' (choose from {', '.join(FACE_REGIONS)})")
    return tuple(regions)


def face_region(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """The face oval of a mesh as a mask."""
    return polygon_mask(shape, points[lm.FACE_OVAL])


def feature_regions(shape: tuple[int, int], points: np.ndarray, grow: int) -> np.ndarray:
    """Eyes, brows, lips and nostrils, grown by `grow` pixels: dark or coloured by nature, never taken for
    occluders.

    Each feature is grown inside its own box (its outline's box plus `grow`), not over the whole crop:
    a pixel's disc lies inside its feature's box, so the union is the same mask, at a fraction of the cost.
    """
    mask = np.zeros(shape, dtype=np.uint8)
    boxes = []
    for polygon in (lm.RIGHT_EYE, lm.LEFT_EYE, lm.OUTER_LIPS):
        cv2.fillPoly(mask, [np.round(points[polygon, :2] * 16).astype(np.int32)], 255, lineType=cv2.LINE_8, shift=4)
        boxes.append(points[polygon, :2])
    for group in (lm.RIGHT_BROW, lm.LEFT_BROW, lm.NOSTRILS):
        hull = cv2.convexHull(np.round(points[group, :2]).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 255)
        boxes.append(hull[:, 0].astype(np.float32))
    if grow <= 0:
        return mask
    grown = mask.copy()
    kernel = ellipse_kernel(grow)
    height, width = shape
    for outline in boxes:
        x0, y0 = np.maximum(np.floor(outline.min(axis=0)).astype(int) - grow - 1, 0)
        x1, y1 = np.minimum(np.ceil(outline.max(axis=0)).astype(int) + grow + 2, (width, height))
        if x1 > x0 and y1 > y0:
            grown[y0:y1, x0:x1] |= cv2.dilate(mask[y0:y1, x0:x1], kernel)
    return grown


SKIN_SAMPLE_PIXELS = 10_000  # skin statistics read about this many pixels of a larger region (a regular grid)


def skin_statistics(image: np.ndarray, region: np.ndarray,
                    lab: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean and covariance of Lab colour over a region's pixels (None when it is too small).

    `lab` is `image` already in OpenCV Lab (callers that need it twice convert once). A region of more
    than about SKIN_SAMPLE_PIXELS pixels is read on a regular grid of every k-th row and column: the mean
    and covariance of a face's skin do not change from that sampling, and gathering every pixel of a
    1080p close-up cost more than the rest of the skin model.
    """
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB) if lab is None else lab
    region = region if region.dtype == np.uint8 else as_mask(region)
    step = max(int(np.sqrt(cv2.countNonZero(region) / SKIN_SAMPLE_PIXELS)), 1)
    # the grid's pixels inside the region's box only (its corner on the grid): the same pixels, in order
    x, y, w, h = cv2.boundingRect(region)
    x0, y0 = x - x % step, y - y % step
    lab, region = lab[y0 : y + h : step, x0 : x + w : step], region[y0 : y + h : step, x0 : x + w : step]
    pixels = lab[region > 0].astype(np.float64)
    if len(pixels) < 50:
        return None
    mean = pixels.mean(axis=0)
    centred = pixels - mean
    return mean, centred.T @ centred / (len(pixels) - 1) + np.eye(3) * 4.0


def skin_distance(image: np.ndarray, skin: tuple[np.ndarray, np.ndarray], lab: np.ndarray | None = None) -> np.ndarray:
    """Squared Mahalanobis distance (H x W float32) of every pixel's Lab colour from the skin model
    (`lab`: `image` already in OpenCV Lab)."""
    mean, covariance = skin
    # The squared norm of whitened colour: W^T W = inverse covariance, applied to the whole crop by one
    # cv2.transform (float32) instead of gathering the face's pixels. W = diag(1/sqrt(eigenvalues)) x the
    # eigenvectors (rows): OpenCV's symmetric eigensolver, as numpy's LAPACK on a 3x3 cost milliseconds
    # when its threads met the pipeline's.
    _, values, vectors = cv2.eigen(np.asarray(covariance, dtype=np.float64))
    whiten = vectors / np.sqrt(np.maximum(values, 1e-12))
    affine = np.hstack([whiten, -(whiten @ mean)[:, None]]).astype(np.float32)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB) if lab is None else lab
    white = cv2.transform(lab.astype(np.float32), affine)
    return cv2.transform(cv2.multiply(white, white), np.ones((1, 3), dtype=np.float32))  # channel sum


OCCLUSION_WORK_WIDTH = 320.0  # faces wider than this (pixels) get their occluders found at 1/2, 1/3.. size


def occlusion_mask(image: np.ndarray, points: np.ndarray, face: np.ndarray,
                   skin: tuple[np.ndarray, np.ndarray] | None, threshold: float = 5.0,
                   lab: np.ndarray | None = None, work_width: float = OCCLUSION_WORK_WIDTH) -> np.ndarray:
    """Pixels inside the target face that are not skin and not a facial feature: hair, glasses, objects.

    A pixel is an occluder when its Lab colour is more than `threshold` Mahalanobis units from the
    face's skin model; small specks are dropped and the rest slightly grown. `lab`: `image` in OpenCV Lab.
    A face wider than `work_width` is measured on its colours area-averaged down by the smallest whole
    factor that brings it to that width or under, and the mask upsampled: every size in the test (specks, the grow) is a fraction of the face's width, and
    the blend's feather is wider than a low-resolution pixel, so the cost stays flat with the face's size.
    """
    if skin is None:
        return np.zeros_like(face)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB) if lab is None else lab
    size = float(np.ptp(points[:, 0]))
    factor = occlusion_factor(points, work_width)
    # Only round the face: its box grown past the speck filter's, the grow's and the upsampling's reach,
    # its corner on the shrink's blocks. The mask is 0 near that box's edges, so the same as on the whole.
    x, y, w, h = cv2.boundingRect(face)
    out = np.zeros_like(face)
    if w == 0 or h == 0:
        return out
    margin = 2 * factor + int(size * 0.03) + 8
    x0, y0 = (max(x - margin, 0) // factor) * factor, (max(y - margin, 0) // factor) * factor
    x1, y1 = min(x + w + margin, face.shape[1]), min(y + h + margin, face.shape[0])
    out[y0:y1, x0:x1] = _occlusion_in(lab[y0:y1, x0:x1], points - np.float32([x0, y0, 0]), face[y0:y1, x0:x1],
                                      skin, threshold, size, factor)
    return out


def _occlusion_in(lab: np.ndarray, points: np.ndarray, face: np.ndarray, skin: tuple[np.ndarray, np.ndarray],
                  threshold: float, size: float, factor: int) -> np.ndarray:
    """`occlusion_mask` of a window (`lab`, `points` and `face` in its pixels), shrunk by `factor`."""
    if factor <= 1:
        return _occluders(lab, points, face, skin, threshold, size, 5)
    height, width = face.shape
    small_w, small_h = max(width // factor, 1), max(height // factor, 1)
    cut = (slice(0, small_h * factor), slice(0, small_w * factor))  # up to factor-1 edge rows/columns cut
    small_points = (points + np.float32(0.5)) / np.float32(factor) - np.float32(0.5)  # as cv2.resize maps pixels
    small_points[:, 2] = points[:, 2]
    small_face = cv2.compare(cv2.resize(face[cut], (small_w, small_h), interpolation=cv2.INTER_AREA), 127, cv2.CMP_GT)
    # the 5-pixel speck filter keeps about its size in full-resolution pixels (an odd kernel, at least 3)
    speck = max(int(round(5 / factor)) | 1, 3)
    found = _occluders(cv2.resize(lab[cut], (small_w, small_h), interpolation=cv2.INTER_AREA), small_points,
                       small_face, skin, threshold, size / factor, speck)
    up = cv2.resize(found, (small_w * factor, small_h * factor), interpolation=cv2.INTER_LINEAR)
    up = cv2.copyMakeBorder(up, 0, height - up.shape[0], 0, width - up.shape[1], cv2.BORDER_REPLICATE)
    return cv2.compare(up, 127, cv2.CMP_GT)


def occlusion_factor(points: np.ndarray, work_width: float = OCCLUSION_WORK_WIDTH) -> int:
    """The whole factor (1: none) by which `occlusion_mask` shrinks a face at `points` (pixels): the
    smallest that brings it to `work_width` or under (OpenCV's area resize is fast only then)."""
    return max(int(np.ceil(float(np.ptp(points[:, 0])) / work_width)), 1)


def face_lab(image: np.ndarray, points: np.ndarray, regions: tuple[np.ndarray, ...],
             work_width: float = OCCLUSION_WORK_WIDTH) -> np.ndarray:
    """`image` in OpenCV Lab inside the box round `regions` (uint8 masks: the face and its skin sample),
    grown to whole blocks of `occlusion_mask`'s shrink factor; 0 elsewhere.

    The skin statistics over those regions and `occlusion_mask` of the face at `points` read no pixel
    outside that box (the occluder test keeps only the face's pixels, and the shrink averages whole
    blocks, each on its own), so with this they give the same values as with the whole image in Lab,
    which cost 3 ms a 720 close-up's planning crop, the margin round the face included."""
    height, width = image.shape[:2]
    boxes = [cv2.boundingRect(region) for region in regions]
    boxes = [(x, y, x + w, y + h) for x, y, w, h in boxes if w > 0 and h > 0]
    lab = np.zeros_like(image)
    if not boxes:
        return lab
    factor = occlusion_factor(points, work_width)
    x0, y0 = (min(box[0] for box in boxes) // factor) * factor, (min(box[1] for box in boxes) // factor) * factor
    x1 = min(-(-max(box[2] for box in boxes) // factor) * factor, width)
    y1 = min(-(-max(box[3] for box in boxes) // factor) * factor, height)
    lab[y0:y1, x0:x1] = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_RGB2LAB)
    return lab


def _occluders(lab: np.ndarray, points: np.ndarray, face: np.ndarray, skin: tuple[np.ndarray, np.ndarray],
               threshold: float, size: float, speck: int) -> np.ndarray:
    """`occlusion_mask` at the resolution of `lab`, whose face is `size` pixels wide; specks narrower
    than `speck` pixels are opened away."""
    distance = skin_distance(lab, skin, lab)
    candidate = np.where((face > 0) & (distance > threshold**2), 255, 0).astype(np.uint8)
    candidate[feature_regions(face.shape, points, max(int(size * 0.03), 1)) > 0] = 0
    candidate = cv2.morphologyEx(candidate, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (speck, speck)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= (size * size) * 0.004
    return dilate(as_mask(keep[labels]), max(int(size * 0.01), 1))


def _eroded_in_box(mask: np.ndarray, radius: int) -> np.ndarray:
    """`mask` (uint8) eroded by an ellipse `radius` pixels round, on the mask's box grown by the radius
    only: beyond the box it is 0 and stays 0, and inside it every kernel reads the same pixels (the
    erosion's border value passes everything, as the whole image's does at its edge)."""
    out = np.zeros_like(mask)
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return out
    x0, y0 = max(x - radius, 0), max(y - radius, 0)
    x1, y1 = min(x + w + radius, mask.shape[1]), min(y + h + radius, mask.shape[0])
    out[y0:y1, x0:x1] = cv2.erode(mask[y0:y1, x0:x1], cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))
    return out


def skin_sample_region(shape: tuple[int, int], points: np.ndarray, work_width: float = 160.0) -> np.ndarray:
    """Face oval without its features, shrunk away from the outline: a clean sample of skin.

    Faces wider than `work_width` pixels are drawn, eroded and dilated at that width and upsampled (the
    region's outline moves by at most about one low-resolution pixel), so the cost stays flat with size.
    """
    size = float(np.ptp(points[:, 0]))
    iterations, grow = max(int(size * 0.02), 1), max(int(size * 0.02), 1)
    scale = min(1.0, work_width / max(size, 1.0))
    if scale >= 1.0:
        region = cv2.erode(face_region(shape, points), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)),
                           iterations=iterations)
        return cv2.bitwise_and(region, cv2.bitwise_not(feature_regions(shape, points, grow)))
    # Same distances at low size: `iterations` 9x9 ellipses erode about 4 px each; features grow `grow` px.
    height, width = shape
    small = (max(int(round(height * scale)), 1), max(int(round(width * scale)), 1))
    local = points * np.array([small[1] / width, small[0] / height, 1.0], dtype=np.float32)
    radius = max(int(round(4 * iterations * scale)), 1)
    region = _eroded_in_box(face_region(small, local), radius)
    region = cv2.bitwise_and(region, cv2.bitwise_not(feature_regions(small, local, max(int(round(grow * scale)), 1))))
    return cv2.compare(cv2.resize(region, (width, height), interpolation=cv2.INTER_LINEAR), 127, cv2.CMP_GT)
