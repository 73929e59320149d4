"""Identity for swaps: IP-Adapter FaceID and InstantID weights built here (tiny, random) condition the
tiny UNet through diffusers' IP-Adapter path; the source embedding is computed once per source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import run_cli
from test_diffusion import build_tiny_checkpoint, masked_change, video
from tiny_models import sd_controlnet
from tryon_cli.errors import InputError, ModelMissingError
from tryon_cli.render.contract import FaceTarget, SourceFace, SwapConditions
from tryon_cli.render.diffusion.engine import DiffusionEngine
from tryon_cli.render.diffusion.identity import FACEID, INSTANTID, Identity, install_identity
from tryon_cli.render.diffusion.keypoints import (ARCFACE_TEMPLATE, arcface_crop, draw_keypoints, five_points,
                                                  similarity)
from tryon_cli.render.diffusion.loading import load_components
from tryon_cli.render.options import DiffusionOptions

EMBED = 512  # insightface's ArcFace embedding size


def _cross_attention_names(unet) -> list[str]:
    return [name for name in unet.attn_processors if not name.endswith("attn1.processor")]


def _attention_weights(unet, generator: torch.Generator) -> dict:
    """The original IP-Adapter layout: to_k_ip/to_v_ip per cross-attention layer, keys 1, 3, 5, ..."""
    state = {}
    for i, name in enumerate(_cross_attention_names(unet)):
        block = name.split(".")
        hidden = (unet.config.block_out_channels[-1] if block[0] == "mid_block" else
                  list(reversed(unet.config.block_out_channels))[int(block[1])] if block[0] == "up_blocks" else
                  unet.config.block_out_channels[int(block[1])])
        for part in ("to_k_ip", "to_v_ip"):
            shape = (hidden, unet.config.cross_attention_dim)
            state[f"{2 * i + 1}.{part}.weight"] = torch.randn(shape, generator=generator) * 0.5
    return state


def faceid_weights(unet, path: Path) -> Path:
    """ip-adapter-faceid_sd15.bin's layout: a linear projection of the embedding to 4 tokens, then a norm."""
    from diffusers.models.embeddings import IPAdapterFaceIDImageProjection

    generator = torch.Generator().manual_seed(7)
    torch.manual_seed(7)
    projection = IPAdapterFaceIDImageProjection(EMBED, unet.config.cross_attention_dim, mult=1, num_tokens=4)
    image_proj = {k.replace("ff.net.0.proj", "proj.0").replace("ff.net.2", "proj.2"): v
                  for k, v in projection.state_dict().items()}
    torch.save({"image_proj": image_proj, "ip_adapter": _attention_weights(unet, generator)}, path)
    return path


def instantid_weights(unet, path: Path) -> Path:
    """InstantID's ip-adapter.bin layout: a resampler (4 layers) from the embedding to a few tokens."""
    from diffusers.models.embeddings import IPAdapterPlusImageProjection

    torch.manual_seed(8)
    projection = IPAdapterPlusImageProjection(embed_dims=EMBED, output_dims=unet.config.cross_attention_dim,
                                              hidden_dims=64, heads=1, num_queries=4)
    original: dict[str, torch.Tensor] = {}
    state = projection.state_dict()
    for key, value in state.items():  # diffusers' key conversion, backwards
        parts = key.split(".")
        if parts[0] != "layers":
            original[key] = value
            continue
        layer, rest = parts[1], ".".join(parts[2:])
        if rest.startswith("ln0") or rest.startswith("ln1"):
            original[f"layers.{layer}.0.norm{int(rest[2]) + 1}.{rest.split('.', 1)[1]}"] = value
        elif rest.startswith("attn.to_q") or rest.startswith("attn.to_out.0"):
            original[f"layers.{layer}.0.{rest[5:].replace('to_out.0', 'to_out')}"] = value
        elif rest.startswith("attn.to_k"):
            original[f"layers.{layer}.0.to_kv.weight"] = torch.cat([value, state[key.replace("to_k", "to_v")]])
        elif rest.startswith("attn.to_v"):
            continue  # joined with to_k above
        elif rest.startswith("ff."):  # ff.0 (norm), ff.1.net.0.proj, ff.1.net.2 <- 1.0, 1.1, 1.3
            sub = rest[3:].replace("1.net.0.proj", "1").replace("1.net.2", "3")
            original[f"layers.{layer}.1.{sub}"] = value
        else:
            raise AssertionError(f"unexpected projection key {key}")
    torch.save({"image_proj": original, "ip_adapter": _attention_weights(unet, torch.Generator().manual_seed(9))},
               path)
    return path


class UnchangedEngine:
    def render_one(self, item):
        return item.frame


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("identity") / "unet9", 9)


@pytest.fixture()
def config(tmp_path, monkeypatch) -> Path:
    """No configured models from the environment or a config file."""
    for name in ("TRYON_IP_ADAPTER", "TRYON_INSIGHTFACE", "TRYON_CONTROLNET", "TRYON_CATVTON"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRYON_CONFIG", str(tmp_path / "config.toml"))
    return tmp_path


def embedding_file(folder: Path, seed: int) -> Path:
    path = folder / f"embedding{seed}.npy"
    np.save(path, np.random.default_rng(seed).normal(size=EMBED).astype(np.float32))
    return path


def make_engine(checkpoint: Path, controlnet=None, **settings) -> DiffusionEngine:
    device = torch.device("cpu")
    components = load_components(str(checkpoint), device, torch.float32)
    components.controlnet = controlnet
    defaults = dict(steps=3, strength=0.8, window=2, overlap=0, resolution=64, seed=0)
    engine = DiffusionEngine(components, DiffusionOptions(**{**defaults, **settings}), UnchangedEngine(), device,
                             torch.float32)
    engine.prepare(SwapConditions)
    return engine


def faceid_render(checkpoint: Path, folder: Path, embedding: Path | None, **settings) -> list[np.ndarray]:
    adapter = folder / "ip-adapter-faceid_sd15.bin"
    if not adapter.exists():
        faceid_weights(load_components(str(checkpoint), torch.device("cpu"), torch.float32).unet, adapter)
    identity = dict(ip_adapter=str(adapter), face_embedding=str(embedding)) if embedding else {}
    frames, masks, conditions = video(2)
    engine = make_engine(checkpoint, **identity, **settings)
    assert (engine.identity is not None) == (embedding is not None)
    return engine.render(frames, masks, conditions)


def test_identity_embedding_conditions_the_unet(checkpoint, config):
    frames, masks, _ = video(2)
    first, second = embedding_file(config, 1), embedding_file(config, 2)
    a = faceid_render(checkpoint, config, first)
    again = faceid_render(checkpoint, config, first)
    other = faceid_render(checkpoint, config, second)
    without = faceid_render(checkpoint, config, None)
    assert all(np.array_equal(x, y) for x, y in zip(a, again))  # same embedding, same seed: same output
    for frame, mask, out in zip(frames, masks, other):
        np.testing.assert_array_equal(out[mask == 0], frame[mask == 0])
    assert masked_change(a[0], masks[0], other[0]) > 0.5  # another identity paints another face
    assert masked_change(a[0], masks[0], without[0]) > 0.5
    weak = faceid_render(checkpoint, config, second, identity_scale=0.0)  # scale 0: the adapter is silent
    assert all(np.array_equal(x, y) for x, y in zip(weak, without))


def test_identity_survives_the_cross_frame_attention_reset(checkpoint, config):
    from diffusers.models.attention_processor import IPAdapterAttnProcessor2_0

    engine = make_engine(checkpoint, ip_adapter=str(faceid_weights(
        load_components(str(checkpoint), torch.device("cpu"), torch.float32).unet, config / "faceid.bin")),
        face_embedding=str(embedding_file(config, 1)))
    frames, masks, conditions = video(2)
    engine.render(frames, masks, conditions)
    unet = engine.components.unet
    kept = [unet.attn_processors[name] for name in _cross_attention_names(unet)]
    assert kept and all(isinstance(p, IPAdapterAttnProcessor2_0) for p in kept)


def source_face(seed: int) -> SourceFace:
    texture = np.random.default_rng(seed).integers(0, 255, (64, 64, 3), np.uint8)
    return SourceFace(texture=texture, texture_points=np.zeros((478, 3)), identity_shape=np.zeros((478, 3)),
                      frontal_mesh=np.zeros((478, 3)), triangles=np.zeros((1, 3), int), skin_stats=np.zeros(6))


def test_the_embedding_is_computed_once_per_source(checkpoint, config):
    engine = make_engine(checkpoint)
    calls = []

    def embedder(source: SourceFace) -> np.ndarray:
        calls.append(source)
        return np.random.default_rng(int(source.texture[0, 0, 0])).normal(size=EMBED)

    unet = engine.components.unet
    weights = torch.load(faceid_weights(unet, config / "faceid.bin"), weights_only=True)
    engine.identity = Identity(config / "faceid.bin", FACEID, weights, EMBED, 1.0, embedder=embedder)
    install_identity(engine.components, engine.identity)
    frames, masks, _ = video(5)
    first, second = source_face(1), source_face(2)
    out_first = engine.render(frames, masks, [SwapConditions(first, ())] * 5)
    assert calls == [first]  # five frames, three windows: one embedding
    out_second = engine.render(frames, masks, [SwapConditions(second, ())] * 5)
    assert calls == [first, second]
    assert masked_change(out_first[0], masks[0], out_second[0]) > 0.5
    bad = Identity(config / "faceid.bin", FACEID, {}, EMBED, 1.0, embedder=lambda source: np.zeros(128))
    with pytest.raises(InputError, match="128 values, the adapter takes 512"):
        bad.embedding(first)


def test_instantid_reads_the_identity_and_the_target_keypoints(checkpoint, config):
    adapter = instantid_weights(load_components(str(checkpoint), torch.device("cpu"), torch.float32).unet,
                                config / "ip-adapter.bin")
    with pytest.raises(ModelMissingError, match="face-keypoint ControlNet.*InstantX/InstantID"):
        make_engine(checkpoint, ip_adapter=str(adapter), face_embedding=str(embedding_file(config, 1)))
    frames, masks, _ = video(2)

    def swap(shift: float) -> list[SwapConditions]:
        points = np.zeros((478, 2), np.float32)
        points[[468, 473, 1, 61, 291]] = np.array([[16, 18], [32, 18], [24, 26], [18, 32], [30, 32]]) + shift
        face = FaceTarget(points=points, target_points=points, target_skin=None)
        return [SwapConditions(None, (face,))] * 2

    def render(seed: int, shift: float, scale: float = 1.0) -> list[np.ndarray]:
        engine = make_engine(checkpoint, controlnet=sd_controlnet(), ip_adapter=str(adapter),
                             face_embedding=str(embedding_file(config, seed)), identity_scale=scale)
        assert engine.identity.kind == INSTANTID and not engine.needs_normal_map
        return engine.render(frames, masks, swap(shift))

    base = render(1, 0)
    assert all(np.array_equal(x, y) for x, y in zip(base, render(1, 0)))
    assert masked_change(base[0], masks[0], render(2, 0)[0]) > 0.5  # the identity reaches the UNet
    assert masked_change(base[0], masks[0], render(1, 8)[0]) > 0.5  # the keypoints reach the ControlNet
    # with the UNet's adapter silent, the identity still reaches the ControlNet (its context)
    assert masked_change(render(1, 0, 0.0)[0], masks[0], render(2, 0, 0.0)[0]) > 0.5
    for frame, mask, out in zip(frames, masks, base):
        np.testing.assert_array_equal(out[mask == 0], frame[mask == 0])


def test_keypoints_align_onto_the_arcface_template_and_draw_where_they_are():
    points = np.zeros((478, 2), np.float32)
    chosen = np.array([[60, 80], [110, 78], [86, 110], [66, 140], [108, 138]], np.float32)
    points[[468, 473, 1, 61, 291]] = chosen
    np.testing.assert_array_equal(five_points(points), chosen)
    image = np.zeros((200, 200, 3), np.uint8)
    for x, y in chosen.astype(int):
        image[y - 1 : y + 2, x - 1 : x + 2] = 255
    crop = arcface_crop(image, five_points(points))
    assert crop.shape == (112, 112, 3)
    for x, y in ARCFACE_TEMPLATE.round().astype(int):  # every keypoint lands on its template point
        assert crop[y - 2 : y + 3, x - 2 : x + 3].max() > 100
    turned = np.array([[np.cos(0.3), -np.sin(0.3), 5.0], [np.sin(0.3), np.cos(0.3), -7.0]]) * [[1.7], [1.7]]
    moved = chosen @ turned[:, :2].T + turned[:, 2]  # a rotated, scaled, shifted face: recovered exactly
    np.testing.assert_allclose(similarity(moved, chosen), np.linalg.inv(np.vstack([turned, [0, 0, 1]]))[:2],
                               atol=1e-6)
    drawing = draw_keypoints(chosen, (200, 200))
    assert tuple(drawing[80, 60]) == (255, 0, 0) and tuple(drawing[110, 86]) == (0, 0, 255)


def test_missing_identity_pieces_are_one_clear_error(checkpoint, config):
    components = load_components(str(checkpoint), torch.device("cpu"), torch.float32)
    adapter = faceid_weights(components.unet, config / "ip-adapter-faceid_sd15.bin")
    cases = [
        (dict(ip_adapter=str(config / "nothing.bin")), "'.*nothing.bin' not found; get them with: huggingface-cli"),
        (dict(ip_adapter=str(adapter), face_pack=str(config / "buffalo_l")),
         "buffalo_l/w600k_r50.onnx not found.*--face-embedding.*buffalo_l.zip"),
        (dict(ip_adapter=str(adapter), face_embedding=str(config / "none.npy")), "none.npy: face embedding file"),
        (dict(face_embedding=str(embedding_file(config, 1))), "none is configured: give --ip-adapter"),
        (dict(face_pack=str(config)), "--face-pack is for an identity adapter.*give --ip-adapter"),
    ]
    for settings, message in cases:
        with pytest.raises(InputError, match=message):
            make_engine(checkpoint, **settings)
    (config / "buffalo_l").mkdir()
    (config / "buffalo_l" / "w600k_r50.onnx").write_bytes(b"not onnx")
    with pytest.raises(ModelMissingError, match="w600k_r50.onnx: unreadable ONNX"):
        make_engine(checkpoint, ip_adapter=str(adapter), face_pack=str(config / "buffalo_l"))
    np.save(config / "short.npy", np.ones(128, np.float32))
    with pytest.raises(InputError, match="must be 512 floats, not 128"):
        make_engine(checkpoint, ip_adapter=str(adapter), face_embedding=str(config / "short.npy"))


def test_cli_swap_with_a_missing_faceid_piece_exits_2_before_any_work(astronaut, source_photo, checkpoint, config):
    from tryon_cli.io.media import write_image

    target, out = config / "astronaut.png", config / "out.png"
    write_image(target, astronaut[::4, ::4].copy())
    common = ("swap", str(source_photo), str(target), "-o", str(out), "--engine", "diffusion", "--checkpoint",
              str(checkpoint), "--device", "cpu", "--steps", "1", "--resolution", "64")
    missing = run_cli(*common, "--ip-adapter", str(config / "ip-adapter-faceid_sd15.bin"))
    assert missing.returncode == 2, missing.stderr
    assert "ip-adapter-faceid_sd15.bin' not found" in missing.stderr and "huggingface-cli download" in missing.stderr
    assert "Traceback" not in missing.stderr and not out.exists()
    adapter = faceid_weights(load_components(str(checkpoint), torch.device("cpu"), torch.float32).unet,
                             config / "ip-adapter-faceid_sd15.bin")
    no_pack = run_cli(*common, "--ip-adapter", str(adapter), "--face-pack", str(config / "buffalo_l"))
    assert no_pack.returncode == 2, no_pack.stderr
    assert "w600k_r50.onnx not found" in no_pack.stderr and not out.exists()
    ran = run_cli(*common, "--ip-adapter", str(adapter), "--face-embedding", str(embedding_file(config, 1)), "-q")
    assert ran.returncode == 0, ran.stderr
    assert out.exists()


def test_identity_with_classifier_free_guidance(tmp_path, config):
    """With --guidance > 1 the batch doubles: the unconditional half gets zeros, the other the identity."""
    from test_diffusion import build_tiny_text_checkpoint

    checkpoint = build_tiny_text_checkpoint(tmp_path / "text")
    adapter = faceid_weights(load_components(str(checkpoint), torch.device("cpu"), torch.float32).unet,
                             config / "faceid.bin")
    frames, masks, conditions = video(2)
    engines = [make_engine(checkpoint, prompt="a face", guidance=4.0, ip_adapter=str(adapter),
                           face_embedding=str(embedding_file(config, seed))) for seed in (1, 2)]
    seen = []
    unet = engines[0].components.unet
    forward = unet.forward

    def spy(sample, *args, added_cond_kwargs=None, **kwargs):
        seen.append((sample.shape[0], added_cond_kwargs["image_embeds"][0].detach().clone()))
        return forward(sample, *args, added_cond_kwargs=added_cond_kwargs, **kwargs)

    unet.forward = spy
    outputs = [engine.render(frames, masks, conditions) for engine in engines]
    np.testing.assert_array_equal(outputs[0][0][masks[0] == 0], frames[0][masks[0] == 0])
    assert masked_change(outputs[0][0], masks[0], outputs[1][0]) > 0.5
    assert seen
    for batch, embeds in seen:
        assert embeds.shape[0] == batch  # one embedding per UNet batch row
        unconditional, conditional = embeds.chunk(2)
        assert not unconditional.any() and conditional.abs().sum(-1).min() > 0
