"""Named index sets of MediaPipe's 478-point face mesh."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..analysis.native import silenced_native_stderr

with silenced_native_stderr():
    from mediapipe.python.solutions import face_mesh_connections as _connections


def _loop(edges: frozenset[tuple[int, int]]) -> np.ndarray:
    """Order the edges of one closed contour into a polygon."""
    neighbours: dict[int, list[int]] = defaultdict(list)
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    start = min(neighbours)
    loop, previous, current = [start], None, start
    while True:
        following = [n for n in neighbours[current] if n != previous]
        if not following or following[0] == start:
            break
        previous, current = current, following[0]
        loop.append(current)
    return np.array(loop, dtype=np.int64)


# the mesh's own edges (its tessellation): which points are skin neighbours
EDGES = np.array(sorted(_connections.FACEMESH_TESSELATION), dtype=np.int64)
FACE_OVAL = _loop(_connections.FACEMESH_FACE_OVAL)
RIGHT_EYE = _loop(_connections.FACEMESH_RIGHT_EYE)
LEFT_EYE = _loop(_connections.FACEMESH_LEFT_EYE)
RIGHT_BROW = np.array(sorted({i for e in _connections.FACEMESH_RIGHT_EYEBROW for i in e}), dtype=np.int64)
LEFT_BROW = np.array(sorted({i for e in _connections.FACEMESH_LEFT_EYEBROW for i in e}), dtype=np.int64)
INNER_LIPS = np.array(
    [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95], dtype=np.int64
)
OUTER_LIPS = np.array(
    [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146], dtype=np.int64
)
NOSTRILS = np.array([98, 97, 2, 326, 327, 294, 278, 344, 440, 275, 4, 45, 220, 115, 48, 64], dtype=np.int64)
RIGHT_IRIS = np.arange(468, 473)
LEFT_IRIS = np.arange(473, 478)

# Points that move with the skull, not with expression: forehead, nose bridge, eye corners, temples,
# cheekbones. The pose is fitted on these alone.
RIGID = np.array(
    [10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 33, 263, 133, 362, 127, 356, 234, 454, 116, 345, 123, 352,
     98, 327, 129, 358, 109, 338, 67, 297, 21, 251, 162, 389],
    dtype=np.int64,
)

MOUTH_TOP, MOUTH_BOTTOM, MOUTH_LEFT, MOUTH_RIGHT = 13, 14, 78, 308
RIGHT_EYE_LIDS, RIGHT_EYE_CORNERS = (159, 145), (33, 133)
LEFT_EYE_LIDS, LEFT_EYE_CORNERS = (386, 374), (362, 263)
CHEEKS = (50, 280)
FOREHEAD_TOP, CHIN = 10, 152
MOUTH_CORNERS = (61, 291)  # the outer lips' corners


def mouth_open_ratio(points: np.ndarray) -> float:
    """Inner-lip gap over mouth width."""
    gap = np.linalg.norm(points[MOUTH_TOP, :2] - points[MOUTH_BOTTOM, :2])
    width = np.linalg.norm(points[MOUTH_LEFT, :2] - points[MOUTH_RIGHT, :2])
    return float(gap / max(width, 1e-6))


def mouth_line(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A point on the line through a mesh's mouth corners (the image-left one, float64 x, y) and the unit
    vector across that line toward the chin."""
    left, right = points[MOUTH_CORNERS[0], :2].astype(np.float64), points[MOUTH_CORNERS[1], :2].astype(np.float64)
    along = right - left
    down = np.array([-along[1], along[0]]) / max(float(np.hypot(*along)), 1e-6)
    if float(np.dot(points[CHIN, :2] - left, down)) < 0:
        down = -down
    return left, down


def eye_opening(points: np.ndarray, lids: tuple[int, int], corners: tuple[int, int]) -> float:
    """One eye's lid gap over its width (corner to corner), in the points' x, y.

    The gap is measured across the corner line: the two lid points are seldom above one another (a
    photo's mesh puts them 0.14 of the eye's width apart along it), and their straight distance never
    fell below that as the lids met, so a shut eye read as open and was drawn open (pale slits)."""
    corner = points[corners[1], :2].astype(np.float64) - points[corners[0], :2]
    width = float(np.hypot(*corner))
    gap = points[lids[0], :2].astype(np.float64) - points[lids[1], :2]
    return abs(float(corner[0] * gap[1] - corner[1] * gap[0])) / max(width * width, 1e-6)


def eye_open_ratio(points: np.ndarray) -> float:
    """Mean over both eyes of eyelid gap over eye width."""
    return float(np.mean([eye_opening(points, RIGHT_EYE_LIDS, RIGHT_EYE_CORNERS),
                          eye_opening(points, LEFT_EYE_LIDS, LEFT_EYE_CORNERS)]))
