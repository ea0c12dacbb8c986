"""Find the four MLPerf Tiny reference models, downloading and verifying them when needed.

Search order: 1. $TINYPERF_MODELS (a directory), 2. the user cache ($TINYPERF_CACHE/models, else
$XDG_CACHE_HOME/tinyperf/models, else ~/.cache/tinyperf/models), 3. download from the public mlcommons/tiny
repository at the pinned commit (base URL overridable with $TINYPERF_MODELS_URL) into the cache. Every file
is checked against its md5 before use; a mismatch or a failed download is a RunnerError saying what to do.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

from tinyperf.errors import RunnerError
from tinyperf.runner.results import atomic_write
from tinyperf.runner.tasks import MODELS_COMMIT, Task, get_task

log = logging.getLogger("tinyperf.runner.models")

DEFAULT_BASE_URL = f"https://raw.githubusercontent.com/mlcommons/tiny/{MODELS_COMMIT}/"
DOWNLOAD_TIMEOUT_S = 60.0


def md5(path: Path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def cache_dir() -> Path:
    if os.environ.get("TINYPERF_CACHE"):
        return Path(os.environ["TINYPERF_CACHE"]) / "models"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinyperf" / "models"


def base_url() -> str:
    url = os.environ.get("TINYPERF_MODELS_URL", DEFAULT_BASE_URL)
    return url if url.endswith("/") else url + "/"


def _verified(path: Path, task: Task) -> bool:
    digest = md5(path)
    if digest != task.model_md5:
        log.warning("%s has md5 %s, the %s reference model has %s", path, digest, task.name, task.model_md5)
        return False
    return True


def reference_model(task_name: str, *, download: bool = True) -> Path:
    """Path of the verified reference .tflite for `task_name` (see module docstring for the search)."""
    task = get_task(task_name)
    env = os.environ.get("TINYPERF_MODELS")
    if env:
        path = Path(env) / task.model_file
        if path.is_file():
            if not _verified(path, task):
                raise RunnerError(
                    f"{path} is not the {task.name} reference model (md5 {md5(path)}, expected "
                    f"{task.model_md5}); fix $TINYPERF_MODELS or use --division open --model"
                )
            return path
        log.info("%s not in $TINYPERF_MODELS (%s); trying the cache", task.model_file, env)
    cached = cache_dir() / task.model_file
    if cached.is_file():
        if _verified(cached, task):
            return cached
        log.warning("cached %s is corrupt; downloading it again", cached)
    if not download:
        raise RunnerError(
            f"the {task.name} reference model {task.model_file} is neither in $TINYPERF_MODELS "
            f"nor in {cache_dir()}; set TINYPERF_MODELS to a directory holding it"
        )
    return _download(task, cached)


def _download(task: Task, dest: Path) -> Path:
    url = base_url() + task.model_source
    log.info("downloading %s", url)
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as r:
            data = r.read()
    except (urllib.error.URLError, OSError) as e:
        raise RunnerError(
            f"cannot download the {task.name} reference model from {url}: {e}; check the "
            f"network, or put {task.model_file} in a directory and set TINYPERF_MODELS"
        ) from None
    digest = hashlib.md5(data).hexdigest()
    if digest != task.model_md5:
        raise RunnerError(
            f"downloaded {url} has md5 {digest}, expected {task.model_md5} for the {task.name} "
            f"reference model; not using it (is $TINYPERF_MODELS_URL right?)"
        )
    atomic_write(dest, data)
    return dest
