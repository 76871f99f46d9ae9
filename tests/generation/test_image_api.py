"""Closed image models through litellm's image generation, over HTTP to a stub."""

import io

import dagster as dg
from PIL import Image

from scigen_dagster.definitions import build_definitions
from scigen_dagster.devtools.openai_stub import OpenAIStub, StubConfig
from scigen_dagster.registry import ModelSpec
from scigen_dagster.resources.llm import LLMResource

PARTITION = "physics.optical-ray"


def test_image_api_model_renders_caches_and_never_pays_twice(tmp_path, monkeypatch):
    monkeypatch.setenv("STUB_IMAGE_KEY", "sk-image-SECRET-4242")
    with OpenAIStub(StubConfig(fault_rate=0.3, faults=("429", "500"), retry_after_s=0.05, seed=3)) as stub:
        spec = ModelSpec(name="stub_image", kind="image_api", model="openai/gpt-image-1", api_base=stub.url,
                         api_key_env="STUB_IMAGE_KEY", prompt_template="Textbook figure, no solution: {question}")
        defs = build_definitions(models=[spec], store_root=str(tmp_path / "store"),
                                 llm=LLMResource(cache_path=str(tmp_path / "cache.sqlite")))
        job = defs.resolve_job_def("scigen_all")
        instance = dg.DagsterInstance.ephemeral()
        assert job.execute_in_process(partition_key=PARTITION, instance=instance).success
        answered = stub.stats.answered
        storage = defs.resources["storage"]
        images = storage.read_table("images/stub_image", PARTITION)
        assert (images["status"] == "ok").all(), images[["status", "reason"]].to_dict("records")
        assert images["prompt"].str.startswith("Textbook figure, no solution: ").all()
        assert len(set(images["image_sha256"])) == len(images), "distinct prompts give distinct images"
        for path in images["image_path"]:
            Image.open(io.BytesIO(storage.read_bytes(path))).verify()
        assert answered == len(images), "each image was paid for once despite injected faults"
        # Forget the table: the response cache alone must keep the rerun free.
        (tmp_path / "store" / "tables" / "images" / "stub_image" / f"{PARTITION}.parquet").unlink()
        assert job.execute_in_process(partition_key=PARTITION, instance=instance).success
        assert stub.stats.answered == answered
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"sk-image-SECRET-4242" not in path.read_bytes(), path
