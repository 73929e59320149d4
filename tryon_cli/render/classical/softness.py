"""Blur at the features' scale: a pasted face as soft as a defocused or motion-blurred frame around it.

`grain.match_sharpness` compares the finest scale (the Laplacian of single pixels), where a video frame's
compression noise and grain look "sharp" even when the face itself is smeared by motion or focus. So a
crisp photo pasted onto a blurred frame passes it and looks cut out. Here the comparison is made where a
face's features live: both images shrunk so the face is BAND_FACE_WIDTH pixels wide, and their gradient
energy over the face region compared. When the patch is clearly crisper, it is blurred until it is not:

- motion blur smears the frame in one direction: the frame's gradients (their structure tensor) are then
  more one-directional than the patch's, whose features are the same face's in the same pose. The patch is
  first blurred along the frame's weakest gradient direction until the two tensors are equally elongated;
- then, if still crisper, blurred evenly (defocus) down to BAND_GOAL.

The searches run on the shrunk images (a Gaussian of sigma s there is one of s / scale at full size), so
they cost little; only the chosen blur runs at full size.
"""

from __future__ import annotations

import cv2
import numpy as np

BAND_FACE_WIDTH = 96.0  # pixels: eyes, brows and lips are edges at this size; grain and blocks are gone
BAND_HIGH = 1.6  # patch / frame gradient energy at that scale left alone below this (faces differ that much)
BAND_GOAL = 1.25  # and blurred down to this when above it
MOTION_GAIN = 1.4  # frame's tensor this much more elongated (minor / major eigenvalue) than the patch's: motion
SIGMAS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)  # candidate blurs at the shrunk scale (pixels)
MIN_PIXELS = 150  # shrunk region pixels needed to judge


def _shrunk(image: np.ndarray, region: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    if scale >= 1.0:
        return grey, region > 0
    small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    inside = cv2.resize(region, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    return small, inside


def structure_tensor(grey: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """The 2x2 mean of the gradient's outer product over `inside`: [[gx gx, gx gy], [gx gy, gy gy]]."""
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)[inside]
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)[inside]
    xy = float(np.mean(gx * gy))
    return np.array([[float(np.mean(gx * gx)), xy], [xy, float(np.mean(gy * gy))]])


def _elongation(tensor: np.ndarray) -> tuple[float, np.ndarray]:
    """(minor / major eigenvalue, the minor eigenvector): 1 for even gradients, near 0 for a smear; the
    minor direction is the one along which the image changes least (the motion's)."""
    values, vectors = np.linalg.eigh(tensor)
    return float(values[0] / max(values[1], 1e-9)), vectors[:, 0]


def directional_kernel(sigma_along: float, direction: np.ndarray, sigma_across: float = 0.3) -> np.ndarray:
    """A normalised anisotropic Gaussian kernel: sigma_along along the unit `direction`, sigma_across across."""
    radius = int(np.ceil(3.0 * max(sigma_along, sigma_across)))
    ys, xs = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float32)
    along = xs * direction[0] + ys * direction[1]
    across = -xs * direction[1] + ys * direction[0]
    kernel = np.exp(-0.5 * ((along / sigma_along) ** 2 + (across / sigma_across) ** 2))
    return (kernel / kernel.sum()).astype(np.float32)


def _interpolated(sigmas: list[float], values: list[float], goal: float) -> float:
    """The sigma where `values` (falling with sigma) cross `goal`, interpolated in log; the last if never."""
    for i in range(1, len(values)):
        if values[i] <= goal:
            span = np.log(max(values[i - 1], 1e-9)) - np.log(max(values[i], 1e-9))
            t = (np.log(max(values[i - 1], 1e-9)) - np.log(max(goal, 1e-9))) / max(span, 1e-9)
            return float(sigmas[i - 1] + np.clip(t, 0.0, 1.0) * (sigmas[i] - sigmas[i - 1]))
    return sigmas[-1]


def match_softness(patch: np.ndarray, target: np.ndarray, region: np.ndarray, face_width: float) -> np.ndarray:
    """`patch` (RGB uint8, the face's box) blurred, along the frame's motion and then evenly, when its face
    `region` is clearly crisper than `target`'s at the features' scale; otherwise `patch` itself."""
    scale = min(BAND_FACE_WIDTH / max(face_width, 1.0), 1.0)
    grey, inside = _shrunk(patch, region, scale)
    target_grey, _ = _shrunk(target, region, scale)
    if int(inside.sum()) < MIN_PIXELS:
        return patch
    target_tensor = structure_tensor(target_grey, inside)
    target_energy = float(np.trace(target_tensor))
    patch_tensor = structure_tensor(grey, inside)
    if target_energy < 1e-3 or np.trace(patch_tensor) <= BAND_HIGH * target_energy:
        return patch
    kernel = None
    target_elongation, direction = _elongation(target_tensor)
    if target_elongation * MOTION_GAIN < _elongation(patch_tensor)[0]:
        sigmas, values = [0.0], [_elongation(patch_tensor)[0]]
        for sigma in SIGMAS:
            values.append(_elongation(structure_tensor(cv2.filter2D(grey, -1, directional_kernel(sigma, direction)),
                                                       inside))[0])
            sigmas.append(sigma)
            if values[-1] <= target_elongation:
                break
        along = _interpolated(sigmas, values, target_elongation)
        if along > 0.1:
            kernel = directional_kernel(along, direction)
            grey = cv2.filter2D(grey, -1, kernel)
    sigmas, values = [0.0], [float(np.trace(structure_tensor(grey, inside)))]
    for sigma in SIGMAS:
        if values[-1] <= BAND_GOAL * target_energy:
            break
        values.append(float(np.trace(structure_tensor(cv2.GaussianBlur(grey, (0, 0), sigma), inside))))
        sigmas.append(sigma)
    even = _interpolated(sigmas, values, BAND_GOAL * target_energy) if len(values) > 1 else 0.0
    out = patch
    if kernel is not None:
        out = cv2.filter2D(out, -1, directional_kernel(along / scale, direction, 0.3 / scale))
    if even > 0.05:
        out = cv2.GaussianBlur(out, (0, 0), even / scale)
    return out
