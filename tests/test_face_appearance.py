"""Face appearance in the classical swap: chroma-weighted skin colour, sharpness and grain matching."""

from __future__ import annotations

import cv2
import numpy as np

from tryon_cli.colour import is_colourless, lab_statistics, skin_colour_statistics
from tryon_cli.render.classical.grain import HIGH, LOW, MAX_GRAIN_STD, laplacian_variance, match_sharpness, texture_grain

SKIN = (200, 150, 120)


def _ratio(patch: np.ndarray, target: np.ndarray, region: np.ndarray) -> float:
    def grey(image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)

    return laplacian_variance(grey(patch), region) / laplacian_variance(grey(target), region)


def _textured(seed: int, blur: float, amplitude: float = 25.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = np.clip(np.array(SKIN, np.float32) + rng.normal(0, amplitude, (120, 120, 1)), 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(image, (0, 0), blur) if blur > 0 else image


def test_grey_beard_does_not_pull_the_skin_colour_grey():
    image = np.zeros((100, 100, 3), np.uint8)
    image[:50] = SKIN
    image[50:] = (90, 90, 90)  # a grey beard over half the sampled skin
    region = np.full((100, 100), 255, np.uint8)
    skin_only = lab_statistics(image[:50], region[:50])
    weighted = skin_colour_statistics(image, region)
    plain = skin_colour_statistics(image, region, chroma_weighted=False)
    assert np.abs(weighted[0, 1:] - skin_only[0, 1:]).max() < 1.0
    assert np.abs(plain[0, 1:] - skin_only[0, 1:]).max() > 3.0
    assert not is_colourless(weighted)


def test_a_black_and_white_photo_is_colourless_and_still_has_statistics():
    grey = cv2.cvtColor(cv2.cvtColor(_textured(0, 1.0), cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    stats = skin_colour_statistics(grey, np.full(grey.shape[:2], 255, np.uint8))
    assert stats is not None and is_colourless(stats)
    assert abs(stats[0, 0] - lab_statistics(grey, np.full(grey.shape[:2], 255, np.uint8))[0, 0]) < 1.0


def test_a_sharp_face_is_blurred_into_range_and_a_soft_one_gets_grain():
    region = np.zeros((120, 120), np.uint8)
    region[10:110, 10:110] = 255
    ys, xs = np.mgrid[0:120, 0:120].astype(np.float32)
    coords = np.dstack([xs * 1.3 + 5, ys * 1.3 + 7])
    grain = texture_grain(coords, 1.3)
    sharp, soft_target = _textured(1, 0.0), _textured(2, 1.2)
    assert _ratio(sharp, soft_target, region) > HIGH
    assert LOW * 0.9 <= _ratio(match_sharpness(sharp, soft_target, region, grain), soft_target, region) <= HIGH * 1.1
    soft, sharp_target = _textured(3, 2.0), _textured(4, 0.6, amplitude=6.0)
    assert _ratio(soft, sharp_target, region) < LOW
    assert _ratio(match_sharpness(soft, sharp_target, region, grain), sharp_target, region) >= LOW * 0.9
    assert np.array_equal(match_sharpness(soft, sharp_target, region, None), soft)  # grain off: soft stays soft
    # A very grainy frame gets at most MAX_GRAIN_STD of grain: better soft than dirty.
    grainy = match_sharpness(soft, _textured(4, 0.0, amplitude=40.0), region, grain)
    assert (grainy.astype(float) - soft)[region > 0].std() <= MAX_GRAIN_STD + 0.5
    # Already in range: untouched, bit for bit.
    fitting = _textured(5, 0.8)
    assert LOW < _ratio(fitting, _textured(6, 0.8), region) < HIGH
    assert np.array_equal(match_sharpness(fitting, _textured(6, 0.8), region, grain), fitting)


def test_grain_is_fixed_to_the_texture_not_the_screen():
    ys, xs = np.mgrid[0:40, 0:40].astype(np.float32)
    coords = np.dstack([xs + 10.25, ys + 3.5])
    moved = texture_grain(np.dstack([xs + 12.25, ys + 3.5]), 1.0)  # the face moved 2 pixels left on screen
    grain = texture_grain(coords, 1.0)
    assert np.allclose(moved[:, :-2], grain[:, 2:])
    assert np.array_equal(grain, texture_grain(coords, 1.0))
    assert 0.2 < grain.std() < 0.6
    assert not texture_grain(np.full((4, 4, 2), -1, np.float32), 1.0).any()


def test_a_black_and_white_source_takes_the_targets_skin_tone_with_a_warning(astronaut, source_photo, tmp_path):
    """insightface's Tom Hanks photo is grey (R = G = B): the swapped skin must be the target's skin tone,
    with no grey-green patch where the source's bright forehead and nose were brightened (a highlight
    clipped to white, then darkened by the shading match)."""
    from tryon_cli.analysis.face import FaceMeshAnalyzer
    from tryon_cli.io.media import read_image, write_image
    from tryon_cli.masks.face import skin_sample_region
    from tryon_cli.metrics import cheek_delta_e

    from conftest import run_cli

    target = tmp_path / "astronaut.png"
    write_image(target, astronaut)
    out = tmp_path / "out.png"
    result = run_cli("swap", str(source_photo), str(target), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "no colour" in result.stderr
    swapped = read_image(out)
    with FaceMeshAnalyzer(1, tracking=False) as mesh:
        target_points, swapped_points = mesh.detect(astronaut)[0].points, mesh.detect(swapped)[0].points
    assert cheek_delta_e(swapped, astronaut, swapped_points, target_points) < 6.0

    def redness(image: np.ndarray, points: np.ndarray) -> float:  # Lab a*, 10th percentile over the skin
        lab = cv2.cvtColor(cv2.GaussianBlur(image, (0, 0), 2), cv2.COLOR_RGB2LAB)
        return float(np.percentile(lab[..., 1][skin_sample_region(image.shape[:2], points) > 0], 10))

    assert redness(swapped, swapped_points) > redness(astronaut, target_points) - 3.0


def test_relight_replaces_a_side_light_by_the_targets_light():
    """A sphere lit from the left, relit toward a sphere lit from the right, ends up lit from the right."""
    from tryon_cli.render.classical.relight import relight

    ys, xs = np.mgrid[-1:1:128j, -1:1:128j]
    inside = xs ** 2 + ys ** 2 < 0.9
    z = np.sqrt(np.clip(1 - xs ** 2 - ys ** 2, 0, 1))
    normals = np.dstack([xs, -ys, z]).astype(np.float32)

    def lit(direction: tuple[float, float, float]) -> np.ndarray:
        shade = np.clip(normals @ np.array(direction), 0, 1) * 0.6 + 0.4
        return np.clip(np.array(SKIN, np.float32) * shade[..., None], 0, 255).astype(np.uint8)

    left, right = lit((-0.7, 0, 0.7)), lit((0.7, 0, 0.7))
    region = np.where(inside, 255, 0).astype(np.uint8)
    out = relight(left, right, normals, region, region)
    grey = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(float)
    assert grey[64, 100] > grey[64, 28] + 10  # now brighter on the right (as far as MAX_RATIO lets it)
    before = np.abs(left.astype(float) - right)[inside].mean()
    assert np.abs(out.astype(float) - right)[inside].mean() < 0.5 * before


def _eye_points(centres: list[tuple[float, float]], half_width: float, iris_offset: float) -> np.ndarray:
    """478 landmarks with only the eyes set: elliptic openings, corners, lids, irises moved by
    `iris_offset` eye widths along the corner line."""
    from tryon_cli.face3d import landmarks as lm

    points = np.zeros((478, 3), np.float32)
    for loop, lids, corners, iris, (cx, cy) in (
            (lm.RIGHT_EYE, lm.RIGHT_EYE_LIDS, lm.RIGHT_EYE_CORNERS, lm.RIGHT_IRIS, centres[0]),
            (lm.LEFT_EYE, lm.LEFT_EYE_LIDS, lm.LEFT_EYE_CORNERS, lm.LEFT_IRIS, centres[1])):
        angles = np.linspace(0, 2 * np.pi, len(loop), endpoint=False)
        points[loop, 0], points[loop, 1] = cx + half_width * np.cos(angles), cy + 0.45 * half_width * np.sin(angles)
        points[list(corners), :2] = [(cx - half_width, cy), (cx + half_width, cy)]
        points[list(lids), :2] = [(cx, cy - 0.45 * half_width), (cx, cy + 0.45 * half_width)]
        ix = cx + iris_offset * 2 * half_width
        points[iris[0], :2] = (ix, cy)
        points[iris[1:], :2] = [(ix + 0.4 * half_width, cy), (ix, cy - 0.4 * half_width),
                                (ix - 0.4 * half_width, cy), (ix, cy + 0.4 * half_width)]
    return points


def test_gaze_moves_the_sources_own_iris_to_where_the_target_looks():
    from tryon_cli.render.classical.eyes import shift_gaze

    here = _eye_points([(40, 50), (120, 50)], 20, 0.0)  # the swapped face: irises centred
    warped = np.full((100, 160, 3), 200, np.uint8)
    for cx in (40, 120):
        cv2.ellipse(warped, (cx, 50), (20, 9), 0, 0, 360, (245, 245, 245), -1)
        cv2.circle(warped, (cx, 50), 8, (60, 90, 160), -1)  # a blue iris: the source's own
    target = _eye_points([(300, 200), (380, 200)], 20, 0.2)  # elsewhere in the frame, looking aside
    out, changed = shift_gaze(warped, here, here, target)
    for cx in (40, 120):
        row = out[50, cx - 20 : cx + 20].astype(int)
        iris = np.nonzero(row[:, 2] - row[:, 0] > 50)[0]  # blue pixels
        assert abs(float(iris.mean()) - 20 - 8) <= 1.5  # 0.2 eye widths = 8 px toward the second corner
        assert row[8, 0] > 200  # where the iris was, white again
    assert np.array_equal(out[changed == 0], warped[changed == 0]) and changed[5, 5] == 0


def test_transfer_skin_calms_a_blotchy_sources_chroma_and_keeps_a_calm_ones():
    from tryon_cli.colour import MIN_CHROMA_SPREAD, transfer_skin

    rng = np.random.default_rng(0)
    region = np.full((80, 80), 255, np.uint8)
    target_stats = np.array([[180, 140, 145], [20, 3, 3]], np.float32)  # the source's mean skin colour too
    target = cv2.cvtColor(np.full((80, 80, 3), (180, 140, 145), np.uint8), cv2.COLOR_LAB2RGB)  # its pixels, too
    for spread, expected in ((12.0, max(3 / 12, MIN_CHROMA_SPREAD)), (2.0, 1.0)):
        lab = np.dstack([np.full((80, 80), 150.0), 140 + rng.normal(0, spread, (80, 80)), np.full((80, 80), 145.0)])
        image = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
        stats = skin_colour_statistics(image, region, chroma_weighted=False)
        out = cv2.cvtColor(transfer_skin(image, stats, target_stats, target, region, region, sigma=8.0), cv2.COLOR_RGB2LAB)
        a = out[..., 1].astype(float)
        assert abs(a.mean() - 140) < 1.0
        assert abs(a.std() / (stats[1, 1] - 1.0) - expected) < 0.1


def test_a_pale_highlight_of_an_orange_source_stays_pale_on_a_paler_target():
    """Chroma shifted by (target - source) pushes a highlight, less coloured than the mean, past grey into
    green-blue (the demo's forehead); the multiplicative map keeps it on the warm side."""
    from tryon_cli.colour import map_chroma

    source_stats = np.array([[186, 144, 156], [29, 12, 11]], np.float32)  # orange studio light
    target_stats = np.array([[170, 134, 146], [25, 4, 5]], np.float32)
    highlight = np.array([[[131.0, 138.0]]], np.float32)  # a little warm, far less than the mean
    a, b = map_chroma(highlight, source_stats, target_stats)[0, 0]
    assert a >= 128 and b >= 128  # not green (a < 128), not blue (b < 128)
    mean = map_chroma(source_stats[0, 1:][None, None], source_stats, target_stats)[0, 0]
    assert np.allclose(mean, target_stats[0, 1:], atol=0.5)
    grey_source = np.array([[150, 128, 128], [20, 1, 1]], np.float32)  # B&W: only a shift can colour it
    assert np.allclose(map_chroma(np.array([[[128.0, 128.0]]], np.float32), grey_source, target_stats)[0, 0],
                       target_stats[0, 1:], atol=0.5)


def _open_eye_picture(here: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Skin with open eyes drawn on `here`'s eye outlines: white, a dark iris, a thick dark upper lash line."""
    from tryon_cli.face3d import landmarks as lm

    picture = np.full((*size, 3), 200, np.uint8)
    for loop, iris in ((lm.RIGHT_EYE, lm.RIGHT_IRIS), (lm.LEFT_EYE, lm.LEFT_IRIS)):
        outline = np.round(here[loop, :2]).astype(np.int32)
        cv2.fillPoly(picture, [outline], (245, 245, 245))
        centre = here[iris[0], :2]
        cv2.circle(picture, (int(round(centre[0])), int(round(centre[1]))), 6, (60, 60, 60), -1)
        upper = outline[outline[:, 1] <= here[loop, 1].mean()]
        upper = upper[np.argsort(upper[:, 0])]
        cv2.polylines(picture, [upper], False, (25, 25, 25), 2)
    return picture


def test_a_blink_slides_the_lid_over_the_eye_instead_of_squashing_it():
    """Shut lids cover the open eye's iris and white with lid, the lash line where the lids meet, and
    the lid above it is smooth (no lashes stretched into streaks); open lids change nothing."""
    from tryon_cli.face3d import landmarks as lm
    from tryon_cli.render.classical.eyes import slide_lids

    open_points = _eye_points([(50, 60), (130, 60)], 20, 0.0)
    picture = _open_eye_picture(open_points, (120, 180))
    assert np.array_equal(slide_lids(picture, open_points, open_points), picture)
    shut = open_points.copy()
    for loop in (lm.RIGHT_EYE, lm.LEFT_EYE):  # upper lid drawn down onto the lower lid
        upper = loop[open_points[loop, 1] < 60]
        shut[upper, 1] = 60 + (60 - open_points[upper, 1])
    out = slide_lids(picture, open_points, shut).astype(int)
    for cx in (50, 130):
        column = out[40:71, cx, 0]  # from above the open lid (y 51) down past the shut lid line (y 69)
        assert column[:25].min() > 150  # no iris and no white-eye gap above the lash line: lid skin
        assert column[25:].min() < 80  # the lashes came down to where the lids meet
        lid = out[46:62, cx - 10 : cx + 10, 0]
        assert lid.std(axis=1).max() < 12  # across the lid each row is even: no vertical streaks
    assert np.array_equal(out[:, :20], picture[:, :20].astype(int))  # away from the eyes: untouched


def test_open_eye_points_lay_the_rest_eye_on_this_frames_corners():
    from tryon_cli.face3d import landmarks as lm
    from tryon_cli.render.classical.eyes import open_eye_points

    rest = _eye_points([(50, 60), (130, 60)], 20, 0.0)
    now = _eye_points([(55, 70), (135, 70)], 20, 0.0)
    for loop in (lm.RIGHT_EYE, lm.LEFT_EYE):
        now[loop, 1] = 70 + 0.1 * (now[loop, 1] - 70)  # nearly shut
    out = open_eye_points(now, rest)
    for loop in (lm.RIGHT_EYE, lm.LEFT_EYE):
        assert np.allclose(out[loop, :2], rest[loop, :2] + (5, 10), atol=1e-3)  # open again, moved with the face
    assert np.array_equal(out[:7], now[:7])  # other points stay


def test_an_eye_opened_wider_than_at_rest_keeps_its_own_lids():
    from tryon_cli.face3d import landmarks as lm
    from tryon_cli.render.classical.eyes import open_eye_points

    rest = _eye_points([(50, 60), (130, 60)], 20, 0.0)
    wide = rest.copy()
    for loop in (lm.RIGHT_EYE, lm.LEFT_EYE):
        wide[loop, 1] = 60 + 1.4 * (rest[loop, 1] - 60)  # surprise: lids apart
    assert np.array_equal(open_eye_points(wide, rest), wide)


def test_gaze_finds_the_iris_where_the_warp_put_it():
    """The iris is looked for where the mesh carried the photo's iris (barycentric in its triangle), not
    at the photo's place between the corners: on a turned face the two differ."""
    from tryon_cli.render.classical.eyes import carry_point

    texture = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], np.float64)
    triangles = np.array([[0, 1, 2], [1, 3, 2]])
    warped = texture * 2 + (5, 5)
    warped[3] = (30, 20)  # the second triangle is sheared
    np.testing.assert_allclose(carry_point(np.array([2.0, 3.0]), texture, warped, triangles), (9, 11))
    np.testing.assert_allclose(carry_point(np.array([8.0, 8.0]), texture, warped, triangles),
                               0.2 * warped[1] + 0.6 * warped[3] + 0.2 * warped[2], atol=1e-9)
    assert carry_point(np.array([20.0, 3.0]), texture, warped, triangles) is None


def _hemisphere(size: int = 160, radius: float = 70.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A hemisphere mesh facing the camera (points in pixels, z negative towards the camera), its
    triangles, and its unit normals per pixel (x right, y up, z towards the camera) over the image."""
    from tryon_cli.face3d.raster import triangulate

    ys, xs = np.mgrid[-1:1:25j, -1:1:25j]
    keep = xs ** 2 + ys ** 2 <= 1.0
    x, y = xs[keep] * radius, ys[keep] * radius
    z = -np.sqrt(np.clip(radius ** 2 - x ** 2 - y ** 2, 0, None))
    points = np.stack([x + size / 2, y + size / 2, z], axis=1).astype(np.float32)
    gy, gx = (np.mgrid[0:size, 0:size] - size / 2) / radius
    gz = np.sqrt(np.clip(1 - gx ** 2 - gy ** 2, 0, 1))
    return points, triangulate(points), np.dstack([gx, -gy, gz]).astype(np.float32)


def test_delight_divides_a_side_light_out_of_the_face():
    """A sphere of one albedo lit from the left comes out of `delight` far more evenly lit, same mean."""
    from tryon_cli.face3d.lighting import delight

    points, triangles, normals = _hemisphere()
    inside = (normals[..., 2] > 0.35)
    shade = np.clip(normals @ np.array([-0.7, 0.0, 0.7]), 0, 1) * 0.55 + 0.45
    image = np.clip(np.array(SKIN, np.float32) * shade[..., None], 0, 255).astype(np.uint8)
    skin = np.where(inside, 255, 0).astype(np.uint8)
    out = delight(image, points, triangles, skin)
    grey_in = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(float)
    grey_out = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(float)
    assert grey_out[inside].std() < 0.5 * grey_in[inside].std()
    assert abs(grey_out[inside].mean() - grey_in[inside].mean()) < 8
    # the far (right) side brightened, the near side darkened
    assert grey_out[80, 120] > grey_in[80, 120] + 10 and grey_out[80, 40] < grey_in[80, 40] - 5
    assert np.array_equal(out[:3], image[:3])  # outside the mesh: untouched
    evenly_lit = np.full_like(image, SKIN)
    flat = np.abs(delight(evenly_lit, points, triangles, skin).astype(int) - evenly_lit)
    assert flat.mean() < 1.0 and flat.max() <= 5  # an evenly lit face stays as it is (Lab rounding aside)
    shiny = evenly_lit.copy()
    cv2.circle(shiny, (80, 70), 6, (250, 235, 225), -1)  # the photo's light shining on the skin
    excess = float(cv2.cvtColor(shiny, cv2.COLOR_RGB2GRAY)[70, 80]) - float(cv2.cvtColor(evenly_lit, cv2.COLOR_RGB2GRAY)[70, 80])
    after = float(cv2.cvtColor(delight(shiny, points, triangles, skin), cv2.COLOR_RGB2GRAY)[70, 80])
    assert after - float(cv2.cvtColor(evenly_lit, cv2.COLOR_RGB2GRAY)[70, 80]) < 0.6 * excess


def test_a_soft_face_gets_the_targets_skin_detail_then_sharpening_up_to_the_frames_sharpness():
    from tryon_cli.render.classical.detail import GOAL, LOW as DETAIL_LOW, restore_detail

    region = np.full((120, 120), 255, np.uint8)
    region[:6], region[-6:], region[:, :6], region[:, -6:] = 0, 0, 0, 0
    sharp_target, soft = _textured(4, 0.0, amplitude=12.0), _textured(1, 1.5)
    skin = np.zeros_like(region)
    skin[:, :100] = 255  # the target's features (eyes, lips) are on the right: none of its detail goes there
    out = restore_detail(soft, sharp_target, region, skin)
    assert _ratio(soft, sharp_target, region) < DETAIL_LOW
    assert DETAIL_LOW <= _ratio(out, sharp_target, region) <= GOAL * 1.6
    change = (out.astype(float) - soft).mean(axis=2)
    # the target's own fine detail was used where skin is: the change follows the target there
    fine = cv2.cvtColor(sharp_target, cv2.COLOR_RGB2GRAY).astype(float)
    fine -= cv2.GaussianBlur(fine, (0, 0), 1.0)
    assert np.corrcoef(change[10:110, 10:70].ravel(), fine[10:110, 10:70].ravel())[0, 1] > 0.5
    assert abs(np.corrcoef(change[10:110, 108:114].ravel(), fine[10:110, 108:114].ravel())[0, 1]) < 0.2
    # a face already about as sharp as the frame is left exactly as it is
    fitting = _textured(5, 0.0, amplitude=12.0)
    assert np.array_equal(restore_detail(fitting, sharp_target, region, skin), fitting)


def test_sharpening_is_cored_so_a_noisy_low_resolution_face_gets_edges_not_noise():
    from tryon_cli.render.classical.detail import cored

    rng = np.random.default_rng(0)
    band = rng.normal(0, 1.0, (100, 100)).astype(np.float32)  # the source's noise
    band[40:60, 50] = 30.0  # an edge
    region = np.full(band.shape, 255, np.uint8)
    out = cored(band, region)
    assert np.abs(out[:30]).mean() < 0.4 * np.abs(band[:30]).mean()
    assert out[50, 50] > 0.95 * band[50, 50]


def test_the_source_photos_creases_give_way_to_the_targets():
    """A scowl's furrow in the rendered face goes, the target's own crease comes, over the zone only;
    the broad shading and the fine detail stay the rendered face's."""
    from tryon_cli.render.classical.creases import carry_target_creases

    width = 200.0  # the face's width in pixels: the band is a few pixels
    ys, xs = np.mgrid[0:200, 0:200]
    shading = 150.0 + 0.3 * (xs - 100)  # broad light, the source's (kept)
    rng = np.random.default_rng(0)
    pores = rng.normal(0, 3.0, (200, 200))
    furrow = -40.0 * np.exp(-((xs - 70) ** 2) / (2 * 2.5 ** 2))  # the source's scowl, a vertical crease
    line = -40.0 * np.exp(-((ys - 120) ** 2) / (2 * 2.5 ** 2))  # the target's crease, a horizontal line

    def rgb(grey: np.ndarray) -> np.ndarray:
        return np.clip(np.dstack([grey] * 3), 0, 255).astype(np.uint8)

    image, target = rgb(shading + pores + furrow), rgb(np.full((200, 200), 120.0) + line)
    zone = np.zeros((200, 200), np.float32)
    zone[:, :150] = 1.0  # the right quarter is a feature: untouched
    out = carry_target_creases(image, target, zone, zone, width)[..., 0].astype(float)
    before = (image[:, 70, 0].astype(float) - image[:, 60, 0]).mean()
    assert before < -35 and (out[:, 70] - out[:, 60]).mean() > 0.4 * before  # the furrow mostly gone
    assert (out[120, :140] - out[100, :140]).mean() < -20  # the target's crease is there
    assert abs((out[100, 20] - out[100, 130]) - (int(image[100, 20, 0]) - int(image[100, 130, 0]))) < 8  # broad shading kept
    assert np.corrcoef(out[20:60, 100:140].ravel(), pores[20:60, 100:140].ravel())[0, 1] > 0.6  # pores kept
    assert np.abs(out[:, 170:] - image[:, 170:, 0]).max() <= 1
    # a zone that only loses the source's band (the folds: a target's moustache lives there) gets none of the target's
    weakened = carry_target_creases(image, target, zone, np.zeros_like(zone), width)[..., 0].astype(float)
    assert abs((weakened[120, :140] - weakened[100, :140]).mean()) < 5


def test_prepare_source_delights_the_photo_only_when_asked(astronaut):
    """A photo lit from one side gives a source texture more evenly lit with `delight`; without it, the
    texture is the photo's own pixels (but for a smile's folds)."""
    from pathlib import Path

    from tryon_cli.face3d import landmarks as lm
    from tryon_cli.faceswap.source import prepare_source
    from tryon_cli.masks.face import skin_sample_region

    xs = np.linspace(0.55, 1.45, astronaut.shape[1])[None, :, None]  # light falling off to the left
    photo = np.clip(astronaut.astype(np.float32) * xs, 0, 255).astype(np.uint8)
    plain = prepare_source([(Path("side.png"), photo)], delight=False)
    delit = prepare_source([(Path("side.png"), photo)], delight=True)
    # Above the smile's folds (flattened for any smiling photo, `faceswap/folds.py`) and outside the upper
    # face's expression lines (`faceswap/expression_lines.py`) the photo's own pixels.
    from tryon_cli.faceswap.expression_lines import line_zones

    width = float(np.ptp(plain.texture_points[lm.FACE_OVAL, 0]))
    lines = [z > 0 for z in line_zones(photo.shape[:2], plain.texture_points, width)[:2]]
    untouched = ~(lines[0] | lines[1])
    untouched[int(plain.texture_points[lm.RIGHT_EYE, 1].max()) + 1 :] = False
    assert untouched.sum() > 0.15 * untouched.size
    assert np.array_equal(plain.texture[untouched], photo[untouched])
    skin = skin_sample_region(photo.shape[:2], plain.texture_points) > 0
    ys, cols = np.nonzero(skin)
    middle = np.median(cols)

    def imbalance(texture: np.ndarray) -> float:
        grey = cv2.cvtColor(texture, cv2.COLOR_RGB2GRAY).astype(float)
        return float(grey[ys[cols > middle], cols[cols > middle]].mean() - grey[ys[cols <= middle], cols[cols <= middle]].mean())

    assert abs(imbalance(delit.texture)) < 0.6 * abs(imbalance(plain.texture))


def test_a_dark_sources_eye_whites_lifted_to_a_paler_target_keep_their_texture_below_white():
    """The lift from dark to pale skin multiplied eye whites past white (a flat glowing blob). Inside the
    eye openings the whites keep their place between the skin and white; skin, iris and the rest of the
    face are lifted as before."""
    from tryon_cli.colour import transfer_skin

    def lab_picture(lightness: np.ndarray) -> np.ndarray:
        lab = np.dstack([lightness, np.full_like(lightness, 142.0), np.full_like(lightness, 150.0)])
        return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)

    lightness = np.full((120, 160), 70.0)  # dark skin
    eye = np.zeros((120, 160), np.uint8)
    cv2.ellipse(eye, (80, 60), (30, 12), 0, 0, 360, 255, -1)
    lightness[eye > 0] = 175.0  # its whites, far lighter than the skin around them
    lightness[eye > 0] += np.where(np.arange(160) % 8 < 4, 12.0, 0.0)[None].repeat(120, 0)[eye > 0]  # texture
    cv2.circle(lightness, (80, 60), 8, 35.0, -1)  # the iris
    image = lab_picture(lightness)
    skin = np.where(eye > 0, 0, 255).astype(np.uint8)
    skin[55:66, 40:121] = 0
    source_stats = skin_colour_statistics(image, skin)
    target = lab_picture(np.full((120, 160), 180.0))  # a paler target
    target_stats = skin_colour_statistics(target, skin)
    weights = cv2.GaussianBlur(eye.astype(np.float32) / 255, (0, 0), 2.0)
    plain = transfer_skin(image, source_stats, target_stats, target, skin, skin, sigma=8.0)
    kept = transfer_skin(image, source_stats, target_stats, target, skin, skin, sigma=8.0, eyes=weights)
    plain_l, kept_l = (cv2.cvtColor(o, cv2.COLOR_RGB2LAB)[..., 0].astype(int) for o in (plain, kept))
    assert plain_l[60, 56] >= 245  # the defect: the lift burns the whites out
    whites = kept_l[58:63, 52:68]
    assert 190 < whites.mean() < 235 and np.ptp(whites) >= 5  # lighter than the skin, below white, textured
    assert kept_l[60, 80] == plain_l[60, 80]  # the iris is lifted as before
    assert np.array_equal(kept[:30], plain[:30]) and np.array_equal(kept[:, :30], plain[:, :30])  # and the skin


def test_eye_openings_weigh_the_two_eyes_and_not_the_skin_away_from_them():
    from tryon_cli.render.classical.eyes import eye_openings

    points = _eye_points([(50, 60), (130, 60)], 20, 0.0)
    weights = eye_openings((120, 180), points)
    assert weights[60, 50] > 0.99 and weights[60, 130] > 0.99  # inside both openings
    assert weights[60, 90] < 0.01 and weights[:30].max() < 0.01  # between the eyes, the forehead
    assert eye_openings((120, 180), points[:68]) is None  # no full mesh: nothing to weigh
    # The colour match's surround (a blurry photo's whites spread onto the lids): the lids 9 px out, and
    # little of the nose bridge
    from tryon_cli.render.classical.face import EYE_SURROUND_GROWTH

    surround = eye_openings((120, 180), points, EYE_SURROUND_GROWTH)
    assert weights[42, 50] < 0.2 and surround[42, 50] > 0.5 and surround[60, 90] < 0.2


def test_transfer_skin_takes_the_targets_light_colour_and_level_over_a_side_lit_tinted_half_face():
    """A side light leaves half the source's face dark and green-grey; a global colour map keeps that half.
    The low band of the chroma and of the lightness (up to a 1.6 ratio) is the target's: both halves end
    alike, and with the chroma's low band off the green half stays."""
    from tryon_cli.colour import transfer_skin

    def lab_picture(lab: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)

    lab = np.dstack([np.full((80, 160), 150.0), np.full((80, 160), 142.0), np.full((80, 160), 148.0)])
    lab[:, :80] = (100.0, 124.0, 134.0)  # the shadowed half: 1.5x darker, green-grey
    image = lab_picture(lab)
    skin = np.full((80, 160), 255, np.uint8)
    target = lab_picture(np.dstack([np.full((80, 160), 170.0), np.full((80, 160), 145.0), np.full((80, 160), 150.0)]))
    source_stats = skin_colour_statistics(image, skin)
    target_stats = skin_colour_statistics(target, skin)
    for low_band in (True, False):
        out = cv2.cvtColor(transfer_skin(image, source_stats, target_stats, target, skin, skin, sigma=6.0,
                                         chroma_low_band=low_band), cv2.COLOR_RGB2LAB).astype(float)
        left, right = out[20:60, 10:50].reshape(-1, 3).mean(0), out[20:60, 110:150].reshape(-1, 3).mean(0)
        if low_band:
            assert abs(left[0] - right[0]) < 12 and abs(right[0] - 170) < 6  # the dark half lifted to the target's level
            assert np.abs(left[1:] - (145, 150)).max() < 2 and np.abs(right[1:] - (145, 150)).max() < 2
        else:
            assert np.abs(left[1:] - (145, 150)).max() > 5  # the defect: the shadow's tint stays


def _features(seed: int, size: int = 240) -> np.ndarray:
    """A face-sized patch of feature-scale edges (dark ellipses, like eyes, brows and lips, on skin)."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size, 3), SKIN, np.uint8)
    for _ in range(14):
        centre = tuple(int(v) for v in rng.integers(30, size - 30, 2))
        axes = (int(rng.integers(8, 30)), int(rng.integers(3, 10)))
        cv2.ellipse(image, centre, axes, float(rng.uniform(0, 180)), 0, 360, (90, 60, 50), -1, cv2.LINE_AA)
    return image


def test_a_crisp_face_on_a_motion_blurred_frame_is_smeared_the_same_way():
    from tryon_cli.render.classical.softness import BAND_HIGH, fine_to_coarse, _sharpness_along, match_softness

    region = np.zeros((240, 240), np.uint8)
    region[20:220, 20:220] = 255
    crisp = _features(7)
    smear = np.full((1, 31), 1 / 31, np.float32)  # 31 px of horizontal motion
    noise = np.random.default_rng(8).normal(0, 6, crisp.shape)
    frame = np.clip(cv2.filter2D(crisp, -1, smear).astype(float) + noise, 0, 255).astype(np.uint8)
    # The finest scale is fooled: the frame's compression-like noise reads as sharp as the photo.
    assert np.array_equal(match_sharpness(crisp, frame, region, None), crisp)

    def sharpness(image: np.ndarray) -> tuple[float, float]:
        """(along x, along y): fine over coarse gradient energy with the face 96 px wide."""
        small = cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32), (96, 96), interpolation=cv2.INTER_AREA)
        tensors = fine_to_coarse(small, cv2.resize(region, (96, 96), interpolation=cv2.INTER_NEAREST) > 0)
        return _sharpness_along(tensors, np.array([1.0, 0.0])), _sharpness_along(tensors, np.array([0.0, 1.0]))

    matched = match_softness(crisp, frame, region, face_width=200.0)
    (before_x, before_y), (after_x, after_y), (goal_x, goal_y) = sharpness(crisp), sharpness(matched), sharpness(frame)
    assert before_x > 1.5 * goal_x  # the photo was far sharper along the motion
    assert after_x <= BAND_HIGH * goal_x
    # Smeared along the motion: its sharpness across the motion is barely touched.
    assert after_y > 0.75 * before_y and after_x < 0.7 * before_x
    # A face already as soft as its frame is left alone, bit for bit; so is a sharp face on a sharp frame
    # with weaker features (contrast is not sharpness).
    assert np.array_equal(match_softness(frame, frame, region, face_width=200.0), frame)
    faint = (crisp.astype(np.float32) * 0.4 + np.array(SKIN, np.float32) * 0.6).astype(np.uint8)
    assert np.array_equal(match_softness(crisp, faint, region, face_width=200.0), crisp)


def _shaded_lab(level: float, contrast: float, chroma: tuple[float, float], chroma_slope: float = 0.0,
                shape: tuple[int, int] = (120, 160)) -> np.ndarray:
    """Float OpenCV-Lab skin with blobs of shading (period 24 px) of relative strength `contrast`; its
    chroma along (a, b) moves by `chroma_slope` per lightness unit of the blobs."""
    ys, xs = np.mgrid[: shape[0], : shape[1]].astype(np.float32)
    blobs = np.sin(xs * 2 * np.pi / 24) * np.sin(ys * 2 * np.pi / 24)
    lightness = level * (1 + contrast * blobs)
    hue = np.array(chroma) - 128.0
    hue /= np.hypot(*hue)
    change = chroma_slope * (lightness - level)
    return np.dstack([lightness, chroma[0] + change * hue[0], chroma[1] + change * hue[1]])


def _rgb(lab: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def test_transfer_skin_gives_a_hard_lit_faces_shading_detail_the_targets_strength_and_keeps_the_features():
    """A hard-lit or low-resolution dark photo has about twice a frontally lit face's shading detail
    (relative to its level); lifted onto a paler target it read as grey metal. The skin's shading band
    takes the target's relative strength (scaled down to 0.7x at most); a brow off the skin keeps its pixels."""
    from tryon_cli.colour import shading_detail, transfer_skin

    source = _shaded_lab(90.0, 0.3, (150.0, 155.0))
    source[40:52, 30:70] = (30.0, 135.0, 135.0)  # a brow, not skin
    skin = np.full(source.shape[:2], 255, np.uint8)
    skin[34:58, 24:76] = 0
    image, target = _rgb(source), _rgb(_shaded_lab(175.0, 0.08, (136.0, 143.0)))
    source_stats, target_stats = skin_colour_statistics(image, skin), skin_colour_statistics(target, skin)
    sigma = 16.0
    target_amplitude = shading_detail(cv2.cvtColor(target, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32), skin, sigma)[2]
    amplitudes = {}
    for matched in (True, False):
        out = transfer_skin(image, source_stats, target_stats, target, skin, skin, sigma=sigma, shading_contrast=matched)
        lab = cv2.cvtColor(out, cv2.COLOR_RGB2LAB).astype(np.float32)
        amplitudes[matched] = shading_detail(lab[..., 0], skin, sigma)[2]
        amplitudes[matched, "brow"] = lab[43:49, 36:64]
    assert amplitudes[False] > 2.5 * target_amplitude  # the defect: the source's strong shading kept
    assert amplitudes[True] < 0.8 * amplitudes[False]  # 0.7x (the most it is scaled down)
    assert np.abs(amplitudes[True, "brow"] - amplitudes[False, "brow"]).max() <= 1.0  # the brow as before


def _with_and_without_knee(lightness: np.ndarray, target: np.ndarray, skin: np.ndarray, sigma: float,
                           monkeypatch) -> tuple[np.ndarray, np.ndarray]:
    """`match_shading_contrast` of `lightness` onto `target` (both skins `skin`) as it is, and with its
    highlight knee switched off."""
    from tryon_cli import colour
    from tryon_cli.colour import match_shading_contrast

    out = match_shading_contrast(lightness, target, skin, skin, sigma)
    with monkeypatch.context() as patch:
        patch.setattr(colour, "_highlight_knee", lambda lightness, *rest: lightness)
        plain = match_shading_contrast(lightness, target, skin, skin, sigma)
    return out, plain


def test_shading_highlights_stay_near_the_targets_own_highlight_level(monkeypatch):
    """A side-lit photo's nose ridge: a highlight 0.4 above its skin's level, where the target's brightest
    skin detail is 0.08 above its own. The contrast match scales the whole band by at most 0.7, which left
    a white streak down the nose on a pale target (portrait_side_light onto talking_frontal); the
    highlight is compressed toward the target's level. The creases (dark) and the skin's ordinary
    relief stay as the contrast match alone leaves them."""
    from tryon_cli.colour import shading_band

    blobs = _shaded_lab(150.0, 0.1, (150.0, 150.0))[..., 0]
    lightness = blobs.copy()
    lightness[:, 78:83] *= 1.4  # the ridge's highlight
    lightness[:, 40:43] *= 0.7  # a crease
    skin = np.full(lightness.shape, 255, np.uint8)
    sigma = 16.0
    out, plain = _with_and_without_knee(lightness, blobs, skin, sigma, monkeypatch)
    ridge = (slice(20, 100), slice(78, 83))

    def peak(image: np.ndarray) -> float:
        band, low = shading_band(image, skin, sigma)
        return float((band[ridge] / low[ridge]).max())

    assert peak(plain) > 0.3  # 0.33
    assert peak(out) < 0.18  # 0.15 (0.21 when the band alone was compressed: the ridge's sharp core stayed)
    crease = (slice(20, 100), slice(40, 43))
    np.testing.assert_allclose(out[crease], plain[crease], atol=0.01)
    relief = (slice(20, 100), np.r_[10:34, 50:70, 92:150])
    assert np.abs(out[relief] - plain[relief]).max() < 1.0


def test_a_narrow_highlight_is_compressed_by_its_own_excess_not_its_blurred_band(monkeypatch):
    """A low-resolution photo's shine (its nose wings and tip, a few pixels wide) lifted onto a pale target:
    its pixels lie 0.6 above the skin's level, but the shading band, blurred at its fine edge, reads only a
    fraction of that, so compressing by the band left white, colourless spots. Every highlight pixel now
    stays within the target's highlight level plus its room; the rest of the skin is as before."""
    from tryon_cli.colour import HIGHLIGHT_ROOM, shading_band

    blobs = _shaded_lab(150.0, 0.1, (150.0, 150.0))[..., 0]
    lightness = blobs.copy()
    lightness[:, 80:82] *= 1.6  # a shine 2 px wide
    skin = np.full(lightness.shape, 255, np.uint8)
    sigma = 16.0
    out, plain = _with_and_without_knee(lightness, blobs, skin, sigma, monkeypatch)
    _, low = shading_band(lightness, skin, sigma)
    _, target_low = shading_band(blobs, skin, sigma)
    knee = float(np.percentile((blobs - target_low) / target_low, 99))  # the target's highlight level
    shine = (slice(20, 100), slice(80, 82))
    excess = (out[shine] - low[shine]) / low[shine]
    assert float(((plain[shine] - low[shine]) / low[shine]).max()) > 0.5  # the defect: 0.6 above its level
    assert float(excess.max()) <= knee * (1.0 + HIGHLIGHT_ROOM) + 0.01  # 0.30 when the blurred band was read
    relief = (slice(20, 100), np.r_[10:60, 100:150])
    assert np.abs(out[relief] - plain[relief]).max() < 1.0


def test_transfer_skin_makes_a_tinted_photos_shadows_more_coloured_than_its_highlights_as_the_targets():
    """On real skin the shadows are more coloured than the lit skin; a tinted photo's chroma rises with its
    light (coloured highlights, grey shadows: metal). The chroma's shading band follows the target's."""
    from tryon_cli.colour import shading_detail, transfer_skin

    skin = np.full((120, 160), 255, np.uint8)
    image = _rgb(_shaded_lab(120.0, 0.12, (118.0, 140.0), chroma_slope=0.25))  # green film, lit = more coloured
    target = _rgb(_shaded_lab(170.0, 0.1, (138.0, 146.0), chroma_slope=-0.2))  # shadows more coloured
    stats = skin_colour_statistics(image, skin), skin_colour_statistics(target, skin)

    def slope(picture: np.ndarray) -> float:
        lab = cv2.cvtColor(picture, cv2.COLOR_RGB2LAB).astype(np.float32)
        chroma = np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
        lightness_band = shading_detail(lab[..., 0], skin, 16.0)[0][20:100, 20:140]
        chroma_band = shading_detail(chroma, skin, 16.0)[0][20:100, 20:140]
        return float((lightness_band * chroma_band).sum() / (lightness_band ** 2).sum())

    matched = transfer_skin(image, *stats, target, skin, skin, sigma=16.0)
    plain = transfer_skin(image, *stats, target, skin, skin, sigma=16.0, shading_contrast=False)
    assert slope(plain) > 0.05  # the defect: highlights more coloured than shadows
    assert abs(slope(matched) - slope(target)) < 0.06 and slope(matched) < -0.1


def test_transfer_skin_takes_the_targets_chroma_over_a_ruddy_cheek_smaller_than_the_lighting():
    """An old photo's ruddy cheeks (a red blotch a little smaller than the lighting's scale) stayed: the
    chroma's low band was the target's only at the lighting's scale. At half that scale the blotch goes."""
    from tryon_cli.colour import transfer_skin

    lab = np.dstack([np.full((120, 160), 150.0), np.full((120, 160), 140.0), np.full((120, 160), 142.0)])
    cheek = np.zeros((120, 160), np.uint8)
    cv2.circle(cheek, (80, 60), 10, 255, -1)
    lab[cheek > 0, 1] += 12.0  # ruddy
    image, skin = _rgb(lab), np.full((120, 160), 255, np.uint8)
    target = _rgb(np.dstack([np.full((120, 160), 170.0), np.full((120, 160), 136.0), np.full((120, 160), 143.0)]))
    stats = skin_colour_statistics(image, skin), skin_colour_statistics(target, skin)

    def redness(share: float) -> float:
        out = cv2.cvtColor(transfer_skin(image, *stats, target, skin, skin, sigma=16.0, chroma_sigma_share=share),
                           cv2.COLOR_RGB2LAB).astype(float)
        return float(out[55:66, 75:86, 1].mean() - out[10:30, 10:50, 1].mean())

    assert redness(1.0) > 4.0  # the defect: much of the blotch kept
    assert redness(0.5) < 0.7 * redness(1.0)


def test_transfer_skin_refined_shading_brings_a_dark_patch_to_the_targets_level():
    """The shading ratio is a ratio of blurs, so a dark patch about the lighting's size was lifted short of
    the target's level; one more pass on the lifted face takes it closer."""
    from tryon_cli.colour import transfer_skin

    lab = np.dstack([np.full((120, 160), 130.0), np.full((120, 160), 140.0), np.full((120, 160), 145.0)])
    patch = np.zeros((120, 160), np.uint8)
    cv2.circle(patch, (80, 60), 24, 255, -1)
    lab[patch > 0, 0] = 100.0
    image, skin = _rgb(lab), np.full((120, 160), 255, np.uint8)
    target = _rgb(np.dstack([np.full((120, 160), 170.0), np.full((120, 160), 140.0), np.full((120, 160), 145.0)]))
    stats = skin_colour_statistics(image, skin), skin_colour_statistics(target, skin)

    def shortfall(refine: bool) -> float:
        out = transfer_skin(image, *stats, target, skin, skin, sigma=16.0, refine_shading=refine)
        return 170.0 - float(cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[52:69, 72:89, 0].mean())

    assert shortfall(False) > 10.0  # the defect
    assert abs(shortfall(True)) < 0.6 * shortfall(False)


def test_transfer_skin_does_not_paint_the_targets_moustache_as_a_grey_smudge():
    """A target's dark moustache lies inside its skin mask; read as skin, its dark colourless low band gave
    a clean-shaven source a grey smudge above the lip. Hair far darker than the skin around it is left out
    of the colour match's measures, so the lip keeps the cheeks' colour; a plain source barely changes."""
    from tryon_cli.colour import transfer_skin, without_dark_hair

    skin = np.full((120, 160), 255, np.uint8)
    image = _rgb(_shaded_lab(160.0, 0.05, (138.0, 145.0)))
    target_lab = _shaded_lab(110.0, 0.05, (150.0, 156.0))
    target_lab[70:84, 50:110] = (35.0, 134.0, 136.0)  # the moustache: dark, nearly grey
    target = _rgb(target_lab)
    stats = skin_colour_statistics(image, skin), skin_colour_statistics(target, skin)
    assert without_dark_hair(target_lab[..., 0].astype(np.float32), skin, 16.0)[72:82, 55:105].max() == 0
    for skip in (True, False):
        lab = cv2.cvtColor(transfer_skin(image, *stats, target, skin, skin, sigma=16.0, skip_hair=skip),
                           cv2.COLOR_RGB2LAB).astype(float)
        lip, cheek = lab[70:84, 60:100].reshape(-1, 3).mean(0), lab[20:40, 60:100].reshape(-1, 3).mean(0)
        if skip:
            assert abs(lip[0] - cheek[0]) < 8 and np.abs(lip[1:] - cheek[1:]).max() < 3
        else:  # the defect: a darker, greyer patch where the target's moustache was
            assert cheek[0] - lip[0] > 15 or np.abs(lip[1:] - cheek[1:]).max() > 5
    plain = transfer_skin(image, *stats, _rgb(_shaded_lab(110.0, 0.05, (150.0, 156.0))), skin, skin, sigma=16.0)
    plain_off = transfer_skin(image, *stats, _rgb(_shaded_lab(110.0, 0.05, (150.0, 156.0))), skin, skin, sigma=16.0,
                              skip_hair=False)
    assert np.abs(plain.astype(int) - plain_off).max() <= 1


def test_transfer_skin_lifts_a_dark_photo_to_a_pale_targets_level():
    """A dark photo onto a pale target needs a gain near 2 or more (dark_lowres onto talking_frontal 1.9,
    side_light 2.6); with the gain and the shading ratio both clipped at 1.6 the face stayed darker than
    the target's skin and kept a low band of its own. Both are measured on skin only, so a larger gain is
    safe: the face lands on the target's level, and its dark features stay darker than its skin."""
    from tryon_cli.colour import transfer_skin

    skin = np.full((120, 160), 255, np.uint8)
    source = _shaded_lab(60.0, 0.05, (150.0, 156.0))
    source[50:60, 40:120] = (20.0, 135.0, 135.0)  # a feature (a brow), off the skin
    skin[46:64, 36:124] = 0
    image, target = _rgb(source), _rgb(_shaded_lab(180.0, 0.05, (136.0, 143.0)))
    stats = skin_colour_statistics(image, skin), skin_colour_statistics(target, skin)
    lifted = cv2.cvtColor(transfer_skin(image, *stats, target, skin, skin, sigma=16.0), cv2.COLOR_RGB2LAB)
    capped = cv2.cvtColor(transfer_skin(image, *stats, target, skin, skin, sigma=16.0, max_gain=1.6, max_ratio=1.6),
                          cv2.COLOR_RGB2LAB)
    cheek = (slice(80, 110), slice(20, 140))
    assert float(capped[cheek][..., 0].mean()) < 165  # the defect: the old caps leave it dark
    assert abs(float(lifted[cheek][..., 0].mean()) - 180) < 5
    assert float(lifted[52:58, 50:110, 0].mean()) < 0.6 * float(lifted[cheek][..., 0].mean())


def test_map_chroma_takes_a_pale_sources_mean_to_a_coloured_targets_without_doubling_its_lips():
    """A pale source onto a darker, more coloured target (chroma scale about 3): the skin's mean lands on the
    target's, but its deviations (pink lips, a pink nose tip) are stretched by MAX_CHROMA_SCALE at most. At
    2, with the mean short of the target's, the nose tip turned red and the lips magenta."""
    from tryon_cli.colour import map_chroma

    source = np.array([[150.0, 135.0, 138.0], [40.0, 2.0, 3.0]], np.float32)  # chroma about 12
    target = np.array([[100.0, 151.0, 156.0], [40.0, 5.0, 6.0]], np.float32)  # chroma about 36
    ab = np.array([[[135.0, 138.0], [150.0, 140.0]]], np.float32)  # the skin's mean, a lip
    skin, lip = map_chroma(ab, source, target)[0]
    assert np.abs(skin - target[0, 1:]).max() < 0.5
    stretch = np.hypot(*(lip - skin)) / np.hypot(*(ab[0, 1] - ab[0, 0]))
    assert stretch <= 1.5 + 1e-3  # at most 1.5x (the old map: 2x)
    # a pale-to-paler pair within the limit is the plain rotation and scale z * t / s
    near = np.array([[160.0, 137.0, 143.0], [30.0, 3.0, 7.0]], np.float32)
    z = complex(150.0 - 128.0, 140.0 - 128.0) * complex(9.0, 15.0) / complex(8.0, 10.0)
    mapped = map_chroma(np.array([[[150.0, 140.0]]], np.float32), np.array([[150, 136, 138], [30, 2, 2]], np.float32),
                        near)[0, 0]
    assert abs(mapped[0] - 128 - z.real) < 0.5 and abs(mapped[1] - 128 - z.imag) < 0.5


def _lip_scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A lip ring (0/255), a swapped face after the skin's lift (its lips paler than its skin, with lines)
    and a target whose lips are red and darker than its skin (OpenCV Lab)."""
    ys, xs = np.mgrid[:120, :160]
    lips = np.where(((xs - 80) / 40.0) ** 2 + ((ys - 60) / 12.0) ** 2 <= 1.0, 255, 0).astype(np.uint8)
    lifted = _shaded_lab(170.0, 0.0, (136.0, 142.0))
    lifted[lips > 0] = (225.0, 140.0, 137.0)
    lifted[lips > 0, 0] += 10.0 * np.sin(xs[lips > 0] / 2.0)
    target = _shaded_lab(170.0, 0.0, (136.0, 142.0))
    target[lips > 0] = (110.0, 170.0, 150.0)
    return lips, lifted, target


def _around(lips: np.ndarray) -> np.ndarray:
    """The skin round a lip ring: a band 2 to 8 pixels out."""
    return cv2.dilate(lips, np.ones((17, 17), np.uint8)) & ~cv2.dilate(lips, np.ones((5, 5), np.uint8))


def _lip_means(image: np.ndarray, lips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean OpenCV Lab of the inner lips and of the skin round them."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(float)
    inner = cv2.erode(lips, np.ones((5, 5), np.uint8)) > 0
    return lab[inner].mean(axis=0), lab[_around(lips) > 0].mean(axis=0)


def _dark_photo(lips: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The dark photo before the lift (OpenCV Lab: its lips lighter than its skin), its skin statistics and
    the pale target's."""
    before = _shaded_lab(90.0, 0.0, (150.0, 155.0))
    before[lips > 0] = (110.0, 160.0, 150.0)
    source_stats = np.array([[90.0, 150.0, 155.0], [5.0, 2.0, 2.0]], np.float32)
    skin_stats = np.array([[170.0, 136.0, 142.0], [5.0, 2.0, 2.0]], np.float32)
    return before, source_stats, skin_stats


def test_a_dark_faces_pale_lips_take_the_targets_lip_level_not_a_white_mouth():
    """A dark face's lips are lighter and pinker than its skin; lifted with the skin onto a pale target
    they came out paler than the new skin (white lips on dark_lowres onto talking_frontal, and a mouth the
    landmark model no longer followed). With a skin tone that far from the target's, the lips relate to
    their new skin as the target's lips to its skin, keep their own texture, and the skin beyond the
    feather is untouched."""
    from tryon_cli.colour import match_lips

    lips, lifted, target = _lip_scene()
    before, source_stats, skin_stats = _dark_photo(lips)
    image = _rgb(lifted)
    out = match_lips(image, _rgb(before), _rgb(target), lips, lips, _around(lips), source_stats, skin_stats, 2.0)
    own, skin = _lip_means(out, lips)
    assert abs(own[0] - 110.0) < 5  # the target's lip level: darker than the skin
    # the photo's own chroma against the skin (10, -5), moved LIP_CHROMA_PULL toward the target's red (34, 8)
    assert abs(np.hypot(*(own[1:] - skin[1:] - np.array([10.0, -5.0]))) - 6.0) < 2.0
    inner = cv2.erode(lips, np.ones((5, 5), np.uint8)) > 0
    assert cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[inner][:, 0].std() > 2.0  # the lines are kept
    far = cv2.dilate(lips, np.ones((15, 15), np.uint8)) == 0
    assert np.abs(cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[far].astype(int)
                  - cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[far]).max() <= 1


def test_a_pale_photos_lips_on_a_dark_target_are_not_deep_red():
    """Carried with the skin's lift, a pale photo's pink lips came out deep red on a dark target
    (portrait_b onto grimaces_blinks: L 58, a 164 under skin L 105, a 151; the target's own lips read L 78,
    a 150). With a skin tone that far from the target's (LIP_TONE_CHANGE) they relate to the new skin as
    the target's lips do: the target's lips' lightness ratio and no redder than its lips against its skin."""
    from tryon_cli.colour import match_lips

    lips, _, _ = _lip_scene()
    before = _shaded_lab(175.0, 0.0, (136.0, 138.0))
    before[lips > 0] = (120.0, 148.0, 136.0)
    lifted = _shaded_lab(105.0, 0.0, (151.0, 157.0))
    lifted[lips > 0] = (58.0, 164.0, 147.0)
    target = _shaded_lab(105.0, 0.0, (151.0, 157.0))
    target[lips > 0] = (78.0, 150.0, 153.0)
    source_stats = np.array([[175.0, 136.0, 138.0], [5.0, 2.0, 2.0]], np.float32)  # 1.67x the target's
    skin_stats = np.array([[105.0, 151.0, 157.0], [5.0, 2.0, 2.0]], np.float32)
    out = match_lips(_rgb(lifted), _rgb(before), _rgb(target), lips, lips, _around(lips), source_stats,
                     skin_stats, 2.0)
    own, skin = _lip_means(out, lips)
    assert abs(own[0] / skin[0] - 78.0 / 105.0) < 0.04
    # not deep red: its own 12 over the skin, moved LIP_CHROMA_PULL toward the target's -1
    assert own[1] - skin[1] < 7.0


def test_a_mans_lips_keep_their_own_tone_on_a_target_wearing_lipstick():
    """A dark, green-tinted film still's lips (4 redder than the skin) onto a pale target wearing red lipstick
    (33 redder): set against the skin as the target's lips, the man got her lipstick (portrait_side_light
    onto talking_frontal). The lips take the target's lightness relation (the light's), but their chroma
    moves at most LIP_CHROMA_PULL from their own."""
    from tryon_cli.colour import match_lips

    lips, lifted, target = _lip_scene()  # the target's lips: L 110, a 170 (34 over its skin's 136)
    before = _shaded_lab(67.0, 0.0, (115.0, 136.0))
    before[lips > 0] = (55.0, 119.0, 133.0)  # 4 redder, 3 less yellow than its skin
    source_stats = np.array([[67.0, 115.0, 136.0], [5.0, 2.0, 2.0]], np.float32)
    skin_stats = np.array([[170.0, 136.0, 142.0], [5.0, 2.0, 2.0]], np.float32)
    out = match_lips(_rgb(lifted), _rgb(before), _rgb(target), lips, lips, _around(lips), source_stats,
                     skin_stats, 2.0)
    own, skin = _lip_means(out, lips)
    assert abs(own[0] / skin[0] - 110.0 / 170.0) < 0.04  # lit as the target's lips
    assert own[1] - skin[1] < 11.0  # its own 4 and LIP_CHROMA_PULL (6) toward hers; 34 (the lipstick) before


def test_lips_darker_than_the_skin_keep_their_own_colour_on_a_skin_of_the_same_tone():
    """Natural lips are darker than the skin round them: matched anyway, a dark face's lips on a dark
    target darkened into the target's moustache (dark_lowres onto grimaces_blinks, mouth correlation
    0.92 -> 0.83) and, set against the skin, the tests' talking head read further from its source (0.603,
    bar 0.6). On a skin of about the same tone only lips as pale as the skin are matched."""
    from tryon_cli.colour import match_lips

    lips, lifted, target = _lip_scene()
    lifted[lips > 0, 0] -= 90.0  # the face's lips now well below its skin (135 against 170)
    before = lifted.copy()
    stats = np.array([[170.0, 136.0, 142.0], [5.0, 2.0, 2.0]], np.float32)
    image = _rgb(lifted)
    assert np.array_equal(match_lips(image, _rgb(before), _rgb(target), lips, lips, _around(lips), stats, stats,
                                     2.0), image)


def test_the_lips_match_works_on_the_lips_box_alone():
    """The lips' match reads the lips and their skin ring and changes pixels within its feather's reach of
    them only (matched on that box: the whole image's Lab round trip cost 6 ms a 720 frame): set in a
    larger image of other colours, the scene comes out as on its own and everything beyond the reach is
    the input's, bit for bit (before, the far pixels went through 8-bit Lab and back)."""
    from tryon_cli.colour import match_lips

    lips, lifted, target = _lip_scene()
    before, source_stats, skin_stats = _dark_photo(lips)
    alone = match_lips(_rgb(lifted), _rgb(before), _rgb(target), lips, lips, _around(lips), source_stats,
                       skin_stats, 2.0)
    rng = np.random.default_rng(5)
    at = (slice(70, 190), slice(90, 250))  # the scene's place in a 300 x 400 image of random colours

    def embedded(scene: np.ndarray) -> np.ndarray:
        big = (rng.random((300, 400) + scene.shape[2:]) * 255).astype(np.uint8) if scene.ndim == 3 else \
            np.zeros((300, 400), np.uint8)
        big[at] = scene
        return big

    image = embedded(_rgb(lifted))
    ring = embedded(_around(lips))
    out = match_lips(image, embedded(_rgb(before)), embedded(_rgb(target)), embedded(lips), embedded(lips), ring,
                     source_stats, skin_stats, 2.0)
    assert np.array_equal(out[at], alone)
    reach = cv2.dilate(embedded(lips) | ring, np.ones((19, 19), np.uint8)) > 0  # 2 sigma x 4, and a pixel
    assert np.array_equal(out[~reach], image[~reach])


def test_the_targets_lips_are_read_without_its_teeth_or_moustache():
    """A grimace puts teeth inside the target's lip ring and a moustache hangs over it: read as lips,
    they made the swapped lips pale grey on a dark target (dark_lowres onto grimaces_blinks, mouth
    correlation 0.88 -> 0.65 on branch facelook4). Only the ring's redder half is its lips."""
    from tryon_cli.colour import match_lips

    lips, lifted, target = _lip_scene()
    ys, xs = np.mgrid[:120, :160]
    ring = lips > 0
    target[ring & (ys >= 58) & (ys <= 64)] = (235.0, 129.0, 133.0)  # teeth across the middle of the ring
    target[ring & (ys < 52)] = (45.0, 131.0, 132.0)  # a moustache over the upper lip
    before, source_stats, skin_stats = _dark_photo(lips)
    out = match_lips(_rgb(lifted), _rgb(before), _rgb(target), lips, lips, _around(lips), source_stats,
                     skin_stats, 2.0)
    own, _ = _lip_means(out, lips)
    assert abs(own[0] - 110.0) < 6  # the lips' own level, not lifted by the teeth
    assert own[1] > 150.0  # and red, not greyed


def test_laplacian_variance_on_the_regions_box_equals_the_whole_images():
    """The Laplacian taken on the region's box grown by its kernel's reach gives the whole image's values
    over the region, exactly, for regions inside the image and touching its edges."""
    rng = np.random.default_rng(3)
    for trial in range(40):
        h, w = (int(v) for v in rng.integers(40, 120, 2))
        grey = (rng.random((h, w)) * 255).astype(np.float32)
        region = np.zeros((h, w), dtype=np.uint8)
        x0, y0 = (0, 0) if trial % 4 == 0 else (int(rng.integers(1, w // 2)), int(rng.integers(1, h // 2)))
        x1, y1 = (w, h) if trial % 4 == 1 else (int(rng.integers(x0 + 16, w + 1)), int(rng.integers(y0 + 16, h + 1)))
        region[y0:y1, x0:x1] = 255
        whole = cv2.Laplacian(grey, cv2.CV_32F)[region > 0]
        assert laplacian_variance(grey, region) == float(whole.var())


def test_transfer_skin_leaves_the_face_as_mapped_where_no_target_skin_is_in_reach():
    """Normalised convolution over a target skin mask with a hole wider than the blur's reach divided by its
    floor there: a chroma near 0 (deep blue blots) and a dark lightness. Once a target's moustache and the
    stubble round it were left out of its skin, its upper lip was such a hole. There the face keeps the
    global match (no local correction), as it is everywhere on a uniform target."""
    from tryon_cli.colour import transfer_skin

    size = (120, 160)
    image = _rgb(np.dstack([np.full(size, 150.0), np.full(size, 140.0), np.full(size, 142.0)]))
    target = _rgb(np.dstack([np.full(size, 170.0), np.full(size, 136.0), np.full(size, 146.0)]))
    skin = np.full(size, 255, np.uint8)
    holed = skin.copy()
    holed[30:90, 50:110] = 0  # its middle 30 px (3.75 lighting sigmas, 7.5 chroma sigmas) from any skin
    stats = skin_colour_statistics(image, skin), skin_colour_statistics(target, skin)
    def lab(target_skin: np.ndarray, **options: bool) -> np.ndarray:
        out = transfer_skin(image, *stats, target, skin, target_skin, sigma=8.0, **options)
        return cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[55:66, 75:86].reshape(-1, 3).mean(axis=0).astype(float)

    middle, mapped = lab(holed), lab(skin, chroma_low_band=False)  # the global match alone
    assert np.abs(middle - mapped).max() < 1.5, (middle, mapped)


def _mirror_partners(points: np.ndarray) -> np.ndarray:
    """Each point's left/right partner on the hemisphere (mirrored about its vertical axis)."""
    centre = (points[:, 0].max() + points[:, 0].min()) / 2
    mirrored = points[:, :2] * (-1.0, 1.0) + (2 * centre, 0.0)
    return np.argmin(np.linalg.norm(points[None, :, :2] - mirrored[:, None, :], axis=2), axis=1)


def test_a_side_lights_odd_shading_is_divided_out_and_the_faces_symmetric_features_kept():
    """A hemisphere lit from the left, with two dark 'eye sockets' placed symmetrically: the light's odd part
    (the one difference between mirrored points) goes, both halves come out alike, and the sockets (albedo
    both sides share, as the shading of an eye socket or a nose's shape) stay as dark against their skin."""
    from tryon_cli.face3d.lighting import divide_side_light, side_light

    points, triangles, normals = _hemisphere()
    mirror = _mirror_partners(points)
    inside = normals[..., 2] > 0.35
    albedo = np.ones(inside.shape, np.float32)
    for x in (55, 105):
        cv2.circle(albedo, (x, 65), 9, 0.6, -1)
    shade = np.clip(normals @ np.array([-0.7, 0.0, 0.7]), 0, 1) * 0.6 + 0.4
    image = np.clip(np.array(SKIN, np.float32) * (albedo * shade)[..., None], 0, 255).astype(np.uint8)
    skin = np.where(inside & (albedo == 1.0), 255, 0).astype(np.uint8)
    odd, spread = side_light(image, points, triangles, mirror, skin)
    out = divide_side_light(image, points, triangles, odd)
    grey_in = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(float)
    grey = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY).astype(float)
    left, right = grey[45:115, 30:70], grey[45:115, 90:130]
    assert abs(left.mean() - right.mean()) < 0.25 * abs(grey_in[45:115, 30:70].mean() - grey_in[45:115, 90:130].mean())
    for x in (55, 105):  # each socket as dark against the skin beside it (below) as the albedo says
        assert 0.5 < grey[65, x] / grey[85, x] < 0.72
    assert spread > 0.2
    evenly_lit = np.clip(np.array(SKIN, np.float32) * albedo[..., None], 0, 255).astype(np.uint8)
    odd, spread = side_light(evenly_lit, points, triangles, mirror, skin)
    assert spread < 0.02  # the symmetric sockets are no side light
    assert np.abs(divide_side_light(evenly_lit, points, triangles, odd).astype(int) - evenly_lit).max() <= 3


def test_prepare_source_evens_out_a_strong_side_light_only(astronaut, monkeypatch):
    """With `even_light`, a photo with one half face far darker than the other (as dark_lowres) comes out of
    `prepare_source` with its halves close; a photo in ordinary light (the astronaut's, soft from one side) is
    left as it is."""
    from pathlib import Path

    from tryon_cli.faceswap import source
    from tryon_cli.faceswap.source import prepare_source
    from tryon_cli.masks.face import skin_sample_region

    def untouched(*args, **kwargs):
        raise AssertionError("the photo was evened out")

    with monkeypatch.context() as patch:
        patch.setattr(source, "divide_side_light", untouched)
        even = prepare_source([(Path("even.png"), astronaut)], even_light=True)
    x0, x1 = even.texture_points[:, 0].min(), even.texture_points[:, 0].max()
    ramp = np.clip(1.0 - 0.7 * (np.arange(astronaut.shape[1]) - (x0 + x1) / 2) / ((x1 - x0) / 2), 0.2, 2.0)
    photo = np.clip(astronaut.astype(np.float32) * ramp[None, :, None], 0, 255).astype(np.uint8)
    lit = prepare_source([(Path("side.png"), photo)], even_light=True)
    with monkeypatch.context() as patch:  # opt-in: without it, not even the side-lit photo is evened
        patch.setattr(source, "divide_side_light", untouched)
        prepare_source([(Path("side.png"), photo)])
    ys, cols = np.nonzero(skin_sample_region(photo.shape[:2], lit.texture_points) > 0)
    middle = np.median(cols)

    def imbalance(texture: np.ndarray) -> float:
        grey = cv2.cvtColor(texture, cv2.COLOR_RGB2GRAY).astype(float)
        return float(grey[ys[cols > middle], cols[cols > middle]].mean() - grey[ys[cols <= middle], cols[cols <= middle]].mean())

    assert abs(imbalance(lit.texture)) < 0.3 * abs(imbalance(photo))
