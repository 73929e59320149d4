"""The swap's eyes follow the target's frame: blinks and gaze are not smoothed into lag."""

from __future__ import annotations

from pathlib import Path

import cv2

import numpy as np

from tryon_cli.face3d import landmarks as lm


def _shut(points: np.ndarray) -> np.ndarray:
    """The face with both upper lids drawn down onto the lower lids."""
    out = points.copy()
    for loop, (upper, lower) in ((lm.RIGHT_EYE, lm.RIGHT_EYE_LIDS), (lm.LEFT_EYE, lm.LEFT_EYE_LIDS)):
        middle = 0.5 * (points[upper, :2] + points[lower, :2])
        above = loop[(points[loop, 1] < middle[1])]
        out[above, 1] = middle[1] + 0.9 * (middle[1] - points[above, 1])  # mirrored onto the lower lid
    return out


def test_a_one_frame_blink_reaches_the_planned_face_in_its_own_frame(astronaut):
    """With smoothing on, a blink one frame long shuts the swapped eye in that frame as much as with
    smoothing off; the target's lids handed to the renderer are the frame's own."""
    from tryon_cli.analysis.face import Face, FaceMeshAnalyzer
    from tryon_cli.faceswap.options import SwapOptions
    from tryon_cli.faceswap.planner import SwapPlanner
    from tryon_cli.face3d.fitting import normalized_shape
    from tryon_cli.faceswap.source import prepare_source

    with FaceMeshAnalyzer(1, tracking=False) as mesh:
        face = mesh.detect(astronaut)[0]
    source = prepare_source([(Path("astronaut.png"), astronaut)])
    blink = Face(points=_shut(face.points))
    openings = {}
    for smooth in (0.0, 0.5):
        identity = normalized_shape(source.frontal_mesh, face.points)[1]  # the track's (open-eyed) identity
        planner = SwapPlanner(source, {0: identity}, SwapOptions(smooth=smooth), need_normal_map=False)
        for index in range(5):
            planned, _, _ = planner.plan_face(astronaut, face, 0, index, 1 / 25)
        planned, _, _ = planner.plan_face(astronaut, blink, 0, 5, 1 / 25)
        openings[smooth] = lm.eye_open_ratio(planned.points)
        np.testing.assert_array_equal(planned.target_points[lm.RIGHT_EYE], blink.points[lm.RIGHT_EYE])
        assert planned.rest_points is not None and lm.eye_open_ratio(planned.rest_points) > 0.15
    assert openings[0.0] < 0.1
    assert openings[0.5] < openings[0.0] + 0.02


def test_a_near_profile_sources_nose_and_lips_are_usable_texture():
    """Past about 45 degrees the nose and lips stand out beyond the far cheek's outline; they are
    still the source's face (the oval's hull alone cut them off, and the target's nose showed)."""
    from conftest import shared_media
    from tryon_cli.faceswap.source import _detect, _usable
    from tryon_cli.io.media import read_image

    path = shared_media("faces", "portrait_three_quarter.png")
    image = read_image(path)
    (_, _, face), = _detect([(path, image)])
    _, _, mask = _usable(path, image, face, without_mouth=True)
    nose_tip, nose_wing = face.points[4, :2], face.points[49, :2]  # mesh points 4 (tip) and 49 (near wing)
    for point in (nose_tip, nose_wing):
        x, y = np.round(point).astype(int)
        assert mask[y, x] == 255


def test_follow_eyes_move_the_sources_irises_by_the_targets_glance(astronaut):
    """The planned face's irises (what `--eyes follow` moves the source's iris to) sit where the source's
    rest irises are, moved by as much as the target's irises moved from its track's rest face."""
    from tryon_cli.analysis.face import Face, FaceMeshAnalyzer
    from tryon_cli.face3d.fitting import normalized_shape
    from tryon_cli.faceswap.options import SwapOptions
    from tryon_cli.faceswap.planner import SwapPlanner
    from tryon_cli.faceswap.source import prepare_source
    from tryon_cli.render.classical.eyes import _iris_in_eye
    from tryon_cli.render.options import ClassicalOptions, Eyes

    assert Eyes("follow") is Eyes.follow and ClassicalOptions().eyes is Eyes.target  # follow is opt-in
    with FaceMeshAnalyzer(1, tracking=False) as mesh:
        face = mesh.detect(astronaut)[0]
    source = prepare_source([(Path("astronaut.png"), astronaut)])
    identity = normalized_shape(source.frontal_mesh, face.points)[1]
    glance = face.points.copy()
    for corners, iris in ((lm.RIGHT_EYE_CORNERS, lm.RIGHT_IRIS), (lm.LEFT_EYE_CORNERS, lm.LEFT_IRIS)):
        glance[iris, :2] += 0.1 * (face.points[corners[1], :2] - face.points[corners[0], :2])
    planner = SwapPlanner(source, {0: identity}, SwapOptions(smooth=0.5), need_normal_map=False)
    planner.plan_face(astronaut, face, 0, 0, 1 / 25)
    planned, _, _ = planner.plan_face(astronaut, Face(points=glance), 0, 1, 1 / 25)
    for corners, iris in ((lm.RIGHT_EYE_CORNERS, lm.RIGHT_IRIS), (lm.LEFT_EYE_CORNERS, lm.LEFT_IRIS)):
        moved = _iris_in_eye(planned.points, corners, iris)[0][0] - _iris_in_eye(planned.rest_points, corners, iris)[0][0]
        assert 0.07 < moved < 0.13


def _eye_points(centres: list[tuple[float, float]], half_width: float, opening: float = 0.4) -> np.ndarray:
    """A mesh with only its two eye contours set: ellipses round `centres`, the corner points at their
    ends, the lid points at their top and bottom."""
    points = np.zeros((478, 3), np.float32)
    for loop, corners, (cx, cy) in zip((lm.RIGHT_EYE, lm.LEFT_EYE), (lm.RIGHT_EYE_CORNERS, lm.LEFT_EYE_CORNERS), centres):
        first = int(np.nonzero(loop == corners[0])[0][0])
        angles = np.pi + 2 * np.pi * (np.arange(len(loop)) - first) / len(loop)
        points[loop, 0] = cx + half_width * np.cos(angles)
        points[loop, 1] = cy + opening * half_width * np.sin(angles)
    return points


def test_target_eyeballs_bring_the_targets_gaze_into_the_swapped_eye_keeping_its_lids():
    """The target's iris lands at the same place between the swapped eye's corners as between the
    target's, stays round in a narrower swapped eye, and nothing outside the swapped eye's opening
    changes: its lash line (drawn on the lid contour) stays."""
    from tryon_cli.render.classical.eyes import paste_target_eyeballs

    frame = np.full((200, 200, 3), 220, np.uint8)
    target = _eye_points([(60, 80), (140, 80)], 20, opening=0.5)
    for cx in (60 + 8, 140 + 8):  # the target glances: irises 8 px (0.2 eye widths) right of centre
        cv2.circle(frame, (cx, 80), 6, (20, 20, 20), -1)
    warped = np.full((120, 160, 3), 150, np.uint8)
    here = _eye_points([(40, 50), (120, 50)], 30, opening=0.35)  # box coordinates: wider, narrower eyes
    for loop in (lm.RIGHT_EYE, lm.LEFT_EYE):
        cv2.polylines(warped, [np.round(here[loop, :2]).astype(np.int32)], True, (250, 0, 0), 1)
    out, changed = paste_target_eyeballs(warped, frame, here, target)
    for cx in (40, 120):
        dark = np.nonzero(out[45:56, cx - 30 : cx + 30, 0] < 100)
        assert abs(float(dark[1].mean()) - 30 - 12) <= 1.0  # 0.2 of a 60-px eye right of centre
        column = out[38:63, cx + 12, 0]
        assert np.count_nonzero(column < 100) >= 12  # the 6-px iris scaled 1.5x: about 18 px tall, not squashed
    outside = changed == 0
    assert outside.any() and np.array_equal(out[outside], warped[outside])
    lash = np.round(here[lm.RIGHT_EYE, :2]).astype(int)
    assert np.all(out[lash[:, 1], lash[:, 0], 1] < 30)  # the swapped eye's own lid line is kept


def test_target_eyeballs_leave_a_shut_eye_alone():
    """A target eye shut (lids together) pastes nothing: the swapped face's slid lids stay."""
    from tryon_cli.render.classical.eyes import paste_target_eyeballs

    frame = np.full((200, 200, 3), 20, np.uint8)
    target = _eye_points([(60, 80), (140, 80)], 20, opening=0.02)
    warped = np.full((120, 160, 3), 150, np.uint8)
    here = _eye_points([(40, 50), (120, 50)], 30, opening=0.02)
    out, changed = paste_target_eyeballs(warped, frame, here, target)
    assert not changed.any() and np.array_equal(out, warped)


def test_the_default_swap_looks_where_the_target_looks(astronaut):
    """Rendered with the default eyes, the swapped face's irises sit where the target frame's glancing
    irises are; with the eyes as photographed they stay where the photo has them."""
    from tryon_cli.analysis.face import FaceMeshAnalyzer
    from tryon_cli.colour import lab_statistics
    from tryon_cli.faceswap.source import prepare_source
    from tryon_cli.masks.face import face_region, skin_sample_region
    from tryon_cli.render.classical.eyes import shift_gaze
    from tryon_cli.render.classical.face import render_face_swap
    from tryon_cli.render.contract import FaceTarget, SwapConditions
    from tryon_cli.render.options import ClassicalOptions, Eyes

    with FaceMeshAnalyzer(1, tracking=False) as mesh:
        points = mesh.detect(astronaut)[0].points
    source = prepare_source([(Path("astronaut.png"), astronaut)])
    glance = points.copy()
    for corners, iris in ((lm.RIGHT_EYE_CORNERS, lm.RIGHT_IRIS), (lm.LEFT_EYE_CORNERS, lm.LEFT_IRIS)):
        glance[iris, :2] += 0.15 * (points[corners[1], :2] - points[corners[0], :2])
    frame, _ = shift_gaze(np.ascontiguousarray(astronaut), points, points, glance)  # the target glances
    skin = lab_statistics(frame, skin_sample_region(frame.shape[:2], points))
    conditions = SwapConditions(source, (FaceTarget(points=points, target_points=glance, target_skin=skin),))
    mask = face_region(frame.shape[:2], points)

    def iris_along(image: np.ndarray) -> float:
        """Darkness-weighted place inside both eye openings, along the corner line (eye widths)."""
        places = []
        for loop, corners in ((lm.RIGHT_EYE, lm.RIGHT_EYE_CORNERS), (lm.LEFT_EYE, lm.LEFT_EYE_CORNERS)):
            inside = np.zeros(image.shape[:2], np.uint8)
            cv2.fillPoly(inside, [np.round(points[loop, :2]).astype(np.int32)], 1)
            ys, xs = np.nonzero(inside)
            darkness = 255.0 - image[ys, xs].astype(float).mean(axis=1)
            weights = np.clip(darkness - np.percentile(darkness, 50), 0, None)
            a, b = points[corners[0], :2], points[corners[1], :2]
            along = ((np.stack([xs, ys], 1) - a) @ (b - a)) / float((b - a) @ (b - a))
            places.append(float((along * weights).sum() / weights.sum()))
        return float(np.mean(places))

    followed = render_face_swap(frame, mask, conditions, ClassicalOptions())
    photographed = render_face_swap(frame, mask, conditions, ClassicalOptions(eyes=Eyes.source))
    assert abs(iris_along(followed) - iris_along(frame)) < 0.03
    assert iris_along(followed) - iris_along(photographed) > 0.06  # the glance (0.15) shows


def test_stray_whites_round_an_eye_are_dimmed_to_the_skin_and_the_eye_itself_is_kept():
    """A white blob spilling past the lid lines (a blurry photo's eye) is dimmed near the skin's lightness
    outside the eye; the eye's own white inside the lid lines stays, unless asked for its edge band."""
    from tryon_cli.render.classical.eyes import dim_stray_whites

    image = np.full((120, 160, 3), (150, 110, 90), np.uint8)  # skin
    points = _eye_points([(40, 60), (120, 60)], 20, opening=0.4)
    cv2.ellipse(image, (40, 60), (30, 16), 0, 0, 360, (250, 250, 250), -1)  # white spilling past the lids
    out = dim_stray_whites(image, points)
    lightness = cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[..., 0].astype(int)
    skin = int(cv2.cvtColor(image[:1, :1], cv2.COLOR_RGB2LAB)[0, 0, 0])
    assert lightness[60, 40 - 26] < skin + 30  # the spill beside the outer corner
    assert lightness[60 + 12, 40] < skin + 30  # and below the lower lid
    np.testing.assert_array_equal(out[60, 30:50], image[60, 30:50])  # the eye's own white
    np.testing.assert_array_equal(out[110:, :], image[110:, :])  # far skin untouched
    banded = dim_stray_whites(image, points, inside=0.1)
    assert int(cv2.cvtColor(banded[60:61, 40 - 19 : 40 - 18], cv2.COLOR_RGB2LAB)[0, 0, 0]) < skin + 30
    np.testing.assert_array_equal(banded[60, 35:45], image[60, 35:45])  # deeper inside: kept


def test_the_targets_iris_takes_the_sources_colour_without_the_photos_tint():
    """A brown-eyed photo onto a grey-blue-eyed target: the pasted iris is darker and warm (Lab b > 0),
    its glint kept; a green tint over the whole photo does not make the iris green (nor red); a
    black-and-white photo's iris leaves the target's chroma alone."""
    from tryon_cli.render.classical.eyes import iris_colour, iris_recolour, paste_target_eyeballs

    def lab(rgb: tuple[int, int, int]) -> np.ndarray:
        return cv2.cvtColor(np.uint8([[rgb]]), cv2.COLOR_RGB2LAB)[0, 0].astype(np.float32)

    target = _eye_points([(60, 80), (140, 80)], 20, opening=0.5)
    frame = np.full((200, 200, 3), 235, np.uint8)
    for loop, iris, cx in ((lm.RIGHT_EYE, lm.RIGHT_IRIS, 60), (lm.LEFT_EYE, lm.LEFT_IRIS, 140)):
        cv2.circle(frame, (cx, 80), 7, (110, 135, 160), -1)  # grey-blue iris
        cv2.circle(frame, (cx + 2, 78), 1, (255, 255, 255), -1)  # glint
        target[iris[0], :2] = (cx, 80)
        target[iris[1:], :2] = [(cx + 7, 80), (cx, 73), (cx - 7, 80), (cx, 87)]
    target_iris = iris_colour(frame, target)
    assert target_iris is not None and target_iris[2] < 128  # blue-ish
    skin = lab((200, 150, 130))
    brown = lab((90, 55, 30))
    gain, shift = iris_recolour(brown, skin, target_iris, skin)
    here = target.copy()
    out, _ = paste_target_eyeballs(np.full((200, 200, 3), 150, np.uint8), frame, here, target, (gain, shift))
    pasted = cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[80, 57].astype(float)
    assert pasted[0] < target_iris[0] - 15 and pasted[2] > 130
    assert out[78, 62].min() > 200  # the glint
    tint = np.float32([0, -20, 5])  # the whole photo green: skin and iris alike, in proportion to lightness
    tinted = iris_recolour(brown + tint * brown[0] / skin[0], skin + tint, target_iris, skin)
    assert np.allclose(tinted[1], shift, atol=1.0) and abs(tinted[0] - gain) < 1e-3
    grey = iris_recolour(brown, skin, target_iris, skin, colourless=True)
    assert not grey[1].any()
