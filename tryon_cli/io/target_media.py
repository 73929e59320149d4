"""A target (video or image) as a stream of frames, and its output written atomically.

Commands hand frames to planners through this, so a planner never knows whether it works on a video
or a single image.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import FrameError, InputError
from .media import IMAGE_SUFFIXES, VIDEO_SUFFIXES, is_image, is_video, load_image, read_image, write_image
from .outputs import atomic_output, check_output_path
from .provenance import Provenance, current_command
from .video import Frame, VideoWriter, check_preset, iter_frames, probe_video, resolve_codec


@dataclass(frozen=True)
class EncodeOptions:
    """How output videos are encoded."""

    codec: str = "auto"  # auto: the container's own (H.264 for MP4/MOV/MKV/AVI, VP9 for WebM)
    crf: int = 18
    preset: str = "veryfast"
    keep_audio: bool = True
    allow_partial: bool = False  # keep the frames of a damaged input instead of failing
    provenance: Provenance | None = None  # the synthetic-media tag (default: this process's command)


@dataclass
class TargetIO:
    """Frames of a target, re-openable for each pass, and where rendered frames go."""

    frames: Callable[[], Iterator[Frame]]
    write: Callable[[Frame, np.ndarray], None]
    total: int
    is_video: bool


def check_target(target: Path, output: Path, extra_inputs: list[Path], overwrite: bool,
                 encode: EncodeOptions | None = None) -> None:
    """InputError when the target is missing or unsupported, or the output would clobber something.

    An output without a suffix is a folder of PNG frames. With `encode`, a video output's codec is checked
    against its container here, before any work.
    """
    if not target.exists():
        raise InputError(f"{target}: no such file")
    if output.suffix == "":
        if output.exists() and any(output.iterdir()) and not overwrite:
            raise InputError(f"{output}: the output folder is not empty; pass --overwrite to write into it")
        if not (is_video(target) or is_image(target)):
            raise InputError(f"{target}: unsupported target extension '{target.suffix}' (use a video or an image)")
        return
    if is_video(target):
        allowed = VIDEO_SUFFIXES
    elif is_image(target):
        allowed = IMAGE_SUFFIXES
    else:
        raise InputError(f"{target}: unsupported target extension '{target.suffix}' (use a video or an image)")
    check_output_path(output, [target, *extra_inputs], overwrite, allowed)
    if is_video(output) and encode is not None:
        check_preset(resolve_codec(output, encode.codec), encode.preset)


def check_comparable(target: Path, output: Path, start: float | None = None, end: float | None = None) -> None:
    """InputError when `output` cannot be the result of processing `target` (in [start, end)).

    Both must be images or both videos, and a video output must have as many frames as the target's range
    (one frame of slack for a trimmed range, whose count is estimated from the frame rate).
    """
    if is_video(target) != is_video(output):
        kinds = {True: "a video", False: "an image"}
        raise InputError(f"{output}: the output is {kinds[is_video(output)]} but the target {target} is "
                         f"{kinds[is_video(target)]}; compare an output with the target it was made from")
    if not is_video(target):
        return
    made, source = probe_video(output), probe_video(target)
    if start or end:
        span = (end if end is not None else source.duration) - (start or 0.0)
        expected, slack = max(int(round(span * float(source.fps))), 0), 1
    else:
        expected, slack = source.frame_count, 0
    if abs(made.frame_count - expected) > slack:
        raise InputError(f"{output}: the output has {made.frame_count} frames but the target {target} has "
                         f"{expected}" + (" in the chosen range" if start or end else "")
                         + "; pass the --start/--end the output was made with, or the right target")


def frames_of(path: Path, start: float | None = None, end: float | None = None,
              allow_partial: bool = False) -> Iterator[Frame]:
    """The frames of a video (in [start, end)) or a still image as a one-frame stream."""
    if is_image(path):
        return iter([Frame(index=0, image=read_image(path), pts=0, time=0.0)])
    return iter_frames(path, start, end, allow_partial)


@contextmanager
def open_target(target: Path, output: Path, *, overwrite: bool = False, extra_inputs: list[Path] | None = None,
                start: float | None = None, end: float | None = None,
                encode: EncodeOptions = EncodeOptions()) -> Iterator[TargetIO]:
    """Validate paths, open the target and yield its TargetIO; the output appears only on success."""
    check_target(target, output, list(extra_inputs or []), overwrite, encode)
    if start is not None and end is not None and end <= start:
        raise InputError(f"--end ({end}) must be after --start ({start})")
    provenance = encode.provenance or current_command()
    partial = encode.allow_partial
    if output.suffix == "":
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"{output}: cannot create the output folder ({error.strerror or error})") from error
        try:
            yield TargetIO(frames=lambda: frames_of(target, start, end, partial),
                           write=lambda frame, rendered: write_image(output / f"{frame.index:06d}.png", rendered,
                                                                     provenance),
                           total=1 if is_image(target) else probe_video(target).frame_count,
                           is_video=is_video(target))
        except FrameError as error:
            raise FrameError(f"{target}: {error}") from error
        return
    if is_image(target):
        loaded = load_image(target)
        holder: dict[str, np.ndarray] = {}
        try:
            yield TargetIO(
                frames=lambda: iter([Frame(index=0, image=loaded.rgb, pts=0, time=0.0)]),
                write=lambda frame, rendered: holder.__setitem__("image", rendered),
                total=1,
                is_video=False,
            )
        except FrameError as error:
            raise FrameError(f"{target}: {error}") from error
        if "image" in holder:
            # Grey in, grey out; an alpha channel comes back (a single-channel result, a mask, stays as it is).
            image = holder["image"]
            write_image(output, loaded.restore(image) if image.ndim == 3 else image, provenance)
        return
    info = probe_video(target)
    total = info.frame_count
    if start or end:
        span = (end if end is not None else info.duration) - (start or 0.0)
        total = max(int(round(span * float(info.fps))), 0)
    with atomic_output(output) as tmp:
        with VideoWriter(tmp, info, encode.codec, encode.crf, encode.preset,
                         audio_source=target if (encode.keep_audio and info.has_audio) else None,
                         start=start or 0.0, end=end, metadata=provenance.video_tags(),
                         suffix=output.suffix) as writer:
            yield TargetIO(
                frames=lambda: iter_frames(target, start, end, partial),
                write=lambda frame, rendered: writer.write(rendered, frame.pts),
                total=total,
                is_video=True,
            )
