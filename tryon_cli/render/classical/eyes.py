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
