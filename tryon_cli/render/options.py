"""What a command may say about the engine, declared once: the CLI's option group is built from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class EngineName(str, Enum):
    auto = "auto"
    classical = "classical"
    diffusion = "diffusion"


class Blend(str, Enum):
    multiband = "multiband"
    feather = "feather"
    poisson = "poisson"


class Eyes(str, Enum):
    """Whose eyes the classical swap shows: the target's eyeballs (iris and white: its gaze, glints and
    blinks in the same frame) inside the source's lids and eye shape (target, the default); the source's
    as photographed; the source's with its irises moving by the target's glances from where the photo
    has them (follow); or the source's with its irises moved to the target's gaze."""

    source = "source"
    follow = "follow"
    gaze = "gaze"
    target = "target"


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"
    mps = "mps"


class Dtype(str, Enum):
    auto = "auto"
    fp32 = "fp32"
    fp16 = "fp16"
    bf16 = "bf16"


@dataclass(frozen=True)
class ClassicalOptions:
    """The classical engine's choices."""

    blend: Blend = Blend.multiband
    colour_match: bool = True
    match_grain: bool = True  # blur a face sharper than the frame to its sharpness (render/classical/grain.py)
    target_creases: bool = False  # the forehead's middle band (expression creases) from the target frame (creases.py);
    # opt-in: removing a source's creases cost dlib's same-person rate (0.52 -> 0.24 on side_light -> talking_frontal)
    restore_detail: bool = True  # and sharpen a softer one: the target's fine skin detail, then unsharp (detail.py)
    grain: bool = False  # and grain a softer one (costs some identity and flicker: opt-in)
    relight: bool = False  # spherical-harmonics relight on the mesh's normals, before the colour match (relight.py)
    eyes: Eyes = Eyes.target  # target: its eyeballs in the source's lids; follow: the source's irises move by its glances; gaze: to its gaze (eyes.py)

    def __post_init__(self) -> None:
        object.__setattr__(self, "blend", Blend(self.blend))
        object.__setattr__(self, "eyes", Eyes(self.eyes))


@dataclass(frozen=True)
class DiffusionOptions:
    """The diffusion engine's choices (how it loads and samples)."""

    checkpoint: str | None = None
    device: Device = Device.auto
    dtype: Dtype = Dtype.auto
    steps: int = 20
    strength: float = 0.35
    guidance: float = 1.0
    seed: int = 0
    window: int = 8
    overlap: int = 2
    consistency: bool = True
    resolution: int = 512
    prompt: str = ""
    negative_prompt: str = ""
    cpu_offload: bool = False
    attention_slicing: bool = False
    allow_download: bool = False
    crop_margin: float = 0.35
    # identity for swaps (SD 1.5/SDXL UNets): IP-Adapter FaceID or InstantID weights, the insightface
    # pack that embeds the source face, or that embedding precomputed (.npy); None: the configured one
    ip_adapter: str | None = None
    face_pack: str | None = None
    face_embedding: str | None = None
    identity_scale: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "device", Device(self.device))
        object.__setattr__(self, "dtype", Dtype(self.dtype))
        if self.window < 1 or not 0 <= self.overlap < self.window:
            raise ValueError("--window must be at least 1 and --overlap between 0 and window - 1")


@dataclass(frozen=True)
class EngineOptions:
    """Which engine, and each engine's own options, nested."""

    name: EngineName = EngineName.auto
    classical: ClassicalOptions = field(default_factory=ClassicalOptions)
    diffusion: DiffusionOptions = field(default_factory=DiffusionOptions)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", EngineName(self.name))


# Per-task defaults: a swap refines the classical render lightly; a try-on paints the garment anew.
SWAP_DIFFUSION_DEFAULTS = DiffusionOptions()
TRYON_DIFFUSION_DEFAULTS = DiffusionOptions(steps=30, strength=1.0, resolution=768)
