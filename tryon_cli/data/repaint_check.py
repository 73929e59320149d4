"""Does the repainted input look real? Seam, blur/noise mismatch and leftovers of the original garment.

A repaint can keep pose and face and still be unusable: a garment pasted like a sticker (a hard edge
along the mask border), a smear (the repainted region much smoother or cleaner than the photo around
it), or a sleeve of the original garment left behind (the training pair then leaks the answer).

- seam: mean gradient magnitude on a thin band along the mask border, divided by the larger of the
  levels inside and outside the mask, and by what the original photo had on the same band (a real
  garment edge that was already there is not a seam).
- blur: mean |Laplacian| inside the mask against a ring just outside it; noise: the same for the
  high-frequency residual (image minus its 3x3 median), which photos carry and smooth paint lacks.
  Each ratio is taken relative to the same ratio in the original, so a plain garment is not "blur".
- leftover: the share of the mask whose pixels are unchanged from the original *and* have one of the
  original garment's colours (k-means clusters of the garment photo, in Lab).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BAND = 2          # px either side of the mask border that count as "the seam"
INSIDE_MARGIN = 6  # px kept away from the border when measuring inside / outside
RING = 16         # px width of the ring outside the mask that stands for "the rest of the photo"
UNCHANGED = 10    # max per-channel difference (0..255) for a pixel to count as unchanged
CLUSTER_DE = 14.0  # Lab distance to a garment colour cluster that counts as that colour
CLUSTERS = 3
EPS = 0.05  # keeps the ratios finite on flat regions without flattening the small noise levels


@dataclass(frozen=True)
class RepaintThresholds:
    max_seam: float = 1.5
    min_blur_ratio: float = 0.35
    min_noise_ratio: float = 0.35
    max_leftover: float = 0.08


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _regions(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(seam band, inside, outside ring) as boolean arrays."""
    m = (mask > 0).astype(np.uint8)
    band = (cv2.dilate(m, _disk(BAND)) > 0) & ~(cv2.erode(m, _disk(BAND)) > 0)
    inside = cv2.erode(m, _disk(INSIDE_MARGIN)) > 0
    ring = (cv2.dilate(m, _disk(INSIDE_MARGIN + RING)) > 0) & ~(cv2.dilate(m, _disk(INSIDE_MARGIN)) > 0)
    return band, inside, ring


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _mean(values: np.ndarray, where: np.ndarray) -> float:
    return float(values[where].mean()) if where.any() else 0.0


def _gradient(grey: np.ndarray) -> np.ndarray:
    return np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))


def _detail(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|Laplacian| (blur) and |image - median3| (noise)."""
    laplacian = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
    residual = np.abs(grey - cv2.medianBlur(grey.astype(np.uint8), 3).astype(np.float32))
    return laplacian, residual


def _ratio_of_ratios(image_in: float, image_out: float, ref_in: float, ref_out: float) -> float:
    """(inside/outside of the repaint) / (inside/outside of the original), capped at 1 for the original."""
    return float(min((image_in + EPS) / (image_out + EPS) / max((ref_in + EPS) / (ref_out + EPS), 1e-3), 10.0))


def garment_colours(garment: np.ndarray, garment_mask: np.ndarray, k: int = CLUSTERS) -> np.ndarray:
    """The garment photo's main colours (k x 3, Lab float32); empty when the garment is too small."""
    pixels = cv2.cvtColor(garment, cv2.COLOR_RGB2LAB)[garment_mask > 0].astype(np.float32)
    if len(pixels) < 4 * k:
        return np.zeros((0, 3), np.float32)
    step = max(1, len(pixels) // 4000)  # a subsample is plenty for k centres
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(0)
    _, _, centres = cv2.kmeans(np.ascontiguousarray(pixels[::step]), k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    return centres


def leftover_fraction(original: np.ndarray, repainted: np.ndarray, mask: np.ndarray, colours: np.ndarray) -> float:
    """Share of the mask still showing the original garment: unchanged pixels with one of its colours."""
    inside = mask > 0
    if not inside.any() or len(colours) == 0:
        return 0.0
    unchanged = np.abs(original.astype(np.int16) - repainted.astype(np.int16)).max(axis=2) <= UNCHANGED
    lab = cv2.cvtColor(original, cv2.COLOR_RGB2LAB).astype(np.float32)[inside & unchanged]
    if len(lab) == 0:
        return 0.0
    nearest = np.min(np.linalg.norm(lab[:, None, :] - colours[None, :, :], axis=2), axis=1)
    return float((nearest < CLUSTER_DE).sum() / inside.sum())


def repaint_scores(original: np.ndarray, repainted: np.ndarray, mask: np.ndarray, garment: np.ndarray,
                   garment_mask: np.ndarray) -> dict[str, float]:
    """seam, blur_ratio, noise_ratio and leftover for one item (see the module notes)."""
    band, inside, ring = _regions(mask)
    grey, ref = _grey(repainted), _grey(original)
    gradient, ref_gradient = _gradient(grey), _gradient(ref)
    level = max(_mean(gradient, inside), _mean(gradient, ring), _mean(ref_gradient, band), 4.0)
    seam = _mean(gradient, band) / level
    laplacian, residual = _detail(grey)
    ref_laplacian, ref_residual = _detail(ref)
    blur = _ratio_of_ratios(_mean(laplacian, inside), _mean(laplacian, ring),
                            _mean(ref_laplacian, inside), _mean(ref_laplacian, ring))
    noise = _ratio_of_ratios(_mean(residual, inside), _mean(residual, ring),
                             _mean(ref_residual, inside), _mean(ref_residual, ring))
    leftover = leftover_fraction(original, repainted, mask, garment_colours(garment, garment_mask))
    return {"seam": round(seam, 4), "blur_ratio": round(blur, 4), "noise_ratio": round(noise, 4),
            "leftover": round(leftover, 4)}


def repaint_reasons(scores: dict[str, float], t: RepaintThresholds) -> list[str]:
    reasons = []
    if scores["seam"] > t.max_seam:
        reasons.append(f"visible seam along the mask border (seam {scores['seam']:.2f} > {t.max_seam})")
    if scores["blur_ratio"] < t.min_blur_ratio:
        reasons.append(f"repainted region blurred or smeared (blur ratio {scores['blur_ratio']:.2f} < "
                       f"{t.min_blur_ratio})")
    if scores["noise_ratio"] < t.min_noise_ratio:
        reasons.append(f"repainted region lacks the photo's noise (noise ratio {scores['noise_ratio']:.2f} < "
                       f"{t.min_noise_ratio})")
    if scores["leftover"] > t.max_leftover:
        reasons.append(f"original garment left in the repaint ({scores['leftover']:.0%} of the mask > "
                       f"{t.max_leftover:.0%})")
    return reasons
