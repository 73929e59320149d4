"""Streaming video I/O with PyAV: probe, decode frame by frame, encode with the audio track copied.

Frames are RGB uint8, upright (the stream's display rotation is applied on decode, and the output is
written upright, so players show it exactly as the input). Timestamps are kept: output frame i has the
input frame's pts (minus the trim start), so fps, frame count and variable frame timing survive.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from ..errors import InputError, TryonError


@dataclass(frozen=True)
class VideoInfo:
    """What a video stream is: display size, timing, rotation and whether audio is present."""

    path: Path
    width: int
    height: int
    fps: Fraction
    time_base: Fraction
    frame_count: int
    duration: float
    rotation: int
    has_audio: bool


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its index in the (trimmed) sequence, RGB pixels, pts and time in seconds."""

    index: int
    image: np.ndarray
    pts: int
    time: float


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        return av.open(str(path), mode="r")
    except (av.FFmpegError, OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the video ({_reason(error)})") from error


def _reason(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return str(text).split(": '")[0].strip() or type(error).__name__


def _video_stream(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    if not container.streams.video:
        raise InputError(f"{path}: the file has no video stream")
    return container.streams.video[0]


def _upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a display rotation (degrees counter-clockwise, FFmpeg's convention) to pixels."""
    turns = (round(rotation / 90) % 4) if rotation else 0
    return np.ascontiguousarray(np.rot90(image, k=turns)) if turns else image


def probe_video(path: Path) -> VideoInfo:
    """Read a video's header; InputError when it cannot be opened or has no video stream."""
    with _open(path) as container:
        stream = _video_stream(container, path)
        rate = stream.average_rate or stream.guessed_rate or Fraction(25, 1)
        duration = float(stream.duration * stream.time_base) if stream.duration else (
            container.duration / 1e6 if container.duration else 0.0
        )
        frames = stream.frames or int(round(duration * float(rate)))
        rotation = 0
        try:
            first = next(container.decode(stream), None)
        except av.FFmpegError as error:
            raise InputError(f"{path}: cannot decode the video ({_reason(error)})") from error
        if first is None:
            raise InputError(f"{path}: the video has no frames")
        rotation = int(getattr(first, "rotation", 0) or 0)
        width, height = (first.height, first.width) if rotation % 180 else (first.width, first.height)
        return VideoInfo(
            path=path,
            width=width,
            height=height,
            fps=Fraction(rate),
            time_base=Fraction(stream.time_base),
            frame_count=frames,
            duration=duration,
            rotation=rotation,
            has_audio=bool(container.streams.audio),
        )


def iter_frames(path: Path, start: float | None = None, end: float | None = None) -> Iterator[Frame]:
    """Decode frames in [start, end) seconds, one at a time; InputError on a corrupt or empty video."""
    container = _open(path)
    try:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        base = Fraction(stream.time_base)
        rate = stream.average_rate or Fraction(25, 1)
        if start:
            container.seek(int(start / base), stream=stream, backward=True, any_frame=False)
        index = 0
        fallback_pts = 0
        try:
            for frame in container.decode(stream):
                pts = frame.pts if frame.pts is not None else fallback_pts
                fallback_pts = pts + max(1, int(round(1 / (float(rate) * float(base)))))
                time = float(pts * base)
                if start and time < start - 1e-6:
                    continue
                if end is not None and time >= end - 1e-6:
                    break
                image = _upright(frame.to_ndarray(format="rgb24"), int(getattr(frame, "rotation", 0) or 0))
                yield Frame(index=index, image=image, pts=int(pts), time=time)
                index += 1
        except av.FFmpegError as error:
            raise InputError(f"{path}: cannot decode the video at frame {index} ({_reason(error)})") from error
        if index == 0:
            raise InputError(f"{path}: the video has no frames" + (" in the chosen range" if start or end else ""))
    finally:
        container.close()


def _even(n: int) -> bool:
    return n % 2 == 0


class VideoWriter:
    """Encode RGB frames to `path`, copying the audio of `audio_source` in step with the video.

    Audio packets are read from their own demuxer and muxed as the video advances, so nothing is
    buffered beyond a packet or two. Use as a context manager; an exception leaves the file to be
    removed by the caller's atomic write.
    """

    def __init__(
        self,
        path: Path,
        info: VideoInfo,
        codec: str = "libx264",
        crf: int = 18,
        preset: str = "veryfast",
        audio_source: Path | None = None,
        start: float = 0.0,
        end: float | None = None,
    ) -> None:
        if codec not in av.codecs_available:
            raise InputError(f"video codec '{codec}' is not available in this PyAV build")
        self._output = av.open(str(path), mode="w")
        self._time_base = info.time_base
        self._start_pts = int(round(start / info.time_base))
        stream = self._output.add_stream(codec, rate=info.fps)
        stream.width, stream.height = info.width, info.height
        stream.pix_fmt = "yuv420p" if _even(info.width) and _even(info.height) else "yuv444p"
        stream.time_base = info.time_base
        stream.codec_context.thread_count = 0
        if codec in {"libx264", "libx265"}:
            stream.options = {"crf": str(crf), "preset": preset}
        elif codec in {"libvpx-vp9"}:
            stream.options = {"crf": str(crf), "b": "0"}
        self._video = stream
        self._audio_in = None
        self._audio_packets: Iterator[av.Packet] | None = None
        self._pending: av.Packet | None = None
        self._audio_start = start
        self._audio_end = end
        if audio_source is not None:
            self._open_audio(audio_source)

    def _open_audio(self, source: Path) -> None:
        container = av.open(str(source), mode="r")
        if not container.streams.audio:
            container.close()
            return
        template = container.streams.audio[0]
        try:
            self._audio_out = self._output.add_stream_from_template(template)
        except (av.FFmpegError, ValueError) as error:
            container.close()
            raise TryonError(f"{source}: the audio codec cannot be copied into this container ({error})") from error
        if self._audio_start:
            container.seek(int(self._audio_start * 1e6), backward=True)
        self._audio_in = container
        self._audio_base = Fraction(template.time_base)
        self._audio_shift = int(round(self._audio_start / self._audio_base))
        self._audio_packets = (p for p in container.demux(template) if p.dts is not None)

    def _mux_audio_until(self, seconds: float | None) -> None:
        """Mux audio packets whose time is before `seconds` (all remaining when None)."""
        if self._audio_packets is None:
            return
        while True:
            packet = self._pending or next(self._audio_packets, None)
            self._pending = None
            if packet is None:
                self._audio_packets = None
                return
            time = float(packet.pts * self._audio_base) if packet.pts is not None else None
            if time is not None and self._audio_end is not None and time >= self._audio_end:
                self._audio_packets = None
                return
            if seconds is not None and time is not None and time > seconds:
                self._pending = packet
                return
            if time is not None and time < self._audio_start:
                continue
            packet.pts = packet.pts - self._audio_shift if packet.pts is not None else None
            packet.dts = packet.dts - self._audio_shift
            packet.stream = self._audio_out
            self._output.mux(packet)

    def write(self, image: np.ndarray, pts: int) -> None:
        """Encode one RGB frame at input timestamp `pts`."""
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        frame.pts = pts - self._start_pts
        frame.time_base = self._time_base
        for packet in self._video.encode(frame):
            self._output.mux(packet)
        self._mux_audio_until(float(pts * self._time_base))

    def close(self) -> None:
        """Flush the encoder, mux the rest of the audio and finish the file."""
        for packet in self._video.encode(None):
            self._output.mux(packet)
        self._mux_audio_until(None)
        self._output.close()
        if self._audio_in is not None:
            self._audio_in.close()

    def abort(self) -> None:
        """Close handles without finishing the file (the caller deletes it)."""
        for handle in (self._output, self._audio_in):
            try:
                if handle is not None:
                    handle.close()
            except Exception:  # noqa: BLE001 - best effort on the error path
                pass

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
