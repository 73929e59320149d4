"""The source identity: one or more photos of one person turned into texture, shape and skin colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..analysis.face import Face, FaceMeshAnalyzer
from ..colour import lab_statistics
from ..errors import InputError
from ..face3d.fitting import frontalize, normalized_shape, robust_identity, rotation_angle_degrees
from ..face3d.raster import triangulate
from ..masks.face import face_region, occlusion_mask, skin_sample_region, skin_statistics
from ..render.contract import SourceFace

FACE_POINTS = 468  # the iris points stay out of the triangulation: they would fold the lids on a blink


def prepare_source(images: list[tuple[Path, np.ndarray]]) -> SourceFace:
    """The source identity from one or more photos: identity shape, best texture, skin colour."""
    if not images:
        raise InputError("no source images given")
    faces: list[tuple[Path, np.ndarray, Face]] = []
    with FaceMeshAnalyzer(max_faces=4, tracking=False) as analyzer:
        for path, image in images:
            found = analyzer.detect(image)
            if not found:
                raise InputError(f"{path}: no face found in the source image")
            faces.append((path, image, found[0]))
    frontal_mesh = frontalize(faces[0][2].points)
    poses, shapes = zip(*(normalized_shape(frontal_mesh, face.points) for _, _, face in faces))
    identity = robust_identity(np.stack(shapes))
    frontal = int(np.argmin([rotation_angle_degrees(p.rotation, np.eye(3)) - 1e-3 * f.size
                             for p, (_, _, f) in zip(poses, faces)]))
    _, texture, face = faces[frontal]
    skin_region = skin_sample_region(texture.shape[:2], face.points)
    skin = lab_statistics(texture, skin_region)
    if skin is None:
        raise InputError(f"{faces[frontal][0]}: the source face is too small to use")
    oval = face_region(texture.shape[:2], face.points)
    occluded = occlusion_mask(texture, face.points, oval, skin_statistics(texture, skin_region))
    texture_mask = oval & ~occluded
    return SourceFace(
        texture=texture,
        texture_points=face.points,
        identity_shape=identity,
        frontal_mesh=frontal_mesh,
        triangles=triangulate(identity[:FACE_POINTS]),
        skin_stats=skin,
        texture_mask=texture_mask,
    )
