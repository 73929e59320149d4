"""Triplets beyond one folder: WebDataset shards, Slurm shard defaults, spot-check pages in a real browser, Ray."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import COLOURS, run_cli
from tryon_cli.data.store import IMAGES, OutputFormat
from tryon_cli.data.build import build_triplets
from tryon_cli.data.triplets import TripletSettings


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _samples(tars: list[Path]) -> list[dict]:
    import webdataset as wds

    return list(wds.WebDataset([str(t) for t in tars], shardshuffle=False, empty_check=False))


def test_webdataset_shards_read_back_complete_and_filter_keeps_the_format(viton, built, tmp_path):
    out = tmp_path / "wds"
    summary = build_triplets(viton, out, TripletSettings(), output_format=OutputFormat.webdataset, shard_bytes=1 << 20)
    assert summary.built == len(COLOURS)
    tars = sorted(out.glob("*.tar"))
    assert len(tars) >= 2 and tars[0].name == "000000.tar"
    samples = _samples(tars)
    records = {r["id"]: r for r in _lines(out / "manifest.jsonl")}
    assert sorted(s["__key__"] for s in samples) == sorted(records)
    files_build = {r["id"]: r for r in _lines(built / "manifest.jsonl")}
    for sample in samples:
        assert set(sample) >= {"input.png", "condition.png", "target.png", "mask.png", "json"}
        assert json.loads(sample["json"])["id"] == sample["__key__"]
        for name in IMAGES:  # the same bytes as the files layout
            assert sample[f"{name}.png"] == (built / files_build[sample["__key__"]]["files"][name]).read_bytes()
    import pyarrow.parquet as pq

    index = pq.read_table(out / "manifest.parquet").to_pylist()
    assert sorted(r["id"] for r in index) == sorted(records) and all("tar" in r for r in index)
    result = run_cli("filter", str(out), "-o", str(tmp_path / "f"), "-q", "--json")
    assert result.returncode == 0, result.stderr
    kept = _lines(tmp_path / "f" / "kept.jsonl")
    assert json.loads(result.stdout)["kept"] == len(kept) > 0
    kept_samples = _samples(sorted((tmp_path / "f").glob("*.tar")))
    assert sorted(s["__key__"] for s in kept_samples) == sorted(r["id"] for r in kept)


def test_shard_defaults_come_from_slurm(monkeypatch):
    from tryon_cli.commands.build_triplets import parse_shard

    monkeypatch.delenv("SLURM_ARRAY_TASK_ID", raising=False)
    assert parse_shard(None) == (0, 1)
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "3")
    monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "8")
    assert parse_shard(None) == (3, 8) and parse_shard("1/2") == (1, 2)
    monkeypatch.setenv("SLURM_ARRAY_TASK_MIN", "1")  # --array=1-8
    assert parse_shard(None) == (2, 8)


def test_spot_check_sample_sizes():
    from tryon_cli.data.spot_check import spot_check_indices

    assert spot_check_indices(12, 0) == list(range(12))
    assert len(spot_check_indices(100, 0)) == 30
    assert len(spot_check_indices(1000, 0)) == 60 and len(spot_check_indices(1200, 0)) == 72
    assert spot_check_indices(1000, 1) != spot_check_indices(1000, 2)


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("chromium is not installed (apt-get install chromium)")


def test_spot_check_page_renders_in_headless_chromium(built, tmp_path):
    from tryon_cli.data.spot_check import PANEL_HEIGHT

    result = run_cli("filter", str(built), "-o", str(tmp_path / "f"), "-q", "--json")
    assert result.returncode == 0, result.stderr
    page = Path(json.loads(result.stdout)["spot_check"])
    sheets = sorted(page.parent.glob("sheet_*.png"))
    assert len(sheets) == len(COLOURS)
    import cv2

    assert all(cv2.imread(str(s)).shape[0] >= PANEL_HEIGHT for s in sheets)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    # Dump the DOM after a script has checked every picture decoded at its full height.
    script = ("<script>window.addEventListener('load',()=>{const imgs=[...document.images];"
              "document.body.dataset.loaded=imgs.filter(i=>i.complete&&i.naturalHeight>=%d).length;});</script>"
              % PANEL_HEIGHT)
    probe = page.parent / "probe.html"
    probe.write_text(page.read_text().replace("</body>", script + "</body>"))
    dom = subprocess.run([_chromium(), *flags, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f'data-loaded="{len(sheets)}"' in dom.stdout
    assert dom.stdout.count("class=\"decision\"") == len(sheets)
    assert ("kept" in dom.stdout) and "pose_oks" in dom.stdout and "seam" in dom.stdout
    shot = tmp_path / "page.png"
    subprocess.run([_chromium(), *flags, f"--screenshot={shot}", "--window-size=1400,1000", page.as_uri()],
                   capture_output=True, timeout=120)
    image = cv2.imread(str(shot))
    assert image is not None and image.std() > 10  # something was drawn, not a blank page


def test_ray_executor_gives_the_local_files_and_resumes_after_a_kill(viton, built, tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'tryon-cli[ray]')")
    out = tmp_path / "ray"
    command = [sys.executable, "-c", "from tryon_cli.app import main; main()", "build-triplets", str(viton),
               "-o", str(out), "-q", "--executor", "ray", "--workers", "2"]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = out / "manifest.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and (not manifest.exists() or len(manifest.read_text().splitlines()) < 1):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    first = _lines(manifest)
    assert 1 <= len(first) < len(COLOURS)
    stamps = {r["id"]: (out / r["files"]["input"]).stat().st_mtime_ns for r in first}
    result = run_cli("build-triplets", str(viton), "-o", str(out), "-q", "--json", "--executor", "ray",
                     "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert not any(noise in result.stderr for noise in ("streaming_executor", "core_worker", "Deprecat", "concurrency"))
    summary = json.loads(result.stdout)
    assert summary["already_done"] == len(first) and summary["built"] == len(COLOURS) - len(first)
    records = _lines(manifest)
    assert len({r["id"] for r in records}) == len(records) == len(COLOURS)
    assert all((out / r["files"]["input"]).stat().st_mtime_ns == stamps[r["id"]] for r in first)
    local = {r["id"]: r for r in _lines(built / "manifest.jsonl")}
    for record in records:
        for name in IMAGES:
            assert (out / record["files"][name]).read_bytes() == (built / local[record["id"]]["files"][name]).read_bytes()


def test_a_resumed_tar_shard_drops_the_cut_sample_and_carries_on(tmp_path):
    """A kill mid-sample leaves bytes after the last recorded sample: the next run cuts them off."""
    import tarfile

    from tryon_cli.data.store import TarShardWriter, read_blobs

    blobs = {name: f"{name} bytes".encode() * 50 for name in IMAGES}
    writer = TarShardWriter(tmp_path, "", [])
    done = [{"id": key, **writer.write(key, blobs, {"id": key})} for key in ("a" * 16, "b" * 16)]
    writer.close()
    with (tmp_path / "000000.tar").open("ab") as handle:
        handle.write(b"half a sample" * 100)  # what a SIGKILL leaves
    writer = TarShardWriter(tmp_path, "", done)
    done.append({"id": "c" * 16, **writer.write("c" * 16, blobs, {"id": "c" * 16})})
    writer.close()
    with tarfile.open(tmp_path / "000000.tar") as tar:
        names = tar.getnames()
    assert names == [f"{k * 16}.{n}" for k in "abc" for n in (*(f"{i}.png" for i in IMAGES), "json")]
    assert all(read_blobs(tmp_path, r)["input"] == blobs["input"] for r in done)
    assert [s["__key__"] for s in _samples([tmp_path / "000000.tar"])] == ["a" * 16, "b" * 16, "c" * 16]


def test_filter_on_ray_decides_like_the_local_filter(built, tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'tryon-cli[ray]')")
    decisions = {}
    for executor in ("local", "ray"):
        result = run_cli("filter", str(built), "-o", str(tmp_path / executor), "-q", "--json", "--executor", executor,
                         "--workers", "2")
        assert result.returncode == 0, result.stderr
        decisions[executor] = {r["id"]: (r["reasons"], r["scores"]) for name in ("kept.jsonl", "rejected.jsonl")
                               for r in _lines(tmp_path / executor / name)}
    assert len(decisions["ray"]) == len(COLOURS) and decisions["ray"] == decisions["local"]
    # The actors' processes end with the run: none is left holding a model (a closing mediapipe graph once hung them).
    deadline = time.time() + 30
    while _ray_workers("FilterActor") and time.time() < deadline:
        time.sleep(0.5)
    assert not _ray_workers("FilterActor")


def _ray_workers(actor: str) -> list[int]:
    """Process ids of live Ray map workers running `actor`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"({actor})" in (entry / "cmdline").read_text():
                found.append(int(entry.name))
        except OSError:
            continue
    return found
