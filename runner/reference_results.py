"""Published MLPerf Tiny results for the NUCLEO-L4R5ZI family, shipped as data for the charts.

Source of the X-CUBE-AI rows: MLPerf Tiny v1.3, closed division, STMicroelectronics, system NUCLEO_L4R5ZI-P
(STM32L4R5ZIT6P at 120 MHz, 3 V with the external SMPS, X-CUBE-AI v10.2, IAR 8.50), files
closed/STMicroelectronics/results/NUCLEO_L4R5ZI-P/<task>/{performance,energy}/results.txt in
github.com/mlcommons/tiny_results_v1.3 (median throughput; latency = 1 / median throughput; median energy per
inference; power = median of the five windows' power). Note the -P board has an SMPS: its power is lower than
the plain LDO NUCLEO-L4R5ZI we simulate.

TFLite Micro reference rows: MLPerf Tiny v0.5 reference submission on the NUCLEO-L4R5ZI (LDO), energy-mode
power 40.1-41.5 mW as gathered in ../shared/FACTS.md; the per-task latency and energy of that submission were
not verified here and are left out (None).
"""

from __future__ import annotations

REFERENCE_RESULTS = [
    {
        "label": "X-CUBE-AI 10.2, NUCLEO-L4R5ZI-P (MLPerf Tiny v1.3)",
        "source": "github.com/mlcommons/tiny_results_v1.3 closed/STMicroelectronics/results/NUCLEO_L4R5ZI-P",
        "verified": True,
        "tasks": {
            "kws01": {
                "median_ips": 23.032,
                "latency_ms": 1000 / 23.032,
                "energy_uJ_per_inference": 1430.6681,
                "avg_power_mW": 32.877,
            },
            "vww01": {
                "median_ips": 11.181,
                "latency_ms": 1000 / 11.181,
                "energy_uJ_per_inference": 3029.7521,
                "avg_power_mW": 33.739,
            },
            "ic01": {
                "median_ips": 6.036,
                "latency_ms": 1000 / 6.036,
                "energy_uJ_per_inference": 5495.9150,
                "avg_power_mW": 33.074,
            },
            "ad01": {
                "median_ips": 208.608,
                "latency_ms": 1000 / 208.608,
                "energy_uJ_per_inference": 160.4232,
                "avg_power_mW": 33.365,
            },
        },
    },
    {
        "label": "TFLite Micro reference firmware, NUCLEO-L4R5ZI (MLPerf Tiny v0.5)",
        "source": "../shared/FACTS.md (energy-mode power 40.1-41.5 mW); latency and energy not verified",
        "verified": False,
        "tasks": {
            t: {"median_ips": None, "latency_ms": None, "energy_uJ_per_inference": None, "avg_power_mW": 40.8}
            for t in ("kws01", "vww01", "ic01", "ad01")
        },
    },
]
