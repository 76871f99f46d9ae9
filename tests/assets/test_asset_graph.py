"""The shape of the asset graph, pinned by a reviewed snapshot.

The snapshot (tests/assets/snapshots/asset_graph.json) lists every asset with its upstream keys,
partitions, group, kinds, owners, pool and backfill policy; every asset check; the jobs
with the assets and checks they select; the schedules and sensors. Descriptions and code
versions are left out: they change without changing the graph. A change to the graph
fails here with a unified diff; when the change is intended, accept it with

    SCIGEN_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest -q tests/assets/test_asset_graph.py

and commit the rewritten snapshot with the change.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import dagster as dg
import pytest

from scigen_dagster.assets import keys
from scigen_dagster.registry import load_registry

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "asset_graph.json"
UPDATE_ENV = "SCIGEN_UPDATE_SNAPSHOT"
# Settings that would change what build_definitions() builds: the snapshot is of the
# packaged default registry ($SCIGEN_MODELS unset) with the default executor.
BUILD_ENV = ("SCIGEN_MODELS", "SCIGEN_EXECUTOR", "SCIGEN_WORKERS")
PARTITION_COUNT = 25


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    with pytest.MonkeyPatch.context() as mp:
        for name in BUILD_ENV:
            mp.delenv(name, raising=False)
        # Imported here: importing the module builds its own `defs` from the environment.
        from scigen_dagster.definitions import build_definitions

        return build_definitions()


def _key(key: dg.AssetKey) -> str:
    return key.to_user_string()


def _check(key: dg.AssetCheckKey) -> str:
    return f"{_key(key.asset_key)}:{key.name}"


def _partitions(partitions_def: dg.PartitionsDefinition | None) -> list[str] | dict | None:
    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.StaticPartitionsDefinition):
        return list(partitions_def.get_partition_keys())  # in order: ranges depend on it
    # Time-window, dynamic or multi partitions: their keys depend on the clock or the instance.
    return {"type": type(partitions_def).__name__, "definition": str(partitions_def)}


def _pool(pools: set[str]) -> str | list[str] | None:
    if not pools:
        return None
    return next(iter(pools)) if len(pools) == 1 else sorted(pools)


def _backfill_policy(policy: dg.BackfillPolicy | None) -> str | None:
    if policy is None:
        return None
    kind = policy.policy_type.value
    if policy.max_partitions_per_run is not None:
        kind += f"(max_partitions_per_run={policy.max_partitions_per_run})"
    return kind


def graph_description(defs: dg.Definitions) -> dict:
    """A deterministic, JSON-ready description of the whole graph of ``defs``."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assets[_key(key)] = {
            "deps": sorted(_key(k) for k in node.parent_keys),
            "partitions": _partitions(node.partitions_def),
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "pool": _pool(set(node.pools)),
            "backfill_policy": _backfill_policy(node.backfill_policy),
            # The other assets one step materializes along with this one (a multi-asset).
            "materialized_with": sorted(_key(k) for k in node.assets_def.keys if k != key),
        }
    checks = []
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        checks.append({
            "asset": _key(check_key.asset_key),
            "name": check_key.name,
            "blocking": spec.blocking,
            "additional_deps": sorted(_key(d.asset_key) for d in spec.additional_deps),
        })
    jobs = []
    for job in defs.jobs or []:
        if isinstance(job, dg.JobDefinition):  # an op job: its ops
            jobs.append({"name": job.name, "ops": sorted(node.name for node in job.graph.nodes)})
            continue
        # An asset job (define_asset_job): what its selection resolves to in this graph.
        jobs.append({
            "name": job.name,
            "assets": sorted(_key(k) for k in job.selection.resolve(graph)),
            "asset_checks": sorted(_check(k) for k in job.selection.resolve_checks(graph)),
        })
    schedules = [
        {
            "name": s.name,
            "cron": s.cron_schedule,
            "timezone": s.execution_timezone,
            "job": s.job_name,
            "default_status": s.default_status.value,
        }
        for s in defs.schedules or []
    ]
    sensors = [
        {
            "name": s.name,
            "type": s.sensor_type.value,
            "jobs": sorted(t.job_name for t in s.targets),
            "minimum_interval_seconds": s.minimum_interval_seconds,
            "default_status": s.default_status.value,
        }
        for s in defs.sensors or []
    ]
    return {
        "assets": dict(sorted(assets.items())),
        "asset_checks": sorted(checks, key=lambda c: (c["asset"], c["name"])),
        "jobs": sorted(jobs, key=lambda j: j["name"]),
        "schedules": sorted(schedules, key=lambda s: s["name"]),
        "sensors": sorted(sensors, key=lambda s: s["name"]),
    }


def _dump(description: dict) -> str:
    return json.dumps(description, indent=2, sort_keys=True) + "\n"


def _changed_entries(expected: dict, current: dict) -> list[str]:
    """One line per added, removed or changed entry (asset, check, job, schedule, sensor)."""
    def entries(description: dict) -> dict[str, dict]:
        out = {f"asset {name}": value for name, value in description.get("assets", {}).items()}
        for check in description.get("asset_checks", []):
            out[f"check {check['asset']}:{check['name']}"] = check
        for section in ("jobs", "schedules", "sensors"):
            for item in description.get(section, []):
                out[f"{section[:-1]} {item['name']}"] = item
        return out

    before, after = entries(expected), entries(current)
    lines = []
    for name in sorted(before.keys() | after.keys()):
        if name not in after:
            lines.append(f"  removed {name}")
        elif name not in before:
            lines.append(f"  added   {name}")
        elif before[name] != after[name]:
            fields = sorted(k for k in before[name].keys() | after[name].keys()
                            if before[name].get(k) != after[name].get(k))
            lines.append(f"  changed {name}: {', '.join(fields)}")
    return lines


def test_asset_graph_matches_snapshot(defs):
    current = _dump(graph_description(defs))
    if os.environ.get(UPDATE_ENV, "").strip() not in ("", "0"):
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(current)
        return
    if not SNAPSHOT.exists():
        pytest.fail(f"no graph snapshot at {SNAPSHOT}; create it by re-running with {UPDATE_ENV}=1")
    expected = SNAPSHOT.read_text()
    if current != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), current.splitlines(keepends=True),
            fromfile=f"{SNAPSHOT.relative_to(SNAPSHOT.parents[3])} (snapshot)", tofile="current graph",
        ))
        try:
            summary = _changed_entries(json.loads(expected), json.loads(current))
        except (ValueError, KeyError, TypeError, AttributeError):  # a hand-edited or older snapshot
            summary = []
        pytest.fail(
            "The asset graph differs from its snapshot:\n" + "".join(f"{line}\n" for line in summary)
            + "\n" + diff
            + f"\nIf the change is intended, re-run with {UPDATE_ENV}=1 to accept it "
            f"(rewrites {SNAPSHOT.name}) and commit the snapshot with the change.",
            pytrace=False,
        )


def test_graph_structure(defs):
    """Facts users rely on, whatever the snapshot says."""
    graph = defs.resolve_asset_graph()
    nodes = {_key(k): graph.get(k) for k in graph.get_all_asset_keys()}

    per_item = ["benchmark_items"] + sorted(
        keys.model_key(family, spec.name).to_user_string() for spec in load_registry() for family in keys.PER_ITEM)
    assert set(per_item) <= set(nodes), sorted(set(per_item) - set(nodes))
    expected = _partitions(nodes["benchmark_items"].partitions_def)
    assert isinstance(expected, list) and len(expected) == PARTITION_COUNT, expected
    assert len(set(expected)) == PARTITION_COUNT
    for name in per_item:
        assert _partitions(nodes[name].partitions_def) == expected, f"{name}: not the {PARTITION_COUNT} item partitions"
    # Every model's images are judged and inverse-validated, each from its own images.
    for spec in load_registry():
        images = keys.model_key(keys.IMAGES, spec.name).to_user_string()
        for family in keys.EVALUATIONS:
            deps = {_key(k) for k in nodes[keys.model_key(family, spec.name).to_user_string()].parent_keys}
            assert {"benchmark_items", images} <= deps, (family, spec.name, deps)

    for name, node in nodes.items():
        assert node.group_name and node.group_name != "default", f"{name}: no group"
        assert node.kinds, f"{name}: no kinds"
        assert node.owners, f"{name}: no owners"


def test_graph_node_names_read_on_their_own(defs):
    """The lineage graph labels a node with the last part of its key: no two may share it."""
    names = [k.path[-1] for k in defs.resolve_asset_graph().get_all_asset_keys()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
