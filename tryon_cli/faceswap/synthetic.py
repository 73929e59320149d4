"""Synthetic talking-head videos made from one photo: the demo, tests and benchmarks use them.

The photo's face mesh is animated (jaw and lower lip open and close, eyelids blink, the head sways)
with the same piecewise-affine warp the classical engine uses, and a tone is written as audio.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from ..analysis.face import FaceMeshAnalyzer
from ..errors import InputError
from ..face3d import landmarks as lm
from ..face3d.raster import rasterize, triangulate, warp_texture
from ..io.outputs import atomic_output
from ..io.video import repeatable_x264_options


def _animated_points(points: np.ndarray, t: float) -> np.ndarray:
    """The mesh at time t: mouth open amount follows speech-like rhythm, a blink every ~2.3 s."""
    p = points.copy()
    face_height = p[lm.CHIN, 1] - p[lm.FOREHEAD_TOP, 1]
    mouth = max(0.0, math.sin(2 * math.pi * 1.7 * t)) * (0.6 + 0.4 * math.sin(2 * math.pi * 0.37 * t))
    top, chin = p[lm.MOUTH_TOP, 1], p[lm.CHIN, 1]
    below = p[:, 1] > top + 1
    weight = np.clip(1.0 - 0.5 * (p[:, 1] - top) / max(chin - top, 1), 0.4, 1.0)
    p[below, 1] += (0.10 * face_height * mouth * weight)[below]
    blink = max(0.0, 1.0 - abs(((t + 0.4) % 1.9) - 0.2) / 0.2)
    for loop in (lm.RIGHT_EYE, lm.LEFT_EYE):
        eye = p[loop]
        centre_y = eye[:, 1].mean()
        bottom = eye[:, 1].max()
        upper = loop[eye[:, 1] < centre_y]
        p[upper, 1] += blink * 0.95 * (bottom - p[upper, 1])
    return p


def _head_motion(shape: tuple[int, int], t: float) -> np.ndarray:
    h, w = shape
    angle = 6.0 * math.sin(2 * math.pi * 0.21 * t)
    scale = 1.0 + 0.05 * math.sin(2 * math.pi * 0.13 * t)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    matrix[:, 2] += (0.03 * w * math.sin(2 * math.pi * 0.17 * t), 0.02 * h * math.cos(2 * math.pi * 0.11 * t))
    return matrix


def synthetic_talking_video(image: np.ndarray, path: Path, seconds: float = 3.0, fps: int = 25,
                            size: tuple[int, int] | None = None, audio: bool = True) -> int:
    """Write an animated talking-head video of the face in `image` (RGB); returns the frame count."""
    with FaceMeshAnalyzer(1, tracking=False) as analyzer:
        faces = analyzer.detect(image)
    if not faces:
        raise InputError("the photo for the synthetic video has no face")
    width, height = size or (image.shape[1], image.shape[0])
    width, height = width - width % 2, height - height % 2
    scale_x, scale_y = width / image.shape[1], height / image.shape[0]
    base = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    points = faces[0].points * np.array([scale_x, scale_y, scale_x], dtype=np.float32)
    border = np.array([[x, y, points[:, 2].max()] for x in (0, width - 1, width / 2) for y in (0, height - 1, height / 2)
                       if not (x == width / 2 and y == height / 2)], dtype=np.float32)
    mesh = np.concatenate([points, border])
    triangles = triangulate(mesh)
    count = int(round(seconds * fps))
    with atomic_output(path) as tmp, av.open(str(tmp), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = repeatable_x264_options(crf="20", preset="veryfast")
        sound = None
        if audio:
            sound = container.add_stream("aac", rate=44100)
            sound.layout = "mono"
        samples_done = 0
        for i in range(count):
            t = i / fps
            moved = np.concatenate([_animated_points(points, t), border])
            raster = rasterize(moved, triangles, (height, width))
            frame = base.copy()
            warped = warp_texture(base, mesh, raster, triangles)
            h, w = raster.shape
            region = frame[raster.y0 : raster.y0 + h, raster.x0 : raster.x0 + w]
            region[raster.coverage] = warped[raster.coverage]
            frame = cv2.warpAffine(frame, _head_motion((height, width), t), (width, height), borderMode=cv2.BORDER_REFLECT)
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts = i
            video_frame.time_base = Fraction(1, fps)
            for packet in stream.encode(video_frame):
                container.mux(packet)
            if sound is not None:
                end = int(round((i + 1) / fps * 44100))
                n = np.arange(samples_done, end)
                tone = (0.2 * np.sin(2 * np.pi * 220.0 * n / 44100)).astype(np.float32)[None, :]
                audio_frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout="mono")
                audio_frame.sample_rate = 44100
                audio_frame.pts = samples_done
                samples_done = end
                for packet in sound.encode(audio_frame):
                    container.mux(packet)
        for s in (stream, sound):
            if s is not None:
                for packet in s.encode(None):
                    container.mux(packet)
    return count
