"""Colour statistics in Lab and their transfer (Reinhard-style mean/std matching)."""

from __future__ import annotations

import cv2
import numpy as np

from .masks.shapes import as_mask, bounding_box


def lab_statistics(image: np.ndarray, region: np.ndarray, lab: np.ndarray | None = None) -> np.ndarray | None:
    """(2, 3) array: Lab mean and standard deviation over the region's pixels; None when too small.
    `lab`: `image` already in OpenCV Lab."""
    inside = as_mask(region > 0)
    if cv2.countNonZero(inside) < 50:
        return None
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB) if lab is None else lab
    mean, std = cv2.meanStdDev(lab, mask=inside)  # population std, float64
    return np.stack([mean[:, 0], std[:, 0] + 1.0]).astype(np.float32)


CHROMA_FULL_WEIGHT = 10.0  # OpenCV-Lab chroma (distance of a, b from 128) at which a pixel counts fully
CHROMA_FLOOR = 0.02  # weight of a colourless pixel: an all-grey region still has statistics (unweighted ones)
COLOURLESS_CHROMA = 3.0  # skin whose weighted mean chroma is below this has no usable colour (a B&W photo)


def chroma_weights(lab: np.ndarray) -> np.ndarray:
    """Per-pixel weight of an OpenCV 8-bit Lab image's pixels for skin colour: 0..1 by chroma, squared.

    Grey pixels (beards, grey hair, stubble, a black-and-white photo) carry next to no weight, so they
    do not pull a face's colour statistics toward grey; fully coloured skin weighs 1.
    """
    a = lab[..., 1].astype(np.float32) - 128.0
    b = lab[..., 2].astype(np.float32) - 128.0
    chroma = np.sqrt(a * a + b * b)
    return CHROMA_FLOOR + (1.0 - CHROMA_FLOOR) * np.clip(chroma / CHROMA_FULL_WEIGHT, 0.0, 1.0) ** 2


def skin_colour_statistics(image: np.ndarray, region: np.ndarray, chroma_weighted: bool = True) -> np.ndarray | None:
    """(2, 3) Lab mean and standard deviation of the region's skin, weighted by chroma (`chroma_weights`).

    Same layout as `lab_statistics` (which it equals with `chroma_weighted=False`); None when too small.
    With no coloured pixel at all the floor weight makes it the plain statistics.
    """
    if not chroma_weighted:
        return lab_statistics(image, region)
    inside = region > 0
    if int(np.count_nonzero(inside)) < 50:
        return None
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[inside].astype(np.float64)
    weights = chroma_weights(lab[None])[0].astype(np.float64)
    total = weights.sum()
    mean = (lab * weights[:, None]).sum(axis=0) / total
    std = np.sqrt((((lab - mean) ** 2) * weights[:, None]).sum(axis=0) / total)
    return np.stack([mean, std + 1.0]).astype(np.float32)


def is_colourless(stats: np.ndarray) -> bool:
    """True when skin statistics have (almost) no chroma: a black-and-white or desaturated photo."""
    return float(np.hypot(stats[0, 1] - 128.0, stats[0, 2] - 128.0)) < COLOURLESS_CHROMA


MIN_SUPPORT = 0.05  # a low band is trusted fully where the skin's blurred weights reach this (skin about 2
# sigmas away), not at all where they are 0; a target's moustache and beard left out of its skin left the
# upper lip's band unmeasured at the chroma's scale: deep blue blots
LOW_RES_SIGMA = 6.0  # the low bands are blurred where their sigma is about this many pixels, then upsampled
# (12 cost the colour match 15 -> 40 ms a 720 frame once the chroma took a finer band; at 6 the grid moved
# within noise). The shrink is by a whole factor, so the blur's sigma lies within 2/3 and 2x of it


def blur_reach(sigma: float) -> int:
    """Pixels a float image's `cv2.GaussianBlur` at `sigma` reads each side (OpenCV's kernel: 4 sigma)."""
    return int(round(sigma * 4 * 2 + 1)) // 2


def masked_blur(values: np.ndarray, weights: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: the Gaussian blur of float `values`, (h, w) or (h, w, c) with c > 1, over
    the float (h, w) `weights` only, so what lies where the weights are 0 does not bleed in."""
    return _normalised_blur(values, weights, np.maximum(cv2.GaussianBlur(weights, (0, 0), sigma), 1e-3), sigma)


def _normalised_blur(values: np.ndarray, weights: np.ndarray, norm: np.ndarray, sigma: float) -> np.ndarray:
    """`masked_blur` given the weights' own blur `norm` (floored at 1e-3)."""
    if values.ndim == 3:  # channel by channel, the same values: numpy's broadcast over a short last axis
        # (one weight per pixel for every channel) cost 3x the blur itself
        return cv2.merge([_normalised_blur(np.ascontiguousarray(values[..., c]), weights, norm, sigma)
                          for c in range(values.shape[2])])
    return cv2.GaussianBlur(values * weights, (0, 0), sigma) / norm


class SkinLowPass:
    """The low band over one skin mask at one lighting scale `sigma` (normalised convolution where sigma is
    about LOW_RES_SIGMA pixels, upsampled bilinearly: `_low_band`), with the mask's shrunk weights and their
    blur made once: the colour match reads several bands over the same skin at the same scale.

    The shrink is by a whole factor (the image padded by repeating its last row and column to a multiple
    of it): OpenCV's area resize by a fractional factor cost 4x, a quarter of the colour match's resizes."""

    def __init__(self, skin: np.ndarray, sigma: float) -> None:
        self.shape = skin.shape[:2]
        self.factor = max(int(round(sigma / LOW_RES_SIGMA)), 1)
        self.sigma = sigma / self.factor  # the blur's sigma where it runs
        self.weights = self.shrink((skin > 0).astype(np.float32))
        self.reach = cv2.GaussianBlur(self.weights, (0, 0), self.sigma)  # the weights' blur: `support`'s measure
        self.norm = np.maximum(self.reach, 1e-3)

    def shrink(self, values: np.ndarray) -> np.ndarray:
        """`values` (the mask's size) area-averaged down by the factor: each small pixel a factor x factor
        block's mean."""
        factor = self.factor
        if factor == 1:
            return values
        height, width = self.shape
        padded = cv2.copyMakeBorder(values, 0, -height % factor, 0, -width % factor, cv2.BORDER_REPLICATE)
        return cv2.resize(padded, (padded.shape[1] // factor, padded.shape[0] // factor),
                          interpolation=cv2.INTER_AREA)

    def grow(self, small: np.ndarray) -> np.ndarray:
        """`small` (the shrunk size) upsampled bilinearly to the mask's size: each small pixel lands on its
        block's centre."""
        factor = self.factor
        if factor == 1:
            return small
        height, width = self.shape
        up = cv2.resize(small, (small.shape[1] * factor, small.shape[0] * factor), interpolation=cv2.INTER_LINEAR)
        return up[:height, :width]

    def small(self, values: np.ndarray) -> np.ndarray:
        """The masked blur of `values` already at the reduced size."""
        return _normalised_blur(values, self.weights, self.norm, self.sigma)

    def support(self, small: bool = False) -> np.ndarray:
        """How far the skin's low band is measured at each pixel, 0..1 (the mask's blurred weights over
        MIN_SUPPORT, clipped): 0 where no skin lies within the blur's reach, whose band is then only the
        floored normalisation's (near 0: chroma a deep blue, lightness black). `small`: at the reduced size."""
        weight = np.clip(self.reach * (1.0 / MIN_SUPPORT), 0.0, 1.0)
        return weight if small else self.grow(weight)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """The low band of float `values` ((h, w) or (h, w, c), the mask's size), at full size."""
        return self.grow(self.small(self.shrink(values)))


def skin_level(lightness: np.ndarray, skin: np.ndarray, sigma: float, low_pass: SkinLowPass | None = None
               ) -> np.ndarray:
    """The skin's low-frequency lightness around every pixel (normalised convolution over the skin mask),
    computed where sigma is LOW_RES_SIGMA pixels and upsampled bilinearly, as in `shading_ratio`.
    `low_pass`: that of `skin` at `sigma`, when the caller has it."""
    return _low_band(lightness, skin, sigma, low_pass)


def shading_ratio(image_l: np.ndarray, target_rgb: np.ndarray, image_skin: np.ndarray, target_skin: np.ndarray,
                  sigma: float, max_ratio: float = 1.6,
                  low_passes: tuple[SkinLowPass, SkinLowPass] | None = None) -> np.ndarray:
    """Per-pixel ratio of the target's to the image's low-frequency skin lightness, clipped to max_ratio.

    The ratio varies on the scale of `sigma`, so it is computed where sigma is LOW_RES_SIGMA pixels
    (shrunk with area averaging; mask weights become fractional coverage, which normalised convolution
    takes as is) and upsampled bilinearly: its cost no longer grows with the face's pixel area.
    `low_passes`: those of `image_skin` and `target_skin` at `sigma`, when the caller has them.
    """
    here, there = low_passes or (SkinLowPass(image_skin, sigma), SkinLowPass(target_skin, sigma))
    target_l = cv2.cvtColor(here.shrink(target_rgb), cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    low_image = here.small(here.shrink(image_l))
    low_target = there.small(target_l)
    ratio = np.clip(low_target / np.maximum(low_image, 1.0), 1.0 / max_ratio, max_ratio)
    # where either side's skin is out of reach the ratio is unmeasured: 1 (the mean gain's lift alone)
    ratio = 1.0 + np.minimum(here.support(small=True), there.support(small=True)) * (ratio - 1.0)
    return here.grow(ratio)


def _low_band(values: np.ndarray, skin: np.ndarray, sigma: float, low_pass: SkinLowPass | None = None
              ) -> np.ndarray:
    """Low-frequency band of float `values`, (h, w) or (h, w, c) with c > 1, over the skin mask (normalised
    convolution), computed where sigma is LOW_RES_SIGMA pixels and upsampled bilinearly (`SkinLowPass`;
    `low_pass`: that of `skin` at `sigma`, made once by a caller that reads several bands)."""
    return (low_pass or SkinLowPass(skin, sigma))(values)


def chroma_offset(ab: np.ndarray, target_rgb: np.ndarray, image_skin: np.ndarray, target_skin: np.ndarray,
                  sigma: float, target_ab: np.ndarray | None = None) -> np.ndarray:
    """(h, w, 2) shift that gives float OpenCV-Lab chroma `ab` the target frame's low-frequency skin
    chroma (skin-only blurs at `sigma`, target minus image), keeping `ab`'s finer detail.

    A global colour map moves the mean only: a side light's green-grey half face, the red blotches of an
    old photo's cheeks or a tinted shadow keep their place. Their chroma varies on the lighting's scale,
    so the target's own chroma at that scale replaces it (the face takes the frame's light colour and the
    target's skin tone where it is measured: the cheeks). `target_ab`: the target's float (a, b), when the
    caller has it.
    """
    if target_ab is None:
        target_ab = cv2.cvtColor(target_rgb, cv2.COLOR_RGB2LAB)[..., 1:].astype(np.float32)
    here, there = SkinLowPass(image_skin, sigma), SkinLowPass(target_skin, sigma)
    # the difference of the two low bands taken where they are small, upsampled once (the upsampling is linear);
    # unmeasured (no skin within reach on either side): the mapped chroma stays
    offset = there.small(there.shrink(target_ab)) - here.small(here.shrink(ab.astype(np.float32)))
    offset = _bounded_offset(offset, here, there)
    return here.grow(offset * np.minimum(here.support(small=True), there.support(small=True))[..., None])


CHROMA_OFFSET_TRUST = 0.4  # the chroma offset departs from its skin mean fully only where both skins' blurred
# weights reach this (skin on about half the blur's reach): in the eye sockets, beside the nose tip and at the
# face's edge the band was extrapolated from a few pixels, under a two-colour stage light a blue eye socket and
# a red nose tip (movie_several_people 5 s: -14 and +13 in a)
CHROMA_OFFSET_KNEE = 10.0  # OpenCV-Lab chroma departures of the offset from its skin mean up to this stay as
# they are (daylight pairs reach 11.5 at most, their 95th percentile 7-8.5: portrait_a onto talking_frontal and
# grimaces_blinks) ...
CHROMA_OFFSET_ROOM = 4.0  # ... beyond it they are compressed softly into this much more (never past 14)


def _bounded_offset(offset: np.ndarray, here: SkinLowPass, there: SkinLowPass) -> np.ndarray:
    """The (small, h, w, 2) chroma `offset` kept low-frequency and bounded: its departure from its mean over
    the rendered face's skin faded in with both skins' support (`CHROMA_OFFSET_TRUST`), then its length
    compressed softly past `CHROMA_OFFSET_KNEE` (`CHROMA_OFFSET_ROOM`), so a small region's band read off
    a few target pixels cannot paint it another colour than the skin round it."""
    weights = here.weights
    total = float(weights.sum())
    if total <= 0.0:
        return offset
    # summed, not a matrix product: `@` hands this to BLAS, whose worker threads spun beside the render's
    # (a 1080 swap's system time 2.5 -> 4.5 s for 75 frames, 8% slower)
    mean = np.einsum("hw,hwc->c", weights, offset) / total
    trust = np.clip(np.minimum(here.reach, there.reach) * (1.0 / CHROMA_OFFSET_TRUST), 0.0, 1.0)
    departure = (offset - mean.astype(np.float32)) * trust[..., None]
    length = np.hypot(departure[..., 0], departure[..., 1])
    over = length > CHROMA_OFFSET_KNEE  # usually none on a daylight pair: the exponential runs on these only
    if over.any():
        excess = length[over] - CHROMA_OFFSET_KNEE
        kept = CHROMA_OFFSET_KNEE + CHROMA_OFFSET_ROOM * (1.0 - np.exp(-excess / CHROMA_OFFSET_ROOM))
        departure[over] *= (kept / length[over])[:, None]
    return departure + mean.astype(np.float32)


CONTRAST_FINE_PER_SIGMA = 0.1  # the shading detail's band runs from this fraction of the lighting scale (its
# lower edge: pores and grain finer than it are left alone) up to the lighting scale itself
CONTRAST_RANGE = (0.7, 1.25)  # the face's shading detail is scaled by the target's over its own, within this:
# at 0.5 dlib's same-person rate fell on pale targets (0.74 -> 0.62 dark_lowres, 0.80 -> 0.64 old photo onto
# talking_frontal); at 0.7 it held (0.76, 0.74) with the same cheek Delta E


def shading_band(lightness: np.ndarray, skin: np.ndarray, sigma: float, low_pass: SkinLowPass | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The skin's shading detail band of float `lightness` and its low band (`shading_detail` without the
    amplitude, whose median over the skin costs as much as the band)."""
    low = _low_band(lightness, skin, sigma, low_pass)
    return cv2.GaussianBlur(lightness, (0, 0), max(CONTRAST_FINE_PER_SIGMA * sigma, 0.5)) - low, low


def shading_detail(lightness: np.ndarray, skin: np.ndarray, sigma: float, low_pass: SkinLowPass | None = None
                   ) -> tuple[np.ndarray, np.ndarray, float]:
    """The skin's shading detail: the band of float `lightness` between CONTRAST_FINE_PER_SIGMA * sigma and
    the lighting scale `sigma` (creases, the nose's and cheekbones' shading, a hard light's highlights),
    its low band (`_low_band`) and the band's robust amplitude over the skin relative to that low band
    (1.4826 x the median absolute value of band / low; 0 when there is no skin)."""
    band, low = shading_band(lightness, skin, sigma, low_pass)
    inside = skin > 0
    if not inside.any():
        return band, low, 0.0
    return band, low, 1.4826 * float(np.median(np.abs(band[inside] / np.maximum(low[inside], 1.0))))


def match_shading_contrast(lightness: np.ndarray, target_l: np.ndarray, image_skin: np.ndarray,
                           target_skin: np.ndarray, sigma: float,
                           target_detail: tuple[np.ndarray, np.ndarray, float] | None = None,
                           low_pass: SkinLowPass | None = None, feather: np.ndarray | None = None,
                           highlights: np.ndarray | None = None) -> np.ndarray:
    """Float `lightness` with its skin's shading detail (`shading_detail`) scaled to the target's relative
    amplitude (by at most CONTRAST_RANGE), feathered off the skin so the eyes, brows and lips keep theirs.
    `low_pass` (of `image_skin` at `sigma`) and `feather` (`skin_feather`): made once by the caller.
    `highlights` (0..1 weights, default the skin's feather): where highlights are compressed; the nose's
    tip and wings lie outside the skin sample, and their shine was left as hot spots.

    The colour match gives the face the target's mean colour and low-frequency light but keeps the
    source's shading detail at its own relative strength. A hard-lit, low-resolution or dark photo has
    about twice a frontally lit face's (a highlight on the nose ridge and cheekbones, deep sockets), and
    lifted onto a paler target with the target's flat chroma that contrast reads as grey metal. A flat
    studio photo on a contrasty target gains a little of it (a flat mask otherwise). Its highlights are
    then kept near the target's own highlight level (`_highlight_knee`).
    """
    band, low, amplitude = shading_detail(lightness, image_skin, sigma, low_pass)
    _, target_low, wanted = (target_detail if target_detail is not None
                       else shading_detail(target_l, target_skin, sigma))
    if amplitude <= 0.0 or wanted <= 0.0:
        return lightness
    factor = float(np.clip(wanted / amplitude, *CONTRAST_RANGE))
    weight = skin_feather(image_skin, sigma) if feather is None else feather
    out = lightness + weight * (factor - 1.0) * band
    inside = target_skin > 0
    if inside.any():  # the highlights no brighter than the target's own (`_highlight_knee`)
        excess = (target_l[inside] - target_low[inside]) / np.maximum(target_low[inside], 1.0)
        knee = float(np.percentile(excess, HIGHLIGHT_PERCENTILE))
        if knee > 0.0:
            out = _highlight_knee(out, low, knee, weight if highlights is None else highlights)
    return out


HIGHLIGHT_PERCENTILE = 99.0  # the target's highlight level: this percentile of its skin's lightness over its
# skin level, less 1 (0.18 on talking_frontal, 0.32 on grimaces_blinks)
HIGHLIGHT_ROOM = 0.25  # the face's highlights above that level are compressed softly into this share of it
# above it: a side-lit photo's nose ridge stayed at 0.36 (0.25 at its 99th percentile) after the contrast
# match, a white streak down the nose


def _highlight_knee(lightness: np.ndarray, low: np.ndarray, knee: float, weight: np.ndarray) -> np.ndarray:
    """`lightness` whose highlights are compressed where a pixel's excess over the skin level `low`
    (relative to it) passes `knee`: there its excess is scaled so it lands smoothly below
    knee x (1 + HIGHLIGHT_ROOM), never past it; feathered by `weight`. Shadows, creases and the skin's
    ordinary relief are unchanged.

    The contrast match scales the whole band by at most CONTRAST_RANGE: a hard light's highlights, twice
    the target's, kept half their excess, and on a paler, flatter target they read as wet white streaks.
    Each pixel's own excess is compressed, not the shading band's (blurred at its fine edge): a
    highlight a few pixels wide (a low-resolution photo's nose wings and tip, lifted 2.6x) read 0.28 on
    the band but 0.68 itself, and stayed as white, colourless spots (side_light onto talking_frontal)."""
    level = np.maximum(low, 1.0)
    relative = (lightness - low) / level
    over = relative > knee
    if not over.any():
        return lightness
    room = HIGHLIGHT_ROOM * knee
    scale = (knee + room * (1.0 - np.exp(-(relative[over] - knee) / room))) / relative[over]
    out = lightness.copy()
    out[over] -= weight[over] * (1.0 - scale) * (lightness[over] - low[over])
    return out


def skin_feather(skin: np.ndarray, sigma: float) -> np.ndarray:
    """The skin mask feathered at the shading detail's fine edge: where the detail matches act."""
    return cv2.GaussianBlur((skin > 0).astype(np.float32), (0, 0), max(CONTRAST_FINE_PER_SIGMA * sigma, 0.5))


SHADING_CHROMA_SLOPE = 0.3  # the target's chroma-per-lightness slope in the shading band is taken within +-this


def _shading_chroma_slope(lightness_band: np.ndarray, ab: np.ndarray, skin: np.ndarray, hue: np.ndarray,
                          sigma: float, low_pass: SkinLowPass | None = None) -> float:
    """Least-squares slope of the chroma's shading band (along the unit `hue` in the (a, b) plane) over the
    lightness's shading band `lightness_band`, on the skin: how much more coloured a face's shadows are."""
    along = (ab[..., 0] - 128.0) * hue[0] + (ab[..., 1] - 128.0) * hue[1]
    chroma_band, _ = shading_band(along, skin, sigma, low_pass)
    inside = skin > 0
    l, c = lightness_band[inside], chroma_band[inside]
    return float((l * c).sum() / max(float((l * l).sum()), 1e-6))


def match_shading_chroma(lab: np.ndarray, target_lab: np.ndarray, image_skin: np.ndarray, target_skin: np.ndarray,
                         sigma: float, target_detail: tuple[np.ndarray, np.ndarray, float] | None = None,
                         low_passes: tuple[SkinLowPass, SkinLowPass] | None = None,
                         feather: np.ndarray | None = None) -> np.ndarray:
    """Float OpenCV-Lab `lab` whose skin's chroma follows its shading as the target's does.

    On real skin the shadows and creases are more coloured than the lit skin and a highlight is paler
    (light scattered under the skin, a white shine on top): the target's chroma falls as its shading
    band's lightness rises (about -0.17 chroma per lightness unit on a pale face). The colour map gives a
    face the target's mean chroma everywhere, or a tinted photo's chroma that rises with its light: grey
    shadows and coloured highlights, metal rather than skin. The chroma's shading band along the target's
    mean hue is moved by (target's slope - the face's) x the face's lightness band, feathered off the skin.
    `low_passes` (of `image_skin` and `target_skin` at `sigma`) and `feather`: made once by the caller.
    """
    here, there = low_passes or (SkinLowPass(image_skin, sigma), SkinLowPass(target_skin, sigma))
    # the skin's mean chroma (cv2.mean reads the mask in place: gathering the strided (a, b) cost 0.5 ms)
    mean = np.array(cv2.mean(target_lab, mask=as_mask(target_skin > 0))[1:3]) - 128.0
    if not (target_skin > 0).any() or not (image_skin > 0).any() or float(np.hypot(*mean)) < 1.0:
        return lab
    hue = mean / float(np.hypot(*mean))
    band, _ = shading_band(np.ascontiguousarray(lab[..., 0]), image_skin, sigma, here)  # read twice: one copy
    target_band = (target_detail[0] if target_detail is not None
                   else shading_band(target_lab[..., 0], target_skin, sigma, there)[0])
    wanted = float(np.clip(_shading_chroma_slope(target_band, target_lab[..., 1:], target_skin, hue, sigma, there),
                           -SHADING_CHROMA_SLOPE, SHADING_CHROMA_SLOPE))
    change = wanted - _shading_chroma_slope(band, lab[..., 1:], image_skin, hue, sigma, here)
    # the shift's own shading band is a little less than the shift (the band-pass is no ideal filter):
    # scaled up by that response, the face's measured slope lands on the target's
    inside = image_skin > 0
    response = shading_band(band, image_skin, sigma, here)[0][inside]
    change /= float(np.clip((band[inside] * response).sum() / max(float((band[inside] ** 2).sum()), 1e-6), 0.5, 1.0))
    weight = skin_feather(image_skin, sigma) if feather is None else feather
    shift = weight * change * band
    out = lab.copy()
    out[..., 1] += shift * hue[0]
    out[..., 2] += shift * hue[1]
    return out


MIN_CHROMA_SPREAD = 0.6  # a blotchy source's chroma deviations shrink at most to this fraction
HIGHLIGHT_KNEE = 235.0  # OpenCV-Lab lightness above which highlights are compressed, not clipped


def soft_clip_lightness(l: np.ndarray) -> np.ndarray:
    """Lightness above HIGHLIGHT_KNEE compressed smoothly toward 255 (never past it): a brightened
    highlight keeps some shape and colour instead of flattening to a white patch."""
    room = 255.0 - HIGHLIGHT_KNEE
    out = np.maximum(l, 0.0)
    high = l > HIGHLIGHT_KNEE  # usually a few highlight pixels: the exponential runs on those only
    out[high] = HIGHLIGHT_KNEE + room * (1.0 - np.exp(-(l[high] - HIGHLIGHT_KNEE) / room))
    return out


def _keep_eye_whites(source_l: np.ndarray, lifted: np.ndarray, lift: np.ndarray, level: np.ndarray,
                     eyes: np.ndarray) -> np.ndarray:
    """`lifted` lightness with the eye openings' highlights lifted as the headroom above the skin, not
    multiplied.

    The lift that brings a dark skin to a paler target's (`lift`, up to max_gain x max_ratio) is mostly a
    change of skin, not of light; multiplied by it, eye whites far lighter than the skin around them go
    past white, a flat glowing blob. Inside the eyes, a pixel lighter than the local skin level (`level`,
    the source's) keeps its place between that skin and white instead: the interval [level, 255] maps
    linearly onto [level * lift, 255]. Pixels at or below the skin level (iris, lashes, lids) and every
    pixel where the lift darkens (the multiplied value is then the lower one) are unchanged, so only a
    lightening lift of highlights is touched and the whites keep their texture and order.
    """
    lifted_level = np.clip(level * lift, 0.0, 254.0)
    room = (255.0 - lifted_level) / np.maximum(255.0 - level, 1.0)
    headroom = lifted_level + (source_l - level) * room
    kept = np.where(source_l > level, np.minimum(lifted, headroom), lifted)
    return lifted + eyes * (kept - lifted)


DARK_HAIR_SHARE = 0.55  # a skin-mask pixel darker than this share of its neighbourhood's skin level is hair
# (a moustache, stubble, a brow's edge), not skin under some light: a cast shadow or the dark side of a
# side-lit face stays above it (about 0.75 of its level at a moustache's edge on grimaces_blinks)


def without_dark_hair(lightness: np.ndarray, skin: np.ndarray, sigma: float) -> np.ndarray:
    """`skin` (0/255) less its pixels far darker than the skin's low-frequency level around them
    (DARK_HAIR_SHARE): a moustache or beard inside a face's skin mask.

    The colour match reads the frame's and the face's skin at the lighting's scale; a target's moustache
    read as skin gave the swapped face a grey smudge above the lip (dark, colourless low bands), and a
    source's own moustache pulled its lift up around it."""
    level = _low_band(lightness, skin, sigma)
    return np.where((skin > 0) & (lightness >= DARK_HAIR_SHARE * level), 255, 0).astype(np.uint8)


MAX_GAIN = 2.5  # the mean-lightness gain, target skin over source skin (both measured on skin only), is
# clipped to [1 / MAX_GAIN, MAX_GAIN]: a dark photo onto a pale target needs 1.9 (dark_lowres onto
# talking_frontal), a dark side-lit one 2.6 (side_light); at 1.6 the shading ratio, clipped too, was left
# to make up the rest and the face kept a low band of its own (lightness spread 13.7 there, 7.2 at 2.5,
# the target's 10.1), patchy grey-brown skin
MAX_RATIO = 2.0  # the shading ratio stays within [1 / MAX_RATIO, MAX_RATIO] (1.6 clipped 15% of
# dark_lowres's skin onto talking_frontal; at 2.2 dlib's same-person rate once fell on the test suite's
# synthetic talking head, 0.8 -> 0.7)
CHROMA_SIGMA_SHARE = 0.5  # the chroma's low band is the target's down to this share of the lighting's scale:
# a 1927 photo's ruddy cheeks and a red nose tip lie between the two (cheek Delta E 10.4 -> 7.7 before the
# blend on the old photo onto talking_frontal); chroma carries little of dlib's identity


def transfer_skin(image: np.ndarray, source_stats: np.ndarray, target_stats: np.ndarray, target: np.ndarray,
                  image_skin: np.ndarray, target_skin: np.ndarray, sigma: float, max_gain: float = MAX_GAIN,
                  max_ratio: float = MAX_RATIO, eyes: np.ndarray | None = None, chroma_low_band: bool = True,
                  shading_contrast: bool = True, chroma_sigma_share: float = CHROMA_SIGMA_SHARE,
                  refine_shading: float = 0.0, skip_hair: bool = True,
                  target_lab: np.ndarray | None = None) -> np.ndarray:
    """Move `image`'s skin colour from the source's statistics to the target's, and give it the target's
    low-frequency lightness (its lighting), keeping `image`'s detail, in one float Lab pass.

    Lightness is scaled by the mean-lightness gain (dark features stay dark, as under a change of
    illumination) and by the shading ratio (`shading_ratio`: skin-only low-frequency lightness, target over
    image) together, then highlights are compressed; chroma is mapped once (`map_chroma`). Done as two
    8-bit steps, the first clipped a brightened highlight to white (its chroma lost) and the second
    darkened that white back to a grey-green patch (a bright grey source's forehead and nose).
    `eyes` (0..1 weights, the face's eye openings) lifts the eye whites with `_keep_eye_whites`.
    The gain is clipped to `max_gain` (MAX_GAIN) and the ratio to `max_ratio` (MAX_RATIO). `chroma_low_band`: after the global
    map the chroma's low band is the target's (`chroma_offset`), so tints and blotches on the lighting's
    scale go. `refine_shading` (0..1, off): the share of a second shading-ratio pass on the lifted face (a
    ratio of blurs leaves the face's low band 6-9 lightness units short of the target's at the cheeks);
    fully on it took cheek Delta E on the old photo from 6.4 to 4.6 (onto grimaces_blinks) but cost dlib's
    closer-to-source rate on the flat portrait_c (0.54 -> 0.33) and side_light (0.58 -> 0.46) onto the
    same target (half: 5.5, 0.38, 0.5). `shading_contrast`: the skin's shading detail (the band below the lighting's scale) takes the
    target's relative strength (`match_shading_contrast`) and its chroma follows it as the target's does
    (`match_shading_chroma`), so a hard-lit, dark or low-resolution photo does not read as grey metal.
    `skip_hair`: both skin masks lose their dark hair (`without_dark_hair`) before anything is measured.
    `target_lab`: `target` in OpenCV's 8-bit Lab, when the caller has it (`match_lips` reads it too).
    """
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    source_l = np.ascontiguousarray(lab[..., 0])  # one copy, not a strided view in every step below
    # once: the hair test, contrast and chroma read it
    target_lab_8 = cv2.cvtColor(target, cv2.COLOR_RGB2LAB) if target_lab is None else target_lab
    target_l = target_lab_8[..., 0].astype(np.float32)  # contiguous, as source_l
    if skip_hair:
        image_skin = without_dark_hair(source_l, image_skin, sigma)
        target_skin = without_dark_hair(target_l, target_skin, sigma)
    gain = float(np.clip(target_stats[0, 0] / max(source_stats[0, 0], 1.0), 1.0 / max_gain, max_gain))
    # every band below at the lighting scale is read over one of these two masks: shrunk and blurred once
    low_passes = here, there = SkinLowPass(image_skin, sigma), SkinLowPass(target_skin, sigma)
    ratio = shading_ratio(source_l * gain, target, image_skin, target_skin, sigma, max_ratio, low_passes)
    if refine_shading > 0.0:
        residual = shading_ratio(source_l * gain * ratio, target, image_skin, target_skin, sigma, max_ratio,
                                 low_passes)
        ratio = np.clip(ratio * residual ** refine_shading, 1.0 / max_ratio, max_ratio)
    lift = gain * ratio
    lightness = source_l * lift
    if shading_contrast:
        target_lab_f = target_lab_8.astype(np.float32)
        # the target's shading detail, read by both the contrast and the chroma match
        target_detail = shading_detail(target_l, target_skin, sigma, there)
        feather = skin_feather(image_skin, sigma)
        # highlights are compressed on the whole face but in the eyes (their whites and catchlights)
        highlights = None if eyes is None else 1.0 - np.minimum(eyes, 1.0)
        lightness = match_shading_contrast(lightness, target_l, image_skin, target_skin, sigma,
                                           target_detail, here, feather, highlights)
    if eyes is not None and eyes.any():
        # only inside the eyes' box: elsewhere their weight is 0 and the lightness stays as lifted
        x, y, w, h = cv2.boundingRect(as_mask(eyes > 0))
        box = (slice(y, y + h), slice(x, x + w))
        level = skin_level(source_l, image_skin, sigma, here)[box]
        lightness[box] = _keep_eye_whites(source_l[box], lightness[box], lift[box], level, eyes[box])
    lab[..., 0] = soft_clip_lightness(lightness)
    ab = map_chroma(lab[..., 1:], source_stats, target_stats)  # contiguous: read again below
    if chroma_low_band:
        ab += chroma_offset(ab, target, image_skin, target_skin, sigma * chroma_sigma_share,
                            target_lab_8[..., 1:].astype(np.float32))
    lab[..., 1:] = ab
    if shading_contrast:
        lab = match_shading_chroma(lab, target_lab_f, image_skin, target_skin, sigma, target_detail, low_passes,
                                   feather)
    lab += 0.5  # rounded half up by the truncating cast: in place, `lab` is this function's own
    return cv2.cvtColor(np.clip(lab, 0, 255, out=lab).astype(np.uint8), cv2.COLOR_LAB2RGB)


MULTIPLICATIVE_CHROMA = (3.0, 8.0)  # source skin chroma from which the chroma map turns from a shift to a
# rotation and scale (fully at the second value)
MAX_CHROMA_SCALE = 1.5  # the map's rotation and scale stretches the chroma's deviations from the source's
# mean skin colour (lips, a nose tip) at most this much; the mean itself still lands on the target's. At 2
# a pale source's pink nose tip and lips turned red and magenta on a darker, more coloured target
# (portrait_a and portrait_b onto grimaces_blinks: chroma scale 2.9); 1.5 leaves portrait_a onto
# talking_frontal (1.4) as it was


def map_chroma(ab: np.ndarray, source_stats: np.ndarray, target_stats: np.ndarray) -> np.ndarray:
    """OpenCV-Lab (a, b) of a face moved from the source's skin colour to the target's.

    A coloured source is mapped multiplicatively in the (a, b) plane (as complex numbers around grey:
    z * t / s, a rotation and a scale taking the source's mean skin chroma s to the target's t), so a pale
    highlight stays pale. Shifting by t - s instead pushes pixels less coloured than the mean past grey:
    the green-blue forehead and nose of an orange-lit photo on a paler target. A colourless source (a
    black-and-white photo: s near 0) can only be shifted; between the two, a blend. Then the spread
    around the target's mean shrinks where the source's skin is blotchier than the target's (an old or
    noisy photo), never grows. Where t / s is larger than MAX_CHROMA_SCALE the mean still lands on t, but
    the deviations from s (lips, a nose tip) are stretched by MAX_CHROMA_SCALE only.
    """
    s = complex(source_stats[0, 1] - 128.0, source_stats[0, 2] - 128.0)
    t = complex(target_stats[0, 1] - 128.0, target_stats[0, 2] - 128.0)
    low, high = MULTIPLICATIVE_CHROMA
    weight = float(np.clip((abs(s) - low) / (high - low), 0.0, 1.0))
    factor = t / s if abs(s) > 1e-6 else 1.0
    if abs(factor) > MAX_CHROMA_SCALE:
        factor *= MAX_CHROMA_SCALE / abs(factor)
    scale = weight * abs(factor) + (1.0 - weight)  # how much the map itself stretched the spread
    spread = np.clip(target_stats[1, 1:] / np.maximum(source_stats[1, 1:] * scale, 1e-3), MIN_CHROMA_SPREAD, 1.0)
    # mapped = weight * (t + (z - s) * factor) + (1 - weight) * (z + t - s) = z * gain + shift
    # (z = a - 128 + i (b - 128); with factor = t / s unclipped, t + (z - s) * factor = z * t / s), then each
    # channel is spread about the target's mean: one affine map of (a, b), one cv2.transform.
    gain = weight * factor + (1.0 - weight)
    shift = weight * (t - s * factor) + (1.0 - weight) * (t - s)
    rotate = np.array([[gain.real, -gain.imag], [gain.imag, gain.real]])
    mean = np.array([target_stats[0, 1], target_stats[0, 2]], dtype=np.float64)
    linear = spread[:, None] * rotate
    offset = mean + spread * (np.array([shift.real, shift.imag]) + 128.0 - mean) - linear @ np.array([128.0, 128.0])
    matrix = np.hstack([linear, offset[:, None]]).astype(np.float32)
    return cv2.transform(np.ascontiguousarray(ab, dtype=np.float32), matrix)


def delta_e76(lab_a: np.ndarray, lab_b: np.ndarray) -> float:
    """CIE76 colour difference between two OpenCV 8-bit Lab colours (converted to CIE units)."""
    scale = np.array([100.0 / 255.0, 1.0, 1.0])
    a = (np.asarray(lab_a, dtype=np.float64) - (0, 128, 128)) * scale
    b = (np.asarray(lab_b, dtype=np.float64) - (0, 128, 128)) * scale
    return float(np.linalg.norm(a - b))


LIP_HAIR_SHARE = 0.55  # lip-ring pixels darker than this share of the ring's median lightness (a moustache
# over the lip) are not lips
LIP_RED_PERCENTILE = 50.0  # of the target's lip ring, the pixels redder (OpenCV-Lab a) than this percentile of
# it are its lips: teeth, a tongue's shadow and a moustache inside the ring are less red
LIP_CHROMA_SHARE = 0.7  # on a skin of the same tone, pale lips' chroma lies this share of the way from the skin's
# to the target's lips' (a target's lipstick, at full, painted a red mouth on every source)
LIP_PALE_RANGE = (0.8, 1.0)  # ... and lips this light relative to the target's skin are matched not at all ..
# fully (natural lips are darker than the skin round them)
LIP_CHROMA_PULL = 6.0  # the swapped lips' chroma offset from their skin moves at most this far (OpenCV-Lab a, b
# units) from the photo's own toward the target's: natural lips lie 2-11 redder than their skin (portrait_a
# and b 10-11, side_light 4, dark_lowres 11, grimaces_blinks 2-3), talking_frontal's lipstick 33, which gave
# a man's mouth the target's red lipstick (side_light and dark_lowres onto it; at 8 dark_lowres's lips still
# read as lipstick, a 19 over the skin). The pulls portrait_a and b onto either target make (at most 6.6,
# b onto grimaces_blinks) stay within it or about
LIP_TONE_CHANGE = 1.6  # a skin lightness change (target's mean skin over the source's, either way) from which
# the swapped lips relate to their skin as the target's lips to its skin; at 1 (same tone) as the source's.
# Carried with the skin's lift alone, a pale photo's lips came out deep red on a dark target (portrait_b onto
# grimaces_blinks: L 58, a 164 under skin L 105, a 151, where the target's lips read L 78, a 150) and a dark
# face's lips, lighter than its skin, white on a pale one (dark_lowres onto talking_frontal)


def _lip_pixels(lab: np.ndarray, ring: np.ndarray, reddest: bool) -> np.ndarray:
    """The Lab pixels of a lip ring (boolean mask) that are lips: not darker than LIP_HAIR_SHARE of the
    ring's median lightness (a moustache); with `reddest`, also the redder half (`LIP_RED_PERCENTILE`)."""
    pixels = lab[ring]
    if len(pixels) == 0:
        return pixels
    keep = pixels[:, 0] >= LIP_HAIR_SHARE * np.median(pixels[:, 0])
    if reddest:
        keep &= pixels[:, 1] >= np.percentile(pixels[:, 1], LIP_RED_PERCENTILE)
    return pixels[keep]


def _limited_pull(pull: np.ndarray) -> np.ndarray:
    """A move of the lips' (a, b) toward the target's, shortened to at most LIP_CHROMA_PULL: the lips' colour
    is the person's (a target's lipstick is not), their lightness the light's."""
    length = float(np.hypot(*pull))
    return pull * min(1.0, LIP_CHROMA_PULL / length) if length > 0.0 else pull


def lip_colour(lab: np.ndarray, ring: np.ndarray, reddest: bool) -> np.ndarray | None:
    """Mean OpenCV-Lab (float) of the lip pixels of a lip ring (0/255 or boolean, `_lip_pixels`) in `lab`;
    None where fewer than 10 are lips."""
    pixels = _lip_pixels(lab, ring > 0, reddest)
    return pixels.astype(np.float32).mean(axis=0) if len(pixels) >= 10 else None


def recolour_lip_band(image: np.ndarray, weights: np.ndarray, theirs: np.ndarray, ours: np.ndarray,
                      skin: np.ndarray) -> np.ndarray:
    """`image` (RGB uint8, the frame round a swapped mouth) whose lip-coloured pixels take the swapped lips'
    chroma: (a, b) moved by `ours` - `theirs` (mean Lab of the swapped lips and the target's), weighted by
    `weights` (0..1) and by how far a pixel's redness (a) lies from the target's skin's (`skin`, Lab) to its
    lips'. Lightness, teeth and skin are unchanged.

    An open mouth is filled with the target's warped mouth and a band round it (`faceswap.mouth`), faded
    into the swapped lips: a target's lipstick stayed there as a red rim round the teeth and a red lower
    lip on a man's mouth (side_light onto talking_frontal), whatever colour the swapped lips took."""
    shift = (ours[1:] - theirs[1:]).astype(np.float32)
    redness = float(theirs[1] - skin[1])
    if redness < 1.0 or float(np.hypot(*shift)) < 1.0:
        return image
    box = bounding_box(as_mask(weights > 0), 0)
    if box is None:
        return image
    x0, y0, x1, y1 = box
    lab = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_RGB2LAB).astype(np.float32)
    lipness = np.clip((lab[..., 1] - float(skin[1])) / redness, 0.0, 1.0) * weights[y0:y1, x0:x1]
    lips = lipness > 0.0  # only the weighted pixels redder than the skin change: the rest keep their exact RGB
    if not lips.any():
        return image
    lab[..., 1] += lipness * shift[0]
    lab[..., 2] += lipness * shift[1]
    recoloured = cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    out = image.copy()
    np.copyto(out[y0:y1, x0:x1], recoloured, where=lips[..., None])
    return out


def _lip_relation(lips: np.ndarray, skin: np.ndarray) -> tuple[float, np.ndarray]:
    """How lips (mean Lab) relate to their skin (mean Lab): lightness ratio and (a, b) offset."""
    return float(lips[0] / max(float(skin[0]), 1.0)), lips[1:] - skin[1:]


def match_lips(image: np.ndarray, before: np.ndarray, target: np.ndarray, lips_here: np.ndarray,
               lips_there: np.ndarray, around_here: np.ndarray, source_stats: np.ndarray, skin_stats: np.ndarray,
               feather_sigma: float, target_lab: np.ndarray | None = None) -> np.ndarray:
    """`image` (RGB uint8, after the skin's colour match) whose lips (`lips_here`, 0/255) relate to the
    skin round them (`around_here`, 0/255) as they did before the match (`before`: the photo's own
    colour), or, as far as the skin's tone changed (LIP_TONE_CHANGE; `source_stats` and `skin_stats`: the
    photo's and the target's Lab skin statistics), as the target frame's lips (`lips_there`) relate to its
    skin. Lightness by ratio, chroma by offset (moved at most LIP_CHROMA_PULL from the photo's own: a
    target's lipstick stays on the target), the lips' own texture kept; feathered by `feather_sigma`.

    The skin's match treats lips as skin: its gain and the target's shading contrast took a pale photo's
    lips to deep red on a dark target, and its low band, read over a smiling target's teeth, to pale beige
    (the demo). The skin round the lips after the match carries the target's lighting, so lips set against
    it are lit as the target. The target's lips are read from its lip ring's redder half only (teeth and a
    moustache in the ring are not lips). `target_lab`: `target` in OpenCV's 8-bit Lab, when the caller has it.
    """
    here, around = lips_here > 0, around_here > 0
    if np.count_nonzero(here) < 20 or np.count_nonzero(around) < 20:
        return image
    # Everything read (the lips, their skin ring) or changed (the lips' feathered weight) lies in their box
    # grown by the feather's reach; beyond it the weight is exactly 0: matched on that box alone, the
    # rest of the image is returned as it was (whole, its Lab round trip cost 6 ms a 720 frame).
    x0, y0, x1, y1 = bounding_box(as_mask(here | around), blur_reach(max(feather_sigma, 0.5)) + 1)
    if (y1 - y0, x1 - x0) != here.shape:
        box = (slice(y0, y1), slice(x0, x1))
        out = image.copy()
        out[box] = match_lips(image[box], before[box], target, lips_here[box], lips_there, around_here[box],
                              source_stats, skin_stats, feather_sigma, target_lab)
        return out
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    before_lab = cv2.cvtColor(before, cv2.COLOR_RGB2LAB).astype(np.float32)
    own, own_before = _lip_pixels(lab, here, reddest=False), _lip_pixels(before_lab, here, reddest=False)
    skin, skin_before = _lip_pixels(lab, around, reddest=False), _lip_pixels(before_lab, around, reddest=False)
    if min(len(own), len(own_before), len(skin), len(skin_before)) < 10:
        return image
    ratio, offset = _lip_relation(own_before.mean(axis=0), skin_before.mean(axis=0))
    change = abs(np.log(max(float(skin_stats[0, 0]), 1.0) / max(float(source_stats[0, 0]), 1.0)))
    share = float(np.clip(change / np.log(LIP_TONE_CHANGE), 0.0, 1.0))
    # the target's lips, the lips' feathered weight: read once for both matches
    there = lips_there > 0
    theirs = None
    if np.count_nonzero(there) >= 20:
        if target_lab is None:
            target_lab = cv2.cvtColor(target, cv2.COLOR_RGB2LAB)
        theirs = _lip_pixels(target_lab, there, reddest=True).astype(np.float32)  # read on the lips alone
    # soft at the outline, full across thin lips (a plain blur stays under 1 inside them)
    weight = np.minimum(1.5 * cv2.GaussianBlur(here.astype(np.float32), (0, 0), max(feather_sigma, 0.5)), 1.0)
    weight = weight[..., None]
    # on a skin of about the same tone the pale-lip match (`_match_pale_lips`) stands: set against the
    # skin there, the tests' talking head read 0.603 from its source (bar 0.6) and the demo's pose 5.1 deg
    same_tone = _match_pale_lips(image, lab, own, theirs, skin_stats, weight) if share < 1.0 else None
    if share <= 0.0:
        return same_tone
    if theirs is not None and len(theirs) >= 10:
        their_ratio, their_offset = _lip_relation(theirs.mean(axis=0), skin_stats[0])
        # lightness mixed as ratios (geometrically), chroma as offsets
        ratio = float(np.exp((1.0 - share) * np.log(max(ratio, 1e-3)) + share * np.log(max(their_ratio, 1e-3))))
        offset = offset + _limited_pull(share * (their_offset - offset))
    skin_mean, own_mean = skin.mean(axis=0), own.mean(axis=0)
    mapped = lab.copy()
    mapped[..., 0] *= ratio * skin_mean[0] / max(float(own_mean[0]), 1.0)
    mapped[..., 1:] += skin_mean[1:] + offset - own_mean[1:]
    lab += weight * (mapped - lab)
    if same_tone is not None:  # as far as the tone changed, the lips set against the skin; the rest, the same-tone match
        lab = share * lab + (1.0 - share) * cv2.cvtColor(same_tone, cv2.COLOR_RGB2LAB).astype(np.float32)
    return cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def _match_pale_lips(image: np.ndarray, lab: np.ndarray, own: np.ndarray, theirs: np.ndarray | None,
                     skin_stats: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """`image` whose lips, where they are as pale as the target's skin (LIP_PALE_RANGE), take the target's
    lips' lightness and a chroma LIP_CHROMA_SHARE of the way from its skin's to its lips' (at most
    LIP_CHROMA_PULL from their own; the match on a skin
    of the same tone: lips darker than their skin are natural and keep their colour). `lab`: `image` in Lab
    (float32, left as it is), `own` and `theirs` the lips' pixels here and the target's (`_lip_pixels`; None:
    too few lips there), `weight` the lips' feathered weight (h, w, 1)."""
    if theirs is None or len(own) < 10 or len(theirs) < 10:
        return image
    own_mean, their_mean = own.mean(axis=0), theirs.mean(axis=0)
    low, high = LIP_PALE_RANGE
    strength = float(np.clip((own_mean[0] / max(float(skin_stats[0, 0]), 1.0) - low) / (high - low), 0.0, 1.0))
    if strength <= 0.0:
        return image
    wanted_ab = skin_stats[0, 1:] + LIP_CHROMA_SHARE * (their_mean[1:] - skin_stats[0, 1:])
    wanted_ab = own_mean[1:] + _limited_pull(wanted_ab - own_mean[1:])
    mapped = lab.copy()
    mapped[..., 0] *= their_mean[0] / max(float(own_mean[0]), 1.0)
    mapped[..., 1:] += wanted_ab - own_mean[1:]
    matched = lab + strength * weight * (mapped - lab)
    return cv2.cvtColor(np.clip(matched + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
