"""Per-frame face analysis of a video, kept in a temporary file so memory stays flat in video length."""

from __future__ import annotations

import struct
import tempfile
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .face import N_POINTS, Face

_HEADER = struct.Struct("<iii")  # frame index, face count, scene-cut flag
_FACE = N_POINTS * 3 * 4


@dataclass(frozen=True)
class FrameAnalysis:
    """The faces of one frame with their track ids, and whether a scene cut starts here."""

    index: int
    faces: tuple[Face, ...]
    tracks: tuple[int, ...]
    scene_cut: bool


class AnalysisCache:
    """Append frame analyses, then read them back in order (one pass)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self.count = 0

    def append(self, item: FrameAnalysis) -> None:
        self._file.write(_HEADER.pack(item.index, len(item.faces), int(item.scene_cut)))
        for track, face in zip(item.tracks, item.faces):
            self._file.write(struct.pack("<i", track))
            self._file.write(np.ascontiguousarray(face.points, dtype=np.float32).tobytes())
        self.count += 1

    def __iter__(self) -> Iterator[FrameAnalysis]:
        self._file.flush()
        self._file.seek(0)
        for _ in range(self.count):
            index, n_faces, cut = _HEADER.unpack(self._file.read(_HEADER.size))
            faces, tracks = [], []
            for _ in range(n_faces):
                tracks.append(struct.unpack("<i", self._file.read(4))[0])
                points = np.frombuffer(self._file.read(_FACE), dtype=np.float32).reshape(N_POINTS, 3)
                faces.append(Face(points=points.copy()))
            yield FrameAnalysis(index=index, faces=tuple(faces), tracks=tuple(tracks), scene_cut=bool(cut))

    def close(self) -> None:
        self._file.close()
