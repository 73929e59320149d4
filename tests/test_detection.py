"""Full-range face detection on tiles: small faces the face mesh's short-range detector cannot see."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from conftest import shared_media
from tryon_cli.analysis.detection import FaceBox, FaceDetector, suppress, tile_origins
from tryon_cli.analysis.face import FaceMeshAnalyzer, box_iou
from tryon_cli.analysis.parsing import crop, crop_box


def face(box, score=0.9) -> FaceBox:
    return FaceBox(box, score, np.zeros((6, 2), np.float32))


def test_suppress_keeps_the_best_of_overlaps_and_drops_cut_faces():
    best = face((0, 0, 10, 10), 0.9)
    duplicate = face((1, 1, 11, 11), 0.8)
    cut = face((0, 0, 10, 2.5), 0.95)  # a face cut by a tile edge: inside the whole one, a higher score
    other = face((50, 50, 60, 60), 0.5)
    kept = suppress([duplicate, best, other])
    assert kept == [best, other]
    assert suppress([best, cut]) == [best]  # IoU 0.25, but contained: the whole face stays
    assert suppress([cut, other]) == [cut, other]


def test_tiles_cover_the_frame_with_overlap():
    starts = tile_origins(1920, 480, 0.25)
    assert starts[0] == 0 and starts[-1] + 480 == 1920
    assert all(b - a <= 360 for a, b in zip(starts, starts[1:]))
    assert tile_origins(300, 480, 0.25) == [0]


def test_bad_boxes_are_refused():
    with pytest.raises(ValueError):
        face((5, 5, 5, 9))
    with pytest.raises(ValueError):
        FaceBox((0, 0, 1, 1), 0.5, np.zeros((5, 2)))


def test_small_faces_in_a_large_frame_are_found(astronaut):
    """Four 41-px astronaut faces on a 1080p canvas: found on tiles, missed by the whole-frame pass and by
    the face mesh; each box lands on a face (the detector's box on the full-size photo, moved)."""
    with FaceDetector(tile=None) as whole:
        reference = whole.detect(astronaut)[0].box
    scale = 0.4
    small = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((1080, 1920, 3), 90, np.uint8)
    spots = [(100, 150), (700, 500), (1300, 200), (1500, 700)]
    for x, y in spots:
        canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    expected = [tuple(v * scale + o for v, o in zip(reference, (x, y, x, y))) for x, y in spots]
    with FaceDetector() as detector, FaceDetector(tile=None) as whole, \
            FaceMeshAnalyzer(max_faces=10, tracking=False) as mesh:
        found = detector.detect(canvas)
        assert len(whole.detect(canvas)) == 0 and len(mesh.detect(canvas)) == 0
    assert len(found) == 4
    for box in expected:
        assert max(box_iou(box, f.box) for f in found) > 0.5


def _frames(path, indices):
    wanted, out = set(indices), []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in wanted:
                out.append(frame.to_ndarray(format="rgb24"))
            if i >= max(indices):
                break
    return out


@pytest.mark.media
@pytest.mark.parametrize("name,indices,min_faces", [
    ("crowd_1080p.mp4", [0, 50, 100], 4),
    ("movie_several_people_720p.mp4", [150, 175], 3),
])
def test_detector_finds_more_faces_than_the_mesh(name, indices, min_faces):
    """Per sampled frame: at least `min_faces` faces 40 px or wider, never fewer than the face mesh finds
    (whole frame plus its square tiles), and the mesh fits on the crop of most detections (they are faces)."""
    frames = _frames(shared_media("faces", name), indices)
    with FaceDetector() as detector, FaceMeshAnalyzer(max_faces=20, tracking=False) as mesh, \
            FaceMeshAnalyzer(max_faces=1, tracking=False) as single:
        for index, frame in zip(indices, frames):
            found = [f for f in detector.detect(frame) if f.width >= 40]
            mesh_count = len(mesh.detect(frame))
            assert len(found) >= max(min_faces, mesh_count), (index, len(found), mesh_count)
            fitted = sum(bool(single.detect(cv2.resize(crop(frame, crop_box(f.box, 2.0)), (256, 256))))
                         for f in found)
            assert fitted >= 0.7 * len(found), (index, fitted, len(found))
        if name.startswith("crowd"):
            assert mesh_count < len(found)
