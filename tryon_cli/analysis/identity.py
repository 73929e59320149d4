"""Face identity: dlib's 128-D face descriptor (weights from the face_recognition_models package)."""

from __future__ import annotations

import warnings

import dlib
import numpy as np

from ..errors import ModelMissingError

SAME_PERSON_DISTANCE = 0.6


def _model_paths() -> tuple[str, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import face_recognition_models as frm
    except ImportError as error:
        raise ModelMissingError(
            "dlib face models are missing: pip install face_recognition_models 'setuptools<81'"
        ) from error
    return frm.pose_predictor_model_location(), frm.face_recognition_model_location()


class DlibFaceEncoder:
    """dlib HOG detector + 68-point shape predictor + ResNet face descriptor."""

    def __init__(self) -> None:
        shape_path, recognition_path = _model_paths()
        self._detector = dlib.get_frontal_face_detector()
        self._shape = dlib.shape_predictor(shape_path)
        self._encoder = dlib.face_recognition_model_v1(recognition_path)

    def locate(self, image: np.ndarray, hint: tuple[float, float, float, float] | None = None) -> dlib.rectangle | None:
        """The dlib box of the face nearest `hint` (or the largest face); from `hint` when dlib finds none."""
        image = np.ascontiguousarray(image)
        boxes = list(self._detector(image, 0)) or (list(self._detector(image, 1)) if max(image.shape[:2]) < 800 else [])
        if hint is not None:
            hx, hy = (hint[0] + hint[2]) / 2, (hint[1] + hint[3]) / 2
            boxes = [b for b in boxes if b.left() <= hx <= b.right() and b.top() <= hy <= b.bottom()]
            if not boxes:
                return _box_from_mesh_bbox(hint)
        if not boxes:
            return None
        return max(boxes, key=lambda b: b.width() * b.height())

    def encode(self, image: np.ndarray, hint: tuple[float, float, float, float] | None = None) -> np.ndarray | None:
        """128-D descriptor of the face in an RGB image, or None when no face is found."""
        image = np.ascontiguousarray(image)  # dlib rejects strided arrays (decoded rows padded to the line size)
        box = self.locate(image, hint)
        if box is None:
            return None
        shape = self._shape(image, box)
        return np.asarray(self._encoder.compute_face_descriptor(image, shape), dtype=np.float32)

    def encode_inner_face(self, image: np.ndarray,
                          hint: tuple[float, float, float, float] | None = None) -> np.ndarray | None:
        """A hair-blind descriptor: dlib's, computed on the image with everything outside the inner face
        (the hull of its 68 landmarks: jaw, brows) replaced by a neutral grey (`inner_face_only`).

        dlib's chip holds the hair and the background around the face, and its descriptor reads them as
        identity: a swap that pastes the source's hair scores better than one that keeps the target's.
        With source and output both seen this way, only the face itself is compared."""
        image = np.ascontiguousarray(image)
        box = self.locate(image, hint)
        if box is None:
            return None
        shape = self._shape(image, box)
        points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
        inner = np.ascontiguousarray(inner_face_only(image, points))
        return np.asarray(self._encoder.compute_face_descriptor(inner, shape), dtype=np.float32)

    def landmarks68(self, image: np.ndarray, hint: tuple[float, float, float, float] | None = None) -> np.ndarray | None:
        """dlib's 68 landmarks (x, y) of the face, or None."""
        image = np.ascontiguousarray(image)
        box = self.locate(image, hint)
        if box is None:
            return None
        shape = self._shape(image, box)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


NEUTRAL_GREY = 128  # what replaces everything outside the inner face for the hair-blind descriptor


def inner_face_only(image: np.ndarray, points68: np.ndarray) -> np.ndarray:
    """`image` with everything outside the convex hull of dlib's 68 landmarks (chin and jaw to the brows'
    tops) mid-grey: no hair, ears, background or forehead."""
    import cv2

    hull = cv2.convexHull(np.round(points68).astype(np.int32))
    inside = np.zeros(image.shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(inside, hull, 255)
    return np.where(inside[..., None] > 0, image, np.uint8(NEUTRAL_GREY)).astype(np.uint8)


def _box_from_mesh_bbox(bbox: tuple[float, float, float, float]) -> dlib.rectangle:
    """Turn a face-mesh box (forehead top to chin) into a dlib-style box (brows to chin)."""
    x0, y0, x1, y1 = bbox
    height = y1 - y0
    top = y0 + 0.22 * height
    return dlib.rectangle(int(x0), int(top), int(x1), int(y1))


def descriptor_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two descriptors (same person below 0.6)."""
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))
