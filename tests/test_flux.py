"""FLUX families (Fill, ControlNet inpainting, Kontext) with tiny models built here, saved, and loaded
back through the real loader; prompt embeddings are zeros (the tiny checkpoints have no text encoders)."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from tiny_models import PROMPT_WORDS, write_clip_tokenizer
from tryon_cli.errors import ModelMissingError
from tryon_cli.render.contract import FaceTarget, GarmentConditions, SwapConditions
from tryon_cli.render.diffusion.engine import DiffusionEngine
from tryon_cli.render.diffusion.family import (FLUX_CONTROLNET, FLUX_FILL, FLUX_KONTEXT, UNET_INPAINTING,
                                               detect_family)
from tryon_cli.render.diffusion.loading import load_components
from tryon_cli.render.options import DiffusionOptions

LATENT_CHANNELS = 16
TRANSFORMER = dict(patch_size=1, num_layers=1, num_single_layers=1, attention_head_dim=16, num_attention_heads=2,
                   joint_attention_dim=32, pooled_projection_dim=32, axes_dims_rope=(4, 6, 6), guidance_embeds=True)


def _vae_and_scheduler(folder: Path) -> None:
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler

    torch.manual_seed(0)
    AutoencoderKL(block_out_channels=(16, 32), in_channels=3, out_channels=3, latent_channels=LATENT_CHANNELS,
                  down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                  norm_num_groups=8, sample_size=32, use_quant_conv=False, use_post_quant_conv=False,
                  shift_factor=0.0609, scaling_factor=1.5035).save_pretrained(folder / "vae")
    FlowMatchEulerDiscreteScheduler().save_pretrained(folder / "scheduler")


def build_tiny_flux(folder: Path, pipeline: str, index: bool = True) -> Path:
    """A FLUX checkpoint folder: one double and one single block, head dim 16, 16 latent channels."""
    from diffusers import FluxTransformer2DModel

    _vae_and_scheduler(folder)
    packed = LATENT_CHANNELS * 4  # 2x2 patches packed into one token
    vae_scale = 2
    in_channels = 2 * packed + 4 * vae_scale ** 2 if pipeline == "FluxFillPipeline" else packed
    torch.manual_seed(1)
    FluxTransformer2DModel(in_channels=in_channels, out_channels=packed, **TRANSFORMER).save_pretrained(
        folder / "transformer")
    if index:
        (folder / "model_index.json").write_text(json.dumps({"_class_name": pipeline}))
    return folder


def build_tiny_flux_controlnet(folder: Path) -> Path:
    from diffusers import FluxControlNetModel

    torch.manual_seed(2)
    model = FluxControlNetModel(in_channels=LATENT_CHANNELS * 4, **TRANSFORMER)
    with torch.no_grad():  # the condition's embedder and the output blocks start at zero: make them seen
        for block in [model.controlnet_x_embedder, *model.controlnet_blocks, *model.controlnet_single_blocks]:
            block.weight.normal_(0, 0.5)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def flux(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("flux")
    return {"fill": build_tiny_flux(root / "fill", "FluxFillPipeline"),
            "kontext": build_tiny_flux(root / "kontext", "FluxKontextPipeline"),
            "base": build_tiny_flux(root / "base", "FluxPipeline"),
            "controlnet": build_tiny_flux_controlnet(root / "controlnet")}


class UnchangedEngine:
    def render_one(self, item):
        return item.frame


def make_engine(checkpoint: Path, controlnet: Path | None = None, **settings) -> DiffusionEngine:
    device = torch.device("cpu")
    components = load_components(str(checkpoint), device, torch.float32,
                                 controlnet=str(controlnet) if controlnet else None)
    defaults = dict(steps=2, strength=1.0, window=2, overlap=0, resolution=32, seed=0)
    return DiffusionEngine(components, DiffusionOptions(**{**defaults, **settings}), UnchangedEngine(), device,
                           torch.float32)


def scene(frames: int = 2, size: int = 32):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, size=(size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size), np.uint8)
    mask[8:24, 8:24] = 255
    return [image] * frames, [mask] * frames


def swap(normal: np.ndarray | None = None) -> SwapConditions:
    face = FaceTarget(points=np.zeros((1, 2)), target_points=np.zeros((1, 2)), target_skin=None, normal_map=normal)
    return SwapConditions(source=None, faces=(face,))


def masked_change(frame, mask, out) -> float:
    return float(np.abs(out[mask > 0].astype(int) - frame[mask > 0].astype(int)).mean())


def test_family_is_read_from_the_files(flux, tmp_path):
    assert detect_family(flux["fill"]) is FLUX_FILL
    assert detect_family(flux["kontext"]) is FLUX_KONTEXT
    assert detect_family(flux["base"]) is FLUX_CONTROLNET
    # without model_index.json: Fill's transformer takes more channels than it returns
    assert detect_family(build_tiny_flux(tmp_path / "bare", "FluxFillPipeline", index=False)) is FLUX_FILL
    # single files: tensor names and shapes from the safetensors header
    for name, tensor, shape, family in [("fill.safetensors", "img_in.weight", [3072, 384], FLUX_FILL),
                                        ("flux1-dev.safetensors", "img_in.weight", [3072, 64], FLUX_CONTROLNET),
                                        ("sd.safetensors", "model.diffusion_model.input_blocks.0.0.weight",
                                         [320, 9, 3, 3], UNET_INPAINTING)]:
        header = json.dumps({tensor: {"dtype": "F32", "shape": shape, "data_offsets": [0, 0]}}).encode()
        (tmp_path / name).write_bytes(struct.pack("<Q", len(header)) + header)
        assert detect_family(tmp_path / name) is family, name


def test_fill_paints_the_masked_region_only_and_depends_on_the_seed(flux):
    frames, masks = scene()
    conditions = [swap()] * 2
    a = make_engine(flux["fill"], seed=1).render(frames, masks, conditions)
    b = make_engine(flux["fill"], seed=1).render(frames, masks, conditions)
    c = make_engine(flux["fill"], seed=2).render(frames, masks, conditions)
    for frame, mask, out in zip(frames, masks, a):
        np.testing.assert_array_equal(out[mask == 0], frame[mask == 0])
        assert masked_change(frame, mask, out) > 5
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert masked_change(c[0], masks[0], a[0]) > 1


def test_fill_output_comes_from_the_transformer(flux):
    frames, masks = scene()
    engine = make_engine(flux["fill"])
    plain = engine.render(frames, masks, [swap()] * 2)
    with torch.no_grad():
        engine.components.pipeline.transformer.proj_out.weight.zero_()
        engine.components.pipeline.transformer.proj_out.bias.zero_()
    zeroed = engine.render(frames, masks, [swap()] * 2)
    assert masked_change(plain[0], masks[0], zeroed[0]) > 1


def test_controlnet_conditioning_image_changes_the_output(flux):
    frames, masks = scene()
    engine = make_engine(flux["base"], controlnet=flux["controlnet"])
    assert engine.needs_normal_map
    flat = engine.render(frames, masks, [swap(np.full((32, 32, 3), 128, np.uint8))] * 2)
    tilted = engine.render(frames, masks, [swap(np.random.default_rng(3).integers(0, 255, (32, 32, 3), np.uint8))] * 2)
    for frame, mask, out in zip(frames, masks, tilted):
        np.testing.assert_array_equal(out[mask == 0], frame[mask == 0])
    assert masked_change(flat[0], masks[0], tilted[0]) > 1


def test_flux_base_without_a_controlnet_is_a_clear_error(flux):
    with pytest.raises(ModelMissingError, match="ControlNet.*TRYON_CONTROLNET"):
        load_components(str(flux["base"]), torch.device("cpu"), torch.float32)


def test_kontext_reference_garment_changes_the_output(flux):
    frames, masks = scene()

    def garment(seed):
        image = np.random.default_rng(seed).integers(0, 255, (40, 30, 3), np.uint8)
        return GarmentConditions(garment=image, garment_mask=np.full((40, 30), 255, np.uint8), warped=frames[0],
                                 warped_alpha=np.zeros((32, 32), np.float32), mode="mask-free")

    engine = make_engine(flux["kontext"])
    red, blue = (engine.render(frames, masks, [garment(seed)] * 2) for seed in (5, 6))
    for frame, mask, out in zip(frames, masks, red):
        np.testing.assert_array_equal(out[mask == 0], frame[mask == 0])
    assert masked_change(red[0], masks[0], blue[0]) > 0  # a dropped reference gives identical outputs


def test_progress_is_reported_per_step(flux):
    frames, masks = scene(3)
    calls = []
    engine = make_engine(flux["fill"], steps=3, window=3)
    from tryon_cli.render.contract import RenderItem

    items = [RenderItem(i, f, m, swap()) for i, (f, m) in enumerate(zip(frames, masks))]
    list(engine.render_stream(items, lambda label, done, total: calls.append((done, total))))
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_flux_cross_frame_attention_with_one_frame_equals_plain_and_frames_see_the_anchor():
    from diffusers.models.transformers.transformer_flux import FluxAttention, FluxAttnProcessor

    from tryon_cli.render.diffusion.flux_attention import FluxCrossFrameAttnProcessor

    torch.manual_seed(0)
    attention = FluxAttention(query_dim=32, heads=2, dim_head=16, added_kv_proj_dim=32)
    image, text = torch.randn(3, 8, 32), torch.randn(3, 4, 32)
    attention.set_processor(FluxAttnProcessor())
    plain = attention(image, text)
    attention.set_processor(FluxCrossFrameAttnProcessor(frames=1))
    one = [attention(image[i : i + 1], text[i : i + 1]) for i in range(3)]
    for i in range(3):
        torch.testing.assert_close(one[i][0], plain[0][i : i + 1], atol=1e-5, rtol=1e-5)
    attention.set_processor(FluxCrossFrameAttnProcessor(frames=3))
    crossed = attention(image, text)
    torch.testing.assert_close(crossed[0][0], plain[0][0], atol=1e-5, rtol=1e-5)  # frame 0 sees only itself
    assert not torch.allclose(crossed[0][2], plain[0][2], atol=1e-4)


def test_models_shows_the_family_pipeline_and_a_memory_estimate(flux, tmp_path, monkeypatch):
    from tryon_cli.models.catalogue import model_statuses

    monkeypatch.setenv("TRYON_CHECKPOINT", str(flux["fill"]))
    monkeypatch.setenv("TRYON_CONFIG", str(tmp_path / "c.toml"))
    details = next(s for s in model_statuses() if s.name == "diffusion inpainting checkpoint").details
    assert "family: flux-fill" in details and "pipeline: FluxFillPipeline" in details
    assert "at 512 px" in details and "at 1024 px" in details and "estimate" in details


def test_identity_adapters_are_refused_for_flux(flux, tmp_path, monkeypatch):
    from tryon_cli.render.diffusion.identity import load_identity

    monkeypatch.setenv("TRYON_CONFIG", str(tmp_path / "c.toml"))
    monkeypatch.delenv("TRYON_IP_ADAPTER", raising=False)
    components = load_components(str(flux["fill"]), torch.device("cpu"), torch.float32)
    assert load_identity(components, DiffusionOptions()) is None
    with pytest.raises(ModelMissingError, match="for SD 1.5/SDXL UNets.*flux-fill"):
        load_identity(components, DiffusionOptions(ip_adapter=str(tmp_path / "ip-adapter-faceid_sd15.bin")))
    monkeypatch.setenv("TRYON_IP_ADAPTER", str(tmp_path / "ip-adapter-faceid_sd15.bin"))
    with pytest.raises(ModelMissingError, match="for SD 1.5/SDXL UNets.*flux-fill"):
        load_identity(components, DiffusionOptions())


def test_cli_swap_through_flux_fill(astronaut, source_photo, flux, tmp_path):
    import cv2

    from conftest import run_cli
    from tryon_cli.io.media import read_image, write_image

    target = tmp_path / "astronaut.png"
    small = cv2.resize(astronaut, (192, 192))
    write_image(target, small)
    out, debug = tmp_path / "out.png", tmp_path / "debug"
    result = run_cli("swap", str(source_photo), str(target), "-o", str(out), "-q", "--json", "--engine", "diffusion",
                     "--checkpoint", str(flux["fill"]), "--steps", "2", "--resolution", "32", "--device", "cpu",
                     "--dtype", "fp32", "--seed", "3", "--debug-dir", str(debug))
    assert result.returncode == 0, result.stderr
    swapped, mask = read_image(out), read_image(debug / "000000_mask.png")[..., 0]
    outside = cv2.dilate(mask, np.ones((5, 5), np.uint8)) == 0
    np.testing.assert_array_equal(swapped[outside], small[outside])
    assert not np.array_equal(swapped[mask > 0], small[mask > 0])


def add_tiny_text_encoders(folder: Path) -> Path:
    """CLIP (pooled embedding) and T5 (token embeddings) text encoders and tokenizers, tiny, built here."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel, T5TokenizerFast

    vocab_size = write_clip_tokenizer(folder)
    torch.manual_seed(4)
    CLIPTextModel(CLIPTextConfig(hidden_size=TRANSFORMER["pooled_projection_dim"], intermediate_size=37,
                                 num_attention_heads=4, num_hidden_layers=1, vocab_size=vocab_size,
                                 max_position_embeddings=16, bos_token_id=0, eos_token_id=1, pad_token_id=1)
                  ).save_pretrained(folder / "text_encoder")
    # a sentencepiece-style unigram vocabulary
    pieces = ["<pad>", "</s>", "<unk>", "▁"] + [f"▁{w}" for w in PROMPT_WORDS]
    unigram = Tokenizer(models.Unigram([(p, -1.0) for p in pieces], unk_id=2))
    unigram.pre_tokenizer = pre_tokenizers.Metaspace()
    T5TokenizerFast(tokenizer_object=unigram, eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
                    extra_ids=0).save_pretrained(folder / "tokenizer_2")
    torch.manual_seed(5)
    T5EncoderModel(T5Config(vocab_size=len(pieces), d_model=TRANSFORMER["joint_attention_dim"], d_kv=8, d_ff=37,
                            num_layers=1, num_heads=4, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
                   ).save_pretrained(folder / "text_encoder_2")
    return folder


def test_the_prompt_reaches_the_flux_transformer(tmp_path):
    checkpoint = add_tiny_text_encoders(build_tiny_flux(tmp_path / "fill", "FluxFillPipeline"))
    frames, masks = scene()
    outputs = {}
    for prompt in ("a red face", "a blue face"):
        engine = make_engine(checkpoint, prompt=prompt)
        pipeline = engine.components.pipeline
        assert pipeline.text_encoder is not None and pipeline.text_encoder_2 is not None
        outputs[prompt] = engine.render(frames, masks, [swap()] * 2)
        np.testing.assert_array_equal(outputs[prompt][0][masks[0] == 0], frames[0][masks[0] == 0])
    assert masked_change(outputs["a red face"][0], masks[0], outputs["a blue face"][0]) > 0.5
