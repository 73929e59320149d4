"""Engine selection: `classical`, `diffusion`, or `auto` (diffusion when a checkpoint is configured)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import resolve
from ..errors import InputError, ModelMissingError
from .classical.engine import ClassicalEngine
from .contract import Engine

ENGINES = ("auto", "classical", "diffusion")
CHECKPOINT_ENV = "TRYON_CHECKPOINT"


@dataclass(frozen=True)
class EngineOptions:
    """Everything a command may say about the engine."""

    name: str = "auto"
    blend: str = "multiband"
    colour_match: bool = True
    checkpoint: str | None = None
    device: str = "auto"
    dtype: str = "auto"
    steps: int = 20
    strength: float = 0.35
    guidance: float = 1.0
    seed: int = 0
    window: int = 8
    overlap: int = 2
    consistency: bool = True
    attention_slicing: bool = False
    cpu_offload: bool = False
    allow_download: bool = False
    task: str = "swap"
    mode: str = "mask"
    resolution: int = 512
    prompt: str = ""
    negative_prompt: str = ""


def create_engine(options: EngineOptions) -> Engine:
    """Build the engine a command asked for; ModelMissingError when diffusion has no checkpoint."""
    if options.name not in ENGINES:
        raise InputError(f"unknown engine '{options.name}' (use one of {', '.join(ENGINES)})")
    checkpoint = resolve("checkpoint", options.checkpoint, CHECKPOINT_ENV)
    if options.name == "classical" or (options.name == "auto" and checkpoint.value is None):
        return ClassicalEngine(blend=options.blend, colour_match=options.colour_match)
    if checkpoint.value is None:
        raise ModelMissingError(
            "the diffusion engine is not configured: give a checkpoint with --checkpoint, the "
            f"{CHECKPOINT_ENV} environment variable, or 'checkpoint = ...' in the config file "
            "(see 'tryon models')"
        )
    from .diffusion.engine import DiffusionEngine

    return DiffusionEngine.from_options(options, checkpoint.value,
                                        ClassicalEngine(blend=options.blend, colour_match=options.colour_match))
