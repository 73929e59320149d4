"""A linear morphable model of MediaPipe's 478-point mesh: identity and expression bases.

shape ~ mean + identity_basis . alpha + expression_basis . beta (in the model's reference frame, in
eye distances). The bases are PCA over pose-normalised meshes of many frames of many people: the
means of each person's rest frames (lips closed, eyes open, no smile) give identity, each frame's
residual from its person's rest face gives expression, so zero expression is a closed, neutral mouth
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
CLOSED_GAP = 0.02  # inner-lip gap over mouth width of a neutralised face (at most; a closed photo keeps its own)
REST_GAP = 0.05  # largest inner-lip gap over mouth width of a face at rest (lips closed)
REST_EYES = 0.75  # a face at rest opens its eyes at least this share of its widest-but-few frames'
REST_WIDTH = 1.05  # ... and its mouth no wider than this share of its closed-lip frames' median (no smile)
MIN_REST_FRAMES = 3  # fewer rest frames than this (and a tenth of a track's): its identity is its median frame


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
        removed (soft thresholding), but the mouth's opening is removed wholly. The lips end closed
        (`_closed`). The shipped model's identities are people's rest faces, so its zero
        expression is a closed, neutral mouth and its identity bases carry mouth width, lip height and chin
        length (an earlier model's did not, and neutralising set every face's lower half to its mean)."""
        fitted = self.fit(shape)
        removed = fitted.expression
        if tolerance > 0.0:
            sigma = np.sqrt(self.expression_variance)
            beyond = np.sign(removed) * np.maximum(np.abs(removed) / sigma - tolerance, 0.0) * sigma
            removed = np.where(self.opening_components(), removed, beyond).astype(np.float32)
        return self._closed(shape, fitted, removed)

    def _closed(self, shape: np.ndarray, fitted: Coefficients, removed: np.ndarray) -> np.ndarray:
        """`shape` less the expression `removed`, then its lips set to the gap a neutral face has: the
        photo's own when it is under CLOSED_GAP of the mouth's width (a closed mouth stays as closed),
        else CLOSED_GAP, moved along the model's most lip-parting expression component. Removing the fitted
        expression alone could part a closed mouth (a thin-lipped, short-chinned face fits as "lips pressed
        together", and removing that parts them) or lift a wide-open mouth's lower lip above the upper one
        (crossed lips): either drew a double lip."""
        shape = np.asarray(shape, dtype=np.float32)
        neutral = shape - self.expression_offset(shape, Coefficients(fitted.identity, removed, fitted.pose))
        upper, lower = INNER_LIP_MIDDLE
        down = fitted.pose.rotation[:, 1]  # the model's downward axis in the shape's frame
        gap = lambda points: float((points[lower] - points[upper]) @ down)  # noqa: E731
        width = float(np.linalg.norm(shape[lm.MOUTH_LEFT, :2] - shape[lm.MOUTH_RIGHT, :2]))
        wanted = min(max(gap(shape), 0.0), CLOSED_GAP * width)
        parting = self.expression_basis[:, lower, 1] - self.expression_basis[:, upper, 1]
        k = int(np.argmax(np.abs(parting) * np.sqrt(self.expression_variance)))
        unit = np.zeros(len(self.expression_basis), dtype=np.float32)
        unit[k] = 1.0
        step = self.expression_offset(shape, Coefficients(fitted.identity, unit, fitted.pose))
        per_unit = gap(step)
        if abs(per_unit) < 1e-9:
            return neutral.astype(np.float32)
        return (neutral + (wanted - gap(neutral)) / per_unit * step).astype(np.float32)


def rest_frames(shapes: np.ndarray, gap: float = REST_GAP) -> np.ndarray:
    """Which of one person's pose-normalised frames (M, 478, 3) show the face at rest: lips closed (inner-lip
    gap over mouth width at most `gap`), eyes open (REST_EYES of the person's 90th-percentile opening) and
    no smile (mouth at most REST_WIDTH of the closed-lip frames' median width)."""
    shapes = np.asarray(shapes)
    gaps = np.array([lm.mouth_open_ratio(s) for s in shapes])
    eyes = np.array([lm.eye_open_ratio(s) for s in shapes])
    widths = np.linalg.norm(shapes[:, lm.MOUTH_LEFT, :2] - shapes[:, lm.MOUTH_RIGHT, :2], axis=1)
    rest = (gaps <= gap) & (eyes >= REST_EYES * np.quantile(eyes, 0.9))
    if rest.any():
        rest &= widths <= REST_WIDTH * np.median(widths[rest])
    return rest


def rest_identity(shapes: np.ndarray) -> np.ndarray:
    """A track's identity shape from its pose-normalised frames (M, 478, 3): the per-coordinate median of
    its rest frames (`rest_frames`), or of all its frames when too few are at rest. The median of a
    talking face's frames has a half-open mouth, a shorter chin and wider lips than the face at rest, and
    a fit cannot tell all of that from identity: it came back on every frame as "expression" and put the
    target's lower face on the swapped one."""
    shapes = np.asarray(shapes, dtype=np.float32)
    rest = rest_frames(shapes)
    if rest.sum() >= max(MIN_REST_FRAMES, 0.1 * len(shapes)):
        shapes = shapes[rest]
    return np.median(shapes, axis=0).astype(np.float32)


def population_rest(model: MorphableModel, shape: np.ndarray) -> np.ndarray:
    """The model's mean face (the people's average at rest: lips closed, brows at rest) in `shape`'s frame,
    placed on its rigid points: what a face's brows and mouth corners are measured against to tell a scowl
    or a smile (a person's own fit cannot: its identity bases span brows and mouth widths that a scowl or a
    smile also make)."""
    pose, _ = model.align(shape)
    return pose.apply(model.mean).astype(np.float32)


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
    (0..1) of the way to where a face at rest has them: the model's mean face placed on the rigid points
    (`population_rest`). A scowl, a raised brow or a wink moves the brows more than the one expression
    component that holds brow motion explains; the rest stayed in the neutral face and the warp pasted the
    photo's fierce or lifted brows on every frame. (The rest of the face's identity fit was the target
    while the identity bases hardly moved the brows; the rebuilt model's do, and a fit that leaves the
    brows out puts a scowl's brows where the scowl has them.) The skin between the brows and the forehead
    follows (`_carry`, as the cheeks follow the mouth); the eyes, irises and rigid points stay."""
    if strength <= 0.0:
        return neutral
    _, aligned = model.align(neutral)
    return _move_brows(model, shape, neutral, strength * (model.mean[BROWS] - aligned[BROWS]))


def calm_brows(model: MorphableModel, shape: np.ndarray, neutral: np.ndarray, strength: float) -> np.ndarray:
    """`neutral` (as `rest_brows`) with each brow's shape moved `strength` (0..1) of the way to the shape a
    face at rest gives it (the model's mean face), the brow's mean place kept: a scowl's V (inner ends
    pulled down and together, outer ends up) unbent, the brows' height and spacing (identity) left as
    they are. Pulling a scowl's brows wholly to rest calmed it but moved them where another person has
    theirs (dlib's same-person rate fell); the scowl is in the brows' bend, not their height."""
    if strength <= 0.0:
        return neutral
    _, aligned = model.align(neutral)
    offset = model.mean[BROWS] - aligned[BROWS]
    sides = len(lm.RIGHT_BROW)
    for part in (slice(0, sides), slice(sides, None)):  # each brow's mean offset removed: its place is kept
        offset[part] -= offset[part].mean(axis=0)
    return _move_brows(model, shape, neutral, strength * offset)


def _move_brows(model: MorphableModel, shape: np.ndarray, neutral: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """`neutral` with its brows moved by `offset` (BROWS rows, in the model's aligned frame; depth
    ignored), the skin above the eyes carried along (`_carry`); the eyes, irises and rigid points stay."""
    fitted = model.fit(shape, ignore=BROWS)
    move = np.zeros((POINTS, 3), dtype=np.float64)
    move[BROWS] = offset
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
