"""Find and track every face of a video: full-range detection, the mesh on each face's crop, tracks
carried from frame to frame by the previous mesh, and short misses bridged by interpolation.

Per frame, each live track's box (its last mesh's box, moved by its velocity) is cropped and the mesh
fitted there, so a face found once is followed without the detector. The detector (full range, on
tiles: `detection.FaceDetector`) runs on the first frame, after a scene cut, when a track is lost, and
otherwise on a schedule that backs off while it finds nothing new (a close-up pays for it about once a
second) and comes back to every frame while faces keep arriving (a crowd); its tiles are skipped when
they could only find faces smaller than the `max_faces` fitted ones (`FaceFinder._tiles_needed`). A track missing for a few
frames is kept and searched for at its predicted place; once it is seen again, `GapFiller` (which runs
behind the analysis by those few frames) fills the frames between with the meshes interpolated
between the two sightings, so a face seen in most frames is swapped in all of them. Cuts end tracks.
"""

from __future__ import annotations

import sys
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from ..face3d.landmarks import LEFT_EYE_CORNERS, RIGHT_EYE_CORNERS
from .cache import FrameAnalysis
from .detection import FaceBox, FaceDetector
from .face import CropMeshFitter, Face, box_iou, box_overlap

MAX_DETECTION_INTERVAL = 32  # frames between detections on a steady shot of one face (about a second)
CROWD_DETECTION_INTERVAL = 8  # the same with several faces in view, where more keep arriving
IDLE_DETECTION_INTERVAL = 4  # frames between detections while no face is tracked
# Crop sides per detector box side (the box is tight: brows to mouth), tried in turn: the mesh's own detector
# misses some blurred or turned faces on one crop and finds them on another.
DETECTOR_CROPS = (2.0, 1.6, 2.8)
# Where no crop finds a face, the crops of these sides are tried sharpened (`face.sharpened`): the mesh's
# detector misses a blurred face on one framing and finds it on another (movie_several_people frame 174, an
# audience face out of focus: nothing on the plain crops, a face on the sharpened 1.6 crop). A retry's face is
# weaker evidence, kept only where its box overlaps the detector's `SHARPENED_OVERLAP` (intersection over the
# smaller box), its eyes and nose lie within `KEYPOINT_OFFSET` box widths of the detector's key points, and it
# looks straight on (the mesh turned under `RETRY_YAW` degrees): on crowd_1080p the retries fitted a frontal
# mesh on an old man's profile (14-22 degrees) and on a half-hidden face, running onto his neighbour; on
# movie_several_people on a face half hidden behind the dancer's hair (13-26 degrees); the blurred frontal
# faces they found read 2-5 degrees.
RETRY_CROPS = (1.6, 2.0)
SHARPENED_OVERLAP = 0.5
KEYPOINT_OFFSET = 0.2
RETRY_YAW = 12.0
NOSE_TIP = 1  # the face mesh's nose-tip point
MESH_CROP = 1.6  # crop side per previous mesh box side (the mesh's box holds the whole face)
SAME_FACE = 0.5  # intersection over the smaller box above which two boxes are one face
VELOCITY_KEEP = 0.5  # each new step's share of a track's velocity estimate
# A track the detector saw in fewer than this share of its detection runs (after at least
# `DOUBT_AFTER_RUNS`) is doubtful: the mesh, confirmed once at a low score, kept fitting something that
# is not a face (the back of a grey-haired head, a crest on a wall).
DETECTOR_SHARE = 1 / 3
DOUBT_AFTER_RUNS = 3
# Where the detector sees a track as a near-profile (its nose key point beyond both eyes' key points, by
# more than `PROFILE_MARGIN` of their span) the track is not swapped: the mesh, whose detector and landmarks
# expect a face with two visible eyes, fits such a face far too frontal (a passer-by in crowd_1080p got a
# two-eyed face pasted on her profile). A track seen as a near-profile in at least `PROFILE_SHARE` of its
# sightings is judged per stretch, so a person turning to a profile halfway keeps the frontal half: each
# sighting with its two nearest ones (near-profile when at least `PROFILE_SHARE` of the three are: one
# frame's key points are noisy on blurred faces), each frame as its nearest sighting. A track seen mostly
# frontal is swapped throughout: its turned stretches are three-quarter views the swap places well (two
# boys in crowd_1080p looking aside, both signals past their thresholds, looked right swapped).
PROFILE_MARGIN = 0.1
# The detector's key points miss some near-profiles (a woman turned about 70 degrees in crowd_1080p had
# her nose between her eye points on most frames); the mesh, too frontal on such a face, still turns
# 43-58 degrees there, past `PROFILE_YAW`; frontal faces on that video stay under 35. The boys looking
# aside reach 40-53 on their turned frames too, which is why only a mostly turned track is cut.
PROFILE_YAW = 40.0
PROFILE_SHARE = 1 / 2
PROFILE_WINDOW = 3
OPEN_END = sys.maxsize  # the last frame of a range that runs to the end of the video


def near_profile(box: FaceBox) -> bool:
    """Whether the detector's key points say the face is turned to a near-profile: the nose tip lies
    outside the span of the two eyes (a frontal face has it near the middle, a three-quarter face between
    the middle and the far eye), or the eyes fall together. Without key points (all zero) it says no."""
    if not np.any(box.keypoints):
        return False
    eyes, nose = box.keypoints[:2, 0], box.keypoints[2, 0]
    near, far = float(eyes.min()), float(eyes.max())
    span = far - near
    if span < 0.1 * box.width:
        return True
    position = (nose - near) / span  # 0..1 between the eyes
    return bool(position < -PROFILE_MARGIN or position > 1.0 + PROFILE_MARGIN)


def keypoint_offset(face: Face, box: FaceBox) -> float:
    """How far the mesh's eyes and nose tip lie from the detector's (the mean of the three points each),
    over the detector box's width; 0 without key points."""
    if not np.any(box.keypoints):
        return 0.0
    corners = face.points[[*RIGHT_EYE_CORNERS, *LEFT_EYE_CORNERS], :2]
    mesh = (corners[:2].mean(axis=0) + corners[2:].mean(axis=0) + face.points[NOSE_TIP, :2]) / 3
    detector = box.keypoints[:3].mean(axis=0)
    return float(np.linalg.norm(mesh - detector) / box.width)


def agrees_with_keypoints(face: Face, box: FaceBox) -> bool:
    """Whether the mesh sits on the face the detector saw: a retry's mesh can land on a face half hidden
    behind hair, or on a turned head's hair, where the detector's eyes and nose are elsewhere."""
    return keypoint_offset(face, box) <= KEYPOINT_OFFSET


def mesh_yaw(face: Face) -> float:
    """The face's turn (degrees, either way) read from its mesh: the angle of the line between the outer
    eye corners out of the image plane (z is in x's scale)."""
    dx, _, dz = face.points[LEFT_EYE_CORNERS[1]] - face.points[RIGHT_EYE_CORNERS[0]]
    return float(np.degrees(np.arctan2(abs(dz), abs(dx))))


@dataclass
class _Track:
    """A live track: its last mesh box, velocity (box centre, pixels per frame), last sighting, misses."""

    box: tuple[float, float, float, float]
    velocity: np.ndarray
    last_seen: int
    misses: int = 0

    def predicted(self, index: int) -> tuple[float, float, float, float]:
        """The box moved on at constant velocity to frame `index`."""
        dx, dy = self.velocity * (index - self.last_seen)
        x0, y0, x1, y1 = self.box
        return x0 + dx, y0 + dy, x1 + dx, y1 + dy

    def seen(self, face: Face, index: int) -> None:
        (x0, y0, x1, y1), (a0, b0, a1, b1) = face.bbox, self.box
        step = np.array([(x0 + x1 - a0 - a1) / 2, (y0 + y1 - b0 - b1) / 2]) / max(index - self.last_seen, 1)
        self.velocity = VELOCITY_KEEP * step + (1 - VELOCITY_KEEP) * self.velocity
        self.box, self.last_seen, self.misses = face.bbox, index, 0


class FaceFinder:
    """Every face of a video's frames, in order, with stable track ids (pass frames one by one).

    `max_faces` keeps the largest faces; `min_size` is the smallest detector box width (pixels) that
    starts a track; a track missed for more than `max_misses` frames ends. `tracking=False` treats every
    image as unrelated (detection on each). Detector and fitter are built here unless given."""

    def __init__(self, max_faces: int = 16, min_size: float = 24.0, max_misses: int = 3, tracking: bool = True,
                 detector: FaceDetector | None = None, fitter: CropMeshFitter | None = None) -> None:
        if max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {max_faces}")
        if min_size < 1:
            raise ValueError(f"min_size must be at least 1 px, got {min_size}")
        self.max_faces, self.min_size, self.max_misses, self.tracking = max_faces, min_size, max_misses, tracking
        self._detector = detector or FaceDetector()
        self._fitter = fitter or CropMeshFitter()
        self._tracks: dict[int, _Track] = {}
        self._next_id = 0
        self._next_detection = 0
        self._interval = 1
        self.detections = 0  # detector runs so far (for the benchmark's cost figures)
        self.born: list[int] = []  # tracks that began on the last frame
        # per track (ended ones too): detector runs during its life and runs whose boxes included it
        self.detector_checks: dict[int, list[int]] = {}
        # per track: the frames of the runs whose boxes included it, and whether it was seen as a near-profile
        # there (the box's key points or the mesh's turn)
        self.sightings: dict[int, list[tuple[int, bool]]] = {}

    def fit_still(self, image: np.ndarray, box: tuple[float, float, float, float]) -> Face | None:
        """The mesh of the face in `box` of an image outside the frame order (looking back)."""
        return self._fitter.fit(image, box, MESH_CROP)

    def doubtful(self) -> set[int]:
        """Tracks the detector rarely confirmed (the mesh followed something that is not a face)."""
        return {tid for tid, (runs, hits) in self.detector_checks.items()
                if runs >= DOUBT_AFTER_RUNS and hits < DETECTOR_SHARE * runs}

    def turned(self, tid: int) -> tuple[tuple[int, int], ...]:
        """Frame ranges (first, last, inclusive; the last `OPEN_END` past the last sighting) in which track
        `tid` is judged a near-profile (the mesh's fit is far too frontal there), for a track mostly seen
        so: each detector sighting with its nearest ones (`PROFILE_WINDOW` in all), each frame as its
        nearest sighting (ties: turned)."""
        seen = self.sightings.get(tid, [])
        count = len(seen)
        ranges: list[tuple[int, int]] = []
        if count < DOUBT_AFTER_RUNS or sum(p for _, p in seen) < PROFILE_SHARE * count:
            return ()  # too few sightings to judge, or a mostly frontal face: swapped throughout
        for i, (index, _) in enumerate(seen):
            start = min(max(i - PROFILE_WINDOW // 2, 0), max(count - PROFILE_WINDOW, 0))
            window = [profile for _, profile in seen[start : start + PROFILE_WINDOW]]
            if sum(window) < PROFILE_SHARE * len(window):
                continue
            first = 0 if i == 0 else (seen[i - 1][0] + index + 1) // 2  # ceil of the midpoint
            last = OPEN_END if i == count - 1 else (index + seen[i + 1][0]) // 2
            if ranges and ranges[-1][1] >= first - 1:
                ranges[-1] = (ranges[-1][0], last)
            else:
                ranges.append((first, last))
        return tuple(ranges)

    def _end(self, tid: int) -> None:
        del self._tracks[tid]
        self._fitter.release(tid)

    def reset(self) -> None:
        """End every track (a scene cut) and detect on the next frame."""
        for tid in list(self._tracks):
            self._end(tid)
        self._interval = 1
        self._next_detection = -1

    def find(self, image: np.ndarray, index: int) -> tuple[list[Face], list[int]]:
        """Faces of frame `index` (RGB uint8), largest first, and their track ids."""
        if not self.tracking:
            self.reset()
        fitted: dict[int, Face] = {}
        lost = False
        self.born = []
        for tid, track in sorted(self._tracks.items(), key=lambda t: t[1].misses):
            face = self._fitter.fit(image, track.predicted(index), MESH_CROP, tid)
            if face is not None and not any(box_iou(face.bbox, f.bbox) > SAME_FACE for f in fitted.values()):
                fitted[tid] = face
            elif track.misses == 0:
                lost = True  # just lost: look again with the detector now
        if lost or index >= self._next_detection or not self._tracks:
            new = self._detect(image, index, fitted)
            cap = MAX_DETECTION_INTERVAL if len(fitted) <= 1 else CROWD_DETECTION_INTERVAL
            self._interval = 1 if new else min(2 * self._interval, cap)
            if not fitted:
                self._interval = min(self._interval, IDLE_DETECTION_INTERVAL)
            self._next_detection = index + self._interval
        kept = sorted(fitted.items(), key=lambda item: item[1].area, reverse=True)[: self.max_faces]
        for tid, face in kept:
            self._tracks[tid].seen(face, index)
        kept_ids = {tid for tid, _ in kept}
        for tid in list(self._tracks):
            if tid not in kept_ids:
                self._tracks[tid].misses += 1
                if self._tracks[tid].misses > self.max_misses or tid in fitted:
                    self._end(tid)  # gone too long, or dropped for larger faces
        return [face for _, face in kept], [tid for tid, _ in kept]

    def _detect(self, image: np.ndarray, index: int, fitted: dict[int, Face]) -> int:
        """Fit the mesh on detections that are no fitted face yet; returns how many new tracks began."""
        self.detections += 1
        new = 0
        confirmed: dict[int, FaceBox] = {}  # track: the detector box that saw it
        boxes = self._detector.detect(image, lambda whole: self._tiles_needed(whole, fitted))
        for box in sorted(boxes, key=lambda b: b.width, reverse=True):
            seen_again = {tid for tid, f in fitted.items() if box_overlap(box.box, f.bbox) >= SAME_FACE}
            for tid in seen_again:
                confirmed.setdefault(tid, box)
            if seen_again:
                continue
            if len(fitted) >= self.max_faces and box.width < min(f.bbox[2] - f.bbox[0] for f in fitted.values()):
                continue  # only smaller faces are left, and the largest `max_faces` are fitted already
            if box.width < self.min_size:
                continue
            face = self._fit_detected(image, box)
            if face is None or any(box_iou(face.bbox, f.bbox) > SAME_FACE for f in fitted.values()):
                continue
            missing = [(box_iou(face.bbox, t.predicted(index)), tid) for tid, t in self._tracks.items()
                       if tid not in fitted]
            overlap, tid = max(missing, default=(0.0, -1))
            if overlap < 0.3:  # not a missing track found again: a new track
                tid, self._next_id, new = self._next_id, self._next_id + 1, new + 1
                self._tracks[tid] = _Track(face.bbox, np.zeros(2), index)
                self.born.append(tid)
            fitted[tid] = face
            confirmed[tid] = box
        for tid in fitted:
            checks = self.detector_checks.setdefault(tid, [0, 0])
            checks[0] += 1
            checks[1] += tid in confirmed
            if tid in confirmed:
                turned = near_profile(confirmed[tid]) or mesh_yaw(fitted[tid]) >= PROFILE_YAW
                self.sightings.setdefault(tid, []).append((index, turned))
        return new

    def _fit_detected(self, image: np.ndarray, box: FaceBox) -> Face | None:
        """The mesh on a detector's box: each crop of `DETECTOR_CROPS`, then the sharpened crops of
        `RETRY_CROPS` (a blurred face); a retry's face is kept only on a frontal face that agrees with the
        detector's key points (`agrees_with_keypoints`)."""
        for scale in DETECTOR_CROPS:
            face = self._fitter.fit(image, box.box, scale)
            if face is not None:
                return face
        for scale in RETRY_CROPS:
            face = self._fitter.fit(image, box.box, scale, sharpen=True, min_overlap=SHARPENED_OVERLAP)
            if face is not None:
                return face if agrees_with_keypoints(face, box) and mesh_yaw(face) < RETRY_YAW else None
        return None

    def _tiles_needed(self, whole: list[FaceBox], fitted: dict[int, Face]) -> bool:
        """Whether the detector's tiles can change this frame's outcome. They find the faces too small for
        the whole-frame pass; a face wider than a tile's overlap is that pass's to find. So with
        `max_faces` faces fitted (a smaller face starts no track), each at least that wide and confirmed
        by the whole-frame pass, the tiles could only add smaller faces, which are dropped: they are
        skipped (a close-up paid about 60 ms per tiled run at 1080p)."""
        if len(fitted) < self.max_faces:
            return True
        narrowest = getattr(self._detector, "whole_frame_width", float("inf"))
        return not all(f.bbox[2] - f.bbox[0] >= narrowest
                       and any(box_overlap(b.box, f.bbox) >= SAME_FACE for b in whole) for f in fitted.values())

    def close(self) -> None:
        self._detector.close()
        self._fitter.close()

    def __enter__(self) -> "FaceFinder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def interpolate(before: Face, after: Face, share: float) -> Face:
    """The mesh `share` of the way from `before` to `after` (0..1), point by point."""
    return Face(points=((1.0 - share) * before.points + share * after.points).astype(np.float32))


class GapFiller:
    """Bridges short misses of a track: frame analyses go in, and come out `max_gap` frames later with
    the frames between two sightings of a track (at most `max_gap` apart) given interpolated faces,
    flagged as bridged. Scene cuts end every track. Memory: `max_gap` frames of faces."""

    def __init__(self, max_gap: int = 3, delay: int = 0) -> None:
        if max_gap < 0 or delay < 0:
            raise ValueError(f"max_gap and delay must be at least 0, got {max_gap} and {delay}")
        self.max_gap = max_gap
        self.delay = max(delay, max_gap)  # frames held back (`add` can still change them)
        self._pending: deque[FrameAnalysis] = deque()
        self._last: dict[int, tuple[int, Face]] = {}

    def push(self, item: FrameAnalysis) -> list[FrameAnalysis]:
        """Take the next frame's analysis; return the analyses that are now final, in order."""
        if item.scene_cut:
            self._last.clear()
        for track, face, bridged in zip(item.tracks, item.faces, item.bridged_flags):
            if bridged:
                continue
            last = self._last.get(track)
            if last is not None and 1 < item.index - last[0] <= self.max_gap + 1:
                start, before = last
                for k, pending in enumerate(self._pending):
                    if start < pending.index < item.index and track not in pending.tracks:
                        share = (pending.index - start) / (item.index - start)
                        self._pending[k] = with_face(pending, interpolate(before, face, share), track)
            self._last[track] = (item.index, face)
        self._pending.append(item)
        done = []
        while self._pending and self._pending[0].index <= item.index - self.delay:
            done.append(self._pending.popleft())
        return done

    def held(self, index: int) -> FrameAnalysis | None:
        """The analysis of frame `index` if it is still held."""
        return next((item for item in self._pending if item.index == index), None)

    def add(self, index: int, face: Face, track: int) -> None:
        """Add a face found later (looking back) to the held frame `index`."""
        for k, pending in enumerate(self._pending):
            if pending.index == index:
                self._pending[k] = with_face(pending, face, track, bridged=False)
                return
        raise ValueError(f"frame {index} is no longer held")

    def flush(self) -> list[FrameAnalysis]:
        """The analyses still held (at the end of the video)."""
        done, self._pending = list(self._pending), deque()
        return done


def with_face(item: FrameAnalysis, face: Face, track: int, bridged: bool = True) -> FrameAnalysis:
    """`item` with a face added (bridged by default), faces kept largest first."""
    entries = sorted([*zip(item.faces, item.tracks, item.bridged_flags), (face, track, bridged)],
                     key=lambda e: e[0].area, reverse=True)
    flags = tuple(e[2] for e in entries)
    return replace(item, faces=tuple(e[0] for e in entries), tracks=tuple(e[1] for e in entries),
                   bridged=flags if any(flags) else ())
