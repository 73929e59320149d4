"""Face swap runner: analyse the target, plan mask and conditions per frame, render, write.

Two passes over the target: the first analyses every frame (face mesh, tracks, scene cuts) and learns
each track's identity shape; the second plans and renders with the engine and encodes. Frames where
no chosen face is found pass through untouched and are counted.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import cv2
import numpy as np

from ..analysis.identity import DlibFaceEncoder
from ..face3d.morphable import rest_identity
from ..io.video import Frame
from ..masks.shapes import as_mask, bounding_box
from ..pipeline import threaded
from ..render.contract import Engine, Progress, RenderItem, SourceFace, SwapConditions
from .analysis_pass import analyse_frames, choose_faces, matching_tracks
from .debug import write_debug_images, write_face_counts
from .beard import ChinShares, shave_below_chin
from .mouth import mouth_into_opening
from .options import SwapOptions
from .planner import SwapPlanner

if TYPE_CHECKING:
    from ..analysis.parsing import FaceParser


def paste_back(rendered: np.ndarray, target: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """`rendered` with the target's pixels where `keep` (uint8) is set, softened over about a pixel."""
    box = bounding_box(keep, margin=3)
    if box is None:
        return rendered
    x0, y0, x1, y1 = box
    alpha = cv2.GaussianBlur(keep[y0:y1, x0:x1].astype(np.float32) / 255.0, (0, 0), 1.0)[..., None]
    out = rendered.copy()
    mixed = rendered[y0:y1, x0:x1] * (1.0 - alpha) + target[y0:y1, x0:x1] * alpha
    out[y0:y1, x0:x1] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return out


def union(masks: list[np.ndarray]) -> np.ndarray:
    """The pixelwise OR of `masks` (uint8 frames, one shape, at least one); the one mask itself when there
    is one. `np.bitwise_or.reduce` of a list stacks it first: 1.5 ms a 1080x1080 frame for a single face's
    mask, in the planning stage that takes frames one by one."""
    if len(masks) == 1:
        return masks[0]
    out = np.bitwise_or(masks[0], masks[1])
    for mask in masks[2:]:
        np.bitwise_or(out, mask, out=out)
    return out


@dataclass
class SwapReport:
    """What a swap did, frame by frame, in counts."""

    frames: int = 0
    swapped: int = 0
    passed_through: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    faces_found: list[int] = field(default_factory=list)  # per frame: found in the frame itself
    faces_bridged: list[int] = field(default_factory=list)  # per frame: interpolated across a short miss
    faces_swapped: list[int] = field(default_factory=list)  # per frame: swapped

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
            "faces_swapped_total": sum(self.faces_swapped),
            "faces_per_frame": {"found": self.faces_found, "bridged": self.faces_bridged,
                                "swapped": self.faces_swapped},
        }


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
    parser: FaceParser | None = None,
) -> SwapReport:
    """Swap `source` into every frame of the target; `frames_for_pass()` opens the target afresh.

    With `parser` (and `options.parsing`) the masks come from the face parser, else from the skin model.
    """
    engine.prepare(SwapConditions)
    started = time.perf_counter()
    report = SwapReport()
    max_faces = 1 if options.target_face == "largest" and options.reference_descriptor is None else options.max_faces
    cache, tracks = analyse_frames(
        threaded(frames_for_pass(), name="decode"), source.frontal_mesh, tracking, max_faces,
        encoder if options.reference_descriptor is not None else None, progress, total, options.min_face,
    )
    try:
        identities = {tid: rest_identity(np.stack(state.samples)) for tid, state in tracks.items()}
        matching = matching_tracks(tracks, options.reference_descriptor)
        doubtful = frozenset(tid for tid, state in tracks.items() if state.doubtful)
        turned = {tid: state.turned for tid, state in tracks.items() if state.turned}
        planner = SwapPlanner(source, identities, options, engine.needs_normal_map or debug_dir is not None,
                              parser=parser)
        previous_time: float | None = None

        chin_shares = ChinShares()  # per track: its chin's hair share, smoothed and read every few frames

        def planned() -> Iterator[RenderItem]:
            nonlocal previous_time
            for frame, analysis in threaded(zip(frames_for_pass(), cache), name="decode"):
                if analysis.scene_cut:
                    planner.reset()
                    chin_shares.clear()
                dt = frame.time - previous_time if previous_time is not None else 0.0
                previous_time = frame.time
                chosen, reason = choose_faces(analysis, options, matching, doubtful, turned)
                report.frames += 1
                report.faces_found.append(analysis.found)
                report.faces_bridged.append(len(analysis.faces) - analysis.found)
                report.faces_swapped.append(len(chosen))
                if not chosen:
                    put_back.append(None)
                    report.passed_through[reason] += 1
                    yield RenderItem(frame, frame.image)
                    continue
                planned_faces = [planner.plan_face(frame.image, analysis.faces[i], analysis.tracks[i], frame.index, dt)
                                 for i in chosen]
                faces = [p[0] for p in planned_faces]
                image = frame.image
                if options.mouth_mask:
                    for face in faces:  # the target's teeth and tongue into the swapped face's opening
                        image = mouth_into_opening(image, face.target_points, face.points)
                if options.shave:
                    for i, face in zip(chosen, faces):  # a bearded target's beard below the swapped face's chin
                        share = chin_shares.share(analysis.tracks[i], frame.image, face.target_points)
                        image = shave_below_chin(image, face.target_points, face.points, share)
                mask = union([p[1] for p in planned_faces])
                keeps = [p[2] for p in planned_faces if p[2] is not None]
                put_back.append(union(keeps) if keeps else None)
                report.swapped += 1
                if debug_dir is not None:
                    # the mask written is every pixel the swap may change: the warped mouth interior and the
                    # shaved beard too (the render mask leaves the target's mouth opening out)
                    moved = as_mask((image != frame.image).any(axis=2))
                    write_debug_images(debug_dir, frame.index, frame.image, mask | moved, faces, source.triangles)
                yield RenderItem(frame, image, mask, SwapConditions(source, tuple(faces)))

        # The target's pixels to put back over each rendered frame (its glasses' frame), in frame order:
        # appended by the plan thread before it yields the item, taken here after the item is rendered.
        put_back: deque[np.ndarray | None] = deque()
        written = 0
        # Decode, plan, render and encode (this thread) overlap; each stage keeps the order.
        for frame, rendered in threaded(engine.render_stream(threaded(planned(), name="plan"), progress), name="render"):
            keep = put_back.popleft()
            write(frame, rendered if keep is None else paste_back(rendered, frame.image, keep))
            written += 1
            if progress:
                progress("render", written, total)
    finally:
        cache.close()
    report.seconds = time.perf_counter() - started
    if debug_dir is not None:
        write_face_counts(debug_dir, report.faces_found, report.faces_bridged, report.faces_swapped)
    return report
