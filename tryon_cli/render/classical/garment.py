"""Classical garment rendering: fill the mask plausibly, lay the warped garment over it, keep what is in front."""

from __future__ import annotations

import cv2
import numpy as np

from ...analysis.body import is_skin
from ...masks.occluders import colour_clusters, colour_distance, colour_lab
from ...masks.worn import backdrop_colours, backdrop_seen, garment_colours, other_clothing
from ...masks.shapes import erode, feather
from ..contract import GarmentConditions, paste_back
from .skin_light import SkinLight, fit_skin_light, part_normals
from .skin_texture import skin_detail

FALLBACK_SKIN = (198, 160, 140)  # RGB used when no skin of the person is visible outside the mask
MIN_SKIN_SAMPLES = 50  # pixels needed before a median skin colour is trusted
NEARBY_SKIN_REACH = 0.08  # skin sampled within this share of the long side around the filled area ...
NEARBY_SKIN_SAMPLES = 400  # ... when at least this many bare pixels are there
FILL_WORKING_SIZE = 384.0  # long side (px) at which the uncovered area is inpainted
GARMENT_EDGE_SIGMA = 1.0  # anti-aliasing of the garment's alpha edge (px)
UNDER_EDGE_ALPHA = 0.98  # under a new garment's alpha below this, what lies beneath shows
UNCOVERED_GROWTH = 5  # the uncovered old garment is grown by this kernel (px) so no rim is left
ARM_SHADE_SIGMA = 0.022  # scale of the old garment's lightness kept on filled skin (share of the long side: a
# seam, a placket or a bra under a sheer top, finer than this, is no shading of the body)
ARM_SHADE_RANGE = (0.8, 1.12)  # how much darker/brighter than the median a filled arm may be
ARM_SHADE_OFFSET = 40.0  # grey levels added before that ratio
ARM_SHADE_FABRIC = 40.0  # grey levels from the covered area's median: beyond, another garment (a tie), not shade
SKIN_EDGE_SIGMA = 2.0  # softness of the filled skin's edge (px): the old garment's region is coarse
SKIN_LOCAL_SIGMA = 0.04  # the filled skin's colour: bare skin blurred at this share of the long side ...
SKIN_LOCAL_TOLERANCE = 20.0  # ... from skin within this distance (8-bit Lab units) of the median skin colour
SKIN_LIT_REACH = 60.0  # ... or as much brighter (8-bit L) with the chroma within it: lit skin (a chest in the light)
OWN_SKIN_SHADE = 40.0  # 8-bit L: the arms' or nearby skin's tone this much darker than the face's lit skin is a
# sleeve's shaded edge in the skin range, not skin in shade
SKIN_LOCAL_SUPPORT = 0.05  # ... trusted where at least this blurred share of skin pixels is near (else the median)
SKIN_ROUNDING_BAND = 0.02  # filled skin darkens towards the silhouette over at least this share of the long side ...
SKIN_ROUNDING_DARKEN = 0.2  # ... by up to this much at the silhouette itself
SKIN_ROUNDING_REACH = 0.15  # a limb's or torso's half-width is looked for this far (share of the long side)
LIMB_GROWTH = 0.6  # an arm's capsule is grown by this share of its half-width to reach the arm's silhouette
ARM_MIDDLE = 0.7  # an arm's width is measured on its capsule's pixels this deep (share of its radius) ...
MIN_ARM_SAMPLES = 30  # ... when at least this many of them are bare skin ...
ARM_WIDTH_PERCENTILE = 75  # ... as this percentile of their distance to anything not bare ...
ARM_EASE = 1.2  # ... times this (the upper arm under a sleeve is a little thicker than the forearm below it)
MIN_ARM_WIDTH = 0.5  # ... and trusted when at least this share of the capsule's radius
CONTACT_SIGMA = 0.006  # the shadow a garment casts on the skin beside it: blurred at this share of the long side ...
CONTACT_DROP = 0.003  # ... lowered by this share of the long side (light from above) ...
CONTACT_DARKEN = 0.3  # ... darkening the skin by up to this much
SEAM_SOFTNESS = 0.004  # the rounding is blurred at this share of the long side (the arm-torso seam's shadow)
ROUNDING_WORKING_SIZE = 256.0  # long side (px) at which the body's local half-width is measured
SKIN_FEATHER = 0.6  # the fill fades into the bare skin next to it over this many hundredths of the long side ...
SKIN_FEATHER_WEIGHT = 0.6  # ... starting from this weight at the seam
SHADED_SKIN_B = 6.0  # Lab b distance from the person's skin of skin in shadow (out of the skin range) ...
SHADED_SKIN_A = 12.0  # ... and Lab a distance (a garment's reflected light shifts its redness)
SKIN_CHROMA_TOLERANCE = 14.0  # Lab (a, b) distance from the person's own skin that still counts as bare skin
SPECK_AREA = 0.0015  # bare skin in pieces under this share of the long side squared ...
SPECK_RING = 3  # ... whose ring this many px wide ...
SPECK_ENCLOSED = 0.8  # ... lies at least this much on the old garment is the old garment's print, no skin
OLD_EDGE_REACH = 0.015  # share of the long side beside the old garment's region still taken as its edge ...
HEM_BAND = 0.03  # share of the long side above and below the old top's lower edge where the garment below is sought
HEM_MARGIN = 3.0  # colour distance (colour_lab) by which a pixel is nearer the garment below than the old one
SLEEVE_SCALE = 0.02  # share of the long side over which an arm's capsule is seen bare or sleeved ...
BARE_ARM_SHARE = 0.25  # ... bare where at least this share of it is bare skin (a sleeve shows none)
SKIN_RIM = 0.004  # ... but not within this share of the long side of both bare skin and the person's outside
COLLAR_BAND = 0.025  # share of the long side above the new neckline where anything but skin is old collar ...
COLLAR_BAND_PER_TORSO = 0.1  # ... or of the torso's width, whichever is more
SAME_GARMENT_CHROMA = 10.0  # 8-bit Lab (a, b) distance from the old garment's median: still its fabric ...
SAME_GARMENT_LIGHTNESS = 40.0  # ... and lightness distance (its folds)
HIP_REACH = 0.25  # share of the torso quadrilateral's width the hips reach beyond it either side
HAIR_REACH = 0.05  # share of the long side above `region` where the hair that falls into it is sampled
HAIR_TOLERANCE = 18.0  # 8-bit Lab distance from the hair's colour that still counts as hair
HAIR_HEAD_TOLERANCE = 36.0  # ... and from the colour of the head's hair, at most, of the hair that falls from it
SWALLOWED_WORKING_SIZE = 512.0  # long side (px) at which the backdrop and other garments in the mask are found
PASTE_FEATHER = 3  # feather of the paste-back region (px)
SHADE_WORKING_SIZE = 384.0  # long side (px) at which the old garment's shading is measured
SHADE_SIGMA = 0.012  # folds and shadows kept: lightness blurred at this fraction of the long side ...
SHADE_REACH = 0.04  # ... and faded to neutral this far (fraction of the long side) outside the old garment
SHADE_CLIP = (30.0, 12.0)  # L units below / above the old garment's median lightness kept (folds, not prints)
SHADE_KEEP = (40.0, 25.0)  # ... and pixels beyond these (below / above) are not the garment's fabric at all
SHADE_MIN_SUPPORT = 0.3  # blurred fabric weight under which the measured shading fades to neutral
SHADE_CHROMA = 12.0  # ... nor pixels whose a, b lie this far from the fabric's (another garment in the region)
SHADE_OFFSET = 20.0  # L units added before the ratio, so a dark garment's noise is not amplified
SHADE_STRENGTH = 0.6  # share of the old garment's relative lightness carried onto the new one
SHADE_RANGE = (0.65, 1.2)  # how much darker/brighter than its own mean the new garment may be made


def fill_masked(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Fill the masked area plausibly from its surroundings (Telea inpainting at reduced size)."""
    h, w = mask.shape
    scale = min(1.0, FILL_WORKING_SIZE / max(h, w))
    small = cv2.resize(frame, (max(int(w * scale), 1), max(int(h * scale), 1)), interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(mask, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    filled = cv2.inpaint(small, small_mask, 5, cv2.INPAINT_TELEA)
    filled = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
    return paste_back(frame, filled, (mask > 0).astype(np.float32))


def skin_colour(frame: np.ndarray, person: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
    """Median colour of the visible skin of the person outside the mask."""
    fallback = np.array(FALLBACK_SKIN, dtype=np.float32)
    if person is None:
        return fallback
    candidates = frame[(person > 0) & (mask == 0)]
    if len(candidates) < MIN_SKIN_SAMPLES:
        return fallback
    skin = is_skin(candidates[None])[0]
    return np.median(candidates[skin], axis=0).astype(np.float32) if skin.sum() > MIN_SKIN_SAMPLES else fallback


def _nearby_skin(frame: np.ndarray, person: np.ndarray | None, region: np.ndarray, bare: np.ndarray) -> np.ndarray | None:
    """Median colour of the person's bare skin near `region` (the arm next to a filled shoulder, not the
    face in another light); None when too little is visible there."""
    if person is None:
        return None
    h, w = region.shape
    reach = max(int(NEARBY_SKIN_REACH * max(h, w)), 3)
    near = cv2.dilate(region, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))) > 0
    pixels = frame[near & bare & (person > 0) & (region == 0)]
    return np.median(pixels, axis=0).astype(np.float32) if len(pixels) > NEARBY_SKIN_SAMPLES else None


def _arm_skin(frame: np.ndarray, arms: np.ndarray | None, bare: np.ndarray) -> np.ndarray | None:
    """Median colour of the bare skin on the arms (their capsules), the surest skin of a person: the
    skin colour range near a filled area also takes in auburn hair and a brown trouser print, and the
    fill came out dark brown beside light forearms. None when too little of the arms is bare."""
    if arms is None:
        return None
    pixels = frame[(arms > 0) & bare]
    return np.median(pixels, axis=0).astype(np.float32) if len(pixels) > NEARBY_SKIN_SAMPLES else None


def _colour_lab(colour: np.ndarray) -> np.ndarray:
    """One RGB colour (rounded to 8 bits) in 8-bit OpenCV Lab, as float32."""
    return cv2.cvtColor(np.clip(colour, 0, 255).astype(np.uint8)[None, None], cv2.COLOR_RGB2LAB)[0, 0].astype(np.float32)


def _seen_skin(frame: np.ndarray, person: np.ndarray | None, mask: np.ndarray,
               keep: np.ndarray | None) -> np.ndarray | None:
    """The person's skin-range pixels outside the mask (bool): only those kept in front (`keep`: face,
    hands) when enough of them show; None without a person or with too few."""
    if person is None:
        return None
    seen = (person > 0) & (mask == 0) & is_skin(frame)
    if keep is not None and (seen & (keep > 0)).sum() > MIN_SKIN_SAMPLES:
        seen &= keep > 0
    return seen if seen.sum() > MIN_SKIN_SAMPLES else None


def _lit_skin(frame: np.ndarray, person: np.ndarray | None, mask: np.ndarray,
              keep: np.ndarray | None) -> np.ndarray | None:
    """Median RGB of the lighter half (by lightness) of the skin-range pixels `_seen_skin` picks: the
    lit skin of the face, neck and hands. Dark hair is in the skin range too (only darker), and with the
    shadows under it the plain median was a brown no skin of the person's had. None when too few show."""
    seen = _seen_skin(frame, person, mask, keep)
    if seen is None:
        return None
    pixels = frame[seen]
    lightness = cv2.cvtColor(pixels[None], cv2.COLOR_RGB2LAB)[0, :, 0]
    lighter = np.argsort(lightness, kind="stable")[len(pixels) // 2 :]  # (by rank: ties of a flat hair colour)
    return np.median(pixels[lighter], axis=0).astype(np.float32)


def _own_skin(tone: np.ndarray | None, lit: np.ndarray | None) -> np.ndarray | None:
    """`tone` (RGB) when it may be the person's skin whose `lit` colour (`_lit_skin`) is known: its chroma within
    SKIN_LOCAL_TOLERANCE and no more than OWN_SKIN_SHADE darker; else None (a garment's shade in the skin
    range). `tone` as it is without `lit`."""
    if tone is None or lit is None:
        return tone
    lab, lit_lab = _colour_lab(tone), _colour_lab(lit)
    same_chroma = np.linalg.norm(lab[1:] - lit_lab[1:]) < SKIN_LOCAL_TOLERANCE
    return tone if same_chroma and lab[0] > lit_lab[0] - OWN_SKIN_SHADE else None


def _like_skin(lab: np.ndarray, tone_lab: np.ndarray) -> np.ndarray:
    """Pixels (8-bit Lab) of the skin of `tone_lab` in another light: the chroma within SKIN_LOCAL_TOLERANCE,
    the lightness down to SKIN_LOCAL_TOLERANCE darker (darker still is a sheer sleeve over it) or up to
    SKIN_LIT_REACH brighter (the tone is the arms', often in shadow: a chest in the light was left out, and
    the fill below its neckline was a darker block with a step)."""
    chroma = np.linalg.norm(lab[..., 1:] - tone_lab[1:], axis=-1) < SKIN_LOCAL_TOLERANCE
    lightness = lab[..., 0] - tone_lab[0]
    return chroma & (lightness > -SKIN_LOCAL_TOLERANCE) & (lightness < SKIN_LIT_REACH)


def _skin_reference(frame: np.ndarray, person: np.ndarray | None, mask: np.ndarray,
                    keep: np.ndarray | None = None) -> np.ndarray | None:
    """Median Lab (float) of the person's skin-range pixels outside the mask: those kept in front (`keep`:
    face, hands) when enough show (a trouser print of muted reds outside the mask is in the skin range too,
    and outnumbered the face); None when too few show."""
    seen = _seen_skin(frame, person, mask, keep)
    if seen is None:
        return None
    return np.median(cv2.cvtColor(frame.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[seen], axis=0)


def _bare_skin(frame: np.ndarray, person: np.ndarray | None, mask: np.ndarray,
               keep: np.ndarray | None = None) -> np.ndarray:
    """Bare skin: the skin colour range, and, where the person's skin shows outside the mask, that skin's
    chroma (`_skin_reference`: a lit red or pink sleeve falls in the range but is no skin, and must not be
    kept)."""
    skin = is_skin(frame)
    reference = _skin_reference(frame, person, mask, keep)
    if reference is not None:
        lab = cv2.cvtColor(frame.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
        skin &= np.linalg.norm(lab[..., 1:] - reference[1:], axis=2) < SKIN_CHROMA_TOLERANCE
    return cv2.morphologyEx(skin.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)) > 0


def _print_specks(bare: np.ndarray, garment: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The pieces of `bare` in the mask smaller than SPECK_AREA and enclosed by `garment` (SPECK_ENCLOSED of
    a ring round them on it, not bare): the pink bits of a trouser print or a brown button pass for skin,
    and kept as photographed they stood as dots of the old print in the backdrop filled beside a dress."""
    found = np.zeros(bare.shape, bool)
    pieces = (bare & (mask > 0)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(pieces, connectivity=8)
    h, w = bare.shape
    limit = SPECK_AREA * max(h, w) ** 2
    kernel = np.ones((2 * SPECK_RING + 1,) * 2, np.uint8)
    for index in np.nonzero(stats[1:, cv2.CC_STAT_AREA] < limit)[0] + 1:
        x, y, bw, bh = stats[index, :4]
        y0, y1, x0, x1 = y - SPECK_RING, y + bh + SPECK_RING, x - SPECK_RING, x + bw + SPECK_RING
        if y0 < 0 or x0 < 0 or y1 > h or x1 > w:
            continue  # (at the frame's border: not seen enclosed)
        piece = labels[y0:y1, x0:x1] == index
        ring = (cv2.dilate(piece.astype(np.uint8), kernel) > 0) & ~piece
        if (ring & garment[y0:y1, x0:x1] & ~bare[y0:y1, x0:x1]).sum() >= SPECK_ENCLOSED * ring.sum():
            found[y0:y1, x0:x1] |= piece
    return found


def _shaded_skin(frame: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
    """Skin in shadow, whether or not in the skin colour range: darker than the `reference` skin (Lab), its
    yellowness within SHADED_SKIN_B and its redness within SHADED_SKIN_A of the reference's (a neck under the
    chin, tinted by a green T-shirt's light, was out of the range and painted over as the old collar; a
    black, white or green collar is no skin: no yellowness, or lighter)."""
    if reference is None:
        return np.zeros(frame.shape[:2], bool)
    lab = cv2.cvtColor(frame.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return (np.abs(lab[..., 2] - reference[2]) < SHADED_SKIN_B) & (np.abs(lab[..., 1] - reference[1]) < SHADED_SKIN_A) \
        & (lab[..., 0] < reference[0])


def _swallowed(frame: np.ndarray, mask: np.ndarray, old: np.ndarray, bare: np.ndarray,
               conditions: GarmentConditions) -> tuple[np.ndarray, np.ndarray]:
    """The backdrop and another garment inside the mask (`masks.worn`), found at SWALLOWED_WORKING_SIZE
    (regions, not outlines) and scaled back. The arms' capsules and the old region's grown edge reach past
    the old garment; there what the person wears besides it (trousers beside a forearm) is no old garment
    (inside the old garment's own region colour cannot tell its black collar from black trousers: that
    region stays all old garment)."""
    h, w = mask.shape
    scale = min(1.0, SWALLOWED_WORKING_SIZE / max(h, w))
    size = (max(int(round(w * scale)), 1), max(int(round(h * scale)), 1))

    def small(values: np.ndarray | None) -> np.ndarray | None:
        if values is None:
            return None
        return cv2.resize(values.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)

    lab = colour_lab(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    old_s, bare_s, mask_s = small(old) > 0, small(bare) > 0, small(mask)
    person = small(conditions.person)
    around = backdrop_colours(lab, person)
    colours = garment_colours(lab, old_s & ~bare_s, around)
    backdrop = backdrop_seen(lab, around, colours, mask_s)
    other = other_clothing(lab, person, old_s, mask_s, bare_s, colours, small(conditions.keep),
                           below=conditions.category != "lower")

    def back(found: np.ndarray) -> np.ndarray:
        return cv2.resize(found.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) > 0.5

    return back(backdrop), back(other)


def _collar_band(alpha: np.ndarray, mask: np.ndarray, person: np.ndarray, torso: np.ndarray) -> np.ndarray:
    """The band just above the new garment's neckline, across the torso, on the person and in the mask:
    between the protected neck and a lower new neckline only the old collar can be there (the old
    garment's coarse region often misses that thin band)."""
    covered = alpha > 0.5
    columns = covered.any(axis=0) & (torso > 0).any(axis=0)
    if not columns.any():
        return np.zeros(mask.shape, bool)
    top = np.where(columns, np.argmax(covered, axis=0), 0)  # the new garment's first row per column
    rows = np.arange(mask.shape[0])[:, None]
    # (as a share of the torso's width, the body's own scale: a presenter's shirt collar rises far up a neck
    # that fills the frame; the long side's share, kept as a floor, was sized for full-length photos)
    reach = max(int(COLLAR_BAND * max(mask.shape)), int(COLLAR_BAND_PER_TORSO * columns.sum()), 1)
    # where the new neckline dips below its shoulders (a crew neck's opening), the old collar at the neck's
    # base lies that much higher above it
    reach = reach + top - top[columns].min()
    return columns[None, :] & (rows < top[None, :]) & (rows >= (top - reach)[None, :]) & (mask > 0) & (person > 0)


def _skin_rim(bare: np.ndarray, off_person: np.ndarray, long_side: int) -> np.ndarray:
    """The soft silhouette of bare skin: pixels within SKIN_RIM of both bare skin and what is off the
    person. Mixed skin and backdrop there is neither, and taken for the old garment's edge it was filled
    as a beaded rim of skin-coloured blocks beside a bare arm."""
    reach = max(int(round(SKIN_RIM * long_side)), 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)
    return (cv2.dilate(bare.astype(np.uint8), kernel) > 0) & (cv2.dilate(off_person.astype(np.uint8), kernel) > 0)


def _same_garment(frame: np.ndarray, old: np.ndarray, allowed: np.ndarray,
                  torso: np.ndarray | None = None) -> np.ndarray:
    """The pixels of `allowed` of the old garment's colour (its median chroma within SAME_GARMENT_CHROMA,
    lightness within SAME_GARMENT_LIGHTNESS: folds shade it) connected to its region `old`, no lower than
    the region's hem (its lowest row across its middle third: a skirt of its colour below stays), except
    beside the hips: outside the `torso` quadrilateral's columns grown by HIP_REACH of its width either
    side, a long sleeve on an arm swung out reaches below the hem (on a video the arm's keypoints trail a
    fast arm, its capsule missed the forearm and the sleeve was left as a mustard block)."""
    found = np.zeros(old.shape, bool)
    if old.sum() < MIN_SKIN_SAMPLES:
        return found
    columns = np.nonzero(old.any(axis=0))[0]
    x0, x1 = columns.min(), columns.max()
    middle = old[:, x0 + (x1 - x0) // 3 : x1 - (x1 - x0) // 3 + 1]
    hem = int(np.nonzero(middle.any(axis=1))[0].max())
    lab = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB).astype(np.float32)
    fabric = np.median(lab[old], axis=0)
    like = (np.linalg.norm(lab[..., 1:] - fabric[1:], axis=2) < SAME_GARMENT_CHROMA) \
        & (np.abs(lab[..., 0] - fabric[0]) < SAME_GARMENT_LIGHTNESS)
    candidates = like & allowed
    below = np.ones(old.shape[1], bool)  # the columns where nothing below the hem is taken
    across = np.nonzero((torso > 0).any(axis=0))[0] if torso is not None else np.zeros(0, int)
    if len(across):
        reach = HIP_REACH * (across[-1] - across[0])
        below = (np.arange(old.shape[1]) >= across[0] - reach) & (np.arange(old.shape[1]) <= across[-1] + reach)
    candidates[hem + 1 :, below] = False
    count, labels = cv2.connectedComponents((candidates | old).astype(np.uint8), connectivity=8)
    touching = np.unique(labels[old])
    return np.isin(labels, touching[touching > 0]) & candidates if count > 1 else found


def _sleeved(capsules: np.ndarray, bare: np.ndarray, long_side: int) -> np.ndarray:
    """The arms' capsules where the arm is sleeved: where, over SLEEVE_SCALE, less than BARE_ARM_SHARE of
    the capsule is bare skin. Where the arm is bare, what else the capsule holds is beside or behind it
    (a dress's skirt beside a hanging forearm, filled as skin it made the arm a wide slab), no sleeve."""
    weight = capsules.astype(np.float32)
    share, _ = _masked_blur((bare & capsules).astype(np.float32), weight, max(SLEEVE_SCALE * long_side, 1.0))
    return capsules & (share < BARE_ARM_SHARE)


def _below_hem(frame: np.ndarray, old: np.ndarray, person: np.ndarray, torso: np.ndarray) -> np.ndarray:
    """The garment below an old top's hem that its coarse region (segmented at a reduced size) reaches over
    in blocks: in the band along the region's lower edge across the hips, the pixels nearer (by HEM_MARGIN)
    the colours just below that edge than the old garment's. The trousers' waistband was filled as a
    staircase of skin."""
    found = np.zeros(old.shape, bool)
    h, w = old.shape
    band = max(int(HEM_BAND * max(h, w)), 2)
    across = np.nonzero((torso > 0).any(axis=0))[0]
    if not len(across):
        return found
    # (the torso's columns and a quarter of its width either side: the hips reach past the joints' quad)
    reach = (across[-1] - across[0]) // 4
    columns = old.any(axis=0) & (np.abs(np.arange(w) - (across[0] + across[-1]) / 2) <= (across[-1] - across[0]) / 2 + reach)
    if not columns.any():
        return found
    bottom = np.where(columns, h - 1 - np.argmax(old[::-1], axis=0), -1)  # each column's lowest old row
    rows = np.arange(h)[:, None]
    edge = columns[None] & (rows > bottom[None] - band) & old
    under = columns[None] & (rows > bottom[None]) & (rows <= bottom[None] + band) & (person > 0)
    inner = old & ~edge & columns[None]
    if under.sum() < MIN_SKIN_SAMPLES or inner.sum() < MIN_SKIN_SAMPLES:
        return found
    lab = colour_lab(frame)
    below, fabric = colour_clusters(lab[under]), colour_clusters(lab[inner])
    x0, x1 = int(np.argmax(columns)), int(w - np.argmax(columns[::-1]))
    y0 = max(int(bottom[columns].min()) - band, 0)
    y1 = int(bottom[columns].max()) + 1
    crop = lab[y0:y1, x0:x1]
    nearer = colour_distance(crop, fabric) > colour_distance(crop, below) + HEM_MARGIN
    found[y0:y1, x0:x1] = nearer & edge[y0:y1, x0:x1]
    return found


def _hair_below_keep(frame: np.ndarray, keep: np.ndarray | None, region: np.ndarray) -> np.ndarray:
    """The hair that falls from what stays in front (the head's region, cut at the jaw) into `region`:
    its pixels of the hair's colour (the median of what stays in front just above `region`, skin left
    out) connected to that hair. Long hair on the shoulders was taken for the old collar and painted as
    a block of skin beside the neck."""
    found = np.zeros(region.shape, bool)
    if keep is None or not keep.any() or not region.any():
        return found
    lab = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB).astype(np.float32)
    reach = max(int(HAIR_REACH * max(region.shape)), 3)
    near = cv2.dilate(region.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)) > 0
    seeds = (keep > 0) & near & ~is_skin(frame)
    if seeds.sum() < MIN_SKIN_SAMPLES:
        return found
    hair = np.median(lab[seeds], axis=0)
    # the hair is the head's: of the colour of what stays in front and is no skin above `region` (a white
    # shirt collar rising beside the jaw into the head's region is no hair, and it stayed inside a neckline)
    head = (keep > 0) & ~is_skin(frame)
    head[int(np.nonzero(region.any(axis=1))[0].min()) :] = False
    if head.sum() >= MIN_SKIN_SAMPLES and np.linalg.norm(np.median(lab[head], axis=0) - hair) > HAIR_HEAD_TOLERANCE:
        return found
    # (or darker, of its chroma: the strands' shadows, black where the hair falls over the collar, were no
    # hair and a pink block of skin stood in the hair beside the neck, full_body_dance frame 31)
    like = (np.linalg.norm(lab - hair, axis=2) < HAIR_TOLERANCE) \
        | ((lab[..., 0] < hair[0]) & (np.linalg.norm(lab[..., 1:] - hair[1:], axis=2) < HAIR_TOLERANCE))
    candidates = like & (near | region)  # (through any gap between what stays in front and `region`)
    count, labels = cv2.connectedComponents(candidates.astype(np.uint8), connectivity=8)
    touching = np.unique(labels[seeds & like])
    touching = touching[touching > 0]
    return np.isin(labels, touching) & region if count > 1 and len(touching) else found


def _uncovered_fill(frame: np.ndarray, mask: np.ndarray, alpha: np.ndarray,
                    conditions: GarmentConditions) -> tuple[np.ndarray, np.ndarray | None]:
    """The frame with what the old garment leaves uncovered filled (arms as shaded skin, the rest
    inpainted), and where the old garment was replaced (None without an old garment)."""
    if conditions.old_garment is None:
        return frame, None
    old = conditions.old_garment > 0
    # what is skin already (an arm the old garment's coarse region swallowed) stays as photographed, and
    # so does the backdrop the coarse regions swallowed (the gap between an arm and the waist)
    bare = _bare_skin(frame, conditions.person, mask, conditions.keep)
    backdrop, other = _swallowed(frame, mask, old, bare, conditions)
    bare &= ~_print_specks(bare, old & ~backdrop & ~other, mask)
    bare_or_backdrop = bare | backdrop
    if conditions.category == "upper" and conditions.person is not None:
        # a white top on a white backdrop: its coarse region may hold only the torso's middle, its sleeves
        # and shoulders left standing; the rest of it is found by its colour, on the person, above its hem
        allowed = (conditions.person > 0) & (mask > 0) & ~bare_or_backdrop & ~other
        if conditions.keep is not None:
            allowed &= conditions.keep == 0
        old |= _same_garment(frame, old & ~bare, allowed, conditions.torso)
    if conditions.arms is not None:  # an old sleeve on an arm, wherever the old garment's region stopped
        old |= _sleeved(conditions.arms > 0, bare, max(mask.shape)) & ~other
    if conditions.category != "lower" and conditions.person is not None and conditions.torso is not None:
        band = _collar_band(alpha, mask, conditions.person, conditions.torso) & ~bare
        band &= ~_shaded_skin(frame, _skin_reference(frame, conditions.person, mask, conditions.keep))
        band &= ~_hair_below_keep(frame, conditions.keep, band)
        old |= band
        # no backdrop shows between the neck and the new neckline, away from the person's outline (which is
        # soft): what has the backdrop's colours there is an old light collar (a white shirt's, under a suit,
        # was kept as photographed inside the neckline)
        reach = max(int(OLD_EDGE_REACH * max(mask.shape)), 1)
        inner = erode(conditions.person, reach) > 0
        bare_or_backdrop &= ~(band & inner)
    if conditions.person is not None and conditions.person.any():
        # the old garment's coarse region stops short of its edge (a dark line of the old sleeve along the
        # arm's silhouette): what is on the person, not skin, just beside it is old garment too
        reach = max(int(OLD_EDGE_REACH * max(mask.shape)), 1)
        grown = cv2.dilate(old.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2))
        old |= (grown > 0) & (conditions.person > 0) & ~bare_or_backdrop & ~other & (mask > 0) \
            & ~_skin_rim(bare, conditions.person == 0, max(mask.shape))
    if conditions.category == "upper" and conditions.person is not None and conditions.torso is not None:
        old &= ~_below_hem(frame, old, conditions.person, conditions.torso)
    uncovered = np.where(old & ~bare_or_backdrop & (alpha < 0.5), 255, 0).astype(np.uint8)
    uncovered = cv2.dilate(uncovered, np.ones((UNCOVERED_GROWTH, UNCOVERED_GROWTH), np.uint8)) & mask
    # the old garment covered the body: what it leaves on the person is skin (arms, a bare midriff, the
    # chest above a lower neckline); only what lies off the person (a loose hem on the backdrop) is inpainted
    # (a skirt or dress stands off the legs, so there only the torso and the arms are skin)
    whole_person = conditions.category == "upper" and conditions.person is not None and conditions.person.any()
    on_body = conditions.person if whole_person else conditions.torso
    if conditions.category == "dress" and conditions.person is not None and on_body is not None and on_body.any():
        # ... and the arms above the hips wherever they are: a swinging arm's sleeve beyond its capsule (the
        # video's keypoints a little behind the arm) was inpainted from the backdrop, a ghost of an arm
        hips = int(np.nonzero(on_body.any(axis=1))[0].max())
        upper_body = conditions.person.copy()
        upper_body[hips + 1 :] = 0
        on_body = on_body | upper_body
    hidden = cv2.dilate(np.where(old & ~bare_or_backdrop, 255, 0).astype(np.uint8),
                        np.ones((UNCOVERED_GROWTH, UNCOVERED_GROWTH), np.uint8)) & mask
    # under the new garment's soft edge the body shows through: skin there too, not the inpainted backdrop
    # (a white strip along the garment's outline) nor the old garment (a dark one)
    seen_through = np.where((hidden > 0) & (alpha > 0.01) & (alpha < UNDER_EDGE_ALPHA), 255, 0).astype(np.uint8)
    shown = uncovered | seen_through
    arms = shown & on_body if on_body is not None else np.zeros_like(uncovered)
    if conditions.arms is not None:  # an arm in front of the torso (crossed arms) is skin too
        arms |= shown & conditions.arms
    # (before the flare is trimmed: a sleeve's flare beyond the body's outline is read from the backdrop too)
    beyond = _beyond_figure(conditions.figure, arms > 0, bare, uncovered > 0)
    if conditions.arms is not None and conditions.person is not None:
        # a sleeve standing off the arm (a T-shirt's flared short sleeve) is no arm: beyond the arm's own
        # width, on its outer side, it is backdrop (filled as skin it made square shoulders, a fat upper arm)
        # (with the old sleeve's soft outline beside it, which passes for backdrop and was left as a ghost)
        flare = sleeve_flare(conditions.arms, bare & ~(conditions.old_garment > 0), conditions.torso) & (arms > 0)
        arms[flare] = 0
        outline = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (4 * UNCOVERED_GROWTH + 1,) * 2)
        uncovered |= cv2.dilate(flare.astype(np.uint8) * 255, outline) & mask & np.where(bare, 0, 255).astype(np.uint8)
    arms[beyond >= 1.0] = 0
    rest = uncovered & ~arms | np.where(beyond > 0, 255, 0).astype(np.uint8)
    base = frame
    if rest.any():
        # the whole old garment is inpainted, not only what the new one leaves: the inpainting then reads
        # from around the old garment (the backdrop), never from the old garment under the new one, which
        # would bleed its colour back into the strip beside the new garment and under its soft edge
        base = fill_masked(frame, rest | hidden)
        if conditions.category == "upper" and conditions.person is not None:
            # where the old garment's coarse region reached off the person (beside a bare arm, under a sleeve
            # that stood off the arm) what lies behind is the backdrop alone: read from the arm's skin beside
            # it too, the fill was a peach strip along the arm, a pale ghost of the sleeve at the shoulder
            behind = (rest > 0) & (conditions.person == 0)
            if behind.any():
                base = np.where(behind[..., None], fill_masked(frame, rest | hidden | conditions.person), base)
        if conditions.category != "upper" and conditions.person is not None:
            # what a skirt or dress leaves off the torso is backdrop: only the backdrop around the person
            # is read there (the gap between two legs where a skirt hung was filled with the colours of
            # the legs, hands and bag beside it)
            # (with the specks inside it closed: pink bits of a trouser print pass for bare skin and stood
            # out as dots against the backdrop)
            closed = cv2.morphologyEx(rest, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
            off = (rest > 0) | ((closed > 0) & old & (alpha < 0.5) & (mask > 0))
            off_body = fill_masked(frame, rest | hidden | conditions.person | np.where(off, 255, 0).astype(np.uint8))
            base = np.where(off[..., None], off_body, base)
        if beyond.any() and conditions.person is not None:
            # beside the body's outline the backdrop is read a little away from the person (OLD_EDGE_REACH):
            # the person mask's soft outline holds the old garment's colour, and a bulky green sweater's edge
            # was carried in as a pale green ghost along the slimmer arm
            reach = max(int(OLD_EDGE_REACH * max(mask.shape)), 1)
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)
            away = cv2.dilate(rest | hidden | conditions.person, kernel)
            # (with the old garment's soft edge off the person beside it: a sliver of green was left there)
            edge = (cv2.dilate((beyond > 0).astype(np.uint8), kernel) > 0) & (conditions.person == 0) & (mask > 0) & ~bare
            base = np.where(((beyond > 0) | edge)[..., None], fill_masked(frame, away), base)
    if arms.any():
        # (a hand kept in front is no sample of an arm: lit more than the arm, and a long sleeve leaves
        # only the hands bare)
        seen_arm = (conditions.old_garment == 0) & (uncovered == 0)
        if conditions.keep is not None:
            seen_arm &= conditions.keep == 0
        # (the arms' and the nearby skin's colour only where they are the person's own skin in another light:
        # the shaded edge of a long sleeve passes the skin range, and its dark mustard made the filled arms
        # a flat yellowish brown beside a pale face; then the face's, neck's and hands' colour is taken)
        own = _lit_skin(frame, conditions.person, mask, conditions.keep)
        arm_tone = _own_skin(_arm_skin(frame, conditions.arms, bare & seen_arm), own)
        near_tone = _own_skin(_nearby_skin(frame, conditions.person, arms, bare), own)
        tone = arm_tone if arm_tone is not None else near_tone if near_tone is not None else own
        if tone is None:
            tone = skin_colour(frame, conditions.person, mask)
        long_side = max(frame.shape[:2])
        # the colour follows the bare skin around it (a hand's warmer tone at the wrist, the neck's at a
        # neckline), falling back to the median where no skin is near
        # (only skin close to the median's colour: a sheer sleeve or a skin-coloured print is no skin)
        lab = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB).astype(np.float32)
        tone_lab = _colour_lab(tone)
        close = _like_skin(lab, tone_lab)
        # (the texture only from skin in the tone's own light: a lit chest's highlights, and whatever else
        # is that bright, laid over the fill as detail, crumpled it like paper)
        in_tone = np.linalg.norm(lab - tone_lab, axis=2) < SKIN_LOCAL_TOLERANCE
        if arm_tone is not None and near_tone is not None:
            # the skin near the fill (the neck above a neckline) is followed too, unless it is far from
            # the arms' (auburn hair, a brown print)
            near_lab = _colour_lab(near_tone)
            if np.linalg.norm(near_lab - tone_lab) < 2 * SKIN_LOCAL_TOLERANCE:
                close |= _like_skin(lab, near_lab)
                in_tone |= np.linalg.norm(lab - near_lab, axis=2) < SKIN_LOCAL_TOLERANCE
        seen = (bare & close & (uncovered == 0) & (conditions.person > 0 if conditions.person is not None else True))
        # (measured at the inpainting's working size: the colour varies slowly)
        h, w = mask.shape
        scale = min(1.0, FILL_WORKING_SIZE / long_side)
        size = (max(int(w * scale), 1), max(int(h * scale), 1))
        small_seen = cv2.resize(seen.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        local, spread = _masked_blur(cv2.resize(frame, size, interpolation=cv2.INTER_AREA).astype(np.float32),
                                     small_seen[..., None].repeat(3, 2), max(SKIN_LOCAL_SIGMA * max(size), 1.0))
        local = cv2.resize(local, (w, h), interpolation=cv2.INTER_LINEAR)
        trust = np.clip(cv2.resize(spread[..., 0], (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
                        / SKIN_LOCAL_SUPPORT, 0.0, 1.0)
        colour = local * trust + tone[None, None] * (1 - trust)
        # the old garment's own lightness (normalised convolution: the background next to it leaks no light in),
        # from its fabric only: under a collar, a tie or a lapel of another shade is no shadow on the skin
        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
        fabric = old & (np.abs(grey - float(np.median(grey[(arms > 0) & old]))) < ARM_SHADE_FABRIC) \
            if ((arms > 0) & old).any() else old
        shade, spread = _masked_blur(grey, fabric.astype(np.float32), max(ARM_SHADE_SIGMA * long_side, 2.0))
        # relative to the covered area's median, damped by an offset so a dark or sheer sleeve's contrast
        # does not turn into glossy highlights on the skin
        reference = float(np.median(shade[(arms > 0) & fabric])) if ((arms > 0) & fabric).any() else 128.0
        shade = np.clip((shade + ARM_SHADE_OFFSET) / (reference + ARM_SHADE_OFFSET), *ARM_SHADE_RANGE)
        shade = 1.0 + (shade - 1.0) * np.clip(spread / SHADE_MIN_SUPPORT, 0.0, 1.0)  # no fabric near: unshaded
        if conditions.person is not None and conditions.person.any():
            light = fit_skin_light(frame, _seen_skin(frame, conditions.person, mask, conditions.keep))
            # (rounded as the body the fill leaves: a bared arm as wide as the pose's limb, not its old sleeve)
            body = np.where(beyond >= 0.5, 0, conditions.person).astype(np.uint8)
            shade = shade * body_rounding(body, conditions.arms, conditions.torso, light)
        shade = shade * contact_shadow(alpha, long_side)
        # the person's own skin texture over it (no flat paint), from patches wholly inside visible skin
        texture = 1.0 + skin_detail(frame, seen & in_tone, arms > 0)
        skin = np.clip(colour * (shade * texture)[..., None], 0, 255)
        # full cover where the old garment was; a feathered fade into the bare skin next to it (inside the
        # mask), so the fill has no hard seam against the photographed arm or hand
        inside = cv2.GaussianBlur((arms > 0).astype(np.float32), (0, 0), SKIN_EDGE_SIGMA) * (shown > 0)
        inside[(arms > 0) & old] = 1.0  # no part of the old garment shows through at the fill's edge
        inside = np.where(beyond > 0, np.minimum(inside, 1.0 - beyond), inside)  # (the limb's own soft outline)
        outside = cv2.GaussianBlur((arms > 0).astype(np.float32), (0, 0), SKIN_FEATHER * long_side / 100.0) \
            * (bare & (uncovered == 0) & (mask > 0))
        soft = np.maximum(inside, np.clip(2.0 * outside, 0.0, 1.0) * SKIN_FEATHER_WEIGHT)
        base = np.clip(base * (1 - soft[..., None]) + skin * soft[..., None] + 0.5, 0, 255).astype(np.uint8)
    return base, (hidden > 0) | (uncovered > 0)


def _beyond_figure(figure: np.ndarray | None, arms: np.ndarray, bare: np.ndarray,
                   uncovered: np.ndarray) -> np.ndarray:
    """How far (float32, 1 - the figure's coverage) each pixel of the skin to fill (`arms`) that the old
    garment left (`uncovered`) lies outside the body's outline from the pose (`figure`, see
    `GarmentConditions`): there the old sleeve's straight tube or a loose top's box beside the midriff
    stood, and what lies behind the body shows, not skin (filled as skin, arms were tubes of the old
    sleeve's outline). 0 everywhere without a figure; bare skin seen stays as photographed."""
    if figure is None or not figure.any():
        return np.zeros(arms.shape, np.float32)
    return np.where(arms & uncovered & ~bare, 1.0 - np.clip(figure, 0.0, 1.0), 0.0).astype(np.float32)


def sleeve_flare(arms: np.ndarray, bare: np.ndarray, torso: np.ndarray | None) -> np.ndarray:
    """What lies beyond each arm's own width on its outer side (away from the torso), beside the straight
    part of its capsule and outside the torso's quadrilateral: where an old sleeve stood off the arm. The
    arm's half-width is measured on its bare skin (distance to anything not bare, along the capsule's
    middle), so only an arm with enough bare skin seen is trimmed; crossed arms (one component reaching
    across the torso's middle) are left alone."""
    flare = np.zeros(arms.shape, bool)
    if torso is None or not torso.any():
        return flare
    centre = float(np.nonzero(torso.any(axis=0))[0].mean())
    x = np.arange(arms.shape[1])[None, :]
    count, labels = cv2.connectedComponents((arms > 0).astype(np.uint8), connectivity=8)
    bare_distance = cv2.distanceTransform(bare.astype(np.uint8), cv2.DIST_L2, 3)
    sides = []  # (capsule, its columns, distance inside it, its radius, the arm's measured half-width or None)
    for index in range(1, count):
        capsule = labels == index
        columns = np.nonzero(capsule.any(axis=0))[0]
        if columns.min() <= centre <= columns.max():
            continue
        inside = cv2.distanceTransform(capsule.astype(np.uint8), cv2.DIST_L2, 3)
        radius = float(inside.max())
        middle = capsule & (inside >= ARM_MIDDLE * radius) & bare
        measured = float(np.percentile(bare_distance[middle], ARM_WIDTH_PERCENTILE)) * ARM_EASE \
            if middle.sum() >= MIN_ARM_SAMPLES else None
        if measured is not None and measured < MIN_ARM_WIDTH * radius:
            measured = None  # (specks of bare skin, not an arm seen: a light arm beside a white top)
        sides.append((capsule, columns, inside, radius, measured))
    # an arm whose bare skin is not seen (the old garment's coarse region swallowed the forearm) is as wide
    # as the other (its sleeve was filled as a square skin shoulder)
    widths = [side[4] for side in sides if side[4] is not None]
    for capsule, columns, inside, radius, measured in sides:
        # (and with neither forearm seen, under loose long sleeves, as wide as its capsule, eased: the
        # capsule is sized to the body, and a bare arm measures about that)
        half_width = measured if measured is not None else max(widths) if widths else ARM_EASE * radius
        # (an arm measured no wider than its capsule: beyond the capsule; skipped, the trimming came and went
        # with a pixel of measured width, 02849's T-shirt sleeve a square skin shoulder or not)
        half_width = max(half_width, radius)
        # beyond the half-width from the capsule's middle line (radius in from its edge) ...
        beyond = cv2.distanceTransform((~capsule).astype(np.uint8), cv2.DIST_L2, 3) > half_width - radius
        rows = np.nonzero(capsule.any(axis=1))[0]
        top = int(rows[0] + radius)  # (below the round cap at its top)
        axis = np.full(arms.shape[0], -1.0)
        for row in rows[rows >= top]:
            axis[row] = float(np.nonzero(capsule[row])[0].mean())
        # ... and above the capsule (it starts a third down the upper arm, under the sleeve), up to the
        # shoulder line, beyond the half-width from the upper arm's line carried up
        ridge_y, ridge_x = np.nonzero(capsule & (inside >= ARM_MIDDLE * radius))
        upper = ridge_y < top + 3 * radius
        shoulder = int(np.nonzero(torso.any(axis=1))[0].min())
        if upper.sum() >= 2 and np.ptp(ridge_y[upper]) > radius and top > shoulder:
            slope, offset = np.polyfit(ridge_y[upper], ridge_x[upper], 1)
            above = np.arange(shoulder, top)
            axis[above] = slope * above + offset
            across = np.abs(x - axis[above][:, None]) / np.sqrt(1.0 + slope ** 2)  # (distance to the line)
            beyond[above] = across > half_width
        outer = (x < axis[:, None]) if columns.mean() < centre else (x > axis[:, None])
        flare |= beyond & outer & (axis[:, None] >= 0)
    return flare & (torso == 0)


def contact_shadow(alpha: np.ndarray, long_side: int) -> np.ndarray:
    """Lightness factor of the skin around a garment: the garment stands off the body a little and shades
    the skin just below and beside its edge (light from above the camera), so a hem reads as resting on
    the body, not as a sticker with a hard line. 1 - CONTACT_DARKEN where the garment's blurred, lowered
    alpha is full; the garment's own pixels are not touched (it lies over the factor)."""
    sigma = max(CONTACT_SIGMA * long_side, 1.0)
    drop = int(round(CONTACT_DROP * long_side))
    lowered = np.zeros_like(alpha)
    lowered[drop:] = alpha[: alpha.shape[0] - drop] if drop else alpha
    cast = cv2.GaussianBlur(np.maximum(lowered, alpha), (0, 0), sigma)
    return (1.0 - CONTACT_DARKEN * cast).astype(np.float32)


def body_rounding(person: np.ndarray, arms: np.ndarray | None = None, torso: np.ndarray | None = None,
                  light: SkinLight | None = None) -> np.ndarray:
    """Lightness factor (1 on a body part's middle line, down to 1 - SKIN_ROUNDING_DARKEN at its edge) of a
    round body lit from the front: a limb or torso of local half-width R, at distance d inside its edge,
    faces the camera at cos = sqrt(1 - (1 - d/R)^2). R is the largest distance to the edge near the pixel
    (the middle line's), so a torso darkens over its whole width, an arm over its own (a thin rim alone
    left a filled midriff flat). With `arms` (the arm capsules) each arm is a part of its own: an arm
    hanging against the torso, in one person mask with it, was rounded as part of the torso's width, and
    arms and midriff filled as one flat block; apart, each rounds on its own and they meet in a shaded
    seam (`_limbs` says how far an arm reaches). With `light` (`skin_light.fit_skin_light`, the light on the
    person's visible skin) the falloff is that skin's and the side the light comes from is lit: the normal
    leans outwards by 1 - d/R too (`skin_light.part_normals`); without, a soft front light."""
    h, w = person.shape
    scale = min(1.0, ROUNDING_WORKING_SIZE / max(h, w))
    size = (max(int(round(w * scale)), 1), max(int(round(h * scale)), 1))

    def small(values: np.ndarray) -> np.ndarray:
        return cv2.resize((values > 0).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)

    body = small(person)
    limbs = _limbs(body, small(arms), small(torso) if torso is not None else None) \
        if arms is not None and arms.any() else np.zeros_like(body)
    reach = max(int(SKIN_ROUNDING_REACH * max(size)), 1)
    light = light if light is not None else SkinLight(falloff=SKIN_ROUNDING_DARKEN)
    factor = np.full(body.shape, 1.0 - light.falloff, np.float32)  # (off the body: its silhouette's)
    for part in (body & (limbs == 0), limbs):
        if not part.any():
            continue
        distance = cv2.distanceTransform(part, cv2.DIST_L2, 3)
        radius = cv2.dilate(distance, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2))
        # (the thinnest body part still darkens over the old rim's band, not within a pixel)
        radius = np.maximum(radius, SKIN_ROUNDING_BAND * max(size))
        factor = np.where(part > 0, light.shade(part_normals(part, distance, radius)), factor)
    if limbs.any():  # the seam between an arm and the torso is a soft shadow, not a drawn line
        factor = cv2.GaussianBlur(factor, (0, 0), max(SEAM_SOFTNESS * max(size), 0.5))
    return cv2.resize(factor, (w, h), interpolation=cv2.INTER_LINEAR)


def _limbs(body: np.ndarray, arms: np.ndarray, torso: np.ndarray | None) -> np.ndarray:
    """The arms as body parts: their capsules (narrower than most arms) grown within the person by
    LIMB_GROWTH of their own half-width, but not into the torso's quadrilateral, so an arm reaches its
    own silhouette and stops where it meets the torso."""
    arms = arms & body
    if not arms.any():
        return arms
    half_width = float(cv2.distanceTransform(arms, cv2.DIST_L2, 3).max())
    grow = max(int(round(LIMB_GROWTH * half_width)), 1)
    grown = cv2.dilate(arms, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)) & body
    if torso is not None:
        grown &= 1 - torso
    return grown | arms


def _masked_blur(values: np.ndarray, weight: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Normalised convolution: the blur of `values` over `weight` only, and the blurred weight."""
    spread = cv2.GaussianBlur(weight, (0, 0), sigma)
    return cv2.GaussianBlur(values * weight, (0, 0), sigma) / np.maximum(spread, 1e-4), spread


def garment_shading(frame: np.ndarray, old_garment: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
    """Per pixel lightness factor (mean 1 over the old garment): the low and mid frequencies of the old
    garment's Lab lightness, so its folds and shadows carry onto the new garment; 1 away from it."""
    h, w = mask.shape
    region = (old_garment > 0) & (mask > 0) if old_garment is not None else np.zeros(mask.shape, bool)
    if region.sum() < 100:
        return np.ones(mask.shape, np.float32)
    scale = min(1.0, SHADE_WORKING_SIZE / max(h, w))
    size = (max(int(w * scale), 1), max(int(h * scale), 1))
    lab = cv2.cvtColor(cv2.resize(frame, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0,
                       cv2.COLOR_RGB2LAB)
    lightness = lab[..., 0]
    weight = cv2.resize(region.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    long_side = max(size)
    # a print or logo on the old garment is no fold: lightness far from the garment's own is clipped first
    median = float(np.median(lightness[weight > 0.5])) if (weight > 0.5).any() else 50.0
    # pixels far from the garment's own lightness (a print, skin inside a coarse region) are left out:
    # their shading is carried in from the fabric around them
    chroma = np.median(lab[weight > 0.5][:, 1:], axis=0) if (weight > 0.5).any() else np.zeros(2, np.float32)
    weight = weight * ((lightness > median - SHADE_KEEP[0]) & (lightness < median + SHADE_KEEP[1])
                       & (np.linalg.norm(lab[..., 1:] - chroma, axis=2) < SHADE_CHROMA))
    lightness = np.clip(lightness, median - SHADE_CLIP[0], median + SHADE_CLIP[1])
    blurred, spread = _masked_blur(lightness, weight, max(SHADE_SIGMA * long_side, 0.8))
    kept = weight > 0.5  # the reference is the fabric's typical lightness (median: robust to a few strays)
    mean = float(np.median(blurred[kept])) if kept.any() else median
    ratio = (blurred + SHADE_OFFSET) / (mean + SHADE_OFFSET)
    shade = 1.0 + SHADE_STRENGTH * (ratio - 1.0)
    # away from the old garment (a longer new garment) the factor fades to 1
    _, reach = _masked_blur(np.zeros_like(weight), weight, max(SHADE_REACH * long_side, 1.0))
    # (and where no fabric pixel is near enough to measure, say inside a large print, it is 1 too)
    presence = np.clip(np.maximum(weight, 2.0 * reach), 0.0, 1.0) * np.clip(spread / SHADE_MIN_SUPPORT, 0.0, 1.0)
    shade = 1.0 + (np.clip(shade, *SHADE_RANGE) - 1.0) * presence
    return cv2.resize(shade.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def shade_garment(warped: np.ndarray, shading: np.ndarray) -> np.ndarray:
    """The warped garment with its Lab lightness multiplied by `shading` (clamped to 0..100)."""
    lab = cv2.cvtColor(warped.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    lab[..., 0] = np.clip(lab[..., 0] * shading, 0.0, 100.0)
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def render_garment(frame: np.ndarray, mask: np.ndarray, conditions: GarmentConditions) -> np.ndarray:
    """Mask mode: the mask is filled (background from its surroundings, body as skin), then the warped
    garment goes on top, under face, hair and hands. Mask-free: the garment alone, same occlusion order."""
    keep = conditions.keep if conditions.keep is not None else np.zeros(mask.shape, np.uint8)
    alpha = conditions.warped_alpha * (keep == 0)
    alpha = cv2.GaussianBlur(alpha, (0, 0), GARMENT_EDGE_SIGMA) * (keep == 0)
    base, replaced = _uncovered_fill(frame, mask, alpha, conditions) if conditions.mode == "mask" else (frame, None)
    garment = conditions.warped
    if conditions.mode == "mask":
        garment = shade_garment(garment, garment_shading(frame, conditions.old_garment, mask))
    composed = base.astype(np.float32) * (1 - alpha[..., None]) + garment.astype(np.float32) * alpha[..., None]
    composed = np.clip(composed + 0.5, 0, 255).astype(np.uint8)
    region = mask if conditions.mode == "mask" else np.where(alpha > 0.01, 255, 0).astype(np.uint8)
    return paste_back(frame, composed, paste_alpha(region, replaced))


def paste_alpha(region: np.ndarray, replaced: np.ndarray | None) -> np.ndarray:
    """The paste-back's alpha: `region` feathered by PASTE_FEATHER, but whole where the old garment was
    replaced next to its edge (the collar under a kept-out neck, a cuff at a kept-out hand): a feather
    there let the old garment's edge back in as a dark line."""
    soft = feather(region, PASTE_FEATHER)
    if replaced is None or not replaced.any():
        return soft
    near = cv2.dilate(replaced.astype(np.uint8), np.ones((2 * PASTE_FEATHER + 1,) * 2, np.uint8)) > 0
    return np.where(near, (region > 0).astype(np.float32), soft)
