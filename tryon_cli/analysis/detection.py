"""Face detection for faces that are not close-ups: MediaPipe's full-range BlazeFace, on the whole frame
and on overlapping tiles, merged by non-maximum suppression.

The face mesh's own detector is the short-range model (faces filling much of a 128 px view), so it finds
no face in a crowd shot. The full-range model (`face_detection_full_range_sparse.tflite`, shipped in the
mediapipe wheel) sees smaller faces, but on a 1080p frame shrunk to its 192 px input a 40 px face is 4 px:
tiles of `tile` pixels bring those up to a size it finds. The whole-frame pass keeps faces larger than
a tile's overlap, which a tile would cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .native import mediapipe_solutions, silenced_native_stderr


@dataclass(frozen=True)
class FaceBox:
    """A detected face: box (x0, y0, x1, y1) in pixels, score, and six key points (right eye, left eye,
    nose tip, mouth, right ear, left ear; the person's sides) in pixels."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: np.ndarray

    def __post_init__(self) -> None:
        x0, y0, x1, y1 = self.box
        if not (x1 > x0 and y1 > y0):
            raise ValueError(f"empty face box {self.box}")
        if self.keypoints.shape != (6, 2):
            raise ValueError(f"face key points must be 6 x 2, got {self.keypoints.shape}")

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> tuple[float, float]:
    """(intersection over union, intersection over the smaller box)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area_a, area_b = (a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])
    union = area_a + area_b - inter
    return (inter / union if union > 0 else 0.0), (inter / min(area_a, area_b) if min(area_a, area_b) > 0 else 0.0)


def _area(face: FaceBox) -> float:
    return (face.box[2] - face.box[0]) * (face.box[3] - face.box[1])


def suppress(boxes: list[FaceBox], iou: float = 0.3, contained: float = 0.6) -> list[FaceBox]:
    """Keep the best-scoring of overlapping boxes. Of two boxes one mostly inside the other (a face cut
    by a tile edge, and the same face whole), the larger stays whatever the scores."""
    kept: list[FaceBox] = []
    for candidate in sorted(boxes, key=lambda b: b.score, reverse=True):
        for i, other in enumerate(kept):
            union_share, inside_share = _overlap(candidate.box, other.box)
            if union_share >= iou:
                break
            if inside_share >= contained:
                if _area(candidate) > _area(other):
                    kept[i] = candidate
                break
        else:
            kept.append(candidate)
    return kept


def tile_origins(size: int, tile: int, overlap: float) -> list[int]:
    """Start offsets of tiles of `tile` pixels covering [0, size) with at least `overlap` of a tile shared."""
    if size <= tile:
        return [0]
    step = max(int(tile * (1.0 - overlap)), 1)
    return sorted({*range(0, size - tile + 1, step), size - tile})


class FaceDetector:
    """MediaPipe BlazeFace: full range (default) or short range, optionally on tiles as well."""

    def __init__(self, full_range: bool = True, min_confidence: float = 0.5, tile: int | None = 480,
                 overlap: float = 0.25) -> None:
        if tile is not None and tile < 128:
            raise ValueError(f"tile must be at least 128 px, got {tile}")
        with silenced_native_stderr():
            self._detector = mediapipe_solutions().face_detection.FaceDetection(
                model_selection=1 if full_range else 0, min_detection_confidence=min_confidence)
        self.tile = tile
        self.overlap = overlap

    def _detect_window(self, image: np.ndarray, x: int, y: int) -> list[FaceBox]:
        height, width = image.shape[:2]
        result = self._detector.process(image)
        found = []
        for detection in result.detections or []:
            rel = detection.location_data.relative_bounding_box
            x0, y0 = rel.xmin * width + x, rel.ymin * height + y
            x1, y1 = x0 + rel.width * width, y0 + rel.height * height
            if x1 <= x0 or y1 <= y0:
                continue
            points = np.array([(p.x * width + x, p.y * height + y)
                               for p in detection.location_data.relative_keypoints], np.float32)
            if points.shape != (6, 2):
                points = np.zeros((6, 2), np.float32)
            found.append(FaceBox((float(x0), float(y0), float(x1), float(y1)), float(detection.score[0]), points))
        return found

    @property
    def whole_frame_width(self) -> float:
        """The narrowest face (pixels) left to the whole-frame pass: a tile's overlap, which a tile would cut."""
        return float(self.tile * self.overlap) if self.tile else 0.0

    def detect(self, image: np.ndarray,
               tiles_needed: Callable[[list[FaceBox]], bool] | None = None) -> list[FaceBox]:
        """Faces in an RGB uint8 image, best score first, boxes clipped to the image. `tiles_needed`, given
        the whole-frame pass's boxes, says whether the tiles run too (default: they do)."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image, got {image.dtype} {image.shape}")
        height, width = image.shape[:2]
        boxes = self._detect_window(np.ascontiguousarray(image), 0, 0)
        tiles = tiles_needed is None or tiles_needed(boxes)
        if tiles and self.tile and max(height, width) > self.tile * 1.25:
            for y in tile_origins(height, self.tile, self.overlap):
                for x in tile_origins(width, self.tile, self.overlap):
                    window = np.ascontiguousarray(image[y : y + self.tile, x : x + self.tile])
                    boxes += self._detect_window(window, x, y)
        clipped = []
        for face in suppress(boxes):
            x0, y0, x1, y1 = face.box
            box = (max(x0, 0.0), max(y0, 0.0), min(x1, float(width)), min(y1, float(height)))
            if box[2] > box[0] and box[3] > box[1]:
                clipped.append(FaceBox(box, face.score, face.keypoints))
        return clipped

    def close(self) -> None:
        self._detector.close()

    def __enter__(self) -> "FaceDetector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
