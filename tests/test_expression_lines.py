"""A scowling or squinting source photo: its upper-face lines are softened before they reach the output."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import shared_media
from tryon_cli.face3d import landmarks as lm
from tryon_cli.face3d.morphable import MorphableModel
from tryon_cli.faceswap.expression_lines import expression_strength, line_zones, soften_lines


@pytest.fixture(scope="module")
def model() -> MorphableModel:
    return MorphableModel.load()


@pytest.fixture(scope="module")
def astronaut_points(astronaut) -> np.ndarray:
    from tryon_cli.analysis.face import FaceMeshAnalyzer

    with FaceMeshAnalyzer(1, tracking=False) as analyzer:
        return analyzer.detect(astronaut)[0].points


def _with_lines(image: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`image` with a dark 2-pixel furrow drawn between the brows (from the nasion up) and a crow's foot
    drawn outward from the right eye's outer corner, and the two lines' masks."""
    width = float(np.ptp(points[lm.FACE_OVAL, 0]))
    furrow, foot = np.zeros(image.shape[:2], np.uint8), np.zeros(image.shape[:2], np.uint8)
    nasion = points[168, :2]
    cv2.line(furrow, tuple(np.round(nasion).astype(int)), tuple(np.round(nasion - (0, 0.1 * width)).astype(int)), 255, 2)
    corner, inner = points[33, :2], points[133, :2]
    outward = (corner - inner) / np.linalg.norm(corner - inner)
    start = corner + outward * 0.03 * width
    cv2.line(foot, tuple(np.round(start).astype(int)), tuple(np.round(start + outward * 0.06 * width + (0, 0.02 * width)).astype(int)), 255, 2)
    darker = image.astype(np.float32) * np.where((furrow | foot) > 0, 0.55, 1.0)[..., None]
    return darker.astype(np.uint8), furrow > 0, foot > 0


def _depth(image: np.ndarray, line: np.ndarray) -> float:
    """How much darker the line is than the skin just beside it (grey levels)."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    u8 = line.astype(np.uint8)
    beside = (cv2.dilate(u8, np.ones((9, 9), np.uint8)) > 0) & ~(cv2.dilate(u8, np.ones((5, 5), np.uint8)) > 0)
    return float(grey[beside].mean() - grey[line].mean())


def test_expression_strength_is_zero_at_rest_and_one_for_a_strong_expression(model):
    assert expression_strength(model, model.mean) == 0.0
    # every expression component at three prior standard deviations: far from neutral
    strong = model.mean + np.tensordot(3 * np.sqrt(model.expression_variance), model.expression_basis, axes=1)
    assert expression_strength(model, strong) == 1.0
    # a pose does not count: the same face turned and scaled measures the same
    angle = np.radians(20)
    turn = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    assert expression_strength(model, 150 * strong @ turn.T + 300) == pytest.approx(1.0)


def test_scowl_strength_measures_the_brows_away_from_rest_and_nothing_else(model):
    """Brows lowered and drawn in (a scowl) measure 1; the mouth opened wide (a laugh) with the brows at rest
    measures 0, however strong that expression is."""
    from tryon_cli.face3d.morphable import BROWS
    from tryon_cli.faceswap.expression_lines import scowl_strength

    assert scowl_strength(model, model.mean) == 0.0
    scowl = model.mean.copy()
    centre = model.mean[lm.RIGID, 0].mean()
    scowl[BROWS, 1] += 0.08
    scowl[BROWS, 0] -= 0.05 * np.sign(model.mean[BROWS, 0] - centre)
    assert scowl_strength(model, scowl) == 1.0
    laugh = model.mean + 6 * np.sqrt(model.expression_variance[0]) * model.expression_basis[0]  # the jaw's component
    laugh[BROWS] = model.mean[BROWS]  # (talkers raise their brows as the jaw drops: the component lifts them too)
    assert expression_strength(model, laugh) > 0.0 and scowl_strength(model, laugh) < 0.2


def test_softening_takes_the_furrow_and_crows_foot_out_and_leaves_the_features(astronaut, astronaut_points):
    photo, furrow, foot = _with_lines(astronaut, astronaut_points)
    assert _depth(photo, furrow) > 20 and _depth(photo, foot) > 20
    soft = soften_lines(photo, astronaut_points, 1.0, 1.0)
    assert _depth(soft, furrow) < 0.75 * _depth(photo, furrow)  # 0.64 (SCOWL_SHARE of its band)
    assert _depth(soft, foot) < 0.8 * _depth(photo, foot)
    # the scowl share only: the crow's foot stays, the furrow goes
    scowl_only = soften_lines(photo, astronaut_points, 1.0, 0.0)
    assert _depth(scowl_only, foot) == pytest.approx(_depth(photo, foot), abs=0.5)
    assert _depth(scowl_only, furrow) < 0.75 * _depth(photo, furrow)
    # eyes, brows and lips are the photo's own; below the nose nothing changes
    width = float(np.ptp(astronaut_points[lm.FACE_OVAL, 0]))
    features = np.zeros(photo.shape[:2], np.uint8)
    for loop in (lm.RIGHT_EYE, lm.LEFT_EYE, lm.OUTER_LIPS):
        cv2.fillPoly(features, [np.round(astronaut_points[loop, :2]).astype(np.int32)], 255)
    for brow in (lm.RIGHT_BROW, lm.LEFT_BROW):
        cv2.fillConvexPoly(features, cv2.convexHull(np.round(astronaut_points[brow, :2]).astype(np.int32)), 255)
    features = cv2.erode(features, np.ones((3, 3), np.uint8)) > 0
    assert np.abs(soft[features].astype(int) - photo[features]).mean() < 1.0
    below = np.zeros(photo.shape[:2], bool)
    below[int(astronaut_points[2, 1] + 0.02 * width):] = True
    assert np.array_equal(soft[below], photo[below])
    assert soften_lines(photo, astronaut_points, 0.0, 0.0) is photo


def test_zones_cover_the_glabella_and_the_eyes_corners_not_the_cheeks(astronaut, astronaut_points):
    width = float(np.ptp(astronaut_points[lm.FACE_OVAL, 0]))
    from tryon_cli.masks.face import feature_regions

    scowl, eyes, _ = line_zones(astronaut.shape[:2], astronaut_points, width)
    features = feature_regions(astronaut.shape[:2], astronaut_points, 0) > 0
    at = lambda w, i, d=(0.0, 0.0): float(w[tuple(np.round(astronaut_points[i, 1::-1] + d[::-1]).astype(int))])  # noqa: E731
    assert at(scowl, 168, (0, -0.03 * width)) > 0.5  # just above the nasion
    assert at(eyes, 33, (-0.06 * width, 0)) > 0.5 or at(eyes, 33, (0.06 * width, 0)) > 0.5  # beside the corner
    assert at(scowl, 50) == 0.0 and at(eyes, 50) < 0.05  # the cheek's middle
    assert not scowl[features].any() and not eyes[features].any()


@pytest.mark.media
def test_a_scowling_portrait_loses_its_furrows_and_a_neutral_one_is_untouched(model):
    """portrait_anger: the band between the brows and over the nose's root is weaker in the source texture
    than in the photo; portrait_a (neutral) measures 0 and keeps every pixel."""
    from tryon_cli.faceswap.source import prepare_source
    from tryon_cli.io.media import read_image

    angry = shared_media("faces", "portrait_anger.png")
    image = read_image(angry)
    source = prepare_source([(angry, image)], model=model)
    points = source.texture_points
    width = float(np.ptp(points[lm.FACE_OVAL, 0]))
    zone = line_zones(image.shape[:2], points, width)[0] > 0.7
    grey = lambda im: cv2.cvtColor(im, cv2.COLOR_RGB2GRAY).astype(np.float32)  # noqa: E731
    band = lambda im: (cv2.GaussianBlur(grey(im), (0, 0), 0.005 * width) - cv2.GaussianBlur(grey(im), (0, 0), 0.06 * width))[zone].std()  # noqa: E731
    assert band(source.texture) < 0.75 * band(image)
    still = shared_media("faces", "portrait_a.png")
    plain = read_image(still)
    assert np.array_equal(prepare_source([(still, plain)], model=model).texture, plain)


@pytest.mark.media
def test_a_scowling_portraits_identity_has_its_brows_at_rest(model):
    """portrait_anger's source identity (its neutral shape) has the brows part of the way to where the rest
    of its face puts them (`rest_brows`), not where the glare lifted and bunched them."""
    from tryon_cli.analysis.face import FaceMeshAnalyzer
    from tryon_cli.face3d.fitting import frontalize, normalized_shape
    from tryon_cli.face3d.morphable import BROWS
    from tryon_cli.faceswap.source import prepare_source
    from tryon_cli.io.media import read_image

    angry = shared_media("faces", "portrait_anger.png")
    image = read_image(angry)
    with FaceMeshAnalyzer(1, tracking=False) as analyzer:
        points = analyzer.detect(image)[0].points
    shape = normalized_shape(frontalize(points), points)[1]
    fitted = model.fit(shape, ignore=BROWS)
    rest = fitted.pose.apply(model.mean + np.tensordot(fitted.identity, model.identity_basis, axes=1))
    identity = prepare_source([(angry, image)], model=model).identity_shape
    distance = lambda s: float(np.linalg.norm((s - rest)[BROWS, :2], axis=1).mean())  # noqa: E731
    assert distance(identity) < 0.9 * distance(model.neutralise(shape))  # BROW_REST_SHARE of the way


def test_a_scowls_deep_furrows_go_and_the_skins_fine_texture_stays(astronaut, astronaut_points):
    """A scowl's furrows between the brows (broad, many times deeper than the skin's usual detail) are
    flattened nearly away, not only weakened: at 0.64 of their depth the output still read angry. The
    skin's fine texture there stays (a waxy glabella)."""
    astronaut = cv2.resize(astronaut, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)  # a photo's face size
    astronaut_points = astronaut_points * np.float32(3)
    width = float(np.ptp(astronaut_points[lm.FACE_OVAL, 0]))
    nasion = astronaut_points[168, :2]
    furrows = np.zeros(astronaut.shape[:2], np.uint8)
    for side in (-1, 1):
        top = nasion + (side * 0.03 * width, -0.12 * width)
        cv2.line(furrows, tuple(np.round(nasion + (side * 0.02 * width, 0)).astype(int)),
                 tuple(np.round(top).astype(int)), 255, max(int(0.01 * width), 2))
    shade = cv2.GaussianBlur(furrows.astype(np.float32) / 255, (0, 0), 0.008 * width)
    grain = np.random.default_rng(5).normal(0, 5, astronaut.shape[:2]).astype(np.float32)
    photo = np.clip(astronaut.astype(np.float32) * (1 - 0.45 * shade)[..., None] + grain[..., None], 0, 255).astype(np.uint8)
    line = furrows > 0
    assert _depth(photo, line) > 20
    soft = soften_lines(photo, astronaut_points, 1.0, 0.0)
    assert _depth(soft, line) < 0.4 * _depth(photo, line)
    # the grain beside the furrows, on the forehead's middle, is kept
    scowl, _, _ = line_zones(astronaut.shape[:2], astronaut_points, width)
    calm = (scowl > 0.9) & (cv2.dilate(furrows, np.ones((15, 15), np.uint8)) == 0)
    assert calm.sum() > 100

    def fine(image: np.ndarray) -> np.ndarray:
        grey = image.astype(np.float32).mean(axis=2)
        return grey - cv2.GaussianBlur(grey, (0, 0), 1.5)

    assert fine(soft)[calm].std() > 0.55 * fine(photo)[calm].std()
