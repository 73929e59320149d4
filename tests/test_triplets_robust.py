"""Training data the way users break it: corrupt inputs, deleted outputs, two writers, bad manifests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import COLOURS, run_cli
from tryon_cli.data.layouts import find_pairs
from tryon_cli.io.media import write_image


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _copy(folder: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(folder, target)
    return target


def test_a_corrupt_garment_fails_only_its_own_item(viton, tmp_path):
    folder = _copy(viton, tmp_path, "viton")
    (folder / "cloth" / "00002_00.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    out = tmp_path / "out"
    result = run_cli("build-triplets", str(folder), "-o", str(out), "-q", "--json", "--workers", "2")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    failed = _lines(out / "failed.jsonl")
    assert [f["garment"] for f in failed] == [str(folder / "cloth" / "00002_00.png")]
    assert "corrupt" in failed[0]["reason"]
    built = _lines(out / "manifest.jsonl")
    assert summary["built"] == len(built) == len(COLOURS) - 1
    assert all(r["repaint_garment"] != str(folder / "cloth" / "00002_00.png") for r in built)


def test_resume_rebuilds_deleted_files_and_verify_catches_changed_bytes(built, tmp_path):
    out = _copy(built, tmp_path, "build")
    viton = Path(_lines(out / "manifest.jsonl")[0]["person"]).parents[1]
    records = _lines(out / "manifest.jsonl")
    deleted = out / records[1]["files"]["mask"]
    deleted.unlink()
    changed = out / records[2]["files"]["input"]
    data = bytearray(changed.read_bytes())
    data[-20] ^= 0xFF  # same size, different bytes: only --verify sees it
    changed.write_bytes(bytes(data))
    result = run_cli("build-triplets", str(viton), "-o", str(out), "-q", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["built"] == 1 and deleted.exists()
    assert changed.read_bytes() == bytes(data)
    result = run_cli("build-triplets", str(viton), "-o", str(out), "-q", "--json", "--verify")
    assert json.loads(result.stdout)["built"] == 1 and changed.read_bytes() != bytes(data)
    ids = [r["id"] for r in _lines(out / "manifest.jsonl")]
    assert len(ids) == len(set(ids)) == len(records)


def test_a_second_writer_is_refused(viton, tmp_path):
    from tryon_cli.data.manifest import WriterLock

    out = tmp_path / "out"
    out.mkdir()
    with WriterLock(out / ".lock", "test"):
        result = run_cli("build-triplets", str(viton), "-o", str(out), "-q")
    assert result.returncode == 2
    assert "being written by process" in result.stderr and str(os.getpid()) in result.stderr
    assert not (out / "manifest.jsonl").exists()


def test_a_missing_model_is_one_error_before_any_worker(viton, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("TRYON_CHECKPOINT", "TRYON_CONFIG")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    result = subprocess.run([sys.executable, "-c", "from tryon_cli.app import main; main()", "build-triplets",
                             str(viton), "-o", str(tmp_path / "out"), "-q", "--engine", "diffusion", "--workers", "2"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "diffusion engine is not configured" in result.stderr and result.stderr.count("error:") == 1


def test_pairs_csv_with_a_byte_order_mark_and_unmatched_viton_people(tmp_path):
    image = np.full((8, 8, 3), 128, np.uint8)
    for name in ("p.png", "g.png"):
        write_image(tmp_path / name, image)
    (tmp_path / "pairs.csv").write_bytes("\ufeffperson,garment\np.png,g.png\n".encode("utf-8"))
    found = find_pairs(tmp_path)
    assert found.layout == "pairs-csv" and found.pairs[0].person == tmp_path / "p.png"
    viton = tmp_path / "v"
    for sub, names in (("image", ("a", "b")), ("cloth", ("a",))):
        (viton / sub).mkdir(parents=True)
        for name in names:
            write_image(viton / sub / f"{name}.png", image)
    found = find_pairs(viton)
    assert [p.person.name for p in found.pairs] == ["a.png"]
    assert len(found.problems) == 1 and "b.png" in found.problems[0] and "no matching garment" in found.problems[0]


@pytest.mark.parametrize("content", [b"", b"\x00\x01\xff\xfe" * 64, b"hello world\nthis is not json\n"])
def test_filter_refuses_a_manifest_with_no_records(tmp_path, content):
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_bytes(content)
    result = run_cli("filter", str(manifest), "-q", "--json")
    assert result.returncode == 2 and str(manifest) in result.stderr and result.stdout == ""


def test_filter_rejects_unreadable_items_reports_bad_lines_and_goes_on(built, tmp_path):
    out = _copy(built, tmp_path, "build")
    records = _lines(out / "manifest.jsonl")[:3]
    (out / records[0]["files"]["input"]).unlink()
    no_files = {k: v for k, v in records[1].items() if k != "files"}
    lines = [json.dumps(records[0]), json.dumps(no_files), "{not json", json.dumps(records[1]), json.dumps(records[2])]
    manifest = out / "manifest.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    result = run_cli("filter", str(manifest), "-o", str(tmp_path / "f"), "-q", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["bad_lines"] == 2 and summary["kept"] + summary["rejected"] == 3
    rejected = _lines(tmp_path / "f" / "rejected.jsonl")
    deleted = next(r for r in rejected if r.get("id") == records[0]["id"])
    assert any("missing" in reason for reason in deleted["reasons"])
    assert {r.get("line") for r in rejected if "line" in r} == {2, 3}
    assert any("line 2" in w and "no 'files'" in w for w in summary["warnings"])
    # earlier results are not replaced without --overwrite
    again = run_cli("filter", str(manifest), "-o", str(tmp_path / "f"), "-q")
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert run_cli("filter", str(manifest), "-o", str(tmp_path / "f"), "-q", "--overwrite").returncode == 0


def test_filter_json_prints_what_its_help_says():
    help_text = run_cli("filter", "--help").stdout
    assert "one JSON object" in " ".join(help_text.split()) and "per result" not in help_text


def _repaint_case(build: Path, record: dict, kind: str) -> dict[str, np.ndarray]:
    """A good item's images, or the same item with a constructed bad repaint."""
    import cv2

    from tryon_cli.data.store import read_images

    images = read_images(build, record)
    good, original, mask = images["input"], images["target"], images["mask"][..., 0] > 0
    inside = mask[..., None]
    if kind == "sticker":  # a flat patch pasted over the mask: hard edge all along its border
        bad = np.where(inside, np.array([230, 40, 200], np.uint8), original)
    elif kind == "smear":  # the region smudged into mush
        bad = np.where(inside, cv2.GaussianBlur(good, (0, 0), 9), good)
    elif kind == "sleeve":  # the original garment left on one side of the mask
        xs = np.nonzero(mask.any(axis=0))[0]
        side = np.zeros_like(mask)
        side[:, xs.min():xs.min() + (xs.max() - xs.min()) * 2 // 5] = True
        bad = np.where((mask & side)[..., None], original, good)
    else:
        bad = good
    return {**images, "input": np.ascontiguousarray(bad)}


@pytest.mark.parametrize("kind, reason", [("sticker", "seam"), ("smear", "blurred"), ("sleeve", "original garment")])
def test_repaint_check_rejects_bad_repaints_and_keeps_good_ones(built, kind, reason):
    from tryon_cli.garments.photo import segment_garment as garment_photo_mask
    from tryon_cli.data.repaint_check import RepaintThresholds, repaint_reasons, repaint_scores

    records = _lines(built / "manifest.jsonl")
    for record in records:
        good = _repaint_case(built, record, "good")
        scores = repaint_scores(good["target"], good["input"], good["mask"][..., 0], good["condition"],
                                garment_photo_mask(good["condition"]))
        assert repaint_reasons(scores, RepaintThresholds()) == [], (record["id"], scores)
    bad = _repaint_case(built, records[0], kind)
    scores = repaint_scores(bad["target"], bad["input"], bad["mask"][..., 0], bad["condition"],
                            garment_photo_mask(bad["condition"]))
    reasons = repaint_reasons(scores, RepaintThresholds())
    assert any(reason in r for r in reasons), (kind, scores)


def test_a_worker_that_cannot_load_its_models_ends_the_run_with_one_error(viton, tmp_path, monkeypatch):
    """Even past the parent's check, a failing worker start stops the run (no respawning forever)."""
    from tryon_cli.data.executors import run_jobs
    from tryon_cli.data.layouts import find_pairs
    from tryon_cli.data.triplets import TripletSettings, check_inputs, plan_jobs
    from tryon_cli.errors import TryonError

    monkeypatch.delenv("TRYON_CHECKPOINT", raising=False)
    monkeypatch.setenv("TRYON_CONFIG", str(tmp_path / "none.toml"))
    settings = TripletSettings(engine="diffusion")
    pairs = find_pairs(viton).pairs
    jobs, _ = plan_jobs(pairs, settings, (0, 1), set(), check_inputs(pairs, settings))
    with pytest.raises(TryonError, match="could not load its models.*not configured"):
        list(run_jobs(jobs, settings, workers=2))
