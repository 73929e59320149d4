"""An estimate of the GPU memory a checkpoint needs, from its parameter count and the activations.

Parameters are counted from the safetensors headers (no weights are read). Activations are a rough
model: the denoiser's working set (tokens x hidden width x a few dozen live tensors) plus the VAE
decoder at full resolution. The figure is an estimate for planning, not a measurement.
"""

from __future__ import annotations

import json
import struct
from math import prod
from pathlib import Path

from .family import Family, detect_family

BF16_BYTES = 2
DENOISER_LIVE_TENSORS = 32  # activations alive at once in one transformer/UNet block, in hidden-width units
VAE_LIVE_TENSORS = 6        # full-resolution feature maps alive at once in the VAE decoder's last block
GIB = 2 ** 30


def _parameters(files: list[Path]) -> int:
    total = 0
    for path in files:
        with open(path, "rb") as handle:
            header = json.loads(handle.read(struct.unpack("<Q", handle.read(8))[0]))
        total += sum(prod(v["shape"]) for k, v in header.items() if k != "__metadata__")
    return total


def _config(path: Path, part: str) -> dict:
    file = path / part / "config.json"
    return json.loads(file.read_text()) if file.is_file() else {}


def estimate_gib(path: Path, size: int, family: Family | None = None) -> float:
    """Estimated GiB to run the checkpoint at `size` x `size` pixels in bf16, batch 1."""
    family = family or detect_family(path)
    files = [path] if path.is_file() else sorted(path.rglob("*.safetensors"))
    weights = _parameters(files) * BF16_BYTES
    if family.is_flux:
        config = _config(path, "transformer") if path.is_dir() else {}
        hidden = config.get("num_attention_heads", 24) * config.get("attention_head_dim", 128)
        tokens = (size // 16) ** 2 + 512  # 2x2-packed latent tokens at 1/8 scale, plus T5 text tokens
        vae_width = 128
    else:
        config = _config(path, "unet") if path.is_dir() else {}
        hidden = max(config.get("block_out_channels", [320, 640, 1280, 1280])[:1] or [320])
        tokens = (size // 8) ** 2  # the UNet's widest attention runs at 1/8 scale
        vae_width = 128
    denoiser = tokens * hidden * BF16_BYTES * DENOISER_LIVE_TENSORS
    vae = size * size * vae_width * BF16_BYTES * VAE_LIVE_TENSORS
    return (weights + denoiser + vae) / GIB


def describe(path: Path) -> dict[str, str]:
    """Family, pipeline and memory estimates at 512 and 1024 px for `tryon models`."""
    family = detect_family(path)
    if path.is_file() and path.suffix.lower() != ".safetensors":
        return {"family": family.name, "pipeline": family.pipeline,
                "memory": "unknown (a .ckpt has no header to count parameters from)"}
    return {"family": family.name, "pipeline": family.pipeline,
            "memory": f"~{estimate_gib(path, 512, family):.1f} GiB at 512 px, "
                      f"~{estimate_gib(path, 1024, family):.1f} GiB at 1024 px (bf16, estimate)"}
