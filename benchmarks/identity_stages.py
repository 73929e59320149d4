"""Which stage of the swap costs the source's identity: one stage switched off at a time, on a few frames.

For each pair (portrait onto video) the same frames (evenly spaced over the first seconds) are swapped
with the default pipeline and with one stage off, in process (the source prepared and the target
analysed once per variant), and dlib's distance of each output frame to the source photo and to the
target frame is printed (mean over the frames; `inner`: the hair-blind descriptor). Below 0.6 reads
as the same person. With `--sheets DIR`, one PNG per pair: a row of face crops per variant, the target
and source on top, to judge by eye what each stage does.

    python benchmarks/identity_stages.py [--pairs portrait_b.png:grimaces_blinks.mp4 ...] [--frames 6]
        [--seconds 2] [--variants full no-fold-band full@/tmp/other_model.npz ...] [--sheets DIR]

Stages without an option are switched off by replacing their function for the run (a benchmark's
ablation, never the library's behaviour). The neutralisation variants: `raw-source-shape` (the photo's
shape as the source identity), `raw-target-id` (the target track's median shape unneutralised),
`neutral-but-mouth` (the photo's own shape within ~0.3 eye distances of the lips), `shrink-*` (only the
expression beyond N prior deviations removed; `-open`: the mouth's opening wholly; `both`: the target's
tracks alike, which is what `--identity-tolerance N` does, variant `tolerance-N`).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable
from unittest import mock

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_MEDIA  # noqa: E402

from tryon_cli.analysis.face import FaceMeshAnalyzer  # noqa: E402
from tryon_cli.analysis.identity import DlibFaceEncoder, descriptor_distance  # noqa: E402
from tryon_cli.face3d import landmarks as lm  # noqa: E402
from tryon_cli.face3d.morphable import Coefficients, MorphableModel, rest_brows, spread_onto_skin  # noqa: E402
from tryon_cli.face3d.unwrap import closed_eye_points, mirrored_shape  # noqa: E402
from tryon_cli.faceswap.expression_lines import expression_strength  # noqa: E402
from tryon_cli.faceswap.source import BROW_REST_SHARE  # noqa: E402
from tryon_cli.faceswap.source import _neutral_shape as _ORIGINAL_NEUTRAL_SHAPE  # noqa: E402
from tryon_cli.metrics import pearson  # noqa: E402
from tryon_cli.faceswap.options import SwapOptions  # noqa: E402
from tryon_cli.faceswap.runner import swap_frames  # noqa: E402
from tryon_cli.faceswap.source import DEFAULT_CLEAN, prepare_source  # noqa: E402
from tryon_cli.io.media import read_image, write_image  # noqa: E402
from tryon_cli.io.target_media import frames_of  # noqa: E402
from tryon_cli.io.video import Frame  # noqa: E402
from tryon_cli.render.options import ClassicalOptions, EngineOptions, Eyes  # noqa: E402
from tryon_cli.render.registry import create_engine  # noqa: E402

DEFAULT_PAIRS = [
    "portrait_b.png:grimaces_blinks.mp4", "portrait_b.png:talking_frontal.mp4",
    "portrait_glasses.jpg:talking_frontal.mp4", "portrait_glasses.jpg:grimaces_blinks.mp4",
    "portrait_side_light.jpg:talking_frontal.mp4", "portrait_side_light.jpg:grimaces_blinks.mp4",
    "portrait_c.png:grimaces_blinks.mp4",
]
CROP = 128
_LOAD = MorphableModel.load  # the real loader, before any variant replaces it


def _keep_first(image, *args, **kwargs):
    return image


def _as_photographed_shape(model, shape):
    return np.asarray(shape, dtype=np.float32)


def _shrunk(threshold: float, open_full: bool = False) -> Callable:
    """`_neutral_shape` removing only the part of each expression coefficient beyond `threshold` prior
    standard deviations (soft thresholding); `open_full`: the mouth-opening components wholly."""
    def neutral_shape(model, shape):
        offset = _shrunk_offset(model, shape, threshold, open_full)
        neutral = spread_onto_skin(model, shape, np.asarray(shape, np.float32) - offset)
        neutral = rest_brows(model, shape, neutral, BROW_REST_SHARE * expression_strength(model, shape))
        shut = closed_eye_points(shape)
        if len(shut):
            neutral[shut] = mirrored_shape(neutral, model.mirror)[shut]
        return neutral
    return neutral_shape


def _neutral_near_mouth(reach: float, keep_mouth: bool = True) -> Callable:
    """`_neutral_shape` applied only within `reach` eye distances of the lips (faded over as much again),
    the photo's own shape elsewhere (`keep_mouth` False: the other way round)."""
    from tryon_cli.faceswap.source import _neutral_shape

    def neutral_shape(model, shape):
        neutral = _neutral_shape(model, shape)
        lips = np.concatenate([lm.OUTER_LIPS, lm.INNER_LIPS])
        distance = np.linalg.norm(shape[:, None, :2] - shape[None, lips, :2], axis=2).min(axis=1)
        weight = np.clip((2 * reach - distance) / reach, 0.0, 1.0)[:, None]
        weight = weight if keep_mouth else 1.0 - weight
        return (shape + weight * (neutral - shape)).astype(np.float32)
    return neutral_shape


def _opening(model) -> np.ndarray:
    """Per expression component, whether it mostly opens the mouth (the lips' gap moved per standard deviation)."""
    sigma = np.sqrt(model.expression_variance)
    gap = np.abs(model.expression_basis[:, 14, 1] - model.expression_basis[:, 13, 1]) * sigma
    return gap > 0.5 * gap.max()


def _shrunk_offset(model, shape, threshold: float, open_full: bool = False) -> np.ndarray:
    fitted = model.fit(shape)
    sigma = np.sqrt(model.expression_variance)
    z = fitted.expression / sigma
    kept = np.sign(z) * np.maximum(np.abs(z) - threshold, 0.0) * sigma
    if open_full:
        kept = np.where(_opening(model), fitted.expression, kept)
    return model.expression_offset(shape, Coefficients(fitted.identity, kept.astype(np.float32), fitted.pose))


def _planner_shrunk(threshold: float, open_full: bool = False):
    """Stands in for the planner's MorphableModel: a track's identity neutralised as `_shrunk` does."""
    class Loader:
        @staticmethod
        def load():
            model = MorphableModel.load()
            return type("Shrunk", (MorphableModel,), {"neutralise": lambda self, shape: (
                np.asarray(shape, np.float32) - _shrunk_offset(self, shape, threshold, open_full)).astype(np.float32)})(
                **{name: getattr(model, name) for name in model.__dataclass_fields__})
    return Loader


def _raw_x_source(model, shape):
    """`_neutral_shape` moving points up and down only, unless the photo smiles (then sideways as much)."""
    from tryon_cli.faceswap.folds import smile_strength

    neutral = _ORIGINAL_NEUTRAL_SHAPE(model, shape)
    smile = smile_strength(shape, neutral)
    neutral[:, 0] = shape[:, 0] + smile * (neutral[:, 0] - shape[:, 0])
    return neutral


class _RawXPlanner:
    """Stands in for the planner's MorphableModel: a track's identity neutralised up and down only."""

    @staticmethod
    def load():
        model = MorphableModel.load()

        def neutralise(self, shape):
            out = MorphableModel.neutralise(self, shape)
            out[:, 0] = np.asarray(shape, np.float32)[:, 0]
            return out
        return type("RawX", (MorphableModel,), {"neutralise": neutralise})(
            **{name: getattr(model, name) for name in model.__dataclass_fields__})


class _Unneutralised:
    """Stands in for the planner's MorphableModel: the target track's identity keeps its median expression."""

    @staticmethod
    def load():
        model = MorphableModel.load()
        return type("Unneutralised", (MorphableModel,), {"neutralise": lambda self, shape: np.asarray(shape, np.float32)})(
            **{name: getattr(model, name) for name in model.__dataclass_fields__})


@dataclass(frozen=True)
class Variant:
    """One configuration: source preparation keywords, swap and engine options, functions replaced."""

    source: dict = field(default_factory=dict)
    swap: dict = field(default_factory=dict)
    classical: dict = field(default_factory=dict)
    patches: dict[str, Callable] = field(default_factory=dict)


VARIANTS = {
    "full": Variant(),
    "no-neutralise": Variant(source={"neutralise": False}, swap={"neutralise": False}),
    "no-expression": Variant(swap={"expression_gain": 0.0}),  # the source's rest face: what recombination costs
    "raw-source-shape": Variant(patches={"tryon_cli.faceswap.source._neutral_shape": _as_photographed_shape}),
    "raw-target-id": Variant(patches={"tryon_cli.faceswap.planner.MorphableModel": _Unneutralised}),
    "shrink-1.5": Variant(patches={"tryon_cli.faceswap.source._neutral_shape": _shrunk(1.5)}),
    "shrink-2.5": Variant(patches={"tryon_cli.faceswap.source._neutral_shape": _shrunk(2.5)}),
    "shrink-2.5+raw-tgt": Variant(patches={"tryon_cli.faceswap.source._neutral_shape": _shrunk(2.5),
                                           "tryon_cli.faceswap.planner.MorphableModel": _Unneutralised}),
    "neutral-mouth-only": Variant(patches={"tryon_cli.faceswap.source._neutral_shape": _neutral_near_mouth(0.15)}),
    "neutral-but-mouth": Variant(patches={"tryon_cli.faceswap.source._neutral_shape": _neutral_near_mouth(0.15, False)}),
    "shrink-both-1.5": Variant(patches={"tryon_cli.faceswap.source._neutral_shape": _shrunk(1.5),
                                        "tryon_cli.faceswap.planner.MorphableModel": _planner_shrunk(1.5)}),
    "shrink-both-2.5": Variant(patches={"tryon_cli.faceswap.source._neutral_shape": _shrunk(2.5),
                                        "tryon_cli.faceswap.planner.MorphableModel": _planner_shrunk(2.5)}),
    "raw-x": Variant(patches={"tryon_cli.faceswap.source._neutral_shape": _raw_x_source,
                              "tryon_cli.faceswap.planner.MorphableModel": _RawXPlanner}),
    "raw-x-source": Variant(patches={"tryon_cli.faceswap.source._neutral_shape": _raw_x_source}),
    "shrink-both-1.5-open": Variant(patches={"tryon_cli.faceswap.source._neutral_shape": _shrunk(1.5, True),
                                             "tryon_cli.faceswap.planner.MorphableModel": _planner_shrunk(1.5, True)}),
    "shrink-both-2.5-open": Variant(patches={"tryon_cli.faceswap.source._neutral_shape": _shrunk(2.5, True),
                                             "tryon_cli.faceswap.planner.MorphableModel": _planner_shrunk(2.5, True)}),
    "shrink-src-2.5-open": Variant(patches={"tryon_cli.faceswap.source._neutral_shape": _shrunk(2.5, True)}),
    "tolerance-1.5": Variant(source={"tolerance": 1.5}, swap={"identity_tolerance": 1.5}),
    "tolerance-2.5": Variant(source={"tolerance": 2.5}, swap={"identity_tolerance": 2.5}),
    "no-fold-band": Variant(patches={"tryon_cli.render.classical.face.swap_fold_band": _keep_first}),
    "no-flatten": Variant(patches={"tryon_cli.faceswap.source.flatten_folds": _keep_first,
                                   "tryon_cli.faceswap.source.soften_lines": _keep_first}),
    "no-mottling": Variant(patches={"tryon_cli.faceswap.source.calm_mottling": _keep_first}),
    "no-detail": Variant(classical={"restore_detail": False}),
    "no-grain": Variant(classical={"match_grain": False}),
    "no-colour": Variant(classical={"colour_match": False}),
    "no-clean": Variant(source={"clean": ()}),
    "source-eyes": Variant(classical={"eyes": Eyes.source}),
    "no-lids": Variant(patches={"tryon_cli.render.classical.face.slide_lids": _keep_first}),
}

DEFAULT_VARIANTS = ["full", "no-neutralise", "no-expression", "raw-source-shape", "raw-target-id", "neutral-but-mouth",
                    "tolerance-1.5", "no-fold-band", "no-flatten", "no-detail", "no-colour", "no-clean", "source-eyes"]


def _pick(video: Path, count: int, seconds: float) -> list[Frame]:
    frames = list(frames_of(video, None, seconds))
    picks = np.linspace(0, len(frames) - 1, count).round().astype(int)
    return [frames[i] for i in sorted(set(picks))]


def _crop(image: np.ndarray, bbox) -> np.ndarray:
    x0, y0, x1, y1 = bbox
    side = 1.2 * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    matrix = np.array([[CROP / side, 0, CROP / 2 - cx * CROP / side], [0, CROP / side, CROP / 2 - cy * CROP / side]])
    return cv2.warpAffine(image, matrix, (CROP, CROP), flags=cv2.INTER_AREA, borderValue=(255, 255, 255))


def _label(image: np.ndarray, text: str) -> np.ndarray:
    band = np.full((CROP, 150, 3), 255, np.uint8)
    for i, part in enumerate(text.split("\n")):
        cv2.putText(band, part, (4, 20 + 18 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([band, image], axis=1)


def run_pair(portrait: Path, video: Path, variants: list[str], count: int, seconds: float,
             encoder: DlibFaceEncoder, parser, sheets: Path | None) -> None:
    frames = _pick(video, count, seconds)
    # consecutive indices: the planner's filters see one clip (the picked frames are a flip book)
    frames = [replace(f, index=i, time=i / 25.0) for i, f in enumerate(frames)]
    source_image = read_image(portrait)
    with FaceMeshAnalyzer(1, tracking=False) as mesh:
        source_box = mesh.detect(source_image)[0].bbox
        found = [mesh.detect(f.image)[0] for f in frames]
    boxes = [f.bbox for f in found]
    mouth_in = [lm.mouth_open_ratio(f.points) for f in found]
    source_d = encoder.encode(source_image, source_box)
    source_inner = encoder.encode_inner_face(source_image, source_box)
    target_d = [encoder.encode(f.image, b) for f, b in zip(frames, boxes)]
    target_inner = [encoder.encode_inner_face(f.image, b) for f, b in zip(frames, boxes)]
    rows = [_label(np.concatenate([_crop(f.image, b) for f, b in zip(frames, boxes)]
                                  + [_crop(source_image, source_box)], axis=1), "target | source")]
    print(f"\n{portrait.stem} -> {video.stem} ({len(frames)} frames)")
    print(f"{'variant':<19}{'to source':>10}{'to target':>10}{'inner src':>10}{'inner tgt':>10}{'same':>6}{'mouth r':>8}")
    for name in variants:
        variant = VARIANTS[name.split("@")[0]]
        with ExitStack() as stack:
            for target, function in variant.patches.items():
                stack.enter_context(mock.patch(target, function))
            if "@" in name:  # another morphable model file for this variant: "full@/tmp/model.npz"
                other = _LOAD(Path(name.split("@", 1)[1]))
                stack.enter_context(mock.patch.object(MorphableModel, "load", classmethod(lambda cls, *a, **k: other)))
            source_kwargs = {"clean": DEFAULT_CLEAN, **variant.source}
            source = prepare_source([(portrait, source_image)], parser=parser if source_kwargs["clean"] else None,
                                    **source_kwargs)
            engine = create_engine(EngineOptions(name="classical", classical=ClassicalOptions(**variant.classical)))
            outputs: list[np.ndarray] = []
            swap_frames(lambda: iter(frames), source, engine, lambda frame, image: outputs.append(image),
                        SwapOptions(**variant.swap), tracking=True, total=len(frames))
        d_src, d_tgt, i_src, i_tgt = [], [], [], []
        with FaceMeshAnalyzer(1, tracking=False) as mesh:
            mouth_out = [lm.mouth_open_ratio(mesh.detect(o)[0].points) for o in outputs]
        for out, box, td, ti in zip(outputs, boxes, target_d, target_inner):
            d = encoder.encode(out, box)
            i = encoder.encode_inner_face(out, box)
            if d is not None:
                d_src.append(descriptor_distance(d, source_d))
                d_tgt.append(descriptor_distance(d, td) if td is not None else np.nan)
            if i is not None:
                i_src.append(descriptor_distance(i, source_inner))
                i_tgt.append(descriptor_distance(i, ti) if ti is not None else np.nan)
        same = float(np.mean(np.array(d_src) < 0.6)) if d_src else float("nan")
        print(f"{name:<19}{np.mean(d_src):>10.3f}{np.nanmean(d_tgt):>10.3f}{np.mean(i_src):>10.3f}"
              f"{np.nanmean(i_tgt):>10.3f}{same:>6.2f}{pearson(mouth_out, mouth_in):>8.2f}", flush=True)
        rows.append(_label(np.concatenate([_crop(o, b) for o, b in zip(outputs, boxes)]
                                          + [np.full((CROP, CROP, 3), 255, np.uint8)], axis=1),
                           f"{name}\nsrc {np.mean(d_src):.3f}\ntgt {np.nanmean(d_tgt):.3f}"))
    if sheets is not None:
        sheets.mkdir(parents=True, exist_ok=True)
        write_image(sheets / f"{portrait.stem}_{video.stem}.png", np.concatenate(rows, axis=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", nargs="*", default=DEFAULT_PAIRS, help="portrait:video file names in faces/")
    parser.add_argument("--variants", nargs="*", default=DEFAULT_VARIANTS,
                        help=f"any of {', '.join(VARIANTS)}; NAME@PATH runs it with the morphable model file PATH")
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=2.0, help="Frames are picked from the first N seconds.")
    parser.add_argument("--sheets", type=Path, default=None)
    args = parser.parse_args()
    unknown = [v for v in args.variants if v.split("@")[0] not in VARIANTS or ("@" in v and not Path(v.split("@", 1)[1]).is_file())]
    if unknown:
        parser.error(f"unknown variant or missing model file: {', '.join(unknown)}")
    faces = SHARED_MEDIA / "faces"
    if not faces.exists():
        raise SystemExit(f"{faces} not found: this benchmark needs the shared media")
    from tryon_cli.analysis.parsing import FaceParser

    try:
        face_parser = FaceParser.load(size=SwapOptions().parse_size)
    except Exception:  # noqa: BLE001 - without the parser the source clean-up uses the skin model
        face_parser = None
    encoder = DlibFaceEncoder()
    for pair in args.pairs:
        portrait, video = pair.split(":")
        run_pair(faces / portrait, faces / video, args.variants, args.frames, args.seconds, encoder, face_parser,
                 args.sheets)


if __name__ == "__main__":
    main()
