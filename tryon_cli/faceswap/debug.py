"""Per-frame debug images of a swap: mask, landmark overlay (green target, red swapped), normal map; and
`faces.json`, the faces found, bridged and swapped per frame."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from ..face3d.raster import normal_map
from ..io.media import write_image
from ..io.outputs import write_text_atomic
from ..render.contract import FaceTarget


def write_debug_images(debug_dir: Path, index: int, image: np.ndarray, mask: np.ndarray, faces: list[FaceTarget],
                  triangles: np.ndarray) -> None:
    overlay = image.copy()
    for face in faces:
        for x, y in face.target_points[:, :2].astype(int):
            cv2.circle(overlay, (int(x), int(y)), 1, (0, 255, 0), -1)
        for x, y in face.points[:, :2].astype(int):
            cv2.circle(overlay, (int(x), int(y)), 1, (255, 0, 0), -1)
    write_image(debug_dir / f"{index:06d}_mask.png", mask)
    write_image(debug_dir / f"{index:06d}_landmarks.png", overlay)
    if faces:
        normals = faces[0].normal_map if faces[0].normal_map is not None else normal_map(
            faces[0].points, triangles, image.shape[:2])
        write_image(debug_dir / f"{index:06d}_normals.png", normals)


def write_face_counts(debug_dir: Path, found: list[int], bridged: list[int], swapped: list[int]) -> None:
    """`faces.json`: one row per frame (frame number in the output, faces found, bridged, swapped)."""
    debug_dir.mkdir(parents=True, exist_ok=True)
    rows = [{"frame": i, "found": f, "bridged": b, "swapped": s}
            for i, (f, b, s) in enumerate(zip(found, bridged, swapped))]
    write_text_atomic(debug_dir / "faces.json", json.dumps(rows, indent=0) + "\n")
