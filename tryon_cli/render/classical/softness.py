"""Blur at the features' scale: a pasted face as soft as a defocused or motion-blurred frame around it.

`grain.match_sharpness` compares the finest scale (the Laplacian of single pixels), where a video frame's
compression noise and grain look "sharp" even when the face itself is smeared by motion or focus. So a
crisp photo pasted onto a blurred frame passes it and looks cut out. Here both images are shrunk so the
face is BAND_FACE_WIDTH pixels wide (eyes, brows and lips are edges there; grain and blocks are gone) and
sharpness is the ratio of gradient energy there to that at half the size, along a direction: contrast
cancels (dark make-up or a beard is not sharpness), blur takes the finer scale away.

- Motion smears the frame in one direction u: the patch is then too sharp along u many times more than
  across it. It is first blurred along u until both directions are equally too sharp;
- then, if still too sharp in every direction, blurred evenly (defocus) down to BAND_GOAL.

The searches run on the shrunk images (a Gaussian of sigma s there is one of s / scale at full size), so
they cost little; only the chosen blur runs at full size.
"""

from __future__ import annotations

import cv2
import numpy as np

BAND_FACE_WIDTH = 96.0  # pixels: eyes, brows and lips are edges at this size; grain and blocks are gone
# Sharpness ratios (patch / frame, `fine_to_coarse` along a direction): a sharp face on a sharp frame
# measured 0.65..1.07 on talking_frontal and music_video_turns; a crisp photo on movie_several_people's
# blurred frames 1.13..1.5 along the motion.
BAND_HIGH = 1.2  # left alone up to this in the frame's least sharp direction
BAND_GOAL = 1.05  # and blurred down to this when above it in both directions
MOTION_GAIN = 1.15  # too sharp along the motion this many times more than across it: a motion smear
SIGMAS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)  # candidate blurs at the shrunk scale (pixels)
MIN_PIXELS = 150  # shrunk region pixels needed to judge


def _shrunk(image: np.ndarray, region: np.ndarray, scale: float, grey: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """`image` (or its float32 grey `grey`, when the caller has it) as float32 grey and `region` as bool,
    both shrunk by `scale`."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) if grey is None else grey
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


def directional_kernel(sigma_along: float, direction: np.ndarray, sigma_across: float = 0.3) -> np.ndarray:
    """A normalised anisotropic Gaussian kernel: sigma_along along the unit `direction`, sigma_across across."""
    radius = int(np.ceil(3.0 * max(sigma_along, sigma_across)))
    ys, xs = np.mgrid[-radius : radius + 1, -radius : radius + 1].astype(np.float32)
    along = xs * direction[0] + ys * direction[1]
    across = -xs * direction[1] + ys * direction[0]
    kernel = np.exp(-0.5 * ((along / sigma_along) ** 2 + (across / sigma_across) ** 2))
    return (kernel / kernel.sum()).astype(np.float32)


def crossing_sigma(sigmas: list[float], values: list[float], goal: float, floor: float = 1e-9) -> float:
    """The sigma where `values` (measured at `sigmas`, falling with sigma; the first is not judged) first
    reach `goal`, interpolated in log (values floored at `floor`); the last sigma if they never do."""
    for i in range(1, len(values)):
        if values[i] <= goal:
            span = np.log(max(values[i - 1], floor)) - np.log(max(values[i], floor))
            t = (np.log(max(values[i - 1], floor)) - np.log(max(goal, floor))) / max(span, floor)
            return float(sigmas[i - 1] + np.clip(t, 0.0, 1.0) * (sigmas[i] - sigmas[i - 1]))
    return sigmas[-1]


def fine_to_coarse(grey: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The structure tensors of `grey` (the face BAND_FACE_WIDTH wide) and of it shrunk by half.

    Their ratio along a direction says how sharp the image is there whatever its contrast: blur takes the
    finer scale's gradients away far more than the coarser's, while a face with stronger features (dark
    make-up, a beard) has more of both.
    """
    half = cv2.resize(grey, (max(grey.shape[1] // 2, 1), max(grey.shape[0] // 2, 1)), interpolation=cv2.INTER_AREA)
    half_inside = cv2.resize(inside.astype(np.uint8), (half.shape[1], half.shape[0]),
                             interpolation=cv2.INTER_NEAREST) > 0
    return structure_tensor(grey, inside), structure_tensor(half, half_inside)


def _sharpness_along(tensors: tuple[np.ndarray, np.ndarray], direction: np.ndarray) -> float:
    """Fine over coarse gradient energy along a unit `direction`."""
    fine, coarse = tensors
    return float(direction @ fine @ direction) / max(float(direction @ coarse @ direction), 1e-9)


def match_softness(patch: np.ndarray, target: np.ndarray, region: np.ndarray, face_width: float,
                   greys: tuple[np.ndarray | None, np.ndarray | None] = (None, None)) -> np.ndarray:
    """`patch` (RGB uint8, the face's box) blurred, along the frame's motion and then evenly, when its face
    `region` is clearly sharper than `target`'s at the features' scale; otherwise `patch` itself.

    Sharpness is contrast-free: fine over coarse gradient energy (`fine_to_coarse`), measured along the
    frame's least sharp direction u and across it v. Motion: the patch is too sharp along u by more than
    MOTION_GAIN times what it is along v. Blur: both directions' ratios (patch / frame) above BAND_HIGH.
    `greys`: the patch's and the target's float32 grey, when the caller has them.
    """
    scale = min(BAND_FACE_WIDTH / max(face_width, 1.0), 1.0)
    grey, inside = _shrunk(patch, region, scale, greys[0])
    target_grey, _ = _shrunk(target, region, scale, greys[1])
    if int(inside.sum()) < MIN_PIXELS:
        return patch
    target_tensors = fine_to_coarse(target_grey, inside)
    if np.trace(target_tensors[1]) < 1e-3:
        return patch
    # u: the direction along which the frame is least sharp (a motion's), v across it
    ratios = []
    for angle in np.linspace(0.0, np.pi, 8, endpoint=False):
        d = np.array([np.cos(angle), np.sin(angle)])
        ratios.append((_sharpness_along(target_tensors, d), d))
    u = min(ratios, key=lambda r: r[0])[1]
    v = np.array([-u[1], u[0]])
    target_u, target_v = _sharpness_along(target_tensors, u), _sharpness_along(target_tensors, v)

    def excess(image: np.ndarray) -> tuple[float, float]:
        tensors = fine_to_coarse(image, inside)
        return _sharpness_along(tensors, u) / max(target_u, 1e-9), _sharpness_along(tensors, v) / max(target_v, 1e-9)

    over_u, over_v = excess(grey)
    moving = over_u > BAND_HIGH and over_u > MOTION_GAIN * max(over_v, 1.0)
    if not moving and min(over_u, over_v) <= BAND_HIGH:
        return patch
    along = 0.0
    if moving:
        sigmas, values = [0.0], [over_u / max(over_v, 1.0)]
        for sigma in SIGMAS:
            e_u, e_v = excess(cv2.filter2D(grey, -1, directional_kernel(sigma, u)))
            sigmas.append(sigma)
            values.append(e_u / max(e_v, 1.0))
            if values[-1] <= 1.0:
                break
        along = crossing_sigma(sigmas, values, 1.0)
        if along > 0.1:
            grey = cv2.filter2D(grey, -1, directional_kernel(along, u))
    sigmas, values = [0.0], [min(excess(grey))]
    for sigma in SIGMAS:
        if values[-1] <= BAND_GOAL:
            break
        values.append(min(excess(cv2.GaussianBlur(grey, (0, 0), sigma))))
        sigmas.append(sigma)
    even = crossing_sigma(sigmas, values, BAND_GOAL) if len(values) > 1 else 0.0
    out = patch
    if along > 0.1:
        out = cv2.filter2D(out, -1, directional_kernel(along / scale, u, 0.3 / scale))
    if even > 0.05:
        out = cv2.GaussianBlur(out, (0, 0), even / scale)
    return out
