"""Face analysis: MediaPipe face mesh (478 points, tracking mode for video) and face tracks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .native import mediapipe_solutions, silenced_native_stderr

N_POINTS = 478


@dataclass(frozen=True)
class Face:
    """One face: mesh points in pixels (x, y, z; z uses x's scale, smaller is nearer the camera)."""

    points: np.ndarray

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        xy = self.points[:, :2]
        x0, y0 = xy.min(axis=0)
        x1, y1 = xy.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.bbox
        return (x1 - x0) * (y1 - y0)

    @property
    def size(self) -> float:
        """Face size in pixels: the bounding box diagonal."""
        x0, y0, x1, y1 = self.bbox
        return float(np.hypot(x1 - x0, y1 - y0))


class FaceMeshAnalyzer:
    """MediaPipe face mesh. `tracking=True` for video frames in order, False for unrelated images."""

    def __init__(self, max_faces: int = 1, tracking: bool = True, min_confidence: float = 0.5) -> None:
        with silenced_native_stderr():
            self._mesh = mediapipe_solutions().face_mesh.FaceMesh(
                static_image_mode=not tracking,
                max_num_faces=max_faces,
                refine_landmarks=True,
                min_detection_confidence=min_confidence,
                min_tracking_confidence=min_confidence,
            )
        self._tracking = tracking
        self._max_faces = max_faces
        self._quiet_calls = 3  # native start-up warnings arrive during the first calls

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 image, largest first.

        Still images that are far from square are also searched in overlapping square tiles: the
        mesh's short-range detector misses faces that letterboxing makes small.
        """
        faces = self._detect_whole(image)
        height, width = image.shape[:2]
        if self._tracking or len(faces) >= self._max_faces or max(height, width) < 1.3 * min(height, width):
            return faces
        side = min(height, width)
        long_side = max(height, width)
        starts = sorted({*range(0, long_side - side + 1, max(side // 2, 1)), long_side - side})
        for start in starts:
            window = image[start : start + side] if height > width else image[:, start : start + side]
            shift = np.array([0, start, 0] if height > width else [start, 0, 0], dtype=np.float32)
            for face in self._detect_whole(np.ascontiguousarray(window)):
                moved = Face(points=face.points + shift)
                if all(box_iou(moved.bbox, other.bbox) < 0.3 for other in faces):
                    faces.append(moved)
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces[: self._max_faces]

    def _detect_whole(self, image: np.ndarray) -> list[Face]:
        height, width = image.shape[:2]
        if self._quiet_calls > 0:
            self._quiet_calls -= 1
            with silenced_native_stderr():
                result = self._mesh.process(image)
        else:
            result = self._mesh.process(image)
        faces = []
        for landmarks in result.multi_face_landmarks or []:
            raw = np.array([(p.x, p.y, p.z) for p in landmarks.landmark], dtype=np.float32)
            points = raw * np.array([width, height, width], dtype=np.float32)
            faces.append(Face(points=points))
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> "FaceMeshAnalyzer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass
class FaceTracker:
    """Give faces stable track ids across frames by box overlap (greedy, highest IoU first)."""

    min_iou: float = 0.2
    _boxes: dict[int, tuple[float, float, float, float]] | None = None
    _next_id: int = 0

    def reset(self) -> None:
        self._boxes = None

    def assign(self, faces: list[Face]) -> list[int]:
        previous = self._boxes or {}
        pairs = sorted(
            ((box_iou(box, face.bbox), tid, i) for tid, box in previous.items() for i, face in enumerate(faces)),
            reverse=True,
        )
        ids: list[int | None] = [None] * len(faces)
        used: set[int] = set()
        for iou, tid, i in pairs:
            if iou < self.min_iou or tid in used or ids[i] is not None:
                continue
            ids[i] = tid
            used.add(tid)
        for i, tid in enumerate(ids):
            if tid is None:
                ids[i] = self._next_id
                self._next_id += 1
        self._boxes = {tid: face.bbox for tid, face in zip(ids, faces)}
        return [int(t) for t in ids]
