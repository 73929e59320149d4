"""The five face keypoints insightface works with (eyes, nose tip, mouth corners), from a face mesh.

Two uses: the similarity transform that aligns a source photo to ArcFace's 112x112 template before the
recognition model embeds it, and InstantID's ControlNet image (the keypoints drawn as coloured limbs).
"""

from __future__ import annotations

import cv2
import numpy as np

# mediapipe face mesh indices, in insightface's order: image-left eye, image-right eye, nose tip,
# image-left and image-right mouth corners (for a face looking at the camera)
EYE_CORNERS = ((33, 133), (362, 263))
IRISES = (468, 473)  # the iris centres, where the mesh has the 478-point refinement
NOSE_TIP, MOUTH_CORNERS = 1, (61, 291)
# ArcFace's template for a 112x112 crop (insightface.utils.face_align.arcface_dst)
ARCFACE_TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                             [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)
ARCFACE_SIZE = 112
# InstantID's drawing: one colour per keypoint, limbs from each keypoint to the nose
COLOURS = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (255, 0, 255))
LIMBS = ((0, 2), (1, 2), (3, 2), (4, 2))


def five_points(mesh: np.ndarray) -> np.ndarray:
    """(5, 2) keypoints from a mesh's (N, 2 or 3) points."""
    mesh = np.asarray(mesh, np.float32)[:, :2]
    if len(mesh) > max(IRISES):
        eyes = [mesh[i] for i in IRISES]
    else:
        eyes = [mesh[list(corners)].mean(axis=0) for corners in EYE_CORNERS]
    return np.stack(eyes + [mesh[NOSE_TIP], mesh[MOUTH_CORNERS[0]], mesh[MOUTH_CORNERS[1]]])


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The least-squares similarity (rotation, uniform scale, shift; no reflection) taking `source` points
    onto `target`, as a 2x3 matrix (Umeyama; what insightface's `norm_crop` estimates)."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    mean_s, mean_t = source.mean(axis=0), target.mean(axis=0)
    centred_s, centred_t = source - mean_s, target - mean_t
    spread = centred_s.var(axis=0).sum()
    if spread <= 1e-12:
        raise ValueError("degenerate face keypoints: they all coincide")
    u, singular, vt = np.linalg.svd(centred_t.T @ centred_s / len(source))
    sign = np.array([1.0, -1.0 if np.linalg.det(u) * np.linalg.det(vt) < 0 else 1.0])
    rotation = u @ np.diag(sign) @ vt
    scale = float((singular * sign).sum() / spread)
    shift = mean_t - scale * rotation @ mean_s
    return np.hstack([scale * rotation, shift[:, None]])


def arcface_crop(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The 112x112 crop ArcFace models expect: the five keypoints moved onto the template (similarity)."""
    return cv2.warpAffine(image, similarity(points, ARCFACE_TEMPLATE), (ARCFACE_SIZE, ARCFACE_SIZE), borderValue=0.0)


def draw_keypoints(points: np.ndarray, size: tuple[int, int], stick_width: int = 4) -> np.ndarray:
    """InstantID's control image (uint8 RGB, `size` = (w, h)): limbs at 60 % over black, then the points."""
    width, height = size
    canvas = np.zeros((height, width, 3), np.uint8)
    for a, b in LIMBS:
        (x0, y0), (x1, y1) = points[a], points[b]
        length = float(np.hypot(x1 - x0, y1 - y0))
        angle = float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))
        polygon = cv2.ellipse2Poly((int((x0 + x1) / 2), int((y0 + y1) / 2)), (int(length / 2), stick_width),
                                   int(angle), 0, 360, 1)
        cv2.fillConvexPoly(canvas, polygon, COLOURS[a])
    canvas = (canvas * 0.6).astype(np.uint8)
    for (x, y), colour in zip(points, COLOURS):
        cv2.circle(canvas, (int(x), int(y)), 10, colour, -1)
    return canvas
