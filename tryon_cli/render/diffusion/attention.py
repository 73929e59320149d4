"""Attention processors for video consistency (cross-frame) and CatVTON (no cross-attention)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _project_out(attn, hidden_states: torch.Tensor, residual: torch.Tensor, shape: tuple) -> torch.Tensor:
    hidden_states = attn.to_out[1](attn.to_out[0](hidden_states))
    if len(shape) == 4:
        batch, channels, height, width = shape
        hidden_states = hidden_states.transpose(-1, -2).reshape(batch, channels, height, width)
    if attn.residual_connection:
        hidden_states = hidden_states + residual
    return hidden_states / attn.rescale_output_factor


class CrossFrameAttnProcessor:
    """Self-attention whose keys and values also hold an anchor frame's and the previous frame's.

    The batch is `groups x frames` (groups: classifier-free guidance halves). Frame i attends to
    itself, frame `anchor`, and frame i-1 (frame 0 to itself). With one frame this is plain
    attention: every key appears three times, which leaves the softmax weights unchanged.
    """

    def __init__(self, frames: int, anchor: int = 0) -> None:
        self.frames = frames
        self.anchor = anchor

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kwargs):
        if encoder_hidden_states is not None:
            raise ValueError("CrossFrameAttnProcessor is for self-attention layers only")
        residual = hidden_states
        shape = tuple(hidden_states.shape)
        if hidden_states.ndim == 4:
            batch, channels, height, width = shape
            hidden_states = hidden_states.view(batch, channels, height * width).transpose(1, 2)
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        batch, tokens, channels = hidden_states.shape
        frames = self.frames if batch % self.frames == 0 else batch
        grouped = hidden_states.view(batch // frames, frames, tokens, channels)
        anchor = grouped[:, self.anchor : self.anchor + 1].expand(-1, frames, -1, -1)
        previous = grouped[:, [max(i - 1, 0) for i in range(frames)]]
        context = torch.cat([grouped, anchor, previous], dim=2).reshape(batch, 3 * tokens, channels)
        query, key, value = attn.to_q(hidden_states), attn.to_k(context), attn.to_v(context)
        head_dim = key.shape[-1] // attn.heads
        query = query.view(batch, -1, attn.heads, head_dim).transpose(1, 2)
        key = key.view(batch, -1, attn.heads, head_dim).transpose(1, 2)
        value = value.view(batch, -1, attn.heads, head_dim).transpose(1, 2)
        out = F.scaled_dot_product_attention(query, key, value)
        out = out.transpose(1, 2).reshape(batch, -1, attn.heads * head_dim).to(query.dtype)
        return _project_out(attn, out, residual, shape)


class SkipCrossAttnProcessor:
    """CatVTON drops text cross-attention: the layer returns its input unchanged."""

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args, **kwargs):
        return hidden_states


def set_video_attention(unet, frames: int, anchor: int = 0, skip_cross: bool = False) -> None:
    """Cross-frame self-attention in every transformer block; optionally no cross-attention.

    Cross-attention processors that carry an IP-Adapter's weights (identity) are kept as they are.
    """
    from diffusers.models.attention_processor import AttnProcessor2_0, IPAdapterAttnProcessor, IPAdapterAttnProcessor2_0

    processors = {}
    for name, current in unet.attn_processors.items():
        if name.endswith("attn1.processor"):
            processors[name] = CrossFrameAttnProcessor(frames, anchor) if frames > 0 else AttnProcessor2_0()
        elif isinstance(current, (IPAdapterAttnProcessor, IPAdapterAttnProcessor2_0)):
            processors[name] = current
        else:
            processors[name] = SkipCrossAttnProcessor() if skip_cross else AttnProcessor2_0()
    unet.set_attn_processor(processors)
