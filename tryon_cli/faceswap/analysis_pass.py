"""Pass 1 of a swap: faces, tracks and scene cuts of every frame (short misses of a track bridged by
interpolation), each track's identity samples."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping

import numpy as np

from ..analysis.cache import AnalysisCache, FrameAnalysis
from ..analysis.face import Face, box_iou
from ..analysis.tracking import FaceFinder, GapFiller
from ..analysis.identity import SAME_PERSON_DISTANCE, DlibFaceEncoder, descriptor_distance
from ..face3d.fitting import normalized_shape
from ..io.video import Frame
from ..pipeline import threaded
from ..render.contract import Progress
from ..temporal import SceneCutDetector
from .options import SwapOptions

MAX_IDENTITY_SAMPLES = 240
LOOK_BACK = 8  # frames a new track is followed back into (the detector's interval in a crowd)


@dataclass
class TrackState:
    """What the analysis pass learned about one face track."""

    samples: list[np.ndarray] = field(default_factory=list)
    stride: int = 1
    seen: int = 0
    descriptor: np.ndarray | None = None
    doubtful: bool = False  # the detector rarely saw it: not swapped (FaceFinder.doubtful)
    turned: tuple[tuple[int, int], ...] = ()  # frame ranges judged near-profile: not swapped (FaceFinder.turned)

    def add(self, frontal_mesh: np.ndarray, points: np.ndarray) -> None:
        """Count a sighting; pose-normalise and keep it only when it falls on the sampling stride."""
        if self.seen % self.stride == 0:
            self.samples.append(normalized_shape(frontal_mesh, points)[1])
            if len(self.samples) >= MAX_IDENTITY_SAMPLES:
                self.samples = self.samples[::2]
                self.stride *= 2
        self.seen += 1


def analyse_frames(
    frames: Iterable[Frame],
    frontal_mesh: np.ndarray,
    tracking: bool,
    max_faces: int,
    encoder: DlibFaceEncoder | None = None,
    progress: Progress | None = None,
    total: int = 0,
    min_face: float = 24.0,
    max_gap: int = 3,
) -> tuple[AnalysisCache, dict[int, TrackState]]:
    """Pass 1: faces, tracks and scene cuts of every frame, and each track's shape samples.

    Faces are found by `FaceFinder` (full-range detection, the mesh on each face's crop, tracks);
    misses of up to `max_gap` frames between two sightings are filled with interpolated meshes
    (`GapFiller`, on video only), and a new track is followed back into the frames before the detector
    found it. Identity samples come from sightings, not from interpolated meshes."""
    cache = AnalysisCache()
    tracks: dict[int, TrackState] = {}
    gaps = GapFiller(max_gap if tracking else 0, delay=LOOK_BACK if tracking else 0)
    recent: deque[Frame] = deque(maxlen=LOOK_BACK if tracking else 0)  # frames a new track looks back into
    with FaceFinder(max_faces=max_faces, min_size=min_face, max_misses=max_gap, tracking=tracking) as finder:
        # The scene-cut test (a full-frame resize) runs in its own thread, beside the face finder.
        for frame, cut in threaded(_with_scene_cuts(frames), name="cuts"):
            if cut:
                finder.reset()
                recent.clear()
            faces, ids = finder.find(frame.image, frame.index)
            for tid, face in zip(ids, faces):
                state = tracks.setdefault(tid, TrackState())
                state.add(frontal_mesh, face.points)
                if encoder is not None and state.descriptor is None:
                    state.descriptor = encoder.encode(frame.image, face.bbox)
            done = gaps.push(FrameAnalysis(frame.index, tuple(faces), tuple(ids), cut))
            for tid, face in zip(ids, faces):
                if tid in finder.born:
                    _look_back(finder, gaps, recent, face, tid, tracks[tid], frontal_mesh)
            for item in done:
                cache.append(item)
            recent.append(frame)
            if progress:
                progress("analyse", frame.index + 1, total)
        for item in gaps.flush():
            cache.append(item)
        for tid in finder.doubtful() & tracks.keys():
            tracks[tid].doubtful = True
        for tid, state in tracks.items():
            state.turned = finder.turned(tid)
    return cache, tracks


def _with_scene_cuts(frames: Iterable[Frame]) -> Iterator[tuple[Frame, bool]]:
    """Each frame and whether a scene cut comes before it."""
    cuts = SceneCutDetector()
    for frame in frames:
        yield frame, cuts(frame.image)


def _look_back(finder: FaceFinder, gaps: GapFiller, recent: deque[Frame], face: Face, tid: int,
               state: TrackState, frontal_mesh: np.ndarray) -> None:
    """A track that began on this frame (the detector does not run on every frame) is followed back
    through the recent frames, each fitted on the next one's box, until the face is not found there."""
    for frame in reversed(recent):
        held = gaps.held(frame.index)
        if held is None or len(held.faces) >= finder.max_faces:
            return
        earlier = finder.fit_still(frame.image, face.bbox)
        if earlier is None or any(box_iou(earlier.bbox, other.bbox) > 0.3 for other in held.faces):
            return
        gaps.add(frame.index, earlier, tid)
        state.add(frontal_mesh, earlier.points)
        face = earlier


def choose_faces(analysis: FrameAnalysis, options: SwapOptions, matching: set[int],
                 doubtful: frozenset[int] = frozenset(),
                 turned: Mapping[int, tuple[tuple[int, int], ...]] | None = None) -> tuple[list[int], str]:
    """Indices of the faces to swap in a frame, or a reason why none. Faces of `doubtful` tracks are
    never chosen, nor those of a track inside one of its `turned` frame ranges (first, last)."""
    at = analysis.index
    order = [i for i, track in enumerate(analysis.tracks) if track not in doubtful
             and not any(first <= at <= last for first, last in (turned or {}).get(track, ()))]
    if not order:
        return [], "no face"
    mode = options.target_face
    if options.reference_descriptor is not None:
        chosen = [i for i in order if analysis.tracks[i] in matching]
        return chosen[:1], "" if chosen else "no face matches the reference"
    if mode == "all":
        return order, ""
    if mode == "largest":
        return order[:1], ""
    index = int(mode)
    left_to_right = sorted(order, key=lambda i: analysis.faces[i].bbox[0])
    if index >= len(left_to_right):
        return [], f"no face number {index}"
    return [left_to_right[index]], ""


def matching_tracks(tracks: dict[int, TrackState], reference: np.ndarray | None) -> set[int]:
    if reference is None:
        return set()
    return {
        tid for tid, state in tracks.items()
        if state.descriptor is not None and descriptor_distance(state.descriptor, reference) < SAME_PERSON_DISTANCE
    }
