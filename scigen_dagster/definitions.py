"""The one Definitions object of the scigen-dagster code location."""

from __future__ import annotations

import os

import dagster as dg

from scigen_dagster.assets.checks import export_checks, model_checks, quarantine_explained
from scigen_dagster.assets.evaluation import model_assets
from scigen_dagster.assets.exports import finetune_asset
from scigen_dagster.assets.partitions import image_type_partitions
from scigen_dagster.assets.problems import benchmark_items, corpus, taxonomy_labels, visualizable_problems
from scigen_dagster.assets.reporting import leaderboard_asset
from scigen_dagster.generation import protocol as generation_protocol
from scigen_dagster.llm.cache import default_cache_path
from scigen_dagster.registry import ModelSpec, load_registry
from scigen_dagster.resources.corpus import CorpusResource
from scigen_dagster.resources.diffusion import DiffusionResource
from scigen_dagster.resources.engines import OcrResource, TaxonomyClassifierResource
from scigen_dagster.resources.llm import LLMResource, llm_from_env
from scigen_dagster.resources.sandbox import SandboxResource
from scigen_dagster.resources.storage import StorageResource
from scigen_dagster.schedules import evaluation_job, nightly_schedule
from scigen_dagster.sensors import corpus_files_sensor, llm_batches_sensor

STORE_ENV = "SCIGEN_STORE"
DEFAULT_STORE = ".scigen/store"
EXECUTOR_ENV = "SCIGEN_EXECUTOR"
DASK_SCHEDULER_ENV = "SCIGEN_DASK_SCHEDULER"
WORKERS_ENV = "SCIGEN_WORKERS"
EXECUTORS = ("default", "in_process", "multiprocess", "dask")


def executor_from_env() -> dg.ExecutorDefinition | None:
    """The executor of every job, from $SCIGEN_EXECUTOR.

    Unset, "in_process" runs every step in the run's process: a UI run of a few unchanged
    partitions then takes seconds, not a process start (~10 s here) per step. "default"
    keeps Dagster's own default (one process per step for launched runs);
    "multiprocess" one process per step, at most $SCIGEN_WORKERS at a time; "dask" submits
    each step to a Dask cluster: the scheduler at $SCIGEN_DASK_SCHEDULER
    (e.g. tcp://dask-scheduler:8786), else a local cluster of $SCIGEN_WORKERS worker processes
    started for the run.
    """
    name = os.environ.get(EXECUTOR_ENV, "").strip().lower() or "in_process"
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw and not (raw.isdigit() and int(raw) > 0):
        raise ValueError(f"{WORKERS_ENV}={raw!r}: expected a positive whole number of worker processes, or unset it")
    workers = int(raw or 0)
    if name == "default":
        return None
    if name == "in_process":
        return dg.in_process_executor
    if name == "multiprocess":
        return dg.multiprocess_executor.configured({"max_concurrent": workers}) if workers else dg.multiprocess_executor
    if name == "dask":
        from scigen_dagster.executors import dask_executor

        address = os.environ.get(DASK_SCHEDULER_ENV, "").strip()
        if address:
            return dask_executor.configured({"cluster": {"existing": {"address": address}}})
        # Single-threaded worker processes (Dagster steps are not thread-safe), no dashboard.
        local = {"n_workers": workers or 2, "processes": True, "dashboard_address": None}
        return dask_executor.configured({"cluster": {"local": local}})
    raise ValueError(f"{EXECUTOR_ENV}={name!r}: expected one of {', '.join(EXECUTORS)}")


def diffusion_resource(spec: ModelSpec) -> DiffusionResource:
    """The diffusers resource of a registry model: the spec's fields of the same names."""
    return DiffusionResource(**{f: getattr(spec, f) for f in DiffusionResource.model_fields if f in ModelSpec.model_fields})


MODEL_RESOURCES = {"diffusion": diffusion_resource}


def build_definitions(
    models: list[ModelSpec] | None = None, store_root: str | None = None, llm: LLMResource | None = None,
    resources: dict | None = None,
) -> dg.Definitions:
    """The code location's definitions; ``resources`` replaces any of its resources by key
    (a benchmark's sandbox with more workers)."""
    # Each model's generation protocol made concrete (planner prompt, attempts, pixel prompt).
    models = [generation_protocol.apply(s) for s in (load_registry() if models is None else models)]
    per_model = [a for spec in models for a in model_assets(spec)]
    assets = [corpus, visualizable_problems, taxonomy_labels, benchmark_items, *per_model,
              leaderboard_asset(models), finetune_asset(models)]
    root = store_root or os.environ.get(STORE_ENV, DEFAULT_STORE)
    if llm is not None and not llm.cache_path:
        # A new resource, not model_copy: Dagster builds a run's resources from their
        # config, which a pydantic copy's update does not reach (the run saw cache_path "").
        llm = type(llm)(**{name: getattr(llm, name) for name in type(llm).model_fields}
                        | {"cache_path": default_cache_path(root)})
    overrides = resources or {}
    resources = {
        "storage": StorageResource(root=root),
        "corpus_sources": CorpusResource(),
        "classifier": TaxonomyClassifierResource(),
        "ocr": OcrResource(),
        "sandbox": SandboxResource(),
        # Every role runs offline unless SCIGEN_<ROLE>_MODEL (or the SCIGEN_ROLES file)
        # names a litellm model; the response cache lives under the store.
        "llm": llm or llm_from_env(cache_path=default_cache_path(root)),
        # A model's own resources (a diffusers pipeline's settings), under the keys its kind names.
        **{key: MODEL_RESOURCES[what](s) for s in models for key, what in s.model_kind.model_resources(s).items()},
    } | overrides
    everything = dg.define_asset_job(
        "scigen_all", selection=dg.AssetSelection.all(), partitions_def=image_type_partitions,
        description="Every asset; launch it with a partition range to run many image types in one run.",
    )
    nightly = evaluation_job(models)
    checks = [quarantine_explained, *[c for spec in models for c in model_checks(spec)], *export_checks(models)]
    return dg.Definitions(assets=assets, asset_checks=checks, resources=resources, jobs=[everything, nightly],
                          schedules=[nightly_schedule(nightly)], sensors=[corpus_files_sensor(everything), llm_batches_sensor(everything, models)],
                          executor=executor_from_env())


defs = build_definitions()
