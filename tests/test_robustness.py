"""Every input a user brings (issue 10): video edge cases, image layouts and sizes, safe outputs, CLI messages.

Synthetic inputs are tiny (64-128 px, a few frames, a 360-wide strip where the width matters) so the whole
file runs in well under a minute.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import struct
import subprocess
import sys
import zlib
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from conftest import run_cli
from tryon_cli.errors import FrameError, InputError, PartialInputError
from tryon_cli.io import media, outputs
from tryon_cli.io.media import load_image, read_image, write_image
from tryon_cli.io.outputs import atomic_output, check_output_path
from tryon_cli.io.media import read_provenance
from tryon_cli.io.provenance import current_command
from tryon_cli.io.target_media import EncodeOptions, check_comparable, check_target, open_target
from tryon_cli.io.video import iter_frames, probe_video

BASE = Fraction(1, 15360)


def invoke(*args: str, stdin: str | None = None):
    """Run the `tryon` app in this process (one import for all tests); logging and env restored after."""
    from types import SimpleNamespace

    from typer.testing import CliRunner

    from tryon_cli.app import app

    root = logging.getLogger()
    saved = (dict(os.environ), list(root.handlers), root.level)
    try:
        result = CliRunner().invoke(app, list(args), input=stdin)
    finally:
        os.environ.clear()
        os.environ.update(saved[0])
        root.handlers[:] = saved[1]
        root.setLevel(saved[2])
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def _noise(i: int, h: int = 64, w: int = 64) -> np.ndarray:
    return np.random.default_rng(i).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _make_video(path: Path, pts: list[int], size: tuple[int, int] = (64, 64), *, faststart: bool = False,
                audio: bool = False, title: str | None = None, language: str | None = None, bt709: bool = False,
                grey: bool = False, frames=None) -> Path:
    """An H.264 MP4 with frames at the given timestamps (1/15360 s), noise content unless `frames`."""
    w, h = size
    with av.open(str(path), "w", options={"movflags": "faststart"} if faststart else {}) as out:
        if title:
            out.metadata["title"] = title
            out.metadata["creation_time"] = "2024-05-06T07:08:09.000000Z"
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = BASE
        stream.codec_context.time_base = BASE
        if language:
            stream.metadata["language"] = language
        if bt709:
            cc = stream.codec_context
            cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = 1, 1, 1, 1
        sound = None
        if audio:
            sound = out.add_stream("aac", rate=44100)
            sound.layout = "mono"
        for i, p in enumerate(pts):
            image = frames[i] if frames is not None else _noise(i, h, w)
            if grey:
                image = np.repeat(image[..., :1], 3, axis=2)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = p, BASE
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
        if sound is not None:
            seconds = (pts[-1] + 512) / 15360
            samples = np.sin(np.arange(int(44100 * seconds)) / 10).astype(np.float32)[None] * 0.3
            for start in range(0, samples.shape[1], 1024):
                chunk = av.AudioFrame.from_ndarray(samples[:, start:start + 1024].copy(), format="fltp",
                                                   layout="mono")
                chunk.sample_rate, chunk.pts = 44100, start
                for packet in sound.encode(chunk):
                    out.mux(packet)
            for packet in sound.encode(None):
                out.mux(packet)
    return path


def _copy(target: Path, output: Path, **kwargs) -> None:
    with open_target(target, output, **kwargs) as io:
        for frame in io.frames():
            io.write(frame, frame.image)


def _times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(f.time) for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def cfr(tmp_path_factory) -> Path:
    """12 frames, 64x64, 30 fps, with AAC audio."""
    return _make_video(tmp_path_factory.mktemp("cfr") / "cfr.mp4", [i * 512 for i in range(12)], audio=True)


# ---------------------------------------------------------------- video timing, damage, codecs, metadata

def test_variable_frame_rate_output_keeps_each_frame_time(tmp_path):
    kept = [i for i in range(30) if i not in (7, 19)]  # 2 of 30 frames dropped: a variable-rate stream
    source = _make_video(tmp_path / "vfr.mp4", [i * 512 for i in kept])
    out = tmp_path / "out.mp4"
    _copy(source, out)
    assert _times(out) == pytest.approx(_times(source)) and len(_times(out)) == 28


def test_decoded_frames_are_contiguous_and_dlib_takes_padded_rows(tmp_path, astronaut):
    from tryon_cli.analysis.identity import DlibFaceEncoder

    face = cv2.resize(astronaut[:260, 120:380], (360, 360))
    video = _make_video(tmp_path / "w360.mp4", [0, 512], (360, 360), frames=[face, face])
    frames = list(iter_frames(video))
    assert all(f.image.flags["C_CONTIGUOUS"] for f in frames)
    padded = np.zeros((360, 368, 3), np.uint8)
    padded[:, :360] = face
    strided = padded[:, :360]  # the layout PyAV hands back for a 360-wide frame
    assert not strided.flags["C_CONTIGUOUS"]
    assert DlibFaceEncoder().encode(strided) is not None


def _cut_in_the_middle(tmp_path: Path) -> Path:
    whole = _make_video(tmp_path / "whole.mp4", [i * 512 for i in range(30)], (96, 96), faststart=True)
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # the index (at the front) promises 30 frames
    return cut


def test_video_cut_in_the_middle_fails_with_counts_and_no_output(tmp_path, caplog):
    cut = _cut_in_the_middle(tmp_path)
    out = tmp_path / "out.mp4"
    with pytest.raises(PartialInputError, match=r"cut.mp4: decoded \d+ of 30 expected frames"):
        _copy(cut, out)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4", "whole.mp4"]
    with caplog.at_level(logging.WARNING):
        _copy(cut, out, encode=EncodeOptions(allow_partial=True))
    assert 0 < probe_video(out).frame_count < 30
    assert "--allow-partial" in caplog.text


def test_swap_cli_fails_on_a_damaged_video(tmp_path, source_photo):
    cut = _cut_in_the_middle(tmp_path)
    result = invoke("swap", str(source_photo), str(cut), "-o", str(tmp_path / "o.mp4"), "-q")
    assert result.returncode == 1, result.stderr
    assert "decoded" in result.stderr and "of 30 expected frames" in result.stderr
    assert not (tmp_path / "o.mp4").exists()


def test_webm_output_gets_vp9_and_opus_from_aac(cfr, tmp_path):
    out = tmp_path / "out.webm"
    _copy(cfr, out)
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.name == "vp9"
        assert container.streams.audio[0].codec_context.name == "opus"
        assert sum(1 for _ in container.decode(video=0)) == 12
    with av.open(str(out)) as container:
        assert sum(f.samples for f in container.decode(audio=0)) > 0.3 * 48000


def test_a_codec_that_does_not_fit_the_container_is_refused_before_any_work(cfr, tmp_path):
    with pytest.raises(InputError, match=r"out.webm: a .webm file cannot hold libx264"):
        check_target(cfr, tmp_path / "out.webm", [], False, EncodeOptions(codec="libx264"))


def test_swap_cli_refuses_x264_in_webm_with_exit_2(cfr, tmp_path, source_photo, monkeypatch):
    def analysis(*args, **kwargs):
        raise RuntimeError("the source was analysed before the codec was checked")

    monkeypatch.setattr("tryon_cli.commands.swap.prepare_source", analysis)
    result = invoke("swap", str(source_photo), str(cfr), "-o", str(tmp_path / "o.webm"), "--codec", "libx264")
    assert result.returncode == 2 and "cannot hold libx264" in result.stderr, result.stderr


def test_avi_output_starts_at_zero_with_every_frame(cfr, tmp_path):
    out = tmp_path / "out.avi"
    _copy(cfr, out)
    times = _times(out)
    assert len(times) == 12 and times[0] == pytest.approx(0.0, abs=1e-6)
    assert times[-1] == pytest.approx(11 / 30, abs=1e-3)


def test_aac_encoder_delay_packet_is_kept(cfr, tmp_path):
    out = tmp_path / "out.mp4"
    _copy(cfr, out)

    def first_audio(path: Path) -> tuple[int, int]:
        with av.open(str(path)) as container:
            packet = next(p for p in container.demux(audio=0) if p.dts is not None)
            return packet.pts, packet.size

    assert first_audio(cfr)[0] < 0  # the priming packet sits before time 0
    assert first_audio(out) == first_audio(cfr)


def test_container_metadata_language_and_colour_tags_are_kept(tmp_path):
    source = _make_video(tmp_path / "tagged.mp4", [i * 512 for i in range(4)], title="Holiday",
                         language="eng", bt709=True)
    out = tmp_path / "out.mp4"
    _copy(source, out)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert container.metadata.get("title") == "Holiday"
        assert container.metadata.get("creation_time", "").startswith("2024-05-06T07:08:09")
        assert stream.metadata.get("language") == "eng"
        cc = stream.codec_context
        assert (int(cc.color_primaries), int(cc.color_trc), int(cc.colorspace)) == (1, 1, 1)


# ---------------------------------------------------------------- synthetic-media tag

def test_every_output_video_and_image_is_tagged_synthetic(cfr, tmp_path):
    video = tmp_path / "out.mp4"
    _copy(cfr, video)
    assert "made with tryon-cli" in read_provenance(video)
    for suffix in (".png", ".jpg", ".webp"):
        path = tmp_path / f"image{suffix}"
        write_image(path, _noise(1))
        assert "made with tryon-cli" in (read_provenance(path) or ""), suffix
    from PIL import Image

    with Image.open(tmp_path / "image.jpg") as jpeg:
        assert b"compositeSynthetic" in jpeg.info.get("xmp", b"")


def test_the_tag_names_the_command_and_no_paths():
    assert current_command(["/usr/bin/tryon", "eval", "swap", "/home/me/a.png"]).command == "tryon eval swap"
    assert current_command(["tryon", "swap", "face.png", "v.mp4"]).command == "tryon swap"
    assert "Python API" in current_command(["script.py", "/data/x.png"]).command


def test_cli_output_says_which_command_made_it(tmp_path, source_photo, astronaut):
    target = tmp_path / "astronaut.png"
    cv2.imwrite(str(target), cv2.cvtColor(cv2.resize(astronaut, (192, 192)), cv2.COLOR_RGB2BGR))
    out = tmp_path / "swapped.png"
    result = run_cli("swap", str(source_photo), str(target), "-o", str(out), "-q")
    assert result.returncode == 0, result.stderr
    assert read_provenance(out) == "Synthetic media: made with tryon-cli 0.1.0 (tryon swap)"


# ---------------------------------------------------------------- grey, alpha, huge images

def test_grey_image_target_gives_grey_output(tmp_path):
    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), _noise(2)[..., 0])
    loaded = load_image(grey)
    assert loaded.grey and loaded.rgb.shape == (64, 64, 3)  # analysers get three channels
    out = tmp_path / "out.png"
    with open_target(grey, out) as io:
        for frame in io.frames():
            io.write(frame, np.dstack([frame.image[..., 0], np.zeros((64, 64), np.uint8), frame.image[..., 2]]))
    written = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert written.ndim == 2
    grey_rgb = tmp_path / "grey_rgb.png"  # a grey photo saved with three equal channels
    cv2.imwrite(str(grey_rgb), np.repeat(_noise(2)[..., :1], 3, axis=2))
    assert load_image(grey_rgb).grey
    colour = tmp_path / "colour.png"
    cv2.imwrite(str(colour), _noise(3))
    assert not load_image(colour).grey


def test_rgba_target_keeps_its_alpha(tmp_path):
    rgba = np.dstack([_noise(3), np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))])
    target = tmp_path / "rgba.png"
    cv2.imwrite(str(target), rgba)
    out = tmp_path / "out.png"
    with open_target(target, out) as io:
        for frame in io.frames():
            assert frame.image.shape == (64, 64, 3)
            io.write(frame, 255 - frame.image)
    written = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)
    assert written.shape == (64, 64, 4)
    np.testing.assert_array_equal(written[..., 3], rgba[..., 3])


def test_grey_video_target_gives_grey_output(tmp_path):
    source = _make_video(tmp_path / "grey.mp4", [i * 512 for i in range(3)], grey=True)
    # a grey stream (single luma plane): re-encode the source as gray to make its pixel format grey
    grey = tmp_path / "grey_fmt.mkv"
    with av.open(str(grey), "w") as out:
        stream = out.add_stream("ffv1", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "gray"
        for f in iter_frames(source):
            frame = av.VideoFrame.from_ndarray(f.image[..., 0].copy(), format="gray")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    assert probe_video(grey).grayscale
    out_path = tmp_path / "out.mp4"
    with open_target(grey, out_path) as io:
        for frame in io.frames():
            tinted = frame.image.copy()
            tinted[..., 0] = 255  # a coloured render
            io.write(frame, tinted)
    frames = [f.image.astype(int) for f in iter_frames(out_path)]
    assert max(np.abs(f[..., 0] - f[..., 2]).max() for f in frames) <= 4


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header states width x height, with one tiny IDAT: nothing big is ever decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00"))
                     + chunk(b"IEND", b""))
    return path


def test_huge_image_is_refused_from_its_header(tmp_path):
    huge = _png_header_only(tmp_path / "huge.png", 20000, 20000)
    with pytest.raises(InputError, match=r"huge.png: .*400 megapixels, above the 100-megapixel limit"):
        read_image(huge)
    big = _png_header_only(tmp_path / "big.png", 12000, 10000)  # under Pillow's own limit, over ours
    with pytest.raises(InputError, match=r"big.png: 12000x10000 is 120 megapixels, above the 100-megapixel"):
        read_image(big)


def test_big_jpeg_is_decoded_reduced(tmp_path, monkeypatch, caplog):
    path = tmp_path / "big.jpg"
    cv2.imwrite(str(path), cv2.resize(_noise(4), (256, 192)))
    monkeypatch.setattr(media, "WORK_IMAGE_PIXELS", 256 * 192 // 4)
    with caplog.at_level(logging.WARNING):
        image = read_image(path)
    assert image.shape == (96, 128, 3) and "working on a 128x96 copy" in caplog.text


# ---------------------------------------------------------------- outputs: permissions, signals, leftovers

def test_output_mode_follows_the_umask(tmp_path):
    previous = os.umask(0o002)
    try:
        write_image(tmp_path / "a.png", _noise(5))
    finally:
        os.umask(previous)
    assert (tmp_path / "a.png").stat().st_mode & 0o777 == 0o664


def test_unwritable_output_folder_names_the_output(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / ".out.123-x.partial.mp4"))

    monkeypatch.setattr(outputs.tempfile, "mkstemp", denied)
    with pytest.raises(InputError) as error:
        with atomic_output(tmp_path / "out.mp4"):
            pass
    assert str(error.value).startswith(f"{tmp_path / 'out.mp4'}:") and "partial" not in str(error.value)
    monkeypatch.setattr(outputs.os, "access", lambda *a: False)
    with pytest.raises(InputError, match="cannot write to the folder"):
        check_output_path(tmp_path / "out.mp4", [], False)


def test_sigterm_unwinds_like_ctrl_c_and_leaves_nothing(tmp_path):
    import typer

    from tryon_cli.commands.common import reported_errors

    with pytest.raises(typer.Exit) as exit_info:
        with reported_errors(False):
            with atomic_output(tmp_path / "out.mp4") as tmp:
                tmp.write_bytes(b"half")
                os.kill(os.getpid(), signal.SIGTERM)
    assert exit_info.value.exit_code == 143
    assert list(tmp_path.iterdir()) == []


def test_stale_partial_files_of_the_same_output_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".out.{dead.pid}-abcd.partial.mp4"
    live = tmp_path / f".out.{os.getppid()}-efgh.partial.mp4"  # a writer that is still running
    other = tmp_path / f".other.{dead.pid}-abcd.partial.mp4"  # another output's
    for path in (stale, live, other):
        path.write_bytes(b"x")
    write_image(tmp_path / "out.mp4.png", _noise(6))  # a different output: nothing of out.mp4 touched
    assert stale.exists()
    with atomic_output(tmp_path / "out.mp4") as tmp:
        tmp.write_bytes(b"done")
    assert not stale.exists() and live.exists() and other.exists()


# ---------------------------------------------------------------- CLI messages and exit codes

def test_reference_photo_is_never_the_output(cfr, tmp_path, source_photo):
    reference = tmp_path / "ref.mp4"
    reference.write_bytes(b"not really")
    result = invoke("swap", str(source_photo), str(cfr), "-o", str(reference), "--reference", str(reference),
                     "--overwrite")
    assert result.returncode == 2 and "same as an input" in result.stderr, result.stderr
    assert reference.read_bytes() == b"not really"


def test_eval_swap_refuses_an_output_of_another_kind_or_length(cfr, tmp_path, source_photo):
    shorter = _make_video(tmp_path / "short.mp4", [i * 512 for i in range(8)])
    with pytest.raises(InputError, match="the output has 8 frames but the target .* has 12"):
        check_comparable(cfr, shorter)
    result = invoke("eval", "swap", str(source_photo), str(cfr), str(shorter))
    assert result.returncode == 2 and "has 8 frames" in result.stderr, result.stderr
    image = tmp_path / "still.png"
    write_image(image, _noise(7))
    result = invoke("eval", "swap", str(source_photo), str(cfr), str(image))
    assert result.returncode == 2 and "is an image but the target" in result.stderr, result.stderr


def test_empty_stdin_is_named(cfr):
    result = invoke("swap", "-", str(cfr), stdin="")
    assert result.returncode == 2 and "standard input was empty" in result.stderr, result.stderr


def test_swap_with_one_path_says_the_target_is_missing(source_photo):
    result = invoke("swap", str(source_photo))
    assert result.returncode == 2 and "missing TARGET" in result.stderr, result.stderr


def test_no_person_in_a_photo_names_the_file(tmp_path):
    photo = tmp_path / "empty_room.png"
    cv2.imwrite(str(photo), np.full((96, 96, 3), 120, np.uint8))
    result = invoke("mask", str(photo), "-o", str(tmp_path / "mask.png"))
    assert result.returncode == 2 and f"{photo}: no person found" in " ".join(result.stderr.split()), result.stderr


def test_tryon_video_without_a_person_warns_and_counts(tmp_path):
    blank = [np.full((64, 64, 3), 90, np.uint8)] * 3
    video = _make_video(tmp_path / "room.mp4", [i * 512 for i in range(3)], frames=blank)
    garment = tmp_path / "shirt.png"
    shirt = np.full((64, 64, 3), 255, np.uint8)
    shirt[16:48, 16:48] = (200, 30, 30)
    cv2.imwrite(str(garment), shirt)
    out = tmp_path / "out.mp4"
    result = invoke("tryon", str(video), str(garment), "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["frames_without_person"] == 3
    message = " ".join(result.stderr.split())
    assert "3 of 3 frames" in message and "had no person" in message


# ---------------------------------------------------------------- library logging

def test_quiet_silences_library_logs_and_debug_shows_them(tmp_path):
    script = ("import logging, sys\n"
              "from tryon_cli.commands.common import setup_logging\n"
              "setup_logging(quiet=sys.argv[1] == 'q', debug=sys.argv[1] == 'd')\n"
              "from transformers.utils import logging as tl\n"
              "tl.get_logger('transformers.modeling_utils').warning('LIBRARY-WARNING')\n"
              "logging.getLogger('tryon_cli.io.video').warning('OUR-WARNING')\n")
    runs = {mode: subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, timeout=120)
            for mode in ("q", "n", "d")}
    assert "WARNING" not in runs["q"].stderr
    assert "OUR-WARNING" in runs["n"].stderr and "LIBRARY-WARNING" not in runs["n"].stderr
    assert "OUR-WARNING" in runs["d"].stderr and "LIBRARY-WARNING" in runs["d"].stderr


@pytest.mark.media
def test_grey_person_photo_gets_the_colour_photos_mask(tmp_path):
    from conftest import shared_media

    colour = cv2.imread(str(shared_media("tryon", "images", "01008_00.jpg")))
    colour = cv2.resize(colour, (384, 512), interpolation=cv2.INTER_AREA)
    paths = {"colour": tmp_path / "colour.png", "grey": tmp_path / "grey.png"}
    cv2.imwrite(str(paths["colour"]), colour)
    cv2.imwrite(str(paths["grey"]), cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY))
    masks = {}
    for name, path in paths.items():
        out = tmp_path / f"{name}_mask.png"
        result = invoke("mask", str(path), "-o", str(out), "-q")
        assert result.returncode == 0, result.stderr
        masks[name] = cv2.imread(str(out), cv2.IMREAD_GRAYSCALE) > 0
    iou = (masks["colour"] & masks["grey"]).sum() / (masks["colour"] | masks["grey"]).sum()
    assert iou > 0.85


def test_a_bad_preset_is_refused_before_any_work(tmp_path, source_photo, talking_video):
    from tryon_cli.io.video import check_preset

    check_preset("libx264", "veryfast")
    check_preset("libvpx-vp9", "anything")  # VP9 takes no preset
    with pytest.raises(InputError, match="--preset 'warp9'"):
        check_preset("libx264", "warp9")
    out = tmp_path / "out.mp4"
    result = run_cli("swap", str(source_photo), str(talking_video), "-o", str(out), "--preset", "warp9")
    assert result.returncode == 2 and "--preset 'warp9'" in result.stderr and not out.exists()
