"""Try-on planner: the garment mask of every frame, and the conditions to render a garment into it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..analysis.body import Body, BodyAnalyzer
from ..errors import InputError
from ..io.media import write_image
from ..io.video import Frame
from ..masks.garment import (GarmentMask, MaskOptions, MaskSmoother, build_mask, carry_box, overlay,
                             without_skirt_below_hem)
from ..render.contract import Engine, GarmentConditions, Progress, RenderItem, TryonMode
from ..temporal import SceneCutDetector
from .photo import GarmentModel
from .placement import arms_in_front, body_figure, torso_corners, warp_garment
from .transition import PlacementEase

TORSO_WIDENING = 1.15  # the shoulder-hip quadrilateral grown about its centre
NO_TORSO = "no torso"  # a video frame's report: a person, but no keypoints to place a garment on
DISSOLVE_SECONDS = 0.4  # after frames left as they were, the try-on dissolves in over this long


@dataclass
class MaskReport:
    """Per frame: where the mask came from (pose, carried, segmentation) or why there is none."""

    frames: int = 0
    sources: Counter = field(default_factory=Counter)
    per_frame: list[str] = field(default_factory=list)
    area: list[float] = field(default_factory=list)

    def record(self, source: str, has_mask: bool) -> None:
        """Count one frame and where its mask came from (or why there is none)."""
        self.frames += 1
        self.per_frame.append(source)
        self.sources[source if has_mask else "none"] += 1

    def as_dict(self) -> dict:
        areas = np.asarray(self.area) if self.area else np.zeros(1)
        changes = np.abs(np.diff(areas)) / np.maximum(areas[1:], 1e-6) if len(areas) > 1 else np.zeros(1)
        return {"frames": self.frames, "mask_sources": dict(self.sources), "per_frame": self.per_frame,
                "mean_area": float(areas.mean()), "median_area_change": float(np.median(changes))}


@dataclass
class FrameMasker:
    """Masks for a sequence of frames: keypoints verified, boxes carried, edges smoothed over time."""

    options: MaskOptions
    tracking: bool
    seed: int = 0
    sam: object | None = None
    analyzer: BodyAnalyzer | None = None
    _analyzer: BodyAnalyzer | None = None
    _owns_analyzer: bool = False
    _smoother: MaskSmoother = field(default_factory=MaskSmoother)
    _cuts: SceneCutDetector = field(default_factory=SceneCutDetector)
    _previous: GarmentMask | None = None
    _carried: int = 0
    cut: bool = False  # whether the last frame began a new scene (tracks were reset)
    # a headless frame's upper mask ends at the old top's hem (an agnostic mask: `tryon mask`); a try-on
    # keeps the room below it for a longer new top (cut there, a tee hung in a strip beside the skirt)
    to_hem: bool = True

    def __post_init__(self) -> None:
        self._owns_analyzer = self.analyzer is None
        self._analyzer = self.analyzer or BodyAnalyzer(tracking=self.tracking)
        if not self.tracking:
            self._smoother = MaskSmoother(keep=0.0)

    def __call__(self, frame: Frame) -> tuple[Body, GarmentMask | None, str]:
        """The body, the mask (None when impossible) and the mask's source or the reason for none."""
        self.cut = bool(self.tracking and self._cuts(frame.image))
        if self.cut:
            self._smoother.reset()
            self._previous = None
            self._analyzer.reset()
        body = self._analyzer.analyse(frame.image, frame.time if self.tracking else None)
        rng = np.random.default_rng([self.seed, frame.index])
        # a headless video frame's torso places the garment, but its mask stays the person's segmentation:
        # built on that skeleton it covered less of upper1.mp4's reference mask (0.89 against 0.97)
        masked = body if body.source != "headless" else Body(None, body.person, body.hands, "none")
        try:
            mask = build_mask(frame.image, masked, self.options, rng, self.sam)
        except InputError as error:
            if not self.tracking:
                raise
            return body, None, str(error)
        if self.to_hem and body.source == "headless" and self.options.category == "upper" \
                and self.options.strategy != "box":
            cut = without_skirt_below_hem(frame.image, body, mask.mask)
            mask = GarmentMask(cut, mask.box, mask.source, None if mask.garment is None else mask.garment & cut,
                               mask.protected, mask.front)
        mask = carry_box(mask, self._previous, masked, frame.image.shape[:2], carried_for=self._carried)
        self._carried = self._carried + 1 if mask.source == "carried" else 0
        self._previous = mask
        smoothed = self._smoother(mask.mask)
        if mask.protected is not None:  # earlier frames' masks never cover this frame's face, hands or feet
            smoothed &= ~mask.protected
        return body, GarmentMask(smoothed, mask.box, mask.source, mask.garment, mask.protected, mask.front), mask.source

    def close(self) -> None:
        if self._analyzer is not None and self._owns_analyzer:
            self._analyzer.close()


def mask_frames(frames: Iterator[Frame], options: MaskOptions, tracking: bool, seed: int,
                write: Callable[[Frame, np.ndarray], None], progress: Progress | None = None,
                total: int = 0, sam=None) -> MaskReport:
    """Write the mask of every frame; frames where no mask can be made get an empty one, reported."""
    report = MaskReport()
    masker = FrameMasker(options, tracking, seed, sam)
    try:
        for frame in frames:
            _, mask, source = masker(frame)
            report.record(source, mask is not None)
            result = mask.mask if mask is not None else np.zeros(frame.image.shape[:2], np.uint8)
            report.area.append(float((result > 0).mean()))
            write(frame, result)
            if progress:
                progress("mask", report.frames, total)
    finally:
        masker.close()
    return report


@dataclass
class TryOnReport(MaskReport):
    frames_rendered: int = 0
    seconds: float = 0.0
    last_mask: np.ndarray | None = None


def _torso(body: Body, shape: tuple[int, int]) -> np.ndarray | None:
    """The shoulder-hip quadrilateral, widened a little (what is not torso in the old garment is arm);
    with the hips out of the frame (an upper-body shot), hips estimated from the shoulders."""
    import cv2

    from ..analysis import body as bp

    quad = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER, bp.RIGHT_HIP, bp.LEFT_HIP))
    if len(quad) < 4:
        quad = torso_corners(body)
    if quad is None:
        return None
    centre = quad.mean(axis=0)
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(centre + TORSO_WIDENING * (quad - centre)).astype(np.int32), 255)
    return mask


def arms_over_bottoms(body: Body, mask: GarmentMask, shape: tuple[int, int]) -> np.ndarray:
    """The arms where they lie over a bottom's mask but not on the old bottoms' own region: a forearm
    swinging across the hips or a thigh stays in front of the new trousers (it was painted over)."""
    arms = arms_in_front(body, shape)
    if mask.garment is not None:
        arms &= ~mask.garment
    return arms & mask.mask


@dataclass
class _Dissolve:
    """A video's try-on dissolving in over DISSOLVE_SECONDS after frames left as they were (no torso), so
    the new garment does not pop onto the body in one frame; a video tried on from its start is untouched."""

    seconds: float = DISSOLVE_SECONDS
    _since: float | None = None  # time (s) of the last frame left as it was, while dissolving in after it
    _weights: dict = field(default_factory=dict)  # frame index -> the try-on's share of it

    def see(self, frame: Frame, tried_on: bool, cut: bool) -> None:
        """Note one planned frame (in order): whether it is tried on and whether it starts a new scene."""
        if cut:  # a new scene is no continuation of the old one's untouched frames
            self._since = None
        if not tried_on:
            self._since = frame.time
        elif self._since is not None:
            weight = (frame.time - self._since) / max(self.seconds, 1e-6)
            if weight < 1.0:
                self._weights[frame.index] = max(weight, 0.0)
            else:
                self._since = None

    def __call__(self, frame: Frame, rendered: np.ndarray) -> np.ndarray:
        """The rendered frame mixed with the input by the frame's dissolve weight (itself when none)."""
        weight = self._weights.pop(frame.index, None)
        if weight is None:
            return rendered
        mixed = (1.0 - weight) * frame.image.astype(np.float32) + weight * rendered.astype(np.float32)
        return np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def tryon_frames(frames: Iterator[Frame], garment: GarmentModel, engine: Engine, options: MaskOptions,
                 mode: TryonMode, tracking: bool, seed: int, write: Callable[[Frame, np.ndarray], None],
                 progress: Progress | None = None, total: int = 0, sam=None,
                 analyzer: BodyAnalyzer | None = None, debug_dir: Path | None = None) -> TryOnReport:
    """Put `garment` on the person in every frame (mask mode: inside the try-on mask; mask-free:
    the warped garment over the person, in occlusion order). Pass a still-image `analyzer` to reuse
    one across many calls; `debug_dir` receives each frame's mask and a mask overlay."""
    engine.prepare(GarmentConditions)
    report = TryOnReport()
    masker = FrameMasker(options, tracking, seed, sam, analyzer, to_hem=False)
    # on video, a garment placed by the mask's box moves onto the pose gradually once the pose is trusted
    ease = PlacementEase()
    last_time: list[float | None] = [None]
    dissolve = _Dissolve()

    def planned() -> Iterator[RenderItem]:
        for frame in frames:
            body, mask, source = masker(frame)
            if tracking and mask is not None and body.keypoints is None:
                # no keypoints on a video frame (a person walking in side-on, the pose on the legs): a
                # garment placed on the mask's box sat on a growing box and swam; the frame is left as it
                # was, reported, and the try-on dissolves in once a torso is found
                mask, source = None, NO_TORSO
            report.record(source, mask is not None)
            dissolve.see(frame, mask is not None, masker.cut)
            if masker.cut or mask is None:
                ease.reset()
            if mask is None:
                yield RenderItem(frame, frame.image)
                continue
            arms = arms_in_front(body, frame.image.shape[:2]) if options.category != "lower" else None
            if tracking:
                warped, alpha, keep = ease(garment, body, mask, frame.image.shape[:2], options.category, arms,
                                           frame.time, last_time[0])
                last_time[0] = frame.time
            else:
                warped, alpha, keep = warp_garment(garment, body, mask, frame.image.shape[:2], options.category, arms)
            if mask.front is not None:  # hands only the pose found, and what they hold, stay in front
                keep = keep | mask.front
            if options.category == "lower":
                keep = keep | arms_over_bottoms(body, mask, frame.image.shape[:2])
            if mode != "mask":  # mask-free still honours the mask: the garment's soft edge ends inside it
                import cv2

                alpha = alpha * (cv2.erode(mask.mask, np.ones((7, 7), np.uint8)) > 0)
            region = mask.mask if mode == "mask" else np.where(alpha > 0.5, 255, 0).astype(np.uint8) & ~keep & mask.mask
            report.area.append(float((region > 0).mean()))
            report.frames_rendered += 1
            report.last_mask = mask.mask
            if debug_dir is not None:
                write_image(debug_dir / f"{frame.index:06d}_mask.png", region)
                write_image(debug_dir / f"{frame.index:06d}_overlay.png", overlay(frame.image, region))
            conditions = GarmentConditions(
                garment=garment.image, garment_mask=garment.mask, warped=warped, warped_alpha=alpha, keep=keep,
                category=options.category, mode=mode, person=body.person, old_garment=mask.garment,
                torso=_torso(body, frame.image.shape[:2]), arms=arms,
                # (a photo's only: on video the keypoints trail a swinging arm, and the old sleeve beyond them
                # was filled from the backdrop, a ghost of the arm)
                figure=body_figure(body, frame.image.shape[:2]) if arms is not None and not tracking else None)
            yield RenderItem(frame, frame.image, region, conditions)

    try:
        for frame, rendered in engine.render_stream(planned(), progress):
            write(frame, dissolve(frame, rendered))
            if progress:
                progress("try-on", report.frames, total)
    finally:
        masker.close()
    return report

