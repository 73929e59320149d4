"""Video I/O: timing, audio, trimming, corrupt input, atomic output."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tryon_cli.errors import InputError
from tryon_cli.io.outputs import atomic_output
from tryon_cli.io.target_media import open_target
from tryon_cli.io.video import iter_frames, probe_video


def _stream_facts(path: Path) -> tuple[int, float, tuple[int, int], bool, float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return frames, float(stream.average_rate), (stream.width, stream.height), bool(container.streams.audio), \
            float(container.duration / 1e6)


def test_passthrough_keeps_frames_fps_size_and_audio(talking_video, tmp_path):
    out = tmp_path / "copy.mp4"
    with open_target(talking_video, out) as io:
        for frame in io.frames():
            io.write(frame, frame.image)
    original, copied = _stream_facts(talking_video), _stream_facts(out)
    assert copied[0] == original[0] == 50
    assert copied[1] == pytest.approx(original[1])
    assert copied[2] == original[2]
    assert copied[3] and original[3]
    assert abs(copied[4] - original[4]) < 0.1


def test_trim_keeps_only_the_range(talking_video, tmp_path):
    out = tmp_path / "trim.mp4"
    with open_target(talking_video, out, start=0.4, end=1.2) as io:
        times = []
        for frame in io.frames():
            times.append(frame.time)
            io.write(frame, frame.image)
    assert len(times) == 20 and times[0] == pytest.approx(0.4, abs=0.021)
    frames, _, _, has_audio, duration = _stream_facts(out)
    assert frames == 20 and has_audio and duration == pytest.approx(0.8, abs=0.1)


def test_corrupt_video_is_a_clear_input_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x01garbage" * 200)
    with pytest.raises(InputError, match="bad.mp4: cannot"):
        probe_video(bad)


def test_truncated_video_fails_without_partial_output(talking_video, tmp_path):
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(talking_video.read_bytes()[:2000])
    out = tmp_path / "out.mp4"
    with pytest.raises(InputError):
        with open_target(truncated, out) as io:
            for frame in io.frames():
                io.write(frame, frame.image)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [truncated]


def test_interrupt_leaves_no_file(talking_video, tmp_path):
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        with open_target(talking_video, out) as io:
            for frame in io.frames():
                io.write(frame, frame.image)
                if frame.index == 10:
                    raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_renames_only_on_success(tmp_path):
    target = tmp_path / "a.txt"
    with atomic_output(target) as tmp:
        tmp.write_text("done")
        assert not target.exists()
    assert target.read_text() == "done"


def test_frames_are_rgb_in_order(talking_video):
    frames = list(iter_frames(talking_video, end=0.2))
    assert [f.index for f in frames] == list(range(5))
    assert frames[0].image.dtype == np.uint8 and frames[0].image.shape == (320, 320, 3)
    assert all(b.pts > a.pts for a, b in zip(frames, frames[1:]))


def test_range_with_no_frames_is_an_error(talking_video):
    with pytest.raises(InputError, match="no frames"):
        list(iter_frames(talking_video, start=30.0))


def test_the_same_frames_encode_to_the_same_bytes(talking_video, tmp_path):
    # `--seed` and resumable batches promise repeatable outputs; PyAV's x264 broke that on AVX-512 CPUs
    # (its macroblock-tree rate control gave a new stream on each run: a few levels apart, all frames)
    outputs = []
    for name in ("a.mp4", "b.mp4"):
        out = tmp_path / name
        with open_target(talking_video, out) as io:
            for frame in io.frames():
                io.write(frame, frame.image)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
