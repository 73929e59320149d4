"""Morphable model, source neutralisation, mirrored fill and per-frame source views."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_media
from tryon_cli.face3d import landmarks as lm
from tryon_cli.face3d.fitting import Pose, frontalize, normalized_shape, recombine
from tryon_cli.face3d.morphable import MorphableModel
from tryon_cli.face3d.raster import triangulate
from tryon_cli.face3d.unwrap import unwrap
from tryon_cli.faceswap.views import SWITCH_FRAMES, ViewSelector
from tryon_cli.render.contract import SourceView


@pytest.fixture(scope="module")
def model() -> MorphableModel:
    return MorphableModel.load()


@pytest.fixture(scope="module")
def astronaut_face(astronaut):
    from tryon_cli.analysis.face import FaceMeshAnalyzer

    with FaceMeshAnalyzer(1, tracking=False) as analyzer:
        face = analyzer.detect(astronaut)[0]
    return face.points


@pytest.fixture(scope="module")
def neutral(astronaut_face) -> np.ndarray:
    """The astronaut's mesh in her own frontal frame (eye distance 1)."""
    return frontalize(astronaut_face)


LOWER_INNER_LIP = np.array([95, 88, 178, 87, 14, 317, 402, 318, 324])


def _open_mouth(shape: np.ndarray, amount: float) -> np.ndarray:
    """Drop the jaw: points below the upper inner lip move down, the chin most (as a mouth opens)."""
    p = shape.copy()
    top, chin = p[lm.MOUTH_TOP, 1], p[lm.CHIN, 1]
    below = p[:, 1] > top + 1e-3
    weight = np.clip((p[:, 1] - top) / (chin - top), 0.0, 1.0) ** 0.3
    # closed lips: the lower inner lip lies level with the upper one, and must part from it
    below[LOWER_INNER_LIP] = True
    weight[LOWER_INNER_LIP] = np.maximum(weight[LOWER_INNER_LIP], 0.5)
    p[below, 1] += (amount * weight)[below]
    return p


def _brow_height(shape: np.ndarray) -> float:
    """Brows above the eye corners, in eye distances."""
    eyes = shape[[*lm.RIGHT_EYE_CORNERS, *lm.LEFT_EYE_CORNERS], 1].mean()
    return float(eyes - shape[np.concatenate([lm.RIGHT_BROW, lm.LEFT_BROW]), 1].mean())


def test_shipped_model_has_identity_and_expression_bases(model):
    assert 4 <= len(model.identity_basis) <= 20 and 8 <= len(model.expression_basis) <= 24
    # The strongest expression components move the mouth: the jaw dominates facial motion.
    first = np.linalg.norm(model.expression_basis[0], axis=1)
    assert first[[lm.MOUTH_BOTTOM, lm.CHIN]].mean() > 3 * first[lm.RIGID].mean()
    assert np.all(model.mirror[model.mirror] == np.arange(478)) or np.mean(model.mirror[model.mirror] == np.arange(478)) > 0.9


def test_model_rejects_a_basis_that_is_not_orthonormal(model):
    with pytest.raises(ValueError, match="orthonormal"):
        MorphableModel(model.mean, 2 * model.identity_basis, model.identity_variance, model.expression_basis,
                       model.expression_variance, model.noise_variance, model.mirror)


def test_neutralising_closes_an_opened_mouth(model, neutral):
    opened = _open_mouth(neutral, 0.35)
    assert lm.mouth_open_ratio(opened) > lm.mouth_open_ratio(neutral) + 0.3
    back = model.neutralise(opened)
    assert abs(lm.mouth_open_ratio(back) - lm.mouth_open_ratio(model.neutralise(neutral))) < 0.08
    # The skull keeps its shape: forehead, eye corners and nose barely move.
    assert np.abs(back[lm.RIGID] - neutral[lm.RIGID]).mean() < 0.03


def test_neutralising_lowers_raised_brows(model, neutral):
    raised = neutral.copy()
    brows = np.concatenate([lm.RIGHT_BROW, lm.LEFT_BROW])
    raised[brows, 1] -= 0.12
    back, rest = _brow_height(model.neutralise(raised)), _brow_height(model.neutralise(neutral))
    # 0.55 left: a new face's own shape is the fit's noise (people's rest faces differ that much), so neutralising
    # alone removes less of a brow raise; `rest_brows` moves the rest (tested below)
    assert abs(back - rest) < 0.65 * abs(_brow_height(raised) - rest)


def _signed_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = (points[triangles[:, k], :2] for k in range(3))
    return (b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0]


def test_a_raised_brow_neutralised_takes_the_skin_under_it_along(model, neutral):
    """A raised brow lifts the skin above the eyes with it; the expression bases move the brows' own
    points only, so neutralised they came down over the still skin under them and the triangles there
    turned inside out (the warp cut the brow's top off: portrait_dark_lowres). `spread_brows_onto_skin`
    carries the move onto that skin: no triangle round the brows folds, the eyes and rigid points stay."""
    from tryon_cli.face3d.morphable import BROWS, spread_brows_onto_skin

    eyes = np.concatenate([lm.RIGHT_EYE, lm.LEFT_EYE])
    raised = neutral.copy()
    above = neutral[:, 1] < neutral[eyes, 1].min()
    above[lm.RIGID] = above[eyes] = above[468:] = False
    raised[above, 1] -= 0.07  # brows and forehead up, as portrait_dark_lowres's
    # a neutralisation that brings the brows' own points down and leaves the skin round them (the model built
    # on rest identities reads most of this raise as identity and lowers it little, so the fold is made here)
    plain = raised.copy()
    plain[BROWS, 1] += 0.07
    spread = spread_brows_onto_skin(model, raised, plain)
    triangles = triangulate(raised[:468])
    near = triangles[np.isin(triangles, BROWS).any(axis=1)]
    before = _signed_areas(raised, near)
    assert (np.sign(_signed_areas(plain, near)) != np.sign(before)).sum() >= 3  # 12 fold without
    assert (np.sign(_signed_areas(spread, near)) == np.sign(before)).all()
    np.testing.assert_array_equal(spread[BROWS], plain[BROWS])
    kept = np.concatenate([eyes, lm.RIGID, np.arange(468, 478)])
    np.testing.assert_array_equal(spread[kept], plain[kept])
    below = neutral[:, 1] > neutral[eyes, 1].max()
    np.testing.assert_array_equal(spread[below], plain[below])


@pytest.mark.media
def test_a_raised_brow_photos_brows_are_warped_whole():
    """portrait_dark_lowres raises his brows: his neutral face's triangles round the brows, laid on his
    photo, keep their orientation (two folded there and the warp cut the brows' tops off)."""
    from tryon_cli.face3d.morphable import BROWS
    from tryon_cli.faceswap.source import prepare_source
    from tryon_cli.io.media import read_image

    path = shared_media("faces", "portrait_dark_lowres.png")
    source = prepare_source([(path, read_image(path))])
    near = source.triangles[np.isin(source.triangles, BROWS).any(axis=1)]
    assert len(near) > 40
    here, there = _signed_areas(source.identity_shape, near), _signed_areas(source.texture_points, near)
    assert (np.sign(here) == np.sign(there)).all()


def test_neutralising_never_reshapes_eyes_nose_or_outline(model, neutral):
    """Identity lives there: a person's eye opening, nose and upper face outline stay as photographed."""
    kept = np.concatenate([lm.RIGHT_EYE, lm.LEFT_EYE, lm.NOSTRILS, lm.RIGID])
    for shape in (neutral, _open_mouth(neutral, 0.35)):
        back = model.neutralise(shape)
        assert np.abs(back[kept] - shape[kept]).max() < 1e-4
        assert lm.eye_open_ratio(back) == pytest.approx(lm.eye_open_ratio(shape), abs=1e-4)


def test_recombined_mouth_follows_the_target_not_the_source_photo(model, neutral):
    source_photo = _open_mouth(neutral, 0.35)  # a screaming source
    target_identity = model.neutralise(model.mean)
    target_rest = target_identity.copy()
    old = recombine(source_photo, target_identity, target_rest)
    new = recombine(model.neutralise(source_photo), target_identity, target_rest)
    # The old split kept the source's open mouth on a target at rest: a double mouth.
    assert lm.mouth_open_ratio(old) > lm.mouth_open_ratio(target_rest) + 0.25
    assert abs(lm.mouth_open_ratio(new) - lm.mouth_open_ratio(target_rest)) < 0.08
    target_open = _open_mouth(target_identity, 0.25)
    opened = recombine(model.neutralise(source_photo), target_identity, target_open)
    assert lm.mouth_open_ratio(opened) > lm.mouth_open_ratio(new) + 0.15


@pytest.mark.media
def test_real_open_mouths_neutralise_to_the_persons_closed_mouth(model):
    """talking_frontal.mp4 is not in the shipped model's training set."""
    from tryon_cli.analysis.face import FaceMeshAnalyzer
    from tryon_cli.io.video import iter_frames

    path = shared_media("faces", "talking_frontal.mp4")
    meshes = []
    with FaceMeshAnalyzer(1, tracking=True) as analyzer:
        for frame in iter_frames(path, end=4.0):
            faces = analyzer.detect(frame.image)
            if faces:
                meshes.append(faces[0].points)
    reference = frontalize(meshes[0])
    shapes = [normalized_shape(reference, m)[1] for m in meshes]
    ratios = np.array([lm.mouth_open_ratio(s) for s in shapes])
    closed = np.median(ratios[ratios <= np.quantile(ratios, 0.2)])
    wide = [s for s, r in zip(shapes, ratios) if r >= np.quantile(ratios, 0.9)]
    assert np.median([lm.mouth_open_ratio(s) for s in wide]) > closed + 0.15
    # Neutral is the model's rest expression (lips barely parted): open and closed frames both go there.
    rest = np.median([lm.mouth_open_ratio(model.neutralise(s)) for s, r in zip(shapes, ratios) if r <= closed])
    neutralised = np.array([lm.mouth_open_ratio(model.neutralise(s)) for s in wide])
    assert np.median(np.abs(neutralised - rest)) < 0.06


def test_mirror_fill_replaces_a_hidden_side(model, astronaut, astronaut_face):
    image = astronaut.copy()
    points = astronaut_face.copy()
    midline = float(points[[1, 4, 6, 168], 0].mean())
    hidden = points[:, 0] > midline + 2
    # The far side turned away: squashed towards the midline (foreshortened) and painted green.
    points[hidden, 0] = midline + 0.15 * (points[hidden, 0] - midline)
    image[:, int(midline) + 2:] = (0, 255, 0)
    identity = frontalize(astronaut_face)
    triangles = triangulate(identity[:468])
    mask = np.full(image.shape[:2], 255, dtype=np.uint8)
    pose, _ = normalized_shape(identity, astronaut_face)
    result = unwrap(image, mask, points, identity, triangles, model.mirror, pose.scale, 200.0)
    canonical_mid = float(result.points[[1, 4, 6, 168], 0].mean())
    xs = np.arange(result.texture.shape[1])[None, :].repeat(result.texture.shape[0], 0)
    inside = result.mask > 0
    far = inside & (xs > canonical_mid + 25)
    near = inside & (xs < canonical_mid - 25)
    assert far.sum() > 500 and near.sum() > 500
    green = lambda px: np.mean((px[:, 1] > 200) & (px[:, 0] < 60))  # noqa: E731
    assert green(result.texture[far]) < 0.1  # the far side comes from the visible side, not the green paint
    assert abs(result.texture[far].mean() - result.texture[near].mean()) < 25  # brightness matched
    assert result.own_weight[far].mean() < 0.2 and result.own_weight[near].mean() > 0.9


def test_views_follow_the_head_turn_with_hysteresis():
    points = np.zeros((478, 3), dtype=np.float32)
    views = tuple(SourceView(points + i, yaw=yaw, pitch=0.0, expression=np.zeros(4)) for i, yaw in enumerate((-30.0, 0.0, 30.0)))
    select = ViewSelector(views, np.ones(4))

    def turned(yaw: float) -> Pose:
        a = np.radians(yaw)
        rotation = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        return Pose(1.0, rotation, np.zeros(3))

    expression = np.zeros(4)
    assert select(turned(2.0), expression)[0, 0] == 1  # frontal
    assert Pose(1.0, turned(28.0).rotation, np.zeros(3)).euler_degrees()[0] == pytest.approx(28.0, abs=0.1)
    assert select(turned(28.0), expression)[0, 0] == 1  # one frame of a turn does not switch yet
    for _ in range(SWITCH_FRAMES):
        chosen = select(turned(28.0), expression)
    assert chosen[0, 0] == 2


def test_source_mouth_interior_is_never_pasted_and_photos_share_one_texture(astronaut):
    """The astronaut smiles with her teeth showing: they must not reach the output (a double mouth)."""
    from pathlib import Path

    from tryon_cli.faceswap.source import prepare_source
    from tryon_cli.masks.shapes import polygon_mask

    def teeth_usable(source) -> float:
        inside = polygon_mask(source.texture_mask.shape, source.texture_points[lm.INNER_LIPS]) > 0
        assert inside.sum() > 20
        return float((source.texture_mask[inside] > 0).mean())

    photo = (Path("astronaut.png"), astronaut)
    assert teeth_usable(prepare_source([photo], neutralise=False)) > 0.5  # as photographed: teeth pasted
    one = prepare_source([photo])
    assert teeth_usable(one) < 0.05
    two = prepare_source([photo, (Path("flipped.png"), np.ascontiguousarray(astronaut[:, ::-1]))])
    width = one.texture.shape[1]
    assert two.texture.shape[1] == 2 * width and len(two.views) == 2
    # Each view's points lie on its own photo inside the shared texture.
    assert (two.views[0].texture_points[:, 0] < width).all() and (two.views[1].texture_points[:, 0] >= width).all()
    assert two.views[0].yaw == pytest.approx(-two.views[1].yaw, abs=3.0)  # the mirrored photo turns the other way


def test_a_scowls_brows_are_put_at_rest_where_the_rest_of_the_face_says(model, neutral):
    """Brows lowered and drawn in (a scowl): neutralising removes part of it; `rest_brows` moves the brows
    the rest of the way to where a face at rest has them (the model's mean face on the rigid points), the
    skin between the brows and the forehead follows, the eyes and rigid points stay; strength 0 leaves the
    neutral face as it is."""
    from tryon_cli.face3d.morphable import BROWS, population_rest, rest_brows

    scowl = neutral.copy()
    centre = neutral[lm.RIGID, 0].mean()
    scowl[BROWS, 1] += 0.12  # lowered
    scowl[BROWS, 0] -= 0.08 * np.sign(neutral[BROWS, 0] - centre)  # drawn together
    rest = population_rest(model, scowl)
    offset = lambda s: float(np.abs(s[BROWS, :2] - rest[BROWS, :2]).mean())  # noqa: E731
    assert offset(model.neutralise(scowl)) < offset(scowl)  # neutralising removes some of it
    # the mechanism, on a neutral face that kept the whole scowl
    plain = scowl.copy()
    at_rest = rest_brows(model, scowl, plain, 1.0)
    assert offset(at_rest) < 0.2 * offset(plain)
    half = rest_brows(model, scowl, plain, 0.5)
    np.testing.assert_allclose(half[BROWS, :2], (plain[BROWS, :2] + at_rest[BROWS, :2]) / 2, atol=1e-5)  # half way
    assert rest_brows(model, scowl, plain, 0.0) is plain
    kept = np.concatenate([lm.RIGHT_EYE, lm.LEFT_EYE, lm.RIGID, np.arange(468, 478)])
    np.testing.assert_allclose(at_rest[kept], plain[kept], atol=1e-5)
    # the forehead just above the brows follows them up; the lower face does not move
    above = [i for i in (104, 69, 108, 151, 337, 299, 333) if i not in lm.RIGID]
    lift = lambda i: float((plain[i, 1] - at_rest[i, 1]).mean())  # noqa: E731
    assert 0.2 * lift(BROWS) < lift(above) < lift(BROWS)
    np.testing.assert_array_equal(at_rest[lm.OUTER_LIPS], plain[lm.OUTER_LIPS])


def _mouth_width(shape: np.ndarray) -> float:
    return float(np.linalg.norm(shape[61, :2] - shape[291, :2]))


def test_tolerance_keeps_a_narrow_mouth_and_still_closes_an_open_one(model, neutral):
    """Lips squeezed toward their middle (a synthetic narrowing, half of which reads as an expression to
    any model: a pucker): full neutralising takes part of it back; with a tolerance the width stays, and an
    opened mouth closes."""
    narrow = neutral.copy()
    lips = np.concatenate([lm.OUTER_LIPS, lm.INNER_LIPS])
    middle = narrow[lips, 0].mean()
    narrow[lips, 0] = middle + 0.8 * (narrow[lips, 0] - middle)
    full = model.neutralise(narrow)
    # each against the same neutralising of the unchanged face, so only the narrowing counts
    kept_full = _mouth_width(model.neutralise(neutral)) - _mouth_width(full)
    kept = _mouth_width(model.neutralise(neutral, tolerance=1.5)) - _mouth_width(model.neutralise(narrow, tolerance=1.5))
    narrowed = _mouth_width(neutral) - _mouth_width(narrow)
    assert kept_full < 0.7 * narrowed  # full neutralising takes part of the narrowing for expression (0.52 kept)
    assert kept > 0.8 * narrowed
    opened = _open_mouth(neutral, 0.35)
    back = model.neutralise(opened, tolerance=1.5)
    rest = model.neutralise(neutral, tolerance=1.5)
    assert abs(lm.mouth_open_ratio(back) - lm.mouth_open_ratio(rest)) < 0.08
    assert np.array_equal(model.neutralise(narrow, tolerance=0.0), full)


def test_swap_options_reject_a_negative_identity_tolerance():
    from tryon_cli.faceswap.options import SwapOptions

    with pytest.raises(ValueError, match="identity_tolerance"):
        SwapOptions(identity_tolerance=-1.0)
    assert SwapOptions(identity_tolerance=1.5).identity_tolerance == 1.5


def _lower_face(shape: np.ndarray) -> tuple[float, float, float]:
    """Mouth width (outer corners), lip thickness (both lips' outer to inner middles), chin length (lower
    lip's outer middle to the chin), eye distances."""
    width = float(np.linalg.norm(shape[61, :2] - shape[291, :2]))
    lips = float((shape[13, 1] - shape[0, 1]) + (shape[17, 1] - shape[14, 1]))
    return width, lips, float(shape[lm.CHIN, 1] - shape[17, 1])


@pytest.mark.media
def test_a_neutralised_photo_keeps_its_own_lower_face_and_closes_an_open_mouth(model):
    """Closed-mouthed portraits keep their own mouth width, lips and chin when their expression is removed
    (the earlier model set them to its mean: portrait_b's mouth 0.445 -> 0.583 wide); open mouths (a
    scream, a laugh, a toothy smile) come out closed."""
    from tryon_cli.analysis.face import FaceMeshAnalyzer
    from tryon_cli.io.media import read_image

    def shape_of(name: str) -> np.ndarray:
        with FaceMeshAnalyzer(1, tracking=False) as analyzer:
            points = analyzer.detect(read_image(shared_media("faces", name)))[0].points
        return normalized_shape(frontalize(points), points)[1]

    changes = []
    for name in ("portrait_a.png", "portrait_b.png", "portrait_side_light.jpg"):
        shape = shape_of(name)
        changes.append(np.abs(np.subtract(_lower_face(model.neutralise(shape)), _lower_face(shape))))
    width, lips, chin = np.max(changes, axis=0)
    assert width < 0.03 and lips < 0.02  # b's narrow mouth stays narrow
    assert np.mean(changes, axis=0)[2] < 0.03  # chins (the weakest: 0.04 on b)
    for name in ("portrait_anger.png", "portrait_fringe_laughing.jpg", "portrait_c.png"):
        shape = shape_of(name)
        assert lm.mouth_open_ratio(shape) > 0.14
        assert lm.mouth_open_ratio(model.neutralise(shape)) < 0.05


def _brow_bend(shape: np.ndarray, rest: np.ndarray) -> float:
    """How far the brows' shape is from a resting brow's, their place aside: each brow's offset from
    `rest` less its mean offset (eye distances, mean over points)."""
    from tryon_cli.face3d.morphable import BROWS

    offset = (shape - rest)[BROWS, :2]
    sides = len(lm.RIGHT_BROW)
    return float(np.mean([np.linalg.norm(offset[p] - offset[p].mean(axis=0), axis=1).mean()
                          for p in (slice(0, sides), slice(sides, None))]))


def test_a_scowls_v_is_unbent_where_the_brows_are(model, neutral):
    """A scowl's V (each brow's inner end pulled down and in, its outer end up): `calm_brows` gives each
    brow a resting brow's shape and keeps its place (the mean point of each brow: the person's brow
    height and spacing); the skin above follows, the eyes, rigid points and lips stay."""
    from tryon_cli.face3d.morphable import BROWS, calm_brows, population_rest

    centre = neutral[lm.RIGID, 0].mean()
    side = np.sign(neutral[BROWS, 0] - centre)
    inward = np.abs(neutral[BROWS, 0] - centre)
    inward = (inward.max() - inward) / np.ptp(inward)  # 1 at the inner ends, 0 at the outer
    scowl = neutral.copy()
    scowl[BROWS, 1] += 0.16 * (inward - inward.mean()) - 0.03  # V: inner ends down, outer up; brows a bit high
    scowl[BROWS, 0] -= 0.05 * side * (inward - inward.mean())  # inner ends drawn together
    rest = population_rest(model, scowl)
    calm = calm_brows(model, scowl, scowl, 1.0)
    assert _brow_bend(calm, rest) < 0.35 * _brow_bend(scowl, rest)
    sides = len(lm.RIGHT_BROW)
    for part in (BROWS[:sides], BROWS[sides:]):  # each brow stays where it was (its height: identity)
        np.testing.assert_allclose(calm[part, :2].mean(axis=0), scowl[part, :2].mean(axis=0), atol=2e-3)
    inner = [55, 107, 285, 336]
    assert (calm[inner, 1] < scowl[inner, 1] - 0.03).all()  # the inner ends come up
    kept = np.concatenate([lm.RIGHT_EYE, lm.LEFT_EYE, lm.RIGID, np.arange(468, 478)])
    np.testing.assert_allclose(calm[kept], scowl[kept], atol=1e-5)
    np.testing.assert_array_equal(calm[lm.OUTER_LIPS], scowl[lm.OUTER_LIPS])
    assert calm_brows(model, scowl, scowl, 0.0) is scowl


def test_a_scowling_photos_neutral_brows_are_unbent_and_calm_photos_keep_theirs(model, monkeypatch):
    """portrait_anger's neutral face (the source identity every frame is built on) has brows of a resting
    shape, the scowl's V gone (it read angry on every frame, whatever the target did); portrait_a and
    portrait_c (no scowl) keep their own brows exactly (as without `calm_brows`)."""
    from tryon_cli.analysis.face import FaceMeshAnalyzer
    from tryon_cli.face3d.morphable import population_rest
    from tryon_cli.faceswap import source
    from tryon_cli.faceswap.source import _neutral_shape
    from tryon_cli.io.media import read_image

    def shape_of(name: str) -> np.ndarray:
        with FaceMeshAnalyzer(1, tracking=False) as analyzer:
            points = analyzer.detect(read_image(shared_media("faces", name)))[0].points
        return normalized_shape(frontalize(points), points)[1]

    anger = shape_of("portrait_anger.png")
    rest = population_rest(model, anger)
    assert _brow_bend(anger, rest) > 0.015  # the photo's V (0.018)
    assert _brow_bend(_neutral_shape(model, anger), rest) < 0.004  # neutralising alone left 0.013
    calm = [_neutral_shape(model, shape_of(name)) for name in ("portrait_a.png", "portrait_c.png")]
    monkeypatch.setattr(source, "BROW_CALM_SHARE", 0.0)
    for name, neutral in zip(("portrait_a.png", "portrait_c.png"), calm):
        np.testing.assert_array_equal(neutral, _neutral_shape(model, shape_of(name)))
