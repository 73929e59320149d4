"""Speed work that must not change results: the pipelined swap, low-resolution helpers, `tryon benchmark`."""

from __future__ import annotations

import json
import threading

import cv2
import numpy as np
import pytest

from conftest import run_cli
from tryon_cli import colour
from tryon_cli.faceswap import runner
from tryon_cli.faceswap.runner import swap_frames
from tryon_cli.faceswap.source import prepare_source
from tryon_cli.io.media import read_image
from tryon_cli.io.video import iter_frames
from tryon_cli.masks.face import feature_regions, skin_sample_region, skin_statistics
from tryon_cli.masks.shapes import as_mask, dilate, erode, erode_disc, feather, fill_holes
from tryon_cli.pipeline import threaded, threaded_map
from tryon_cli.render.classical.blend import feather_alpha
from tryon_cli.render.classical.engine import ClassicalEngine


def test_threaded_keeps_order_and_reraises():
    assert list(threaded(iter(range(50)), depth=2)) == list(range(50))

    def failing():
        yield 1
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        list(threaded(failing()))


def test_threaded_stops_and_closes_its_source_when_the_consumer_leaves():
    closed = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    stream = threaded(endless(), depth=3)
    assert [next(stream) for _ in range(5)] == [0, 1, 2, 3, 4]
    stream.close()
    assert closed.wait(5)


def test_threaded_map_keeps_order_runs_at_once_and_reraises():
    started, release = threading.Barrier(2, timeout=5), threading.Event()

    def slow_square(n: int) -> int:
        if n < 2:
            started.wait()  # the first two items run at the same time, or this times out
        if n == 0:
            release.wait(5)  # item 0 finishes last: the order is still kept
        if n == 1:
            release.set()
        return n * n

    assert list(threaded_map(slow_square, range(20), workers=2)) == [n * n for n in range(20)]

    def failing(n: int) -> int:
        if n == 3:
            raise ValueError("boom")
        return n

    stream = threaded_map(failing, range(10), workers=2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="boom"):
        next(stream)


def test_threaded_map_stops_and_closes_its_source_when_the_consumer_leaves():
    closed, seen = threading.Event(), []

    def endless():
        try:
            n = 0
            while True:
                seen.append(n)
                yield n
                n += 1
        finally:
            closed.set()

    stream = threaded_map(lambda n: n + 1, endless(), workers=2, ahead=1)
    assert [next(stream) for _ in range(5)] == [1, 2, 3, 4, 5]
    stream.close()
    assert closed.is_set() and len(seen) <= 5 + 2 + 1  # bounded look-ahead


def test_pipelined_swap_equals_sequential(talking_video, source_photo, monkeypatch):
    source = prepare_source([(source_photo, read_image(source_photo))])

    def run(workers: int = 2) -> dict[int, np.ndarray]:
        written: dict[int, np.ndarray] = {}
        frames = lambda: (f for f in iter_frames(talking_video) if f.index < 12)  # noqa: E731
        report = swap_frames(frames, source, ClassicalEngine(workers=workers), lambda f, image: written.__setitem__(f.index, image.copy()))
        assert report.swapped == 12
        return written

    pipelined = run()  # stages in threads, two frames rendered at once
    monkeypatch.setattr(runner, "threaded", lambda items, **_: iter(items))
    sequential = run(workers=1)
    assert sorted(pipelined) == sorted(sequential) == list(range(12))
    for index in sequential:
        np.testing.assert_array_equal(pipelined[index], sequential[index])


@pytest.fixture(scope="module")
def big_face(astronaut):
    """The astronaut at 3x (a face ~400 px wide) and its mesh."""
    from tryon_cli.analysis.face import FaceMeshAnalyzer

    image = cv2.resize(astronaut, (1536, 1536), interpolation=cv2.INTER_CUBIC)
    with FaceMeshAnalyzer(1, tracking=False) as analyzer:
        faces = analyzer.detect(image)
    assert faces
    return image, faces[0].points.astype(np.float32)


def test_low_res_skin_region_matches_full_res(big_face):
    image, points = big_face
    assert np.ptp(points[:, 0]) > 250  # well above the 160 px work width
    full = skin_sample_region(image.shape[:2], points, work_width=float("inf")) > 0
    low = skin_sample_region(image.shape[:2], points) > 0
    iou = (full & low).sum() / (full | low).sum()
    assert iou > 0.9, iou  # outline moves by about one low-resolution pixel (~1.7 px here)
    # Colour statistics from either region agree within a fraction of a Lab unit.
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    np.testing.assert_allclose(lab[full].mean(axis=0), lab[low].mean(axis=0), atol=1.0)


def test_low_res_shading_ratio_matches_full_res(big_face, monkeypatch):
    image, points = big_face
    # A lighting gradient across the target: the ratio field must follow it at either resolution.
    h, w = image.shape[:2]
    light = np.linspace(0.6, 1.2, w, dtype=np.float32)[None, :, None]
    target = np.clip(image * light, 0, 255).astype(np.uint8)
    skin = skin_sample_region((h, w), points, work_width=float("inf"))
    sigma = 0.1 * float(np.ptp(points[:, 0]))
    image_l = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    low = colour.shading_ratio(image_l, target, skin, skin, sigma)
    monkeypatch.setattr(colour, "LOW_RES_SIGMA", 1e9)  # forces the full-resolution blur
    full = colour.shading_ratio(image_l, target, skin, skin, sigma)
    inside = skin > 0
    assert np.abs(low - full)[inside].max() < 0.03
    assert np.abs(low - full)[inside].mean() < 0.005


def test_shared_skin_low_pass_equals_each_band_computed_alone(big_face):
    """The colour match shrinks and blurs each skin mask once (`SkinLowPass`) for all its bands: every band
    must equal the normalised convolution done from scratch, bit for bit, whatever values it reads: the
    image padded (last row and column repeated) to a multiple of a whole factor, area-averaged down by
    it (OpenCV's fast path), blurred there, upsampled bilinearly and cut back."""
    image, points = big_face
    h, w = image.shape[:2]
    skin = skin_sample_region((h, w), points, work_width=float("inf"))
    sigma = 0.1 * float(np.ptp(points[:, 0]))
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    h, w = h - 5, w - 2  # a size no factor divides
    skin, lab = skin[:h, :w], np.ascontiguousarray(lab[:h, :w])
    shared = colour.SkinLowPass(skin, sigma)
    factor = int(round(sigma / colour.LOW_RES_SIGMA))
    assert shared.factor == factor > 1  # the shrunk path

    def shrunk(values: np.ndarray) -> np.ndarray:
        padded = cv2.copyMakeBorder(values, 0, -h % factor, 0, -w % factor, cv2.BORDER_REPLICATE)
        return cv2.resize(padded, (padded.shape[1] // factor, padded.shape[0] // factor),
                          interpolation=cv2.INTER_AREA)

    weights = shrunk((skin > 0).astype(np.float32))
    for values in (lab[..., 0], np.ascontiguousarray(lab[..., 1:]), lab[..., 0] * 0.5 + 3.0):
        small = colour.masked_blur(shrunk(values), weights, sigma / factor)
        alone = cv2.resize(small, (small.shape[1] * factor, small.shape[0] * factor),
                           interpolation=cv2.INTER_LINEAR)[:h, :w]
        assert np.array_equal(shared(values), alone)
    # the chroma match with the low passes and feather handed in equals the one that makes its own
    target = np.ascontiguousarray(lab[:, ::-1])
    passes = (shared, colour.SkinLowPass(skin[:, ::-1], sigma))
    assert np.array_equal(
        colour.match_shading_chroma(lab, target, skin, skin[:, ::-1], sigma, None, passes,
                                    colour.skin_feather(skin, sigma)),
        colour.match_shading_chroma(lab, target, skin, skin[:, ::-1], sigma))


def test_skin_low_band_where_it_is_small_matches_the_full_size_blur(big_face):
    """The low band taken where its sigma is about LOW_RES_SIGMA pixels (a whole-factor shrink) and
    upsampled stays within a level and a half (0.76 measured), 0.15 on average (0.08), of the normalised convolution at full size, on the skin,
    for the lighting scale and the chroma's half of it."""
    image, points = big_face
    h, w = image.shape[:2]
    skin = skin_sample_region((h, w), points, work_width=float("inf"))
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    inside = cv2.erode(skin, np.ones((3, 3), np.uint8)) > 0
    for share in (1.0, 0.5):
        sigma = share * 0.1 * float(np.ptp(points[:, 0]))
        low = colour.SkinLowPass(skin, sigma)
        assert low.factor > 1
        for values in (np.ascontiguousarray(lab[..., 0]), np.ascontiguousarray(lab[..., 1:])):
            full = colour.masked_blur(values, (skin > 0).astype(np.float32), sigma)
            difference = np.abs(low(values) - full)[inside]
            assert difference.max() < 1.5 and difference.mean() < 0.15, (share, difference.max(), difference.mean())


def test_low_res_feather_matches_full_res(big_face):
    from tryon_cli.masks.face import face_region

    image, points = big_face
    mask = face_region(image.shape[:2], points)
    radius = int(0.06 * np.ptp(points[:, 0]))
    assert radius > 12  # above LOW_RES_FEATHER_RADIUS (8): the low-resolution path
    full, low = feather(mask, radius), feather_alpha(mask, radius)
    assert np.all(low[mask == 0] == 0)  # exactly 0 outside, as the bit-exact guarantee needs
    assert np.abs(low - full).max() < 0.08
    assert np.abs(low - full)[mask > 0].mean() < 0.01


def test_disc_erosion_by_distance_matches_the_ellipse_kernel(big_face):
    from tryon_cli.masks.face import face_region

    image, points = big_face
    mask = face_region(image.shape[:2], points)
    for radius in (3, 8, 16, 30):
        fast, kernel = erode_disc(mask, radius) > 0, erode(mask, radius) > 0
        assert fast.sum() > 0.5 * kernel.sum()
        assert not np.any(fast & (mask == 0))
        # every pixel that differs lies on the kernel's outline, give or take a pixel
        outline = (dilate(kernel.astype(np.uint8), 1) > 0) & ~(erode(kernel.astype(np.uint8), 1) > 0)
        assert not np.any((fast != kernel) & ~outline)
        assert np.count_nonzero(fast != kernel) <= 0.01 * np.count_nonzero(kernel)


def test_detail_amounts_from_moments_equal_forming_each_candidate():
    from tryon_cli.render.classical import detail

    rng = np.random.default_rng(0)
    base = rng.normal(3.0, 10.0, 50_000).astype(np.float32)
    extra = rng.normal(-1.0, 4.0, 50_000).astype(np.float32) + 0.3 * base
    cross = float(np.dot(base, extra))
    for amount in (0.25, 1.0, 3.0):
        mixed = detail._mixed(detail._sums(base), detail._sums(extra), cross, amount)
        assert detail._variance(base.size, mixed) == pytest.approx(float((base + amount * extra).var()), rel=1e-4)
    goal = float((base + 0.75 * extra).var()) * 0.999  # reached first at 0.75
    assert detail._smallest(base.size, detail._sums(base), detail._sums(extra), cross, (0.25, 0.5, 0.75, 1.0),
                            goal) == 0.75


def test_skin_distance_is_the_mahalanobis_distance():
    from tryon_cli.masks.face import skin_distance

    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)
    spread = rng.normal(size=(3, 3))
    covariance, mean = spread @ spread.T * 30 + np.eye(3) * 4, np.array([150.0, 130.0, 140.0])
    centred = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float64) - mean
    expected = np.einsum("hwi,ij,hwj->hw", centred, np.linalg.inv(covariance), centred)
    np.testing.assert_allclose(skin_distance(image, (mean, covariance)), expected, rtol=1e-4, atol=1e-3)


def test_low_res_occlusion_mask_matches_full_res(big_face):
    from tryon_cli.masks.face import face_region, occlusion_mask

    image, points = big_face
    size = float(np.ptp(points[:, 0]))
    occluded = image.copy()
    x0, y0 = int(points[:, 0].min()), int(points[:, 1].mean())
    cv2.rectangle(occluded, (x0, y0), (x0 + int(size * 0.4), y0 + int(size * 0.12)), (20, 120, 30), -1)  # a green bar
    face = face_region(image.shape[:2], points)
    skin = skin_statistics(image, skin_sample_region(image.shape[:2], points))
    full = occlusion_mask(occluded, points, face, skin, work_width=1e9) > 0
    low = occlusion_mask(occluded, points, face, skin, work_width=0.6 * size) > 0  # at half size, as a 1080p close-up
    assert full.sum() > 0.03 * (face > 0).sum()  # the bar is found
    assert (full & ~low).sum() <= 0.05 * full.sum()  # hardly any of it lost at low resolution
    assert (full & low).sum() / (full | low).sum() > 0.8  # the outline within a low-resolution pixel or so


def test_occlusion_mask_in_the_faces_box_equals_the_whole_images(big_face):
    """The occluders are found in the face's box (grown, its corner on the shrink's blocks): the same
    mask as found on the whole image, at shrink 1, 2 and 3, with an occluder across the face's edge."""
    from tryon_cli.masks.face import _occlusion_in, face_region, occlusion_mask, occlusion_factor

    image, points = big_face
    size = float(np.ptp(points[:, 0]))
    occluded = image.copy()
    x, y = int(points[:, 0].min()), int(points[:, 1].mean())
    cv2.rectangle(occluded, (x - 40, y), (x + int(size * 0.4), y + int(size * 0.12)), (20, 120, 30), -1)
    lab = cv2.cvtColor(occluded, cv2.COLOR_RGB2LAB)
    for shift in range(3):
        local = points + np.float32([shift, 2 * shift, 0])
        face = face_region(image.shape[:2], local)
        skin = skin_statistics(occluded, skin_sample_region(image.shape[:2], local), lab)
        for work_width in (1e9, size / 2, size / 3):
            whole = _occlusion_in(lab, local, face, skin, 5.0, size, occlusion_factor(local, work_width))
            assert (whole > 0).sum() > 0.01 * (face > 0).sum()  # the bar is found
            np.testing.assert_array_equal(occlusion_mask(occluded, local, face, skin, lab=lab, work_width=work_width),
                                          whole)


def test_face_lab_gives_the_planners_skin_statistics_and_occluders_as_the_whole_crop_in_lab(big_face):
    """The planner converts only the box round the face and its skin sample to Lab (`face_lab`): the
    skin statistics and the occlusion mask, shrunk by 1, 2 or 3, are those of the whole crop in Lab,
    with the crop's corner at every offset against the shrink's blocks."""
    from tryon_cli.masks.face import face_lab, face_region, occlusion_mask

    image, points = big_face
    size = float(np.ptp(points[:, 0]))
    occluded = image.copy()
    x, y = int(points[:, 0].min()), int(points[:, 1].mean())
    cv2.rectangle(occluded, (x - 30, y), (x + int(size * 0.4), y + int(size * 0.12)), (20, 120, 30), -1)  # a green bar
    for shift in range(3):
        x0, y0 = (np.floor(points[:, :2].min(axis=0)).astype(int) - 60 - shift)
        x1, y1 = (np.ceil(points[:, :2].max(axis=0)).astype(int) + 60)
        crop, local = occluded[y0:y1, x0:x1], points - np.float32([x0, y0, 0])
        face, skin_region = face_region(crop.shape[:2], local), skin_sample_region(crop.shape[:2], local)
        whole = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)
        for work_width in (1e9, size / 2, size / 3):
            part = face_lab(crop, local, (face, skin_region), work_width)
            assert (part == 0).all(axis=2).sum() > 0.2 * face.size  # the margin was not converted
            for region in (face, skin_region):  # every pixel of both regions converted
                np.testing.assert_array_equal(part[region > 0], whole[region > 0])
            np.testing.assert_array_equal(colour.lab_statistics(crop, skin_region, lab=whole),
                                          colour.lab_statistics(crop, skin_region, lab=part))
            skin = skin_statistics(crop, skin_region, whole)
            for a, b in zip(skin, skin_statistics(crop, skin_region, part)):
                np.testing.assert_array_equal(a, b)
            expected = occlusion_mask(crop, local, face, skin, lab=whole, work_width=work_width)
            assert (expected > 0).sum() > 0.01 * (face > 0).sum()  # the bar is found
            np.testing.assert_array_equal(occlusion_mask(crop, local, face, skin, lab=part, work_width=work_width),
                                          expected)


def test_pyramid_upsampled_in_a_box_equals_the_whole_upsampled_then_cut():
    from tryon_cli.render.classical.blend import _pyr_up

    rng = np.random.default_rng(2)
    for _ in range(200):
        height, width = (int(v) for v in rng.integers(3, 90, 2))
        small = rng.normal(size=(height, width, 3)).astype(np.float32)
        size = (2 * width - int(rng.integers(0, 2)), 2 * height - int(rng.integers(0, 2)))  # odd or even
        y0, y1 = sorted(int(v) for v in rng.integers(0, size[1] + 1, 2))
        x0, x1 = sorted(int(v) for v in rng.integers(0, size[0] + 1, 2))
        if y1 == y0 or x1 == x0:
            continue
        whole = cv2.pyrUp(small, dstsize=size)[y0:y1, x0:x1]
        np.testing.assert_array_equal(_pyr_up(small, size, (y0, y1, x0, x1)), whole)


def test_eye_openings_in_the_eyes_box_equal_the_whole_box(big_face):
    from tryon_cli.face3d import landmarks as lm
    from tryon_cli.render.classical.eyes import EYE_OPENING_GROWTH, eye_openings

    _, points = big_face
    for scale, shift in ((1.0, 0.0), (0.5, 0.0), (1.0, -0.3)):  # the last: an eye cut by the box's edge
        local = points * np.float32(scale)
        local[:, 0] += shift * float(np.ptp(local[:, 0])) - local[:, 0].min()
        local[:, 1] -= local[:, 1].min()
        shape = (int(local[:, 1].max()) + 1, max(int(local[:, 0].max()) + 1, 8))
        mask = np.zeros(shape, np.uint8)
        for loop in (lm.RIGHT_EYE, lm.LEFT_EYE):
            cv2.fillPoly(mask, [np.round(local[loop, :2]).astype(np.int32)], 255)
        grow = max(int(round(EYE_OPENING_GROWTH * float(np.ptp(local[lm.RIGHT_EYE, 0])))), 1)
        whole = cv2.GaussianBlur(dilate(mask, grow).astype(np.float32) / 255.0, (0, 0), max(0.5 * grow, 0.6))
        np.testing.assert_array_equal(eye_openings(shape, local), whole)


def test_as_mask_equals_where_255_0():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 4, size=(61, 47)).astype(np.uint8)
    for condition in (values > 1, values, values.astype(np.float32) - 1.5, (values > 1)[::2, 1::3], values == 9):
        mask = as_mask(condition)
        assert mask.dtype == np.uint8
        np.testing.assert_array_equal(mask, np.where(condition, 255, 0).astype(np.uint8))


def test_fill_holes_fills_inside_the_outer_outline_only():
    mask = np.zeros((40, 60), np.uint8)
    cv2.rectangle(mask, (5, 5), (30, 30), 255, -1)
    mask[12:20, 12:20] = 0  # a hole
    mask[2:4, 40:50] = 7  # another part, not 255
    filled = fill_holes(mask)
    assert filled.dtype == np.uint8
    np.testing.assert_array_equal(filled[12:20, 12:20], 255)
    np.testing.assert_array_equal(filled[mask > 0], 255)
    assert filled[0, 0] == 0 and np.count_nonzero(filled) == 26 * 26 + 2 * 10


def test_feature_regions_grown_per_feature_equal_a_whole_crop_dilation(big_face):
    image, points = big_face
    ungrown = feature_regions(image.shape[:2], points, 0)
    for grow in (1, 4, 12):
        np.testing.assert_array_equal(feature_regions(image.shape[:2], points, grow), dilate(ungrown, grow))


def test_sampled_skin_statistics_match_every_pixel(big_face, monkeypatch):
    from tryon_cli.masks import face

    image, points = big_face
    region = face.face_region(image.shape[:2], points)  # skin, eyes, brows, lips: a spread to match
    assert np.count_nonzero(region) > 4 * face.SKIN_SAMPLE_PIXELS  # the sampled path
    mean, covariance = skin_statistics(image, region)
    monkeypatch.setattr(face, "SKIN_SAMPLE_PIXELS", 10**9)  # every pixel
    full_mean, full_covariance = skin_statistics(image, region)
    np.testing.assert_allclose(mean, full_mean, atol=0.5)
    np.testing.assert_allclose(covariance, full_covariance, rtol=0.1, atol=2.0)


def test_skin_region_erosion_in_the_masks_box_equals_the_whole_images():
    """The skin sample's erosion runs on the oval's box grown by the radius: the same pixels as eroding
    the whole image, for masks inside it, cut by its edges, or empty."""
    from tryon_cli.masks.face import _eroded_in_box

    rng = np.random.default_rng(5)
    for _ in range(200):
        height, width = (int(v) for v in rng.integers(5, 120, 2))
        mask = np.zeros((height, width), dtype=np.uint8)
        for _ in range(int(rng.integers(0, 4))):
            centre = (int(rng.integers(-20, width + 20)), int(rng.integers(-20, height + 20)))
            axes = (int(rng.integers(1, 70)), int(rng.integers(1, 70)))
            cv2.ellipse(mask, centre, axes, float(rng.integers(0, 180)), 0, 360, 255, -1)
        radius = int(rng.integers(1, 16))
        expected = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2))
        np.testing.assert_array_equal(_eroded_in_box(mask, radius), expected)


def test_skin_statistics_read_the_whole_images_sampling_grid(big_face):
    """The sampled skin statistics read the region's box only, its corner on the sampling grid: exactly
    the pixels (in order) of every step-th row and column of the whole image inside the region."""
    from tryon_cli.masks import face

    image, points = big_face
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    for shift in range(4):  # the region's corner at every offset against the grid
        region = face.face_region(image.shape[:2], points + np.float32([shift, 2 * shift, 0]))
        step = max(int(np.sqrt(cv2.countNonZero(region) / face.SKIN_SAMPLE_PIXELS)), 1)
        assert step > 1
        pixels = lab[::step, ::step][region[::step, ::step] > 0].astype(np.float64)
        mean, covariance = skin_statistics(image, region, lab)
        np.testing.assert_array_equal(mean, pixels.mean(axis=0))
        centred = pixels - pixels.mean(axis=0)
        np.testing.assert_array_equal(covariance, centred.T @ centred / (len(pixels) - 1) + np.eye(3) * 4.0)


def test_benchmark_json_fields(tmp_path):
    done = run_cli("benchmark", "--resolution", "240", "--face", "closeup", "--seconds", "0.4", "--json", "-q",
                   "--workdir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert len(rows) == 1
    row = rows[0]
    for key in ("task", "video", "width", "height", "frames", "floor_fps", "fps_warm", "fps_cold", "ratio_warm",
                "ratio_cold", "ratio_cpu", "peak_mb", "floor_peak_mb"):
        assert key in row
    assert row["task"] == "swap" and row["height"] == 240 and row["frames"] == 12
    assert row["ratio_warm"] > 0 and row["ratio_cpu"] > 0 and row["peak_mb"] > 50  # a real child process's high-water mark


def test_benchmark_times_the_try_on_of_the_video_with_the_garment(tmp_path):
    """The try-on task dresses the benchmark's video (PERSON first, then GARMENT), so it runs and is timed."""
    from test_tryon import tshirt

    from tryon_cli.io.media import write_image

    garment = tmp_path / "shirt.png"
    write_image(garment, tshirt((200, 40, 40)))
    done = run_cli("benchmark", "--task", "tryon", "--garment", str(garment), "--resolution", "240", "--face",
                   "closeup", "--seconds", "0.4", "--json", "-q", "--workdir", str(tmp_path / "work"))
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout.splitlines()[0])
    assert row["task"] == "tryon" and row["frames"] == 12 and row["fps_warm"] > 0


def test_benchmark_rejects_unknown_task():
    done = run_cli("benchmark", "--task", "dance")
    assert done.returncode == 2 and "--task" in done.stderr
    done = run_cli("benchmark", "--command-option", "parsing")
    assert done.returncode == 2 and "--command-option" in done.stderr


def test_benchmark_passes_command_options_to_the_command(tmp_path):
    done = run_cli("benchmark", "--resolution", "240", "--face", "closeup", "--seconds", "0.2", "-q",
                   "--command-option=--no-such-option", "--workdir", str(tmp_path))
    assert done.returncode != 0 and "no-such-option" in done.stderr  # the swap itself refused it


def test_working_resolution_render_matches_full_resolution(big_face, source_photo, monkeypatch):
    from tryon_cli.masks.face import face_region
    from tryon_cli.render.classical import face as classical
    from tryon_cli.render.contract import FaceTarget, SwapConditions
    from tryon_cli.render.options import ClassicalOptions

    image, points = big_face
    image = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)  # a 1080p-like close-up
    points = points * np.float32(2)
    source = prepare_source([(source_photo, read_image(source_photo))])
    assert classical.working_scale(np.ptp(points[:, 0]), np.ptp(source.texture_points[:, 0])) < 0.8
    skin = colour.lab_statistics(image, skin_sample_region(image.shape[:2], points))
    conditions = SwapConditions(source, (FaceTarget(points=points, target_points=points, target_skin=skin),))
    mask = face_region(image.shape[:2], points)
    low = classical.render_face_swap(image, mask, conditions, ClassicalOptions())
    monkeypatch.setattr(classical, "WORK_PER_TEXTURE_WIDTH", 1e9)  # the warp at full size
    full = classical.render_face_swap(image, mask, conditions, ClassicalOptions())
    np.testing.assert_array_equal(low[mask == 0], image[mask == 0])
    diff = np.abs(low.astype(int) - full.astype(int)).max(axis=2)[mask > 0]
    # 1.2 and 5 at 2 output pixels per texture pixel, 2.3 and 11 at 1.5 (the working face 201 px, this one 800);
    # 3.0 and 13 since the outline's feather narrowed (0.06 -> 0.04 face widths): more of the mask is the
    # rendered face, where the two differ
    assert diff.mean() < 3.4 and np.percentile(diff, 99) < 15


def test_rescale_video_scales_and_loops_a_given_video(talking_video, tmp_path):
    """`benchmark VIDEO --resolution/--seconds` prepares the video with rescale_video: short side and length as asked."""
    from tryon_cli.benchmarking import rescale_video, video_size

    out = rescale_video(talking_video, tmp_path / "scaled.mp4", short_side=64, seconds=3.0)
    assert video_size(out) == (64, 64, 75)  # 320x320 at 25 fps, 2 s looped to 3 s
    out = rescale_video(talking_video, tmp_path / "cut.mp4", seconds=1.0)
    assert video_size(out) == (320, 320, 25)


def test_weights_round_the_mouth_grown_on_its_box_equal_a_whole_shape_dilation():
    """`_around_mouth` grows the opening, and takes the distance beyond it, on the opening's own box: the
    same weights as over the whole face box (the large dilation there was ~9 ms a frame, the distance 5 ms
    at 1080), openings at the border included."""
    from tryon_cli.face3d import landmarks as lm
    from tryon_cli.masks.shapes import polygon_mask
    from tryon_cli.render.classical.face import _around_mouth

    rng = np.random.default_rng(3)
    angles = np.linspace(0, 2 * np.pi, len(lm.INNER_LIPS), endpoint=False)
    for _ in range(40):
        height, width = (int(v) for v in rng.integers(120, 400, 2))
        points = np.zeros((478, 3))
        centre, radius, reach = rng.uniform((-20, -20), (width + 20, height + 20)), rng.uniform(3, 60), int(rng.integers(1, 16))
        points[lm.INNER_LIPS, 0] = centre[0] + radius * np.cos(angles) * rng.uniform(0.5, 1.5, len(angles))
        points[lm.INNER_LIPS, 1] = centre[1] + 0.4 * radius * np.sin(angles) * rng.uniform(0.5, 1.5, len(angles))
        opening = polygon_mask((height, width), points[lm.INNER_LIPS, :2])
        near = cv2.dilate(opening, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2))
        outside = cv2.distanceTransform(cv2.bitwise_not(near), cv2.DIST_L2, 3)
        expected = np.clip(1.0 - outside / reach, 0.0, 1.0).astype(np.float32)
        # the distance on the opening's box adds its chamfer steps in another order here and there: an ulp
        np.testing.assert_allclose(_around_mouth((height, width), points, reach), expected, rtol=0, atol=1e-6)


def test_skin_band_round_the_lips_grown_on_their_box_equals_a_whole_shape_dilation():
    """`_around_lips` dilates the outer lip line on its own box grown by the reach: the same band as the two
    dilations of the whole working box (about 0.9 ms a 720p close-up), lips at the border included."""
    from tryon_cli.face3d import landmarks as lm
    from tryon_cli.masks.shapes import polygon_mask
    from tryon_cli.render.classical.face import _around_lips

    rng = np.random.default_rng(5)
    angles = np.linspace(0, 2 * np.pi, len(lm.OUTER_LIPS), endpoint=False)
    for _ in range(40):
        height, width = (int(v) for v in rng.integers(80, 400, 2))
        points = np.zeros((478, 3))
        centre, radius = rng.uniform((-20, -20), (width + 20, height + 20)), rng.uniform(3, 60)
        points[lm.OUTER_LIPS, 0] = centre[0] + radius * np.cos(angles) * rng.uniform(0.7, 1.3, len(angles))
        points[lm.OUTER_LIPS, 1] = centre[1] + 0.5 * radius * np.sin(angles) * rng.uniform(0.7, 1.3, len(angles))
        reach = float(rng.uniform(0.5, 25.0))
        outer = polygon_mask((height, width), points[lm.OUTER_LIPS])
        expected = dilate(outer, max(int(round(reach)), 2)) & ~dilate(outer, 1)
        np.testing.assert_array_equal(_around_lips((height, width), points, reach), expected)


def test_tightening_table_equals_the_normal_distribution_level_by_level():
    """The blend's tightening table, made with `scipy.special` over all levels at once, equals the same
    formula through `statistics.NormalDist` one level at a time (float32, bit for bit)."""
    from statistics import NormalDist

    from tryon_cli.render.classical.blend import _tightening_table

    normal = NormalDist()
    for ratio in (1.0, 1.25, 4.0 / 3.0, 1.5, 2.0, 3.7):
        levels = np.clip(np.arange(256) / 255.0, 1e-6, 1.0 - 1e-6)
        expected = np.array([normal.cdf(ratio * (normal.inv_cdf(a) + 2.0) - 2.0) for a in levels], dtype=np.float32)
        expected[0], expected[-1] = 0.0, 1.0
        np.testing.assert_array_equal(_tightening_table(ratio), expected)


def test_outline_feather_tightened_at_low_res_matches_the_full_size_mix(big_face):
    """The blend's outline feather moved toward the jaw's narrower one (`tight` weights below the mouth) at
    the feather's low resolution, against the mix of the two full-size alphas (what it replaced, 2 ms a
    1080 close-up): exactly 0 outside the mask, within a few hundredths anywhere."""
    from tryon_cli.masks.face import face_region
    from tryon_cli.render.classical.blend import _tightened
    from tryon_cli.render.classical.face import (FEATHER_PER_FACE_WIDTH, JAW_FEATHER_PER_FACE_WIDTH,
                                                 JAW_RAMP_PER_FACE_WIDTH, _below_mouth)

    image, points = big_face
    size = float(np.ptp(points[:, 0]))
    mask = face_region(image.shape[:2], points)
    radius, tight_radius = int(size * FEATHER_PER_FACE_WIDTH), int(size * JAW_FEATHER_PER_FACE_WIDTH)
    assert radius > 8 and tight_radius < radius  # the low-resolution path, a narrower jaw
    tight = _below_mouth(mask.shape, points, JAW_RAMP_PER_FACE_WIDTH * size)
    full = _tightened(feather_alpha(mask, radius), tight, radius / tight_radius)
    low = feather_alpha(mask, radius, tight, radius / tight_radius)
    assert np.all(low[mask == 0] == 0)
    difference = np.abs(low - full)
    # measured: 0.007 at most, 0.0002 on average (the tightening itself moves the alpha by up to 0.28)
    assert difference.max() < 0.02
    assert difference[mask > 0].mean() < 0.001
