"""Which model family a checkpoint is, read from its files (never from a flag).

A diffusers folder says it in `model_index.json` (`_class_name`) and in its transformer or UNet
config; a single file says it in its tensor names and shapes (read from the safetensors header only).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from ...errors import ModelMissingError

FLUX_FILL_IN_CHANNELS = 384  # 64 packed image channels + 64 packed masked-image + 256 packed mask


@dataclass(frozen=True)
class Family:
    """A model family: its name, the diffusers pipeline that runs it, and its denoiser's kind."""

    name: str
    pipeline: str
    denoiser: str  # "unet" or "transformer"
    description: str

    @property
    def is_flux(self) -> bool:
        return self.denoiser == "transformer"


UNET_INPAINTING = Family("unet-inpainting", "own loop (9-channel UNet)", "unet",
                         "SD 1.5 / SDXL inpainting, CatVTON")
UNET_CONCAT = Family("unet-concat", "own loop (8-channel UNet)", "unet", "instruct-pix2pix style, mask-free try-on")
UNET_PLAIN = Family("unet-plain", "own loop (4-channel UNet, blended latents)", "unet", "text-to-image UNet")
FLUX_FILL = Family("flux-fill", "FluxFillPipeline", "transformer", "FLUX.1 Fill (mask channel)")
FLUX_CONTROLNET = Family("flux-controlnet-inpainting", "FluxControlNetInpaintPipeline", "transformer",
                         "FLUX base + inpainting ControlNet")
FLUX_KONTEXT = Family("flux-kontext", "FluxKontextPipeline", "transformer", "FLUX.1 Kontext (image editing)")
FAMILIES = (UNET_INPAINTING, UNET_CONCAT, UNET_PLAIN, FLUX_FILL, FLUX_CONTROLNET, FLUX_KONTEXT)
_UNET_BY_CHANNELS = {9: UNET_INPAINTING, 8: UNET_CONCAT, 4: UNET_PLAIN}


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ModelMissingError(f"{path}: unreadable ({error})") from error


def _unet_family(channels: int, where: Path) -> Family:
    if channels not in _UNET_BY_CHANNELS:
        raise ModelMissingError(f"{where}: unsupported UNet with {channels} input channels (expected 4, 8 or 9)")
    return _UNET_BY_CHANNELS[channels]


def _flux_family(pipeline_class: str, in_channels: int, out_channels: int | None) -> Family:
    """Fill's transformer takes more channels than it returns (masked image and mask ride along)."""
    if "Kontext" in pipeline_class:
        return FLUX_KONTEXT
    if "Fill" in pipeline_class or in_channels != (out_channels or in_channels):
        return FLUX_FILL
    return FLUX_CONTROLNET  # a FLUX base: inpainting goes through a ControlNet


def family_of_folder(path: Path) -> Family:
    """A diffusers folder's family from model_index.json and the transformer/UNet config."""
    index = _json(path / "model_index.json") if (path / "model_index.json").is_file() else {}
    pipeline_class = str(index.get("_class_name", ""))
    if (path / "transformer" / "config.json").is_file():
        config = _json(path / "transformer" / "config.json")
        if "Flux" not in str(config.get("_class_name", "Flux")) and "Flux" not in pipeline_class:
            raise ModelMissingError(f"{path}: transformer {config.get('_class_name')} is not a FLUX transformer")
        return _flux_family(pipeline_class, int(config.get("in_channels", 64)), config.get("out_channels"))
    if (path / "unet" / "config.json").is_file():
        return _unet_family(int(_json(path / "unet" / "config.json").get("in_channels", 4)), path)
    raise ModelMissingError(f"{path}: not a diffusers checkpoint folder (no 'unet/' or 'transformer/' inside)")


def _safetensors_header(path: Path) -> dict:
    with open(path, "rb") as handle:
        size = struct.unpack("<Q", handle.read(8))[0]
        return json.loads(handle.read(size))


def family_of_file(path: Path) -> Family:
    """A single file's family from its tensor names (.ckpt files are taken as SD inpainting)."""
    if path.suffix.lower() != ".safetensors":
        return UNET_INPAINTING
    try:
        header = _safetensors_header(path)
    except (OSError, ValueError, struct.error) as error:
        raise ModelMissingError(f"{path}: not a readable .safetensors file ({error})") from error
    for prefix in ("", "model.diffusion_model."):
        image_in = header.get(f"{prefix}img_in.weight") or header.get(f"{prefix}x_embedder.weight")
        if image_in:  # FLUX: original (img_in) or diffusers (x_embedder) tensor names
            if image_in["shape"][1] == FLUX_FILL_IN_CHANNELS:
                return FLUX_FILL
            # Kontext's tensors are a FLUX base's; a single file cannot say more than its name does
            return FLUX_KONTEXT if "kontext" in path.name.lower() else FLUX_CONTROLNET
    first = header.get("model.diffusion_model.input_blocks.0.0.weight") or header.get("conv_in.weight")
    if first:
        return _unet_family(int(first["shape"][1]), path)
    raise ModelMissingError(f"{path}: neither a FLUX transformer nor a Stable Diffusion UNet inside")


def detect_family(path: Path) -> Family:
    """The family of a checkpoint folder or single file."""
    return family_of_file(path) if path.is_file() else family_of_folder(path)
