"""Loose hair strands past the face parser's hair edge over a photo's brow and lid are taken out of the source
texture with the hair; the brow and the lashes they touch stay (`faceswap/strands.py`)."""

from __future__ import annotations

import cv2
import numpy as np

from test_source_cleanup import _Parser, _face, _region_painter
from tryon_cli.face3d import landmarks as lm
from tryon_cli.faceswap.strands import hair_strands

BROW = (45, 60, 75)  # BGR: a brown brow
HAIR = (10, 12, 15)  # ... and darker hair


def _strand_scene(image: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`image` with a drawn left brow (the lit one), a hair curtain past its outer end and a strand from that hair across
    the brow onto the lid; returns the image and the brow, hair and strand masks (bool)."""
    width = float(np.ptp(points[:, 0]))
    brow_points = points[lm.LEFT_BROW, :2]
    outward = 1.0 if brow_points[:, 0].mean() > points[:, 0].mean() else -1.0
    outer = brow_points[np.argmax(brow_points[:, 0] * outward)]
    eye = points[lm.LEFT_EYE, :2]
    brow = np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(brow, cv2.convexHull(np.round(brow_points).astype(np.int32)), 255)
    brow = cv2.dilate(brow, np.ones((3, 3), np.uint8)) > 0
    columns = np.arange(image.shape[1])[None, :]
    rows = np.arange(image.shape[0])[:, None]
    corner = eye[np.argmax(eye[:, 0] * outward)]
    edge = corner[0] + outward * 0.06 * width  # the hair over the brow's outer end
    hair = ((columns - edge) * outward > 0) & (rows > outer[1] - 0.15 * width) & (rows < eye[:, 1].max() + 0.1 * width)
    # from the hair at the brow's top, down across its tail to beside the eye's outer corner
    start = (edge - outward, brow_points[:, 1].min())
    end = (corner[0] + outward * 0.025 * width, corner[1])
    strand = np.zeros(image.shape[:2], np.uint8)
    cv2.line(strand, tuple(int(round(v)) for v in start), tuple(int(round(v)) for v in end), 255, 3)
    strand = (strand > 0) & ~hair
    out = image.copy()
    out[brow & ~hair] = BROW
    out[hair] = HAIR
    out[strand] = HAIR
    return out, brow, hair, strand


def test_a_strand_across_the_brow_is_taken_and_the_brow_kept(source_photo) -> None:
    """The parser calls the strand skin and the brow brow: the strand off the brow is not pasted, the
    brow is (without `hair_strands` the strand was kept whole)."""
    from tryon_cli.faceswap.source import _brows_and_eyes, _detect, _lashes, _silhouette, _under_brows, _usable

    _, photo, _ = _face(source_photo)
    photo = cv2.resize(photo, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)  # (112 px: a brow 3 px thick)
    face = _detect([(source_photo, photo)])[0][2]
    image, brow, hair, strand = _strand_scene(photo, face.points)
    painters = [_region_painter(hair, face), _region_painter(brow, face, "l_brow")]
    parser = _Parser(lambda labels: [paint(labels) for paint in painters])
    path, image, face = _detect([(source_photo, image)])[0]
    _, _, mask = _usable(path, image, face, without_mouth=True, parser=parser)

    # where strands are looked for: by the brows and eyes, under each brow's ends, off the lashes, on the face
    off_brow = strand & ~cv2.dilate(brow.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    off_brow &= (_brows_and_eyes(image.shape[:2], face.points) & _under_brows(image.shape[:2], face.points)) > 0
    off_brow &= _lashes(image.shape[:2], face.points) == 0  # (its end on the lashes stays with them)
    off_brow &= _silhouette(image.shape[:2], face.points, None) > 0  # (past the face's outline it is never used)
    assert off_brow.sum() > 30
    assert (mask[off_brow] > 0).mean() < 0.1  # the strand is not pasted
    assert (mask[brow & ~strand & ~hair] > 0).mean() > 0.95  # the brow is


def test_lashes_joined_to_a_strand_stay() -> None:
    """A dark lash line touching a strand from the hair is kept where it lies inside `keep`."""
    image = np.full((80, 120, 3), 180, np.uint8)
    hair = np.zeros((80, 120), bool)
    hair[:, 100:] = True
    image[hair] = HAIR
    keep = np.zeros((80, 120), bool)
    keep[30:50, 20:80] = True  # the grown eye
    image[38:41, 20:100] = HAIR  # the lash line running on into a strand to the hair
    near = np.ones((80, 120), bool)
    found = hair_strands(image, hair, np.zeros_like(keep), keep, near, 4, 9)
    assert found[38:41, 80:100].all()  # the strand
    assert not found[keep].any()  # the lashes
    assert not found[:30].any() and not found[50:].any()  # the skin


def test_a_strand_is_taken_on_both_sides_of_a_brow_it_crosses() -> None:
    """Synthetic: a strand from the hair crosses a brow onto the lid; both its ends go, the brow stays."""
    image = np.full((120, 160, 3), 180, np.uint8)
    hair = np.zeros((120, 160), bool)
    hair[:, 140:] = True
    brows = np.zeros((120, 160), bool)
    brows[40:49, 40:130] = True
    eyes = np.zeros((120, 160), bool)
    eyes[62:76, 50:110] = True
    image[brows] = BROW
    image[hair] = HAIR
    strand = np.zeros((120, 160), np.uint8)
    cv2.line(strand, (139, 25), (112, 58), 255, 3)
    strand = (strand > 0) & ~hair
    image[strand] = HAIR
    near = np.zeros((120, 160), bool)
    near[20:85, 30:140] = True
    found = hair_strands(image, hair, brows, eyes, near, 4, 20)
    below = strand & ~brows & (np.arange(120)[:, None] > 48)
    assert below.sum() > 20 and found[below].all()  # past the brow, joined to the hair across it
    assert found[strand & ~brows & (np.arange(120)[:, None] < 40)].all()
    assert not found[brows].any() and not found[eyes].any()
    assert not found[~strand].any()  # the skin
