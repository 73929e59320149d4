"""`tryon swap SOURCE... TARGET -o OUT`: put the face in SOURCE onto the face(s) in TARGET."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from tryon_cli.render.registry import EngineOptions, create_engine
from tryon_cli.errors import InputError
from tryon_cli.io.media import expand_image_inputs, read_image
from tryon_cli.faceswap.runner import SwapOptions, prepare_source, swap_frames
from tryon_cli.io.target_media import EncodeOptions, check_target, open_target

from .common import (DEBUG_OPTION, JSON_OPTION, OVERWRITE_OPTION, QUIET_OPTION, emit, progress_bar, read_paths,
                     reported_errors, stderr_console)


def _parse_target_face(value: str) -> str:
    if value in {"largest", "all"} or value.isdigit():
        return value
    raise InputError(f"--target-face must be 'largest', 'all' or a face number (0 = leftmost), not '{value}'")


def swap(
    sources: Optional[List[Path]] = typer.Argument(None, help="Source photo(s) or a folder of photos of one person; '-' reads paths from stdin."),
    target: Path = typer.Argument(..., help="Target video or image."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output file (default: TARGET's name + '_swapped' in the current folder)."),
    target_face: str = typer.Option("largest", help="Which faces to replace: largest, all, or a number (0 = leftmost)."),
    reference: Optional[Path] = typer.Option(None, help="Replace only the person in this photo."),
    start: Optional[float] = typer.Option(None, help="Start time in seconds (trim)."),
    end: Optional[float] = typer.Option(None, help="End time in seconds (trim)."),
    mouth_mask: bool = typer.Option(True, "--mouth-mask/--no-mouth-mask", help="Keep the target's mouth interior (teeth, tongue)."),
    occlusion: bool = typer.Option(True, "--occlusion/--no-occlusion", help="Keep hair, glasses and objects in front of the face."),
    smooth: float = typer.Option(0.5, min=0.0, max=1.0, help="Temporal smoothing strength, 0 (off) to 1."),
    use_3d: bool = typer.Option(True, "--3d/--2d", help="3D identity/expression split (--2d: naive warp onto the target's landmarks)."),
    colour_match: bool = typer.Option(True, "--colour-match/--no-colour-match", help="Match the source skin colour to the target's."),
    blend: str = typer.Option("multiband", help="Blending: multiband, feather or poisson."),
    engine: str = typer.Option("auto", help="Engine: auto, classical or diffusion."),
    checkpoint: Optional[str] = typer.Option(None, help="Diffusion checkpoint: folder, .safetensors file or cached Hugging Face id."),
    device: str = typer.Option("auto", help="Diffusion device: auto, cpu, cuda or mps."),
    steps: int = typer.Option(20, min=1, help="Diffusion denoising steps."),
    strength: float = typer.Option(0.35, min=0.0, max=1.0, help="Diffusion strength over the classical render."),
    allow_download: bool = typer.Option(False, "--allow-download", help="Let the diffusion engine fetch missing weights."),
    prompt: str = typer.Option("", help="Diffusion: text prompt (checkpoints with a text encoder)."),
    negative_prompt: str = typer.Option("", help="Diffusion: negative prompt (used when --guidance > 1)."),
    guidance: float = typer.Option(1.0, min=1.0, help="Diffusion: classifier-free guidance scale (1 = off, half the cost)."),
    resolution: int = typer.Option(512, min=32, help="Diffusion working size (long side of the face crop)."),
    window: int = typer.Option(8, min=1, help="Diffusion: frames per window."),
    overlap: int = typer.Option(2, min=0, help="Diffusion: frames shared by consecutive windows."),
    consistency: bool = typer.Option(True, "--consistency/--no-consistency", help="Diffusion: shared noise, cross-frame attention, latent blending."),
    dtype: str = typer.Option("auto", help="Diffusion dtype: auto (fp16 on GPU), fp32, fp16 or bf16."),
    cpu_offload: bool = typer.Option(False, "--cpu-offload", help="Diffusion: keep models on the CPU between uses."),
    attention_slicing: bool = typer.Option(False, "--attention-slicing", help="Diffusion: decode in slices to save memory."),
    codec: str = typer.Option("auto", help="Video codec (auto: H.264 for MP4/MOV/MKV, VP9 for WebM, MPEG-4 for AVI)."),
    crf: int = typer.Option(18, min=0, max=51, help="Constant rate factor (quality; lower is better)."),
    preset: str = typer.Option("veryfast", help="Encoder preset."),
    audio: bool = typer.Option(True, "--audio/--no-audio", help="Copy the target's audio track."),
    allow_partial: bool = typer.Option(False, "--allow-partial", help="Keep the frames of a damaged target video instead of failing."),
    seed: int = typer.Option(0, help="Random seed (diffusion noise)."),
    debug_dir: Optional[Path] = typer.Option(None, help="Write per-frame masks, landmark overlays and normal maps here."),
    overwrite: bool = OVERWRITE_OPTION,
    json_out: bool = JSON_OPTION,
    quiet: bool = QUIET_OPTION,
    debug: bool = DEBUG_OPTION,
) -> None:
    """Swap the face in SOURCE onto the face(s) in TARGET (video or image), 3D-aware, on CPU."""
    console = stderr_console(quiet)
    with reported_errors(debug, quiet):
        if not sources:
            raise InputError(f"the target is missing: give the source photo(s), then the target video or image "
                             f"(only {target} was given)")
        source_paths = expand_image_inputs(read_paths(sources))
        output = output or Path.cwd() / f"{target.stem}_swapped{target.suffix}"
        inputs = [*source_paths, *([reference] if reference is not None else [])]
        encode = EncodeOptions(codec=codec, crf=crf, preset=preset, keep_audio=audio, allow_partial=allow_partial)
        check_target(target, output, inputs, overwrite, encode)
        options = SwapOptions(
            target_face=_parse_target_face(target_face),
            mouth_mask=mouth_mask,
            occlusion=occlusion,
            smooth=smooth,
            use_3d=use_3d,
        )
        encoder = None
        if reference is not None:
            from tryon_cli.analysis.identity import DlibFaceEncoder

            encoder = DlibFaceEncoder()
            descriptor = encoder.encode(read_image(reference))
            if descriptor is None:
                raise InputError(f"{reference}: no face found in the reference photo")
            options = SwapOptions(**{**options.__dict__, "reference": descriptor})
        if debug_dir is not None:
            debug_dir.mkdir(parents=True, exist_ok=True)
        render_engine = create_engine(EngineOptions(
            name=engine, blend=blend, colour_match=colour_match, checkpoint=checkpoint, device=device,
            steps=steps, strength=strength, seed=seed, allow_download=allow_download, task="swap",
            resolution=resolution, window=window, overlap=overlap, consistency=consistency, dtype=dtype,
            cpu_offload=cpu_offload, attention_slicing=attention_slicing, prompt=prompt,
            negative_prompt=negative_prompt, guidance=guidance))
        console.print(f"[dim]engine: {render_engine.name}[/]")
        source = prepare_source([(p, read_image(p)) for p in source_paths])
        with progress_bar(quiet) as progress, open_target(
            target, output, overwrite=overwrite, extra_inputs=inputs, start=start, end=end, encode=encode
        ) as io:
            if hasattr(render_engine, "progress"):
                render_engine.progress = progress
            report = swap_frames(io.frames, source, render_engine, io.write, options, tracking=io.is_video,
                                 total=io.total, encoder=encoder, progress=progress, debug_dir=debug_dir)
        if report.swapped == 0:
            console.print(f"[yellow]warning:[/] no frame of {target} had a face to swap; the output is a copy")
        emit({"output": str(output), "engine": render_engine.name, **report.as_dict()}, json_out, str(output))
