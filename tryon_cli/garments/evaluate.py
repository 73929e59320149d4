"""`tryon eval tryon PERSON GARMENT OUTPUT`: does the result wear the garment, and nothing else change?

Figures (photos; a video is sampled frame by frame):
- colour: the worn garment's mean Lab (where the placement puts the garment, in front of nothing) against
  the garment photo's; Delta E (CIE76, L in 0..100). `colour_delta_e` compares with the whole photo;
  `colour_delta_e_placed` with the photo's pixels the placement put there (the warped photo at the same
  pixels), so a garment partly out of the frame or under crossed arms is not blamed for the parts not
  shown. Bar (on the placed figure): within 10.
- leftover: pixels where the old garment was, inside the mask, not under the new garment, whose colour
  still falls in the old garment's dominant colour cluster (and is nearer it than the backdrop's colour
  there: a cream dress filled with the white backdrop around it is not left over, nor is a fill of the
  backdrop where it is a shade darker than its median, by the floor; nearer by a just noticeable
  difference), as a share of the mask.
  Bar: under 2%.
- outside: pixels changed outside the mask (bar: 0, bit-exact).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..analysis.body import Body
from ..masks.garment import MaskOptions, build_mask, overlay
from .photo import GarmentModel
from .placement import arms_in_front, warp_garment

COLOUR_BAR = 10.0  # Delta E between worn garment and photo
LEFTOVER_BAR = 0.02  # share of the mask still showing the old garment
OLD_CLUSTER_RADIUS = 12.0  # Delta E from the old garment's dominant colour that still counts as it
NEW_CLUSTER_RADIUS = 8.0  # ... unless the pixel is this close to one of the new garment's colours
CLUSTERS = 4  # k-means colours per garment
MIN_WORN_PIXELS = 200  # fewer garment pixels than this: no colour figure
BACKDROP_MARGIN = 2.3  # Delta E (a just noticeable difference) by which a leftover is nearer the old colour
BACKDROP_WORKING_SIZE = 256  # long side (px) at which the backdrop is carried in over the person


def lab(image: np.ndarray) -> np.ndarray:
    """CIE Lab with L in 0..100 and a, b about 0 (float32), so Delta E is a plain distance."""
    return cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def colour_clusters(pixels: np.ndarray, k: int = CLUSTERS) -> tuple[np.ndarray, np.ndarray]:
    """k-means centres of Lab pixels (deterministic) and each centre's share, largest first."""
    if len(pixels) < k:
        return pixels.astype(np.float32), np.full(len(pixels), 1.0 / max(len(pixels), 1))
    sample = pixels[np.linspace(0, len(pixels) - 1, min(len(pixels), 20000)).astype(int)].astype(np.float32)
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.1)
    _, labels, centres = cv2.kmeans(sample, k, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    shares = np.bincount(labels.ravel(), minlength=k) / len(labels)
    order = np.argsort(-shares)
    return centres[order], shares[order]


def local_backdrop(person: np.ndarray, backdrop: np.ndarray) -> np.ndarray:
    """The backdrop's colour at every pixel (RGB uint8): the photo with all but `backdrop` inpainted from it
    (Telea, at BACKDROP_WORKING_SIZE: it varies slowly). A backdrop that darkens towards the floor has no one
    colour: against its median, a fill of its own darker shade by the feet passed for a white old garment."""
    h, w = backdrop.shape
    scale = min(1.0, BACKDROP_WORKING_SIZE / max(h, w))
    size = (max(int(round(w * scale)), 1), max(int(round(h * scale)), 1))
    small = cv2.resize(person, size, interpolation=cv2.INTER_AREA)
    seen = cv2.resize(backdrop.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.99  # (wholly backdrop)
    filled = cv2.inpaint(small, np.where(seen, 0, 255).astype(np.uint8), 5, cv2.INPAINT_TELEA)
    return cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)


def _nearest(pixels: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.linalg.norm(pixels[:, None, :] - centres[None, :, :], axis=2).min(axis=1)


@dataclass(frozen=True)
class TryonFigures:
    """One frame's figures and the regions they were measured on (for the sheet)."""

    colour_delta_e: float | None
    colour_delta_e_placed: float | None
    leftover_share: float
    changed_outside: int
    mask_share: float
    worn: np.ndarray
    leftover: np.ndarray
    mask: np.ndarray

    def as_dict(self) -> dict:
        return {"colour_delta_e": None if self.colour_delta_e is None else round(self.colour_delta_e, 3),
                "colour_delta_e_placed": None if self.colour_delta_e_placed is None
                else round(self.colour_delta_e_placed, 3),
                "leftover_share": round(self.leftover_share, 5), "changed_outside_mask": self.changed_outside,
                "mask_share": round(self.mask_share, 4)}


def evaluate_frame(person: np.ndarray, garment: GarmentModel, output: np.ndarray, body: Body,
                   options: MaskOptions, mask: np.ndarray | None = None) -> TryonFigures:
    """The figures for one person image and its try-on output. `mask` is the try-on mask the output was
    made with; by default it is rebuilt the way `tryon tryon` builds it."""
    if output.shape != person.shape:
        raise ValueError(f"output is {output.shape}, person {person.shape}")
    built = build_mask(person, body, options, np.random.default_rng([0, 0]))
    mask = built.mask if mask is None else mask
    inside = mask > 0
    arms = arms_in_front(body, person.shape[:2]) if options.category != "lower" else None
    warped, alpha, keep = warp_garment(garment, body, built, person.shape[:2], options.category, arms)
    worn = (alpha > 0.95) & (keep == 0) & inside
    out_lab, photo_lab = lab(output), lab(garment.image)
    garment_pixels = photo_lab[garment.mask > 0]
    colour = placed = None
    if worn.sum() >= MIN_WORN_PIXELS and len(garment_pixels):
        worn_mean = out_lab[worn].mean(axis=0)
        colour = float(np.linalg.norm(worn_mean - garment_pixels.mean(axis=0)))
        placed = float(np.linalg.norm(worn_mean - lab(warped)[worn].mean(axis=0)))
    # leftover: the old garment's dominant colour still showing where the new garment does not reach
    old_region = (built.garment > 0) if built.garment is not None else np.zeros_like(inside)
    candidates = old_region & inside & (alpha < 0.5)
    leftover = np.zeros_like(inside)
    person_old = lab(person)[old_region]
    if candidates.any() and len(person_old) >= CLUSTERS:
        old_centres, _ = colour_clusters(person_old)
        new_centres, _ = colour_clusters(garment_pixels)
        pixels = out_lab[candidates]
        to_old = _nearest(pixels, old_centres[:1])
        still_old = (to_old < OLD_CLUSTER_RADIUS) & (_nearest(pixels, new_centres) > NEW_CLUSTER_RADIUS)
        backdrop = (body.person == 0) & ~inside
        if backdrop.sum() >= MIN_WORN_PIXELS:  # the backdrop's colour there, where it is near the old garment's
            # (by a just noticeable difference: a white old top's colour lay within 2 of a pale backdrop's,
            # and the backdrop filled in beside a dress, a shade off the inpainted estimate, was counted)
            around = lab(local_backdrop(person, backdrop))[candidates]
            still_old &= to_old + BACKDROP_MARGIN < np.linalg.norm(pixels - around, axis=1)
        leftover[candidates] = still_old
    changed = np.any(output != person, axis=2)
    return TryonFigures(colour_delta_e=colour, colour_delta_e_placed=placed,
                        leftover_share=float(leftover.sum() / max(inside.sum(), 1)),
                        changed_outside=int((changed & ~inside).sum()), mask_share=float(inside.mean()),
                        worn=worn, leftover=leftover, mask=np.where(inside, 255, 0).astype(np.uint8))


def verdict(figures: dict) -> dict:
    """Each bar: passed or not (None when the figure could not be measured). The colour bar is judged
    where the garment was placed (the whole photo's figure is reported beside it)."""
    colour = figures.get("colour_delta_e_placed", figures["colour_delta_e"])
    return {"colour_within_10": None if colour is None else colour <= COLOUR_BAR,
            "leftover_under_2pct": figures["leftover_share"] < LEFTOVER_BAR,
            "outside_mask_bit_exact": figures["changed_outside_mask"] == 0}


def contact_sheet(person: np.ndarray, garment: GarmentModel, output: np.ndarray, figures: TryonFigures,
                  height: int = 512) -> np.ndarray:
    """person | garment (segmentation outlined) | mask over the person | result (leftover in magenta)."""
    def fit(image: np.ndarray) -> np.ndarray:
        return cv2.resize(image, (max(int(image.shape[1] * height / image.shape[0]), 1), height),
                          interpolation=cv2.INTER_AREA)

    photo = garment.image.copy()
    contours, _ = cv2.findContours(garment.mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(photo, contours, -1, (255, 0, 255), max(photo.shape[0] // 300, 1))
    result = output.copy()
    result[figures.leftover] = (255, 0, 255)
    panels = [fit(person), fit(photo), fit(overlay(person, figures.mask)), fit(result)]
    sheet = np.concatenate(panels, axis=1)
    text = (f"dE {figures.colour_delta_e:.1f} placed {figures.colour_delta_e_placed:.1f}"
            if figures.colour_delta_e is not None else "dE n/a") + \
        f"  leftover {100 * figures.leftover_share:.1f}%  outside {figures.changed_outside}px"
    cv2.putText(sheet, text, (8, height - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 3)
    cv2.putText(sheet, text, (8, height - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 0), 1)
    return sheet


def evaluate_tryon(person_path, garment_path, output_path, category: str = "upper", mask_path=None,
                   garment_mask_path=None, analyzer=None) -> tuple[dict, np.ndarray]:
    """Figures (with each bar's verdict) and the contact sheet for one person photo, garment photo and
    try-on output. InputError (naming the file) on unreadable or mismatched inputs."""
    from ..analysis.body import BodyAnalyzer
    from ..errors import InputError
    from ..io.media import is_video, read_image, read_mask
    from .photo import load_garment

    for path in (person_path, output_path):
        if is_video(path):
            raise InputError(f"{path}: eval tryon measures photos; pass one frame of the video")
    person, output = read_image(person_path), read_image(output_path)
    if person.shape != output.shape:
        raise InputError(f"{output_path}: the output is {output.shape[1]}x{output.shape[0]}, the person photo "
                         f"{person.shape[1]}x{person.shape[0]}")
    mask = read_mask(mask_path) if mask_path is not None else None
    if mask is not None and mask.shape != person.shape[:2]:
        raise InputError(f"{mask_path}: the mask's size differs from the person photo's")
    garment = load_garment(garment_path, category, garment_mask_path)
    options = MaskOptions(category=category)
    if analyzer is None:
        with BodyAnalyzer() as own:
            body = own.analyse(person)
    else:
        body = analyzer.analyse(person)
    figures = evaluate_frame(person, garment, output, body, options, mask)
    result = {"person": str(person_path), "garment": str(garment_path), "output": str(output_path),
              "category": category, **figures.as_dict()}
    result["bars"] = verdict(result)
    return result, contact_sheet(person, garment, output, figures)
