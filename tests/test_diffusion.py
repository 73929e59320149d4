"""The diffusion engine with tiny components built here, saved, and loaded back through the real loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch

from conftest import run_cli
from tiny_models import sd_controlnet, sdxl_controlnet, write_clip_tokenizer
from tryon_cli.render.diffusion.attention import CrossFrameAttnProcessor
from tryon_cli.render.diffusion.engine import DiffusionEngine
from tryon_cli.render.options import DiffusionOptions, EngineOptions
from tryon_cli.render.contract import GarmentConditions, SwapConditions
from tryon_cli.render.diffusion.loading import load_catvton_attention, load_components
from tryon_cli.render.registry import create_engine
from tryon_cli.render.diffusion.windows import LatentBlender, match_statistics
from tryon_cli.errors import ModelMissingError


def build_tiny_checkpoint(folder: Path, in_channels: int) -> Path:
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel

    torch.manual_seed(0)
    UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=in_channels, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32, attention_head_dim=8,
    ).save_pretrained(folder / "unet")
    AutoencoderKL(
        block_out_channels=(32, 64), in_channels=3, out_channels=3, latent_channels=4, sample_size=32,
        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
    ).save_pretrained(folder / "vae")
    DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, clip_sample=False,
                  set_alpha_to_one=False).save_pretrained(folder / "scheduler")
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionInpaintPipeline"}))
    return folder


def build_tiny_sdxl_checkpoint(folder: Path) -> Path:
    """An SDXL-shaped 9-channel inpainting UNet (pooled text embedding and time ids)."""
    from diffusers import UNet2DConditionModel

    build_tiny_checkpoint(folder, 9)
    torch.manual_seed(0)
    UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=16, in_channels=9, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=8, transformer_layers_per_block=(1, 2), projection_class_embeddings_input_dim=80,
        cross_attention_dim=64,
    ).save_pretrained(folder / "unet")
    return folder


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[int, Path]:
    root = tmp_path_factory.mktemp("tiny")
    return {c: build_tiny_checkpoint(root / f"unet{c}", c) for c in (9, 8, 4)}


class UnchangedEngine:
    """Stand-in for the classical engine: the starting image is the frame itself."""

    def render_one(self, item):
        return item.frame


def make_engine(checkpoint: Path, **settings) -> DiffusionEngine:
    device = torch.device("cpu")
    components = load_components(str(checkpoint), device, torch.float32)
    defaults = dict(steps=3, strength=0.8, window=3, overlap=1, resolution=64, seed=0)
    return DiffusionEngine(components, DiffusionOptions(**{**defaults, **settings}), UnchangedEngine(), device,
                           torch.float32)


def video(n: int = 5, size: int = 48, moving: bool = True) -> tuple[list[np.ndarray], list[np.ndarray], list]:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, size=(size, size, 3), dtype=np.uint8)
    frames = [np.roll(base, i if moving else 0, axis=1) for i in range(n)]
    mask = np.zeros((size, size), np.uint8)
    mask[12:36, 10:34] = 255
    return frames, [mask] * n, [SwapConditions(source=None, faces=())] * n


def masked_change(a: np.ndarray, mask: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a[mask > 0].astype(int) - b[mask > 0].astype(int)).mean())


def zero_unet_output(engine: DiffusionEngine) -> None:
    with torch.no_grad():
        engine.components.unet.conv_out.weight.zero_()
        engine.components.unet.conv_out.bias.zero_()


def test_output_shape_unmasked_pixels_and_the_unet_paints_the_mask(checkpoints):
    engine = make_engine(checkpoints[9])
    frames, masks, conditions = video()
    outputs = engine.render(frames, masks, conditions)
    assert len(outputs) == len(frames)
    for frame, mask, out in zip(frames, masks, outputs):
        assert out.shape == frame.shape and out.dtype == np.uint8
        np.testing.assert_array_equal(out[mask == 0], frame[mask == 0])
        assert masked_change(frame, mask, out) > 1
    zero_unet_output(engine)  # a model path that ignored the UNet would not see this
    assert masked_change(outputs[0], masks[0], engine.render(frames, masks, conditions)[0]) > 0.5


def test_same_seed_same_output_other_seed_other_output(checkpoints):
    frames, masks, conditions = video(3)
    a = make_engine(checkpoints[9], seed=1).render(frames, masks, conditions)
    b = make_engine(checkpoints[9], seed=1).render(frames, masks, conditions)
    c = make_engine(checkpoints[9], seed=2).render(frames, masks, conditions)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, z) for x, z in zip(a, c))


def test_windows_of_one_without_overlap_equal_per_frame_processing(checkpoints):
    frames, masks, conditions = video(4)
    engine = make_engine(checkpoints[9], window=1, overlap=0, consistency=False)
    together = engine.render(frames, masks, conditions)
    alone = [make_engine(checkpoints[9], window=1, overlap=0, consistency=False).render([f], [m], [c])[0]
             for f, m, c in zip(frames, masks, conditions)]
    for x, y in zip(together, alone):
        np.testing.assert_array_equal(x, y)


def stream_through_blender(latents: torch.Tensor, window: int, overlap: int,
                           renormalize: bool) -> dict[int, torch.Tensor]:
    """Feed `latents` (one per frame) through a LatentBlender window by window, as the streamer does."""
    blender, out, start = LatentBlender(overlap, renormalize), {}, 0
    total = latents.shape[0]
    while True:
        end = min(start + window, total)
        final = end == total
        out.update(blender.add(start, latents[start:end], final))
        if final:
            break
        start = end - overlap
    out.update(blender.flush())
    return out


@pytest.mark.parametrize("total, window, overlap", [(10, 4, 1), (7, 3, 2), (5, 8, 2), (9, 1, 0), (11, 4, 3)])
def test_latent_blender_weights_sum_to_one_and_every_frame_comes_once(total, window, overlap):
    # Each frame's latent is its index: if the weights of the windows covering a frame sum to one, the
    # blend returns the index itself (a window seeing frame i holds the value i there).
    latents = torch.arange(total, dtype=torch.float32)[:, None, None, None].expand(total, 4, 2, 2).clone()
    out = stream_through_blender(latents, window, overlap, renormalize=False)
    assert sorted(out) == list(range(total))
    for index, latent in out.items():
        torch.testing.assert_close(latent, torch.full((4, 2, 2), float(index)))


def test_latent_blender_keeps_a_constant_stream_constant_with_renormalisation():
    latents = torch.randn(1, 4, 3, 3).expand(9, -1, -1, -1).clone()
    out = stream_through_blender(latents, 4, 2, renormalize=True)
    for latent in out.values():
        torch.testing.assert_close(latent, latents[0])


def test_constant_video_stays_constant(checkpoints):
    frames, masks, conditions = video(7, moving=False)
    outputs = make_engine(checkpoints[9], window=3, overlap=1, consistency=True).render(frames, masks, conditions)
    for out in outputs[1:]:
        np.testing.assert_array_equal(out, outputs[0])


def test_statistics_matching_is_identity_on_equal_latents():
    latents = torch.randn(3, 4, 8, 8)
    torch.testing.assert_close(match_statistics(latents, latents[:2]), latents)


def test_cross_frame_attention_with_one_frame_equals_plain_attention():
    from diffusers.models.attention_processor import Attention, AttnProcessor2_0

    torch.manual_seed(0)
    attention = Attention(query_dim=32, heads=4, dim_head=8)
    hidden = torch.randn(1, 16, 32)
    attention.set_processor(AttnProcessor2_0())
    plain = attention(hidden)
    attention.set_processor(CrossFrameAttnProcessor(frames=1))
    torch.testing.assert_close(attention(hidden), plain, atol=1e-5, rtol=1e-5)


def test_cross_frame_attention_lets_frames_see_the_anchor():
    from diffusers.models.attention_processor import Attention, AttnProcessor2_0

    torch.manual_seed(0)
    attention = Attention(query_dim=32, heads=4, dim_head=8)
    hidden = torch.randn(3, 16, 32)
    attention.set_processor(AttnProcessor2_0())
    plain = attention(hidden)
    attention.set_processor(CrossFrameAttnProcessor(frames=3))
    crossed = attention(hidden)
    torch.testing.assert_close(crossed[0], plain[0], atol=1e-5, rtol=1e-5)  # frame 0: anchor and previous are itself
    assert not torch.allclose(crossed[2], plain[2], atol=1e-4)


@pytest.mark.parametrize("channels, mode", [(9, "mask"), (8, "mask-free")])
def test_side_by_side_try_on_reads_the_garment_and_crops_back_to_the_person(checkpoints, channels, mode):
    rng = np.random.default_rng(1)
    person = rng.integers(0, 255, size=(64, 48, 3), dtype=np.uint8)
    mask = np.zeros((64, 48), np.uint8)
    mask[20:50, 8:40] = 255

    def condition(seed: int) -> GarmentConditions:
        garment = np.random.default_rng(seed).integers(0, 255, size=(80, 60, 3), dtype=np.uint8)
        return GarmentConditions(garment=garment, garment_mask=np.full((80, 60), 255, np.uint8), warped=person,
                                 warped_alpha=np.zeros((64, 48), np.float32), mode=mode)

    engine = make_engine(checkpoints[channels], strength=1.0, window=2, overlap=0)
    outputs = engine.render([person, person], [mask, mask], [condition(2), condition(2)])
    other = engine.render([person, person], [mask, mask], [condition(3), condition(3)])
    assert [o.shape for o in outputs] == [person.shape] * 2
    np.testing.assert_array_equal(outputs[0][mask == 0], person[mask == 0])
    assert masked_change(person, mask, outputs[0]) > 5
    assert masked_change(outputs[0], mask, other[0]) > 0  # another garment beside the person, another result


def test_sdxl_family_inpainting_unet_paints_the_mask(tmp_path):
    checkpoint = build_tiny_sdxl_checkpoint(tmp_path / "sdxl")
    frames, masks, conditions = video(3)
    engine = make_engine(checkpoint)
    outputs = engine.render(frames, masks, conditions)
    for frame, mask, out in zip(frames, masks, outputs):
        assert out.shape == frame.shape
        np.testing.assert_array_equal(out[mask == 0], frame[mask == 0])
        assert masked_change(frame, mask, out) > 1
    zero_unet_output(engine)
    assert masked_change(outputs[0], masks[0], engine.render(frames, masks, conditions)[0]) > 0.5


def test_sdxl_controlnet_gets_the_pooled_embedding_and_time_ids(tmp_path):
    """SDXL ControlNets (InstantID's among them) need the same added conditions as the SDXL UNet."""
    engine = make_engine(build_tiny_sdxl_checkpoint(tmp_path / "sdxl"), window=2, overlap=0)
    engine.components.controlnet = sdxl_controlnet()
    assert_normal_map_steers(engine)


def test_plain_unet_uses_blended_latent_inpainting(checkpoints):
    frames, masks, conditions = video(2)
    outputs = make_engine(checkpoints[4], window=2, overlap=0, seed=1).render(frames, masks, conditions)
    other = make_engine(checkpoints[4], window=2, overlap=0, seed=2).render(frames, masks, conditions)
    np.testing.assert_array_equal(outputs[0][masks[0] == 0], frames[0][masks[0] == 0])
    assert masked_change(frames[0], masks[0], outputs[0]) > 1
    assert masked_change(outputs[0], masks[0], other[0]) > 0.5


def assert_normal_map_steers(engine: DiffusionEngine) -> tuple[list[np.ndarray], list[np.ndarray], Callable]:
    """The engine's ControlNet output changes with the normal map it is given; returns the scene and its swap."""
    from tryon_cli.render.contract import FaceTarget

    engine.needs_normal_map = True
    frames, masks, _ = video(2)

    def swap(normal):
        face = FaceTarget(points=np.zeros((1, 2)), target_points=np.zeros((1, 2)), target_skin=None, normal_map=normal)
        return [SwapConditions(source=None, faces=(face,))] * 2

    flat = engine.render(frames, masks, swap(np.full((48, 48, 3), 128, np.uint8)))
    bumpy = engine.render(frames, masks, swap(np.random.default_rng(5).integers(0, 255, (48, 48, 3), np.uint8)))
    assert masked_change(flat[0], masks[0], bumpy[0]) > 0.5
    return bumpy, masks, swap


def test_controlnet_normal_map_reaches_the_unet(checkpoints):
    engine = make_engine(checkpoints[9], window=2, overlap=0)
    engine.components.controlnet = sd_controlnet()
    frames, _, _ = video(2)
    bumpy, masks, swap = assert_normal_map_steers(engine)
    engine.components.controlnet = None  # skipping the ControlNet changes the result too
    assert masked_change(bumpy[0], masks[0], engine.render(frames, masks, swap(None))[0]) > 0.5


def test_catvton_attention_weights_load(checkpoints, tmp_path):
    from diffusers.models.attention import BasicTransformerBlock
    from safetensors.torch import save_file

    donor = load_components(str(checkpoints[9]), torch.device("cpu"), torch.float32)
    for block in donor.unet.modules():
        if isinstance(block, BasicTransformerBlock):
            torch.nn.init.constant_(block.attn1.to_q.weight, 0.125)
    modules = torch.nn.ModuleList([m.attn1 for m in donor.unet.modules() if isinstance(m, BasicTransformerBlock)])
    weights = tmp_path / "attention" / "model.safetensors"
    weights.parent.mkdir()
    save_file(modules.state_dict(), str(weights))
    target = load_components(str(checkpoints[9]), torch.device("cpu"), torch.float32)
    load_catvton_attention(target, str(tmp_path))
    blocks = [m for m in target.unet.modules() if isinstance(m, BasicTransformerBlock)]
    assert blocks and all(torch.all(b.attn1.to_q.weight == 0.125) for b in blocks)
    assert target.skip_cross_attention
    with pytest.raises(ModelMissingError, match="not CatVTON attention weights"):
        bad = tmp_path / "bad"
        bad.mkdir()
        save_file({"x": torch.zeros(1)}, str(bad / "model.safetensors"))
        load_catvton_attention(target, str(bad))


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(ModelMissingError, match="diffusion checkpoint .*not found"):
        create_engine(EngineOptions(name="diffusion", diffusion=DiffusionOptions(checkpoint=str(tmp_path / "nothing"))))
    (tmp_path / "folder").mkdir()
    with pytest.raises(ModelMissingError, match="not a diffusers checkpoint folder"):
        create_engine(EngineOptions(name="diffusion", diffusion=DiffusionOptions(checkpoint=str(tmp_path / "folder"))))


def test_cli_swap_with_a_missing_checkpoint_exits_2(astronaut, source_photo, tmp_path):
    from tryon_cli.io.media import write_image

    target = tmp_path / "astronaut.png"
    write_image(target, astronaut)
    result = run_cli("swap", str(source_photo), str(target), "-o", str(tmp_path / "out.png"), "--engine", "diffusion",
                     "--checkpoint", str(tmp_path / "missing-model"))
    assert result.returncode == 2
    assert "diffusion checkpoint" in result.stderr and "missing-model" in result.stderr
    assert not (tmp_path / "out.png").exists()


def test_cli_swap_through_the_diffusion_engine(astronaut, source_photo, checkpoints, tmp_path):
    import cv2

    from tryon_cli.io.media import read_image, write_image

    target = tmp_path / "astronaut.png"
    small = cv2.resize(astronaut, (256, 256))
    write_image(target, small)
    out, debug = tmp_path / "out.png", tmp_path / "debug"
    result = run_cli("swap", str(source_photo), str(target), "-o", str(out), "-q", "--json", "--engine", "diffusion",
                     "--checkpoint", str(checkpoints[9]), "--steps", "2", "--resolution", "64", "--device", "cpu",
                     "--debug-dir", str(debug))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["engine"] == "diffusion"
    swapped, mask = read_image(out), read_image(debug / "000000_mask.png")[..., 0]
    assert swapped.shape == small.shape
    outside = cv2.dilate(mask, np.ones((5, 5), np.uint8)) == 0
    np.testing.assert_array_equal(swapped[outside], small[outside])


def test_models_lists_every_model_and_where_the_checkpoint_came_from(checkpoints, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "TRYON_CHECKPOINT": str(checkpoints[9]), "TRYON_CONFIG": str(tmp_path / "c.toml")}
    result = subprocess.run([sys.executable, "-c", "from tryon_cli.app import main; main()", "models", "--json"],
                            capture_output=True, text=True, env=env)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    names = {r["name"] for r in rows}
    for expected in ("diffusion inpainting checkpoint", "CatVTON attention weights", "ControlNet (normal map)",
                     "IP-Adapter FaceID", "SAM checkpoint", "insightface model pack (buffalo_l)", "CLIP image model",
                     "DISTS weights", "mediapipe face mesh (478 points)", "dlib face descriptor (128-D)"):
        assert expected in names
    checkpoint = next(r for r in rows if r["name"] == "diffusion inpainting checkpoint")
    assert checkpoint["present"] and checkpoint["origin"] == "env TRYON_CHECKPOINT"
    assert next(r for r in rows if r["name"] == "mediapipe face mesh (478 points)")["present"]


def build_tiny_text_checkpoint(folder: Path) -> Path:
    """The 9-channel tiny checkpoint plus a tiny CLIP text encoder and a hand-written BPE tokenizer."""
    from transformers import CLIPTextConfig, CLIPTextModel

    build_tiny_checkpoint(folder, 9)
    vocab_size = write_clip_tokenizer(folder)
    torch.manual_seed(0)
    CLIPTextModel(CLIPTextConfig(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
                                 vocab_size=vocab_size, max_position_embeddings=16, bos_token_id=0, eos_token_id=1,
                                 pad_token_id=1)).save_pretrained(folder / "text_encoder")
    return folder


def test_prompt_and_guidance_reach_the_unet(tmp_path):
    checkpoint = build_tiny_text_checkpoint(tmp_path / "text")
    components = load_components(str(checkpoint), torch.device("cpu"), torch.float32)
    assert components.text_encoder is not None and components.tokenizer is not None
    frames, masks, conditions = video(2)
    outputs = {}
    for name, settings in {"plain": {}, "prompt": {"prompt": "a red face"},
                           "guided": {"prompt": "a red face", "negative_prompt": "blue", "guidance": 5.0}}.items():
        engine = make_engine(checkpoint, window=2, overlap=0, **settings)
        outputs[name] = engine.render(frames, masks, conditions)
        np.testing.assert_array_equal(outputs[name][0][masks[0] == 0], frames[0][masks[0] == 0])
    assert not np.array_equal(outputs["plain"][0], outputs["prompt"][0])
    assert not np.array_equal(outputs["prompt"][0], outputs["guided"][0])
