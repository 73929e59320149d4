"""`tryon eval swap`: how well an output swap keeps the source's identity and the target's everything else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..analysis.face import FaceMeshAnalyzer
from ..analysis.identity import SAME_PERSON_DISTANCE, DlibFaceEncoder, descriptor_distance
from ..errors import InputError
from ..face3d import landmarks as lm
from ..face3d.fitting import fit_pose, frontalize, rotation_angle_degrees
from ..masks.face import face_region
from ..io.media import expand_image_inputs, is_image, read_image
from ..metrics import FlickerMeter, cheek_delta_e, pearson, summarize
from ..temporal import SceneCutDetector
from ..io.target_media import frames_of


@dataclass(frozen=True)
class EvalOptions:
    samples: int = 40
    start: float | None = None
    end: float | None = None


def evaluate_swap(sources: list[Path], target: Path, output: Path, encoder: DlibFaceEncoder,
                  options: EvalOptions = EvalOptions(),
                  progress: Callable[[int, int], None] | None = None, total: int = 0) -> dict:
    """Compare OUTPUT with SOURCE (identity) and TARGET (pose, expression, skin tone, flicker)."""
    source_descriptors = []
    for path in expand_image_inputs(sources):
        descriptor = encoder.encode(read_image(path))
        if descriptor is None:
            raise InputError(f"{path}: no face found in the source image")
        source_descriptors.append(descriptor)
    source_descriptor = np.mean(source_descriptors, axis=0)
    step = max(total // max(options.samples, 1), 1) if total else 5
    identity_source, identity_target, pose_errors, delta_es = [], [], [], []
    mouth_out, mouth_in, eyes_out, eyes_in = [], [], [], []
    flicker, cuts = FlickerMeter(), SceneCutDetector()
    reference = None
    frames_total = frames_with_face = 0
    tracking = not is_image(target)
    with FaceMeshAnalyzer(1, tracking) as mesh_out, FaceMeshAnalyzer(1, tracking) as mesh_in:
        for out_frame, in_frame in zip(frames_of(output), frames_of(target, options.start, options.end)):
            frames_total += 1
            out_img, in_img = out_frame.image, in_frame.image
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
            flicker.add(out_img, in_img, face_region(in_img.shape[:2], p_in))
            if out_frame.index % step == 0:
                pose_errors.append(rotation_angle_degrees(fit_pose(reference, p_out).rotation,
                                                          fit_pose(reference, p_in).rotation))
                delta_es.append(cheek_delta_e(out_img, in_img, p_out, p_in))
                d_out = encoder.encode(out_img, faces_out[0].bbox)
                d_in = encoder.encode(in_img, faces_in[0].bbox)
                if d_out is not None:
                    identity_source.append(descriptor_distance(d_out, source_descriptor))
                    if d_in is not None:
                        identity_target.append(descriptor_distance(d_out, d_in))
            if progress:
                progress(frames_total, total)
    if frames_total == 0:
        raise InputError(f"{output}: no frames to evaluate")
    pairs = list(zip(identity_source, identity_target))
    return {
        "frames": frames_total,
        "frames_with_face": frames_with_face,
        "identity": {
            "distance_to_source": summarize(identity_source),
            "distance_to_target": summarize(identity_target),
            "same_person_rate": float(np.mean([d < SAME_PERSON_DISTANCE for d in identity_source])) if identity_source else None,
            "closer_to_source_rate": float(np.mean([s < t for s, t in pairs])) if pairs else None,
        },
        "pose_error_degrees": summarize(pose_errors),
        "expression": {
            "mouth_open_correlation": pearson(mouth_out, mouth_in),
            "eye_open_correlation": pearson(eyes_out, eyes_in),
        },
        "cheek_delta_e": summarize(delta_es),
        "flicker_ratio": flicker.ratio,
    }
