"""The four MLPerf Tiny benchmark tasks as data: reference model, input and output sizes, quality target.

Sources: the models README beside the checkout (../shared/models/README.md) and the public mlcommons/tiny
repository at commit 1afd2c9820f795965a6134facd0b4dfae41ef23f (the paths below); the submission folder names
(`kws`, `vww`, `ic`, `ad`) follow the published MLPerf Tiny results (mlcommons/tiny_results_v1.x).
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyperf.errors import RunnerError

#: mlcommons/tiny commit the reference models are pinned to.
MODELS_COMMIT = "1afd2c9820f795965a6134facd0b4dfae41ef23f"


@dataclass(frozen=True)
class Task:
    """One benchmark task.

    `input_bytes` is what the host sends per inference (for ad01 one sliding window), `classes` the number of
    output values, `metric` "top1" (fraction of stimuli whose argmax equals the label) or "auc" (area under
    the ROC curve of per-file anomaly scores), `quality_target` the closed-division minimum of that metric.
    """

    name: str  # kws01
    folder: str  # kws (submission layout)
    title: str
    model_file: str  # file name in $TINYPERF_MODELS
    model_source: str  # path inside mlcommons/tiny at MODELS_COMMIT
    model_md5: str
    input_bytes: int
    classes: int
    metric: str
    quality_target: float
    window_bytes: int | None = None  # ad01: sliding window length sent per inference (bytes)
    window_stride: int | None = None  # ad01: window stride (bytes)
    latency_bound_ms: float = 100.0  # server scenario default p99 bound (ours, not an MLPerf Tiny rule)


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task(
            "kws01",
            "kws",
            "keyword spotting (DS-CNN)",
            "kws_ref_model.tflite",
            "benchmark/training/keyword_spotting/trained_models/kws_ref_model.tflite",
            "618aeb155673dae92fa6a7f26608add5",
            490,
            12,
            "top1",
            0.90,
            latency_bound_ms=100.0,
        ),
        Task(
            "vww01",
            "vww",
            "visual wake words (MobileNetV1 0.25x, 96x96)",
            "vww_96_int8.tflite",
            "benchmark/training/visual_wake_words/trained_models/vww_96_int8.tflite",
            "f0b011416abee0343a5d130cb1f4c18f",
            27648,
            2,
            "top1",
            0.80,
            latency_bound_ms=200.0,
        ),
        Task(
            "ic01",
            "ic",
            "image classification (ResNet-8, CIFAR-10)",
            "pretrainedResnet_quant.tflite",
            "benchmark/training/image_classification/trained_models/pretrainedResnet_quant.tflite",
            "2d6dd48722471313e4c4528249205ae3",
            3072,
            10,
            "top1",
            0.85,
            latency_bound_ms=400.0,
        ),
        Task(
            "ad01",
            "ad",
            "anomaly detection (FC autoencoder, ToyADMOS car)",
            "ad01_int8.tflite",
            "benchmark/training/anomaly_detection/trained_models/ad01_int8.tflite",
            "361fa1b1b871e2068b2ab38d9805ef56",
            2560,
            1,
            "auc",
            0.85,
            window_bytes=2560,
            window_stride=512,
            latency_bound_ms=20.0,
        ),
    )
}

MODES = ("performance", "energy", "accuracy")
SCENARIOS = ("single-stream", "multi-stream", "server", "offline")


def get_task(name: str) -> Task:
    """The task named `name` (kws01, vww01, ic01, ad01; the folder names kws/vww/ic/ad are accepted too)."""
    for t in TASKS.values():
        if name in (t.name, t.folder):
            return t
    raise RunnerError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")


def task_for_model_md5(md5: str) -> Task | None:
    """The task whose reference model has this md5, or None (an open-division model)."""
    for t in TASKS.values():
        if t.model_md5 == md5:
            return t
    return None
