"""Quality filters for triplets: pose, texture, face and sanity checks, each scored and thresholded.

Every check records its score; a rejection records which checks failed and why. Model-backed checks
(CLIP for pose, DISTS for texture) are used when their weights are configured; otherwise the
documented fallbacks (pose keypoint similarity, Lab colour + gradient texture distance).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..analysis.body import BodyAnalyzer
from ..analysis.identity import DlibFaceEncoder, descriptor_distance
from ..errors import InputError
from .repaint_check import RepaintThresholds
from .store import read_images

POSE_SIGMA = 0.08


@dataclass(frozen=True)
class FilterThresholds:
    """Defaults are chosen so that a good classical triplet passes and a changed face or pose fails."""

    min_pose_oks: float = 0.6
    min_clip_similarity: float = 0.82
    max_texture_distance: float = 0.55
    max_dists: float = 0.25
    max_face_distance: float = 0.35
    max_landmark_drift: float = 0.06
    min_sharpness: float = 20.0
    min_brightness: float = 25.0
    max_brightness: float = 235.0
    min_mask_area: float = 0.03
    max_mask_area: float = 0.85
    repaint: RepaintThresholds = RepaintThresholds()


def keypoint_similarity(a: np.ndarray | None, b: np.ndarray | None, scale: float) -> float:
    """Object keypoint similarity (COCO OKS) over the points visible in both; 0 when either is missing."""
    if a is None or b is None:
        return 0.0
    visible = (a[:, 2] > 0.5) & (b[:, 2] > 0.5)
    if visible.sum() < 4:
        return 0.0
    distance = np.linalg.norm(a[visible, :2] - b[visible, :2], axis=1)
    return float(np.mean(np.exp(-(distance**2) / (2 * (POSE_SIGMA * scale) ** 2))))


def texture_distance(garment: np.ndarray, garment_mask: np.ndarray, worn: np.ndarray, worn_mask: np.ndarray) -> float:
    """0 (same) .. 1+: Lab histogram (Bhattacharyya) distance plus gradient-energy difference."""
    if (garment_mask > 0).sum() < 50 or (worn_mask > 0).sum() < 50:
        return 1.0

    def hist(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
        h = cv2.calcHist([lab], [0, 1, 2], mask, [8, 8, 8], [0, 256, 0, 256, 0, 256])
        return cv2.normalize(h, h).flatten()

    def energy(image: np.ndarray, mask: np.ndarray) -> float:
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        gradient = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
        return float(gradient[mask > 0].mean())

    colour = cv2.compareHist(hist(garment, garment_mask), hist(worn, worn_mask), cv2.HISTCMP_BHATTACHARYYA)
    a, b = energy(garment, garment_mask), energy(worn, worn_mask)
    return float(0.7 * colour + 0.3 * abs(a - b) / max(a, b, 1.0))


def _garment_dists(model, garment: np.ndarray, garment_mask: np.ndarray, worn_image: np.ndarray,
                   worn: np.ndarray) -> float:
    """DISTS between the garment photo's box and the worn garment's box (1 when either is missing)."""
    from .dists import dists_distance
    from ..masks.shapes import bounding_box

    boxes = bounding_box(garment_mask), bounding_box(worn.astype(np.uint8))
    if boxes[0] is None or boxes[1] is None:
        return 1.0
    (a0, a1, a2, a3), (b0, b1, b2, b3) = boxes
    return dists_distance(model, garment[a1:a3, a0:a2], worn_image[b1:b3, b0:b2])


def sharpness(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


class TripletChecker:
    """Runs every check on one manifest record (models loaded once)."""

    def __init__(self, thresholds: FilterThresholds = FilterThresholds(), clip=None, dists=None) -> None:
        self.thresholds = thresholds
        self.body = BodyAnalyzer(hands=False)
        self.faces = DlibFaceEncoder()
        self.clip = clip
        self.dists = dists

    def close(self) -> None:
        self.body.close()

    def check(self, record: dict, images: dict[str, np.ndarray]) -> tuple[dict, list[str]]:
        """Scores of every check and the reasons for rejection (empty: keep) for one item's decoded images."""
        from ..garments.photo import segment_garment
        from .repaint_check import repaint_reasons, repaint_scores

        t = self.thresholds
        original, repainted = images["target"], images["input"]
        garment, mask = images["condition"], images["mask"][..., 0]
        if original.shape != repainted.shape or mask.shape != original.shape[:2]:
            return {}, [f"image sizes differ (target {original.shape[:2]}, input {repainted.shape[:2]}, "
                        f"mask {mask.shape})"]
        scores: dict[str, float | None] = {}
        reasons: list[str] = []
        a, b = self.body.analyse(original), self.body.analyse(repainted)
        height, width = original.shape[:2]
        scores["pose_oks"] = keypoint_similarity(a.keypoints, b.keypoints, float(np.hypot(height, width)) * 0.5)
        if scores["pose_oks"] < t.min_pose_oks:
            reasons.append(f"pose changed (keypoint similarity {scores['pose_oks']:.2f} < {t.min_pose_oks})")
        if self.clip is not None:
            scores["clip_similarity"] = self.clip(original, repainted)
            if scores["clip_similarity"] < t.min_clip_similarity:
                reasons.append(f"pose or content changed (CLIP similarity {scores['clip_similarity']:.2f} < "
                               f"{t.min_clip_similarity})")
        from ..masks.garment import MaskOptions, build_mask

        try:
            worn = build_mask(original, a, MaskOptions(category=record.get("category", "upper"))).garment > 0
        except Exception:  # noqa: BLE001 - no person: the texture check fails below
            worn = np.zeros(mask.shape, bool)
        try:
            garment_mask = segment_garment(garment)
        except Exception:  # noqa: BLE001 - an unusable garment photo is itself a rejection
            garment_mask = np.zeros(garment.shape[:2], np.uint8)
        scores["texture_distance"] = texture_distance(garment, garment_mask, original, worn.astype(np.uint8) * 255)
        if self.dists is not None:
            scores["dists"] = _garment_dists(self.dists, garment, garment_mask, original, worn)
            if scores["dists"] > t.max_dists:
                reasons.append(f"garment does not match the worn one (DISTS {scores['dists']:.2f} > {t.max_dists})")
        elif scores["texture_distance"] > t.max_texture_distance:
            reasons.append(f"garment does not match the worn one (texture distance {scores['texture_distance']:.2f} > "
                           f"{t.max_texture_distance})")
        face_a, face_b = self.faces.encode(original), self.faces.encode(repainted)
        marks_a, marks_b = self.faces.landmarks68(original), self.faces.landmarks68(repainted)
        if face_a is None or face_b is None or marks_a is None or marks_b is None:
            scores["face_distance"] = scores["landmark_drift"] = None
            if (face_a is None) != (face_b is None):
                reasons.append("face found in only one of original and repainted")
        else:
            scores["face_distance"] = descriptor_distance(face_a, face_b)
            eyes = np.linalg.norm(marks_a[36:42].mean(axis=0) - marks_a[42:48].mean(axis=0))
            scores["landmark_drift"] = float(np.linalg.norm(marks_a - marks_b, axis=1).mean() / max(eyes, 1.0))
            if scores["face_distance"] > t.max_face_distance:
                reasons.append(f"face changed (descriptor distance {scores['face_distance']:.2f} > {t.max_face_distance})")
            if scores["landmark_drift"] > t.max_landmark_drift:
                reasons.append(f"face moved (landmark drift {scores['landmark_drift']:.3f} > {t.max_landmark_drift})")
        scores["sharpness"] = sharpness(repainted)
        scores["brightness"] = float(repainted.mean())
        scores["mask_area"] = float((mask > 0).mean())
        if scores["sharpness"] < t.min_sharpness:
            reasons.append(f"blurred (sharpness {scores['sharpness']:.1f} < {t.min_sharpness})")
        if not t.min_brightness <= scores["brightness"] <= t.max_brightness:
            reasons.append(f"badly exposed (mean brightness {scores['brightness']:.0f})")
        if not t.min_mask_area <= scores["mask_area"] <= t.max_mask_area:
            reasons.append(f"mask area {scores['mask_area']:.2f} outside [{t.min_mask_area}, {t.max_mask_area}]")
        repaint = repaint_scores(original, repainted, mask, garment, garment_mask)
        scores.update(repaint)
        reasons.extend(repaint_reasons(repaint, t.repaint))
        return scores, reasons


def check_record(checker: TripletChecker, record: dict, root: Path) -> tuple[dict, list[str]]:
    """(scores, reasons) for one record; an unreadable item is rejected with the reason, never raised."""
    try:
        images = read_images(root, record)
    except InputError as error:
        return {}, [f"unreadable: {error}"]
    try:
        return checker.check(record, images)
    except Exception as error:  # noqa: BLE001 - one bad item must not end the run
        return {}, [f"check failed: {type(error).__name__}: {error}"]
