"""The quantization ladder: its bad inputs (level, file, disk, CPU), its quality arithmetic and its table."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from helpers.evals import load_cases
from helpers.measured import ladder, ladder_results
from helpers.measured.ladder_results import LadderRow
from helpers.runtimes.llama_cpp import build as llama_build
from helpers.runtimes.llama_cpp import quantize as quantization
from helpers.runtimes.llama_cpp.build import LlamaBuildError
from helpers.runtimes.llama_cpp.quantize import QuantizationError
from helpers.shelf import models

ISSUE_COLUMNS = "quant,file_mb,predicted_mb,peak_rss_mb,tokens_per_s,cases_passed,cases,kl_divergence,top1_agreement"


def _tiny_gguf(path):
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), "llama")
    writer.add_tensor("token_embd.weight", np.arange(4096, dtype=np.float32).reshape(64, 64))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_the_ladder_is_the_guides_seven_levels_and_the_installed_llama_cpp_writes_them_all():
    assert quantization.LEVELS == ("F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K")
    assert quantization.supported_levels() == quantization.LEVELS


@pytest.mark.parametrize("level", ["Q1_X", "q4_1", "IQ2_XXS"])
def test_a_level_outside_the_ladder_is_refused_with_the_choices(level):
    with pytest.raises(QuantizationError, match="the ladder has F16, Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q3_K_M, Q2_K"):
        quantization.check_level(level)


def test_a_level_the_installed_llama_cpp_lacks_is_refused(monkeypatch):
    import llama_cpp

    monkeypatch.delattr(llama_cpp, "LLAMA_FTYPE_MOSTLY_Q2_K")
    with pytest.raises(QuantizationError, match=r"can write F16, Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q3_K_M\. Pick one"):
        quantization.check_level("Q2_K")
    assert quantization.check_level("q4_k_m") == "Q4_K_M"


def test_a_file_that_is_not_gguf_is_refused(tmp_path):
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(QuantizationError, match="not a GGUF file.*Delete .* and rebuild"):
        quantization.check_gguf(bogus)


def test_a_truncated_gguf_is_refused_before_llama_cpp_reads_it(tmp_path):
    whole = _tiny_gguf(tmp_path / "whole.gguf")
    assert quantization.check_gguf(whole) == whole
    for keep in (whole.stat().st_size - 100, 40):  # tensor data cut short; header cut short
        cut = tmp_path / f"cut{keep}.gguf"
        cut.write_bytes(whole.read_bytes()[:keep])
        with pytest.raises(QuantizationError, match="truncated"):
            quantization.quantize(cut, tmp_path / "out.gguf", "Q8_0")
        assert not (tmp_path / "out.gguf").exists()


def test_too_little_disk_stops_the_build_before_anything_is_written(tmp_path, monkeypatch):
    before = models.problems(quantization.LADDER)
    monkeypatch.setattr(quantization.shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10**12, 10**12 - 10**6, 10**6))
    with pytest.raises(QuantizationError, match=r"needs about [\d,]+ MB free .* 1 MB are free.*Nothing on the shelf was changed"):
        quantization._build_ladder(tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert models.problems(quantization.LADDER) == before


def test_a_cpu_without_avx2_is_told_what_to_use_instead(tmp_path, monkeypatch):
    with pytest.raises(LlamaBuildError, match="does not advertise AVX2.*Transformers runtime"):
        llama_build.require_avx2(frozenset({"sse2", "sse4_2", "avx"}))
    monkeypatch.setattr(llama_build, "cpu_flags", lambda: frozenset({"sse2", "avx"}))
    with pytest.raises(LlamaBuildError, match="AVX2"):
        quantization._build_ladder(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_quality_is_zero_kl_and_full_agreement_against_itself_and_grows_with_distortion():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(32, 100))
    assert ladder.kl_and_top1(reference, reference) == pytest.approx((0.0, 1.0))
    slight = ladder.kl_and_top1(reference, reference + rng.normal(scale=0.05, size=reference.shape))
    heavy = ladder.kl_and_top1(reference, reference + rng.normal(scale=2.0, size=reference.shape))
    assert 0 < slight[0] < heavy[0] and heavy[1] < slight[1] <= 1.0


def test_kl_of_two_known_distributions():
    p, q = np.log([[0.5, 0.5]]), np.log([[0.9, 0.1]])
    expected = 0.5 * np.log(0.5 / 0.9) + 0.5 * np.log(0.5 / 0.1)
    assert ladder.kl_and_top1(p, q)[0] == pytest.approx(expected)


def test_logits_of_different_shapes_are_not_compared():
    with pytest.raises(ValueError, match="cannot be compared"):
        ladder.kl_and_top1(np.zeros((3, 10)), np.zeros((4, 10)))


def test_the_ladder_table_has_the_issues_columns():
    assert ",".join(ladder_results.COLUMNS) == ISSUE_COLUMNS
    row = LadderRow("Q4_K_M", 105.5, 81.6, 250.0, 120.0, 4, 14, 0.05, 0.9)
    assert LadderRow.from_json({k: str(v) for k, v in row.to_json().items()}) == row
    text = ladder_results.rows_csv([row])
    assert text.splitlines()[0] == ISSUE_COLUMNS and ladder_results.rows_from_csv(text) == [row]


@pytest.mark.slow
def test_every_level_on_the_shelf_is_a_complete_gguf_of_its_own_type():
    files = quantization.ladder_files()
    assert list(files) == list(quantization.LEVELS)
    sizes = [files[level].stat().st_size for level in quantization.LEVELS]
    assert sizes == sorted(sizes, reverse=True)  # each step down the ladder is smaller
    import llama_cpp
    from gguf import GGUFReader

    for level, path in files.items():
        quantization.check_gguf(path)
        field = GGUFReader(str(path)).fields["general.file_type"]
        assert int(field.parts[field.data[0]][0]) == getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{level}")
    assert "Q3_K" not in quantization.weight_types(files["Q3_K_M"])  # 576-wide rows: every Q3_K tensor fell back
    assert models.problems(quantization.LADDER, deep=True) == []


@pytest.mark.slow
def test_the_measured_ladder_has_all_seven_levels_and_the_reference_agrees_with_itself(isolated_outputs):
    measured = ladder.ladder()
    assert [r.quant for r in measured.rows] == list(quantization.LEVELS)
    reference = measured.row("F16")
    assert reference.kl_divergence == 0 and reference.top1_agreement == 1
    assert measured.row("Q2_K").kl_divergence > measured.row("Q8_0").kl_divergence
    assert all(r.cases == len(load_cases()) and r.peak_rss_mb > r.file_mb for r in measured.rows)
