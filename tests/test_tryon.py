"""Try-on masks and classical try-on: synthetic cases everywhere, the issue's bars on the shared media."""

from __future__ import annotations

import json

import av
import cv2
import numpy as np
import pytest

from conftest import run_cli, shared_media
from tryon_cli.analysis.body import BodyAnalyzer
from tryon_cli.analysis.face import FaceMeshAnalyzer
from tryon_cli.errors import InputError
from tryon_cli.garments.photo import prepare_garment
from tryon_cli.masks.garment import MaskOptions, build_mask
from tryon_cli.io.media import read_image, write_image


def tshirt(colour=(40, 90, 200), size=(400, 400)) -> np.ndarray:
    """A flat T-shirt drawn on white."""
    image = np.full(size + (3,), 255, np.uint8)
    body = np.array([[120, 60], [280, 60], [370, 130], [330, 190], [290, 160], [290, 360], [110, 360], [110, 160],
                     [70, 190], [30, 130]], np.int32)
    cv2.fillPoly(image, [body], colour)
    cv2.ellipse(image, (200, 60), (40, 22), 0, 0, 180, (255, 255, 255), -1)
    return image


@pytest.fixture(scope="module")
def person(tmp_path_factory, astronaut):
    path = tmp_path_factory.mktemp("person") / "astronaut.png"
    write_image(path, astronaut)
    return path


def test_mask_keeps_the_face_out_and_jitter_is_seeded(astronaut):
    with BodyAnalyzer() as analyzer:
        body = analyzer.analyse(astronaut)
    assert body.source == "pose"
    mask = build_mask(astronaut, body, MaskOptions()).mask
    with FaceMeshAnalyzer(1, tracking=False) as faces:
        face = faces.detect(astronaut)[0].points.astype(int)
    inner_face = face[[1, 4, 33, 263, 13], :2]  # nose, eyes, mouth
    assert all(mask[y, x] == 0 for x, y in inner_face)
    assert mask.any()
    jitter = MaskOptions(train_jitter=True)
    a = build_mask(astronaut, body, jitter, np.random.default_rng(1)).mask
    b = build_mask(astronaut, body, jitter, np.random.default_rng(1)).mask
    c = build_mask(astronaut, body, jitter, np.random.default_rng(2)).mask
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert (a > 0).sum() >= (mask > 0).sum()


def test_strategies_nest(astronaut):
    with BodyAnalyzer() as analyzer:
        body = analyzer.analyse(astronaut)
    tight = build_mask(astronaut, body, MaskOptions(strategy="tight")).mask > 0
    relaxed = build_mask(astronaut, body, MaskOptions(strategy="dilate-relax")).mask > 0
    box = build_mask(astronaut, body, MaskOptions(strategy="box")).mask > 0
    assert tight.sum() < relaxed.sum() <= box.sum() + tight.sum()
    assert (tight & ~relaxed).sum() < 0.02 * tight.sum()


def test_lower_body_out_of_frame_is_a_clear_error(astronaut, person, tmp_path):
    with BodyAnalyzer() as analyzer:
        body = analyzer.analyse(astronaut)
    with pytest.raises(InputError, match="lower body is not in the frame"):
        build_mask(astronaut, body, MaskOptions(category="lower"))
    result = run_cli("mask", str(person), "-o", str(tmp_path / "m.png"), "--category", "lower")
    assert result.returncode == 2 and "not in the frame" in result.stderr
    assert not (tmp_path / "m.png").exists()


def test_no_person_is_a_clear_error(tmp_path):
    empty = tmp_path / "wall.png"
    write_image(empty, np.full((300, 300, 3), 200, np.uint8))
    result = run_cli("mask", str(empty), "-o", str(tmp_path / "m.png"))
    assert result.returncode == 2 and "no person found" in result.stderr


def test_garment_segmentation_and_landmarks():
    garment = prepare_garment(tshirt(), "upper")
    assert abs((garment.mask > 0).mean() - (np.any(tshirt() != 255, axis=2)).mean()) < 0.02
    marks = garment.landmarks
    assert marks["shoulder_left"][0] < marks["shoulder_right"][0]
    assert marks["sleeve_left"][0] < marks["shoulder_left"][0] and marks["sleeve_right"][0] > marks["shoulder_right"][0]
    assert marks["hem_left"][1] > marks["shoulder_left"][1]


@pytest.mark.parametrize("mode", ["mask", "mask-free"])
def test_classical_tryon_puts_the_garment_on_and_leaves_the_rest(person, astronaut, tmp_path, mode):
    garment = tmp_path / "shirt.png"
    write_image(garment, tshirt())
    out, masked = tmp_path / "out.png", tmp_path / "mask.png"
    result = run_cli("tryon", str(person), str(garment), "-o", str(out), "-q", "--json", "--mode", mode)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["engine"] == "classical"
    assert run_cli("mask", str(person), "-o", str(masked), "-q").returncode == 0
    dressed, mask = read_image(out), read_image(masked)[..., 0]
    assert dressed.shape == astronaut.shape
    np.testing.assert_array_equal(dressed[mask == 0], astronaut[mask == 0])
    changed = np.abs(dressed.astype(int) - astronaut.astype(int)).sum(axis=2) > 30
    blue = (np.abs(dressed.astype(int) - (40, 90, 200)).sum(axis=2) < 40) & changed
    assert blue.sum() > 0.03 * astronaut.shape[0] * astronaut.shape[1]


def test_mask_video_keeps_frames_and_png_folder_output(talking_video, tmp_path):
    out = tmp_path / "mask.mp4"
    result = run_cli("mask", str(talking_video), "-o", str(out), "-q", "--json", "--preview", str(tmp_path / "p.mp4"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["frames"] == 50 and len(report["per_frame"]) == 50
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 50
    assert (tmp_path / "p.mp4").exists()
    folder = tmp_path / "frames"
    assert run_cli("mask", str(talking_video), "-o", str(folder), "-q", "--end", "0.4").returncode == 0
    assert sorted(p.name for p in folder.iterdir()) == [f"{i:06d}.png" for i in range(10)]


@pytest.mark.media
def test_video_mask_covers_the_reference_on_every_frame(tmp_path):
    video = shared_media("tryon", "video", "upper1.mp4")
    reference = shared_media("tryon", "video", "upper1_reference_mask.mp4")
    folder = tmp_path / "frames"
    result = run_cli("mask", str(video), "-o", str(folder), "-q", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    with av.open(str(reference)) as container:
        refs = [f.to_ndarray(format="rgb24")[..., 0] > 127 for f in container.decode(video=0)]
    coverage = [(read_image(folder / f"{i:06d}.png")[..., 0] > 0)[ref].mean() for i, ref in enumerate(refs)]
    assert min(coverage) >= 0.97
    assert report["median_area_change"] < 0.03


@pytest.mark.media
@pytest.mark.parametrize("photo, garment", [("01008_00.jpg", "00055_00.jpg"), ("05997_00.jpg", "00126_00.jpg")])
def test_photo_tryon_matches_the_garment_colour_and_keeps_the_face(photo, garment, tmp_path):
    from tryon_cli.analysis.body import BodyAnalyzer as Analyzer
    from tryon_cli.garments.placement import warp_garment
    from tryon_cli.masks.garment import GarmentMask

    person_path, garment_path = shared_media("tryon", "images", photo), shared_media("tryon", "garments", garment)
    out, masked = tmp_path / "out.png", tmp_path / "mask.png"
    assert run_cli("tryon", str(person_path), str(garment_path), "-o", str(out), "-q").returncode == 0
    assert run_cli("mask", str(person_path), "-o", str(masked), "-q").returncode == 0
    person, dressed, mask = read_image(person_path), read_image(out), read_image(masked)[..., 0]
    np.testing.assert_array_equal(dressed[mask == 0], person[mask == 0])
    with FaceMeshAnalyzer(1, tracking=False) as faces:
        face = faces.detect(person)[0].points.astype(int)
    assert mask[face[:, 1].clip(0, mask.shape[0] - 1), face[:, 0].clip(0, mask.shape[1] - 1)].mean() < 0.05
    model = prepare_garment(read_image(garment_path), "upper")
    with Analyzer() as analyzer:
        body = analyzer.analyse(person)
    built = build_mask(person, body, MaskOptions())
    _, alpha, keep = warp_garment(model, body, GarmentMask(mask, built.box, built.source), person.shape[:2], "upper")
    worn = (alpha > 0.95) & (keep == 0) & (mask > 0)
    lab = lambda img, region: cv2.cvtColor(img, cv2.COLOR_RGB2LAB)[region].astype(float).mean(axis=0)  # noqa: E731
    distance = np.linalg.norm((lab(dressed, worn) - lab(model.image, model.mask > 0)) * (100 / 255, 1, 1))
    assert distance < 10


@pytest.fixture
def sam_importable(monkeypatch):
    """segment_anything importable: the torchvision stand-in on the path while the test runs (only when the
    real torchvision is missing), and every module it brought in gone afterwards, so later imports
    (transformers checks for torchvision) never see the stand-in."""
    import importlib.util
    import sys
    from pathlib import Path

    before = set(sys.modules)
    if importlib.util.find_spec("torchvision") is None:
        monkeypatch.syspath_prepend(str(Path(__file__).parent / "stubs"))
    yield
    for name in set(sys.modules) - before:
        if name.startswith(("torchvision", "segment_anything")):
            del sys.modules[name]


def test_sam_checkpoint_loads_and_prompts_with_keypoints(astronaut, tmp_path, sam_importable):
    import torch

    from segment_anything.build_sam import _build_sam

    from tryon_cli.masks.sam import load_sam

    torch.manual_seed(0)
    tiny = _build_sam(encoder_embed_dim=32, encoder_depth=2, encoder_num_heads=2, encoder_global_attn_indexes=[])
    checkpoint = tmp_path / "sam_tiny.pth"
    torch.save(tiny.state_dict(), checkpoint)
    predictor = load_sam(str(checkpoint))
    with BodyAnalyzer() as analyzer:
        body = analyzer.analyse(astronaut)
    with_sam = build_mask(astronaut, body, MaskOptions(strategy="tight"), sam=predictor)
    assert with_sam.mask.shape == astronaut.shape[:2] and with_sam.mask.dtype == np.uint8
    from tryon_cli.errors import ModelMissingError

    with pytest.raises(ModelMissingError, match="SAM checkpoint .* not found"):
        load_sam(str(tmp_path / "missing.pth"))
    bad = tmp_path / "bad.pth"
    torch.save({"x": torch.zeros(1)}, bad)
    with pytest.raises(ModelMissingError, match="not a SAM checkpoint"):
        load_sam(str(bad))


def test_missing_sam_checkpoint_is_exit_2(person, tmp_path):
    result = run_cli("mask", str(person), "-o", str(tmp_path / "m.png"), "--sam", str(tmp_path / "nope.pth"))
    assert result.returncode == 2 and "SAM checkpoint" in result.stderr


@pytest.mark.media
def test_video_tryon_keeps_frames_fps_and_audio(tmp_path):
    video = shared_media("tryon", "video", "upper1.mp4")
    garment = shared_media("tryon", "garments", "00057_00.jpg")
    out = tmp_path / "out.mp4"
    result = run_cli("tryon", str(video), str(garment), "-o", str(out), "-q", "--json", "--end", "1")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # (the walk-in's frames without a torso are left as they were, and reported)
    assert report["frames"] == 24 and 0 < report["frames_rendered"] == 24 - report["frames_without_torso"]
    with av.open(str(out)) as a, av.open(str(video)) as b:
        assert a.streams.video[0].average_rate == b.streams.video[0].average_rate
        assert (a.streams.video[0].width, a.streams.video[0].height) == (b.streams.video[0].width, b.streams.video[0].height)
        assert bool(a.streams.audio) == bool(b.streams.audio)
        assert sum(1 for _ in a.decode(video=0)) == 24
