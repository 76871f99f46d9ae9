"""Benchmark DiffusionGenerator: batched vs sequential throughput, determinism, loads per backfill.

    python benchmarks/bench_diffusion.py                 # tiny builtin model, 128px, CPU ok
    python benchmarks/bench_diffusion.py --large         # bigger untrained UNet at 512px (GPU box)

Progress goes to stderr; the last stdout line is JSON:
  batched_per_s, sequential_per_s, ratio, same_images, loads_per_backfill, peak_rss_gb, device
  (+ peak_gpu_gb on CUDA, + a few descriptive keys).  *_gb are GiB.

The backfill is simulated with real Dagster: a 25-partition asset materialized partition by
partition in this process (in-process executor), each run constructing a fresh resource.
With Dagster's multiprocess executor every step is its own process, so loads == steps.
"""


import argparse
import json
import os
import resource
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import dagster as dg  # noqa: E402  (module level: annotations are strings)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from scigen_dagster.generation.diffusers import (  # noqa: E402
    DiffusionGenerator,
    clear_pipeline_cache,
    load_count,
    seed_for,
)
from scigen_dagster.registry.kinds import GPU_POOL  # noqa: E402
from scigen_dagster.resources.diffusion import DiffusionResource  # noqa: E402

QUESTIONS = [
    "A {i} kg block slides down a frictionless 30 degree incline. Draw the free-body diagram.",
    "Plot the titration curve of {i} mL of 0.1 M acetic acid with 0.1 M NaOH.",
    "Sketch the electric field of two charges separated by {i} cm.",
    "Draw the ray diagram for an object {i} cm from a converging lens with f = 10 cm.",
]


def _log(*a: object) -> None:
    print(*a, file=sys.stderr, flush=True)


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def _timed(res: DiffusionGenerator, prompts: list[str], seeds: list[int]):
    import torch

    t = time.perf_counter()
    out = res.generate(prompts, seeds)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - t


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--large", action="store_true", help="builtin:large-sd at 512px, batch 8 (GPU preset)")
    ap.add_argument("--model", default=None, help="override model (Hub id, folder, builtin:...)")
    ap.add_argument("--width", type=int, default=None)
    ap.add_argument("--height", type=int, default=None)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--n", type=int, default=None, help="images per timed run")
    ap.add_argument("--partitions", type=int, default=25)
    ap.add_argument("--per-partition", type=int, default=2, help="images generated per backfill partition")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--no-batch-invariant", action="store_true", help="plain batching (faster, not byte-stable)")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    ap.add_argument(
        "--skip-free", action="store_true", help="skip the extra unconstrained-batching (batch_invariant=False) run"
    )
    ap.add_argument("--cache-dir", default=None, help="where builtin models are built (default: a temp dir)")
    args = ap.parse_args(argv)

    preset = (
        {"model": "builtin:large-sd", "width": 512, "height": 512, "steps": 8, "batch_size": 8, "n": 32}
        if args.large
        else {"model": "builtin:tiny-sd", "width": 128, "height": 128, "steps": 8, "batch_size": 8, "n": 32}
    )
    for k in preset:
        v = getattr(args, k)
        if v is not None:
            preset[k] = v
    n = preset.pop("n")
    cache_dir = args.cache_dir or tempfile.mkdtemp(prefix="scigen-bench-models-")

    cfg = dict(
        preset, cache_dir=cache_dir, device=args.device, dtype=args.dtype, batch_invariant=not args.no_batch_invariant
    )
    batched = DiffusionGenerator(**cfg)
    sequential = DiffusionGenerator(**{**cfg, "batch_size": 1})
    device = batched.resolved_device()
    _log(f"config: {cfg} n={n} device={device}")

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    prompts = [QUESTIONS[i % len(QUESTIONS)].format(i=i) for i in range(n)]
    seeds = [seed_for(f"bench-{i}") for i in range(n)]

    t = time.perf_counter()
    batched.pipeline()
    _log(f"load (incl. build of builtin model): {time.perf_counter() - t:.2f}s")
    # warm-up both shapes (oneDNN primitive / cuDNN plan creation), not timed
    batched.generate(prompts[: preset["batch_size"]], seeds[: preset["batch_size"]])
    sequential.generate(prompts[:1], seeds[:1])
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()

    b_out, b_s = _timed(batched, prompts, seeds)
    _log(f"batched (bs={preset['batch_size']}): {n / b_s:.2f} img/s")
    s_out, s_s = _timed(sequential, prompts, seeds)
    _log(f"sequential (bs=1): {n / s_s:.2f} img/s")
    same = [a.png for a in b_out] == [b.png for b in s_out]
    notes = sorted({x.note for x in b_out if x.note})

    # ---- simulated backfill through Dagster ---------------------------------------------
    parts = dg.StaticPartitionsDefinition([f"p{i:03d}" for i in range(args.partitions)])

    @dg.asset(partitions_def=parts, pool=GPU_POOL)
    def figures(context: dg.AssetExecutionContext, diffusion: DiffusionResource) -> dg.MaterializeResult:
        pk = context.partition_key
        ps = [QUESTIONS[k % len(QUESTIONS)].format(i=k) for k in range(args.per_partition)]
        imgs = diffusion.generator().generate(ps, [seed_for(f"{pk}/{k}") for k in range(args.per_partition)])
        return dg.MaterializeResult(metadata={"images": len(imgs)})

    clear_pipeline_cache()  # start the backfill cold, as a fresh worker process would
    key = batched.cache_key()
    loads_before = load_count(key)
    t = time.perf_counter()
    with dg.instance_for_test() as instance:
        for pk in parts.get_partition_keys():
            # fresh resource object per run, as Dagster builds it from config
            r = dg.materialize([figures], partition_key=pk, resources={"diffusion": DiffusionResource(**cfg)}, instance=instance)
            assert r.success
    backfill_s = time.perf_counter() - t
    loads = load_count(key) - loads_before
    _log(f"backfill: {args.partitions} partitions in {backfill_s:.1f}s, pipeline loads: {loads}")

    result = {
        "batched_per_s": round(n / b_s, 3),
        "sequential_per_s": round(n / s_s, 3),
        "ratio": round(s_s / b_s, 3),
        "same_images": same,
        "loads_per_backfill": loads,
        "peak_rss_gb": round(_peak_rss_gb(), 3),
        "device": device,
    }
    if device.startswith("cuda"):
        result["peak_gpu_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
        result["gpu_name"] = torch.cuda.get_device_name()

    if not args.skip_free and not args.no_batch_invariant:
        # What byte-stability costs: same seeds, plain batching.
        clear_pipeline_cache()
        free_cfg = {**cfg, "batch_invariant": False}
        free_b, free_s1 = DiffusionGenerator(**free_cfg), DiffusionGenerator(**{**free_cfg, "batch_size": 1})
        free_b.generate(prompts[: preset["batch_size"]], seeds[: preset["batch_size"]])
        free_s1.generate(prompts[:1], seeds[:1])
        fb_out, fb_s = _timed(free_b, prompts, seeds)
        fs_out, fs_s = _timed(free_s1, prompts, seeds)
        result.update(
            free_batched_per_s=round(n / fb_s, 3),
            free_sequential_per_s=round(n / fs_s, 3),
            free_same_images=[a.png for a in fb_out] == [b.png for b in fs_out],
            free_matches_invariant=[a.png for a in fs_out] == [b.png for b in s_out],
        )
        _log(f"free batching: {n / fb_s:.2f} img/s batched, {n / fs_s:.2f} img/s sequential")
    result.update(
        model=preset["model"],
        n=n,
        width=preset["width"],
        height=preset["height"],
        steps=preset["steps"],
        batch_size=preset["batch_size"],
        batch_invariant=cfg["batch_invariant"],
        dtype=batched.resolved_dtype(),
        torch_threads=torch.get_num_threads(),
        backfill_s=round(backfill_s, 2),
        oom_notes=notes,
    )
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
