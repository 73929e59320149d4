"""`tryon filter MANIFEST`: score every triplet, keep the good ones, and lay out a spot-check sheet."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional

import typer

from tryon_cli.data.filtering import make_checker, run_filter
from tryon_cli.data.filters import FilterThresholds
from tryon_cli.data.repaint_check import RepaintThresholds

from .build_triplets import Executor
from .common import DEBUG_OPTION, OVERWRITE_OPTION, QUIET_OPTION, emit, progress_bar, reported_errors, stderr_console


def filter_command(
    manifest: Path = typer.Argument(..., help="A manifest (.jsonl or .parquet), or the build folder (all its manifest*.jsonl); files or webdataset layout."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder for kept.jsonl, rejected.jsonl, spot-check/ (and kept *.tar for webdataset; default: beside the manifest, filtered/)."),
    min_pose_oks: float = typer.Option(0.6, help="Pose: least keypoint similarity (OKS) original vs repainted."),
    max_texture_distance: float = typer.Option(0.55, help="Texture: most garment-photo vs worn-garment distance."),
    max_face_distance: float = typer.Option(0.35, help="Face: most dlib descriptor distance original vs repainted."),
    max_landmark_drift: float = typer.Option(0.06, help="Face: most mean landmark move, in eye distances."),
    min_sharpness: float = typer.Option(20.0, help="Sanity: least Laplacian variance of the repainted image."),
    max_seam: float = typer.Option(RepaintThresholds.max_seam, help="Repaint: most gradient energy along the mask border against inside/outside."),
    min_blur_ratio: float = typer.Option(RepaintThresholds.min_blur_ratio, help="Repaint: least detail inside vs outside the mask, relative to the original."),
    min_noise_ratio: float = typer.Option(RepaintThresholds.min_noise_ratio, help="Repaint: least noise inside vs outside the mask, relative to the original."),
    max_leftover: float = typer.Option(RepaintThresholds.max_leftover, help="Repaint: most share of the mask still showing the original garment."),
    clip: Optional[str] = typer.Option(None, help="CLIP model for the pose check (default: TRYON_CLIP or the config file; none: keypoints only)."),
    min_clip_similarity: float = typer.Option(0.82, help="Pose: least CLIP image similarity original vs repainted (with a CLIP model)."),
    dists: Optional[str] = typer.Option(None, help="DISTS weights folder for the texture check (default: TRYON_DISTS or the config file; none: colour/gradient distance)."),
    max_dists: float = typer.Option(0.25, help="Texture: most DISTS between garment photo and worn garment (with DISTS weights)."),
    spot_check_seed: int = typer.Option(0, help="Seed for choosing the spot-check items (30 of every 500, at least 30)."),
    executor: Executor = typer.Option(Executor.local, help="local, or ray (Ray Data actors; pip install 'tryon-cli[ray]')."),
    workers: int = typer.Option(1, min=1, help="Ray actors (with --executor ray)."),
    ray_address: Optional[str] = typer.Option(None, metavar="ADDR", help="Ray cluster to join (default: RAY_ADDRESS, else a local Ray)."),
    overwrite: bool = OVERWRITE_OPTION,
    json_out: bool = typer.Option(False, "--json", help="Print the run's summary (kept, rejected, bad_lines, output, spot_check, warnings) as one JSON object on stdout."),
    quiet: bool = QUIET_OPTION,
    debug: bool = DEBUG_OPTION,
) -> None:
    """Pose, texture, face, sanity and repaint-quality checks with thresholds; every rejection records its reasons."""
    with reported_errors(debug):
        thresholds = FilterThresholds(min_pose_oks=min_pose_oks, max_texture_distance=max_texture_distance,
                                      max_face_distance=max_face_distance, max_landmark_drift=max_landmark_drift,
                                      min_sharpness=min_sharpness, min_clip_similarity=min_clip_similarity,
                                      max_dists=max_dists,
                                      repaint=RepaintThresholds(max_seam, min_blur_ratio, min_noise_ratio, max_leftover))
        from tryon_cli.models.catalogue import configured

        recipe = functools.partial(make_checker, thresholds, configured("clip").setting(clip).value,
                                   configured("dists").setting(dists).value)
        with progress_bar(quiet) as progress:
            summary = run_filter(manifest, output, recipe, overwrite, executor.value, workers, ray_address,
                                 spot_check_seed, progress)
        for warning in summary.warnings:
            stderr_console(quiet).print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
        emit(summary.as_dict(), json_out, str(Path(summary.output) / "kept.jsonl"))
