"""Pass 2 planning of a swap: smoothed target mesh -> pose, expression -> recombined face, mask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ..analysis.face import Face
from ..colour import lab_statistics
from ..face3d import landmarks as lm
from ..face3d.fitting import fit_pose, normalized_shape, recombine
from ..face3d.morphable import MorphableModel, population_rest
from ..face3d.raster import normal_map
from ..masks.face import face_lab, face_region, occlusion_mask, skin_sample_region, skin_statistics
from ..masks.shapes import polygon_mask
from ..masks.thin_frames import thin_frames
from ..render.contract import FaceTarget, SourceFace
from ..temporal import ExponentialAverage, OneEuroFilter, landmark_filter
from .folds import smile_strength
from .options import SwapOptions
from .views import ViewSelector

if TYPE_CHECKING:
    from ..analysis.parsing import FaceParser

EXPRESSION_SMOOTHING = 0.25  # expression is smoothed this much less than the head pose
EYE_POINTS = np.concatenate([lm.RIGHT_EYE, lm.LEFT_EYE, lm.RIGHT_IRIS, lm.LEFT_IRIS])
EYE_DISTANCES_PER_FACE = 3.0  # normalised shapes are in eye distances; filters think in face sizes
MASK_MARGIN_PER_FACE_WIDTH = 0.15  # the planning crop reaches this far beyond both faces


@dataclass
class _TrackFilters:
    landmarks: OneEuroFilter | None
    expression: OneEuroFilter | None
    skin: ExponentialAverage
    last_index: int
    views: ViewSelector | None = None
    rest: np.ndarray | None = None  # the track's rest-face expression coefficients (view choice is relative)


class SwapPlanner:
    """Pass 2 planning: smoothed target mesh -> pose, expression -> recombined face, mask, conditions."""

    def __init__(self, source: SourceFace, identities: dict[int, np.ndarray], options: SwapOptions,
                 need_normal_map: bool, model: MorphableModel | None = None,
                 parser: FaceParser | None = None) -> None:
        self.source = source
        self.options = options
        # With neutralising, a track's identity is its median shape without its fitted expression, so
        # its expression (shape minus that) is everything the face does, as the source's identity is.
        self.model = (model or MorphableModel.load()) if options.neutralise and options.use_3d else None
        self.identities = {t: self._neutralise(i) for t, i in identities.items()} if self.model else identities
        self.need_normal_map = need_normal_map
        self._filters: dict[int, _TrackFilters] = {}
        self.parsing = None
        if parser is not None and options.parsing:
            from ..masks.parsed import ParsingCadence

            self.parsing = ParsingCadence(parser, options.parse_every, options.parse_size)

    def _neutralise(self, shape: np.ndarray) -> np.ndarray:
        """A track's identity without its expression, as the source's was neutralised (the same tolerance)."""
        return self.model.neutralise(shape, self.options.identity_tolerance)

    def reset(self) -> None:
        self._filters.clear()
        if self.parsing is not None:
            self.parsing.reset()

    def _filters_for(self, track: int, face: Face, index: int) -> _TrackFilters:
        state = self._filters.get(track)
        if state is None or state.last_index != index - 1:
            keep = 0.9 * min(self.options.smooth, 1.0) if self.options.smooth > 0 else 0.0
            state = _TrackFilters(
                landmarks=landmark_filter(self.options.smooth, face.size),
                expression=landmark_filter(self.options.smooth * EXPRESSION_SMOOTHING, EYE_DISTANCES_PER_FACE),
                skin=ExponentialAverage(keep),
                last_index=index,
                views=ViewSelector(self.source.views, np.sqrt(self.model.expression_variance)) if self.model is not None and len(self.source.views) > 1 else None,
            )
            if state.views is not None and self.model is not None:
                state.rest = self.model.fit(self.identities.get(track, self._neutralise(
                    normalized_shape(self.source.frontal_mesh, face.points)[1]))).expression
            self._filters[track] = state
        state.last_index = index
        return state

    def plan_face(self, image: np.ndarray, face: Face, track: int, index: int,
                  dt: float) -> tuple[FaceTarget, np.ndarray, np.ndarray | None]:
        """The face to render, the mask where it may change pixels, and the target's pixels to put back
        after rendering (its glasses' frame, uint8 full-frame) or None."""
        keep = None
        smile = 0.0  # the target's smile (3-D, neutralised swaps): the smiling source's folds stay that far
        shape = image.shape[:2]
        filters = self._filters_for(track, face, index)
        target = filters.landmarks(face.points, dt) if filters.landmarks else face.points
        if self.options.use_3d:
            # Pose from the smoothed mesh (steady head); expression from the raw mesh, lightly
            # smoothed, so blinks and fast mouth moves are not flattened.
            pose = fit_pose(self.source.frontal_mesh, target)
            _, normalized = normalized_shape(self.source.frontal_mesh, face.points)
            identity = self.identities.get(track)
            if identity is None:
                identity = self._neutralise(normalized) if self.model is not None else normalized
            if filters.expression is not None:
                # The lids and irises pass unsmoothed: a blink lasts two or three frames, and any
                # smoothing left the swapped eye a frame behind the target's.
                raw = normalized
                normalized = identity + filters.expression(normalized - identity, dt)
                normalized[EYE_POINTS] = raw[EYE_POINTS]
            recombined = recombine(self.source.identity_shape, identity, normalized, self.options.expression_gain)
            points = pose.apply(recombined)
            texture_points = self.source.texture_points
            if filters.views is not None and self.model is not None:
                texture_points = filters.views(pose, self.model.fit(normalized).expression - filters.rest)
            rest_points = pose.apply(self.source.identity_shape)
            if self.model is not None:
                smile = smile_strength(normalized, population_rest(self.model, normalized))
        else:
            points, texture_points, rest_points = target, None, None
        if filters.landmarks is not None and face.points.shape[0] > EYE_POINTS.max():
            # The target's lids and irises as the frame shows them (smoothed, a blink or a glance lagged).
            target = target.copy()
            target[EYE_POINTS] = face.points[EYE_POINTS]
            if not self.options.use_3d:
                points = target
        both = np.concatenate([target[:, :2], points[:, :2]])
        margin = int(MASK_MARGIN_PER_FACE_WIDTH * float(np.ptp(both[:, 0])) + 8)
        x0, y0 = np.maximum(np.floor(both.min(axis=0)).astype(int) - margin, 0)
        x1, y1 = np.minimum(np.ceil(both.max(axis=0)).astype(int) + margin, (shape[1], shape[0]))
        crop = image[y0:y1, x0:x1]
        offset = np.array([x0, y0, 0], dtype=np.float32)
        local_target, local_points = target - offset, points - offset
        local_shape = crop.shape[:2]
        target_face = face_region(local_shape, local_target)
        recombined_face = face_region(local_shape, local_points)
        mask = target_face | recombined_face
        skin_region = skin_sample_region(local_shape, local_target)
        # The target's skin is measured plainly: weighting it by chroma too (as the source's is) gave a
        # higher cheek Delta E on 5 of the 8 hard sources onto talking_frontal (single frames).
        # once, round the face only: the skin statistics and the skin model read it
        crop_lab = face_lab(crop, local_target, (target_face, skin_region))
        skin_stats = lab_statistics(crop, skin_region, lab=crop_lab)
        target_skin = filters.skin(skin_stats).astype(np.float32) if skin_stats is not None else None
        if self.parsing is not None:
            from ..masks.parsed import parsed_swap_mask

            labels = self.parsing.labels(image, target, track, index, (x0, y0, x1, y1))
            # the skin model only tells a glasses frame from the lens: skipped without glasses
            skin = skin_statistics(crop, skin_region, crop_lab) if labels.mask("eyeglasses").any() else None
            mask = parsed_swap_mask(labels, crop, local_target, target_face, recombined_face, skin,
                                    self.options.regions, self.options.occlusion, frame=False)
            if self.options.occlusion:
                from ..masks.parsed import glasses_frame

                frame_pixels = glasses_frame(labels, crop, local_target, skin) & (mask > 0)
                if frame_pixels.any():
                    keep = np.zeros(shape, dtype=np.uint8)
                    keep[y0:y1, x0:x1] = np.where(frame_pixels, 255, 0)
        elif self.options.occlusion:
            occluders = occlusion_mask(crop, local_target, target_face, skin_statistics(crop, skin_region, crop_lab),
                                       lab=crop_lab)
            mask &= ~occluders
            # a thin glasses frame is too thin for the skin model's speck filter and lies inside its guard
            # round the eyes and brows: found as lines round the eyes and put back after rendering
            frame_pixels = thin_frames(crop, local_target)
            if frame_pixels.any():
                keep = np.zeros(shape, dtype=np.uint8)
                keep[y0:y1, x0:x1] = frame_pixels
        if self.options.mouth_mask:
            # the whole recombined opening: the runner moves the target's teeth and tongue into it
            # (`mouth.mouth_into_opening`), wherever the source's lips put it
            mask &= ~polygon_mask(local_shape, local_points[lm.INNER_LIPS])
        full_mask = np.zeros(shape, dtype=np.uint8)
        full_mask[y0:y1, x0:x1] = mask
        normals = normal_map(points, self.source.triangles, shape) if self.need_normal_map else None
        face_target = FaceTarget(points=points, target_points=target, target_skin=target_skin, normal_map=normals,
                                 texture_points=texture_points, rest_points=rest_points, smile=smile,
                                 mouth_filled=self.options.mouth_mask)
        return face_target, full_mask, keep
