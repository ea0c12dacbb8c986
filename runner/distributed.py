"""Accuracy shards on a Ray cluster (`--ray ADDRESS`; Ray is the optional extra `tinyperf[ray]`). Each task
opens its own backend from the BackendSpec on the node it lands on."""

from __future__ import annotations

from typing import Callable

from tinyperf.errors import RunnerError
from tinyperf.runner.backends.base import BackendSpec
from tinyperf.runner.dataset import Dataset


def _import_ray():
    try:
        import ray
    except ImportError:
        raise RunnerError("--ray needs Ray, which is not installed: pip install 'tinyperf[ray]'") from None
    return ray


def run_on_ray(
    address: str,
    spec: BackendSpec | None,
    ds: Dataset,
    allow_placeholder: bool,
    chunks: list[list[int]],
    progress: Callable[[int], None] | None,
) -> dict[int, list[list[float]]]:
    """Run each chunk of stimulus indices as one Ray task; results merged by index."""
    ray = _import_ray()
    if spec is None or spec.kind != "sim":
        raise RunnerError("--ray runs simulated boards only (--backend sim)")
    ray.init(address=None if address == "local" else address, ignore_reinit_error=True, log_to_driver=False)

    @ray.remote
    def shard(spec, task_name, root, indices, allow):
        from tinyperf.runner import accuracy

        accuracy._worker_init(spec, task_name, root, allow)
        try:
            return accuracy._worker_run(indices)
        finally:
            accuracy._worker["session"].close()

    pending = [shard.remote(spec, ds.task.name, str(ds.root), c, allow_placeholder) for c in chunks]
    outputs: dict[int, list[list[float]]] = {}
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        part = ray.get(ready[0])
        outputs.update(part)
        if progress:
            progress(len(part))
    return outputs
