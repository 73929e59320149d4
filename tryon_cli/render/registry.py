"""Engine selection: `classical`, `diffusion`, or `auto` (diffusion when a checkpoint is configured).

Every engine handed out is checked against the `Engine` protocol here, so a renderer that does not
keep the contract fails at construction, not halfway through a video.
"""

from __future__ import annotations

from dataclasses import replace

from ..config import resolve
from ..errors import ModelMissingError
from .classical.engine import ClassicalEngine
from .contract import Engine
from .options import EngineName, EngineOptions

CHECKPOINT_ENV = "TRYON_CHECKPOINT"


def _checked(engine: object) -> Engine:
    if not isinstance(engine, Engine):
        raise TypeError(f"{type(engine).__name__} does not implement the engine contract "
                        "(name, needs_normal_map, prepare, render_stream)")
    return engine


def create_engine(options: EngineOptions) -> Engine:
    """Build the engine a command asked for; ModelMissingError when diffusion has no checkpoint."""
    checkpoint = resolve("checkpoint", options.diffusion.checkpoint, CHECKPOINT_ENV)
    name = EngineName(options.name)
    classical = ClassicalEngine(options.classical)
    if name is EngineName.classical or (name is EngineName.auto and checkpoint.value is None):
        return _checked(classical)
    if checkpoint.value is None:
        raise ModelMissingError(
            "the diffusion engine is not configured: give a checkpoint with --checkpoint, the "
            f"{CHECKPOINT_ENV} environment variable, or 'checkpoint = ...' in the config file "
            "(see 'tryon models')"
        )
    from .diffusion.engine import DiffusionEngine

    settings = replace(options.diffusion, checkpoint=str(checkpoint.value))
    return _checked(DiffusionEngine.load(settings, classical))
