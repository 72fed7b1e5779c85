"""The bandwidth ceiling: bytes read per token (tied heads counted), the ceiling, the table, and the measurement."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.catalogue.models import candidate_shape
from helpers.fits import estimator, roofline
from helpers.fits.roofline import Bandwidth, RooflineError, RooflineRow
from helpers.machine.environment import machine_description

ISSUE_COLUMNS = "runtime,model,dtype,tokens_per_s,bytes_per_token,bandwidth_gb_s,ceiling_tokens_per_s,pct_of_ceiling"


def test_a_tied_head_reads_the_whole_embedding_and_an_untied_input_embedding_one_row():
    assert roofline.weight_bytes_read_per_token(1000, 400, 100, tied=True) == 1000
    assert roofline.weight_bytes_read_per_token(1000, 400, 100, tied=False) == 1000 - 400 + 4


def test_ceiling_is_bandwidth_over_bytes_per_token_with_the_kv_cache():
    read = roofline.bytes_per_token(100_000_000, 1000, 500)  # 100 MB of weights, 0.5 MB of KV
    assert read == 100_500_000
    assert roofline.ceiling_tokens_per_s(16.08, read) == pytest.approx(160.0)
    assert roofline.pct_of_ceiling(40.0, 160.0) == pytest.approx(25.0)


@pytest.mark.parametrize(("bandwidth", "read"), [(0, 100), (-1, 100), (10, 0)])
def test_a_ceiling_without_a_positive_bandwidth_or_size_says_how_to_measure(bandwidth, read):
    with pytest.raises(RooflineError, match="benchmarks/bandwidth.py"):
        roofline.ceiling_tokens_per_s(bandwidth, read)


def test_impossible_byte_counts_are_refused():
    with pytest.raises(RooflineError, match="embedding_bytes <= weight_bytes"):
        roofline.weight_bytes_read_per_token(100, 400, 10, tied=True)


def _write_gguf(path, *, tied: bool) -> None:
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    writer.add_tensor("token_embd.weight", np.zeros((100, 8), dtype=np.float32))  # vocab 100, width 8: 3200 bytes
    writer.add_tensor("blk.0.attn_q.weight", np.zeros((8, 8), dtype=np.float32))  # 256 bytes
    if not tied:
        writer.add_tensor("output.weight", np.zeros((100, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def test_gguf_bytes_read_come_from_the_tensor_table(tmp_path):
    _write_gguf(tmp_path / "tied.gguf", tied=True)
    _write_gguf(tmp_path / "untied.gguf", tied=False)
    assert roofline.gguf_weight_bytes_read(tmp_path / "tied.gguf") == 3200 + 256
    assert roofline.gguf_weight_bytes_read(tmp_path / "untied.gguf") == 32 + 256 + 3200


def test_the_estimator_uses_this_machines_bandwidth_for_cpu_runtimes_only(isolated_outputs):
    shape = candidate_shape("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert estimator.estimate(shape, "fp32", runtime="transformers-cpu").decode_tokens_per_s_ceiling is None
    roofline.write_bandwidth(Bandwidth(20.0, {1: 12.0, 2: 20.0}, machine_description(), "test", "2026-11-23T12:00:00+00:00"))
    est = estimator.estimate(shape, "fp32", runtime="transformers-cpu", context_tokens=0)
    assert est.decode_tokens_per_s_ceiling == pytest.approx(20e9 / est.weight_bytes, rel=1e-3)  # tied: every weight read
    assert estimator.estimate(shape, "fp32", runtime="vllm").decode_tokens_per_s_ceiling is None


def test_a_measurement_from_other_hardware_is_not_used(isolated_outputs):
    roofline.write_bandwidth(Bandwidth(200.0, {1: 200.0}, "Some other CPU, 64 cores", "test", "2026-11-23T12:00:00+00:00"))
    assert roofline.measured_bandwidth() is None


def test_bandwidth_is_measured_per_thread_count_and_names_the_hardware(isolated_outputs):
    measured = roofline.measure_bandwidth(max_threads=2, size_bytes=16 * 2**20)
    assert set(measured.by_threads) == {1, 2} and measured.gb_s == max(measured.by_threads.values()) > 0
    assert measured.hardware == machine_description() and "numpy" in measured.method
    roofline.write_bandwidth(measured)
    assert roofline.measured_bandwidth() == measured


def test_roofline_csv_has_the_issues_columns_and_round_trips(isolated_outputs):
    row = RooflineRow.measured("llama.cpp", "SmolLM2-135M-Instruct", "q4_1", 36.3, 100_000_000, 16.0)
    assert row.ceiling_tokens_per_s == 160.0 and row.pct_of_ceiling == pytest.approx(22.7)
    path = roofline.write_roofline([row])
    assert path.read_text(encoding="utf-8").splitlines()[0] == ISSUE_COLUMNS
    assert roofline.read_roofline() == [row]
