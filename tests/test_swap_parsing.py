"""Parsed swap masks: the glasses' frame stays the target's (not the eyes behind the lenses), kept regions
stay the target's, and the parsing cadence reuses one parse across frames, carried by the landmarks."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from conftest import run_cli
from tryon_cli.analysis.parsing import CLASSES, FaceParsing
from tryon_cli.face3d import landmarks as lm
from tryon_cli.faceswap.options import SwapOptions
from tryon_cli.io.media import write_image
from tryon_cli.masks.face import FACE_REGIONS, face_region, skin_statistics
from tryon_cli.masks.parsed import ParsingCadence, glasses_frame, parsed_swap_mask

SIZE = 200
SKIN = (200, 160, 140)
EYES = ((70, 90), (130, 90))


def _ellipse_points(centre: tuple[float, float], axes: tuple[float, float], count: int) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, count, endpoint=False)
    return np.stack([centre[0] + axes[0] * np.cos(angles), centre[1] + axes[1] * np.sin(angles)], axis=1)


def _points() -> np.ndarray:
    """A 478-point mesh: the oval a circle, the eyes small ellipses, the rest at the centre."""
    points = np.zeros((478, 3), dtype=np.float32)
    points[:, :2] = (100, 100)
    points[lm.FACE_OVAL, :2] = _ellipse_points((100, 100), (80, 85), len(lm.FACE_OVAL))
    points[lm.RIGHT_EYE, :2] = _ellipse_points(EYES[0], (11, 5), len(lm.RIGHT_EYE))
    points[lm.LEFT_EYE, :2] = _ellipse_points(EYES[1], (11, 5), len(lm.LEFT_EYE))
    return points


def _scene() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Image, labels, the drawn frame (bool) and the lens interior (bool) of a face wearing glasses."""
    image = np.full((SIZE, SIZE, 3), SKIN, dtype=np.uint8)
    labels = np.zeros((SIZE, SIZE), dtype=np.uint8)
    cv2.circle(labels, (100, 100), 80, CLASSES.index("skin"), -1)
    cv2.ellipse(labels, (100, 150), (18, 7), 0, 0, 360, CLASSES.index("u_lip"), -1)
    cv2.ellipse(image, (100, 150), (18, 7), 0, 0, 360, (170, 60, 70), -1)
    glasses = np.zeros((SIZE, SIZE), dtype=np.uint8)
    for centre in EYES:
        cv2.ellipse(glasses, centre, (24, 17), 0, 0, 360, 255, -1)
        cv2.ellipse(image, centre, (11, 5), 0, 0, 360, (60, 50, 45), -1)  # the eye
    cv2.rectangle(glasses, (93, 86), (107, 90), 255, -1)  # the bridge
    labels[glasses > 0] = CLASSES.index("eyeglasses")
    frame = np.zeros((SIZE, SIZE), dtype=np.uint8)
    for centre in EYES:
        cv2.ellipse(frame, centre, (22, 15), 0, 0, 360, 255, 3)
    cv2.rectangle(frame, (93, 87), (107, 89), 255, -1)
    image[frame > 0] = (20, 20, 20)
    interior = cv2.erode(glasses, np.ones((13, 13), np.uint8)) > 0
    return image, labels, frame > 0, interior


def _mask(regions: tuple[str, ...] = FACE_REGIONS) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    image, labels, frame, interior = _scene()
    points = _points()
    face = face_region((SIZE, SIZE), points)
    skin = skin_statistics(image, np.where(labels == CLASSES.index("skin"), 255, 0).astype(np.uint8))
    mask = parsed_swap_mask(FaceParsing(labels), image, points, face, face, skin, regions)
    return mask > 0, labels, frame, interior


def test_the_glasses_frame_stays_the_targets_and_the_eyes_behind_the_lenses_are_swapped() -> None:
    mask, _, frame, interior = _mask()
    assert (~mask[frame]).mean() > 0.9  # the frame is put back from the target
    assert mask[interior].mean() > 0.9  # the lenses' inside (the eyes) is the source's
    for x, y in EYES:
        assert mask[y, x]


def test_glasses_frame_without_a_skin_model_still_has_the_rim_and_spares_the_eyes() -> None:
    image, labels, frame, interior = _scene()
    found = glasses_frame(FaceParsing(labels), image, _points(), None)
    assert found[frame].mean() > 0.8
    assert not found[interior].any()


def test_a_region_left_out_of_regions_stays_the_targets() -> None:
    lips = _scene()[1] == CLASSES.index("u_lip")
    assert _mask()[0][lips].all()
    assert not _mask(tuple(r for r in FACE_REGIONS if r != "lips"))[0][lips].any()


def test_unknown_regions_are_refused() -> None:
    with pytest.raises(ValueError, match="teeth"):
        SwapOptions(regions=("skin", "teeth"))
    with pytest.raises(ValueError):
        SwapOptions(regions=())


class _CountingParser:
    """Labels a square in the middle of every crop as nose; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def parse(self, crop: np.ndarray, size: int | None = None) -> FaceParsing:
        self.calls += 1
        labels = np.zeros(crop.shape[:2], dtype=np.uint8)
        h, w = labels.shape
        labels[h // 2 - 10 : h // 2 + 10, w // 2 - 10 : w // 2 + 10] = CLASSES.index("nose")
        return FaceParsing(labels)


def _nose_centre(parsing: FaceParsing) -> np.ndarray:
    ys, xs = np.nonzero(parsing.mask("nose"))
    return np.array([xs.mean(), ys.mean()])


def test_the_cadence_parses_every_nth_frame_and_carries_the_labels_with_the_landmarks() -> None:
    parser = _CountingParser()
    cadence = ParsingCadence(parser, every=8, size=64)  # type: ignore[arg-type]
    image = np.zeros((300, 400, 3), dtype=np.uint8)
    base = np.random.default_rng(0).uniform(120, 200, size=(478, 3)).astype(np.float32)
    window = (0, 0, 400, 300)
    centres = []
    for index in range(10):
        points = base + (3.0 * index, 0.0, 0.0)
        centres.append(_nose_centre(cadence.labels(image, points, 0, index, window)))
    assert parser.calls == 2  # frames 0 and 8
    # between parses the labels move with the face: 3 px a frame
    np.testing.assert_allclose(centres[5] - centres[0], (15.0, 0.0), atol=1.0)
    cadence.labels(image, base, 0, 20, window)  # a gap: parsed afresh
    assert parser.calls == 3
    scrambled = base.copy()
    scrambled[:, :2] = np.random.default_rng(1).uniform(120, 200, size=(478, 2))
    cadence.labels(image, scrambled, 0, 21, window)  # not an affine motion: parsed afresh
    assert parser.calls == 4
    cadence.labels(image, base + 1.0, 1, 22, window)  # another track has its own parse
    assert parser.calls == 5


@pytest.mark.parametrize("flags, message", [
    (["--parsing", "--regions", "skin,teeth"], "unknown face region 'teeth'"),
    (["--regions", "skin,nose"], "needs the face parser"),
])
def test_bad_regions_give_one_clear_error_exit_2_and_no_output(flags, message, source_photo, tmp_path) -> None:
    target = tmp_path / "target.png"
    write_image(target, np.full((64, 64, 3), 128, np.uint8))
    out = tmp_path / "out.png"
    result = run_cli("swap", str(source_photo), str(target), "-o", str(out), *flags)
    assert result.returncode == 2, result.stderr
    assert re.search(message, result.stderr)
    assert not out.exists()


def test_paste_back_puts_the_targets_pixels_back_only_where_kept() -> None:
    from tryon_cli.faceswap.runner import paste_back

    rendered = np.full((60, 60, 3), 200, np.uint8)
    target = np.full((60, 60, 3), 10, np.uint8)
    keep = np.zeros((60, 60), np.uint8)
    keep[20:40, 28:33] = 255  # a temple of the glasses, 5 px wide
    out = paste_back(rendered, target, keep)
    assert (out[25:35, 30] <= 30).all()
    assert (out[:, :20] == 200).all() and (out[:, 42:] == 200).all()


class _HairOnTopParser:
    """Labels every crop skin, with its top `share` as hair (a fringe)."""

    def __init__(self, share: float) -> None:
        self.share = share

    def parse(self, crop: np.ndarray, size: int | None = None) -> FaceParsing:
        labels = np.full(crop.shape[:2], CLASSES.index("skin"), dtype=np.uint8)
        labels[: int(crop.shape[0] * self.share)] = CLASSES.index("hair")
        return FaceParsing(labels)


def test_clean_source_keeps_the_parsers_hair_out_of_the_source_texture(source_photo) -> None:
    """`--clean-source`: what the parser calls hair over the source's face is not part of the usable
    texture (it is filled from the mirrored side or left to the target), unlike the same photo parsed as
    all skin."""
    from tryon_cli.faceswap.source import prepare_source
    from tryon_cli.io.media import read_image

    photo = [(source_photo, read_image(source_photo))]
    clean = prepare_source(photo, parser=_HairOnTopParser(0.0)).texture_mask
    fringe = prepare_source(photo, parser=_HairOnTopParser(0.45)).texture_mask
    assert clean is not None and fringe is not None and clean.shape == fringe.shape
    lost = (clean > 127) & (fringe <= 127)
    assert lost.sum() > 0.05 * (clean > 127).sum()
    rows = np.nonzero(lost)[0]
    kept_rows = np.nonzero(clean > 127)[0]
    assert np.median(rows) < np.median(kept_rows)  # what went is the upper face


def test_clean_source_reaches_the_swap(source_photo, talking_video, tmp_path) -> None:
    """The option is wired: with the real parser on the source photo, the swap's output differs from
    the default's (which does not parse the source)."""
    import av

    from tryon_cli.models.fetch import FACE_PARSER, model_path

    if not (model_path(FACE_PARSER) / "model.json").is_file():
        pytest.skip("the face parser is not installed (python -m tryon_cli.models.fetch)")
    frames = {}
    for name, extra in (("plain", []), ("clean", ["--clean-source"])):
        out = tmp_path / f"{name}.mp4"
        result = run_cli("swap", str(source_photo), str(talking_video), "-o", str(out), "--end", "0.2", "-q", *extra)
        assert result.returncode == 0, result.stderr
        with av.open(str(out)) as container:
            frames[name] = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    assert np.abs(frames["plain"] - frames["clean"]).max() > 20
