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

from ..errors import InputError
from .media import IMAGE_SUFFIXES, VIDEO_SUFFIXES, is_image, is_video, read_image, write_image
from .outputs import atomic_output, check_output_path
from .video import Frame, VideoWriter, iter_frames, probe_video


@dataclass(frozen=True)
class EncodeOptions:
    """How output videos are encoded."""

    codec: str = "libx264"
    crf: int = 18
    preset: str = "veryfast"
    keep_audio: bool = True


@dataclass
class TargetIO:
    """Frames of a target, re-openable for each pass, and where rendered frames go."""

    frames: Callable[[], Iterator[Frame]]
    write: Callable[[Frame, np.ndarray], None]
    total: int
    is_video: bool


def check_target(target: Path, output: Path, extra_inputs: list[Path], overwrite: bool) -> None:
    """InputError when the target is missing or unsupported, or the output would clobber something.

    An output without a suffix is a folder of PNG frames.
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


def frames_of(path: Path, start: float | None = None, end: float | None = None) -> Iterator[Frame]:
    """The frames of a video (in [start, end)) or a still image as a one-frame stream."""
    if is_image(path):
        return iter([Frame(index=0, image=read_image(path), pts=0, time=0.0)])
    return iter_frames(path, start, end)


@contextmanager
def open_target(target: Path, output: Path, *, overwrite: bool = False, extra_inputs: list[Path] | None = None,
                start: float | None = None, end: float | None = None,
                encode: EncodeOptions = EncodeOptions()) -> Iterator[TargetIO]:
    """Validate paths, open the target and yield its TargetIO; the output appears only on success."""
    check_target(target, output, list(extra_inputs or []), overwrite)
    if start is not None and end is not None and end <= start:
        raise InputError(f"--end ({end}) must be after --start ({start})")
    if output.suffix == "":
        output.mkdir(parents=True, exist_ok=True)
        yield TargetIO(frames=lambda: frames_of(target, start, end),
                       write=lambda frame, rendered: write_image(output / f"{frame.index:06d}.png", rendered),
                       total=1 if is_image(target) else probe_video(target).frame_count, is_video=is_video(target))
        return
    if is_image(target):
        image = read_image(target)
        holder: dict[str, np.ndarray] = {}
        yield TargetIO(
            frames=lambda: iter([Frame(index=0, image=image, pts=0, time=0.0)]),
            write=lambda frame, rendered: holder.__setitem__("image", rendered),
            total=1,
            is_video=False,
        )
        if "image" in holder:
            write_image(output, holder["image"])
        return
    info = probe_video(target)
    total = info.frame_count
    if start or end:
        span = (end if end is not None else info.duration) - (start or 0.0)
        total = max(int(round(span * float(info.fps))), 0)
    with atomic_output(output) as tmp:
        with VideoWriter(tmp, info, encode.codec, encode.crf, encode.preset,
                         audio_source=target if (encode.keep_audio and info.has_audio) else None,
                         start=start or 0.0, end=end) as writer:
            yield TargetIO(
                frames=lambda: iter_frames(target, start, end),
                write=lambda frame, rendered: writer.write(rendered, frame.pts),
                total=total,
                is_video=True,
            )
