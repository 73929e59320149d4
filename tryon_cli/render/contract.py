"""The engine contract: `render_stream(items, progress) -> iterator of (key, frame)`.

Planners (swap, try-on, triplets) say *where* pixels may change (a uint8 mask per frame, 255 = may
change) and *what* to put there (typed conditions per frame). Engines decide *how*. An engine never
changes the frame size, pixels where the mask is 0 come back bit-exact, and items come back in the
order they went in. Items without conditions pass through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Literal, Protocol, Union, runtime_checkable

import numpy as np

Progress = Callable[[str, int, int], None]
GarmentCategory = Literal["upper", "lower", "dress"]
TryonMode = Literal["mask", "mask-free"]


def _check_mask(name: str, mask: np.ndarray | None, shape: tuple[int, int] | None) -> None:
    if mask is None:
        return
    if mask.ndim != 2 or (shape is not None and mask.shape != shape):
        raise ValueError(f"{name} must be a 2-D mask of shape {shape}, not {mask.shape}")


@dataclass(frozen=True)
class SourceView:
    """One source photo inside the source texture: where its face lies, its head turn and expression.

    With several photos the texture holds each photo's frontal unwrap side by side; a planner picks
    per frame the view that fits the target best and hands its points as `FaceTarget.texture_points`.
    """

    texture_points: np.ndarray
    yaw: float
    pitch: float
    expression: np.ndarray


@dataclass(frozen=True)
class SourceFace:
    """The identity to paste: texture, its landmarks, identity shape and skin colour (fixed per run).

    `frontal_mesh` is the source's first mesh turned to face the camera: the reference every target
    mesh is pose-normalised against.
    """

    texture: np.ndarray
    texture_points: np.ndarray
    identity_shape: np.ndarray
    frontal_mesh: np.ndarray
    triangles: np.ndarray
    skin_stats: np.ndarray
    texture_mask: np.ndarray | None = None
    views: tuple[SourceView, ...] = ()
    smile: float = 0.0  # how much its photos smile, 0..1 (the largest, `faceswap.folds.smile_strength`)

    def __post_init__(self) -> None:
        if self.texture.ndim != 3 or self.texture.shape[2] != 3:
            raise ValueError("the source texture must be an RGB image")
        if any(v.texture_points.shape != self.texture_points.shape for v in self.views):
            raise ValueError("every source view needs as many texture points as the source")
        _check_mask("texture_mask", self.texture_mask, self.texture.shape[:2])


@dataclass(frozen=True)
class FaceTarget:
    """One face to render in one frame: where the swapped face lands and the target's own landmarks."""

    points: np.ndarray
    target_points: np.ndarray
    target_skin: np.ndarray | None
    normal_map: np.ndarray | None = None
    texture_points: np.ndarray | None = None
    # The source's neutral face under this frame's pose (its eyes open): where the classical engine
    # places the source's open eyes before sliding the lids to `points` (eyes.slide_lids).
    rest_points: np.ndarray | None = None
    # How much the target smiles in this frame (0..1, `faceswap.folds.smile_strength`): as much as it does,
    # a smiling source's own folds are where the target's would be, and they stay (`nasolabial_zone`).
    smile: float = 0.0
    # The frame already holds the target's mouth interior warped into `points`' opening
    # (`faceswap.mouth`): the classical blend then feathers the lips' inner edge narrowly.
    mouth_filled: bool = False


@dataclass(frozen=True)
class SwapConditions:
    """Face swap: put `source` on each of `faces`."""

    source: SourceFace
    faces: tuple[FaceTarget, ...]


@dataclass(frozen=True)
class GarmentConditions:
    """Garment try-on: the garment photo and a warped first guess in frame coordinates.

    `warped`/`warped_alpha` are the garment laid on the body (frame size); `keep` is what stays in
    front of it (face, hair, hands). For mask mode, `old_garment` is the region of the garment being
    replaced, `torso` the body's torso (what is not torso in the uncovered old garment is arm), and
    `person` the person segmentation (where skin colour is sampled). `arms` is where the person's arms
    are (in front of the garment's torso; old garment there becomes skin unless a sleeve covers it).
    `figure` (float coverage in [0, 1]) is the body's outline from the pose (`placement.body_figure`): the
    old garment it leaves uncovered outside that outline is filled as what lies behind the body, not skin.
    """

    garment: np.ndarray
    garment_mask: np.ndarray
    warped: np.ndarray
    warped_alpha: np.ndarray
    keep: np.ndarray | None = None
    category: GarmentCategory = "upper"
    mode: TryonMode = "mask"
    person: np.ndarray | None = None
    old_garment: np.ndarray | None = None
    torso: np.ndarray | None = None
    arms: np.ndarray | None = None
    figure: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.category not in ("upper", "lower", "dress"):
            raise ValueError(f"unknown garment category {self.category!r}")
        if self.mode not in ("mask", "mask-free"):
            raise ValueError(f"unknown try-on mode {self.mode!r}")
        _check_mask("garment_mask", self.garment_mask, self.garment.shape[:2])
        shape = self.warped.shape[:2]
        _check_mask("warped_alpha", self.warped_alpha, shape)
        for name in ("keep", "person", "old_garment", "torso", "arms", "figure"):
            _check_mask(name, getattr(self, name), shape)


Conditions = Union[SwapConditions, GarmentConditions]


@dataclass(frozen=True)
class RenderItem:
    """One frame on its way through an engine: a key the caller gets back, the frame, where and what."""

    key: object
    frame: np.ndarray
    mask: np.ndarray | None = None
    conditions: Conditions | None = None

    def __post_init__(self) -> None:
        if (self.mask is None) != (self.conditions is None):
            raise ValueError("a render item has both a mask and conditions, or neither")
        _check_mask("mask", self.mask, self.frame.shape[:2])

    @property
    def passes_through(self) -> bool:
        return self.conditions is None


@runtime_checkable
class Engine(Protocol):
    """What every engine offers. `create_engine` checks an engine against this before handing it out."""

    name: str
    needs_normal_map: bool

    def prepare(self, kind: type) -> None:
        """Load what rendering conditions of this type needs (fail now, before any work)."""
        ...

    def render_stream(self, items: Iterable[RenderItem],
                      progress: Progress | None = None) -> Iterator[tuple[object, np.ndarray]]:
        """Yield (key, output frame) for every item, in order."""
        ...


def paste_back(frame: np.ndarray, rendered: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Alpha-composite `rendered` over `frame`; where alpha is 0 the frame's pixels are kept exactly."""
    a = alpha.astype(np.float32)[..., None]
    mixed = (frame.astype(np.float32) * (1 - a) + rendered.astype(np.float32) * a + 0.5).astype(np.uint8)
    return np.where(a > 0, mixed, frame)
