"""Segment Anything (SAM): the current garment's region from keypoint prompts, when a checkpoint is given.

The architecture (ViT-B/L/H or another size) is read from the checkpoint's tensors. segment_anything
imports torchvision: install the torchvision that matches your torch.
"""

from __future__ import annotations

import numpy as np
import torch

from ..analysis import body as bp
from ..analysis.body import Body
from ..errors import ModelMissingError
from ..models.catalogue import locate_pretrained



def load_sam(checkpoint: str, device: str = "cpu"):
    """A SamPredictor for the checkpoint file; ModelMissingError naming the file and how to get it."""
    path = locate_pretrained(checkpoint)
    if path is None or not path.is_file():
        raise ModelMissingError(f"SAM checkpoint '{checkpoint}' not found: download sam_vit_b_01ec64.pth from the "
                                "segment-anything repository and pass its path (--sam, TRYON_SAM or 'sam = ...')")
    try:
        from segment_anything import SamPredictor
        from segment_anything.build_sam import _build_sam
    except ImportError as error:
        raise ModelMissingError(f"segment_anything cannot be imported ({error}); install segment-anything and the "
                                "torchvision that matches your torch") from error
    state = torch.load(path, map_location="cpu", weights_only=True)
    key = "image_encoder.patch_embed.proj.weight"
    if key not in state:
        raise ModelMissingError(f"{path}: not a SAM checkpoint (no {key})")
    width = int(state[key].shape[0])
    depth = len({k.split(".")[2] for k in state if k.startswith("image_encoder.blocks.")})
    # relative position tables: (2 * window - 1, head_dim); global-attention blocks span the whole 64x64 grid
    tables = [state[f"image_encoder.blocks.{i}.attn.rel_pos_h"] for i in range(depth)]
    heads = max(width // int(tables[0].shape[1]), 1)
    global_blocks = [i for i, table in enumerate(tables) if table.shape[0] > 2 * 14 - 1]
    model = _build_sam(encoder_embed_dim=width, encoder_depth=depth, encoder_num_heads=heads,
                       encoder_global_attn_indexes=global_blocks, checkpoint=None)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ModelMissingError(f"{path}: the SAM checkpoint does not fit ({str(error).splitlines()[1].strip()})") \
            from error
    return SamPredictor(model.to(device).eval())


def sam_garment_region(predictor, image: np.ndarray, body: Body, category: str) -> np.ndarray | None:
    """The garment region SAM finds from the body's keypoints (positive on the garment, negative on face
    and hands); None without keypoints."""
    if category in ("upper", "dress"):
        quad = body.visible((bp.LEFT_SHOULDER, bp.RIGHT_SHOULDER, bp.RIGHT_HIP, bp.LEFT_HIP))
    else:
        quad = body.visible((bp.LEFT_HIP, bp.RIGHT_HIP, bp.RIGHT_KNEE, bp.LEFT_KNEE))
    if len(quad) < 4:
        return None
    centre = quad.mean(axis=0)
    positive = np.concatenate([centre[None], centre + 0.5 * (quad - centre)])
    negative = [p for p in (body.visible((bp.NOSE,)), *(h[:1] for h in body.hands)) if len(p)]
    points = np.concatenate([positive, *negative]) if negative else positive
    labels = np.array([1] * len(positive) + [0] * (len(points) - len(positive)))
    predictor.set_image(image)
    with torch.no_grad():
        masks, scores, _ = predictor.predict(point_coords=points.astype(np.float32), point_labels=labels,
                                             multimask_output=True)
    return np.where(masks[int(np.argmax(scores))], 255, 0).astype(np.uint8)


def configured_sam(option: str | None):
    """A SAM predictor when a checkpoint is given or configured, else None (GrabCut is used)."""
    from ..models.catalogue import configured

    setting = configured("sam").setting(option)
    return load_sam(setting.value) if setting.value is not None else None
