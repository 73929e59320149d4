"""Loading a FLUX family checkpoint as its diffusers pipeline (folder, single file, or cached Hub id).

Text encoders and tokenizers are optional: without them the pipeline runs on zero prompt embeddings
(unconditional), which is what the try-on and swap conditions need; with them the prompt is encoded
once per engine.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ...errors import ModelMissingError
from ...models.catalogue import locate_pretrained
from .family import FLUX_CONTROLNET, FLUX_FILL, FLUX_KONTEXT, Family
from .components import DiffusionComponents, missing_model

CONTROLNET_HOW_TO = ("configure one with the 'controlnet' setting (TRYON_CONTROLNET, or controlnet = ... in the config file), "
                     "e.g. huggingface-cli download "
                     "alimama-creative/FLUX.1-dev-Controlnet-Inpainting-Beta")


def _pipeline_class(family: Family):
    from diffusers import FluxControlNetInpaintPipeline, FluxFillPipeline, FluxKontextPipeline

    return {FLUX_FILL: FluxFillPipeline, FLUX_CONTROLNET: FluxControlNetInpaintPipeline,
            FLUX_KONTEXT: FluxKontextPipeline}[family]


def _optional(path: Path, subfolder: str, loader, **kwargs):
    return loader.from_pretrained(path, subfolder=subfolder, **kwargs) if (path / subfolder).is_dir() else None


def _from_folder(path: Path, dtype: torch.dtype) -> dict:
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxTransformer2DModel
    from transformers import CLIPTextModel, CLIPTokenizer, T5EncoderModel, T5TokenizerFast

    for part in ("transformer", "vae", "scheduler"):
        if not (path / part).is_dir():
            raise ModelMissingError(f"{path}: not a FLUX checkpoint folder (no '{part}/' inside)")
    parts = {
        "transformer": FluxTransformer2DModel.from_pretrained(path, subfolder="transformer", torch_dtype=dtype),
        "vae": AutoencoderKL.from_pretrained(path, subfolder="vae", torch_dtype=dtype),
        "scheduler": FlowMatchEulerDiscreteScheduler.from_pretrained(path, subfolder="scheduler"),
        "text_encoder": _optional(path, "text_encoder", CLIPTextModel, torch_dtype=dtype),
        "tokenizer": _optional(path, "tokenizer", CLIPTokenizer),
        "text_encoder_2": _optional(path, "text_encoder_2", T5EncoderModel, torch_dtype=dtype),
        "tokenizer_2": _optional(path, "tokenizer_2", T5TokenizerFast),
    }
    return parts


def _from_single_file(path: Path, family: Family, dtype: torch.dtype, allow_download: bool):
    try:
        return _pipeline_class(family).from_single_file(str(path), torch_dtype=dtype,
                                                        local_files_only=not allow_download)
    except (OSError, ValueError) as error:
        raise ModelMissingError(
            f"{path}: cannot load the single-file FLUX checkpoint ({str(error).splitlines()[0]}); a single file "
            "also needs its base model's configuration and text encoders in the Hugging Face cache "
            "(huggingface-cli download black-forest-labs/FLUX.1-dev), or pass --allow-download"
        ) from error


def load_flux_controlnet(value: str | None, dtype: torch.dtype, allow_download: bool):
    """The inpainting ControlNet a FLUX base needs (one, or several as a multi-ControlNet: 'a,b')."""
    from diffusers import FluxControlNetModel, FluxMultiControlNetModel

    if not value:
        raise ModelMissingError(f"a FLUX base checkpoint inpaints through a ControlNet, and none is configured: "
                                f"{CONTROLNET_HOW_TO}")
    models = []
    for name in value.split(","):
        path = locate_pretrained(name.strip(), allow_download)
        if path is None:
            raise missing_model("FLUX ControlNet", name)
        try:
            models.append(FluxControlNetModel.from_pretrained(path, torch_dtype=dtype))
        except (OSError, ValueError, KeyError) as error:
            raise ModelMissingError(f"{path}: cannot load the FLUX ControlNet ({str(error).splitlines()[0]})") \
                from error
    return models[0] if len(models) == 1 else FluxMultiControlNetModel(models)


def load_flux(path: Path, family: Family, device: torch.device, dtype: torch.dtype, allow_download: bool,
              controlnet: str | None, offload: bool) -> DiffusionComponents:
    """The family's pipeline, on `device` (or with accelerate's model offload onto it)."""
    try:
        if path.is_file():
            pipeline = _from_single_file(path, family, dtype, allow_download)
        else:
            parts = _from_folder(path, dtype)
            if family is FLUX_CONTROLNET:
                parts["controlnet"] = load_flux_controlnet(controlnet, dtype, allow_download)
            pipeline = _pipeline_class(family)(**parts)
    except ModelMissingError:
        raise
    except (OSError, ValueError, KeyError) as error:
        raise ModelMissingError(f"{path}: cannot load the FLUX checkpoint ({str(error).splitlines()[0]})") from error
    for module in pipeline.components.values():
        if isinstance(module, torch.nn.Module):
            module.eval().requires_grad_(False)
    if offload and device.type == "cuda":
        pipeline.enable_model_cpu_offload(device=device)  # accelerate: each model on the GPU only while it runs
    else:
        pipeline.to(device)
    pipeline.set_progress_bar_config(disable=True)
    return DiffusionComponents(unet=None, vae=pipeline.vae, scheduler=pipeline.scheduler,
                               text_encoder=pipeline.text_encoder, tokenizer=pipeline.tokenizer,
                               controlnet=getattr(pipeline, "controlnet", None), source=str(path), family=family,
                               pipeline=pipeline)
