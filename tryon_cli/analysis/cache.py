"""Per-frame face analysis of a video, kept in a temporary file so memory stays flat in video length."""

from __future__ import annotations

import struct
import tempfile
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .face import N_POINTS, Face

_HEADER = struct.Struct("<iii")  # frame index, face count, scene-cut flag
_TRACK = struct.Struct("<ii")  # track id, bridged flag
_FACE = N_POINTS * 3 * 4


@dataclass(frozen=True)
class FrameAnalysis:
    """The faces of one frame with their track ids, and whether a scene cut starts here. `bridged` flags
    the faces interpolated between two sightings of their track (empty: none are)."""

    index: int
    faces: tuple[Face, ...]
    tracks: tuple[int, ...]
    scene_cut: bool
    bridged: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        if len(self.tracks) != len(self.faces):
            raise ValueError(f"frame {self.index}: {len(self.faces)} faces but {len(self.tracks)} track ids")
        if self.bridged and len(self.bridged) != len(self.faces):
            raise ValueError(f"frame {self.index}: {len(self.faces)} faces but {len(self.bridged)} bridged flags")

    @property
    def bridged_flags(self) -> tuple[bool, ...]:
        """One flag per face (`bridged`, or all False when it is empty)."""
        return self.bridged or (False,) * len(self.faces)

    @property
    def found(self) -> int:
        """Faces found in this frame itself (not bridged)."""
        return len(self.faces) - sum(self.bridged_flags)


class AnalysisCache:
    """Append frame analyses, then read them back in order (one pass)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self.count = 0

    def append(self, item: FrameAnalysis) -> None:
        self._file.write(_HEADER.pack(item.index, len(item.faces), int(item.scene_cut)))
        for track, face, bridged in zip(item.tracks, item.faces, item.bridged_flags):
            self._file.write(_TRACK.pack(track, int(bridged)))
            self._file.write(np.ascontiguousarray(face.points, dtype=np.float32).tobytes())
        self.count += 1

    def __iter__(self) -> Iterator[FrameAnalysis]:
        self._file.flush()
        self._file.seek(0)
        for _ in range(self.count):
            index, n_faces, cut = _HEADER.unpack(self._file.read(_HEADER.size))
            faces, tracks, bridged = [], [], []
            for _ in range(n_faces):
                track, flag = _TRACK.unpack(self._file.read(_TRACK.size))
                tracks.append(track)
                bridged.append(bool(flag))
                points = np.frombuffer(self._file.read(_FACE), dtype=np.float32).reshape(N_POINTS, 3)
                faces.append(Face(points=points.copy()))
            yield FrameAnalysis(index=index, faces=tuple(faces), tracks=tuple(tracks), scene_cut=bool(cut),
                                bridged=tuple(bridged) if any(bridged) else ())

    def close(self) -> None:
        self._file.close()
