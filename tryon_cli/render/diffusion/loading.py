"""Loading diffusion components from a diffusers folder, a single .safetensors file or a cached Hub id.

Offline unless `allow_download`: a missing checkpoint is one ModelMissingError naming what was looked
for and where, and how to get it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ...errors import InputError, ModelMissingError
from ...models.catalogue import locate_pretrained

SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")


@dataclass
class DiffusionComponents:
    """What the diffusion engine runs: passed in, never hidden."""

    unet: torch.nn.Module
    vae: torch.nn.Module
    scheduler: object
    text_encoder: torch.nn.Module | None = None
    tokenizer: object | None = None
    controlnet: torch.nn.Module | None = None
    source: str = ""
    skip_cross_attention: bool = False

    @property
    def in_channels(self) -> int:
        return int(self.unet.config.in_channels)

    @property
    def vae_scale(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def latent_multiple(self) -> int:
        """Latent sizes must be multiples of this for the UNet's down/up sampling."""
        return 2 ** (len(self.unet.config.block_out_channels) - 1)


def resolve_device(name: str) -> torch.device:
    """auto: cuda, then mps, then cpu."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda was asked for, but no CUDA device is available")
    if name not in {"cpu", "cuda", "mps"}:
        raise InputError(f"unknown device '{name}' (use auto, cpu, cuda or mps)")
    return torch.device(name)


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """auto: fp16 on GPUs, fp32 on CPU."""
    table = {"fp32": torch.float32, "float32": torch.float32, "fp16": torch.float16, "float16": torch.float16,
             "bf16": torch.bfloat16, "bfloat16": torch.bfloat16}
    if name == "auto":
        return torch.float16 if device.type in {"cuda", "mps"} else torch.float32
    if name not in table:
        raise InputError(f"unknown dtype '{name}' (use auto, fp32, fp16 or bf16)")
    return table[name]


def _missing(what: str, value: str) -> ModelMissingError:
    from huggingface_hub.constants import HF_HUB_CACHE

    where = Path(value).expanduser().resolve()
    return ModelMissingError(
        f"{what} '{value}' not found: looked for a folder or file at {where} and for a Hugging Face id in "
        f"the local cache {HF_HUB_CACHE}; download it (e.g. huggingface-cli download <id>) or pass --allow-download"
    )


def _from_folder(path: Path, dtype: torch.dtype) -> DiffusionComponents:
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel

    for part in ("unet", "vae", "scheduler"):
        if not (path / part).is_dir():
            raise ModelMissingError(f"{path}: not a diffusers checkpoint folder (no '{part}/' inside)")
    unet = UNet2DConditionModel.from_pretrained(path, subfolder="unet", torch_dtype=dtype)
    vae = AutoencoderKL.from_pretrained(path, subfolder="vae", torch_dtype=dtype)
    scheduler = DDIMScheduler.from_pretrained(path, subfolder="scheduler")
    text_encoder = tokenizer = None
    if (path / "text_encoder").is_dir() and (path / "tokenizer").is_dir():
        from transformers import CLIPTextModel, CLIPTokenizer

        text_encoder = CLIPTextModel.from_pretrained(path, subfolder="text_encoder", torch_dtype=dtype)
        tokenizer = CLIPTokenizer.from_pretrained(path, subfolder="tokenizer")
    return DiffusionComponents(unet, vae, scheduler, text_encoder, tokenizer, source=str(path))


def _from_single_file(path: Path, dtype: torch.dtype, allow_download: bool) -> DiffusionComponents:
    from diffusers import DDIMScheduler, StableDiffusionInpaintPipeline

    try:
        pipe = StableDiffusionInpaintPipeline.from_single_file(str(path), torch_dtype=dtype,
                                                               local_files_only=not allow_download)
    except (OSError, ValueError) as error:
        raise ModelMissingError(
            f"{path}: cannot load the single-file checkpoint ({str(error).splitlines()[0]}); a single file also "
            "needs its base model's configuration in the Hugging Face cache, or pass --allow-download"
        ) from error
    scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
    return DiffusionComponents(pipe.unet, pipe.vae, scheduler, pipe.text_encoder, pipe.tokenizer, source=str(path))


def load_components(checkpoint: str, device: torch.device, dtype: torch.dtype, allow_download: bool = False,
                    controlnet: str | None = None) -> DiffusionComponents:
    """Load UNet, VAE, scheduler (DDIM, deterministic) and, where present, text encoder and ControlNet."""
    if not allow_download:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = locate_pretrained(checkpoint, allow_download)
    if path is None:
        raise _missing("diffusion checkpoint", checkpoint)
    try:
        if path.is_file():
            if path.suffix.lower() not in SINGLE_FILE_SUFFIXES:
                raise ModelMissingError(f"{path}: a single-file checkpoint must be .safetensors or .ckpt")
            components = _from_single_file(path, dtype, allow_download)
        else:
            components = _from_folder(path, dtype)
        if controlnet:
            from diffusers import ControlNetModel

            control_path = locate_pretrained(controlnet, allow_download)
            if control_path is None:
                raise _missing("ControlNet", controlnet)
            components.controlnet = ControlNetModel.from_pretrained(control_path, torch_dtype=dtype)
    except ModelMissingError:
        raise
    except (OSError, ValueError, KeyError) as error:
        raise ModelMissingError(f"{path}: cannot load the checkpoint ({str(error).splitlines()[0]})") from error
    for module in (components.unet, components.vae, components.text_encoder, components.controlnet):
        if module is not None:
            module.to(device).eval().requires_grad_(False)
    return components


def load_catvton_attention(components: DiffusionComponents, weights: str, allow_download: bool = False) -> None:
    """Load CatVTON's self-attention weights (the attn1 modules of every transformer block, in order).

    CatVTON has no text cross-attention: once its weights are in, cross-attention layers are skipped.
    """
    unet = components.unet
    from diffusers.models.attention import BasicTransformerBlock
    from safetensors.torch import load_file

    path = locate_pretrained(weights, allow_download)
    if path is None:
        raise _missing("CatVTON attention weights", weights)
    if path.is_dir():
        found = sorted(path.rglob("attention/model.safetensors")) or sorted(path.rglob("*.safetensors"))
        if not found:
            raise ModelMissingError(f"{path}: no CatVTON attention .safetensors inside")
        path = found[0]
    modules = torch.nn.ModuleList([m.attn1 for m in unet.modules() if isinstance(m, BasicTransformerBlock)])
    state = load_file(str(path))
    missing, unexpected = modules.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ModelMissingError(f"{path}: these are not CatVTON attention weights for this UNet "
                                f"({len(missing)} missing, {len(unexpected)} unexpected tensors)")
    components.skip_cross_attention = True


def load_controlnet(components: DiffusionComponents, controlnet: str, allow_download: bool = False) -> None:
    """Load a ControlNet beside the checkpoint's UNet, on the UNet's device and dtype."""
    from diffusers import ControlNetModel

    path = locate_pretrained(controlnet, allow_download)
    if path is None:
        raise _missing("ControlNet", controlnet)
    try:
        model = ControlNetModel.from_pretrained(path, torch_dtype=components.unet.dtype)
    except (OSError, ValueError, KeyError) as error:
        raise ModelMissingError(f"{path}: cannot load the ControlNet ({str(error).splitlines()[0]})") from error
    components.controlnet = model.to(components.unet.device).eval().requires_grad_(False)
