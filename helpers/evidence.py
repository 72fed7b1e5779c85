"""Read what the route notebooks left in ``outputs/`` and finish the decision record with it.

Each piece of evidence has one producer. When a file is missing, the record
says which notebook or command writes it, rather than inventing a number.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from helpers.evals import read_tables, summarize
from helpers.paths import OUTPUTS


@dataclass(frozen=True)
class Source:
    name: str
    path: str
    producer: str
    summarize: Callable[[Path], str]


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _environment(path: Path) -> str:
    env = _json(path)
    gpu = f"GPU {env['gpu']['name']}" if env["gpu"]["available"] else "no GPU"
    return f"{env['platform']}, Python {env['python']}, {env['cpu_cores']} cores, {env['ram_total_gb']} GB RAM, {gpu}; {len(env['missing'])} missing packages"


def _memory(path: Path) -> str:
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    worst = max(abs(float(r["error_pct"])) for r in rows)
    rule = max(abs(float(r["rule_error_pct"])) for r in rows)
    return f"estimator within {worst:.1f}% of measured peak memory on {len(rows)} model/runtime/dtype rows (the x1.2 rule: up to {rule:.1f}% off)"


def _evals(folder: Path) -> str:
    rows = read_tables(folder.parent)
    runs: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        runs.setdefault((row["model"], row["runtime"]), []).append(row)
    parts = [f"{s['model'].split('/')[-1]} on {s['runtime']} {s['passed']}/{s['cases']}" for s in map(summarize, runs.values())]
    return "fixed cases passed: " + "; ".join(sorted(parts))


def _colab(path: Path) -> str:
    run = _json(path)
    return f"{run['plan']['model']} on {run['plan']['device']}: proves {run['plan']['proves']}"


def _benchmark(path: Path) -> str:
    bench = _json(path)
    first, best = bench["levels"][0], max(bench["levels"], key=lambda lv: lv["output_throughput"])
    return (f"vLLM {bench.get('server_version') or '(unknown version)'} on {bench['hardware']}: median TTFT {first['ttft_ms']['median']} ms and "
            f"TPOT {first['tpot_ms']['median']} ms at concurrency {first['concurrency']}; best {best['output_throughput']} output tok/s "
            f"at concurrency {best['concurrency']}; goodput {best['goodput']} req/s")


def _shutdown(path: Path) -> str:
    proof = _json(path)
    return f"stopped: {proof['stopped']} ({proof['health']} at {proof['health_checked_at']})"


SOURCES = (
    Source("environment", "environment.json", "notebook 00_setup_check", _environment),
    Source("memory_check", "memory_check.csv", "make run (benchmarks/memory_check.py)", _memory),
    Source("eval_tables", "evals", "notebooks 02, 03 and 04", _evals),
    Source("colab_run", "colab_run.json", "notebook 03_colab_gpu_route", _colab),
    Source("serving_benchmark", "serving/benchmark.json", "notebook 04_rented_gpu_route", _benchmark),
    Source("shutdown_proof", "serving/shutdown_proof.json", "notebook 04_rented_gpu_route", _shutdown),
)


def gather(outputs: Path | None = None) -> dict[str, dict[str, str]]:
    """Every evidence source: present with a one-line summary, or missing with its producer."""
    outputs = outputs or OUTPUTS
    found = {}
    for source in SOURCES:
        path = outputs / source.path
        present = path.is_dir() and any(path.glob("*.csv")) if source.name == "eval_tables" else path.is_file()
        found[source.name] = (
            {"status": "present", "summary": source.summarize(path)} if present
            else {"status": "missing", "summary": f"missing: run {source.producer} to produce outputs/{source.path}"}
        )
    return found


#: The measurements that bear on each route's decision.
FACTS_BY_ROUTE = {
    "local_cpu": ("memory_check",),
    "free_colab": ("colab_run", "memory_check"),
    "rented_gpu": ("serving_benchmark", "shutdown_proof"),
}


def complete(record: dict[str, Any], evidence: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The record with its evidence attached and the paragraph finished from it.

    The paragraph is rebuilt from the profile each time, so completing an
    already completed record gives the same text, not a doubled one.
    """
    from helpers.decision import Profile, build_record

    done = json.loads(json.dumps(record))
    done["evidence"].update({name: item["summary"] for name, item in evidence.items()})
    route = done["profile"]["route"]
    facts = [evidence[name]["summary"] for name in FACTS_BY_ROUTE[route] if evidence[name]["status"] == "present"]
    evals = evidence["eval_tables"]
    paragraph = build_record(Profile(**done["profile"]))["decision_paragraph"].rstrip(".")
    if facts:
        paragraph = paragraph.replace(". I will not use", f" (measured: {'; '.join(facts)}). I will not use", 1)
    paragraph += f"; today it shows {evals['summary']}." if evals["status"] == "present" else "; no eval table exists yet."
    done["decision_paragraph"] = paragraph
    return done
