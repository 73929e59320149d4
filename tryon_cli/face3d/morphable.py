"""A linear morphable model of MediaPipe's 478-point mesh: identity and expression bases.

shape ~ mean + identity_basis . alpha + expression_basis . beta (in the model's reference frame, in
eye distances). The bases are PCA over pose-normalised meshes of many frames of many people:
per-person means give identity, per-frame residuals from the person's mean give expression
(`scripts/build_morphable_model.py` writes the shipped file). Fitting is regularised least squares
with the PCA variances as Gaussian priors; neutralising removes the fitted expression and keeps every
identity detail the bases do not span. A face in another frame (any similarity of the reference) is
aligned on the rigid points first and its expression returned in its own frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import landmarks as lm
from .fitting import Pose, similarity_fit

MODEL_FILE = Path(__file__).with_name("data") / "morphable_model.npz"
POINTS = 478
DEPTH_WEIGHT = 0.5  # MediaPipe's z is noisier than x, y: it counts half in the fit
SPREAD_SIGMA = 0.12  # eye distances: the neighbourhood whose expression displacement a still skin point takes
SPREAD_REACH = 0.15  # eye distances: how far from the points the expression moves that displacement fades
SPREAD_BELOW_EYES = 0.1  # eye distances below the eyes' lowest point: the skin above stays as it is
BROWS = np.concatenate([lm.RIGHT_BROW, lm.LEFT_BROW])
OPENING_SHARE = 0.5  # an expression component that parts the lips at least this share of the most parting one's
# motion (per prior standard deviation) opens the mouth: `neutralise` removes it wholly at any tolerance
INNER_LIP_MIDDLE = (13, 14)  # the upper and lower inner lip's middle points


@dataclass(frozen=True)
class Coefficients:
    """A face's fitted identity (alpha) and expression (beta) coefficients, and its pose to the model frame."""

    identity: np.ndarray
    expression: np.ndarray
    pose: Pose


@dataclass(frozen=True)
class MorphableModel:
    """Mean shape (478, 3), orthonormal identity (K, 478, 3) and expression (E, 478, 3) bases with variances."""

    mean: np.ndarray
    identity_basis: np.ndarray
    identity_variance: np.ndarray
    expression_basis: np.ndarray
    expression_variance: np.ndarray
    noise_variance: float
    mirror: np.ndarray  # each point's left/right partner (midline points are their own)

    def __post_init__(self) -> None:
        if self.mean.shape != (POINTS, 3):
            raise ValueError(f"the model mean must be ({POINTS}, 3), got {self.mean.shape}")
        for name, basis, variance in (("identity", self.identity_basis, self.identity_variance),
                                      ("expression", self.expression_basis, self.expression_variance)):
            if basis.ndim != 3 or basis.shape[1:] != (POINTS, 3):
                raise ValueError(f"the {name} basis must be (K, {POINTS}, 3), got {basis.shape}")
            if variance.shape != (len(basis),) or not np.all(variance > 0):
                raise ValueError(f"the {name} variances must be {len(basis)} positive numbers")
            flat = basis.reshape(len(basis), -1).astype(np.float64)
            if not np.allclose(flat @ flat.T, np.eye(len(basis)), atol=1e-3):
                raise ValueError(f"the {name} basis must be orthonormal")
        if not self.noise_variance > 0:
            raise ValueError("the noise variance must be positive")
        if self.mirror.shape != (POINTS,) or self.mirror.min() < 0 or self.mirror.max() >= POINTS:
            raise ValueError(f"the mirror partners must be {POINTS} point indices")

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> "MorphableModel":
        with np.load(path) as data:
            return cls(
                mean=data["mean"].astype(np.float32),
                identity_basis=data["identity_basis"].astype(np.float32),
                identity_variance=data["identity_variance"].astype(np.float64),
                expression_basis=data["expression_basis"].astype(np.float32),
                expression_variance=data["expression_variance"].astype(np.float64),
                noise_variance=float(data["noise_variance"]),
                mirror=data["mirror"].astype(np.int64),
            )

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path, mean=self.mean.astype(np.float32), identity_basis=self.identity_basis.astype(np.float32),
            identity_variance=self.identity_variance.astype(np.float32),
            expression_basis=self.expression_basis.astype(np.float32),
            expression_variance=self.expression_variance.astype(np.float32),
            noise_variance=np.float32(self.noise_variance), mirror=self.mirror.astype(np.int16),
        )

    def align(self, shape: np.ndarray) -> tuple[Pose, np.ndarray]:
        """The pose taking the model frame to `shape`'s frame (on the rigid points), and the shape in the model frame."""
        pose = similarity_fit(self.mean[lm.RIGID], np.asarray(shape)[lm.RIGID])
        return pose, pose.invert(np.asarray(shape, dtype=np.float32))

    def fit(self, shape: np.ndarray, ignore: np.ndarray | None = None) -> Coefficients:
        """Maximum a posteriori identity and expression coefficients of a face shape (any frame), the
        points `ignore` (indices) left out of the fit.

        Minimises |W (x - mean - U alpha - V beta)|^2 / noise + sum alpha^2 / var_id + sum beta^2 / var_expr.
        """
        pose, aligned = self.align(shape)
        basis = np.concatenate([self.identity_basis, self.expression_basis]).reshape(-1, POINTS * 3).astype(np.float64)
        weights = np.tile(np.array([1.0, 1.0, DEPTH_WEIGHT]), (POINTS, 1))
        if ignore is not None:
            weights[ignore] = 0.0
        weights = weights.reshape(-1)
        residual = (aligned - self.mean).reshape(-1).astype(np.float64)
        prior = np.concatenate([self.identity_variance, self.expression_variance])
        normal = (basis * weights) @ basis.T + np.diag(self.noise_variance / prior)
        coefficients = np.linalg.solve(normal, (basis * weights) @ residual)
        k = len(self.identity_basis)
        return Coefficients(identity=coefficients[:k].astype(np.float32),
                            expression=coefficients[k:].astype(np.float32), pose=pose)

    def expression_offset(self, shape: np.ndarray, coefficients: Coefficients | None = None) -> np.ndarray:
        """The fitted expression's displacement of every point, in `shape`'s own frame."""
        coefficients = coefficients or self.fit(shape)
        offset = np.tensordot(coefficients.expression, self.expression_basis, axes=1)
        return (coefficients.pose.scale * offset @ coefficients.pose.rotation.T).astype(np.float32)

    def opening_components(self) -> np.ndarray:
        """Per expression component, whether it opens the mouth (OPENING_SHARE of the most lip-parting one's
        gap per prior standard deviation, or more)."""
        upper, lower = INNER_LIP_MIDDLE
        gap = np.abs(self.expression_basis[:, lower, 1] - self.expression_basis[:, upper, 1]) * np.sqrt(
            self.expression_variance)
        return gap >= OPENING_SHARE * gap.max()

    def neutralise(self, shape: np.ndarray, tolerance: float = 0.0) -> np.ndarray:
        """The face with its fitted expression removed: identity and what the bases do not span stay.

        `tolerance` (prior standard deviations): of each expression coefficient only the part beyond it is
        removed (soft thresholding), but the mouth's opening is removed wholly. The identity bases barely
        span the mouth's width, the lips' height above the chin or the chin's length (a few people's means
        learnt them), so a fit explains those by expression, and removing it set every face's lower half
        to the model's mean: the source's mouth and chin were lost and, the target's being set there too,
        the target's took their place (its deviation from the mean came back as "expression")."""
        if tolerance <= 0.0:
            return (np.asarray(shape, dtype=np.float32) - self.expression_offset(shape)).astype(np.float32)
        fitted = self.fit(shape)
        sigma = np.sqrt(self.expression_variance)
        beyond = np.sign(fitted.expression) * np.maximum(np.abs(fitted.expression) / sigma - tolerance, 0.0) * sigma
        removed = np.where(self.opening_components(), fitted.expression, beyond).astype(np.float32)
        offset = self.expression_offset(shape, Coefficients(fitted.identity, removed, fitted.pose))
        return (np.asarray(shape, dtype=np.float32) - offset).astype(np.float32)


def spread_onto_skin(model: MorphableModel, shape: np.ndarray, neutral: np.ndarray) -> np.ndarray:
    """`neutral` (`shape` neutralised by `model`, both pose-normalised, eye distances) with the expression's
    displacement carried onto the skin around the mouth that the expression bases leave still (the cheeks
    beside the mouth and nose). The bases move the lips, jaw and chin only, so a smile neutralised pulled
    the mouth's corners in and left the cheeks bulged where the smile put them: the triangles between
    were sheared, and the warp bent the photo's folds there into zigzags. Each still point below the eyes
    (but the rigid ones, the nostrils and the irises) takes a harmonic blend along the mesh's edges of its
    neighbours' displacements (`_harmonic`): the moved points' own, the held points' none. (A Gaussian
    mean over the moved points by distance in the image moved the skin beside the nostrils with the
    mouth while the nostrils stayed: a smiling photo's alar triangles flipped and the warp tore the
    nose into bright wedges on every frame.)"""
    moved = np.linalg.norm(model.expression_basis, axis=(0, 2)) > 1e-3
    points = np.asarray(shape, dtype=np.float64)
    still = ~moved
    still[lm.RIGID] = still[lm.NOSTRILS] = False
    still[lm.RIGHT_IRIS[0] :] = False
    still &= points[:, 1] > points[np.concatenate([lm.RIGHT_EYE, lm.LEFT_EYE]), 1].max() + SPREAD_BELOW_EYES
    if not still.any() or not moved.any():
        return neutral
    displacement = np.asarray(neutral, dtype=np.float64) - points  # zero on every point the bases leave still
    out = np.array(neutral, dtype=np.float64)
    out[still] += _harmonic(displacement, still)
    return out.astype(np.float32)


def spread_brows_onto_skin(model: MorphableModel, shape: np.ndarray, neutral: np.ndarray) -> np.ndarray:
    """`neutral` (`shape` neutralised, both pose-normalised) with the brows' and lids' displacement carried
    onto the skin above the eyes that the expression bases leave still (between the brows and the lids,
    and the forehead). The bases move the brows' own points only, so a raised brow neutralised came down
    over the still points under it: the triangles between folded (the photo's triangles there turned
    inside out) and the warp cut the brow's top off with a hard line across the forehead
    (portrait_dark_lowres). Each still point above the eyes' middle (but the rigid ones, the eyes and irises)
    takes a harmonic blend of its mesh neighbours' displacements (`_harmonic`), so the skin under a
    lowered brow comes down part of the way, fading to the lids, and the forehead fades to its rigid points."""
    moved = np.linalg.norm(model.expression_basis, axis=(0, 2)) > 1e-3
    points = np.asarray(shape, dtype=np.float64)
    eyes = np.concatenate([lm.RIGHT_EYE, lm.LEFT_EYE])
    free = ~moved
    free[lm.RIGID] = free[eyes] = False
    free[lm.RIGHT_IRIS[0] :] = False
    free &= points[:, 1] < points[eyes, 1].mean()
    if not free.any():
        return neutral
    displacement = np.asarray(neutral, dtype=np.float64) - points
    displacement[free] = 0.0
    out = np.array(neutral, dtype=np.float64)
    out[free] = points[free] + _harmonic(displacement, free)
    return out.astype(np.float32)


def _harmonic(displacement: np.ndarray, free: np.ndarray) -> np.ndarray:
    """The `free` points' displacements (rows) that make every free point's the mean of its mesh
    neighbours' (`lm.EDGES`), the others' held as given: a discrete Laplace equation, so the
    displacement fades along the skin from where it is set, never across a held point."""
    count = len(displacement)
    adjacency = np.zeros((count, count))
    adjacency[lm.EDGES[:, 0], lm.EDGES[:, 1]] = adjacency[lm.EDGES[:, 1], lm.EDGES[:, 0]] = 1.0
    laplacian = np.diag(adjacency.sum(axis=1)) - adjacency
    inside, held = np.nonzero(free)[0], np.nonzero(~free)[0]
    # a free point with no path to a held one stays put (the tiny ridge keeps the system solvable)
    system = laplacian[np.ix_(inside, inside)] + 1e-9 * np.eye(len(inside))
    return np.linalg.solve(system, -laplacian[np.ix_(inside, held)] @ displacement[held])


def rest_brows(model: MorphableModel, shape: np.ndarray, neutral: np.ndarray, strength: float) -> np.ndarray:
    """`neutral` (`shape` neutralised, both pose-normalised, eye distances) with its brows moved `strength`
    (0..1) of the way to where the rest of the face says they sit at rest: the identity part of a fit that
    leaves the brows out (mean + identity basis . alpha). A scowl, a raised brow or a wink moves the brows
    more than the one expression component that holds brow motion explains; the rest stayed in the
    neutral face and the warp pasted the photo's fierce or lifted brows on every frame. The skin between
    the brows and the forehead follows (`_carry`, as the cheeks follow the mouth); the eyes, irises and
    rigid points stay."""
    if strength <= 0.0:
        return neutral
    fitted = model.fit(shape, ignore=BROWS)
    _, aligned = model.align(neutral)
    rest = model.mean + np.tensordot(fitted.identity, model.identity_basis, axes=1)
    move = np.zeros((POINTS, 3), dtype=np.float64)
    move[BROWS] = strength * (rest[BROWS] - aligned[BROWS])
    move[:, 2] = 0.0  # depth: MediaPipe's brows' z is too noisy to be told
    pose = fitted.pose
    move = pose.scale * move @ pose.rotation.T  # into `neutral`'s frame
    moved = np.zeros(POINTS, dtype=bool)
    moved[BROWS] = True
    points = np.asarray(neutral, dtype=np.float64)
    still = ~moved
    still[lm.RIGID] = False
    still[np.concatenate([lm.RIGHT_EYE, lm.LEFT_EYE])] = False
    still[lm.RIGHT_IRIS[0] :] = False
    still &= points[:, 1] < points[np.concatenate([lm.RIGHT_EYE, lm.LEFT_EYE]), 1].min()  # above the eyes only
    out = np.array(neutral, dtype=np.float64)
    out[BROWS] += move[BROWS]
    out[still] += _carry(points, move[moved], moved, still)
    return out.astype(np.float32)


def _carry(points: np.ndarray, displacement: np.ndarray, moved: np.ndarray, still: np.ndarray) -> np.ndarray:
    """The displacement (rows of `moved` points) carried onto the `still` points: each takes the
    Gaussian-weighted mean of the moved points' around it (SPREAD_SIGMA), fading with the distance to
    the nearest (SPREAD_REACH)."""
    if not still.any() or not moved.any():
        return np.zeros((int(still.sum()), 3))
    distances = ((points[still, None, :2] - points[None, moved, :2]) ** 2).sum(axis=2)
    weights = np.exp(-distances / (2 * SPREAD_SIGMA**2))
    mean = weights @ displacement / np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
    fade = np.exp(-distances.min(axis=1) / (2 * SPREAD_REACH**2))[:, None]
    return fade * mean


def mirror_partners(frontal: np.ndarray) -> np.ndarray:
    """Each point's left/right partner on a frontal face: mirror x about the midline, nearest point."""
    points = np.asarray(frontal, dtype=np.float64)
    midline = np.median(points[[10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 2, 0, 13, 14, 17, 152], 0])
    mirrored = points.copy()
    mirrored[:, 0] = 2 * midline - mirrored[:, 0]
    distances = np.linalg.norm(mirrored[:, None, :2] - points[None, :, :2], axis=2)
    return np.argmin(distances, axis=1).astype(np.int64)
