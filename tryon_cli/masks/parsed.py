"""Face-swap masks from the face parser: the swap region minus what is in front of the face.

The swap region is `(M_tgt U M_rec) minus M_occ`: the target's and the recombined face's ovals, less the
target's hair, hat and anything that is not a face class inside its face (a hand, a microphone), less
the frame of its glasses, less the face parts the user keeps (`regions`). The glasses class covers
the whole lens, so only its frame is put back: the class's outer rim, the bridge and temples (the class
minus its eroded interior) and pixels inside the class whose colour is far from the skin, never the eyes
behind the lenses (those must be the source's).

`ParsingCadence` runs the parser on the face crop at a reduced size every few frames and carries the
labels to the frames in between with the landmarks (an affine fit), so parsing costs a fraction of a
frame's render.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..analysis.parsing import CLASSES, FaceParser, FaceParsing, class_ids, crop, crop_box
from ..face3d import landmarks as lm
from .face import FACE_REGIONS, skin_distance, skin_statistics
from .shapes import dilate, erode, polygon_mask

FRAME_RIM_PER_FACE_WIDTH = 0.03  # the rim of the glasses class kept as frame
EYE_GUARD_PER_FACE_WIDTH = 0.04  # the eyes, grown this much, are never taken for frame
FRAME_SKIN_DISTANCE = 5.0  # Mahalanobis distance from the skin model beyond which a glasses pixel is frame
DEFAULT_EVERY = 8  # frames between parses of one track
MIN_SIZE = 128  # the smallest input side a small face is parsed at
DEFAULT_SIZE = 320  # the parser's input side on the cadence (at 256 thin glasses frames break up)
MAX_DRIFT_PER_FACE_WIDTH = 0.03  # reparse early when the landmarks move this far from an affine motion
PHOTO_FRAME_REACH_PER_FACE_WIDTH = 0.04  # a photo's glasses class is grown this much to reach the whole frame
PHOTO_FRAME_BRIDGE_PER_FACE_WIDTH = 0.1  # ... after a closing this wide joins the lenses over the bridge
PHOTO_FRAME_SKIN_DISTANCE = 4.0  # Mahalanobis distance from the skin model beyond which a pixel there is frame


def _eyes(shape: tuple[int, int], points: np.ndarray, grow: int) -> np.ndarray:
    mask = polygon_mask(shape, points[lm.RIGHT_EYE]) | polygon_mask(shape, points[lm.LEFT_EYE])
    return dilate(mask, grow)


def glasses_frame(parsing: FaceParsing, image: np.ndarray, points: np.ndarray,
                  skin: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """The frame of the target's glasses (bool): the glasses class's rim, bridge and temples and its
    pixels far from the skin colour, without the eyes behind the lenses."""
    glasses = parsing.mask("eyeglasses")
    if not glasses.any():
        return glasses
    size = float(np.ptp(points[:, 0]))
    as_u8 = np.where(glasses, 255, 0).astype(np.uint8)
    # Thin parts (bridge, temples, the rim) vanish under the erosion, so they are all in this band.
    rim = max(int(size * FRAME_RIM_PER_FACE_WIDTH), 1)
    frame = glasses & (erode(as_u8, rim) == 0)
    if skin is not None:
        # colour only near the rim: deeper inside the lens, dark pixels are the wearer's brows and lids
        near = glasses & (erode(as_u8, 2 * rim) == 0)
        frame |= near & (skin_distance(image, skin) > FRAME_SKIN_DISTANCE**2)
    frame &= _eyes(glasses.shape, points, max(int(size * EYE_GUARD_PER_FACE_WIDTH), 1)) == 0
    return frame


def photo_glasses_frame(parsing: FaceParsing, image: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The frame of glasses worn in a (source) photo and the pixels to paint it from (both bool): the frame is
    the pixels far from the skin colour around the parser's glasses class, without the eyes and brows.

    The class covers the lenses but misses thin parts (the bridge, a lower rim, the ends): it is closed
    across the bridge and grown, and inside that what is not skin-coloured is frame. The skin model is
    the parser's skin away from the glasses (the landmarks' skin region holds the frame itself and
    spreads the model until the frame passes for skin). The eyes (grown) and the parser's brows are
    never frame: they are the wearer's own and carry identity.
    """
    glasses = parsing.mask("eyeglasses")
    if not glasses.any():
        return glasses, parsing.mask("skin")
    size = float(np.ptp(points[:, 0]))
    as_u8 = np.where(glasses, 255, 0).astype(np.uint8)
    bridge = max(int(size * PHOTO_FRAME_BRIDGE_PER_FACE_WIDTH), 1)
    closed = cv2.morphologyEx(as_u8, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * bridge + 1,) * 2))
    around = dilate(closed, max(int(size * PHOTO_FRAME_REACH_PER_FACE_WIDTH), 1))
    skin_region = erode(np.where(parsing.mask("skin"), 255, 0).astype(np.uint8), max(int(size * 0.02), 1))
    skin = skin_statistics(image, skin_region & ~dilate(around, max(int(size * 0.02), 1)))
    if skin is None:
        return np.zeros_like(glasses), parsing.mask("skin")
    skin_like = skin_distance(image, skin) <= PHOTO_FRAME_SKIN_DISTANCE**2
    # the brows as the parser sees them: the mesh's brow points can sit on a top rim
    own = (_eyes(glasses.shape, points, max(int(size * EYE_GUARD_PER_FACE_WIDTH), 1)) > 0) | parsing.mask("brows")
    # what a frame may be painted from: skin-coloured pixels of the face and the brows (a rim over
    # a brow is painted brow). The colour test alone took a pale wall and a grey shirt for skin, and the
    # paint over the frame came out as pale glasses. The skin seen through the lenses counts too: left out,
    # the paint met the lenses' darker sockets with a step, a pale ghost of the rims round each eye.
    fill_from = (skin_like & parsing.region(("face", "eyeglasses"))) | parsing.mask("brows")
    return (around > 0) & ~skin_like & ~own, fill_from


def parsed_swap_mask(parsing: FaceParsing, image: np.ndarray, target_points: np.ndarray, target_face: np.ndarray,
                     recombined_face: np.ndarray, skin: tuple[np.ndarray, np.ndarray] | None,
                     regions: tuple[str, ...] = FACE_REGIONS, occlusion: bool = True,
                     frame: bool = True) -> np.ndarray:
    """The swap region (uint8 0/255) of one face from the target's labels, all arrays in one window;
    without `occlusion` only the kept regions are taken out; without `frame` the glasses' frame is left
    in (for a caller that puts it back after blending: a feather would erode the lenses' small islands
    of swapped face between the frame's rings, and the target's eyes would show through)."""
    occluders = np.zeros(parsing.labels.shape, dtype=bool)
    if occlusion:
        occluders |= parsing.region(("hair", "hat"))
        # Inside the target's face anything that is not face, ears or glasses is in front of it.
        occluders |= (target_face > 0) & ~parsing.region(("face", "ears", "eyeglasses"))
        if frame:
            occluders |= glasses_frame(parsing, image, target_points, skin)
    kept = [name for name in FACE_REGIONS if name not in regions]
    if kept:
        size = float(np.ptp(target_points[:, 0]))
        kept_mask = np.where(parsing.region(kept), 255, 0).astype(np.uint8)
        occluders |= dilate(kept_mask, max(int(size * 0.01), 1)) > 0
    region = (target_face > 0) | (recombined_face > 0)
    return np.where(region & ~occluders, 255, 0).astype(np.uint8)


@dataclass(frozen=True)
class _Parsed:
    labels: np.ndarray  # the parse crop's labels
    left: int  # the crop's corner in the image
    top: int
    points: np.ndarray  # (N, 2) landmarks when parsed
    index: int  # frame index when parsed


def _affine(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares 2-D affine (2 x 3) taking src points to dst points, and its RMS residual."""
    design = np.hstack([src, np.ones((len(src), 1))])
    solution, *_ = np.linalg.lstsq(design, dst, rcond=None)
    residual = design @ solution - dst
    return solution.T, float(np.sqrt((residual**2).sum(axis=1).mean()))


class ParsingCadence:
    """The target's labels per track: parsed every `every` frames at `size` px, carried by the landmarks
    in between (reparsed early after a gap, or when the face moves in a way an affine map cannot follow)."""

    def __init__(self, parser: FaceParser, every: int = DEFAULT_EVERY, size: int = DEFAULT_SIZE) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        self.parser = parser
        self.every = every
        self.size = size
        self.parses = 0  # how many times the parser ran
        self._tracks: dict[int, _Parsed] = {}
        self._last_index: dict[int, int] = {}

    def reset(self) -> None:
        self._tracks.clear()
        self._last_index.clear()

    def _parse(self, image: np.ndarray, points: np.ndarray, index: int) -> _Parsed:
        xy = points[:, :2]
        box = crop_box((*xy.min(axis=0), *xy.max(axis=0)), image_shape=image.shape)
        # A small face is parsed at about its own size (a multiple of 32, at least MIN_SIZE): no detail is
        # lost, and a crowd's many small faces cost a fraction of a close-up's parse each.
        side = max(box[2] - box[0], box[3] - box[1])
        size = min(self.size, max(MIN_SIZE, -(-side // 32) * 32))
        labels = self.parser.parse(crop(image, box), size).labels
        self.parses += 1
        return _Parsed(labels, box[0], box[1], np.asarray(xy, dtype=np.float64), index)

    def labels(self, image: np.ndarray, points: np.ndarray, track: int, index: int,
               window: tuple[int, int, int, int]) -> FaceParsing:
        """The labels of the face at `points` (pixels) inside `window` = (x0, y0, x1, y1) of `image`."""
        xy = np.asarray(points[:, :2], dtype=np.float64)
        state = self._tracks.get(track)
        fresh = (state is None or index - state.index >= self.every or self._last_index.get(track) != index - 1)
        motion = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        if not fresh:
            motion, residual = _affine(state.points, xy)
            fresh = residual > MAX_DRIFT_PER_FACE_WIDTH * float(np.ptp(xy[:, 0]))
        if fresh:
            state = self._parse(image, points, index)
            self._tracks[track] = state
            motion = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        self._last_index[track] = index
        x0, y0, x1, y1 = window
        # crop pixel -> image when parsed (+ corner) -> image now (motion) -> window (- its corner)
        to_window = motion @ np.array([[1.0, 0.0, state.left], [0.0, 1.0, state.top], [0.0, 0.0, 1.0]])
        to_window[:, 2] -= (x0, y0)
        labels = cv2.warpAffine(state.labels, to_window, (x1 - x0, y1 - y0), flags=cv2.INTER_NEAREST,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=CLASSES.index("background"))
        return FaceParsing(labels)


__all__ = ["FACE_REGIONS", "ParsingCadence", "class_ids", "glasses_frame", "parsed_swap_mask"]
