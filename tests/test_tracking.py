"""Finding and tracking every face: small faces on large frames, short misses bridged, cuts end tracks,
faces counted per frame in the swap's report."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from tryon_cli.analysis.cache import AnalysisCache, FrameAnalysis
from tryon_cli.analysis.face import N_POINTS, Face, FaceMeshAnalyzer
from tryon_cli.analysis.tracking import GapFiller
from tryon_cli.faceswap.analysis_pass import analyse_frames
from tryon_cli.io.video import Frame

FRONTAL = np.random.default_rng(0).normal(size=(N_POINTS, 3)).astype(np.float32)


def fake_face(x: float, y: float, size: float = 40.0) -> Face:
    grid = np.random.default_rng(1).uniform(0, size, (N_POINTS, 3)).astype(np.float32)
    return Face(points=grid + np.array([x, y, 0], np.float32))


def run_filler(items: list[FrameAnalysis], max_gap: int = 3) -> list[FrameAnalysis]:
    filler = GapFiller(max_gap)
    out = [done for item in items for done in filler.push(item)]
    return out + filler.flush()


def test_a_short_miss_is_bridged_by_interpolation():
    items = [FrameAnalysis(i, (fake_face(10.0 * i, 5.0),), (7,), False) for i in range(8)]
    items[3] = FrameAnalysis(3, (), (), False)
    items[4] = FrameAnalysis(4, (), (), False)
    out = run_filler(items)
    assert [a.index for a in out] == list(range(8))
    for k in (3, 4):
        assert out[k].tracks == (7,) and out[k].bridged_flags == (True,) and out[k].found == 0
        # halfway points of the sightings at 2 and 5: the face moves 10 px a frame
        np.testing.assert_allclose(out[k].faces[0].points, items[0].faces[0].points + [10.0 * k, 0, 0], atol=1e-4)
    assert all(a.bridged_flags == (False,) for k, a in enumerate(out) if k not in (3, 4))


def test_a_long_miss_and_a_cut_are_not_bridged():
    items = [FrameAnalysis(i, (fake_face(0, 0),), (1,), False) for i in range(12)]
    for k in range(2, 6):  # 4 frames missing, more than max_gap=3
        items[k] = FrameAnalysis(k, (), (), False)
    items[8] = FrameAnalysis(8, (), (), False)
    items[9] = FrameAnalysis(9, (fake_face(0, 0),), (1,), True)  # a cut: the track's sightings do not join
    out = run_filler(items)
    assert [len(a.faces) for a in out] == [1, 1, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1]


def test_the_cache_keeps_bridged_flags():
    cache = AnalysisCache()
    item = FrameAnalysis(0, (fake_face(0, 0), fake_face(50, 0)), (3, 4), True, bridged=(False, True))
    cache.append(item)
    back = next(iter(cache))
    cache.close()
    assert back.tracks == (3, 4) and back.bridged == (False, True) and back.found == 1 and back.scene_cut
    with pytest.raises(ValueError):
        FrameAnalysis(0, (fake_face(0, 0),), (1, 2), False)


def small_face_frames(astronaut: np.ndarray, count: int, scale: float = 0.4, size=(1280, 720),
                      background: tuple[int, int, int] = (90, 90, 90), cut_at: int | None = None) -> list[Frame]:
    """The astronaut shrunk (her face about 41 px wide, as the detector boxes it) moving across a large
    grey frame."""
    small = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(count):
        canvas = np.empty((size[1], size[0], 3), np.uint8)
        canvas[:] = background if cut_at is None or i < cut_at else (40, 120, 200)  # after the cut: blue
        x, y = 300 + 4 * i, 200 + 2 * i
        canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
        frames.append(Frame(i, canvas, i, i / 25))
    return frames


def analyse(frames: list[Frame], max_faces: int = 4) -> list[FrameAnalysis]:
    cache, _ = analyse_frames(iter(frames), FRONTAL, True, max_faces)
    out = list(cache)
    cache.close()
    return out


def test_a_small_face_is_found_in_every_frame(astronaut):
    frames = small_face_frames(astronaut, 14)
    with FaceMeshAnalyzer(max_faces=4, tracking=True) as mesh:  # what the swap used before: nothing
        assert sum(len(mesh.detect(f.image)) for f in frames) == 0
    out = analyse(frames)
    assert [len(a.faces) for a in out] == [1] * len(frames)
    assert len({a.tracks[0] for a in out}) == 1 and all(a.found == 1 for a in out)
    for frame, a in zip(frames, out):  # the mesh sits on the face: inside the pasted photo, face-sized
        x0, y0, x1, y1 = a.faces[0].bbox
        left, top = 300 + 4 * frame.index, 200 + 2 * frame.index
        assert left < x0 < x1 < left + 205 and top < y0 < y1 < top + 205 and 30 < x1 - x0 < 90


def test_a_two_frame_miss_is_bridged_in_the_swap_analysis(astronaut):
    frames = small_face_frames(astronaut, 12)
    for k in (5, 6):  # the face covered (a hand, motion blur): the frame is otherwise the same
        image = frames[k].image.copy()
        image[150:450, 280:600] = 90
        frames[k] = Frame(k, image, k, k / 25)
    out = analyse(frames)
    assert [len(a.faces) for a in out] == [1] * 12
    assert [a.found for a in out] == [1] * 5 + [0, 0] + [1] * 5
    assert len({a.tracks[0] for a in out}) == 1
    for k in (5, 6):
        share = (k - 4) / 3
        expected = (1 - share) * out[4].faces[0].points + share * out[7].faces[0].points
        np.testing.assert_allclose(out[k].faces[0].points, expected, atol=1e-3)


def test_tracks_end_at_a_cut(astronaut):
    # Another shot from frame 6 (a blue background), the face where the track expects it: only the cut
    # ends the track.
    out = analyse(small_face_frames(astronaut, 12, cut_at=6))
    assert [a.scene_cut for a in out] == [False] * 6 + [True] + [False] * 5
    assert [len(a.faces) for a in out] == [1] * 12
    assert out[0].tracks == out[5].tracks and out[6].tracks == out[11].tracks
    assert out[5].tracks != out[6].tracks


def test_the_swap_report_counts_faces_per_frame(talking_video, source_photo, tmp_path):
    from tryon_cli.faceswap.debug import write_face_counts  # noqa: F401 (the debug folder's writer)
    from tryon_cli.faceswap.options import SwapOptions
    from tryon_cli.faceswap.runner import swap_frames
    from tryon_cli.faceswap.source import prepare_source
    from tryon_cli.io.media import read_image
    from tryon_cli.render.classical.engine import ClassicalEngine

    with av.open(str(talking_video)) as container:
        images = [f.to_ndarray(format="rgb24") for _, f in zip(range(10), container.decode(video=0))]
    # Two people side by side; in frame 4 the right one is covered for one frame.
    pairs = [np.concatenate([image, image], axis=1) for image in images]
    pairs[4] = pairs[4].copy()
    pairs[4][:, 320:] = 90
    sequence = [Frame(i, image, i, i / 25) for i, image in enumerate(pairs)]
    source = prepare_source([(source_photo, read_image(source_photo))])
    report = swap_frames(lambda: iter(sequence), source, ClassicalEngine(), lambda frame, image: None,
                         SwapOptions(target_face="all"), debug_dir=tmp_path)
    assert report.faces_found == [2, 2, 2, 2, 1, 2, 2, 2, 2, 2]
    assert report.faces_bridged == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert report.faces_swapped == [2] * 10
    per_frame = report.as_dict()["faces_per_frame"]
    assert per_frame["found"] == report.faces_found and per_frame["swapped"] == report.faces_swapped
    import json

    rows = json.loads((tmp_path / "faces.json").read_text())
    assert rows[4] == {"frame": 4, "found": 1, "bridged": 1, "swapped": 2}


class _Detector:
    """Finds the real face on every frame, and the look-alike (the back of a head) on frame 0 only; the
    frame's index is written in its first pixel."""

    REAL, LOOK_ALIKE = (100.0, 100.0, 160.0, 160.0), (400.0, 100.0, 460.0, 160.0)

    def detect(self, image, tiles_needed=None):
        from tryon_cli.analysis.detection import FaceBox

        boxes = [self.REAL] + ([self.LOOK_ALIKE] if image[0, 0, 0] == 0 else [])
        return [FaceBox(b, 0.9, np.zeros((6, 2))) for b in boxes]

    def close(self):
        pass


class _Fitter:
    """The mesh fits whatever box it is given (as it does on a look-alike once confirmed)."""

    def fit(self, image, box, scale=1.6, track=None):
        x0, y0, x1, y1 = box
        xs, ys = np.linspace(x0, x1, N_POINTS), np.linspace(y0, y1, N_POINTS)[::-1]
        return Face(points=np.stack([xs, ys, np.zeros(N_POINTS)], axis=1).astype(np.float32))

    def release(self, track):
        pass

    def close(self):
        pass


def test_a_track_the_detector_never_sees_again_is_doubtful_and_not_swapped():
    from tryon_cli.analysis.tracking import FaceFinder
    from tryon_cli.faceswap.analysis_pass import choose_faces
    from tryon_cli.faceswap.options import SwapOptions

    finder = FaceFinder(detector=_Detector(), fitter=_Fitter())
    frames = []
    for index in range(40):
        image = np.full((300, 600, 3), 7, np.uint8)
        image[0, 0, 0] = min(index, 1)
        faces, tracks = finder.find(image, index)
        frames.append(FrameAnalysis(index, tuple(faces), tuple(tracks), False))
    assert all(len(a.faces) == 2 for a in frames)  # the mesh keeps both
    real = next(t for f, t in zip(frames[0].faces, frames[0].tracks) if f.bbox[0] < 200)
    look_alike = next(t for t in frames[0].tracks if t != real)
    assert finder.doubtful() == {look_alike}
    options = SwapOptions(target_face="all")
    chosen, _ = choose_faces(frames[20], options, set(), frozenset(finder.doubtful()))
    assert [frames[20].tracks[i] for i in chosen] == [real]
    chosen, reason = choose_faces(frames[20], options, set(), frozenset(frames[20].tracks))
    assert chosen == [] and reason == "no face"


class _TileCountingDetector:
    """One face at `box` on every frame; records what the finder answers on whether the tiles must run."""

    whole_frame_width = 120.0  # FaceDetector's default: a 480 px tile's quarter overlap

    def __init__(self, box):
        self.box, self.answers = box, []

    def detect(self, image, tiles_needed=None):
        from tryon_cli.analysis.detection import FaceBox

        boxes = [FaceBox(self.box, 0.9, np.zeros((6, 2)))]
        self.answers.append(True if tiles_needed is None else tiles_needed(boxes))
        return boxes

    def close(self):
        pass


@pytest.mark.parametrize("box, max_faces, tiles", [
    ((100.0, 100.0, 300.0, 300.0), 1, False),  # a close-up fills max_faces: only smaller faces could be left
    ((100.0, 100.0, 160.0, 160.0), 1, True),  # a face too small for the whole-frame pass alone
    ((100.0, 100.0, 300.0, 300.0), 2, True),  # room for another face, of any size
])
def test_the_detector_tiles_run_only_where_they_can_find_a_face_that_counts(box, max_faces, tiles):
    from tryon_cli.analysis.tracking import FaceFinder

    detector = _TileCountingDetector(box)
    finder = FaceFinder(max_faces=max_faces, detector=detector, fitter=_Fitter())
    for index in range(8):
        finder.find(np.zeros((600, 600, 3), np.uint8), index)
    assert detector.answers[0] is True  # nothing fitted yet: the first frame is searched whole
    assert len(detector.answers) > 1 and all(answer is tiles for answer in detector.answers[1:])


def _box_with_nose(box, nose_x):
    """A detector box whose eyes sit at 30% and 70% of its width and whose nose tip is at `nose_x` (share)."""
    from tryon_cli.analysis.detection import FaceBox

    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    points = [(x0 + 0.3 * w, y0 + 0.3 * h), (x0 + 0.7 * w, y0 + 0.3 * h), (x0 + nose_x * w, y0 + 0.55 * h),
              (x0 + 0.5 * w, y0 + 0.8 * h), (x0, y0 + 0.4 * h), (x1, y0 + 0.4 * h)]
    return FaceBox(box, 0.9, np.array(points, np.float32))


class _ProfileDetector:
    """A frontal face (nose between the eyes) and a turned one, whose nose is beyond the far eye on most
    frames (a near-profile) and between the eyes on every third (noisy key points)."""

    FRONTAL, TURNED = (100.0, 100.0, 160.0, 160.0), (400.0, 100.0, 460.0, 160.0)

    def __init__(self):
        self.calls = 0

    def detect(self, image, tiles_needed=None):
        self.calls += 1
        turned_nose = 0.6 if self.calls % 3 == 0 else 0.85
        return [_box_with_nose(self.FRONTAL, 0.52), _box_with_nose(self.TURNED, turned_nose)]

    def close(self):
        pass


def test_near_profile_reads_the_nose_against_the_eyes():
    from tryon_cli.analysis.tracking import near_profile

    box = (0.0, 0.0, 100.0, 100.0)
    assert not near_profile(_box_with_nose(box, 0.5))  # frontal
    assert not near_profile(_box_with_nose(box, 0.68))  # three-quarter: nose towards the far eye
    assert near_profile(_box_with_nose(box, 0.85)) and near_profile(_box_with_nose(box, 0.15))
    from tryon_cli.analysis.detection import FaceBox

    assert not near_profile(FaceBox(box, 0.9, np.zeros((6, 2))))  # no key points: no evidence


def test_a_track_the_detector_mostly_sees_as_a_near_profile_is_doubtful_and_not_swapped():
    """The mesh fits a near-profile far too frontal: such a track is not swapped, a frontal one is."""
    from tryon_cli.analysis.tracking import FaceFinder
    from tryon_cli.faceswap.analysis_pass import choose_faces
    from tryon_cli.faceswap.options import SwapOptions

    from tryon_cli.analysis.tracking import OPEN_END

    finder = FaceFinder(detector=_ProfileDetector(), fitter=_Fitter())
    frames = []
    for index in range(60):
        faces, tracks = finder.find(np.full((300, 600, 3), 7, np.uint8), index)
        frames.append(FrameAnalysis(index, tuple(faces), tuple(tracks), False))
    assert all(len(a.faces) == 2 for a in frames)
    frontal = next(t for f, t in zip(frames[0].faces, frames[0].tracks) if f.bbox[0] < 200)
    turned = next(t for t in frames[0].tracks if t != frontal)
    assert finder.doubtful() == set() and finder.turned(frontal) == ()
    assert finder.turned(turned) == ((0, OPEN_END),)
    spans = {tid: finder.turned(tid) for tid in (frontal, turned)}
    for index in (0, 30, 59):
        chosen, _ = choose_faces(frames[index], SwapOptions(target_face="all"), set(), frozenset(), spans)
        assert [frames[index].tracks[i] for i in chosen] == [frontal]


class _TurningDetector:
    """Two faces; the right one is a near-profile (its nose beyond the far eye) from frame `start` to
    frame `end`. The frame's index is in its first pixel."""

    LEFT, RIGHT = (100.0, 100.0, 160.0, 160.0), (400.0, 100.0, 460.0, 160.0)

    def __init__(self, start=20, end=255):
        self.start, self.end = start, end

    def detect(self, image, tiles_needed=None):
        index = int(image[0, 0, 0])
        nose = 0.85 if self.start <= index <= self.end else 0.52
        return [_box_with_nose(self.LEFT, 0.5), _box_with_nose(self.RIGHT, nose)]

    def close(self):
        pass


@pytest.mark.parametrize("start, end, frontal_part", [(20, 255, range(16)), (40, 55, range(80))])
def test_a_face_that_turns_to_a_profile_keeps_its_frontal_stretch(start, end, frontal_part):
    """A track mostly seen as a near-profile is judged per stretch: the frontal part of a shot is swapped,
    the rest not. One mostly frontal is swapped throughout (a three-quarter glance aside looks right)."""
    from tryon_cli.analysis.tracking import FaceFinder
    from tryon_cli.faceswap.analysis_pass import choose_faces
    from tryon_cli.faceswap.options import SwapOptions

    finder = FaceFinder(detector=_TurningDetector(start, end), fitter=_Fitter())
    frames = []
    for index in range(80):
        image = np.full((300, 600, 3), 7, np.uint8)
        image[0, 0, 0] = index
        faces, tracks = finder.find(image, index)
        frames.append(FrameAnalysis(index, tuple(faces), tuple(tracks), False))
    assert all(len(a.faces) == 2 for a in frames) and len({t for a in frames for t in a.tracks}) == 2
    right = next(t for f, t in zip(frames[0].faces, frames[0].tracks) if f.bbox[0] > 200)
    spans = {tid: finder.turned(tid) for tid in frames[0].tracks}
    swapped = [[frames[k].tracks[i] for i in choose_faces(frames[k], SwapOptions(target_face="all"), set(),
                                                             frozenset(finder.doubtful()), spans)[0]]
               for k in range(80)]
    assert all(right in swapped[k] for k in frontal_part)  # frontal: swapped
    profile = [k for k in range(80) if k not in frontal_part and k >= 24]  # the detector runs every 8 frames
    assert all(right not in swapped[k] for k in profile)
    assert all(len(swapped[k]) == 2 for k in frontal_part) and all(len(swapped[k]) == 1 for k in profile)


class _TurnedFitter(_Fitter):
    """The mesh of the right-hand face turned `yaw` degrees (its eye corners apart in depth)."""

    def __init__(self, yaw):
        self.yaw = yaw

    def fit(self, image, box, scale=1.6, track=None):
        face = super().fit(image, box, scale, track)
        if box[0] > 200:
            x = face.points[:, 0] - face.points[:, 0].mean()
            face.points[:, 2] = x * np.tan(np.radians(self.yaw))
        return face


@pytest.mark.parametrize("yaw, turned", [(20.0, False), (34.0, False), (42.0, True), (50.0, True)])
def test_a_face_the_mesh_turns_past_the_profile_yaw_is_near_profile(yaw, turned):
    """The detector's key points say frontal (they miss some near-profiles); the mesh's turn decides."""
    from tryon_cli.analysis.tracking import OPEN_END, FaceFinder, mesh_yaw

    finder = FaceFinder(detector=_TurningDetector(), fitter=_TurnedFitter(yaw))
    for index in range(30):
        image = np.full((300, 600, 3), 7, np.uint8)
        faces, tracks = finder.find(image, index)  # index 0 in the first pixel: frontal key points
    right = next(t for f, t in zip(faces, tracks) if f.bbox[0] > 200)
    assert abs(mesh_yaw(faces[tracks.index(right)]) - yaw) < 1
    assert finder.turned(right) == (((0, OPEN_END),) if turned else ())
    assert finder.turned(next(t for t in tracks if t != right)) == ()


def _detection_counts_benchmark():
    """benchmarks/face_detection_counts.py, loaded as a module (benchmarks are scripts, not a package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "face_detection_counts.py"
    spec = importlib.util.spec_from_file_location("face_detection_counts", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def _still_video(path, image: np.ndarray, frames: int):
    """An H.264 video at 25 fps holding `image` (RGB, even sides) for `frames` frames; returns `path`."""
    height, width = image.shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_the_benchmark_reference_does_not_count_what_the_mesh_finds_no_face_on(astronaut, tmp_path):
    """faces_detection_counts' reference is the detector's boxes; one the mesh fits no face in on any of
    its frames (the back of a head) is not counted, a real face is."""
    bench = _detection_counts_benchmark()
    video = _still_video(tmp_path / "two.mp4", astronaut, 4)
    face, wall = (170.0, 60.0, 280.0, 190.0), (380.0, 300.0, 490.0, 430.0)  # her face; the suit and sky
    reference = [{"visible": {k: box for k in range(4)}, "seen": list(range(4))} for box in (face, wall)]
    bench.check_with_mesh(video, reference, samples=2)
    assert reference[0]["mesh"] == (2, 2) and reference[1]["mesh"] == (0, 2)


def test_the_benchmark_reference_does_not_link_a_small_face_to_a_close_up_over_it(tmp_path, monkeypatch):
    """A close-up that passes in front of a small face (its box holding the small one's) is another face:
    the reference keeps the two apart, so neither's frames count for the other."""
    from tryon_cli.analysis.detection import FaceBox

    bench = _detection_counts_benchmark()
    video = _still_video(tmp_path / "grey.mp4", np.full((320, 320, 3), 90, np.uint8), 20)

    class Detector:  # a 60 px face for 10 frames, then a 200 px close-up over it for 10
        frame = -1

        def __init__(self, *args, **kwargs):
            pass

        def detect(self, image):
            Detector.frame += 1
            small = (100.0 + Detector.frame, 100.0, 160.0 + Detector.frame, 160.0)
            box = small if Detector.frame < 10 else (40.0, 40.0, 240.0, 240.0)
            return [FaceBox(box, 0.9, np.zeros((6, 2), np.float32))]

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

    monkeypatch.setattr(bench, "FaceDetector", Detector)
    faces = bench.reference_faces(video, 40)
    assert sorted((min(f["visible"]), max(f["visible"]), round(f["width"])) for f in faces) == [(0, 9, 60), (10, 19, 200)]


def test_a_blurred_audience_face_is_fitted_on_its_sharpened_crop():
    """movie_several_people's frame 174: a face behind the dancers, blurred out of focus, that the
    detector boxes; the mesh finds no face on any plain crop of it, and the finder fits it on a sharpened
    crop."""
    from conftest import shared_media

    from tryon_cli.analysis.detection import FaceDetector
    from tryon_cli.analysis.face import CropMeshFitter, box_overlap
    from tryon_cli.analysis.tracking import DETECTOR_CROPS, FaceFinder

    with av.open(str(shared_media("faces", "movie_several_people_720p.mp4"))) as container:
        image = next(f for i, f in enumerate(container.decode(video=0)) if i == 174).to_ndarray(format="rgb24")
    with FaceDetector() as detector:  # the detector's box on the face (about 287, 155, 357, 225; score 0.68)
        box = next(b.box for b in detector.detect(image) if abs(b.box[0] - 287) < 8 and abs(b.box[1] - 155) < 8)
    with CropMeshFitter() as fitter:
        assert all(fitter.fit(image, box, scale) is None for scale in DETECTOR_CROPS)
    with FaceFinder() as finder:
        faces, _ = finder.find(image, 0)
    face = next(f for f in faces if box_overlap(f.bbox, box) >= 0.5)
    x0, y0, x1, y1 = face.bbox  # on the face: centred in the box, face-sized
    assert abs((x0 + x1) / 2 - 322) < 15 and abs((y0 + y1) / 2 - 190) < 20 and 55 < x1 - x0 < 110


@pytest.mark.parametrize("yaw, shift, kept", [
    (0.0, 0.0, True),  # a frontal face where the detector saw its eyes and nose: kept
    (30.0, 0.0, False),  # turned: the mesh, found only sharpened, is too frontal a fit (a profile, a half-hidden face)
    (0.0, 0.3, False),  # its eyes and nose a third of the box away from the detector's: another face
])
def test_a_face_found_only_on_the_sharpened_crop_is_kept_only_frontal_and_on_the_detector_key_points(yaw, shift, kept):
    from tryon_cli.analysis.detection import FaceBox
    from tryon_cli.analysis.tracking import FaceFinder

    x0, y0, w = 100.0, 100.0, 60.0
    keypoints = np.array([[x0 + 0.3 * w, y0 + 0.4 * w], [x0 + 0.7 * w, y0 + 0.4 * w], [x0 + 0.5 * w, y0 + 0.6 * w],
                          [x0 + 0.45 * w, y0 + 0.8 * w], [x0, y0 + 0.4 * w], [x0 + w, y0 + 0.4 * w]], np.float32)

    class Detector:
        def detect(self, image, tiles_needed=None):
            return [FaceBox((x0, y0, x0 + w, y0 + w), 0.7, keypoints)]

        def close(self):
            pass

    class Fitter:  # no face on the plain crops (a blurred face), one on the sharpened crop
        def fit(self, image, box, scale=1.6, track=None, min_overlap=0.3, sharpen=False):
            if not sharpen:
                return None
            grid = np.random.default_rng(2).uniform(0, 1, (N_POINTS, 3)).astype(np.float32)
            points = np.column_stack([x0 + w * grid[:, 0], y0 + w * grid[:, 1], np.zeros(N_POINTS)])
            for index, (x, y) in {33: (0.2, 0.4), 133: (0.4, 0.4), 362: (0.6, 0.4), 263: (0.8, 0.4), 1: (0.5, 0.6)}.items():
                points[index] = (x0 + x * w, y0 + y * w, 0.0)
            points[263, 2] = 0.6 * w * np.tan(np.radians(yaw))
            points[:, 0] += shift * w
            return Face(points=points.astype(np.float32))

        def release(self, track):
            pass

        def close(self):
            pass

    faces, _ = FaceFinder(detector=Detector(), fitter=Fitter()).find(np.zeros((300, 300, 3), np.uint8), 0)
    assert len(faces) == (1 if kept else 0)
