"""`tryon filter MANIFEST`: score every triplet, keep the good ones, and lay out a spot-check sheet."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from tryon_cli.data.filters import FilterThresholds, TripletChecker, contact_row, spot_check_indices
from tryon_cli.io.media import write_image
from tryon_cli.io.outputs import write_text_atomic
from tryon_cli.data.triplets import read_manifests

from .common import DEBUG_OPTION, JSON_OPTION, QUIET_OPTION, emit, progress_bar, reported_errors


def filter_command(
    manifest: Path = typer.Argument(..., help="A manifest.jsonl, or the build folder (all its manifest*.jsonl)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder for kept.jsonl, rejected.jsonl, spot-check/ (default: beside the manifest, filtered/)."),
    min_pose_oks: float = typer.Option(0.6, help="Pose: least keypoint similarity (OKS) original vs repainted."),
    max_texture_distance: float = typer.Option(0.55, help="Texture: most garment-photo vs worn-garment distance."),
    max_face_distance: float = typer.Option(0.35, help="Face: most dlib descriptor distance original vs repainted."),
    max_landmark_drift: float = typer.Option(0.06, help="Face: most mean landmark move, in eye distances."),
    min_sharpness: float = typer.Option(20.0, help="Sanity: least Laplacian variance of the repainted image."),
    clip: Optional[str] = typer.Option(None, help="CLIP model for the pose check (default: TRYON_CLIP or the config file; none: keypoints only)."),
    min_clip_similarity: float = typer.Option(0.82, help="Pose: least CLIP image similarity original vs repainted (with a CLIP model)."),
    dists: Optional[str] = typer.Option(None, help="DISTS weights folder for the texture check (default: TRYON_DISTS or the config file; none: colour/gradient distance)."),
    max_dists: float = typer.Option(0.25, help="Texture: most DISTS between garment photo and worn garment (with DISTS weights)."),
    spot_check_seed: int = typer.Option(0, help="Seed for choosing the spot-check items (30 of every 500)."),
    json_out: bool = JSON_OPTION,
    quiet: bool = QUIET_OPTION,
    debug: bool = DEBUG_OPTION,
) -> None:
    """Pose, texture, face and sanity checks with thresholds; every rejection records its reasons."""
    with reported_errors(debug):
        records = read_manifests(manifest)
        root = manifest if manifest.is_dir() else manifest.parent
        output = output or root / "filtered"
        (output / "spot-check").mkdir(parents=True, exist_ok=True)
        thresholds = FilterThresholds(min_pose_oks=min_pose_oks, max_texture_distance=max_texture_distance,
                                      max_face_distance=max_face_distance, max_landmark_drift=max_landmark_drift,
                                      min_sharpness=min_sharpness, min_clip_similarity=min_clip_similarity,
                                      max_dists=max_dists)
        from tryon_cli.models.catalogue import configured

        clip_setting = configured("clip").setting(clip)
        similarity = None
        if clip_setting.value is not None:
            from tryon_cli.data.clip_similarity import ClipImageSimilarity

            similarity = ClipImageSimilarity(clip_setting.value)
        dists_setting = configured("dists").setting(dists)
        dists_model = None
        if dists_setting.value is not None:
            from tryon_cli.data.dists import load_dists

            dists_model = load_dists(dists_setting.value)
        checker = TripletChecker(thresholds, similarity, dists_model)
        kept, rejected = [], []
        try:
            with progress_bar(quiet) as progress:
                for i, record in enumerate(records):
                    scores, reasons = checker.check(record, root)
                    (rejected if reasons else kept).append({**record, "scores": scores, "reasons": reasons})
                    progress("filter", i + 1, len(records))
        finally:
            checker.close()
        write_text_atomic(output / "kept.jsonl", "".join(json.dumps(r) + "\n" for r in kept))
        write_text_atomic(output / "rejected.jsonl", "".join(json.dumps(r) + "\n" for r in rejected))
        chosen = spot_check_indices(len(records), spot_check_seed)
        verdicts = {r["id"]: r for r in kept + rejected}
        rows, entries = [], []
        for n, index in enumerate(chosen):
            record = records[index]
            verdict = verdicts[record["id"]]
            rows.append(contact_row(root, record))
            entries.append(f"<tr><td>{html.escape(record['id'])}</td><td>{'kept' if not verdict.get('reasons') else 'rejected'}"
                           f"</td><td>{html.escape('; '.join(verdict.get('reasons', [])))}</td>"
                           f"<td><img src='sheet_{n // 10:03d}.png' loading='lazy'></td></tr>")
            if len(rows) == 10 or n == len(chosen) - 1:
                width = max(r.shape[1] for r in rows)
                padded = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
                write_image(output / "spot-check" / f"sheet_{n // 10:03d}.png", np.concatenate(padded))
                rows = []
        page = ("<html><head><meta charset='utf-8'><title>tryon spot check</title></head><body>"
                "<h1>Spot check: original, repainted, garment, mask</h1><p>Look at hands, ears and jewellery.</p>"
                "<table border=1>" + "".join(entries) + "</table></body></html>")
        write_text_atomic(output / "spot-check" / "index.html", page)
        emit({"kept": len(kept), "rejected": len(rejected), "output": str(output),
              "spot_check": str(output / "spot-check" / "index.html")}, json_out, str(output / "kept.jsonl"))
