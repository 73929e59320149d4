"""How to swap: the face-swap planner's choices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SwapOptions:
    """How to swap. Defaults are the recommended settings."""

    target_face: str = "largest"
    reference_descriptor: np.ndarray | None = None  # dlib descriptor of the person to swap (--reference)
    mouth_mask: bool = True
    occlusion: bool = True
    smooth: float = 0.5
    use_3d: bool = True
    expression_gain: float = 1.0
    neutralise: bool = True  # recombine neutralised identities (morphable model); prepare_source(neutralise=True) too
    max_faces: int = 16  # the largest this many faces per frame are swapped (with --target-face all)
    min_face: int = 24  # faces narrower than this (pixels, the detector's box) start no track

    def __post_init__(self) -> None:
        if self.max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {self.max_faces}")
        if self.min_face < 8:
            raise ValueError(f"min_face must be at least 8 pixels, got {self.min_face}")
