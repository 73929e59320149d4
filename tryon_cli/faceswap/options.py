"""How to swap: the face-swap planner's choices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..masks.face import FACE_REGIONS, check_regions


@dataclass(frozen=True)
class SwapOptions:
    """How to swap. Defaults are the recommended settings."""

    target_face: str = "largest"
    reference_descriptor: np.ndarray | None = None  # dlib descriptor of the person to swap (--reference)
    mouth_mask: bool = True
    occlusion: bool = True
    shave: bool = True  # a bearded target chin's beard below the swapped face's chin filled with skin (beard.py)
    smooth: float = 0.5
    use_3d: bool = True
    expression_gain: float = 1.0
    neutralise: bool = True  # recombine neutralised identities (morphable model); prepare_source(neutralise=True) too
    identity_tolerance: float = 0.0  # expression neutralised only beyond this many prior standard deviations (the
    # mouth's opening wholly), for the target's tracks as prepare_source(tolerance=...) does for the source
    max_faces: int = 16  # the largest this many faces per frame are swapped (with --target-face all)
    min_face: int = 24  # faces narrower than this (pixels, the detector's box) start no track
    parsing: bool = False  # masks from the face parser when one is passed to the planner (else the skin model)
    regions: tuple[str, ...] = FACE_REGIONS  # face parts swapped (with parsing); the others stay the target's
    parse_every: int = 8  # frames between two parses of a face (the landmarks carry the labels between)
    parse_size: int = 320  # the parser's input side (pixels; at 256 thin glasses frames break up)

    def __post_init__(self) -> None:
        if self.max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {self.max_faces}")
        if self.min_face < 8:
            raise ValueError(f"min_face must be at least 8 pixels, got {self.min_face}")
        check_regions(self.regions)
        if self.identity_tolerance < 0:
            raise ValueError(f"identity_tolerance must be at least 0, got {self.identity_tolerance}")
        if self.parse_every < 1:
            raise ValueError(f"parse_every must be at least 1, got {self.parse_every}")
