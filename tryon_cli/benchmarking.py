"""Speed and memory of the CLI's commands against the decode+encode floor of the same video.

Every measurement runs the real command in a child process: its wall time is the cold figure (imports,
models loaded), the seconds the command reports for its own work are the warm figure (models already
loaded), and the child's resident-memory high-water mark (``wait4``'s rusage) is its peak memory; its
CPU seconds (user + system) give a ratio that holds even when other work shares the cores. The
floor is a decode+encode-only pass over the same video, measured the same way in the same run, so a
ratio holds on a shared, noisy machine where absolute frame rates do not.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import av
import cv2
import numpy as np

FACE_LAYOUTS = ("closeup", "small")
TASKS = ("swap", "mask", "tryon")

# A decode+encode-only pass with the same reader and writer as the commands (open_target).
_FLOOR = """
import json, sys, time
from pathlib import Path
started = time.perf_counter()
from tryon_cli.io.target_media import open_target
with open_target(Path(sys.argv[1]), Path(sys.argv[2]), overwrite=True) as io:
    began = time.perf_counter()
    frames = 0
    for frame in io.frames():
        io.write(frame, frame.image)
        frames += 1
print(json.dumps({"frames": frames, "seconds": time.perf_counter() - began}))
"""


@dataclass(frozen=True)
class Measured:
    """One child process: wall seconds, its own reported seconds of work (or None), peak RSS, CPU seconds."""

    wall_s: float
    work_s: float | None
    peak_bytes: int
    stdout: str
    cpu_s: float = 0.0


@dataclass(frozen=True)
class BenchRow:
    """A task on one video against that video's decode+encode floor, measured in the same run."""

    task: str
    video: str
    width: int
    height: int
    frames: int
    floor_fps: float
    fps_warm: float
    fps_cold: float
    ratio_warm: float
    ratio_cold: float
    ratio_cpu: float
    peak_mb: float
    floor_peak_mb: float

    def as_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def run_child(args: Sequence[str], env: dict | None = None) -> Measured:
    """Run `args` (usually the _PEAK wrapper); RuntimeError with its stderr's tail when it fails."""
    started = time.perf_counter()
    process = subprocess.Popen(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:6])} ... failed (exit {process.returncode}): {stderr[-1500:]}")
    peak = 0
    work = None
    lines = [line for line in stdout.splitlines() if line.strip()]
    for line in reversed(lines):
        try:
            payload = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(payload, dict) and "__peak__" in payload:
            peak = int(payload["__peak__"])
            inner = payload.get("stdout", "")
            work = _work_seconds(inner)
            return Measured(wall, work, peak, inner, float(payload.get("cpu", 0.0)))
    return Measured(wall, _work_seconds(stdout), peak, stdout)


def _work_seconds(stdout: str) -> float | None:
    for line in reversed([line for line in stdout.splitlines() if line.strip()]):
        try:
            payload = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(payload, dict) and isinstance(payload.get("seconds"), (int, float)):
            return float(payload["seconds"])
    return None


# Runs the command as a grandchild and reports its own peak RSS (wait4 rusage of exactly that process).
_PEAK = """
import json, os, subprocess, sys
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, text=True)
out = p.stdout.read()
_, status, usage = os.wait4(p.pid, 0)
code = os.waitstatus_to_exitcode(status)
print(json.dumps({"__peak__": usage.ru_maxrss * 1024, "cpu": usage.ru_utime + usage.ru_stime, "stdout": out}))
sys.exit(code)
"""


def measure(args: Sequence[str]) -> Measured:
    """Wall time, work seconds and peak RSS of the command `args` (a list, run without a shell)."""
    started = time.perf_counter()
    result = run_child([sys.executable, "-c", _PEAK, *args])
    # The wrapper's own start-up is a few tens of ms; the command's wall time is what matters here.
    return Measured(time.perf_counter() - started, result.work_s, result.peak_bytes, result.stdout, result.cpu_s)


def tryon_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tryon_cli", *args]


def video_size(path: Path) -> tuple[int, int, int]:
    """(width, height, frames) of a video, frames counted by decoding."""
    from .io.video import iter_frames, probe_video

    info = probe_video(path)
    frames = sum(1 for _ in iter_frames(path))
    return info.width, info.height, frames


def rescale_video(source: Path, dest: Path, short_side: int | None = None, seconds: float | None = None) -> Path:
    """Write `source` with its short side scaled to `short_side` (720 = 720p, portrait or landscape;
    even sizes, aspect kept) and looped or cut to `seconds`."""
    from .io.video import iter_frames, probe_video, repeatable_x264_options

    info = probe_video(source)
    scale = (short_side / min(info.width, info.height)) if short_side else 1.0
    width = int(round(info.width * scale / 2)) * 2
    out_height = int(round(info.height * scale / 2)) * 2
    fps = Fraction(info.fps).limit_denominator(1001) if info.fps else Fraction(30)
    wanted = int(round(float(seconds) * fps)) if seconds else None
    with av.open(str(dest), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, out_height, "yuv420p"
        stream.options = repeatable_x264_options(crf="18", preset="veryfast")
        written = 0
        while wanted is None or written < wanted:
            for frame in iter_frames(source):
                image = frame.image
                if image.shape[:2] != (out_height, width):
                    image = cv2.resize(image, (width, out_height), interpolation=cv2.INTER_CUBIC)
                video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
                video_frame.pts = written
                video_frame.time_base = 1 / fps
                for packet in stream.encode(video_frame):
                    container.mux(packet)
                written += 1
                if wanted is not None and written >= wanted:
                    break
            if wanted is None:
                break
        for packet in stream.encode(None):
            container.mux(packet)
    return dest


def generate_video(photo: np.ndarray, dest: Path, height: int, layout: str, seconds: float = 3.0,
                   fps: int = 30) -> Path:
    """A synthetic talking head at 16:9 `height`: the face fills the frame's height (close-up) or a sixth."""
    from .faceswap.synthetic import synthetic_talking_video

    if layout not in FACE_LAYOUTS:
        raise ValueError(f"unknown face layout '{layout}' (use one of {', '.join(FACE_LAYOUTS)})")
    width = int(round(height * 16 / 9 / 2)) * 2
    background = cv2.GaussianBlur(cv2.resize(photo, (width, height)), (0, 0), max(height / 30, 1))
    side = height if layout == "closeup" else max(height // 3, 96)
    x0, y0 = (width - side) // 2, (height - side) // 2
    background[y0 : y0 + side, x0 : x0 + side] = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA)
    synthetic_talking_video(background, dest, seconds=seconds, fps=fps, audio=False)
    return dest


def task_command(task: str, video: Path, output: Path, source: Path | None, garment: Path | None,
                 extra: Sequence[str] = ()) -> list[str]:
    """The CLI call for one task on `video`, with --json so it reports its own seconds of work."""
    if task == "swap":
        if source is None:
            raise ValueError("the swap benchmark needs a source photo")
        return tryon_command("swap", str(source), str(video), "-o", str(output), "--overwrite", "-q", "--json", *extra)
    if task == "mask":
        return tryon_command("mask", str(video), "-o", str(output), "--overwrite", "-q", "--json", *extra)
    if task == "tryon":
        if garment is None:
            raise ValueError("the try-on benchmark needs a garment photo")
        return tryon_command("tryon", str(video), str(garment), "-o", str(output), "--overwrite", "-q", "--json", *extra)
    raise ValueError(f"unknown task '{task}' (use one of {', '.join(TASKS)})")


def floor(video: Path, workdir: Path) -> tuple[Measured, int]:
    """The decode+encode-only pass over `video`: its measurement and its frame count."""
    result = measure([sys.executable, "-c", _FLOOR, str(video), str(workdir / f"{video.stem}_floor.mp4")])
    return result, int(json.loads(result.stdout.strip().splitlines()[-1])["frames"])


def bench_video(video: Path, tasks: Sequence[str], workdir: Path, source: Path | None = None,
                garment: Path | None = None, repeats: int = 1, extra: Sequence[str] = ()) -> list[BenchRow]:
    """Each task on `video` and the floor, alternated `repeats` times; the fastest of each is kept."""
    from .io.video import probe_video

    info = probe_video(video)
    floors: list[Measured] = []
    runs: dict[str, list[Measured]] = {task: [] for task in tasks}
    frames = 0
    for _ in range(max(repeats, 1)):
        measured, frames = floor(video, workdir)
        floors.append(measured)
        for task in tasks:
            out = workdir / f"{video.stem}_{task}.mp4"
            runs[task].append(measure(task_command(task, video, out, source, garment, extra)))
    best_floor = min(floors, key=lambda m: m.wall_s)
    floor_work = min(m.work_s or m.wall_s for m in floors)
    rows = []
    for task, measured in runs.items():
        cold = min(m.wall_s for m in measured)
        warm = min((m.work_s if m.work_s is not None else m.wall_s) for m in measured)
        rows.append(BenchRow(
            task=task, video=video.name, width=info.width, height=info.height, frames=frames,
            floor_fps=frames / floor_work, fps_warm=frames / warm, fps_cold=frames / cold,
            ratio_warm=warm / floor_work, ratio_cold=cold / best_floor.wall_s,
            ratio_cpu=min(m.cpu_s for m in measured) / max(min(m.cpu_s for m in floors), 1e-9),
            peak_mb=max(m.peak_bytes for m in measured) / 2**20, floor_peak_mb=best_floor.peak_bytes / 2**20,
        ))
    return rows


def format_table(rows: Sequence[BenchRow]) -> str:
    """A fixed-width table of rows (ratios are to the decode+encode floor of the same video)."""
    header = (f"{'task':<6}{'video':<34}{'size':>11}{'frames':>7}{'floor fps':>10}{'fps warm':>9}{'fps cold':>9}"
              f"{'ratio warm':>11}{'ratio cold':>11}{'ratio cpu':>10}{'peak MB':>8}{'floor MB':>9}")
    lines = [header]
    for r in rows:
        lines.append(f"{r.task:<6}{r.video[:33]:<34}{f'{r.width}x{r.height}':>11}{r.frames:>7}{r.floor_fps:>10.1f}"
                     f"{r.fps_warm:>9.1f}{r.fps_cold:>9.1f}{r.ratio_warm:>11.2f}{r.ratio_cold:>11.2f}{r.ratio_cpu:>10.2f}"
                     f"{r.peak_mb:>8.0f}{r.floor_peak_mb:>9.0f}")
    return "\n".join(lines)


def default_source_photo() -> Path | None:
    """The portrait shipped inside the insightface package, when it is installed."""
    import importlib.util

    spec = importlib.util.find_spec("insightface")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "data" / "images" / "Tom_Hanks_54745.png"
    return path if path.exists() else None


__all__ = ["BenchRow", "Measured", "bench_video", "floor", "format_table", "generate_video", "measure",
           "rescale_video", "task_command", "video_size", "default_source_photo", "FACE_LAYOUTS", "TASKS"]
