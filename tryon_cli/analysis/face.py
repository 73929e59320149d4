"""Face analysis: MediaPipe face mesh (478 points), on a whole image or on one face's crop."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
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

    def reset(self) -> None:
        """Forget the previous frames (tracking mode starts again from a detection)."""
        self._mesh.reset()

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


CROP_SIZE = 256  # the face's crop is resampled to this square: a close-up for the mesh's short-range detector
CROP_SLACK = 0.08  # a tracked face's crop stays put until the face moves or rescales this much (of its side)


def square_around(box: tuple[float, float, float, float], scale: float) -> tuple[float, float, float]:
    """(centre x, centre y, side) of a square `scale` times the box's longer side, on the box's centre."""
    x0, y0, x1, y1 = box
    return (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * scale


class CropMeshFitter:
    """The face mesh fitted on one face's square crop, resampled to `CROP_SIZE` px.

    A face 40 px wide in a 1080p frame is far below what the mesh's short-range detector sees on the whole
    frame; on its own crop it is a close-up. A first fit (no `track`) runs the mesh on a still image, so
    its detector has to find a face in the crop: a second check on the caller's box. A tracked face's
    crop follows it (centred on its last mesh), so each track keeps its own mesh in tracking mode, which
    starts from the previous frame's landmarks as the whole-frame mesh did: steadier and cheaper than a
    detection per frame. Points come back in frame pixels, z scaled with x (the same factor).
    """

    def __init__(self, min_confidence: float = 0.5, confirm_confidence: float = 0.3) -> None:
        self._min_confidence = min_confidence
        # A first fit's box comes from the full-range detector already: the mesh's own detector only has
        # to confirm it, at a lower score (blurred crowd faces score 0.3-0.5 on a crop). Two faces, so a
        # neighbour's face in a crowd's crop is not taken for the one asked for.
        self._still = FaceMeshAnalyzer(max_faces=2, tracking=False, min_confidence=confirm_confidence)
        self._tracked: dict[int, FaceMeshAnalyzer] = {}
        self._spare: list[FaceMeshAnalyzer] = []
        self._crops: dict[int, tuple[float, float, float]] = {}

    def fit(self, image: np.ndarray, box: tuple[float, float, float, float], scale: float = 1.6,
            track: int | None = None, min_overlap: float = 0.3, sharpen: bool = False) -> Face | None:
        """The mesh of the face in `box` (x0, y0, x1, y1 in pixels), or None when no face is there.

        `scale` sets the crop's side against the box's longer side (a detector's tight box needs more room
        than a previous mesh's box). `track` names the face's track (its mesh runs in tracking mode).
        The face whose box overlaps `box` most is taken, if it overlaps at least `min_overlap`
        (intersection over the smaller box). `sharpen` runs the mesh on the crop sharpened
        (`sharpened`): a still fit's retry for blurred faces."""
        cx, cy, side = square_around(box, scale)
        if track is not None:
            cx, cy, side = self._steady_crop(track, (cx, cy, side))
        factor = CROP_SIZE / max(side, 1.0)
        # One affine resample cuts, pads (mid-grey outside the frame) and scales the crop.
        to_crop = np.array([[factor, 0, CROP_SIZE / 2 - factor * cx], [0, factor, CROP_SIZE / 2 - factor * cy]],
                           np.float32)
        patch = cv2.warpAffine(image, to_crop, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(127, 127, 127))
        if sharpen:
            patch = sharpened(patch)
        mesh = self._still if track is None else self._mesh_for(track)
        best, best_overlap = None, min_overlap
        for face in mesh.detect(patch):
            points = face.points / factor  # x, y and z alike: z is in x's scale
            points[:, 0] += cx - CROP_SIZE / 2 / factor
            points[:, 1] += cy - CROP_SIZE / 2 / factor
            fitted = Face(points=points.astype(np.float32))
            overlap = box_overlap(fitted.bbox, box)
            if overlap >= best_overlap:
                best, best_overlap = fitted, overlap
        return best

    def _steady_crop(self, track: int, wanted: tuple[float, float, float]) -> tuple[float, float, float]:
        """The track's previous crop while the face stays well inside it: a crop that moves or rescales
        every frame by a pixel or two resamples the face differently each time, which the mesh turns into
        jitter."""
        previous = self._crops.get(track)
        if previous is not None:
            (cx, cy, side), (px, py, pside) = wanted, previous
            if max(abs(cx - px), abs(cy - py)) < CROP_SLACK * pside and abs(side / pside - 1.0) < CROP_SLACK:
                return previous
        self._crops[track] = wanted
        return wanted

    def _mesh_for(self, track: int) -> "FaceMeshAnalyzer":
        mesh = self._tracked.get(track)
        if mesh is None:
            mesh = self._spare.pop() if self._spare else FaceMeshAnalyzer(1, True, self._min_confidence)
            self._tracked[track] = mesh
        return mesh

    def release(self, track: int) -> None:
        """The track ended: its mesh forgets it and waits for another track."""
        self._crops.pop(track, None)
        mesh = self._tracked.pop(track, None)
        if mesh is not None:
            mesh.reset()
            self._spare.append(mesh)

    def close(self) -> None:
        for mesh in [self._still, *self._tracked.values(), *self._spare]:
            mesh.close()
        self._tracked.clear()
        self._spare.clear()

    def __enter__(self) -> "CropMeshFitter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


SHARPEN_AMOUNT = 1.5  # unsharp mask: the crop plus this many times its detail above a blur of SHARPEN_SIGMA
SHARPEN_SIGMA = 3.0  # pixels of the CROP_SIZE crop


def sharpened(patch: np.ndarray) -> np.ndarray:
    """An unsharp-masked crop. A face blurred by focus or motion (an audience face behind the dancers in
    movie_several_people) has eyes and mouth too soft for the mesh's detector, which finds it once its
    edges are restored; contrast stretches (CLAHE) found fewer and fitted a hand as a face."""
    blurred = cv2.GaussianBlur(patch, (0, 0), SHARPEN_SIGMA)
    return cv2.addWeighted(patch, 1.0 + SHARPEN_AMOUNT, blurred, -SHARPEN_AMOUNT, 0)


def box_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over the smaller of two (x0, y0, x1, y1) boxes: 1 when one holds the other."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0
