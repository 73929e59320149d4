"""What the old garment's coarse region, the arms' capsules and the person mask swallow that is neither
the old garment nor the body: the backdrop seen through a gap (between an arm and the waist), and another
garment (trousers beside a forearm). Colours in occluders.colour_lab units (lightness weighed half)."""

from __future__ import annotations

import cv2
import numpy as np

from .occluders import colour_clusters, colour_distance

BACKDROP_DISTANCE = 6.0  # colour distance within which a pixel is the backdrop's ...
OLD_COLOUR_DISTANCE = 10.0  # ... unless it is this close to one of the old garment's colours as well
BACKDROP_MARGIN = 0.03  # share of the long side around the person left out of the backdrop's colour sample
BACKDROP_SHARE = 0.25  # an old garment with more of its region in the backdrop's colours is itself that colour
BACKDROP_MIN_AREA = 0.01  # a backdrop patch inside the region is at least this share of the long side, squared
OTHER_MARGIN = 5.0  # colour distance by which a pixel is nearer another garment's colours than the old one's
MIN_SAMPLES = 50  # pixels needed before a colour sample is trusted


def backdrop_colours(lab: np.ndarray, person: np.ndarray | None) -> np.ndarray:
    """The main colours off the person (beyond BACKDROP_MARGIN of it); none without a person mask."""
    if person is None or not person.any():
        return np.zeros((0, 3), np.float32)
    margin = max(int(BACKDROP_MARGIN * max(person.shape)), 1)
    around = cv2.dilate(person, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1,) * 2)) == 0
    return colour_clusters(lab[around]) if around.sum() >= MIN_SAMPLES else np.zeros((0, 3), np.float32)


def garment_colours(lab: np.ndarray, region: np.ndarray, backdrop: np.ndarray | None = None) -> np.ndarray:
    """The main colours of `region` (bool), none when it is (nearly) empty. With the `backdrop`'s colours,
    the backdrop a coarse region holds (a gap inside a bent arm) is left out of the sample, unless much of
    the region has them (a white garment on a white backdrop: then they are the garment's own)."""
    if region.sum() < MIN_SAMPLES:
        return np.zeros((0, 3), np.float32)
    pixels = lab[region]
    if backdrop is not None and len(backdrop):
        like = colour_distance(pixels[None], backdrop)[0] <= BACKDROP_DISTANCE
        if like.mean() <= BACKDROP_SHARE and (~like).sum() >= MIN_SAMPLES:
            pixels = pixels[~like]
    return colour_clusters(pixels)


def backdrop_seen(lab: np.ndarray, backdrop: np.ndarray, old_colours: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Inside `region` (uint8), the backdrop: pixels of the `backdrop`'s colours that are none of the old
    garment's, in patches of some size. The person mask is coarse and closes the gap between an arm and
    the waist, so that gap was taken for old garment on the body. A white garment on a white backdrop
    shares its colours: there nothing is found."""
    found = np.zeros(region.shape, bool)
    if not len(backdrop) or not len(old_colours) or not region.any():
        return found
    long_side = max(region.shape)
    x, y, box_w, box_h = cv2.boundingRect(region)
    crop = lab[y : y + box_h, x : x + box_w]
    candidate = (colour_distance(crop, backdrop) <= BACKDROP_DISTANCE) \
        & (colour_distance(crop, old_colours) > OLD_COLOUR_DISTANCE) & (region[y : y + box_h, x : x + box_w] > 0)
    candidate = cv2.morphologyEx(candidate.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
    big = np.nonzero(stats[:, cv2.CC_STAT_AREA] >= (BACKDROP_MIN_AREA * long_side) ** 2)[0]
    found[y : y + box_h, x : x + box_w] = np.isin(labels, big[big > 0])
    return found


def other_clothing(lab: np.ndarray, person: np.ndarray | None, old: np.ndarray, region: np.ndarray,
                   bare: np.ndarray, old_colours: np.ndarray, keep: np.ndarray | None,
                   below: bool = True) -> np.ndarray:
    """Inside `region`'s box, pixels nearer (by OTHER_MARGIN) to the colours of what the person wears
    outside `region` and the old garment `old` than to the old garment's own colours. The other garment
    is sampled below the old one's middle (trousers, a skirt under a top), or above it with `below`
    False (a top over trousers): neither the head's shadows nor hair are clothing, nor is what stays in
    front (`keep`: hair, face, hands; black hair is no reason to keep a black collar)."""
    found = np.zeros(region.shape, bool)
    if person is None or not len(old_colours) or not region.any() or not old.any():
        return found
    worn = (person > 0) & (region == 0) & ~old & ~bare
    if keep is not None:
        worn &= keep == 0
    middle = int(np.nonzero(old.any(axis=1))[0].mean())
    if below:
        worn[:middle] = False
    else:
        worn[middle:] = False
    if worn.sum() < MIN_SAMPLES:
        return found
    x, y, box_w, box_h = cv2.boundingRect(region)
    crop = lab[y : y + box_h, x : x + box_w]
    nearer = colour_distance(crop, colour_clusters(lab[worn])) + OTHER_MARGIN < colour_distance(crop, old_colours)
    # (a majority over a small window: single pixels of a fold or an anti-aliased edge do not fray it)
    found[y : y + box_h, x : x + box_w] = cv2.medianBlur(nearer.astype(np.uint8) * 255, 5) > 0
    return found
