import os
from pathlib import Path

import pytest

# Tests run offline, like the embedded default: no hub downloads, no price-map fetch.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
# A worktree outside the project folder points SCIGEN_DEV_DATA at the shared split.
DEV_DATA = Path(os.environ.get("SCIGEN_DEV_DATA", REPO.parent / "shared" / "data" / "scigenbench-dev"))


@pytest.fixture
def dev_data() -> Path:
    if not (DEV_DATA / "scigen.json").exists():
        pytest.skip(f"SciGenBench dev split not found at {DEV_DATA}")
    return DEV_DATA


def _byte_level_alphabet() -> list[str]:
    """The 256 printable stand-ins for bytes that byte-level BPE (GPT-2, CLIP) uses."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = [256 + i for i in range(256 - len(keep))]
    return [chr(c) for c in keep + extra]


@pytest.fixture(scope="session")
def tiny_clip_folder(tmp_path_factory) -> Path:
    """A CLIP of ViT-B/16 geometry at the input (224 px, 16 px patches) but tiny widths,
    random weights (seed 3: its pairs' cosines have both signs), a character-level CLIP
    tokenizer and CLIP's default image processor, saved with save_pretrained like a Hub
    snapshot. Nothing is downloaded."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer

    folder = tmp_path_factory.mktemp("clip") / "tiny-clip"
    alphabet = _byte_level_alphabet()
    vocab = {t: i for i, t in enumerate([*alphabet, *(c + "</w>" for c in alphabet), "<|startoftext|>", "<|endoftext|>"])}
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[])
    special = {"bos_token_id": vocab["<|startoftext|>"], "eos_token_id": vocab["<|endoftext|>"],
               "pad_token_id": vocab["<|endoftext|>"]}
    small = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
    config = CLIPConfig(text_config={"vocab_size": len(vocab), "max_position_embeddings": 77, **special, **small},
                        vision_config={"image_size": 224, "patch_size": 16, **small}, projection_dim=16)
    torch.manual_seed(3)
    CLIPModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    CLIPImageProcessor().save_pretrained(folder)  # a Hub snapshot ships CLIP's preprocessing config
    return folder
