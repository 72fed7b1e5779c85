"""Issue 14: notebooks/zh and notebooks/ja are built from the English notebooks and never fall behind.

The unit tests build a small English notebook in a temporary folder, translate it
with the real build, then damage the result in each way the issue names and
expect the check to say so. The last tests check the kit's own three folders.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from helpers.core.i18n import CatalogueError
from helpers.core.paths import NOTEBOOKS, REPO_ROOT, relative
from helpers.tooling import translate_notebooks as tn
from helpers.tooling import translation_build as tb
from helpers.tooling import translation_check as tc

BADGE = (
    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "(https://colab.research.google.com/github/openllm-routes/openllm-routes/blob/main/notebooks/{name})"
)


def _english(root: Path, name: str = "00_demo.ipynb", parameters: bool = True) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# Demo\n\n{BADGE.format(name=name)}\n\nA paragraph."),
        nbformat.v4.new_code_cell("import sys  # the Colab cell"),
    ]
    if parameters:
        nb.cells.append(nbformat.v4.new_code_cell('route = "local_cpu"\n', metadata={"tags": ["parameters"]}))
    nb.cells += [
        nbformat.v4.new_markdown_cell("## Step\n\n```bash\nmake run\n```"),
        nbformat.v4.new_code_cell("from helpers.core.i18n import current\n\nprint(current())", metadata={"tags": ["demo"]}),
    ]
    path = root / name
    root.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _mark_executed(path: Path) -> None:
    """What papermill leaves: every code cell numbered, and papermill's parameter cell."""
    nb = nbformat.read(path, as_version=4)
    for number, cell in enumerate(tb.code_cells(nb), start=1):
        cell.execution_count = number
    lang = nb.metadata[tb.METADATA_KEY]["language"]
    position = next(i for i, c in enumerate(nb.cells) if tb.is_parameters(c))
    injected = nbformat.v4.new_code_cell(f'# Parameters\nlang = "{lang}"\n', metadata={"tags": [tb.INJECTED_TAG]})
    injected.execution_count = 99
    nb.cells.insert(position + 1, injected)
    nbformat.write(nb, path)


@pytest.fixture
def built(tmp_path):
    """One English notebook and its two translations, built and (as far as the check can tell) executed."""
    source = _english(tmp_path)
    for lang in tb.TRANSLATED:
        tb.build(source, lang)
        _mark_executed(tb.translated_path(source, lang))
    return source


def _problems(root: Path) -> list[str]:
    return tc.check(root=root).problems


def test_a_fresh_build_passes(built):
    assert _problems(built.parent) == []


def test_render_keeps_code_adds_the_language_and_records_the_source(built):
    english = nbformat.read(built, as_version=4)
    zh = nbformat.read(tb.translated_path(built, "zh"), as_version=4)
    assert zh.metadata[tb.METADATA_KEY]["source_sha256"] == tb.source_hash(english)
    parameters = next(c for c in zh.cells if tb.is_parameters(c))
    assert parameters.source == 'route = "local_cpu"\n' + tb.LANG_LINE.format(lang="zh")
    use = zh.cells[zh.cells.index(parameters) + 2]  # after papermill's injected cell
    assert tb.LANGUAGE_TAG in use.metadata["tags"] and "use(lang)" in use.source
    assert "blob/main/notebooks/zh/00_demo.ipynb" in zh.cells[0].source
    assert "```bash\nmake run\n```" in zh.cells[-2].source
    assert tc.normalized_code(zh, "zh") == tc.english_code(english)


def test_a_notebook_without_parameters_gets_a_parameters_cell(tmp_path):
    source = _english(tmp_path, parameters=False)
    ja = tb.render(source, "ja", gettext=lambda s: s)
    cells = [c for c in ja.cells if c.cell_type == "code"]
    assert cells[1].source == tb.LANG_LINE.format(lang="ja") and tb.is_parameters(cells[1])
    assert tb.LANGUAGE_TAG in cells[2].metadata["tags"]
    assert tc.normalized_code(ja, "ja") == tc.english_code(nbformat.read(source, as_version=4))


def test_stale_translation_fails_after_the_english_changes(built):
    nb = nbformat.read(built, as_version=4)
    nb.cells[-2].source += "\n\nA new paragraph in English."
    nbformat.write(nb, built)
    problems = _problems(built.parent)
    assert len(problems) == 2 and all("older than" in p and "source hash differs" in p for p in problems), problems
    tb.build(built, "zh")
    tb.build(built, "ja")
    assert _problems(built.parent) == []  # markdown only changed: the executed outputs were kept


def test_changed_code_needs_execution_again(built):
    nb = nbformat.read(built, as_version=4)
    nb.cells[-1].source += "\nprint('more')"
    nbformat.write(nb, built)
    assert tb.build(built, "zh").needs_execution
    problems = tc.check_language("zh", built.parent)
    assert problems == [f"{relative(tb.translated_path(built, 'zh'))} is not executed. Run `make translations-run NB=00`."]


def test_a_code_cell_edited_in_a_translation_fails(built):
    path = tb.translated_path(built, "ja")
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source = "print('edited only in Japanese')"
    nbformat.write(nb, path)
    assert any("a code cell differs" in p and "ja/00_demo.ipynb" in p for p in _problems(built.parent))


def test_hand_edited_markdown_fails(built):
    path = tb.translated_path(built, "zh")
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\n\n手写的段落"
    nbformat.write(nb, path)
    assert any("not what the zh catalogue renders" in p for p in _problems(built.parent))


def test_notebook_lists_must_match(built):
    tb.translated_path(built, "zh").unlink()
    shutil.copy(tb.translated_path(built, "ja"), built.parent / "ja" / "09_extra.ipynb")
    problems = _problems(built.parent)
    assert any("zh/00_demo.ipynb is missing" in p for p in problems), problems
    assert any("ja/09_extra.ipynb has no English source" in p for p in problems), problems
    assert tb.remove_orphans("ja", built.parent) == [built.parent / "ja" / "09_extra.ipynb"]


def test_executed_in_the_wrong_language_fails(built):
    path = tb.translated_path(built, "ja")
    path.write_text(path.read_text(encoding="utf-8").replace('lang = \\"ja\\"\\n', 'lang = \\"zh\\"\\n'), encoding="utf-8")
    assert any("executed in another language" in p for p in _problems(built.parent))


def test_a_missing_catalogue_fails_naming_the_file(built, monkeypatch, tmp_path):
    monkeypatch.setattr("helpers.core.i18n.LOCALE_DIR", tmp_path / "no-locale")
    problems = tc.check_language("zh", built.parent)
    assert any(str(tmp_path / "no-locale" / "zh" / "LC_MESSAGES" / "messages.mo") in p for p in problems), problems


@pytest.mark.slow
def test_papermill_runs_a_translated_notebook_in_its_language(built):
    path = tb.translated_path(built, "ja")
    tb.build(built, "ja")
    nbformat.write(tb.render(built, "ja"), path)  # unexecuted
    [result] = tn.run([path], "ja")
    assert result.passed, result.error
    executed = nbformat.read(path, as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == "ja\n"
    assert tc.check_language("ja", built.parent) == []


# --- the kit's own notebooks -------------------------------------------------------------------------------------


def test_the_kits_translated_notebooks_are_current():
    report = tc.check()
    assert report.ok, "\n".join(report.problems)


def test_every_translated_badge_opens_itself():
    for lang in tb.TRANSLATED:
        for path in sorted((NOTEBOOKS / lang).glob("*.ipynb")):
            first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
            text = "".join(first["source"])
            assert f"/blob/main/{path.relative_to(REPO_ROOT).as_posix()})" in text, path


def test_build_stops_on_a_missing_catalogue_naming_it(tmp_path, monkeypatch):
    source = _english(tmp_path)
    monkeypatch.setattr("helpers.core.i18n.LOCALE_DIR", tmp_path / "no-locale")
    with pytest.raises(CatalogueError, match=str(tmp_path / "no-locale" / "ja" / "LC_MESSAGES" / "messages.mo")):
        tb.build(source, "ja")
    assert not tb.translated_path(source, "ja").exists()


def test_cli_rejects_an_unknown_language(capsys):
    assert tn.main(["check", "--lang", "fr"]) == 2
    assert "en (English), zh (中文), ja (日本語)" in capsys.readouterr().err


def test_make_test_runs_nbval_over_every_translation():
    """``make test`` hands pytest the whole ``notebooks`` folder (zh and ja included) and leaves no notebook out."""
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    command = next(line for line in recipe.splitlines() if "pytest" in line)
    assert " notebooks " in command and "$(NBVAL)" in command
    assert "--ignore" not in command and "--deselect" not in command and "HEAVY" not in command
    assert {p.parent.name for p in (REPO_ROOT / "notebooks").glob("*/*.ipynb")} >= {"zh", "ja"}
