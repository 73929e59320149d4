"""Loose hair strands over a photo's lids: the dark hair just past the face parser's hair class.

The parser's hair class stops short of a fringe's loose strands. On portrait_b the 6 to 10 pixels of hair
between its hair edge and the outer end of one brow and lid were parsed as skin (Lab lightness 5 to 60
against the skin's 152). Kept in the source texture, the colour transfer coloured them as skin and the lids'
slide stretched them into brown streaks whenever the target's eye shut. Taken as hair, they are filled from
the mirrored side when it is clear (`unwrap.mirror_fill`), else left to the target, like the rest of the hair.
`source._parsed_occluders` looks for them by the brows and eyes under each brow's end-to-end line only.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..masks.shapes import ellipse_kernel

STRAND_DARKNESS = 0.5  # a strand is darker than the brow and lid skin's median lightness by this share of it,
# both in itself and against the lightest of what lies around it (a `width` across closing): portrait_b's
# strands read 0.03-0.4 of its skin, its lids' and sockets' shading 0.6 and above


def hair_strands(image: np.ndarray, hair: np.ndarray, brows: np.ndarray, eyes: np.ndarray, near: np.ndarray,
                 reach: int, width: int) -> np.ndarray:
    """Thin dark pixels inside `near` joined to the parser's `hair` through thin dark pixels (bool, H x W).

    `image` is BGR; the masks are bool of its size. Thin: narrower than `width` pixels (a shadow spreads
    wider: a grey photo's shaded temple was taken for hair without it). The join may pass up to `reach`
    pixels outside `near` (the hair's edge often lies just past the brows and eyes), and across the `brows`
    (a strand crossing a brow is taken on both sides of it) but never through the `eyes` (lashes included).
    Neither is ever taken: they are the person's.
    """
    lightness = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    keep = brows | eyes
    skin = near & ~hair & ~keep
    if not skin.any() or not hair.any():
        return np.zeros(hair.shape, dtype=bool)
    step = STRAND_DARKNESS * float(np.median(lightness[skin]))
    # and no lighter than the brows: a shaded temple or lid crease is darker than half the skin on a dark or
    # side-lit photo (portrait_side_light), hair over the face as dark as the brows or darker
    darkest = min(step, float(np.median(lightness[brows]))) if brows.any() else step
    # the parser's hair and brows count as skin here, so a strand beside them is still thin
    flat = np.where(hair | brows, 2.0 * step, lightness).astype(np.float32)
    thin = cv2.morphologyEx(flat, cv2.MORPH_CLOSE, ellipse_kernel(width // 2)) - flat > step
    around = cv2.dilate(near.astype(np.uint8), ellipse_kernel(reach)) > 0
    # a strand crossing a brow is as dark inside it (thin there only against the brow, so not asked to be)
    path = (lightness < darkest) & (thin | brows) & around & ~hair & ~eyes
    # the dark pixels in one 8-connected piece with the hair
    _, labels = cv2.connectedComponents((path | hair).astype(np.uint8), connectivity=8)
    joined = np.unique(labels[hair])
    return path & near & ~brows & np.isin(labels, joined[joined > 0])
