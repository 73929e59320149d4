"""CLIP image similarity (transformers CLIPModel from a local folder or the Hugging Face cache)."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ModelMissingError
from ..models.catalogue import locate_pretrained


class ClipImageSimilarity:
    """Cosine similarity of two images' CLIP embeddings."""

    def __init__(self, model: str, device: str = "cpu") -> None:
        path = locate_pretrained(model)
        if path is None:
            raise ModelMissingError(f"CLIP model '{model}' not found: pass a folder or a cached Hugging Face id, e.g. "
                                    "huggingface-cli download openai/clip-vit-base-patch32")
        from transformers import CLIPImageProcessor, CLIPModel

        try:
            self.model = CLIPModel.from_pretrained(path).to(device).eval()
            self.processor = CLIPImageProcessor.from_pretrained(path)
        except (OSError, ValueError) as error:
            raise ModelMissingError(f"{path}: cannot load the CLIP model ({str(error).splitlines()[0]})") from error
        self.device = device

    def __call__(self, a: np.ndarray, b: np.ndarray) -> float:
        inputs = self.processor(images=[a, b], return_tensors="pt")
        with torch.no_grad():
            features = self.model.get_image_features(pixel_values=inputs["pixel_values"].to(self.device))
        if not isinstance(features, torch.Tensor):
            features = features.pooler_output if hasattr(features, "pooler_output") else features[0]
        features = torch.nn.functional.normalize(features.float(), dim=-1)
        return float(features[0] @ features[1])
