"""Cross-frame attention for FLUX transformers (joint text-image attention with rotary positions).

A window's frames are the pipeline's batch. Each frame's queries attend to its own tokens and to the
anchor frame's and the previous frame's keys and values (rotary positions already applied, so a
token of another frame sits at the same place as the token it corresponds to). With one frame every
key appears three times, which leaves the softmax weights, hence the output, unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _extend(tensor: torch.Tensor, frames: int) -> torch.Tensor:
    """(B, S, H, D) -> (B, 3S, H, D): own tokens, then the anchor frame's, then the previous frame's."""
    batch = tensor.shape[0]
    grouped = tensor.unflatten(0, (batch // frames, frames))
    anchor = grouped[:, :1].expand_as(grouped)
    previous = grouped[:, [max(i - 1, 0) for i in range(frames)]]
    return torch.cat([grouped, anchor, previous], dim=2).flatten(0, 1)


class FluxCrossFrameAttnProcessor:
    """FluxAttnProcessor with keys and values extended over the anchor and the previous frame."""

    def __init__(self, frames: int) -> None:
        self.frames = frames

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, image_rotary_emb=None):
        from diffusers.models.embeddings import apply_rotary_emb
        from diffusers.models.transformers.transformer_flux import FluxAttnProcessor, _get_qkv_projections

        frames = self.frames
        if attention_mask is not None or frames <= 1 or hidden_states.shape[0] % frames:
            return FluxAttnProcessor()(attn, hidden_states, encoder_hidden_states, attention_mask, image_rotary_emb)
        query, key, value, encoder_query, encoder_key, encoder_value = _get_qkv_projections(
            attn, hidden_states, encoder_hidden_states)
        query, key, value = (t.unflatten(-1, (-1, attn.head_dim)) for t in (query, key, value))
        query, key = attn.norm_q(query), attn.norm_k(key)
        if attn.added_kv_proj_dim is not None:
            encoder_query, encoder_key, encoder_value = (
                t.unflatten(-1, (-1, attn.head_dim)) for t in (encoder_query, encoder_key, encoder_value))
            query = torch.cat([attn.norm_added_q(encoder_query), query], dim=1)
            key = torch.cat([attn.norm_added_k(encoder_key), key], dim=1)
            value = torch.cat([encoder_value, value], dim=1)
        if image_rotary_emb is not None:
            query = apply_rotary_emb(query, image_rotary_emb, sequence_dim=1)
            key = apply_rotary_emb(key, image_rotary_emb, sequence_dim=1)
        key, value = _extend(key, frames), _extend(value, frames)
        out = F.scaled_dot_product_attention(query.transpose(1, 2), key.transpose(1, 2), value.transpose(1, 2))
        out = out.transpose(1, 2).flatten(2, 3).to(query.dtype)
        if encoder_hidden_states is None:
            return out
        text, image = out.split_with_sizes([encoder_hidden_states.shape[1], out.shape[1] - encoder_hidden_states.shape[1]],
                                           dim=1)
        return attn.to_out[1](attn.to_out[0](image.contiguous())), attn.to_add_out(text.contiguous())


def set_flux_video_attention(model, frames: int) -> None:
    """Cross-frame attention on every attention module of a FLUX transformer or ControlNet (0: plain)."""
    from diffusers.models.transformers.transformer_flux import FluxAttnProcessor

    processors = {name: FluxCrossFrameAttnProcessor(frames) if frames > 1 else FluxAttnProcessor()
                  for name in model.attn_processors}
    model.set_attn_processor(processors)
