"""3D fitting, rasterisation, masks, blending and temporal filters."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from tryon_cli.render.classical.blend import composite
from tryon_cli.colour import transfer_skin
from tryon_cli.face3d.fitting import recombine, rotation_angle_degrees, similarity_fit
from tryon_cli.face3d.raster import normal_map, rasterize, triangulate, warp_texture
from tryon_cli.masks.shapes import feather
from tryon_cli.temporal import ExponentialAverage, OneEuroFilter, SceneCutDetector


def test_similarity_fit_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(40, 3))
    rotation = Rotation.from_euler("xyz", [10, -25, 5], degrees=True).as_matrix()
    moved = 2.5 * points @ rotation.T + np.array([3.0, -1.0, 7.0])
    pose = similarity_fit(points, moved)
    assert pose.scale == pytest.approx(2.5, rel=1e-6)
    assert rotation_angle_degrees(pose.rotation, rotation) < 1e-4
    np.testing.assert_allclose(pose.apply(points), moved, atol=1e-4)
    np.testing.assert_allclose(pose.invert(moved), points, atol=1e-4)


def test_recombine_takes_identity_from_source_and_expression_from_target():
    rng = np.random.default_rng(1)
    source_id = rng.normal(size=(478, 3))
    target_id = source_id + rng.normal(scale=0.01, size=(478, 3))
    expression = np.zeros((478, 3))
    expression[13] = (0, -0.2, 0)  # upper inner lip moves
    out = recombine(source_id, target_id, target_id + expression, eye_opening_share=0.0)
    np.testing.assert_allclose(out, source_id + expression, atol=1e-6)


def test_recombined_eyes_close_toward_the_targets_opening_and_keep_the_sources_outline():
    """A glaring source photo (eyes wider than the target's): the recombined eye closes EYE_OPENING_SHARE of
    the way to the target's opening (lid gap over eye width), all of it with share 1, its corners and
    width the source's; a target blink shuts it. A squint is never opened (its lids would stretch)."""
    from tryon_cli.face3d import landmarks as lm
    from tryon_cli.face3d.fitting import EYE_OPENING_SHARE, match_eye_opening
    from tryon_cli.face3d.landmarks import eye_opening

    def eyes(opening: float, width: float = 1.0) -> np.ndarray:
        shape = np.zeros((478, 3))
        for loop, corners, side in ((lm.RIGHT_EYE, lm.RIGHT_EYE_CORNERS, -1.0), (lm.LEFT_EYE, lm.LEFT_EYE_CORNERS, 1.0)):
            angles = np.linspace(0, 2 * np.pi, len(loop), endpoint=False)
            shape[loop, 0] = side * 1.5 + 0.5 * width * np.cos(angles)
            shape[loop, 1] = 0.5 * opening * width * np.sin(angles)
            shape[corners[0], :2] = (side * 1.5 - 0.5 * width, 0.0)
            shape[corners[1], :2] = (side * 1.5 + 0.5 * width, 0.0)
        for (upper, lower), side in ((lm.RIGHT_EYE_LIDS, -1.0), (lm.LEFT_EYE_LIDS, 1.0)):
            shape[upper, :2] = (side * 1.5, -0.5 * opening * width)  # the lids' middles
            shape[lower, :2] = (side * 1.5, 0.5 * opening * width)
        return shape

    glare, target = eyes(0.4, width=0.8), eyes(0.3)
    lids = (lm.RIGHT_EYE_LIDS, lm.RIGHT_EYE_CORNERS)
    out = recombine(glare, target, target)
    assert 0 < EYE_OPENING_SHARE < 1
    assert eye_opening(out, *lids) == pytest.approx(0.4 - EYE_OPENING_SHARE * 0.1, rel=0.02)
    full = recombine(glare, target, target, eye_opening_share=1.0)
    assert eye_opening(full, *lids) == pytest.approx(0.3, rel=0.02)
    assert eye_opening(recombine(glare, target, target, eye_opening_share=0.0), *lids) == pytest.approx(0.4)
    np.testing.assert_allclose(out[list(lm.RIGHT_EYE_CORNERS), :2], glare[list(lm.RIGHT_EYE_CORNERS), :2], atol=1e-6)
    assert np.ptp(out[lm.RIGHT_EYE, 0]) == pytest.approx(np.ptp(glare[lm.RIGHT_EYE, 0]))  # the source's width
    squint = eyes(0.15)
    assert eye_opening(match_eye_opening(squint, target, 1.0), *lids) == pytest.approx(0.15, rel=0.02)
    assert eye_opening(match_eye_opening(glare, eyes(0.0), 1.0), *lids) < 0.01  # a blink shuts it
    # a target whose eyes stay shut all along (its rest face shut too, so its expression holds no closing):
    # the recombined eye is shut, not half-way
    shut = eyes(0.05)
    assert eye_opening(recombine(glare, shut, shut), *lids) == pytest.approx(0.05, rel=0.05)
    narrowed = eye_opening(recombine(glare, eyes(0.12), eyes(0.12)), *lids)  # a squint: part of the way more
    assert 0.12 < narrowed < 0.4 - EYE_OPENING_SHARE * 0.28


def test_a_target_blink_shuts_a_source_eye_whose_lid_points_are_not_above_one_another():
    """A photo's mesh puts its two lid points apart along the corner line (0.14 of the eye's width on
    portrait_a): measured as their straight distance, the gap never fell below that, so a target's shut
    eye left the recombined eye reading open (0.13), and the renderer drew it open, a pale slit. The
    opening is the gap across the corner line: the lids meet, the eye reads shut."""
    from tryon_cli.face3d import landmarks as lm
    from tryon_cli.face3d.fitting import match_eye_opening
    from tryon_cli.face3d.landmarks import eye_opening

    def eyes(opening: float, skew: float) -> np.ndarray:
        shape = np.zeros((478, 3))
        for loop, corners, lids, side in ((lm.RIGHT_EYE, lm.RIGHT_EYE_CORNERS, lm.RIGHT_EYE_LIDS, -1.0),
                                          (lm.LEFT_EYE, lm.LEFT_EYE_CORNERS, lm.LEFT_EYE_LIDS, 1.0)):
            angles = np.linspace(0, 2 * np.pi, len(loop), endpoint=False)
            shape[loop, 0] = side * 1.5 + 0.5 * np.cos(angles)
            shape[loop, 1] = 0.5 * opening * np.sin(angles)
            shape[corners[0], :2], shape[corners[1], :2] = (side * 1.5 - 0.5, 0.0), (side * 1.5 + 0.5, 0.0)
            shape[lids[0], :2] = (side * 1.5 - skew / 2, -0.5 * opening)  # upper lid point
            shape[lids[1], :2] = (side * 1.5 + skew / 2, 0.5 * opening)  # lower, 'skew' along the line
        return shape

    lids = (lm.RIGHT_EYE_LIDS, lm.RIGHT_EYE_CORNERS)
    photo = eyes(0.35, skew=0.14)
    assert eye_opening(photo, *lids) == pytest.approx(0.35)  # the skew does not count as opening
    shut = match_eye_opening(photo, eyes(0.0, skew=0.04), 1.0)
    assert eye_opening(shut, *lids) < 0.01
    # the rotated face reads the same
    turn = np.array([[np.cos(0.4), -np.sin(0.4), 0], [np.sin(0.4), np.cos(0.4), 0], [0, 0, 1]])
    assert eye_opening(photo @ turn.T, *lids) == pytest.approx(0.35)


def _grid_mesh(size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.meshgrid(np.linspace(4, size - 5, 6), np.linspace(4, size - 5, 6))
    points = np.stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)], axis=1).astype(np.float32)
    return points, triangulate(points)


def test_identity_warp_reproduces_the_texture():
    rng = np.random.default_rng(2)
    texture = rng.integers(0, 255, size=(64, 64, 3), dtype=np.uint8)
    points, triangles = _grid_mesh()
    raster = rasterize(points, triangles, (64, 64))
    warped = warp_texture(texture, points, raster, triangles)
    h, w = raster.shape
    inside = raster.coverage
    region = texture[raster.y0 : raster.y0 + h, raster.x0 : raster.x0 + w]
    assert inside.mean() > 0.9
    assert np.abs(warped[inside].astype(int) - region[inside].astype(int)).max() <= 1


def test_raster_interpolation_is_each_pixels_barycentric_mix_and_fill_outside():
    """Every covered pixel gets its triangle's barycentric mix of the vertex values (per channel); every
    uncovered pixel the fill."""
    rng = np.random.default_rng(5)
    points, triangles = _grid_mesh()
    points[:, :2] += rng.uniform(-2, 2, size=(len(points), 2)).astype(np.float32)
    values = rng.uniform(-50, 50, size=(len(points), 3)).astype(np.float32)
    raster = rasterize(points, triangles, (64, 64))
    out = raster.interpolate(values, triangles, fill=-7.0)
    assert out.shape == raster.shape + (3,) and out.dtype == np.float32
    ys, xs = np.nonzero(raster.coverage)
    tri = triangles[raster.triangle[ys, xs]]
    corners = raster.xy[tri]  # (n, 3, 2), frame pixels
    p = np.stack([xs + raster.x0, ys + raster.y0], axis=1).astype(np.float64)
    e1, e2, d = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0], p - corners[:, 0]
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    l1 = (d[:, 0] * e2[:, 1] - d[:, 1] * e2[:, 0]) / det
    l2 = (e1[:, 0] * d[:, 1] - e1[:, 1] * d[:, 0]) / det
    wanted = (1 - l1 - l2)[:, None] * values[tri[:, 0]] + l1[:, None] * values[tri[:, 1]] + l2[:, None] * values[tri[:, 2]]
    np.testing.assert_allclose(out[ys, xs], wanted, atol=1e-2)
    assert (out[~raster.coverage] == -7.0).all() and (~raster.coverage).any()


def test_normal_map_of_a_flat_mesh_faces_the_camera():
    points, triangles = _grid_mesh()
    normals = normal_map(points, triangles, (64, 64))
    centre = normals[32, 32].astype(int)
    assert abs(centre[0] - 128) <= 1 and abs(centre[1] - 128) <= 1 and centre[2] >= 254


def test_feather_is_zero_outside_the_mask():
    mask = np.zeros((50, 50), np.uint8)
    mask[10:40, 10:40] = 255
    alpha = feather(mask, 5)
    assert alpha[mask == 0].max() == 0.0
    assert alpha[25, 25] == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("method", ["feather", "multiband", "poisson"])
def test_composite_leaves_unmasked_pixels_bit_exact(method):
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 255, size=(80, 90, 3), dtype=np.uint8)
    patch = rng.integers(0, 255, size=(80, 90, 3), dtype=np.uint8)
    mask = np.zeros((80, 90), np.uint8)
    mask[20:60, 25:70] = 255
    out = composite(frame, patch, mask, method=method, feather_radius=4)
    np.testing.assert_array_equal(out[mask == 0], frame[mask == 0])
    assert np.abs(out[40, 47].astype(int) - frame[40, 47].astype(int)).sum() > 0


@pytest.mark.parametrize("method", ["feather", "multiband"])
def test_composite_feathers_a_kept_mouth_narrowly_so_the_frames_moustache_does_not_show_around_it(method):
    """A face mask with a hole (the target's mouth kept): at the full feather radius the frame showed
    through a band that wide around the hole (the target's moustache, a grey smudge on the new face).
    With `hole_radius` the band is narrow; the outer edge and the hole itself are as before."""
    frame = np.full((160, 160, 3), 170, np.uint8)
    frame[62:72, 50:110] = 40  # a moustache just above the mouth
    patch = np.full((160, 160, 3), 170, np.uint8)
    mask = np.zeros((160, 160), np.uint8)
    cv2.ellipse(mask, (80, 80), (65, 75), 0, 0, 360, 255, -1)
    mouth = np.zeros_like(mask)
    cv2.ellipse(mouth, (80, 82), (30, 7), 0, 0, 360, 255, -1)
    mask[mouth > 0] = 0
    wide = composite(frame, patch, mask, method=method, feather_radius=16)
    narrow = composite(frame, patch, mask, method=method, feather_radius=16, hole_radius=4)
    lip = (slice(62, 66), slice(60, 100))  # 9 to 13 px above the mouth
    assert wide[lip].astype(int).min() < 140  # the defect: the moustache shows through
    assert narrow[lip].astype(int).min() >= 160
    np.testing.assert_array_equal(narrow[mouth > 0], frame[mouth > 0])
    np.testing.assert_array_equal(narrow[mask == 0], frame[mask == 0])
    solid = np.full_like(mask, 0)
    cv2.ellipse(solid, (80, 80), (65, 75), 0, 0, 360, 255, -1)  # no hole: hole_radius changes nothing
    np.testing.assert_array_equal(composite(frame, patch, solid, method=method, feather_radius=16, hole_radius=4),
                                  composite(frame, patch, solid, method=method, feather_radius=16))


@pytest.mark.parametrize("method", ["feather", "multiband"])
def test_composite_feathers_holes_inside_narrow_over_its_radius_only(method):
    """A swapped mouth's opening (`narrow` weights round it): the swapped lips fade in over `narrow_radius`
    from its edge; over the hole feather's wide band the frame's lips showed through them as an outline.
    A hole elsewhere (an occluder) keeps `hole_radius`."""
    frame = np.full((160, 160, 3), 40, np.uint8)  # the frame's own (darker) lips round both holes
    patch = np.full((160, 160, 3), 170, np.uint8)
    mask = np.zeros((160, 160), np.uint8)
    cv2.ellipse(mask, (80, 80), (65, 75), 0, 0, 360, 255, -1)
    mouth, other = np.zeros_like(mask), np.zeros_like(mask)
    cv2.ellipse(mouth, (80, 110), (24, 6), 0, 0, 360, 255, -1)
    cv2.ellipse(other, (80, 45), (24, 6), 0, 0, 360, 255, -1)
    mask[(mouth > 0) | (other > 0)] = 0
    narrow = np.zeros(mask.shape, np.float32)
    narrow[90:130, 40:120] = 1.0
    out = composite(frame, patch, mask, method=method, feather_radius=16, hole_radius=8, narrow=narrow, narrow_radius=1)
    below_mouth, below_other = (slice(120, 122), slice(70, 90)), (slice(55, 57), slice(70, 90))  # 4-5 px off the holes
    assert out[below_mouth].astype(int).min() >= 150
    assert out[below_other].astype(int).max() < 120  # the wide hole feather there
    np.testing.assert_array_equal(out[mouth > 0], frame[mouth > 0])
    np.testing.assert_array_equal(out[other > 0], frame[other > 0])
    wide = composite(frame, patch, mask, method=method, feather_radius=16, hole_radius=8)
    assert wide[below_mouth].astype(int).max() < 120  # the defect: the frame's lips show through
    far = narrow == 0
    np.testing.assert_allclose(out[far], wide[far], atol=1)  # (the weights' blend rounds)


def _reference_multiband(frame: np.ndarray, patch: np.ndarray, alpha: np.ndarray, levels: int) -> np.ndarray:
    """The textbook Laplacian-pyramid blend (float64, two pyramids, every level at its own size): what
    `composite`'s faster pyramid stands for."""
    def laplacian(image):
        gauss = [image]
        for _ in range(levels):
            gauss.append(cv2.pyrDown(gauss[-1]))
        bands = [gauss[i] - cv2.pyrUp(gauss[i + 1], dstsize=gauss[i].shape[1::-1]) for i in range(levels)]
        return bands + [gauss[-1]]
    masks = [alpha.astype(np.float64)]
    for _ in range(levels):
        masks.append(cv2.pyrDown(masks[-1]))
    ones = laplacian(frame.astype(np.float64)), laplacian(patch.astype(np.float64))
    out = None
    for a, b, m in zip(ones[0][::-1], ones[1][::-1], masks[::-1]):
        level = a * (1.0 - m[..., None]) + b * m[..., None]
        out = level if out is None else cv2.pyrUp(out, dstsize=level.shape[1::-1]) + level
    return out


def test_multiband_composite_matches_the_reference_pyramid_blend_at_the_faces_edge():
    """A synthetic face (textured, lit unlike the frame, with a mouth hole) blended at 1080p scale: the fast
    pyramid (its full-size level built from level 1, in integers) stays within 3 levels of the textbook
    blend everywhere, so it leaves no seam along the outline or round the mouth."""
    from tryon_cli.masks.shapes import fill_holes
    from tryon_cli.render.classical.blend import feather_alpha

    rng = np.random.default_rng(4)
    height, width = 420, 360
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    frame = np.dstack([90 + 60 * xx / width, 70 + 40 * yy / height, np.full_like(xx, 60)])
    frame = np.clip(frame + rng.normal(0, 6, frame.shape), 0, 255).astype(np.uint8)
    texture = cv2.GaussianBlur(rng.normal(0, 25, (height, width, 3)).astype(np.float32), (0, 0), 1.5)
    patch = np.clip(np.dstack([200 - 80 * yy / height, 150 + 0 * xx, 120 + 50 * xx / width]) + texture, 0, 255)
    patch = patch.astype(np.uint8)
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, (180, 210), (140, 180), 0, 0, 360, 255, -1)
    cv2.ellipse(mask, (180, 300), (40, 10), 0, 0, 360, 0, -1)  # a kept mouth
    radius = 24
    out = composite(frame, patch, mask, method="multiband", feather_radius=radius, hole_radius=radius // 2)
    # the reference, built the same way: the filled outline's wide feather as the bands' masks, the final
    # alpha with the hole feathered narrowly, on composite's own crop
    box = (slice(2, 418), slice(0, 360))  # the mask's box grown by 2 * radius + 4, cut to the frame
    levels = int(np.clip(np.log2(max(min(416, 360) / 16, 1)), 1, 5))
    bands = feather_alpha(fill_holes(mask[box]), radius)
    alpha = np.minimum(bands, feather_alpha(mask[box], radius // 2))[..., None]
    changed = np.clip(_reference_multiband(frame[box], patch[box], bands, levels), 0, 255)
    expected = frame[box] * (1.0 - alpha) + changed * alpha
    difference = np.abs(out[box].astype(np.float64) - expected)
    edge = (alpha[..., 0] > 0.02) & (alpha[..., 0] < 0.98)  # the feathered outline and the mouth's rim
    assert edge.sum() > 10_000
    assert difference.max() <= 3.0
    assert difference[edge].mean() < 0.6
    assert abs((out[box].astype(np.float64) - expected)[edge].mean()) < 0.3  # no bias (a seam's step)


def test_narrow_lip_feather_on_its_box_equals_the_whole_masks():
    """The lips' narrow feather is made on the lip weights' box (grown by its reach) only: inside that box
    it is the whole mask's feather bit for bit, wherever the box lies (edges of the mask included)."""
    from tryon_cli.render.classical.blend import _narrow_holes

    rng = np.random.default_rng(5)
    for _ in range(20):
        mask = np.zeros((200, 180), np.uint8)
        cv2.ellipse(mask, (int(rng.integers(40, 140)), int(rng.integers(40, 160))), (int(rng.integers(30, 90)),
                    int(rng.integers(30, 110))), float(rng.uniform(0, 180)), 0, 360, 255, -1)
        cv2.ellipse(mask, (int(rng.integers(20, 160)), int(rng.integers(20, 180))), (20, 6), 0, 0, 360, 0, -1)
        weight = np.zeros(mask.shape, np.float32)
        x, y = int(rng.integers(0, 150)), int(rng.integers(0, 170))
        weight[y : y + int(rng.integers(5, 50)), x : x + int(rng.integers(5, 60))] = rng.uniform(0.1, 1.0)
        holes = rng.uniform(0, 1, mask.shape).astype(np.float32)
        radius = int(rng.integers(1, 9))
        whole = cv2.blendLinear(holes, feather(mask, radius), 1.0 - weight, weight)
        boxed = _narrow_holes(holes, mask, weight, radius)
        np.testing.assert_array_equal(boxed[weight > 0], whole[weight > 0])
        np.testing.assert_allclose(boxed, whole, atol=1e-4)  # elsewhere only blendLinear's epsilon


def test_colour_transfer_moves_the_mean_and_takes_the_targets_lighting():
    import cv2

    image = np.full((20, 20, 3), (180, 120, 100), np.uint8)
    source = np.array([[150.0, 140.0, 150.0], [5.0, 5.0, 5.0]])
    target = np.array([[120.0, 150.0, 160.0], [5.0, 5.0, 5.0]])
    skin = np.full((20, 20), 255, np.uint8)
    darker = cv2.cvtColor((image * 0.6).astype(np.uint8), cv2.COLOR_RGB2LAB)[0, 0]  # the frame is darker: its lighting
    darker_frame = cv2.cvtColor(np.full((20, 20, 3), (darker[0], 150, 160), np.uint8), cv2.COLOR_LAB2RGB)
    out = transfer_skin(image, source, target, darker_frame, skin, skin, sigma=4.0)
    before = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).reshape(-1, 3).mean(0)
    after = cv2.cvtColor(out, cv2.COLOR_RGB2LAB).reshape(-1, 3).mean(0)
    frame = cv2.cvtColor(darker_frame, cv2.COLOR_RGB2LAB).reshape(-1, 3).mean(0)
    assert after[1] > before[1] and after[2] > before[2]  # chroma towards the target's
    assert np.allclose(after[1:], frame[1:], atol=1.5)  # and is the frame's skin chroma
    assert abs(after[0] - frame[0]) < 2.0  # lightness is the frame's, whatever the gain


def test_one_euro_reduces_jitter_and_keeps_constants():
    rng = np.random.default_rng(4)
    noisy = 100 + rng.normal(scale=2.0, size=(200, 3))
    filt = OneEuroFilter(min_cutoff=0.5, beta=0.0)
    smoothed = np.array([filt(x, 1 / 30) for x in noisy])
    assert np.diff(smoothed[50:], axis=0).std() < 0.3 * np.diff(noisy[50:], axis=0).std()
    const = OneEuroFilter()
    assert all(np.allclose(const(np.full(3, 7.0), 1 / 30), 7.0) for _ in range(10))


def test_one_euro_follows_fast_motion_with_beta():
    slow, fast = OneEuroFilter(min_cutoff=0.5, beta=0.0), OneEuroFilter(min_cutoff=0.5, beta=1.0)
    for t in range(30):
        x = np.array([t * 10.0])
        a, b = slow(x, 1 / 30), fast(x, 1 / 30)
    assert abs(b[0] - 290) < abs(a[0] - 290)


def test_exponential_average_and_scene_cuts():
    average = ExponentialAverage(keep=0.5)
    average(np.array([0.0]))
    assert average(np.array([2.0]))[0] == pytest.approx(1.0)
    cuts = SceneCutDetector()
    red = np.zeros((40, 40, 3), np.uint8)
    red[..., 0] = 200
    blue = np.zeros((40, 40, 3), np.uint8)
    blue[..., 2] = 200
    assert [cuts(red), cuts(red), cuts(blue)] == [False, False, True]


def test_the_scene_cut_thumbnail_is_the_frames_area_average_by_whole_factors_first(astronaut):
    """The scene-cut test reads the histogram of each frame's colours area-averaged to 64x36; shrunk by whole
    factors first (a 1080x1080 frame cost 4 ms otherwise, the generic area resize), the histogram stays the
    one-step average's, square, portrait and odd sizes alike, and a 16:9 frame of a whole factor is exact."""
    from tryon_cli.temporal import CUT_THUMBNAIL, thumbnail

    def histogram(small: np.ndarray) -> np.ndarray:
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
        return cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256])

    for height, width in ((1080, 1080), (1108, 692), (721, 1279), (720, 1280), (30, 50)):
        image = cv2.resize(astronaut, (width, height), interpolation=cv2.INTER_CUBIC)
        one_step = cv2.resize(image, CUT_THUMBNAIL, interpolation=cv2.INTER_AREA)
        small = thumbnail(image)
        assert small.shape == one_step.shape
        assert cv2.compareHist(histogram(small), histogram(one_step), cv2.HISTCMP_CORREL) > 0.99, (height, width)
        if (height, width) in ((720, 1280), (30, 50)):
            assert np.array_equal(small, one_step)
