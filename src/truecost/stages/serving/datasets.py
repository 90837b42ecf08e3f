"""Published serving throughputs shipped for calibration (catalog/data/validation/serving_throughput.csv).

Maximum-load offline runs of TensorRT-LLM's `trtllm-bench` (NVIDIA perf-overview tables): one
replica per row (tp = gpus), uniform input/output lengths, total output tokens per second.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache

from ...catalog.data_files import data_text

SERVING_FILE = ("validation", "serving_throughput.csv")


@dataclass(frozen=True)
class ServingRow:
    id: str
    model_id: str
    accelerator_id: str
    gpus: int
    precision: str
    kv_precision: str
    input_tokens: float
    output_tokens: float
    output_tokens_per_s: float  # whole replica [token/s]
    origin: str  # 'row' of the shared CSV, or 'note' (a same-row figure quoted in a row's notes)
    source: str

    @property
    def per_gpu(self) -> float:
        return self.output_tokens_per_s / self.gpus


@cache
def serving_rows() -> tuple[ServingRow, ...]:
    text = data_text(*SERVING_FILE)
    out = []
    for r in csv.DictReader(io.StringIO(text)):
        out.append(
            ServingRow(
                id=r["id"],
                model_id=r["model_id"],
                accelerator_id=r["accelerator_id"],
                gpus=int(r["gpus"]),
                precision=r["precision"],
                kv_precision=r["kv_precision"],
                input_tokens=float(r["input_tokens"]),
                output_tokens=float(r["output_tokens"]),
                output_tokens_per_s=float(r["output_tokens_per_s"]),
                origin=r["origin"],
                source=r["source"],
            )
        )
    return tuple(out)
