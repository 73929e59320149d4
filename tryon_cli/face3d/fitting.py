"""Rigid pose of a face mesh and its split into identity (per person) and expression (per frame).

Everything is in MediaPipe's pixel space (x right, y down, z away from the camera, orthographic).
A face is `scale * reference @ R.T + t`; the pose is fitted on the rigid points only, so expression
does not leak into it. Normalising a face by its pose gives its shape in the reference frame:
identity is the robust mean of those shapes, expression the per-frame residual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import landmarks as lm


EYE_OPENING_SHARE = 0.5  # how far a recombined eye's opening goes from the source's to the target's: all the
# way cost dlib's same-person rate where the photo's eyes are wide by nature (portrait_wink_hand onto
# talking_frontal 0.92 -> 0.84)
MAX_EYE_OPENING_GAIN = 1.0  # never wider than the source's: a squint opened up stretched the photo's lids and
# tore their lash line (portrait_fringe_laughing); a glare is calmed, a squint stays
SHUT_OPENING = (0.08, 0.15)  # a target eye's opening (lid gap over width) below the second goes more of the way
# (all of it at the first): a target whose eyes stay shut through a whole shot (a laugh with squeezed lids)
# has them shut in its track's rest face too, its expression holds no closing, and half of the way left the
# source's eyes visibly open (movie_several_people, the laughing woman: 0.05 -> 0.19)


@dataclass(frozen=True)
class Pose:
    """Similarity transform from the reference frame into the image."""

    scale: float
    rotation: np.ndarray
    translation: np.ndarray

    def apply(self, points: np.ndarray) -> np.ndarray:
        return (self.scale * points @ self.rotation.T + self.translation).astype(np.float32)

    def invert(self, points: np.ndarray) -> np.ndarray:
        return (((points - self.translation) @ self.rotation) / self.scale).astype(np.float32)

    def euler_degrees(self) -> tuple[float, float, float]:
        """(yaw, pitch, roll) in degrees."""
        r = self.rotation
        yaw = np.degrees(np.arcsin(-np.clip(r[2, 0], -1.0, 1.0)))
        pitch = np.degrees(np.arctan2(r[2, 1], r[2, 2]))
        roll = np.degrees(np.arctan2(r[1, 0], r[0, 0]))
        return float(yaw), float(pitch), float(roll)


def similarity_fit(source: np.ndarray, target: np.ndarray) -> Pose:
    """Least-squares scale, rotation and translation with target ~ scale * source @ R.T + t (Umeyama)."""
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    xs, xt = source - mu_s, target - mu_t
    covariance = xt.T @ xs / len(source)
    u, s, vt = np.linalg.svd(covariance)
    d = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[2] = -1.0
    rotation = u @ np.diag(d) @ vt
    variance = (xs**2).sum() / len(source)
    scale = float((s * d).sum() / max(variance, 1e-12))
    translation = mu_t - scale * rotation @ mu_s
    return Pose(scale=scale, rotation=rotation, translation=translation)


def rotation_angle_degrees(a: np.ndarray, b: np.ndarray) -> float:
    """Angle of the rotation taking a to b."""
    cosine = (np.trace(a @ b.T) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))


def frontalize(points: np.ndarray) -> np.ndarray:
    """A face in its own anatomical frame: eyes along x, chin-to-forehead along -y, unit eye distance.

    Used once to make the reference shape that every pose is fitted against.
    """
    p = np.asarray(points, dtype=np.float64)
    x_axis = p[lm.LEFT_EYE_CORNERS[1]] - p[lm.RIGHT_EYE_CORNERS[0]]
    eye_distance = np.linalg.norm(x_axis)
    x_axis /= eye_distance
    down = p[lm.CHIN] - p[lm.FOREHEAD_TOP]
    y_axis = down - x_axis * (down @ x_axis)
    y_axis /= np.linalg.norm(y_axis)
    z_axis = np.cross(x_axis, y_axis)
    rotation = np.stack([x_axis, y_axis, z_axis], axis=1)
    centre = p[lm.RIGID].mean(axis=0)
    return (((p - centre) @ rotation) / eye_distance).astype(np.float32)


def fit_pose(reference: np.ndarray, points: np.ndarray) -> Pose:
    """Pose of a face relative to the reference shape, fitted on the rigid points."""
    return similarity_fit(reference[lm.RIGID], points[lm.RIGID])


def normalized_shape(reference: np.ndarray, points: np.ndarray) -> tuple[Pose, np.ndarray]:
    """The face's pose and its shape in the reference frame."""
    pose = fit_pose(reference, points)
    return pose, pose.invert(points)


def robust_identity(shapes: np.ndarray) -> np.ndarray:
    """Identity shape from normalised shapes (M, 478, 3): the per-coordinate median."""
    return np.median(np.asarray(shapes, dtype=np.float32), axis=0).astype(np.float32)


def _eye_opening(shape: np.ndarray, lids: tuple[int, int]) -> float:
    return float(np.linalg.norm(shape[lids[0]] - shape[lids[1]]))


def eye_gains(source_identity: np.ndarray, target_identity: np.ndarray) -> np.ndarray:
    """Per-point expression gain: each eye's motion scaled by source over target eye opening.

    A target blink moves the lids by the target's own opening; a source with narrower eyes needs
    less, or its lids cross and the eye never looks shut.
    """
    gains = np.ones(len(source_identity), dtype=np.float32)
    for loop, lids, iris in ((lm.RIGHT_EYE, lm.RIGHT_EYE_LIDS, lm.RIGHT_IRIS), (lm.LEFT_EYE, lm.LEFT_EYE_LIDS, lm.LEFT_IRIS)):
        ratio = _eye_opening(source_identity, lids) / max(_eye_opening(target_identity, lids), 1e-6)
        gains[np.concatenate([loop, iris[iris < len(gains)]])] = float(np.clip(ratio, 0.5, 1.5))
    return gains


def match_eye_opening(shape: np.ndarray, target_shape: np.ndarray, share: float = 1.0) -> np.ndarray:
    """`shape` with each eye opened or closed to `share` of the way to `target_shape`'s opening (lid gap
    over eye width): the lids' offsets from the corner line scaled, so the eye keeps its own outline
    (corners, lid curves) and takes the target's openness. A photo's squint or glare is then not
    carried onto every frame: the lids follow the target's, a blink included. A target eye that is (nearly)
    shut goes all the way (`SHUT_OPENING`), whatever `share`."""
    out = np.array(shape, dtype=np.float32)
    for loop, lids, corners in ((lm.RIGHT_EYE, lm.RIGHT_EYE_LIDS, lm.RIGHT_EYE_CORNERS),
                                (lm.LEFT_EYE, lm.LEFT_EYE_LIDS, lm.LEFT_EYE_CORNERS)):
        now = lm.eye_opening(out, lids, corners)
        if now < 1e-3:
            continue
        there = lm.eye_opening(target_shape, lids, corners)
        low, high = SHUT_OPENING
        shut = float(np.clip((high - there) / (high - low), 0.0, 1.0))  # 1: the target's eye is shut
        eye_share = share + (1.0 - share) * shut
        wanted = (1.0 - eye_share) * now + eye_share * there
        factor = float(np.clip(wanted / now, 0.0, MAX_EYE_OPENING_GAIN))
        c0, c1 = out[corners[0], :2].astype(np.float64), out[corners[1], :2].astype(np.float64)
        axis = (c1 - c0) / max(float(np.linalg.norm(c1 - c0)), 1e-9)
        normal = np.array([-axis[1], axis[0]])
        offsets = (out[loop, :2] - c0) @ normal  # across the corner line
        out[loop, :2] += ((factor - 1.0) * offsets)[:, None] * normal
    return out


def recombine(source_identity: np.ndarray, target_identity: np.ndarray, target_shape: np.ndarray,
              expression_gain: float = 1.0, eye_opening_share: float = EYE_OPENING_SHARE) -> np.ndarray:
    """Source identity plus the target's expression (its shape minus its identity), eyes retargeted:
    their motion scaled to the source's eye (`eye_gains`), their opening `eye_opening_share` of the way
    to the target's (`match_eye_opening`)."""
    gains = expression_gain * eye_gains(source_identity, target_identity)[:, None]
    out = (source_identity + gains * (target_shape - target_identity)).astype(np.float32)
    return match_eye_opening(out, target_shape, eye_opening_share) if eye_opening_share > 0 else out
