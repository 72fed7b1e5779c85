"""Where the kit lives, spelled once: every Colab badge, clone cell and README link is generated from it.

The repository URL is ``[project.urls] Repository`` in ``pyproject.toml``. This
module writes, from that one value:

* each notebook's badge, pointing at that notebook itself (translations included);
* each English notebook's first code cell, the one that clones the kit in Colab
  (the translation build copies it into ``notebooks/<lang>/``);
* the badges in the READMEs.

A fork runs ``make colab-links REPO=owner/name`` (``python -m helpers.tooling.colab_links
--repo owner/name``) once; ``--check`` lists what is out of date and changes nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import nbformat

from helpers.core.paths import NOTEBOOKS, REPO_ROOT, atomic_write_text, relative

PYPROJECT = REPO_ROOT / "pyproject.toml"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\(https://colab\.research\.google\.com/github/[^)]*\)")
COLAB_URL = re.compile(r"https://colab\.research\.google\.com/github/[^/\s)]+/[^/\s)]+/blob/main/")
REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
URL_LINE = re.compile(r'^(Repository\s*=\s*)"https://github\.com/[^"]*"', re.MULTILINE)
#: The first code cell of every notebook. Kept short: the work is in helpers/tooling/bootstrap.py, which the clone brings.
INSTALL_CELL = """\
# In Colab or Kaggle: fetch the kit, install what this notebook needs (keeping the runtime's own torch) and work inside it.
# Locally this cell does nothing: `make run` has already set everything up.
import os
import subprocess
import sys

KIT_URL = "{url}.git"
if "google.colab" in sys.modules or "KAGGLE_KERNEL_RUN_TYPE" in os.environ:
    KIT = os.environ.setdefault("OPENLLM_ROUTES_KIT", os.path.abspath("openllm-routes"))
    if not os.path.isdir(KIT) and subprocess.run(["git", "clone", "--quiet", "--depth", "1", KIT_URL, KIT]).returncode:
        raise SystemExit(f"Could not clone {{KIT_URL}}: check that this runtime is online, then run this cell again.")
    sys.path.insert(0, KIT)
    from helpers.tooling.bootstrap import prepare

    prepare(KIT)"""


class LinkError(ValueError):
    """A repository name or URL that cannot be used; the message shows the expected form."""


def repo_url(pyproject: Path = PYPROJECT) -> str:
    """``https://github.com/owner/name``, from ``[project.urls] Repository``."""
    urls = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("urls", {})
    url = urls.get("Repository", "")
    if not re.fullmatch(r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", url):
        raise LinkError(f"{relative(pyproject)} [project.urls] Repository is {url!r}; it must be https://github.com/owner/name.")
    return url


def badge(url: str, path: Path) -> str:
    """The Colab badge that opens ``path`` (a notebook in the repository) from GitHub."""
    owner_name = url.removeprefix("https://github.com/")
    return f"[![Open In Colab]({BADGE_IMAGE})](https://colab.research.google.com/github/{owner_name}/blob/main/{relative(path)})"


def install_cell(url: str) -> str:
    return INSTALL_CELL.format(url=url)


def all_notebooks(root: Path = NOTEBOOKS) -> list[Path]:
    """English notebooks and their translations (``notebooks/<lang>/``), in order."""
    return sorted(p for p in root.rglob("*.ipynb") if not any(part.startswith(".") for part in p.relative_to(root).parts))


def _is_translation(path: Path, root: Path) -> bool:
    return path.parent != root


def _linked(path: Path, url: str, root: Path) -> str | None:
    """The notebook's text with its badge (and, for English notebooks, its install cell) generated from the URL."""
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    if first.cell_type != "markdown" or not BADGE.search(first.source):
        raise LinkError(f"{relative(path)}: its first cell has no Open In Colab badge to point at the notebook.")
    first.source = BADGE.sub(lambda _: badge(url, path), first.source, count=1)
    if not _is_translation(path, root):
        nb.cells[1].source = install_cell(url)
    return nbformat.writes(nb) + "\n"


def readmes() -> list[Path]:
    return sorted(REPO_ROOT.glob("README*.md"))


def _linked_readme(path: Path, url: str) -> str:
    owner_name = url.removeprefix("https://github.com/")
    return COLAB_URL.sub(f"https://colab.research.google.com/github/{owner_name}/blob/main/", path.read_text(encoding="utf-8"))


def out_of_date(url: str | None = None, root: Path = NOTEBOOKS) -> list[str]:
    """The files whose links do not come from the URL: empty when everything is generated."""
    url = url or repo_url()
    stale = [relative(p) for p in all_notebooks(root) if _linked(p, url, root) != p.read_text(encoding="utf-8")]
    return stale + [relative(p) for p in readmes() if _linked_readme(p, url) != p.read_text(encoding="utf-8")]


def write_links(url: str | None = None, root: Path = NOTEBOOKS) -> list[str]:
    """Regenerate every badge, install cell and README link from the URL; return the files that changed."""
    url = url or repo_url()
    changed = []
    for path in all_notebooks(root):
        text = _linked(path, url, root)
        if text != path.read_text(encoding="utf-8"):
            atomic_write_text(path, text)
            changed.append(relative(path))
    for path in readmes():
        text = _linked_readme(path, url)
        if text != path.read_text(encoding="utf-8"):
            atomic_write_text(path, text)
            changed.append(relative(path))
    return changed


def retarget(repo: str, pyproject: Path = PYPROJECT) -> str:
    """Point the kit at ``owner/name`` on GitHub: the one URL in ``pyproject.toml``; the links follow with :func:`write_links`."""
    repo = repo.strip().removeprefix("https://github.com/").removesuffix(".git").strip("/")
    if not REPO.fullmatch(repo):
        raise LinkError(f"REPO={repo!r} is not owner/name (for example REPO=my-org/openllm-routes).")
    text = pyproject.read_text(encoding="utf-8")
    if not URL_LINE.search(text):
        raise LinkError(f"{relative(pyproject)} has no [project.urls] Repository line to rewrite.")
    atomic_write_text(pyproject, URL_LINE.sub(lambda m: f'{m.group(1)}"https://github.com/{repo}"', text, count=1))
    return repo_url(pyproject)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.tooling.colab_links", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", help="owner/name on GitHub: rewrite pyproject.toml's URL first")
    parser.add_argument("--check", action="store_true", help="list what is out of date and change nothing")
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = out_of_date()
            for name in stale:
                print(f"out of date: {name} (run `make colab-links`)")
            return 1 if stale else 0
        url = retarget(args.repo) if args.repo else repo_url()
        changed = write_links(url)
    except LinkError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"links point at {url}; rewrote {len(changed)} file(s)" + (": " + ", ".join(changed) if changed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
