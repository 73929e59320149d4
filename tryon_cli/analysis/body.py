"""Body analysis: MediaPipe pose (33 points), hands (21 points each) and person segmentation.

Shop videos often crop the head off; MediaPipe pose needs a face to find a person and then returns
nothing. The analyser then carries the last keypoints over (moved with the person mask) for a while,
and always returns the person mask and hands, so masks can fall back to segmentation and colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..temporal import OneEuroFilter
from .face import FaceMeshAnalyzer
from .native import mediapipe_solutions, silenced_native_stderr

# MediaPipe pose indices
NOSE, LEFT_EAR, RIGHT_EAR = 0, 7, 8
LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_ELBOW, RIGHT_ELBOW, LEFT_WRIST, RIGHT_WRIST = 11, 12, 13, 14, 15, 16
KNUCKLES = (17, 18, 19, 20, 21, 22)
ARMS = ((LEFT_SHOULDER, LEFT_ELBOW, LEFT_WRIST), (RIGHT_SHOULDER, RIGHT_ELBOW, RIGHT_WRIST))  # each arm's joints
LEFT_HIP, RIGHT_HIP, LEFT_KNEE, RIGHT_KNEE, LEFT_ANKLE, RIGHT_ANKLE = 23, 24, 25, 26, 27, 28
FEET = (27, 28, 29, 30, 31, 32)
FACE = tuple(range(0, 11))
UPPER = (LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_ELBOW, RIGHT_ELBOW, LEFT_WRIST, RIGHT_WRIST, *KNUCKLES, LEFT_HIP, RIGHT_HIP)
LOWER = (LEFT_HIP, RIGHT_HIP, LEFT_KNEE, RIGHT_KNEE, *FEET)
VISIBLE = 0.5
CARRY_FRAMES = 15
MIN_PERSON_SHARE = 0.01  # a person mask covering less of the frame than this is no person (a fade-in)
# Keypoint smoothing on video (One Euro, speeds in shoulder widths per second): a still body is filtered
# at 0.3 Hz (as face landmarks are; at 1 Hz a presenter's striped top still shimmered), and the cut-off
# rises 3 Hz per shoulder width per second, so a turn or a step is followed.
KEYPOINT_MIN_CUTOFF_HZ = 0.3
FACE_CROP_PER_WIDTH = 1.2  # half the side of the crop searched for a face, in face widths (ear to ear)
KEYPOINT_SPEED_GAIN = 3.0


@dataclass(frozen=True)
class Body:
    """What the analyser saw in one frame.

    keypoints: (33, 3) x, y in pixels and visibility, or None; source says where they came from:
    "pose", "headless" (a video frame cut at the chin, its torso trusted), "carried" (from an earlier
    frame) or "none".
    """

    keypoints: np.ndarray | None
    person: np.ndarray
    hands: tuple[np.ndarray, ...]
    source: str

    def visible(self, indices) -> np.ndarray:
        """The (x, y) of the visible keypoints among `indices` (empty when none)."""
        if self.keypoints is None:
            return np.zeros((0, 2), dtype=np.float32)
        points = self.keypoints[list(indices)]
        return points[points[:, 2] >= VISIBLE, :2]


class BodyAnalyzer:
    """Pose, hands and person mask per frame; `tracking=True` for video frames in order."""

    def __init__(self, tracking: bool = False, hands: bool = True, fps: float = 25.0) -> None:
        with silenced_native_stderr():
            self._pose = mediapipe_solutions().pose.Pose(static_image_mode=not tracking, model_complexity=1,
                                                enable_segmentation=True, min_detection_confidence=0.5)
            self._segmenter = mediapipe_solutions().selfie_segmentation.SelfieSegmentation(model_selection=0)
            self._hands = mediapipe_solutions().hands.Hands(static_image_mode=not tracking, max_num_hands=2,
                                                   model_complexity=1, min_detection_confidence=0.5) if hands else None
        self._faces = FaceMeshAnalyzer(max_faces=1, tracking=False)
        self._tracking = tracking
        self._last: tuple[np.ndarray, np.ndarray] | None = None
        self._headless = False  # whether the last trusted skeleton was a headless one
        self._dt = 1.0 / max(fps, 1e-3)  # seconds between frames; the frames' own timestamps override it
        self._time: float | None = None
        self._filter: OneEuroFilter | None = None
        self._missing = 0
        self._quiet_calls = 3

    def analyse(self, image: np.ndarray, time: float | None = None) -> Body:
        """The body in `image`; on video, `time` (the frame's timestamp, seconds) paces the keypoints'
        smoothing, so a 30 fps, 16 fps or variable-rate video is filtered at the same cutoff in hertz."""
        if time is not None:
            self._tick(time)
        if self._quiet_calls > 0:
            self._quiet_calls -= 1
            with silenced_native_stderr():
                return self._analyse(image)
        return self._analyse(image)

    def _analyse(self, image: np.ndarray) -> Body:
        height, width = image.shape[:2]
        result = self._pose.process(image)
        segment = self._segmenter.process(image).segmentation_mask
        person = np.where(segment > 0.5, 255, 0).astype(np.uint8)
        if result.segmentation_mask is not None:
            person |= np.where(result.segmentation_mask > 0.5, 255, 0).astype(np.uint8)
        hands: list[np.ndarray] = []
        if self._hands is not None:
            found = self._hands.process(image).multi_hand_landmarks or []
            hands = [np.array([(p.x * width, p.y * height) for p in h.landmark], dtype=np.float32) for h in found]
        if result.pose_landmarks is not None:
            keypoints = np.array([(p.x * width, p.y * height, p.visibility) for p in result.pose_landmarks.landmark],
                                 dtype=np.float32)
            if self._face_confirms(image, keypoints) or (not self._tracking and _headless_torso(keypoints, person)):
                keypoints = self._smoothed(keypoints)
                self._last, self._missing, self._headless = (keypoints, _centroid(person)), 0, False
                return Body(keypoints, person, tuple(hands), "pose")
            if _headless_torso(keypoints, person):
                # a shop video cut at the chin has no face on any frame: its torso is trusted as a photo's is,
                # "headless" (a garment is placed on it, and on the frames it is carried to, not a mask)
                keypoints = self._smoothed(keypoints)
                self._last, self._missing, self._headless = (keypoints, _centroid(person)), 0, True
                return Body(keypoints, person, tuple(hands), "headless")
        if self._tracking and self._last is not None and self._missing < CARRY_FRAMES \
                and (person > 0).mean() >= MIN_PERSON_SHARE:  # no person now: nothing to carry keypoints onto
            self._missing += 1
            keypoints, centre = self._last
            moved = keypoints.copy()
            now = _centroid(person)
            if now is not None and centre is not None:
                moved[:, :2] += now - centre
            return Body(moved, person, tuple(hands), "headless" if self._headless else "carried")
        self._filter = None  # the next skeleton starts a new track
        return Body(None, person, tuple(hands), "none")

    def _tick(self, time: float) -> None:
        """The time since the last frame from the frames' timestamps (kept when they do not advance)."""
        if self._time is not None and time > self._time:
            self._dt = time - self._time
        self._time = time

    def reset(self) -> None:
        """Forget the track (a scene cut): no keypoints carried or smoothed across it."""
        self._last, self._missing, self._filter, self._time = None, 0, None, None

    def _smoothed(self, keypoints: np.ndarray) -> np.ndarray:
        """On video, x and y filtered over time (DESIGN.md: keypoints, not only masks, are smoothed), so a
        garment placed on them neither swims nor jitters; visibility is left as measured."""
        if not self._tracking:
            return keypoints
        if self._filter is None:
            shoulders = keypoints[[LEFT_SHOULDER, RIGHT_SHOULDER], :2]
            unit = max(float(np.linalg.norm(shoulders[0] - shoulders[1])), 8.0)
            self._filter = OneEuroFilter(min_cutoff=KEYPOINT_MIN_CUTOFF_HZ, beta=KEYPOINT_SPEED_GAIN, unit=unit)
        smoothed = keypoints.copy()
        smoothed[:, :2] = self._filter(keypoints[:, :2], self._dt)
        return smoothed

    def _face_confirms(self, image: np.ndarray, keypoints: np.ndarray) -> bool:
        """A skeleton is real when a face is found where it puts the head.

        With the head cropped off, MediaPipe pose still returns a confident skeleton slid down the body.
        """
        face = keypoints[list(FACE)]
        face = face[face[:, 2] >= VISIBLE, :2]
        if len(face) < 3:
            return False
        shoulders = keypoints[[LEFT_SHOULDER, RIGHT_SHOULDER], :2]
        shoulder_width = float(np.linalg.norm(shoulders[0] - shoulders[1]))
        if shoulders[:, 1].mean() - face[:, 1].mean() < 0.35 * shoulder_width:
            return False  # a head sitting on the shoulders: a skeleton squeezed onto the wrong thing
        # a crop about twice the face's width: the mesh's short-range detector wants the face large in view
        # (a looser crop lost the small faces of full-body shots, so their pose was never trusted)
        size = max(float(np.ptp(face[:, 0])) * FACE_CROP_PER_WIDTH, 16.0)
        cx, cy = face.mean(axis=0)
        height, width = image.shape[:2]
        x0, y0 = int(max(cx - size, 0)), int(max(cy - size, 0))
        x1, y1 = int(min(cx + size, width)), int(min(cy + size, height))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return False
        crop = image[y0:y1, x0:x1]
        factor = max(192 / max(crop.shape[:2]), 1.0)
        if factor > 1:
            crop = cv2.resize(crop, (int(crop.shape[1] * factor), int(crop.shape[0] * factor)))
        found = self._faces.detect(np.ascontiguousarray(crop))
        if not found:
            return False
        fx0, fy0, fx1, fy1 = (v / factor for v in found[0].bbox)
        nose_x, nose_y = keypoints[NOSE, :2] - (x0, y0)
        # the face must hold the skeleton's nose, not be cut by the frame's top edge (a chin only), and
        # be skin (a pale handbag can pass for a face)
        inside = fx0 <= nose_x <= fx1 and fy0 <= nose_y <= fy1 and y0 + fy0 > 0.01 * height
        box = image[int(y0 + max(fy0, 0)) : int(y0 + fy1), int(x0 + max(fx0, 0)) : int(x0 + fx1)]
        # (a grey photo has no colour to judge skin by: there the face detector's word is enough)
        return inside and (is_achromatic(box) or skin_fraction(box) > 0.3)

    def close(self) -> None:
        self._faces.close()
        for model in (self._pose, self._segmenter, self._hands):
            if model is not None:
                model.close()

    def __enter__(self) -> "BodyAnalyzer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


HEADLESS_NOSE_ROW = 0.05  # a photo whose skeleton puts the nose above this share of its height: head cut off
HEADLESS_TORSO_VISIBILITY = 0.8  # ... is trusted when shoulders and hips are this confident,
HEADLESS_TORSO_LENGTH = 0.8  # ... the hips this many shoulder widths below the shoulders,
HEADLESS_SHOULDER_SHARE = 0.1  # ... the shoulders at least this share of the photo's width apart


def _headless_torso(keypoints: np.ndarray, person: np.ndarray) -> bool:
    """A still photo cut at the chin (a shop photo) has no face to confirm the skeleton; its pose is
    trusted from the torso: the nose off the top, shoulders and hips confident, on the person, and
    shaped like a torso (a skeleton slid down a body puts its head on the chest, inside the frame)."""
    height, width = person.shape
    torso = keypoints[[LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP]]
    if keypoints[NOSE, 1] > HEADLESS_NOSE_ROW * height or (torso[:, 2] < HEADLESS_TORSO_VISIBILITY).any():
        return False
    xs, ys = np.round(torso[:, 0]).astype(int), np.round(torso[:, 1]).astype(int)
    if ((xs < 0) | (xs >= width) | (ys < 0) | (ys >= height)).any() or not (person[ys, xs] > 0).all():
        return False
    shoulder_width = float(np.linalg.norm(torso[0, :2] - torso[1, :2]))
    drop = float(torso[2:, 1].mean() - torso[:2, 1].mean())
    return shoulder_width >= HEADLESS_SHOULDER_SHARE * width and drop >= HEADLESS_TORSO_LENGTH * shoulder_width


def is_skin(image: np.ndarray) -> np.ndarray:
    """Per pixel: in the usual skin range of YCrCb (any skin tone; lighting shifts Y, not Cr/Cb)."""
    ycrcb = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
    return (ycrcb[..., 1] > 135) & (ycrcb[..., 1] < 180) & (ycrcb[..., 2] > 80) & (ycrcb[..., 2] < 135)


def is_achromatic(image: np.ndarray) -> bool:
    """True for grey pixels (a greyscale photo read as three equal channels): colour tests do not apply."""
    if image.size == 0 or image.ndim < 3:
        return image.ndim < 3
    pixels = image.reshape(-1, image.shape[-1]).astype(np.int16)
    return float(np.abs(pixels - pixels.mean(axis=1, keepdims=True)).mean()) < 2.0


def skin_fraction(image: np.ndarray) -> float:
    """Share of skin-coloured pixels."""
    return float(is_skin(image).mean()) if image.size else 0.0


def _centroid(mask: np.ndarray) -> np.ndarray | None:
    moments = cv2.moments(mask, binaryImage=True)
    if moments["m00"] < 1:
        return None
    return np.array([moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]], dtype=np.float32)
