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
