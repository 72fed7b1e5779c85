"""The shelf's PyPI downloads: a file already in the cache is reused only at the version asked for."""

from __future__ import annotations

from pathlib import Path

from helpers.shelf import builds


def test_a_cached_download_counts_only_at_the_pinned_version(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(builds, "CACHE", tmp_path)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    for name in ("some_pkg-1.2.2.tar.gz", "some_pkg-1.2.3.tar.gz", "some_pkg-1.2.30.tar.gz"):
        (downloads / name).write_bytes(b"")
    assert builds.pip_download("some-pkg==1.2.3", sdist=True) == downloads / "some_pkg-1.2.3.tar.gz"
