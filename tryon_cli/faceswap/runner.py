"""Face swap planner and runner: analyse the target, plan mask and conditions per frame, render.

Two passes over the target: the first analyses every frame (face mesh, tracks, scene cuts) and learns
each track's identity shape; the second plans and renders with the engine and encodes. Frames where
no chosen face is found pass through untouched and are counted.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ..analysis.cache import AnalysisCache, FrameAnalysis
from ..analysis.face import Face, FaceMeshAnalyzer, FaceTracker
from ..analysis.identity import SAME_PERSON_DISTANCE, DlibFaceEncoder, descriptor_distance
from ..colour import lab_statistics
from ..render.contract import Engine, FaceTarget, SourceFace, SwapConditions
from ..render.schedule import render_stream
from ..errors import InputError
from ..face3d.fitting import (blink_texture_points, fit_pose, frontalize, normalized_shape, recombine, robust_identity,
                             rotation_angle_degrees)
from ..face3d.raster import normal_map, triangulate
from ..masks.face import face_region, mouth_interior, occlusion_mask, skin_sample_region, skin_statistics
from ..temporal import ExponentialAverage, OneEuroFilter, SceneCutDetector, landmark_filter
from ..io.video import Frame

Progress = Callable[[str, int, int], None]
MAX_IDENTITY_SAMPLES = 240
EXPRESSION_SMOOTHING = 0.25  # expression is smoothed this much less than the head pose
FACE_POINTS = 468  # the iris points stay out of the triangulation: they would fold the lids on a blink
EYE_DISTANCES_PER_FACE = 3.0  # normalised shapes are in eye distances; filters think in face sizes


@dataclass(frozen=True)
class SwapOptions:
    """How to swap. Defaults are the recommended settings."""

    target_face: str = "largest"
    reference: np.ndarray | None = None
    mouth_mask: bool = True
    occlusion: bool = True
    smooth: float = 0.5
    use_3d: bool = True
    expression_gain: float = 1.0
    max_faces: int = 4


@dataclass
class SwapReport:
    """What a swap did, frame by frame, in counts."""

    frames: int = 0
    swapped: int = 0
    passed_through: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {
            "frames": self.frames,
            "frames_swapped": self.swapped,
            "frames_passed_through": sum(self.passed_through.values()),
            "passed_through_reasons": dict(self.passed_through),
            "seconds": round(self.seconds, 3),
            "fps": round(self.fps, 2),
        }


def prepare_source(images: list[tuple[Path, np.ndarray]], encoder: DlibFaceEncoder | None = None) -> SourceFace:
    """The source identity from one or more photos: identity shape, best texture, skin colour."""
    if not images:
        raise InputError("no source images given")
    faces: list[tuple[Path, np.ndarray, Face]] = []
    with FaceMeshAnalyzer(max_faces=4, tracking=False) as analyzer:
        for path, image in images:
            found = analyzer.detect(image)
            if not found:
                raise InputError(f"{path}: no face found in the source image")
            faces.append((path, image, found[0]))
    reference = frontalize(faces[0][2].points)
    poses, shapes = zip(*(normalized_shape(reference, face.points) for _, _, face in faces))
    identity = robust_identity(np.stack(shapes))
    frontal = int(np.argmin([rotation_angle_degrees(p.rotation, np.eye(3)) - 1e-3 * f.size
                             for p, (_, _, f) in zip(poses, faces)]))
    _, texture, face = faces[frontal]
    skin_region = skin_sample_region(texture.shape[:2], face.points)
    skin = lab_statistics(texture, skin_region)
    if skin is None:
        raise InputError(f"{faces[frontal][0]}: the source face is too small to use")
    oval = face_region(texture.shape[:2], face.points)
    occluded = occlusion_mask(texture, face.points, oval, skin_statistics(texture, skin_region))
    texture_mask = oval & ~occluded
    descriptor = None
    if encoder is not None:
        found = [encoder.encode(image, f.bbox) for _, image, f in faces]
        found = [d for d in found if d is not None]
        descriptor = np.mean(found, axis=0) if found else None
    return SourceFace(
        texture=texture,
        texture_points=face.points,
        identity_shape=identity,
        reference=reference,
        triangles=triangulate(identity[:FACE_POINTS]),
        skin_stats=skin,
        texture_mask=texture_mask,
        descriptor=descriptor,
    )


@dataclass
class TrackState:
    """What the analysis pass learned about one face track."""

    samples: list[np.ndarray] = field(default_factory=list)
    stride: int = 1
    seen: int = 0
    descriptor: np.ndarray | None = None

    def add(self, reference: np.ndarray, points: np.ndarray) -> None:
        """Count a sighting; pose-normalise and keep it only when it falls on the sampling stride."""
        if self.seen % self.stride == 0:
            self.samples.append(normalized_shape(reference, points)[1])
            if len(self.samples) >= MAX_IDENTITY_SAMPLES:
                self.samples = self.samples[::2]
                self.stride *= 2
        self.seen += 1


def analyse_frames(
    frames: Iterable[Frame],
    reference: np.ndarray,
    tracking: bool,
    max_faces: int,
    encoder: DlibFaceEncoder | None = None,
    progress: Progress | None = None,
    total: int = 0,
) -> tuple[AnalysisCache, dict[int, TrackState]]:
    """Pass 1: faces, tracks and scene cuts of every frame, and each track's shape samples."""
    cache = AnalysisCache()
    tracks: dict[int, TrackState] = {}
    tracker, cuts = FaceTracker(), SceneCutDetector()
    with FaceMeshAnalyzer(max_faces=max_faces, tracking=tracking) as analyzer:
        for frame in frames:
            cut = cuts(frame.image)
            if cut:
                tracker.reset()
            faces = analyzer.detect(frame.image)
            ids = tracker.assign(faces)
            for tid, face in zip(ids, faces):
                state = tracks.setdefault(tid, TrackState())
                state.add(reference, face.points)
                if encoder is not None and state.descriptor is None:
                    state.descriptor = encoder.encode(frame.image, face.bbox)
            cache.append(FrameAnalysis(frame.index, tuple(faces), tuple(ids), cut))
            if progress:
                progress("analyse", frame.index + 1, total)
    return cache, tracks


def choose_faces(analysis: FrameAnalysis, options: SwapOptions, matching: set[int]) -> tuple[list[int], str]:
    """Indices of the faces to swap in a frame, or a reason why none."""
    if not analysis.faces:
        return [], "no face"
    order = list(range(len(analysis.faces)))
    mode = options.target_face
    if options.reference is not None:
        chosen = [i for i in order if analysis.tracks[i] in matching]
        return chosen[:1], "" if chosen else "no face matches the reference"
    if mode == "all":
        return order, ""
    if mode == "largest":
        return [0], ""
    index = int(mode)
    left_to_right = sorted(order, key=lambda i: analysis.faces[i].bbox[0])
    if index >= len(left_to_right):
        return [], f"no face number {index}"
    return [left_to_right[index]], ""


@dataclass
class _TrackFilters:
    landmarks: OneEuroFilter | None
    expression: OneEuroFilter | None
    skin: ExponentialAverage
    last_index: int


class SwapPlanner:
    """Pass 2 planning: smoothed target mesh -> pose, expression -> recombined face, mask, conditions."""

    def __init__(self, source: SourceFace, identities: dict[int, np.ndarray], options: SwapOptions,
                 need_normal_map: bool) -> None:
        self.source = source
        self.identities = identities
        self.options = options
        self.need_normal_map = need_normal_map
        self._filters: dict[int, _TrackFilters] = {}

    def reset(self) -> None:
        self._filters.clear()

    def _filters_for(self, track: int, face: Face, index: int) -> _TrackFilters:
        state = self._filters.get(track)
        if state is None or state.last_index != index - 1:
            keep = 0.9 * min(self.options.smooth, 1.0) if self.options.smooth > 0 else 0.0
            state = _TrackFilters(
                landmarks=landmark_filter(self.options.smooth, face.size),
                expression=landmark_filter(self.options.smooth * EXPRESSION_SMOOTHING, EYE_DISTANCES_PER_FACE),
                skin=ExponentialAverage(keep),
                last_index=index,
            )
            self._filters[track] = state
        state.last_index = index
        return state

    def plan_face(self, image: np.ndarray, face: Face, track: int, index: int, dt: float) -> tuple[FaceTarget, np.ndarray]:
        """The face to render and the mask where it may change pixels."""
        shape = image.shape[:2]
        filters = self._filters_for(track, face, index)
        target = filters.landmarks(face.points, dt) if filters.landmarks else face.points
        if self.options.use_3d:
            # Pose from the smoothed mesh (steady head); expression from the raw mesh, lightly
            # smoothed, so blinks and fast mouth moves are not flattened.
            pose = fit_pose(self.source.reference, target)
            _, normalized = normalized_shape(self.source.reference, face.points)
            identity = self.identities.get(track, normalized)
            if filters.expression is not None:
                normalized = identity + filters.expression(normalized - identity, dt)
            recombined = recombine(self.source.identity_shape, identity, normalized, self.options.expression_gain)
            points = pose.apply(recombined)
            texture_points = blink_texture_points(self.source.texture_points, self.source.identity_shape, recombined)
        else:
            points, texture_points = target, None
        both = np.concatenate([target[:, :2], points[:, :2]])
        margin = int(0.15 * float(np.ptp(both[:, 0])) + 8)
        x0, y0 = np.maximum(np.floor(both.min(axis=0)).astype(int) - margin, 0)
        x1, y1 = np.minimum(np.ceil(both.max(axis=0)).astype(int) + margin, (shape[1], shape[0]))
        crop = image[y0:y1, x0:x1]
        offset = np.array([x0, y0, 0], dtype=np.float32)
        local_target, local_points = target - offset, points - offset
        local_shape = crop.shape[:2]
        target_face = face_region(local_shape, local_target)
        mask = target_face | face_region(local_shape, local_points)
        skin_region = skin_sample_region(local_shape, local_target)
        skin_stats = lab_statistics(crop, skin_region)
        target_skin = filters.skin(skin_stats).astype(np.float32) if skin_stats is not None else None
        if self.options.occlusion:
            occluders = occlusion_mask(crop, local_target, target_face, skin_statistics(crop, skin_region))
            mask &= ~occluders
        if self.options.mouth_mask:
            mask &= ~mouth_interior(local_shape, local_target, local_points)
        full_mask = np.zeros(shape, dtype=np.uint8)
        full_mask[y0:y1, x0:x1] = mask
        normals = normal_map(points, self.source.triangles, shape) if self.need_normal_map else None
        face_target = FaceTarget(points=points, target_points=target, target_skin=target_skin, normal_map=normals,
                                 texture_points=texture_points)
        return face_target, full_mask


def _debug_images(debug_dir: Path, index: int, image: np.ndarray, mask: np.ndarray, faces: list[FaceTarget],
                  triangles: np.ndarray) -> None:
    import cv2

    from ..io.media import write_image

    overlay = image.copy()
    for face in faces:
        for x, y in face.target_points[:, :2].astype(int):
            cv2.circle(overlay, (int(x), int(y)), 1, (0, 255, 0), -1)
        for x, y in face.points[:, :2].astype(int):
            cv2.circle(overlay, (int(x), int(y)), 1, (255, 0, 0), -1)
    write_image(debug_dir / f"{index:06d}_mask.png", mask)
    write_image(debug_dir / f"{index:06d}_landmarks.png", overlay)
    if faces:
        normals = faces[0].normal_map if faces[0].normal_map is not None else normal_map(
            faces[0].points, triangles, image.shape[:2])
        write_image(debug_dir / f"{index:06d}_normals.png", normals)


def swap_frames(
    frames_for_pass: Callable[[], Iterator[Frame]],
    source: SourceFace,
    engine: Engine,
    write: Callable[[Frame, np.ndarray], None],
    options: SwapOptions = SwapOptions(),
    tracking: bool = True,
    total: int = 0,
    encoder: DlibFaceEncoder | None = None,
    progress: Progress | None = None,
    debug_dir: Path | None = None,
) -> SwapReport:
    """Swap `source` into every frame of the target; `frames_for_pass()` opens the target afresh."""
    started = time.perf_counter()
    report = SwapReport()
    max_faces = 1 if options.target_face == "largest" and options.reference is None else options.max_faces
    cache, tracks = analyse_frames(
        frames_for_pass(), source.reference, tracking, max_faces,
        encoder if options.reference is not None else None, progress, total,
    )
    try:
        identities = {tid: robust_identity(np.stack(state.samples)) for tid, state in tracks.items()}
        matching = _matching_tracks(tracks, options.reference)
        planner = SwapPlanner(source, identities, options, engine.needs_normal_map or debug_dir is not None)
        previous_time: float | None = None

        def planned() -> Iterator[tuple]:
            nonlocal previous_time
            for frame, analysis in zip(frames_for_pass(), cache):
                if analysis.scene_cut:
                    planner.reset()
                dt = frame.time - previous_time if previous_time is not None else 0.0
                previous_time = frame.time
                chosen, reason = choose_faces(analysis, options, matching)
                report.frames += 1
                if not chosen:
                    report.passed_through[reason] += 1
                    yield frame, frame.image, None, None
                    continue
                planned_faces = [planner.plan_face(frame.image, analysis.faces[i], analysis.tracks[i], frame.index, dt)
                                 for i in chosen]
                faces = [p[0] for p in planned_faces]
                mask = np.bitwise_or.reduce([p[1] for p in planned_faces])
                report.swapped += 1
                if debug_dir is not None:
                    _debug_images(debug_dir, frame.index, frame.image, mask, faces, source.triangles)
                yield frame, frame.image, mask, SwapConditions(source, tuple(faces))

        written = 0
        for frame, rendered in render_stream(engine, planned()):
            write(frame, rendered)
            written += 1
            if progress:
                progress("render", written, total)
    finally:
        cache.close()
    report.seconds = time.perf_counter() - started
    return report


def _matching_tracks(tracks: dict[int, TrackState], reference: np.ndarray | None) -> set[int]:
    if reference is None:
        return set()
    return {
        tid for tid, state in tracks.items()
        if state.descriptor is not None and descriptor_distance(state.descriptor, reference) < SAME_PERSON_DISTANCE
    }


