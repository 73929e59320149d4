"""Thin glasses frames found without the face parser (`masks.thin_frames`): a frame a few pixels wide
round both eyes is found, a face without glasses gives nothing, and the default swap (skin-colour
occlusion model) puts a target's thin frame back in front of the swapped face."""

from __future__ import annotations

import cv2
import numpy as np

from tryon_cli.face3d import landmarks as lm
from tryon_cli.masks.thin_frames import thin_frames


def _face_image(astronaut: np.ndarray) -> np.ndarray:
    """The astronaut at twice her size: a face about 180 px wide, as in a talking-head video."""
    return np.ascontiguousarray(cv2.resize(astronaut, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC))


def _mesh(image: np.ndarray) -> np.ndarray:
    from tryon_cli.analysis.face import FaceMeshAnalyzer

    with FaceMeshAnalyzer(1, tracking=False) as mesh:
        faces = mesh.detect(image)
    assert faces
    return faces[0].points


def _draw_glasses(image: np.ndarray, points: np.ndarray, thickness: int = 3,
                  colour: tuple[int, int, int] = (70, 55, 50)) -> np.ndarray:
    """Thin round lenses round both eyes and a bridge between them (a mask of what was drawn)."""
    drawn = np.zeros(image.shape[:2], np.uint8)
    centres = []
    for a, b in (lm.RIGHT_EYE_CORNERS, lm.LEFT_EYE_CORNERS):
        centre = (points[a, :2] + points[b, :2]) / 2
        width = float(np.linalg.norm(points[a, :2] - points[b, :2]))
        cv2.ellipse(drawn, (int(centre[0]), int(centre[1] + 0.15 * width)), (int(0.9 * width), int(0.65 * width)),
                    0, 0, 360, 255, thickness)
        centres.append((centre, width))
    (c0, w0), (c1, _) = centres
    left, right = sorted((c0[0], c1[0]))
    cv2.line(drawn, (int(left + 0.9 * w0), int(c0[1])), (int(right - 0.9 * w0), int(c1[1])), 255, thickness)
    image[drawn > 0] = colour
    return drawn > 0


def test_a_thin_frame_round_both_eyes_is_found_and_a_bare_face_gives_nothing(astronaut) -> None:
    image = _face_image(astronaut)
    points = _mesh(image)
    assert not thin_frames(image, points).any()  # no glasses: her lids, creases and brows are no frame
    drawn = _draw_glasses(image, points)
    found = thin_frames(image, points) > 0
    grown = cv2.dilate(drawn.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert found[drawn].mean() > 0.7  # (not the top rims over her brows: a brow's hairs are lines too)
    assert found[~grown].sum() < 0.2 * drawn.sum()  # little beside the frame
    eyes = np.zeros(found.shape, np.uint8)
    for eye in (lm.RIGHT_EYE, lm.LEFT_EYE):
        cv2.fillPoly(eyes, [np.round(points[eye, :2]).astype(np.int32)], 255)
    assert not found[eyes > 0].any()  # the eyes are never frame


def test_a_single_crease_under_one_eye_is_no_pair_of_glasses(astronaut) -> None:
    """Wrinkles are dark thin lines too: one under one eye does not make glasses."""
    image = _face_image(astronaut)
    points = _mesh(image)
    a, b = lm.RIGHT_EYE_CORNERS
    centre = (points[a, :2] + points[b, :2]) / 2
    width = float(np.linalg.norm(points[a, :2] - points[b, :2]))
    cv2.ellipse(image, (int(centre[0]), int(centre[1] + 0.2 * width)), (int(0.8 * width), int(0.6 * width)),
                0, 20, 160, (70, 55, 50), 2)
    assert not thin_frames(image, points).any()


def test_the_default_swap_puts_a_targets_thin_frame_back(astronaut) -> None:
    """The planner without the parser returns the thin frame's pixels to paste back after rendering."""
    from tryon_cli.analysis.face import Face
    from tryon_cli.faceswap.options import SwapOptions
    from tryon_cli.faceswap.planner import SwapPlanner
    from tryon_cli.faceswap.source import prepare_source

    image = _face_image(astronaut)
    points = _mesh(image)
    drawn = _draw_glasses(image, points)
    source = prepare_source([(None, _face_image(astronaut))], neutralise=False)
    planner = SwapPlanner(source, {}, SwapOptions(use_3d=False), need_normal_map=False)
    face = Face(points=points)
    _, _, keep = planner.plan_face(image, face, track=0, index=0, dt=1 / 25)
    assert keep is not None and (keep[drawn] > 0).mean() > 0.7


def test_a_blurry_photos_wide_frame_lines_are_found_on_the_face_shrunk(astronaut) -> None:
    """An old photo blown up from a small one: its frame lines are many pixels wide and soft. At full
    size they are no thin lines; on the face shrunk to about 100 px they are (`photo_thin_frames`)."""
    from tryon_cli.masks.thin_frames import photo_thin_frames

    image = np.ascontiguousarray(cv2.resize(astronaut, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC))
    points = _mesh(image)
    drawn = _draw_glasses(image, points, thickness=18, colour=(40, 30, 25))
    image = cv2.GaussianBlur(image, (0, 0), 5.0)
    assert not thin_frames(image, points).any()
    found = photo_thin_frames(image, points) > 0
    assert found[drawn].mean() > 0.25  # a good part of it (the soft joins and the rims over the brows are not)
