"""The target's eyes inside the swapped face: gaze, blinks and lids from the frame, the source's eye shape.

The source texture's iris never moves, so the swapped face cannot look where the target looks. Here
each eye's opening (iris and white, between the lids) is taken from the target frame, mapped by the
affine transform that takes the target's eye contour onto the swapped face's, and laid inside the
swapped face's eye opening: the eye follows the target, its outline and surroundings stay the source's.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...face3d import landmarks as lm

EYE_GROW = 0.06  # the opening grows by this fraction of the eye's width (reaches the lash line)
EYE_FEATHER = 0.05  # feather sigma, as a fraction of the eye's width


def _affine(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares 2x3 affine transform taking `source` points onto `target` points."""
    design = np.hstack([source, np.ones((len(source), 1))])
    solution, *_ = np.linalg.lstsq(design, target, rcond=None)
    return solution.T.astype(np.float64)


def paste_target_eyes(warped: np.ndarray, frame: np.ndarray, points: np.ndarray, target_points: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """`warped` (the face's box) with both eye openings taken from `frame` (the whole target frame), and
    the mask (0/255) of the pixels they changed. `points` are the swapped face's landmarks in the box's
    coordinates, `target_points` the target's in the frame's."""
    h, w = warped.shape[:2]
    changed = np.zeros((h, w), np.uint8)
    if points.shape[0] < 468 or target_points.shape[0] < 468:
        return warped, changed
    out = warped.astype(np.float32)
    for loop in (lm.RIGHT_EYE, lm.LEFT_EYE):
        there = target_points[loop, :2].astype(np.float64)
        here = points[loop, :2].astype(np.float64)
        width = float(np.ptp(here[:, 0]))
        if width < 4 or float(np.ptp(there[:, 0])) < 4:
            continue
        matrix = _affine(there, here)  # frame coordinates -> box coordinates
        eye = cv2.warpAffine(frame, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [np.round(here * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
        grow = max(int(round(width * EYE_GROW)), 1)
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
        alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(width * EYE_FEATHER, 0.6))
        alpha[alpha < 0.02] = 0.0  # the feather's far tail: below a grey level, and it would leak past `changed`
        out = out * (1 - alpha[..., None]) + eye.astype(np.float32) * alpha[..., None]
        changed |= np.where(alpha > 0, 255, 0).astype(np.uint8)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), changed


MAX_GAZE_SHIFT = (0.25, 0.12)  # eye widths the iris may move along and across the corner line
MIN_OPENING = 0.12  # eye height over width below which an eye is too shut to move its iris


def _eye_frame(points: np.ndarray, corners: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Origin (first corner), unit axis along the corner line, its normal, and the eye's width."""
    a, b = points[corners[0], :2].astype(np.float64), points[corners[1], :2].astype(np.float64)
    width = float(np.linalg.norm(b - a))
    axis = (b - a) / max(width, 1e-6)
    return a, axis, np.array([-axis[1], axis[0]]), width


def _iris_in_eye(points: np.ndarray, corners: tuple[int, int], iris: np.ndarray) -> tuple[np.ndarray, float]:
    """The iris centre in eye coordinates (eye widths along and across the corner line) and its radius
    (eye widths)."""
    origin, axis, normal, width = _eye_frame(points, corners)
    offset = points[iris[0], :2] - origin
    radius = float(np.mean(np.linalg.norm(points[iris[1:], :2] - points[iris[0], :2], axis=1)))
    return np.array([offset @ axis, offset @ normal]) / max(width, 1e-6), radius / max(width, 1e-6)


def shift_gaze(warped: np.ndarray, points: np.ndarray, texture_points: np.ndarray, target_points: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """`warped` (the face's box) with the source's own irises moved to where the target's look, and the
    mask (0/255) of the pixels changed.

    The iris is placed in eye coordinates (along and across the line between the eye's corners, in eye
    widths), so a wider or tilted eye keeps the target's gaze. Where it was, the eye is inpainted from
    the white around it; everything stays inside the swapped face's eye opening, so lids, lashes and the
    iris's colour stay the source's. `texture_points` locate the iris in the source photo.
    """
    h, w = warped.shape[:2]
    changed = np.zeros((h, w), np.uint8)
    if min(points.shape[0], texture_points.shape[0], target_points.shape[0]) < 478:
        return warped, changed
    out = warped.copy()
    for loop, lids, corners, iris in ((lm.RIGHT_EYE, lm.RIGHT_EYE_LIDS, lm.RIGHT_EYE_CORNERS, lm.RIGHT_IRIS),
                                      (lm.LEFT_EYE, lm.LEFT_EYE_LIDS, lm.LEFT_EYE_CORNERS, lm.LEFT_IRIS)):
        origin, axis, normal, width = _eye_frame(points, corners)
        opening = float(np.linalg.norm(points[lids[0], :2] - points[lids[1], :2]))
        if width < 6 or opening < MIN_OPENING * width:
            continue
        source_at, radius = _iris_in_eye(texture_points, corners, iris)
        target_at, _ = _iris_in_eye(target_points, corners, iris)
        move = np.clip(target_at - source_at, -np.array(MAX_GAZE_SHIFT), MAX_GAZE_SHIFT)
        if np.abs(move).max() * width < 0.3:
            continue
        to_pixels = np.stack([axis, normal], axis=1) * width  # eye coordinates -> box pixels
        here = origin + to_pixels @ source_at
        shift = to_pixels @ move
        r = max(radius * width * 1.15, 1.5)
        # A window around the eye, large enough for the iris at both places.
        x0 = int(max(np.floor(min(points[loop, 0].min(), here[0] - r, here[0] + shift[0] - r)) - 3, 0))
        y0 = int(max(np.floor(min(points[loop, 1].min(), here[1] - r, here[1] + shift[1] - r)) - 3, 0))
        x1 = int(min(np.ceil(max(points[loop, 0].max(), here[0] + r, here[0] + shift[0] + r)) + 4, w))
        y1 = int(min(np.ceil(max(points[loop, 1].max(), here[1] + r, here[1] + shift[1] + r)) + 4, h))
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        window = out[y0:y1, x0:x1]
        local = np.array([x0, y0], dtype=np.float64)
        eye_mask = np.zeros(window.shape[:2], np.uint8)
        cv2.fillPoly(eye_mask, [np.round((points[loop, :2] - local) * 4).astype(np.int32)], 255,
                     lineType=cv2.LINE_AA, shift=2)
        centre = here - local
        disc = np.zeros_like(eye_mask)
        cv2.circle(disc, (int(round(centre[0] * 4)), int(round(centre[1] * 4))), int(round(r * 4)), 255, -1,
                   lineType=cv2.LINE_AA, shift=2)
        hole = np.where((disc > 0) & (eye_mask > 0), 255, 0).astype(np.uint8)
        emptied = cv2.inpaint(window, hole, max(int(round(r * 0.5)), 2), cv2.INPAINT_TELEA)
        moved = cv2.warpAffine(window, np.array([[1, 0, shift[0]], [0, 1, shift[1]]]), window.shape[1::-1],
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        moved_disc = cv2.warpAffine(disc, np.array([[1, 0, shift[0]], [0, 1, shift[1]]]), disc.shape[1::-1],
                                    flags=cv2.INTER_LINEAR)
        iris_alpha = cv2.GaussianBlur(moved_disc.astype(np.float32) / 255.0, (0, 0), max(r * 0.12, 0.5))
        eye_alpha = cv2.GaussianBlur(eye_mask.astype(np.float32) / 255.0, (0, 0), 0.7)
        eye_alpha[eye_alpha < 0.02] = 0.0
        inside = emptied.astype(np.float32) * (1 - iris_alpha[..., None]) + moved.astype(np.float32) * iris_alpha[..., None]
        mixed = window.astype(np.float32) * (1 - eye_alpha[..., None]) + inside * eye_alpha[..., None]
        out[y0:y1, x0:x1] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
        changed[y0:y1, x0:x1] |= np.where(eye_alpha > 0, 255, 0).astype(np.uint8)
    return out, changed
