"""What the diffusion engine runs, and the error for a model that is not there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ...errors import ModelMissingError
from .family import UNET_INPAINTING, Family


@dataclass
class DiffusionComponents:
    """What the diffusion engine runs: passed in, never hidden."""

    unet: torch.nn.Module | None
    vae: torch.nn.Module
    scheduler: object
    text_encoder: torch.nn.Module | None = None
    tokenizer: object | None = None
    controlnet: torch.nn.Module | None = None
    source: str = ""
    skip_cross_attention: bool = False
    family: Family = UNET_INPAINTING
    pipeline: object | None = None  # FLUX families: the diffusers pipeline holding every component

    @property
    def in_channels(self) -> int:
        return int(self.unet.config.in_channels)

    @property
    def size_multiple(self) -> int:
        """Image sides must be multiples of this (VAE downsampling times the denoiser's own)."""
        if self.family.is_flux:
            return self.vae_scale * 2  # FLUX packs 2x2 latent patches into one token
        return self.vae_scale * self.latent_multiple

    @property
    def vae_scale(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def latent_multiple(self) -> int:
        """Latent sizes must be multiples of this for the UNet's down/up sampling."""
        return 2 ** (len(self.unet.config.block_out_channels) - 1)


def missing_model(what: str, value: str) -> ModelMissingError:
    from huggingface_hub.constants import HF_HUB_CACHE

    where = Path(value).expanduser().resolve()
    return ModelMissingError(
        f"{what} '{value}' not found: looked for a folder or file at {where} and for a Hugging Face id in "
        f"the local cache {HF_HUB_CACHE}; download it (e.g. huggingface-cli download <id>) or pass --allow-download"
    )
