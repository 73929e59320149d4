"""Option groups shared by several commands, declared once.

Typer has no option groups, so a group is a decorator: it appends the group's options to the
command's signature (what Typer reads) and hands the command one typed object built from them.
The engine group is generated from the engine's own option dataclasses, so a field renamed there is
renamed here too, and nothing is copied by reflection.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, fields, replace
from typing import Any, Callable, Optional

import typer

from tryon_cli.io.target_media import EncodeOptions
from tryon_cli.render.options import (Blend, ClassicalOptions, Eyes, Device, DiffusionOptions, Dtype, EngineName,
                                      EngineOptions)

TRAILING = ("overwrite", "json_out", "quiet", "debug")  # group options go before these in --help


@dataclass(frozen=True)
class RunFlags:
    """The flags every command that writes outputs shares."""

    overwrite: bool = False
    json_out: bool = False
    quiet: bool = False
    debug: bool = False


@dataclass(frozen=True)
class Flag:
    """How one dataclass field appears on the command line."""

    field: str
    help: str
    decls: tuple[str, ...] = ()
    annotation: Any = None
    limits: tuple[float | None, float | None] = (None, None)
    panel: str | None = None


CLASSICAL_FLAGS = (
    Flag("blend", "Blending of the classical render.", annotation=Blend),
    Flag("colour_match", "Match the source skin colour and lighting to the target's.",
         ("--colour-match/--no-colour-match",)),
    Flag("match_grain", "Blur a face clearly sharper than the frame around it to the frame's sharpness.",
         ("--match-grain/--no-match-grain",)),
    Flag("target_creases", "Expression creases (scowl, grimace, laugh lines) from the target frame, not the source "
         "photo: the skin's middle frequency band is the target's.", ("--target-creases/--no-target-creases",)),
    Flag("restore_detail", "Give a face clearly softer than the frame detail back: the target's fine skin detail, "
         "then a cored unsharp mask, up to the frame's sharpness.", ("--restore-detail/--no-restore-detail",)),
    Flag("grain", "Also grain a face clearly softer than the frame (a small or old photo); costs some identity "
         "and flicker.", ("--grain/--no-grain",)),
    Flag("eyes", "Eyes: target (the target's eyeballs, iris and white, inside the source's lids and eye shape: "
         "its gaze and blinks in the same frame), follow (the source's irises move by the target's glances, "
         "from where the photo has them; a dark, blurry or small photo's iris barely shows it), source (as "
         "photographed) or gaze (the source's irises look where the target looks; costs identity when the "
         "photo looks aside).",
         annotation=Eyes),
    Flag("relight", "Relight the face: spherical-harmonics lighting fitted on the mesh's normals, source's out, "
         "target's in.", ("--relight/--no-relight",)),
)
DIFFUSION_FLAGS = tuple(Flag(*spec, panel="Diffusion engine") for spec in (
    ("checkpoint", "Checkpoint: a diffusers folder, a .safetensors file or a cached Hugging Face id.", (),
     Optional[str]),
    ("device", "Device.", (), Device),
    ("dtype", "Weights dtype (auto: fp16 on GPU).", (), Dtype),
    ("steps", "Denoising steps.", (), int, (1, None)),
    ("strength", "Strength over the starting image (1: paint anew).", (), float, (0.0, 1.0)),
    ("guidance", "Guidance. SD/SDXL: classifier-free guidance with the negative prompt (1 = off; above 1 "
                 "each step runs twice). FLUX: the distilled guidance embedding, one pass at any value "
                 "(1 = the model card's: Fill 30, ControlNet 3.5, Kontext 2.5).", (), float, (1.0, None)),
    ("resolution", "Working size (long side of the crop).", (), int, (32, None)),
    ("window", "Frames per window.", (), int, (1, None)),
    ("overlap", "Frames shared by consecutive windows.", (), int, (0, None)),
    ("consistency", "Shared noise, cross-frame attention, latent blending.", ("--consistency/--no-consistency",)),
    ("prompt", "Text prompt (checkpoints with a text encoder)."),
    ("negative_prompt", "Negative prompt (SD/SDXL, when --guidance > 1; FLUX has none)."),
    ("cpu_offload", "Keep models on the CPU between uses.", ("--cpu-offload",)),
    ("attention_slicing", "Attention/VAE slicing to save memory.", ("--attention-slicing",)),
    ("allow_download", "Let the engine fetch missing weights.", ("--allow-download",)),
))
IDENTITY_FLAGS = tuple(Flag(*spec, panel="Diffusion engine") for spec in (
    ("ip_adapter", "IP-Adapter FaceID (ip-adapter-faceid_sd15.bin / _sdxl.bin) or InstantID (ip-adapter.bin) "
                   "weights: the source identity conditions the UNet (default: TRYON_IP_ADAPTER).", (),
     Optional[str]),
    ("face_pack", "insightface model pack folder (buffalo_l) that embeds the source face "
                  "(default: TRYON_INSIGHTFACE, ~/.insightface/models/buffalo_l).", (), Optional[str]),
    ("face_embedding", "The source's identity embedding precomputed (.npy, 512 floats); no pack needed.", (),
     Optional[str]),
    ("identity_scale", "Weight of the identity condition (IP-Adapter scale).", (), float, (0.0, None)),
))
SEED_FLAG = Flag("seed", "Random seed (diffusion noise, training jitter).")
ENCODE_FLAGS = (
    Flag("codec", "Video codec (auto: the container's own: H.264 for MP4/MOV/MKV, VP9 for WebM, MPEG-4 for AVI)."),
    Flag("crf", "Constant rate factor (quality; lower is better).", limits=(0, 51)),
    Flag("preset", "Encoder preset."),
    Flag("keep_audio", "Copy the input's audio track.", ("--audio/--no-audio",)),
    Flag("allow_partial", "Keep the frames of a damaged input video instead of failing.", ("--allow-partial",)),
)


def _annotation(flag: Flag, default: Any) -> Any:
    if flag.annotation is not None:
        return flag.annotation
    return type(default) if default is not None else Optional[str]


def _parameter(flag: Flag, default: Any) -> inspect.Parameter:
    decls = flag.decls or ("--" + flag.field.replace("_", "-"),)
    low, high = flag.limits
    option = typer.Option(default, *decls, help=flag.help, min=low, max=high, rich_help_panel=flag.panel,
                          show_default=not isinstance(default, bool) or "/" in decls[0])
    return inspect.Parameter(flag.field, inspect.Parameter.KEYWORD_ONLY, default=option,
                             annotation=_annotation(flag, default))


def option_group(target: str, flags: tuple[Flag, ...], defaults: dict[str, Any],
                 build: Callable[[dict[str, Any]], Any]) -> Callable[[Callable], Callable]:
    """Decorator: add `flags` to a command and pass `build(values)` as its `target` argument."""

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command, eval_str=True)
        own = [p for name, p in signature.parameters.items() if name != target]
        added = [_parameter(flag, defaults[flag.field]) for flag in flags]
        head = [p for p in own if p.name not in TRAILING]
        tail = [p for p in own if p.name in TRAILING]
        names = {flag.field for flag in flags}

        def wrapper(**kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in names}
            kwargs[target] = build(values)
            return command(**kwargs)

        wrapper.__name__, wrapper.__qualname__ = command.__name__, command.__qualname__
        wrapper.__doc__, wrapper.__module__ = command.__doc__, command.__module__
        parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in head + added + tail]
        wrapper.__signature__ = inspect.Signature(parameters)
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        return wrapper

    return decorate


def engine_options(diffusion_defaults: DiffusionOptions, classical: bool = True,
                   identity: bool = False) -> Callable[[Callable], Callable]:
    """The engine group: --engine, the classical engine's options, the diffusion engine's (with `identity`
    the swap's identity options too) and --seed.

    The command receives `engine_options: EngineOptions`.
    """
    engine_flag = Flag("engine", "Engine: auto (diffusion when a checkpoint is configured), classical or diffusion.",
                       ("--engine",), EngineName)
    group = ((engine_flag,) + (CLASSICAL_FLAGS if classical else ()) + DIFFUSION_FLAGS
             + (IDENTITY_FLAGS if identity else ()) + (SEED_FLAG,))
    base_classical = ClassicalOptions()
    defaults = {"engine": EngineName.auto,
                **{f.name: getattr(base_classical, f.name) for f in fields(ClassicalOptions)},
                **{f.name: getattr(diffusion_defaults, f.name) for f in fields(DiffusionOptions)}}

    def build(values: dict[str, Any]) -> EngineOptions:
        name = values.pop("engine")
        classical_values = {f.name: values.pop(f.name) for f in fields(ClassicalOptions) if f.name in values}
        return EngineOptions(name=name, classical=ClassicalOptions(**classical_values),
                             diffusion=replace(diffusion_defaults, **values))

    return option_group("engine_options", group, defaults, build)


RUN_FLAGS = (
    Flag("overwrite", "Replace outputs that already exist.", ("--overwrite",)),
    Flag("json_out", "Print one JSON object per result on stdout.", ("--json",)),
    Flag("quiet", "No progress or logs on stderr.", ("--quiet", "-q")),
    Flag("debug", "Show the traceback when something fails.", ("--debug",)),
)


def run_flags() -> Callable[[Callable], Callable]:
    """--overwrite, --json, -q and --debug; the command receives `flags: RunFlags`."""
    return option_group("flags", RUN_FLAGS, {f.field: False for f in RUN_FLAGS}, lambda given: RunFlags(**given))


def encode_options(defaults: EncodeOptions = EncodeOptions()) -> Callable[[Callable], Callable]:
    """The video-encoding group (--codec, --crf, --preset, --audio, --allow-partial); the command receives
    `encode`."""
    values = {f.field: getattr(defaults, f.field) for f in ENCODE_FLAGS}
    return option_group("encode", ENCODE_FLAGS, values, lambda given: replace(defaults, **given))
