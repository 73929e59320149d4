"""Face swap behaviour: identity transfer, untouched pixels, pass-through frames, errors, CLI conventions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from conftest import run_cli
from tryon_cli.analysis.identity import descriptor_distance
from tryon_cli.render.classical.engine import ClassicalEngine
from tryon_cli.io.media import read_image, write_image
from tryon_cli.faceswap.runner import swap_frames
from tryon_cli.faceswap.source import prepare_source
from tryon_cli.io.video import Frame


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def swapped_video(talking_video, source_photo, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("swap") / "out.mp4"
    result = run_cli("swap", str(source_photo), str(talking_video), "-o", str(out), "--json", "-q")
    assert result.returncode == 0, result.stderr
    return out, json.loads(result.stdout)


def test_swapped_face_looks_like_the_source(swapped_video, talking_video, source_photo, encoder):
    out, _ = swapped_video
    source = encoder.encode(read_image(source_photo))
    outputs, inputs = _frames(out), _frames(talking_video)
    to_source, to_target = [], []
    for i in range(0, len(outputs), 10):
        d_out, d_in = encoder.encode(outputs[i]), encoder.encode(inputs[i])
        assert d_out is not None and d_in is not None
        to_source.append(descriptor_distance(d_out, source))
        to_target.append(descriptor_distance(d_out, d_in))
    assert np.median(to_source) < 0.6
    assert np.median(to_source) < np.median(to_target)
    assert np.mean([s < t for s, t in zip(to_source, to_target)]) >= 0.7
    assert descriptor_distance(encoder.encode(inputs[0]), source) > 0.6  # the target really is someone else


def test_output_keeps_frames_size_fps_and_audio(swapped_video, talking_video):
    out, report = swapped_video
    assert report["frames"] == 50 and report["frames_swapped"] == 50
    with av.open(str(out)) as a, av.open(str(talking_video)) as b:
        assert a.streams.video[0].average_rate == b.streams.video[0].average_rate
        assert (a.streams.video[0].width, a.streams.video[0].height) == (320, 320)
        assert a.streams.audio and b.streams.audio
    assert len(_frames(out)) == 50


def test_image_swap_leaves_pixels_outside_the_face_bit_exact(astronaut, source_photo, tmp_path):
    target = tmp_path / "astronaut.png"
    write_image(target, astronaut)
    out = tmp_path / "out.png"
    debug = tmp_path / "debug"
    result = run_cli("swap", str(source_photo), str(target), "-o", str(out), "-q", "--debug-dir", str(debug))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    swapped = read_image(out)
    mask = read_image(debug / "000000_mask.png")[..., 0]
    assert sorted(p.name for p in debug.iterdir()) == ["000000_landmarks.png", "000000_mask.png", "000000_normals.png",
                                                       "faces.json"]
    outside = mask == 0
    np.testing.assert_array_equal(swapped[outside], astronaut[outside])
    assert np.abs(swapped[~outside].astype(int) - astronaut[~outside].astype(int)).mean() > 5


def test_frames_without_a_face_pass_through_and_are_counted(talking_video, source_photo):
    frames = _frames(talking_video)[:12]
    blank = np.full_like(frames[0], 90)
    sequence = [Frame(i, blank if 4 <= i < 8 else img, i, i / 25) for i, img in enumerate(frames)]
    source = prepare_source([(source_photo, read_image(source_photo))])
    written: dict[int, np.ndarray] = {}
    report = swap_frames(lambda: iter(sequence), source, ClassicalEngine(),
                         lambda frame, image: written.__setitem__(frame.index, image))
    assert report.frames == 12 and report.swapped == 8
    assert report.passed_through == {"no face": 4}
    for i in range(4, 8):
        np.testing.assert_array_equal(written[i], blank)


def test_face_index_picks_one_of_two_people(astronaut, source_photo, tmp_path):
    pair = np.concatenate([cv2.resize(astronaut, (256, 256))] * 2, axis=1)
    target = tmp_path / "pair.png"
    write_image(target, pair)
    outputs = {}
    for choice in ("0", "1", "all"):
        out = tmp_path / f"out_{choice}.png"
        result = run_cli("swap", str(source_photo), str(target), "-o", str(out), "-q", "--target-face", choice)
        assert result.returncode == 0, result.stderr
        outputs[choice] = read_image(out).astype(int)
    changed = {k: (np.abs(v - pair).sum(axis=2) > 0) for k, v in outputs.items()}
    assert changed["0"][:, :256].any() and not changed["0"][:, 256:].any()
    assert changed["1"][:, 256:].any() and not changed["1"][:, :256].any()
    assert changed["all"][:, :256].any() and changed["all"][:, 256:].any()


def test_reference_photo_selects_the_person(astronaut, source_photo, tmp_path):
    # Two different people side by side: the astronaut (left) and the source's own person (right).
    other = cv2.resize(read_image(source_photo), (256, 256), interpolation=cv2.INTER_CUBIC)
    pair = np.concatenate([cv2.resize(astronaut, (256, 256)), other], axis=1)
    target = tmp_path / "pair.png"
    write_image(target, pair)
    reference = tmp_path / "astronaut_reference.png"
    write_image(reference, astronaut)
    for person, photo in (("left", reference), ("right", source_photo)):
        out = tmp_path / f"out_{person}.png"
        result = run_cli("swap", str(source_photo), str(target), "-o", str(out), "-q", "--json",
                         "--reference", str(photo))
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["frames_swapped"] == 1
        changed = np.abs(read_image(out).astype(int) - pair).sum(axis=2) > 0
        left, right = changed[:, :256].any(), changed[:, 256:].any()
        assert (left, right) == ((True, False) if person == "left" else (False, True)), person

    alone = tmp_path / "astronaut.png"
    write_image(alone, astronaut)
    result = run_cli("swap", str(source_photo), str(alone), "-o", str(tmp_path / "none.png"), "-q", "--json",
                     "--reference", str(source_photo))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["frames_swapped"] == 0
    assert report["passed_through_reasons"] == {"no face matches the reference": 1}


def test_sources_from_stdin(astronaut, source_photo, tmp_path):
    target = tmp_path / "astronaut.png"
    write_image(target, astronaut)
    out = tmp_path / "out.png"
    result = run_cli("swap", "-", str(target), "-o", str(out), "-q", stdin=f"{source_photo}\n")
    assert result.returncode == 0, result.stderr
    assert out.exists() and result.stderr == ""


@pytest.mark.parametrize(
    "case, message",
    [
        ("no-face-source", "no face found in the source image"),
        ("corrupt-video", "cannot read the video"),
        ("zero-frames", "(has no frames|has no video stream)"),
        ("output-is-input", "same as an input"),
        ("output-exists", "already exists"),
        ("bad-extension", "unsupported output extension"),
        ("unsupported-target", "unsupported target extension"),
    ],
)
def test_bad_input_gives_one_clear_error_exit_2_and_no_output(case, message, talking_video, source_photo, tmp_path):
    source, target, out = source_photo, talking_video, tmp_path / "out.mp4"
    if case == "no-face-source":
        source = tmp_path / "blank.png"
        write_image(source, np.full((200, 200, 3), 128, np.uint8))
    elif case == "corrupt-video":
        target = tmp_path / "corrupt.mp4"
        target.write_bytes(b"not a video" * 100)
    elif case == "zero-frames":
        target = tmp_path / "empty.mp4"
        with av.open(str(target), "w") as container:
            stream = container.add_stream("libx264", rate=25)
            stream.width = stream.height = 64
            stream.pix_fmt = "yuv420p"
            container.start_encoding()
            for packet in stream.encode(None):
                container.mux(packet)
        assert target.exists()
    elif case == "output-is-input":
        out = talking_video
    elif case == "output-exists":
        out.write_bytes(b"keep me")
    elif case == "bad-extension":
        out = tmp_path / "out.txt"
    elif case == "unsupported-target":
        target = tmp_path / "target.txt"
        target.write_text("hello")
    before = {p.name: p.stat().st_size for p in tmp_path.iterdir()}
    result = run_cli("swap", str(source), str(target), "-o", str(out), "-q")
    assert result.returncode == 2, result.stderr
    assert re.search(message, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    after = {p.name: p.stat().st_size for p in tmp_path.iterdir()}
    assert after == before  # nothing new, nothing changed (no partial output)


def test_diffusion_without_checkpoint_is_exit_2(astronaut, source_photo, tmp_path, monkeypatch):
    monkeypatch.setenv("TRYON_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("TRYON_CHECKPOINT", raising=False)
    target = tmp_path / "astronaut.png"
    write_image(target, astronaut)
    result = run_cli("swap", str(source_photo), str(target), "-o", str(tmp_path / "o.png"), "--engine", "diffusion")
    assert result.returncode == 2
    assert "not configured" in result.stderr and not (tmp_path / "o.png").exists()


def test_eval_swap_reports_every_measure(swapped_video, talking_video, source_photo):
    out, _ = swapped_video
    result = run_cli("eval", "swap", str(source_photo), str(talking_video), str(out), "-q", "--json", "--samples", "10")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["frames"] == 50 and report["frames_with_face"] >= 45
    # the figures are reported and point the right way; the identity bar is held by the tests on real
    # portraits. dlib's distance to the source sits at its 0.6 threshold on this 320-px clip, so its
    # same-person rate swung 0.5-0.9 with a few levels of x264 noise: no bar on that rate here
    identity = report["identity"]
    assert 0.0 <= identity["same_person_rate"] <= 1.0
    assert identity["distance_to_source"]["median"] < identity["distance_to_target"]["median"] - 0.05
    assert identity["closer_to_source_rate"] >= 0.7
    assert report["expression"]["mouth_open_correlation"] > 0.6
    assert report["pose_error_degrees"]["median"] < 8
    assert report["cheek_delta_e"]["median"] < 10
    assert 0.3 < report["flicker_ratio"] < 1.6


def test_eval_of_the_target_itself_is_perfect_except_identity(talking_video, source_photo):
    result = run_cli("eval", "swap", str(source_photo), str(talking_video), str(talking_video), "-q", "--json", "--samples", "5")
    report = json.loads(result.stdout)
    assert report["identity"]["distance_to_target"]["median"] == pytest.approx(0.0, abs=1e-4)
    assert report["identity"]["same_person_rate"] == 0.0
    assert report["flicker_ratio"] == pytest.approx(1.0)
    assert report["expression"]["mouth_open_correlation"] == pytest.approx(1.0)


@pytest.mark.media
def test_real_portrait_onto_real_talking_video_meets_the_bars(tmp_path):
    from conftest import shared_media

    portrait = shared_media("faces", "portrait_b.png")
    video = shared_media("faces", "talking_head_turns.mp4")
    out = tmp_path / "out.mp4"
    result = run_cli("swap", str(portrait), str(video), "-o", str(out), "-q", "--end", "3")
    assert result.returncode == 0, result.stderr
    result = run_cli("eval", "swap", str(portrait), str(video), str(out), "-q", "--json", "--end", "3", "--samples", "20")
    report = json.loads(result.stdout)
    # portrait_b's fringe hangs over one eye: cleaned by default (pasted, it was a dark smear across the
    # target's temple and eye), and dlib, which reads the hair framing a face as identity, rates the
    # result lower (1.0 / 1.0 with the fringe pasted, 0.61 / 0.78 without; distance to source 0.51 -> 0.58)
    assert report["identity"]["same_person_rate"] >= 0.5
    assert report["identity"]["closer_to_source_rate"] >= 0.7
    assert report["expression"]["mouth_open_correlation"] >= 0.85
    assert report["cheek_delta_e"]["median"] <= 8
    assert report["flicker_ratio"] <= 1.2
    assert report["pose_error_degrees"]["median"] < 5


def test_the_union_of_the_faces_masks_is_their_pixelwise_or_and_one_mask_is_not_copied():
    """The runner merges each frame's faces' masks (and glasses frames to put back); with one face the mask
    passes as it is (stacking a one-item list for `np.bitwise_or.reduce` cost 1.5 ms a 1080x1080 frame in
    the sequential planning stage), with several it is their OR."""
    from tryon_cli.faceswap.runner import union

    rng = np.random.default_rng(5)
    masks = [np.where(rng.random((48, 64)) < 0.2, 255, 0).astype(np.uint8) for _ in range(3)]
    assert union(masks[:1]) is masks[0]
    for count in (2, 3):
        before = [mask.copy() for mask in masks]
        assert np.array_equal(union(masks[:count]), np.bitwise_or.reduce(masks[:count]))
        assert all(np.array_equal(mask, kept) for mask, kept in zip(masks, before))  # inputs untouched
