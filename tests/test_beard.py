"""A bearded target's beard below the swapped face's chin is shaved off the frame; a clean chin's shadow stays."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import shared_media
from tryon_cli.face3d import landmarks as lm
from tryon_cli.faceswap.beard import beard_zone, shave_below_chin


@pytest.fixture(scope="module")
def astronaut_points(astronaut) -> np.ndarray:
    from tryon_cli.analysis.face import FaceMeshAnalyzer

    with FaceMeshAnalyzer(1, tracking=False) as analyzer:
        return analyzer.detect(astronaut)[0].points


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _below_outline(shape: tuple[int, int], points: np.ndarray, reach: float) -> np.ndarray:
    """The band below the chin, outside the face's outline, `reach` face widths deep (bool)."""
    width = float(np.ptp(points[:, 0]))
    chin = points[152, :2]
    band = np.zeros(shape, dtype=np.uint8)
    cv2.ellipse(band, tuple(np.round(chin).astype(int)), (int(0.18 * width), int(reach * width)), 0, 0, 180, 255, -1)
    oval = cv2.fillPoly(np.zeros(shape, np.uint8), [np.round(points[lm.FACE_OVAL, :2]).astype(np.int32)], 255)
    return (band > 0) & (oval == 0)


def _darken(image: np.ndarray, where: np.ndarray, factor: float) -> np.ndarray:
    return (image.astype(np.float32) * np.where(where, factor, 1.0)[..., None]).astype(np.uint8)


def test_a_goatee_below_the_chin_is_shaved(astronaut, astronaut_points):
    """A goatee grows on the chin and hangs below its outline, where the swap region ends: it stayed under a
    beardless source (a woman with the target's goatee). The hair below the chin is filled with the skin
    round it; nothing above the mouth's corners changes."""
    width = float(np.ptp(astronaut_points[:, 0]))
    oval = cv2.fillPoly(np.zeros(astronaut.shape[:2], np.uint8),
                        [np.round(astronaut_points[lm.FACE_OVAL, :2]).astype(np.int32)], 255) > 0
    ys = np.arange(astronaut.shape[0])[:, None]
    on_chin = oval & (ys > astronaut_points[17, 1] + 0.03 * width) & (np.abs(
        np.arange(astronaut.shape[1])[None, :] - astronaut_points[152, 0]) < 0.2 * width)
    hanging = _below_outline(astronaut.shape[:2], astronaut_points, 0.1)
    bearded = _darken(astronaut, on_chin | hanging, 0.3)
    assert _grey(astronaut)[hanging].mean() - _grey(bearded)[hanging].mean() > 40
    shaved = shave_below_chin(bearded, astronaut_points, astronaut_points)
    left = _grey(shaved)[hanging].mean() - _grey(bearded)[hanging].mean()
    assert left > 0.6 * (_grey(astronaut)[hanging].mean() - _grey(bearded)[hanging].mean())
    above = np.zeros(oval.shape, dtype=bool)
    above[: int(astronaut_points[[61, 291], 1].min()) - 2] = True
    assert np.array_equal(shaved[above], bearded[above])
    assert not (beard_zone(oval.shape, astronaut_points, astronaut_points) & above).any()


def test_a_clean_chins_shadow_is_no_beard(astronaut, astronaut_points):
    """A dark shadow under a clean-shaven chin (talking_frontal's, talking_gaze_blinks') is no beard: filled,
    the neck bulged out like a goitre. Without hair on the chin itself the frame comes back unchanged."""
    shadow = _darken(astronaut, _below_outline(astronaut.shape[:2], astronaut_points, 0.1), 0.3)
    assert shave_below_chin(shadow, astronaut_points, astronaut_points) is shadow


def test_grimaces_blinks_goatee_goes_and_talking_frontals_chin_stays():
    """On real frames: grimaces_blinks' goatee below the chin is mostly filled; talking_frontal's clean
    chin, with its shadow on the neck, is left as filmed."""
    from tryon_cli.analysis.face import FaceMeshAnalyzer
    from tryon_cli.io.target_media import frames_of

    def frame(name: str, index: int) -> np.ndarray:
        for k, f in enumerate(frames_of(shared_media("faces", name), None, 2.0)):
            if k == index:
                return np.ascontiguousarray(f.image)
        raise AssertionError(f"{name} has no frame {index}")

    with FaceMeshAnalyzer(1, tracking=False) as analyzer:
        bearded = frame("grimaces_blinks.mp4", 12)
        points = analyzer.detect(bearded)[0].points
        clean = frame("talking_frontal.mp4", 5)
        clean_points = analyzer.detect(clean)[0].points
    hanging = _below_outline(bearded.shape[:2], points, 0.12)
    skin_level = np.median(_grey(bearded)[cv2.fillPoly(np.zeros(bearded.shape[:2], np.uint8),
                                                       [np.round(points[lm.FACE_OVAL, :2]).astype(np.int32)], 255) > 0])
    hair = hanging & (_grey(bearded) < 0.5 * skin_level)
    assert hair.sum() > 300  # the goatee is there
    shaved = shave_below_chin(bearded, points, points)
    assert (hanging & (_grey(shaved) < 0.5 * skin_level)).sum() < 0.2 * hair.sum()
    # the mouth (the target's, moved into the swapped opening before this) is never filled: a closed
    # mouth's dark line filled with skin read as an open mouth
    lips = cv2.fillPoly(np.zeros(bearded.shape[:2], np.uint8), [np.round(points[lm.OUTER_LIPS, :2]).astype(np.int32)], 255) > 0
    assert np.array_equal(shaved[lips], bearded[lips])
    assert shave_below_chin(clean, clean_points, clean_points) is clean


def test_grimaces_blinks_chin_reads_bearded_on_every_frame():
    """The goatee is shaved on every frame or it pops back for one: the chin measured clear of the lips
    read 0 (no chin left) while the mouth was wide open (frames 4 and 6) when its margins were wider."""
    from tryon_cli.analysis.face import FaceMeshAnalyzer
    from tryon_cli.faceswap.beard import CHIN_HAIR, chin_hair_share
    from tryon_cli.io.target_media import frames_of
    from tryon_cli.masks.face import skin_sample_region, skin_statistics

    shares = []
    with FaceMeshAnalyzer(1, tracking=False) as analyzer:
        for k, f in enumerate(frames_of(shared_media("faces", "grimaces_blinks.mp4"), None, 2.0)):
            if k % 2:
                continue
            image = np.ascontiguousarray(f.image)
            points = analyzer.detect(image)[0].points
            lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
            level = skin_statistics(image, skin_sample_region(image.shape[:2], points), lab)[0][0]
            shares.append(chin_hair_share(lab[..., 0].astype(np.float32), points, float(level)))
    assert len(shares) == 12
    assert min(shares) >= CHIN_HAIR[1], shares


def test_hair_hanging_beside_the_jaw_is_not_shaved(astronaut, astronaut_points):
    """A dreadlock hanging beside the jaw is the head's hair: filled, it was cut off below the mouth's corners
    with its end left floating (grimaces_blinks). Only what lies within the mouth's corners plus a margin,
    across, is looked at."""
    width = float(np.ptp(astronaut_points[:, 0]))
    oval = cv2.fillPoly(np.zeros(astronaut.shape[:2], np.uint8),
                        [np.round(astronaut_points[lm.FACE_OVAL, :2]).astype(np.int32)], 255) > 0
    ys = np.arange(astronaut.shape[0])[:, None]
    xs = np.arange(astronaut.shape[1])[None, :]
    on_chin = oval & (ys > astronaut_points[17, 1] + 0.03 * width) & (np.abs(xs - astronaut_points[152, 0]) < 0.2 * width)
    corner = astronaut_points[291, :2]  # the mouth's corner on the image's right
    strand_x = corner[0] + 0.2 * width
    strand = (np.abs(xs - strand_x) < 0.02 * width) & (ys > corner[1] - 0.2 * width) & (ys < corner[1] + 0.35 * width)
    bearded = _darken(astronaut, on_chin | _below_outline(astronaut.shape[:2], astronaut_points, 0.1) | strand, 0.3)
    shaved = shave_below_chin(bearded, astronaut_points, astronaut_points)
    assert shaved is not bearded  # the goatee is shaved...
    assert np.array_equal(shaved[strand], bearded[strand])  # ...the strand beside the jaw is not


def test_a_chin_hidden_for_one_frame_keeps_the_track_shaved():
    """grimaces_blinks' grimace on frame 2 left its chin 0.28 hair (0.48 and 0.51 either side): measured
    frame by frame the goatee came back for that frame only. A track's share is carried over frames."""
    from tryon_cli.faceswap.beard import CHIN_HAIR, smoothed_share

    def strength(share: float) -> float:
        return float(np.clip((share - CHIN_HAIR[0]) / (CHIN_HAIR[1] - CHIN_HAIR[0]), 0.0, 1.0))

    carried = None
    strengths = []
    for share in (0.6, 0.48, 0.28, 0.51):
        carried = smoothed_share(carried, share)
        strengths.append(strength(carried))
    assert strength(0.28) < 0.3  # frame by frame, frame 2 was hardly shaved
    assert min(strengths) > 0.8
    # a clean chin stays clean however long the track
    carried = None
    for share in (0.0, 0.07, 0.18, 0.02) * 5:
        carried = smoothed_share(carried, share)
        assert strength(carried) == 0.0


def test_the_chins_hair_share_read_on_the_faces_box_equals_the_whole_frames(astronaut, astronaut_points):
    """`chin_beard` reads the face's box only, shrunk (over the whole frame it cost 0.2 s a 1080p frame, in the
    stage that plans frames one by one): the same share as measured over the whole frame, wherever the face
    lies in a larger frame, near its border too."""
    from tryon_cli.faceswap.beard import chin_beard, chin_hair_share
    from tryon_cli.masks.face import skin_sample_region, skin_statistics

    width = float(np.ptp(astronaut_points[:, 0]))
    oval = cv2.fillPoly(np.zeros(astronaut.shape[:2], np.uint8),
                        [np.round(astronaut_points[lm.FACE_OVAL, :2]).astype(np.int32)], 255) > 0
    ys = np.arange(astronaut.shape[0])[:, None]
    on_chin = oval & (ys > astronaut_points[17, 1] + 0.03 * width)
    bearded = _darken(astronaut, on_chin, 0.3)
    for dy, dx in ((0, 0), (37, 411), (300, 5)):
        frame = np.zeros((bearded.shape[0] + 300, bearded.shape[1] + 420, 3), np.uint8)
        frame[dy:dy + bearded.shape[0], dx:dx + bearded.shape[1]] = bearded
        points = astronaut_points + np.array([dx, dy, 0], np.float32)
        lab = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB)
        model = skin_statistics(frame, skin_sample_region(frame.shape[:2], points), lab)
        whole = chin_hair_share(lab[..., 0].astype(np.float32), points, float(model[0][0]))
        assert whole > 0.4
        assert chin_beard(frame, points) == pytest.approx(whole, abs=0.02)


def test_a_tracks_chin_is_read_every_few_frames_and_held_between(monkeypatch):
    """The chin's read (`chin_beard`, about 4 ms a 720 close-up in the sequential planning stage) runs on a
    track's first frame and every CHIN_EVERY frames after; the frames between carry the last read into the
    smoothed share, so a bearded track's share builds up as before. Each track and a scene cut start afresh."""
    from tryon_cli.faceswap import beard
    from tryon_cli.faceswap.beard import CHIN_EVERY, ChinShares, smoothed_share

    reads = iter(np.linspace(0.3, 0.7, 64))
    calls: list[float] = []

    def read(image: np.ndarray, target: np.ndarray) -> float:
        calls.append(next(reads))
        return calls[-1]

    monkeypatch.setattr(beard, "chin_beard", read)
    shares = ChinShares()
    expected = None
    for frame in range(3 * CHIN_EVERY):
        got = shares.share(7, np.zeros((4, 4, 3), np.uint8), np.zeros((478, 3), np.float32))
        expected = smoothed_share(expected, calls[frame // CHIN_EVERY])
        assert got == pytest.approx(expected)
    assert len(calls) == 3  # frames 0, CHIN_EVERY and 2 * CHIN_EVERY
    shares.share(8, np.zeros((4, 4, 3), np.uint8), np.zeros((478, 3), np.float32))
    assert len(calls) == 4  # another track: read on its first frame
    shares.clear()
    assert shares.share(7, np.zeros((4, 4, 3), np.uint8), np.zeros((478, 3), np.float32)) == calls[-1]
    assert len(calls) == 5  # after a cut: read afresh, nothing carried


def test_the_fill_stays_off_a_white_collar_beside_the_beard(astronaut, astronaut_points):
    """The fill's soft edge spread the neck's colour over a white collar touching the beard (a brown haze
    along the collar's edge under grimaces_blinks' turned head). Pixels that are neither skin nor hair keep
    their own colour; the beard beside them is still filled."""
    width = float(np.ptp(astronaut_points[:, 0]))
    hanging = _below_outline(astronaut.shape[:2], astronaut_points, 0.1)
    oval = cv2.fillPoly(np.zeros(astronaut.shape[:2], np.uint8),
                        [np.round(astronaut_points[lm.FACE_OVAL, :2]).astype(np.int32)], 255) > 0
    ys = np.arange(astronaut.shape[0])[:, None]
    on_chin = oval & (ys > astronaut_points[17, 1] + 0.03 * width) & (np.abs(
        np.arange(astronaut.shape[1])[None, :] - astronaut_points[152, 0]) < 0.2 * width)
    bearded = _darken(astronaut, on_chin | hanging, 0.3)
    # a white collar right under the beard, over the lower half of the band below the chin
    chin_y = astronaut_points[152, 1]
    collar = (ys > chin_y + 0.05 * width) & (ys < chin_y + 0.3 * width) & (np.abs(
        np.arange(astronaut.shape[1])[None, :] - astronaut_points[152, 0]) < 0.3 * width) & ~oval
    collar &= ~hanging
    bearded[collar] = (238, 236, 226)
    shaved = shave_below_chin(bearded, astronaut_points, astronaut_points)
    assert _grey(shaved)[hanging].mean() - _grey(bearded)[hanging].mean() > 20  # the beard is still filled
    changed = np.abs(shaved.astype(int) - bearded).max(axis=2)
    inner = cv2.erode(collar.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0  # off its edge's own pixel
    assert changed[inner].max() <= 2, changed[inner].max()
