"""The Dask executor of the production profile.

It is dagster-dask's executor (same configuration, same worker function) with two fixes
that production needs:

* Dask inspects task arguments and walks into tuples; Dagster runs that use pools carry a
  record that refuses iteration, so dagster-dask's executor fails at submission with
  "Iteration is not allowed on `@record` RunOpConcurrency". The arguments travel sealed.
  The events a worker sends back travel sealed too (Dask's size estimate of a list of
  records fails and logs a warning per step otherwise).
* dagster-dask names a step's Dask task "<job>.<step>", so two runs of the same job on one
  shared cluster would share (and skip) each other's tasks; here the run id is in the key.

Pools are not claimed per step by this executor; the production instance enforces them per
run instead (``concurrency: pools: granularity: run``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster import Field, Permissive, Selector, StringSource
from dagster._core.errors import raise_execution_interrupts
from dagster._core.events import DagsterEvent, EngineEventData
from dagster._core.execution.context.system import PlanOrchestrationContext
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.execution.retries import RetryMode
from dagster._utils import iterate_with_context


class _Sealed:
    """Carries an object through Dask's task-argument parsing without being looked into."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def _execute_step_on_worker(dependencies: Any, sealed: _Sealed) -> _Sealed:
    """Runs on a Dask worker: execute one step of the run and return its Dagster events."""
    from dagster_dask.executor import query_on_dask_worker

    return _Sealed(list(query_on_dask_worker(dependencies, *sealed.value)))


class DaskExecutor(dg.Executor):
    def __init__(self, cluster_type: str, cluster_configuration: dict[str, Any] | None):
        self.cluster_type = cluster_type
        self.cluster_configuration = dict(cluster_configuration or {})

    @property
    def retries(self) -> RetryMode:
        return RetryMode.DISABLED

    def _cluster(self, stack: contextlib.ExitStack) -> Any:
        if self.cluster_type == "existing":
            return self.cluster_configuration["address"]
        from dask.distributed import LocalCluster

        # Dagster steps are not thread-safe: one thread per worker process.
        return stack.enter_context(LocalCluster(**{**self.cluster_configuration, "threads_per_worker": 1}))

    def execute(self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        import dask.distributed
        from dagster_dask.executor import get_dask_resource_requirements

        if not plan_context.instance.is_persistent:
            raise dg.DagsterInvariantViolationError("Dask execution requires a persistent DagsterInstance")
        run = plan_context.dagster_run
        instance_ref = plan_context.instance.get_ref()
        with contextlib.ExitStack() as stack:
            client = stack.enter_context(dask.distributed.Client(self._cluster(stack)))
            workers = client.scheduler_info().get("workers", {})
            yield DagsterEvent.engine_event(
                plan_context,
                f"Executing steps on the Dask cluster at {client.scheduler.address} ({len(workers)} workers)",
                EngineEventData(),
            )
            futures: dict[str, Any] = {}
            for level in execution_plan.get_steps_to_execute_by_level():
                for step in level:
                    dependencies = [futures[key] for step_input in step.step_inputs
                                    for key in step_input.dependency_keys]
                    payload = (plan_context.reconstructable_job, run, plan_context.run_config, [step.key],
                               instance_ref, execution_plan.known_state)
                    futures[step.key] = client.submit(
                        _execute_step_on_worker, dependencies, _Sealed(payload),
                        key=f"{run.job_name}.{step.key}.{run.run_id}",
                        resources=get_dask_resource_requirements(step.tags),
                    )
            completed = dask.distributed.as_completed(list(futures.values()), with_results=True)
            for _future, events in iterate_with_context(raise_execution_interrupts, completed):
                yield from events.value


@dg.executor(
    name="dask",
    requirements=dg.multiple_process_executor_requirements(),
    config_schema={
        "cluster": Field(
            Selector({
                "existing": Field({"address": StringSource}, description="Connect to an existing scheduler."),
                "local": Field(Permissive(), is_required=False,
                               description="A distributed.LocalCluster started for the run (its arguments)."),
            }),
            is_required=False, default_value={"local": {}},
        )
    },
)
def dask_executor(init_context) -> DaskExecutor:
    """Each step of a run is a task on a Dask cluster: an existing scheduler, or a local
    cluster of worker processes started for the run."""
    ((cluster_type, configuration),) = init_context.executor_config["cluster"].items()
    return DaskExecutor(cluster_type, configuration)
