"""`tryon swap SOURCE... TARGET -o OUT`: put the face in SOURCE onto the face(s) in TARGET."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, List, Optional

import typer

from tryon_cli.batch import BatchItem
from tryon_cli.errors import InputError
from tryon_cli.colour import is_colourless
from tryon_cli.faceswap.options import SwapOptions
from tryon_cli.faceswap.runner import swap_frames
from tryon_cli.faceswap.source import CLEAN_KINDS, DEFAULT_CLEAN, prepare_source
from tryon_cli.io.media import expand_image_inputs, read_image
from tryon_cli.io.target_media import EncodeOptions, check_target, open_target
from tryon_cli.masks.face import FACE_REGIONS, check_regions
from tryon_cli.render.options import SWAP_DIFFUSION_DEFAULTS, EngineOptions
from tryon_cli.render.registry import create_engine

from .batch import cancellable, debug_folder, is_batch, run_batch_command
from .common import emit, progress_bar, read_paths, reported_errors, stderr_console
from .options import RunFlags, encode_options, engine_options, run_flags

if TYPE_CHECKING:
    from rich.console import Console

    from tryon_cli.analysis.parsing import FaceParser


def _parse_regions(value: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in value.split(",") if part.strip())
    try:
        return check_regions(names)
    except ValueError as error:
        raise InputError(f"--regions: {error}") from None


def _load_parser(size: int, console: Console) -> FaceParser | None:
    """The face parser, or None (said once) when it is not installed."""
    from tryon_cli.analysis.parsing import FaceParser
    from tryon_cli.errors import ModelMissingError

    try:
        return FaceParser.load(size=size)
    except ModelMissingError as error:
        console.print(f"[yellow]warning:[/] {error}; masks come from the skin-colour model")
        return None


def _parse_target_face(value: str) -> str:
    if value in {"largest", "all"} or value.isdigit():
        return value
    raise InputError(f"--target-face must be 'largest', 'all' or a face number (0 = leftmost), not '{value}'")


@engine_options(SWAP_DIFFUSION_DEFAULTS, identity=True)
@encode_options()
@run_flags()
def swap(
    engine_options: EngineOptions,
    encode: EncodeOptions,
    flags: RunFlags,
    sources: Optional[List[Path]] = typer.Argument(None, metavar="SOURCE", help="Source photo(s) or a folder of photos of one person; '-' reads paths from stdin.", show_default=False),
    target: Optional[Path] = typer.Argument(None, metavar="TARGET", help="Target video or image; a folder of them, or '-' for their paths on stdin (a batch).", show_default=False),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Output file (default: TARGET's name + '_swapped' in the current folder); for a batch, the output folder."),
    target_face: str = typer.Option("largest", help="Which faces to replace: largest, all, or a number (0 = leftmost)."),
    reference: Optional[Path] = typer.Option(None, help="Replace only the person in this photo."),
    start: Optional[float] = typer.Option(None, help="Start time in seconds (trim)."),
    end: Optional[float] = typer.Option(None, help="End time in seconds (trim)."),
    mouth_mask: bool = typer.Option(True, "--mouth-mask/--no-mouth-mask", help="Keep the target's mouth interior (teeth, tongue)."),
    occlusion: bool = typer.Option(True, "--occlusion/--no-occlusion", help="Keep hair, glasses and objects in front of the face."),
    shave: bool = typer.Option(True, "--shave/--no-shave", help="A target whose chin is bearded has the beard below the swapped face's chin filled with the skin round it (the swap region ends at the face's outline; the goatee stayed under a beardless source)."),
    smooth: float = typer.Option(0.5, min=0.0, max=1.0, help="Temporal smoothing strength, 0 (off) to 1."),
    use_3d: bool = typer.Option(True, "--3d/--2d", help="3D identity/expression split (--2d: naive warp onto the target's landmarks)."),
    min_face: int = typer.Option(24, min=8, help="Smallest face to find and swap: the face box's width in pixels."),
    debug_dir: Optional[Path] = typer.Option(None, help="Write per-frame masks, landmark overlays, normal maps and faces.json (faces found, bridged, swapped per frame) here."),
    neutralise: bool = typer.Option(True, "--neutralise/--no-neutralise", help="Remove the source photos' expression and head turn (morphable model, mirrored fill); several photos: the best one per frame."),
    chroma_weight: bool = typer.Option(True, "--chroma-weight/--no-chroma-weight", help="Weigh skin colour by chroma, so grey beards, grey hair and a black-and-white source do not drive the colour match."),
    workers: int = typer.Option(1, min=1, help="Targets swapped at once when TARGET is a folder or '-'."),
    parsing: bool = typer.Option(False, "--parsing/--no-parsing", help="Masks from the face parser: hair, hands and the glasses' frame stay the target's (opt-in: with the target's glasses kept, dlib's same-person rate falls); default: the skin-colour model."),
    clean_source: Optional[bool] = typer.Option(None, "--clean-source/--no-clean-source", help="Clean the source photos with the face parser: hair over the face never pasted (a brow or eye under it mirrored from the other side, the rest left to the target), hands, objects and the mouth's inside never pasted, the glasses' frame painted over (the eyes behind the lenses kept; thin or blurry frames the parser misses found as lines round the eyes); without the parser, the skin-colour model. Default: hair and glasses (objects cost dlib's same-person rate on the grid); --no-clean-source: none.", show_default=False),
    delight: bool = typer.Option(False, "--delight/--no-delight", help="Divide each source photo's own lighting out of its face (spherical harmonics fitted on its mesh's normals), so a side light's dark half-face is not pasted; the target's lighting is applied in the render (opt-in: it cost same-person on some sources)."),
    even_light: bool = typer.Option(False, "--even-light/--no-even-light", help="Even out a source photo lit hard from one side: the part of its shading that differs between mirrored points of the face (fitted on the mesh's normals) is divided out, the face's own shading kept (opt-in: it cost dlib's same-person rate against the side-lit photo)."),
    identity_tolerance: float = typer.Option(0.0, min=0.0, max=10.0, help="Neutralise the source photos' and the target's expression only beyond this many standard deviations of the morphable model's prior (the mouth's opening wholly): the model's identity bases barely span mouth width, lip height and chin length, so full neutralising sets them to the mean and the target's take their place. 0 (default): neutralise wholly."),
    regions: str = typer.Option(",".join(FACE_REGIONS), help=f"Face parts to swap, comma-separated ({', '.join(FACE_REGIONS)}); the others stay the target's (needs --parsing)."),
) -> None:
    """Swap the face in SOURCE onto the face(s) in TARGET (video or image), 3D-aware, on CPU."""
    with reported_errors(flags.debug, flags.quiet):
        console = stderr_console(flags.quiet)
        if target is None:
            raise InputError("missing SOURCE and TARGET: give the source photo(s), then the target video or image")
        if not sources:
            raise InputError(f"missing TARGET: {target} is the only path given; give the source photo(s), then "
                             "the target video or image")
        if is_batch(target) and str(target) == "-" and any(str(s) == "-" for s in sources):
            raise InputError("'-' can read the sources or the targets from stdin, not both")
        source_paths = expand_image_inputs(read_paths(sources))
        inputs = source_paths + ([reference] if reference else [])
        if not is_batch(target):
            output = output or Path.cwd() / f"{target.stem}_swapped{target.suffix}"
            check_target(target, output, inputs, flags.overwrite, encode)
        reference_descriptor = None
        if reference is not None:
            from tryon_cli.analysis.identity import DlibFaceEncoder

            reference_descriptor = DlibFaceEncoder().encode(read_image(reference))
            if reference_descriptor is None:
                raise InputError(f"{reference}: no face found in the reference photo")
        options = SwapOptions(target_face=_parse_target_face(target_face), reference_descriptor=reference_descriptor,
                              mouth_mask=mouth_mask, occlusion=occlusion, shave=shave, smooth=smooth, use_3d=use_3d,
                              min_face=min_face, neutralise=neutralise, parsing=parsing,
                              identity_tolerance=identity_tolerance,
                              regions=_parse_regions(regions))
        if not parsing and options.regions != FACE_REGIONS:
            raise InputError("--regions needs the face parser; add --parsing")
        clean = CLEAN_KINDS if clean_source else () if clean_source is False else DEFAULT_CLEAN
        loaded_parser = _load_parser(options.parse_size, console) if parsing or clean else None
        parser = loaded_parser if parsing else None
        if parsing and parser is None and options.regions != FACE_REGIONS:
            raise InputError("--regions needs the face parser, which is not installed (python -m tryon_cli.models.fetch)")
        source = prepare_source([(p, read_image(p)) for p in source_paths], neutralise=neutralise and use_3d,
                                parser=loaded_parser if clean else None, chroma_weighted=chroma_weight,
                                delight=delight, clean=clean, tolerance=identity_tolerance, even_light=even_light)
        if chroma_weight and is_colourless(source.skin_stats):
            console.print("[yellow]warning:[/] the source photo has (almost) no colour, as a black-and-white photo: "
                          "the face takes the target's skin tone")

        def make_work(cancelled: threading.Event | None = None) -> Callable[[BatchItem], dict]:
            """One worker's engine and encoder, and the swap of one target with them."""
            render_engine = create_engine(engine_options)
            if parser is not None and render_engine.name == "classical":
                import torch

                # The swap's stages already keep every core busy; torch's own thread pool on top of them
                # made one parse 10 to 15 times slower (0.07 s -> 1 s at 256 px on two cores).
                torch.set_num_threads(1)
            encoder = None
            if reference is not None:
                from tryon_cli.analysis.identity import DlibFaceEncoder

                encoder = DlibFaceEncoder()

            def work(item: BatchItem) -> dict:
                frames_dir = debug_folder(debug_dir, item, is_batch(target))
                label = f"{item.target.name}: " if is_batch(target) else ""
                with progress_bar(flags.quiet, label) as progress, open_target(
                    item.target, item.output, overwrite=flags.overwrite, extra_inputs=inputs, start=start, end=end,
                    encode=encode,
                ) as io:
                    write = cancellable(io.write, cancelled)
                    report = swap_frames(io.frames, source, render_engine, write, options, tracking=io.is_video,
                                         total=io.total, encoder=encoder, progress=progress, debug_dir=frames_dir,
                                         parser=parser)
                if report.swapped == 0:
                    console.print(f"[yellow]warning:[/] no frame of {item.target} had a face to swap; the output "
                                  "is a copy")
                return {"output": str(item.output), "engine": render_engine.name, **report.as_dict()}

            return work

        if is_batch(target):
            run_batch_command(read_paths([target]), output, flags, workers, make_work)
            return
        result = make_work()(BatchItem(target, output))
        emit(result, flags.json_out, str(output))
