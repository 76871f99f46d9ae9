"""A tiny, fully offline text-to-image diffusion pipeline built from configuration.

``build_tiny_pipeline(folder)`` assembles a real :class:`diffusers.StableDiffusionPipeline`
(CLIP text encoder + tokenizer, conditional UNet, KL-VAE, DDIM scheduler) with randomly
initialised but *deterministic* weights and saves it with ``save_pretrained``.  The result
loads through the ordinary ``DiffusionPipeline.from_pretrained(folder, local_files_only=True)``
path, so the code that serves the tiny model is exactly the code that serves a real Hub model.

The images are meaningless (untrained weights), but every property the pipeline relies on
holds: text conditioning, seeding, batching, PNG encoding.  Default preset: 128x128 in roughly
0.1-0.3 s per image on a laptop CPU with 4-8 steps.

Nothing here touches the network.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

TINY_MODEL_ID = "builtin:tiny-sd"
BUILTIN_PREFIX = "builtin:"

#: Bump when a preset's architecture changes so stale cached folders are not reused.
BUILD_VERSION = 1
_MARKER = "scigen_builtin.json"

BOS, EOS = "<|startoftext|>", "<|endoftext|>"

# Architecture presets.  "tiny-sd" is the default (CPU friendly); "large-sd" is a bigger
# UNet/VAE meant for benchmarking batching on a GPU at 512px.  Neither is trained.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny-sd": {
        "resolution": 128,
        "max_length": 77,
        "text": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4},
        "unet": {
            "block_out_channels": (32, 64),
            "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
            "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D"),
            "layers_per_block": 1,
            "attention_head_dim": 8,
            "norm_num_groups": 8,
        },
        "vae": {"block_out_channels": (8, 16, 32, 32), "layers_per_block": 1, "norm_num_groups": 8},
    },
    "large-sd": {
        "resolution": 512,
        "max_length": 77,
        "text": {"hidden_size": 256, "intermediate_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 4},
        "unet": {
            "block_out_channels": (128, 256, 512),
            "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
            "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
            "layers_per_block": 2,
            "attention_head_dim": 8,
            "norm_num_groups": 32,
        },
        "vae": {"block_out_channels": (32, 64, 128, 128), "layers_per_block": 1, "norm_num_groups": 32},
    },
}
_COMPONENTS = ("text_encoder", "tokenizer", "unet", "vae", "scheduler")


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP byte -> printable unicode mapping (what the ByteLevel pre-tokenizer emits)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def byte_level_vocab() -> tuple[dict[str, int], list[str]]:
    """A byte-level BPE vocab (every byte, plus its end-of-word form) and no merges.

    Any UTF-8 text tokenizes without unknown tokens: each byte is one token.
    """
    chars = list(_bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for c in chars:
        vocab[c] = len(vocab)
    for c in chars:
        vocab[c + "</w>"] = len(vocab)
    vocab[BOS] = len(vocab)
    vocab[EOS] = len(vocab)
    return vocab, []


def build_tokenizer(max_length: int = 77):
    from transformers import CLIPTokenizer

    vocab, merges = byte_level_vocab()
    # transformers 5: the fast backend is built from (vocab, merges); `vocab_file=` would be ignored.
    return CLIPTokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=EOS,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=EOS,
        model_max_length=max_length,
    )


def build_components(*, seed: int = 0, preset: str = "tiny-sd") -> dict[str, Any]:
    """Instantiate the pipeline components with weights drawn deterministically from ``seed``."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}")
    p = PRESETS[preset]
    tokenizer = build_tokenizer(p["max_length"])
    vae_scale = 2 ** (len(p["vae"]["block_out_channels"]) - 1)

    # fork_rng: do not disturb the caller's global RNG state.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        text_encoder = CLIPTextModel(
            CLIPTextConfig(
                vocab_size=len(tokenizer),
                max_position_embeddings=p["max_length"],
                bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
                projection_dim=p["text"]["hidden_size"],
                **p["text"],
            )
        )
        unet = UNet2DConditionModel(
            sample_size=p["resolution"] // vae_scale,
            in_channels=4,
            out_channels=4,
            cross_attention_dim=p["text"]["hidden_size"],
            **p["unet"],
        )
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            latent_channels=4,
            down_block_types=("DownEncoderBlock2D",) * len(p["vae"]["block_out_channels"]),
            up_block_types=("UpDecoderBlock2D",) * len(p["vae"]["block_out_channels"]),
            sample_size=p["resolution"],
            # Untrained decoder: keep latents at unit scale so images are not saturated.
            scaling_factor=1.0,
            **p["vae"],
        )
    scheduler = DDIMScheduler(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    for m in (text_encoder, unet, vae):
        m.eval()
    return {"text_encoder": text_encoder, "tokenizer": tokenizer, "unet": unet, "vae": vae, "scheduler": scheduler}


def is_complete(folder: str | Path) -> bool:
    """True when ``folder`` holds a saved pipeline (model_index.json + every component)."""
    folder = Path(folder)
    if not (folder / "model_index.json").is_file():
        return False
    for comp in _COMPONENTS:
        d = folder / comp
        if not d.is_dir() or not any(d.iterdir()):
            return False
    return True


def build_tiny_pipeline(folder: str | Path, *, seed: int = 0, preset: str = "tiny-sd") -> Path:
    """Build and save a tiny StableDiffusionPipeline to ``folder``; return the folder.

    Idempotent and atomic: if ``folder`` already holds a complete pipeline nothing is done
    (the existing weights are kept even if they came from another seed); otherwise the
    pipeline is written to a temporary sibling folder and renamed into place, so readers
    never observe a half-written folder and concurrent builders cannot corrupt each other.
    """
    from diffusers import StableDiffusionPipeline

    folder = Path(folder).expanduser().absolute()
    if is_complete(folder):
        return folder
    if folder.exists():
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        else:
            raise FileExistsError(f"{folder} exists but is not a complete diffusers pipeline; refusing to overwrite")
    folder.parent.mkdir(parents=True, exist_ok=True)

    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        pipe = StableDiffusionPipeline(
            **build_components(seed=seed, preset=preset),
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
        pipe.save_pretrained(tmp, safe_serialization=True)
        (tmp / _MARKER).write_text(
            json.dumps({"preset": preset, "seed": seed, "build_version": BUILD_VERSION}, sort_keys=True) + "\n"
        )
        try:
            os.rename(tmp, folder)
        except OSError:
            # Lost a race against another builder: theirs is as good as ours.
            if not is_complete(folder):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def builtin_folder(model_id: str, cache_dir: str | Path) -> Path:
    """Where a ``builtin:<preset>`` model lives under ``cache_dir``."""
    preset = model_id[len(BUILTIN_PREFIX) :]
    if preset not in PRESETS:
        raise ValueError(f"unknown builtin model {model_id!r}; choose from {[BUILTIN_PREFIX + k for k in PRESETS]}")
    return Path(cache_dir).expanduser().absolute() / f"{preset}-v{BUILD_VERSION}"


def ensure_builtin(model_id: str, cache_dir: str | Path, *, seed: int = 0) -> Path:
    """Build (once) and return the folder of a ``builtin:`` model."""
    return build_tiny_pipeline(builtin_folder(model_id, cache_dir), seed=seed, preset=model_id[len(BUILTIN_PREFIX) :])
