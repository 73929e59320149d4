"""build-triplets and filter: layouts, resume after a kill, determinism, and filters that reject what they should."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import run_cli
from test_tryon import tshirt
from tryon_cli.data.layouts import find_pairs
from tryon_cli.errors import InputError
from tryon_cli.io.media import read_image, write_image

from conftest import COLOURS


def test_layouts_are_detected(viton, tmp_path):
    found = find_pairs(viton)
    assert found.layout == "viton-hd" and len(found.pairs) == len(COLOURS) and not found.problems
    dresscode = tmp_path / "dc" / "upper_body"
    dresscode.mkdir(parents=True)
    write_image(dresscode / "001_0.jpg", np.zeros((8, 8, 3), np.uint8))
    write_image(dresscode / "001_1.jpg", np.zeros((8, 8, 3), np.uint8))
    found = find_pairs(tmp_path / "dc")
    assert found.layout == "dresscode" and found.pairs[0].category == "upper"
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no known layout"):
        find_pairs(tmp_path / "empty")


def test_kill_half_way_and_rerun_finishes_without_redoing(viton, tmp_path):
    out = tmp_path / "build"
    command = [sys.executable, "-c", "from tryon_cli.app import main; main()", "build-triplets", str(viton),
               "-o", str(out), "-q"]
    process = subprocess.Popen(command, start_new_session=True)
    manifest = out / "manifest.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and (not manifest.exists() or len(manifest.read_text().splitlines()) < 2):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    first = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
    assert 2 <= len(first) < len(COLOURS)
    stamps = {r["id"]: (out / r["files"]["input"]).stat().st_mtime_ns for r in first}
    result = run_cli("build-triplets", str(viton), "-o", str(out), "-q", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["already_done"] == len(first) and summary["built"] == len(COLOURS) - len(first)
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert len({r["id"] for r in records}) == len(records) == len(COLOURS)
    assert all((out / r["files"]["input"]).stat().st_mtime_ns == stamps[r["id"]] for r in first)
    for record in records:
        assert record["repaint_garment"] != record["garment"] and record["category"] == "upper"
        assert set(record["files"]) == {"input", "condition", "target", "mask"}
    again = run_cli("build-triplets", str(viton), "-o", str(out), "-q", "--json")
    assert json.loads(again.stdout)["built"] == 0


def test_a_shard_with_no_items_writes_an_empty_manifest(viton, built, tmp_path):
    """Items go to shards by their content hash, so a shard can get none: it still finishes with its
    (empty) manifest, and a user merging the shards' manifests finds every one (the shard that got none
    had written nothing, as if it had never run)."""
    ids = {json.loads(line)["id"] for line in (built / "manifest.jsonl").read_text().splitlines()}
    taken = {int(identifier, 16) % 1000 for identifier in ids}
    empty = next(i for i in range(1000) if i not in taken)
    out = tmp_path / "out"
    result = run_cli("build-triplets", str(viton), "-o", str(out), "-q", "--json", "--shard", f"{empty}/1000")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["built"] == 0
    assert (out / f"manifest.shard-{empty:03d}-of-1000.jsonl").read_text() == ""


def test_items_are_deterministic_and_shards_split_them(viton, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("build-triplets", str(viton), "-o", str(a), "-q", "--workers", "2").returncode == 0
    for i in range(2):
        assert run_cli("build-triplets", str(viton), "-o", str(b), "-q", "--shard", f"{i}/2").returncode == 0
    records_a = {json.loads(x)["id"]: json.loads(x) for x in (a / "manifest.jsonl").read_text().splitlines()}
    shard_files = sorted(b.glob("manifest.shard-*.jsonl"))
    assert len(shard_files) == 2
    records_b = {json.loads(x)["id"]: json.loads(x) for f in shard_files for x in f.read_text().splitlines()}
    assert records_a.keys() == records_b.keys()
    for identifier, record in records_a.items():
        np.testing.assert_array_equal(read_image(a / record["files"]["input"]),
                                      read_image(b / records_b[identifier]["files"]["input"]))


def _bad_copy(build: Path, record: dict, name: str, change) -> dict:
    target = read_image(build / record["files"]["target"])
    bad = change(target)
    folder = build / "bad" / name
    folder.mkdir(parents=True, exist_ok=True)
    files = dict(record["files"])
    files["input"] = str((folder / "input.png").relative_to(build))
    write_image(folder / "input.png", bad)
    return {**record, "id": name, "files": files}


def test_filters_keep_good_triplets_and_reject_changed_faces_and_poses(viton, tmp_path, source_photo):
    build = tmp_path / "build"
    assert run_cli("build-triplets", str(viton), "-o", str(build), "-q").returncode == 0
    records = [json.loads(x) for x in (build / "manifest.jsonl").read_text().splitlines()]
    good = records[0]
    swapped_face = tmp_path / "swapped.png"
    assert run_cli("swap", str(source_photo), str(build / good["files"]["target"]), "-o", str(swapped_face),
                   "-q").returncode == 0
    face_changed = _bad_copy(build, good, "face-changed", lambda image: read_image(swapped_face))
    flipped = _bad_copy(build, good, "pose-flipped", lambda image: np.ascontiguousarray(image[:, ::-1]))
    shifted = _bad_copy(build, good, "pose-shifted", lambda image: np.roll(image, image.shape[1] // 5, axis=1))
    manifest = build / "test_manifest.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in [*records, face_changed, flipped, shifted]))
    result = run_cli("filter", str(manifest), "-o", str(tmp_path / "filtered"), "-q", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    rejected = {json.loads(x)["id"]: json.loads(x) for x in (tmp_path / "filtered" / "rejected.jsonl").read_text().splitlines()}
    kept = [json.loads(x) for x in (tmp_path / "filtered" / "kept.jsonl").read_text().splitlines()]
    assert summary["kept"] + summary["rejected"] == len(records) + 3
    assert len(kept) >= len(records) - 1
    assert any("face" in reason for reason in rejected["face-changed"]["reasons"])
    assert not any("pose" in reason for reason in rejected["face-changed"]["reasons"])
    assert any("pose" in reason for reason in rejected["pose-flipped"]["reasons"])
    assert any("pose" in reason for reason in rejected["pose-shifted"]["reasons"])
    for record in kept:
        assert set(record["scores"]) >= {"pose_oks", "texture_distance", "face_distance", "sharpness", "mask_area"}
    sheets = sorted((tmp_path / "filtered" / "spot-check").glob("sheet_*.png"))
    assert sheets and (tmp_path / "filtered" / "spot-check" / "index.html").exists()


def test_clip_similarity_loads_a_local_model_and_ranks_images(tmp_path, astronaut):
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    from tryon_cli.data.clip_similarity import ClipImageSimilarity

    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 2,
                     "vocab_size": 99},
        vision_config={"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 2,
                       "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )
    CLIPModel(config).save_pretrained(tmp_path / "clip")
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(tmp_path / "clip")
    similarity = ClipImageSimilarity(str(tmp_path / "clip"))
    same = similarity(astronaut, astronaut.copy())
    other = similarity(astronaut, np.ascontiguousarray(np.full_like(astronaut, 30)))
    assert same == pytest.approx(1.0, abs=1e-4) and other < same
    with pytest.raises(Exception, match="CLIP model .* not found"):
        ClipImageSimilarity(str(tmp_path / "missing"))


def test_dists_loads_vgg_and_learned_weights_and_orders_distances(tmp_path, astronaut):
    import torch

    from tryon_cli.data.dists import CHANNELS, DISTS, dists_distance, load_dists
    from tryon_cli.errors import ModelMissingError

    torch.manual_seed(0)
    donor = DISTS()
    vgg = {f"features.{k}.{p}": getattr(conv, p).detach() for k, conv in donor.features.items() for p in ("weight", "bias")}
    folder = tmp_path / "dists"
    folder.mkdir()
    torch.save(vgg, folder / "vgg16-test.pth")
    torch.save({"alpha": torch.rand(1, sum(CHANNELS), 1, 1), "beta": torch.rand(1, sum(CHANNELS), 1, 1)},
               folder / "weights.pt")
    model = load_dists(str(folder))
    crop = astronaut[:256, 128:384]
    same = dists_distance(model, crop, crop.copy(), size=64)
    blurred = dists_distance(model, crop, cv2.GaussianBlur(crop, (0, 0), 2), size=64)
    noise = dists_distance(model, crop, np.random.default_rng(0).integers(0, 255, crop.shape, dtype=np.uint8), size=64)
    assert abs(same) < 1e-4 and same < blurred < noise
    with pytest.raises(ModelMissingError, match="DISTS weights not found"):
        load_dists(str(tmp_path / "nothing"))
