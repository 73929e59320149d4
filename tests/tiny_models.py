"""Tiny diffusion components the tests build themselves: real classes, random weights, a few KB each."""

from __future__ import annotations

import json
from pathlib import Path

import torch

PROMPT_WORDS = ("a", "photo", "of", "face", "red", "blue", "person")


def awake_controlnet(controlnet):
    """A ControlNet whose zero convolutions are random: an untrained one adds exactly nothing, so its input
    would be invisible in the output."""
    with torch.no_grad():
        for module in [controlnet.controlnet_cond_embedding.conv_out, *controlnet.controlnet_down_blocks,
                       controlnet.controlnet_mid_block]:
            module.weight.normal_(0, 0.3)
    return controlnet.eval()


def sd_controlnet():
    """A ControlNet for the tiny SD 1.x UNet (cross-attention width 32)."""
    from diffusers import ControlNetModel

    torch.manual_seed(3)
    return awake_controlnet(ControlNetModel(
        in_channels=4, block_out_channels=(32, 64), layers_per_block=1, cross_attention_dim=32, attention_head_dim=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), conditioning_embedding_out_channels=(16, 32)))


def sdxl_controlnet():
    """A ControlNet for the tiny SDXL UNet: it takes the pooled text embedding and the time ids too."""
    from diffusers import ControlNetModel

    torch.manual_seed(3)
    return awake_controlnet(ControlNetModel(
        in_channels=4, block_out_channels=(32, 64), layers_per_block=1, cross_attention_dim=64,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), attention_head_dim=(2, 4), use_linear_projection=True,
        addition_embed_type="text_time", addition_time_embed_dim=8, transformer_layers_per_block=(1, 2),
        projection_class_embeddings_input_dim=80, conditioning_embedding_out_channels=(16, 32)))


def write_clip_tokenizer(folder: Path) -> int:
    """A hand-written BPE CLIP tokenizer for PROMPT_WORDS in `folder`/tokenizer; returns its vocabulary size."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "!": 2}
    for word in PROMPT_WORDS:
        vocab[f"{word}</w>"] = len(vocab)
    for char in sorted({c for w in PROMPT_WORDS for c in w}):
        vocab.setdefault(char, len(vocab))
        vocab.setdefault(f"{char}</w>", len(vocab))
    (folder / "tokenizer").mkdir(parents=True)
    (folder / "tokenizer" / "vocab.json").write_text(json.dumps(vocab))
    (folder / "tokenizer" / "merges.txt").write_text("#version: 0.2\n")
    CLIPTokenizer(str(folder / "tokenizer" / "vocab.json"), str(folder / "tokenizer" / "merges.txt"),
                  model_max_length=16).save_pretrained(folder / "tokenizer")
    return len(vocab)
