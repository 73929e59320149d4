"""Batch runs: a folder (or a list on stdin) of targets, one output each, resumable, failures isolated."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import run_cli
from test_tryon import tshirt
from tryon_cli.batch import BatchItem, Cancelled, plan_batch, run_batch
from tryon_cli.errors import InputError
from tryon_cli.io.media import read_image, write_image


@pytest.fixture
def targets(tmp_path, astronaut) -> Path:
    folder = tmp_path / "targets"
    folder.mkdir()
    write_image(folder / "a.png", cv2.resize(astronaut, (256, 256)))
    write_image(folder / "b.png", cv2.resize(np.fliplr(astronaut), (256, 256)))
    return folder


def test_swap_over_a_folder_isolates_a_bad_target_and_resumes(targets, source_photo, tmp_path):
    (targets / "c.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    result = run_cli("swap", str(source_photo), str(targets), "-o", str(out), "--json", "-q")
    assert result.returncode == 1, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    by_target = {Path(line["target"]).name: line for line in lines}
    assert by_target["a.png"]["frames_swapped"] == 1 and by_target["b.png"]["frames_swapped"] == 1
    assert by_target["c.png"]["output"] is None and "c.png" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    swapped = read_image(out / "a.png")
    assert not np.array_equal(swapped, read_image(targets / "a.png"))

    (targets / "c.png").unlink()
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = run_cli("swap", str(source_photo), str(targets), "-o", str(out), "--json", "-q")
    assert again.returncode == 0, again.stderr
    assert all(json.loads(line).get("skipped") == "already done" for line in again.stdout.splitlines())
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_two_workers_give_the_same_outputs_as_one(targets, source_photo, tmp_path):
    outputs = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        result = run_cli("swap", str(source_photo), str(targets), "-o", str(out), "-q", "--workers", str(workers))
        assert result.returncode == 0, result.stderr
        assert sorted(result.stdout.split()) == sorted(str(out / n) for n in ("a.png", "b.png"))
        outputs[workers] = {p.name: read_image(p) for p in out.iterdir()}
    assert outputs[1].keys() == outputs[2].keys() == {"a.png", "b.png"}
    for name in outputs[1]:
        np.testing.assert_array_equal(outputs[1][name], outputs[2][name])


def test_tryon_targets_from_stdin(targets, tmp_path):
    garment = tmp_path / "shirt.png"
    write_image(garment, tshirt())
    out = tmp_path / "dressed"
    paths = "".join(f"{p}\n" for p in sorted(targets.iterdir()))
    result = run_cli("tryon", "-", str(garment), "-o", str(out), "-q", "--json", stdin=paths)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    assert all(json.loads(line)["frames_rendered"] == 1 for line in result.stdout.splitlines())


def test_a_batch_without_an_output_folder_is_bad_usage(targets, source_photo):
    result = run_cli("swap", str(source_photo), str(targets), "-q")
    assert result.returncode == 2 and "output folder" in result.stderr


def test_plan_refuses_clashing_names_and_the_targets_own_folder(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    with pytest.raises(InputError, match="would both write"):
        plan_batch([tmp_path / "x" / "v.mp4", tmp_path / "y" / "v.mp4"], tmp_path / "out", False)
    with pytest.raises(InputError, match="holds the targets"):
        plan_batch([tmp_path / "x" / "v.mp4"], tmp_path / "x", False)


@pytest.mark.parametrize("workers", [1, 3])
def test_run_batch_records_failures_and_does_every_item(workers, tmp_path):
    items = [BatchItem(tmp_path / f"{i}.mp4", tmp_path / "out" / f"{i}.mp4") for i in range(6)]

    def make_work(cancelled: threading.Event):
        def work(item: BatchItem) -> dict:
            if item.target.stem == "3":
                raise InputError(f"{item.target}: broken")
            return {"n": int(item.target.stem)}
        return work

    summary = run_batch(items, make_work, workers)
    assert sorted(r["n"] for _, r in summary.done) == [0, 1, 2, 4, 5]
    assert [(i.target.stem, reason) for i, reason in summary.failed] == [("3", f"{tmp_path / '3.mp4'}: broken")]


def test_cancelled_workers_stop_taking_items(tmp_path):
    items = [BatchItem(tmp_path / f"{i}.mp4", tmp_path / f"o{i}.mp4") for i in range(4)]
    seen: list[str] = []

    def make_work(cancelled: threading.Event):
        def work(item: BatchItem) -> dict:
            seen.append(item.target.stem)
            cancelled.set()  # as Ctrl-C does
            raise Cancelled()
        return work

    summary = run_batch(items, make_work, 1)
    assert seen == ["0"] and not summary.done and not summary.failed
