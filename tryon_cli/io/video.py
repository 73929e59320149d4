"""Streaming video I/O with PyAV: probe, decode frame by frame, encode with the audio track copied.

Frames are RGB uint8, upright (the stream's display rotation is applied on decode, and the output is
written upright, so players show it exactly as the input). Timestamps are kept: output frame i has the
input frame's pts (minus the trim start), so fps, frame count and variable frame timing survive.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import cv2
import numpy as np

from ..errors import InputError, PartialInputError, TryonError

log = logging.getLogger(__name__)


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
    grayscale: bool = False


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
        frames = _header_frames(stream.frames, duration, float(rate))[0]
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
            grayscale=first.format.name.startswith("gray"),
        )


def _header_frames(counted: int, duration: float | None, rate: float) -> tuple[int, bool]:
    """The frame count a header states and True, or duration x rate and False when it states none or
    disagrees with that estimate (AVI counts time units)."""
    estimate = int(round(duration * rate)) if duration else 0
    if counted and (not estimate or counted <= estimate * 1.2 + 2):
        return int(counted), True
    return estimate, False


def _expected_frames(container, stream, start: float | None, end: float | None) -> tuple[int, int, float | None]:
    """Frames the header promises in [start, end), how many may be missing without alarm (an estimate is
    not exact), and where the range ends in seconds (None: unknown)."""
    base = Fraction(stream.time_base)
    rate = float(stream.average_rate or stream.guessed_rate or 25)
    if stream.duration:
        stream_end: float | None = float((stream.duration + (stream.start_time or 0)) * base)
    elif container.duration:
        stream_end = container.duration / 1e6
    else:
        stream_end = None
    if not start and end is None:
        count, exact = _header_frames(stream.frames, stream_end, rate)
        return count, 0 if exact else max(1, count // 50), stream_end
    if stream_end is None:
        return 0, 0, None
    stop = min(end, stream_end) if end is not None else stream_end
    count = max(int(round((stop - (start or 0.0)) * rate)), 0)
    return count, max(1, count // 50), stop


def iter_frames(path: Path, start: float | None = None, end: float | None = None,
                allow_partial: bool = False) -> Iterator[Frame]:
    """Decode frames in [start, end) seconds, one at a time.

    InputError on an empty or undecodable video. A video that stops decoding before the frames its header
    promises (damaged or cut in the middle) raises PartialInputError naming decoded and expected counts,
    or, with `allow_partial`, ends there with a warning on the `tryon_cli` logger.
    """
    container = _open(path)
    try:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        base = Fraction(stream.time_base)
        rate = stream.average_rate or Fraction(25, 1)
        expected, slack, stop = _expected_frames(container, stream, start, end)
        if start:
            container.seek(int(start / base), stream=stream, backward=True, any_frame=False)
        index = 0
        fallback_pts = 0
        last_time = None
        reached_end = False
        try:
            for frame in container.decode(stream):
                pts = frame.pts if frame.pts is not None else fallback_pts
                fallback_pts = pts + max(1, int(round(1 / (float(rate) * float(base)))))
                time = float(pts * base)
                if start and time < start - 1e-6:
                    continue
                if end is not None and time >= end - 1e-6:
                    reached_end = True
                    break
                # PyAV hands back rows padded to the line size; analysers (dlib) need contiguous pixels.
                image = np.ascontiguousarray(
                    _upright(frame.to_ndarray(format="rgb24"), int(getattr(frame, "rotation", 0) or 0)))
                yield Frame(index=index, image=image, pts=int(pts), time=time)
                last_time = time
                index += 1
        except av.FFmpegError as error:
            if index == 0:
                raise InputError(f"{path}: cannot decode the video at frame 0 ({_reason(error)})") from error
            _short(path, index, max(expected, index + 1), allow_partial, f"decoding failed: {_reason(error)}")
            return
        if index == 0:
            raise InputError(f"{path}: the video has no frames" + (" in the chosen range" if start or end else ""))
        if reached_end or not expected:
            return
        if not start and end is None:
            short = index < expected - slack
        else:  # a trimmed range: compare where decoding stopped with where the range ends
            short = stop is not None and last_time is not None and last_time < stop - 2.5 / float(rate)
        if short:
            _short(path, index, expected, allow_partial, "the file is damaged or cut short")
    finally:
        container.close()


def _short(path: Path, decoded: int, expected: int, allow_partial: bool, why: str) -> None:
    message = f"{path}: decoded {decoded} of {expected} expected frames ({why})"
    if not allow_partial:
        raise PartialInputError(f"{message}; pass --allow-partial to keep the frames that decode")
    log.warning("%s; keeping the %d frames that decoded (--allow-partial)", message, decoded)


def _even(n: int) -> bool:
    return n % 2 == 0


# Per output container: muxer name, the codecs used when none is asked for (video, audio), and the audio codecs
# whose packets can be copied as they are (None: any). Anything else is transcoded to the default audio codec.
_CONTAINERS: dict[str, tuple[str, str, str, frozenset[str] | None]] = {
    ".mp4": ("mp4", "libx264", "aac", frozenset({"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"})),
    ".m4v": ("mp4", "libx264", "aac", frozenset({"aac", "mp3", "ac3", "eac3", "alac"})),
    ".mov": ("mov", "libx264", "aac", frozenset({"aac", "mp3", "ac3", "eac3", "alac", "pcm_s16le", "pcm_s24le"})),
    ".mkv": ("matroska", "libx264", "aac", None),
    ".webm": ("webm", "libvpx-vp9", "libopus", frozenset({"opus", "vorbis"})),
    ".avi": ("avi", "mpeg4", "libmp3lame", frozenset({"aac", "mp3", "ac3", "pcm_s16le"})),
}
# Containers without presentation timestamps or edit lists: B-frames there would delay the video.
_NO_REORDER = frozenset({".avi"})
# Container tags that describe the file the muxer writes, not the content; never copied from the input.
_MUXER_TAGS = frozenset({"major_brand", "minor_version", "compatible_brands", "encoder", "software", "duration"})


def resolve_codec(output: Path, codec: str = "auto") -> str:
    """The video codec for `output`: the container's default for 'auto'; InputError when it does not fit.

    The check encodes one tiny frame into an in-memory file of the output's format, so it is exact for
    this FFmpeg build and costs milliseconds; commands call it before any analysis runs.
    """
    suffix = output.suffix.lower()
    fmt, default, _, _ = _CONTAINERS.get(suffix, (None, "libx264", "aac", None))
    chosen = default if codec == "auto" else codec
    if chosen not in av.codecs_available:
        raise InputError(f"video codec '{chosen}' is not available in this PyAV build")
    if fmt is None:
        return chosen
    try:
        with av.open(io.BytesIO(), mode="w", format=fmt) as probe:
            stream = probe.add_stream(chosen, rate=25)
            stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
            frame = av.VideoFrame(16, 16, "yuv420p")
            for packet in [*stream.encode(frame), *stream.encode(None)]:
                probe.mux(packet)
    except (av.FFmpegError, ValueError) as error:
        raise InputError(f"{output}: a {suffix} file cannot hold {chosen} video ({_reason(error)}); "
                         f"use --codec {default} or another extension") from error
    return chosen


X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
                "placebo")


def _cpu_has_avx512() -> bool:
    """Whether this CPU runs AVX-512 code (numpy's own CPU detection; False where it cannot tell)."""
    try:
        from numpy.core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # numpy 2 moved it
        try:
            from numpy._core._multiarray_umath import __cpu_features__ as features
        except ImportError:
            return False
    return bool(features.get("AVX512F"))


def x264_repeatable_params(has_avx512: bool) -> dict[str, str]:
    """libx264 options that make the same frames encode to the same bytes on every run.

    The x264 bundled with PyAV gives a different stream on each run of the same frames when its AVX-512
    routines are used (the macroblock-tree rate control's; with `mbtree=0` or `asm=0` it repeats), which
    breaks `--seed` and resumable batches. Capping the instruction set at AVX2 keeps the speed and repeats.
    """
    return {"x264-params": "asm=AVX2"} if has_avx512 else {}


def repeatable_x264_options(**options: str) -> dict[str, str]:
    """`options` for a libx264 stream, plus what makes its output repeat on this CPU."""
    return {**options, **x264_repeatable_params(_cpu_has_avx512())}


def check_preset(codec: str, preset: str) -> None:
    """InputError when `preset` is not one of the encoder's presets (only x264/x265 take one)."""
    if codec in {"libx264", "libx265"} and preset not in X264_PRESETS:
        raise InputError(f"--preset '{preset}' is not a {codec} preset (use one of {', '.join(X264_PRESETS)})")


def _video_tags(path: Path) -> tuple[dict[str, str], dict[str, str], dict[str, object]]:
    """Container metadata, video stream metadata and colour tags of a video, to carry into its output."""
    with av.open(str(path), mode="r") as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        colour = {name: getattr(context, name) for name in ("color_primaries", "color_trc", "colorspace", "color_range")}
        keep = lambda tags: {k: v for k, v in tags.items() if k.lower() not in _MUXER_TAGS}  # noqa: E731
        return keep(dict(container.metadata)), keep(dict(stream.metadata)), colour


class VideoWriter:
    """Encode RGB frames to `path`, carrying the audio of `audio_source` in step with the video.

    Audio packets are copied when the container accepts the codec and transcoded (Opus for WebM, AAC
    elsewhere) when it does not; either way they are read from their own demuxer and muxed as the video
    advances, so nothing is buffered beyond a packet or two. The input's timestamps, container metadata
    (title, creation time), stream language and colour tags are kept, and `metadata` is added (the
    synthetic-media tag). Use as a context manager; an exception leaves the file to the caller's atomic write.
    """

    def __init__(
        self,
        path: Path,
        info: VideoInfo,
        codec: str = "auto",
        crf: int = 18,
        preset: str = "veryfast",
        audio_source: Path | None = None,
        start: float = 0.0,
        end: float | None = None,
        metadata: dict[str, str] | None = None,
        suffix: str | None = None,
    ) -> None:
        suffix = (suffix or path.suffix).lower()
        codec = resolve_codec(Path(f"out{suffix}"), codec)
        container_tags, stream_tags, colour = _video_tags(info.path)
        self._output = av.open(str(path), mode="w", format=_CONTAINERS.get(suffix, (None,))[0])
        self._output.metadata.update({**container_tags, **(metadata or {})})
        self._time_base = info.time_base
        self._start_pts = int(round(start / info.time_base))
        self._grey = info.grayscale
        stream = self._output.add_stream(codec, rate=info.fps)
        stream.width, stream.height = info.width, info.height
        stream.pix_fmt = "yuv420p" if _even(info.width) and _even(info.height) else "yuv444p"
        # The encoder's time base is the input's, so each frame keeps its own timestamp (variable frame rate).
        # AVI has no timestamps, only a frame rate: there frames are numbered at 1/fps.
        self._out_base = Fraction(1, 1) / Fraction(info.fps) if suffix in _NO_REORDER else info.time_base
        self._last_pts = -1
        stream.time_base = self._out_base
        stream.codec_context.time_base = self._out_base
        stream.codec_context.thread_count = 0
        for name, value in colour.items():
            if value:
                setattr(stream.codec_context, name, value)
        stream.metadata.update(stream_tags)
        options: dict[str, str] = {}
        if codec in {"libx264", "libx265"}:
            options = {"crf": str(crf), "preset": preset}
            if codec == "libx264":
                options = repeatable_x264_options(**options)
        elif codec in {"libvpx-vp9"}:
            options = {"crf": str(crf), "b": "0"}
        elif codec == "mpeg4":  # fixed quantiser from the CRF scale (18 -> 3), no B-frames
            stream.codec_context.qscale = True
            stream.codec_context.global_quality = max(2, min(31, round(crf / 6))) * 118  # FF_QP2LAMBDA
        if suffix in _NO_REORDER:
            options["bf"] = "0"
        stream.options = options
        self._video = stream
        self._suffix = suffix
        self._audio_in = None
        self._audio_packets: Iterator[tuple[float | None, av.Packet]] | None = None
        self._pending: tuple[float | None, av.Packet] | None = None
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
        _, _, audio_codec, copyable = _CONTAINERS.get(self._suffix, (None, None, "aac", None))
        if self._audio_start:
            container.seek(int(self._audio_start * 1e6), backward=True)
        self._audio_in = container
        if copyable is None or template.codec_context.name in copyable:
            try:
                out = self._output.add_stream_from_template(template)
            except (av.FFmpegError, ValueError) as error:
                raise TryonError(f"{source}: the audio cannot be copied into this container ({error})") from error
            self._audio_packets = self._copied(container, template, out)
        else:
            out = self._output.add_stream(audio_codec, rate=48000 if audio_codec == "libopus" else template.rate)
            out.layout = "stereo" if template.layout.nb_channels >= 2 else "mono"
            self._audio_packets = self._transcoded(container, template, out)
        out.metadata.update({k: v for k, v in template.metadata.items() if k.lower() == "language"})

    def _copied(self, container, template, out) -> Iterator[tuple[float | None, av.Packet]]:
        """The source's audio packets, shifted by the trim start; the encoder-delay (priming) packet before
        time 0 is kept where the container can start a stream early (not AVI)."""
        base = Fraction(template.time_base)
        shift = int(round(self._audio_start / base))
        for packet in container.demux(template):
            if packet.dts is None:
                continue
            time = float(packet.pts * base) if packet.pts is not None else None
            if time is not None and time < self._audio_start and (self._audio_start or self._suffix in _NO_REORDER):
                continue  # before the trim, or AVI's encoder-delay packet (AVI cannot start a stream early)
            packet.pts = packet.pts - shift if packet.pts is not None else None
            packet.dts = packet.dts - shift
            packet.stream = out
            yield time, packet

    def _transcoded(self, container, template, out) -> Iterator[tuple[float | None, av.Packet]]:
        """The source's audio decoded, resampled and encoded for a container that cannot hold it as is."""
        context = out.codec_context
        resampler = av.AudioResampler(format=context.format, layout=context.layout, rate=context.sample_rate)
        fifo = av.AudioFifo()
        size = context.frame_size or 1024
        written = 0

        def encode(frame):
            for packet in out.encode(frame):
                yield (float(packet.pts * packet.time_base) + self._audio_start if packet.pts is not None else None,
                       packet)

        try:
            for frame in container.decode(template):
                time = float(frame.pts * frame.time_base) if frame.pts is not None else None
                if time is not None and self._audio_end is not None and time >= self._audio_end:
                    break
                if self._audio_start and time is not None and time + frame.samples / frame.sample_rate <= self._audio_start:
                    continue
                for converted in resampler.resample(frame):
                    converted.pts = None
                    fifo.write(converted)
                while fifo.samples >= size:
                    chunk = fifo.read(size)
                    chunk.pts, chunk.time_base = written, Fraction(1, context.sample_rate)
                    written += chunk.samples
                    yield from encode(chunk)
        except av.FFmpegError:
            pass  # a damaged audio tail ends the audio; the video decides whether the input is usable
        if fifo.samples:
            chunk = fifo.read()
            chunk.pts, chunk.time_base = written, Fraction(1, context.sample_rate)
            yield from encode(chunk)
        yield from encode(None)

    def _mux_audio_until(self, seconds: float | None) -> None:
        """Mux audio packets whose time is before `seconds` (all remaining when None)."""
        if self._audio_packets is None:
            return
        while True:
            item = self._pending or next(self._audio_packets, None)
            self._pending = None
            if item is None:
                self._audio_packets = None
                return
            time, packet = item
            if time is not None and self._audio_end is not None and time >= self._audio_end:
                self._audio_packets = None
                return
            if seconds is not None and time is not None and time > seconds:
                self._pending = item
                return
            self._output.mux(packet)

    def write(self, image: np.ndarray, pts: int) -> None:
        """Encode one RGB frame at input timestamp `pts` (grey inputs stay grey)."""
        if self._grey and image.ndim == 3:
            image = np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        out_pts = pts - self._start_pts
        if self._out_base != self._time_base:
            out_pts = max(int(round(out_pts * self._time_base / self._out_base)), self._last_pts + 1)
        self._last_pts = out_pts
        frame.pts = out_pts
        frame.time_base = self._out_base
        # Audio up to this frame goes first: a muxer that shifts timestamps to start at zero (AVI, Matroska)
        # must see the audio's encoder-delay packet before any video, or the first frame is not shifted with it.
        self._mux_audio_until(float(pts * self._time_base))
        for packet in self._video.encode(frame):
            self._output.mux(packet)

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
