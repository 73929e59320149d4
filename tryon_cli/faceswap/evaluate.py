"""`tryon eval swap`: how well an output swap keeps the source's identity and the target's everything else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ..analysis.face import FaceMeshAnalyzer
from ..analysis.identity import SAME_PERSON_DISTANCE, DlibFaceEncoder, descriptor_distance
from ..errors import InputError
from ..face3d import landmarks as lm
from ..face3d.fitting import fit_pose, frontalize, rotation_angle_degrees
from ..masks.face import face_region
from ..io.media import expand_image_inputs, is_image, read_image
from ..metrics import FlickerMeter, cheek_delta_e, pearson, summarize
from ..render.classical.softness import BAND_FACE_WIDTH, fine_to_coarse
from ..temporal import SceneCutDetector
from ..io.target_media import frames_of


def gaze_position(points: np.ndarray) -> float:
    """Horizontal iris position inside the eyes, mean of both: 0 at one corner, 1 at the other (the iris
    centre projected on the corner-to-corner line, so head roll does not move it)."""
    positions = []
    for iris, (a, b) in ((lm.RIGHT_IRIS, lm.RIGHT_EYE_CORNERS), (lm.LEFT_IRIS, lm.LEFT_EYE_CORNERS)):
        if points.shape[0] <= iris[0]:
            continue
        start, axis = points[a, :2], points[b, :2] - points[a, :2]
        centre = points[iris[0], :2]
        positions.append(float(np.dot(centre - start, axis) / max(float(np.dot(axis, axis)), 1e-6)))
    return float(np.mean(positions)) if positions else float("nan")


@dataclass(frozen=True)
class Bar:
    """The range a figure should land in (issue 14's bars); either end may be open."""

    low: float | None = None
    high: float | None = None

    def met(self, value: float | None) -> bool | None:
        if value is None or not np.isfinite(value):
            return None
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            return f"{self.low:g}..{self.high:g}"
        return f">= {self.low:g}" if self.low is not None else f"<= {self.high:g}"


# Per output, keyed by the report's figure names (medians for summaries).
SWAP_BARS = {
    "same_person_rate": Bar(low=0.9),
    "closer_to_source_rate": Bar(low=0.95),
    "pose_error_degrees": Bar(high=5.0),
    "mouth_open_correlation": Bar(low=0.85),
    "gaze_correlation": Bar(low=0.7),  # only where the target's gaze moves (gaze_target_std >= GAZE_MOVES)
    "sharpness_ratio": Bar(0.6, 1.6),
    "feature_sharpness_ratio": Bar(0.6, 1.1),  # on the worst tenth of frames
    "cheek_delta_e": Bar(high=6.0),
    "flicker_ratio": Bar(high=1.1),
}
GAZE_MOVES = 0.01  # target gaze std (eye widths) below which the gaze correlation is not judged

EYES_OPEN_FRACTION = 0.6  # a frame's eyes count as open above this fraction of the target's open-eye ratio


def open_eye_gaze(gaze_out: list[float], gaze_in: list[float], eyes_in: list[float]) -> tuple[list[float], list[float]]:
    """The gaze pairs of frames where the target's eyes are open (an iris inside a shut eye is noise).

    Open means an eye-open ratio above EYES_OPEN_FRACTION of the target's typical open ratio (its 90th
    percentile over the clip), so each face is judged against its own open eyes.
    """
    if not eyes_in:
        return [], []
    open_ratio = float(np.percentile(eyes_in, 90))
    keep = [i for i, e in enumerate(eyes_in) if e >= EYES_OPEN_FRACTION * open_ratio
            and np.isfinite(gaze_out[i]) and np.isfinite(gaze_in[i])]
    return [gaze_out[i] for i in keep], [gaze_in[i] for i in keep]


def face_sharpness(image: np.ndarray, points: np.ndarray) -> float:
    """Variance of the Laplacian of the grey image inside the face oval (shrunk off its outline)."""
    region = face_region(image.shape[:2], points)
    size = float(np.ptp(points[:, 0]))
    region = cv2.erode(region, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)), iterations=max(int(size * 0.05), 1))
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    laplacian = cv2.Laplacian(grey, cv2.CV_64F)
    values = laplacian[region > 0]
    return float(values.var()) if values.size > 20 else float("nan")


def feature_sharpness(image: np.ndarray, points: np.ndarray) -> float:
    """Sharpness where eyes, brows and lips are edges and compression noise is gone: with the face shrunk
    to BAND_FACE_WIDTH pixels, gradient energy inside the face oval over that at half the size (contrast
    cancels). A motion-blurred frame is soft here while its Laplacian of single pixels still reads sharp."""
    region = face_region(image.shape[:2], points)
    scale = min(BAND_FACE_WIDTH / max(float(np.ptp(points[:, 0])), 1.0), 1.0)
    grey = cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32), None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_AREA)
    inside = cv2.resize(region, (grey.shape[1], grey.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    inside = cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    if inside.sum() <= 20:
        return float("nan")
    fine, coarse = fine_to_coarse(grey, inside)
    return float(np.trace(fine)) / max(float(np.trace(coarse)), 1e-9)


def _with_p90(values: list[float]) -> dict:
    """`summarize(values)` with the 90th percentile ("p90"; None when empty)."""
    return summarize(values) | {"p90": float(np.percentile(values, 90)) if values else None}


def _source_descriptor(path: Path, encoder: DlibFaceEncoder, inner: bool = False) -> np.ndarray:
    """dlib's descriptor of a source photo's face (`inner`: the hair-blind one, `encode_inner_face`).
    dlib's frontal detector misses turned heads (a three-quarter selfie), so the face mesh's box is the
    fallback: the descriptor is then computed on dlib's landmarks inside that box, as it is for the
    output frames."""
    image = read_image(path)
    encode = encoder.encode_inner_face if inner else encoder.encode
    descriptor = encode(image)
    if descriptor is None:
        with FaceMeshAnalyzer(1, tracking=False) as mesh:
            faces = mesh.detect(image)
        if faces:
            descriptor = encode(image, faces[0].bbox)
    if descriptor is None:
        raise InputError(f"{path}: no face found in the source image")
    return descriptor


def _identity_figures(to_source: list[float], to_target: list[float | None]) -> dict:
    """Distances to the source and the target and the rates they give (`to_target`: None where the
    target's frame had no descriptor)."""
    pairs = [(s, t) for s, t in zip(to_source, to_target) if t is not None]
    return {
        "distance_to_source": summarize(to_source),
        "distance_to_target": summarize([t for _, t in pairs]),
        "same_person_rate": float(np.mean([d < SAME_PERSON_DISTANCE for d in to_source])) if to_source else None,
        "closer_to_source_rate": float(np.mean([s < t for s, t in pairs])) if pairs else None,
    }


@dataclass(frozen=True)
class EvalOptions:
    samples: int = 40
    start: float | None = None
    end: float | None = None


def evaluate_swap(sources: list[Path], target: Path, output: Path, encoder: DlibFaceEncoder,
                  options: EvalOptions = EvalOptions(),
                  progress: Callable[[int, int], None] | None = None, total: int = 0) -> dict:
    """Compare OUTPUT with SOURCE (identity) and TARGET (pose, expression, skin tone, flicker)."""
    source_descriptors = [_source_descriptor(path, encoder) for path in expand_image_inputs(sources)]
    source_descriptor = np.mean(source_descriptors, axis=0)
    # the hair-blind figure: the inner face only, for the source and the output alike
    source_inner = np.mean([_source_descriptor(path, encoder, inner=True)
                            for path in expand_image_inputs(sources)], axis=0)
    step = max(total // max(options.samples, 1), 1) if total else 5
    identity_source, identity_target, pose_errors, delta_es = [], [], [], []
    inner_source, inner_target = [], []
    mouth_out, mouth_in, eyes_out, eyes_in = [], [], [], []
    gaze_out, gaze_in, sharpness, feature_sharpness_ratios = [], [], [], []
    flicker, cuts = FlickerMeter(), SceneCutDetector()
    reference = None
    frames_total = frames_with_face = 0
    tracking = not is_image(target)
    with FaceMeshAnalyzer(1, tracking) as mesh_out, FaceMeshAnalyzer(1, tracking) as mesh_in:
        for out_frame, in_frame in zip(frames_of(output), frames_of(target, options.start, options.end)):
            frames_total += 1
            # dlib wants C-contiguous pixels; decoded frames of odd widths can be padded views
            out_img, in_img = np.ascontiguousarray(out_frame.image), np.ascontiguousarray(in_frame.image)
            if out_img.shape != in_img.shape:
                raise InputError(f"{output}: frame {out_frame.index} is {out_img.shape[1]}x{out_img.shape[0]}, "
                                 f"the target's is {in_img.shape[1]}x{in_img.shape[0]}")
            if cuts(in_img):
                flicker.reset()
            faces_out, faces_in = mesh_out.detect(out_img), mesh_in.detect(in_img)
            if not faces_out or not faces_in:
                flicker.reset()
                continue
            frames_with_face += 1
            p_out, p_in = faces_out[0].points, faces_in[0].points
            reference = reference if reference is not None else frontalize(p_in)
            mouth_out.append(lm.mouth_open_ratio(p_out))
            mouth_in.append(lm.mouth_open_ratio(p_in))
            eyes_out.append(lm.eye_open_ratio(p_out))
            eyes_in.append(lm.eye_open_ratio(p_in))
            gaze_out.append(gaze_position(p_out))
            gaze_in.append(gaze_position(p_in))
            flicker.add(out_img, in_img, face_region(in_img.shape[:2], p_in))
            if out_frame.index % step == 0:
                pose_errors.append(rotation_angle_degrees(fit_pose(reference, p_out).rotation,
                                                          fit_pose(reference, p_in).rotation))
                delta_es.append(cheek_delta_e(out_img, in_img, p_out, p_in))
                sharp_in = face_sharpness(in_img, p_in)
                if sharp_in > 1e-6:
                    sharpness.append(face_sharpness(out_img, p_in) / sharp_in)
                features_in = feature_sharpness(in_img, p_in)
                if features_in > 1e-6:
                    feature_sharpness_ratios.append(feature_sharpness(out_img, p_in) / features_in)
                d_out = encoder.encode(out_img, faces_out[0].bbox)
                d_in = encoder.encode(in_img, faces_in[0].bbox)
                if d_out is not None:
                    identity_source.append(descriptor_distance(d_out, source_descriptor))
                    identity_target.append(descriptor_distance(d_out, d_in) if d_in is not None else None)
                i_out = encoder.encode_inner_face(out_img, faces_out[0].bbox)
                if i_out is not None:
                    i_in = encoder.encode_inner_face(in_img, faces_in[0].bbox)
                    inner_source.append(descriptor_distance(i_out, source_inner))
                    inner_target.append(descriptor_distance(i_out, i_in) if i_in is not None else None)
            if progress:
                progress(frames_total, total)
    if frames_total == 0:
        raise InputError(f"{output}: no frames to evaluate")
    open_out, open_in = open_eye_gaze(gaze_out, gaze_in, eyes_in)
    return {
        "frames": frames_total,
        "frames_with_face": frames_with_face,
        # dlib's descriptors; "hair_blind": the same figures on the inner face only (`encode_inner_face`):
        # dlib reads the hair and background around a face as identity, so pasting the source's hair
        # scores better there and keeping the target's worse, whatever the face itself looks like
        "identity": _identity_figures(identity_source, identity_target)
        | {"hair_blind": _identity_figures(inner_source, inner_target)},
        "pose_error_degrees": summarize(pose_errors),
        "expression": {
            "mouth_open_correlation": pearson(mouth_out, mouth_in),
            "eye_open_correlation": pearson(eyes_out, eyes_in),
            # horizontal iris position in the eyes, output against target over the frames where the target's
            # eyes are open (None: gaze never moves); gaze_target_std says how much the target's gaze moves
            # (in eye widths): a correlation means little where it is below about 0.01
            "gaze_correlation": pearson(open_out, open_in),
            "gaze_target_std": float(np.std(open_in)) if len(open_in) > 1 else None,
            "gaze_frames": len(open_in),
        },
        # Laplacian variance of the face region, output over target (1: as sharp as the frame around it)
        "sharpness_ratio": summarize([s for s in sharpness if np.isfinite(s)]),
        # the same at the features' scale (gradient energy with the face 96 px wide): catches a crisp face
        # pasted on a motion-blurred or defocused frame, which the Laplacian of single pixels misses
        # (p90: the crisp-on-blurred frames are a minority, so the bar is on the worst tenth)
        "feature_sharpness_ratio": _with_p90([s for s in feature_sharpness_ratios if np.isfinite(s)]),
        "cheek_delta_e": summarize(delta_es),
        "flicker_ratio": flicker.ratio,
    }
