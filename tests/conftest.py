"""Shared fixtures: every test works on a copy of a vault, never on the repository's own files."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_VAULT = REPO / "example_vault"
CORPORA = REPO.parent / "shared" / "corpora"

_CACHE: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Indexes live in the user's cache folder: point it at a temporary folder for the whole run,
    so that no test writes to ~/.cache. Each vault (a fresh tmp_path) gets its own index folder
    in it, named from its real path, so no two tests share an index; subprocesses inherit it."""
    global _CACHE
    _CACHE = tempfile.mkdtemp(prefix="vaultindex-test-cache-")
    os.environ["XDG_CACHE_HOME"] = _CACHE
    os.environ.pop("VAULTINDEX_INDEX_DIR", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _CACHE:
        shutil.rmtree(_CACHE, ignore_errors=True)


def index_dir(vault_root: Path) -> Path:
    """The index folder of a vault in this test run."""
    from vaultindex import Vault

    return Vault.open(vault_root).index_dir


def build_dir(vault_root: Path) -> Path:
    """The folder of the current build (store.sqlite and fulltext/) of a vault's index."""
    folder = index_dir(vault_root)
    return folder / f"b{(folder / 'current').read_text().strip()}"


@pytest.fixture
def example_copy(tmp_path: Path) -> Path:
    """A fresh copy of example_vault/ in a temporary folder."""
    dest = tmp_path / "vault"
    shutil.copytree(EXAMPLE_VAULT, dest, ignore=shutil.ignore_patterns(".vaultindex"))
    return dest


@pytest.fixture(scope="session")
def generated_vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bench/generate.py's 600 notes (seed 1), synced once per process and shared by the search
    tests that need a vault of some size (under `-n 2`, each worker that runs one of them builds
    its own). Do not modify it: copy it with copy_synced."""
    from vaultindex import Vault

    sys.path.insert(0, str(REPO / "bench"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(REPO / "bench"))
    root = tmp_path_factory.mktemp("generated") / "vault"
    generate(root, 600, seed=1)
    Vault.open(root).sync()
    return root


def copy_synced(src: Path, dest: Path) -> Path:
    """A copy of a synced vault with a copy of its index (which lives outside the vault)."""
    shutil.copytree(src, dest)
    shutil.copytree(index_dir(src), index_dir(dest))
    return dest


@pytest.fixture(scope="session")
def synced_example(tmp_path_factory: pytest.TempPathFactory):
    """One synced copy of example_vault shared by read-only tests (do not modify it)."""
    from vaultindex import Vault

    dest = tmp_path_factory.mktemp("shared") / "vault"
    shutil.copytree(EXAMPLE_VAULT, dest, ignore=shutil.ignore_patterns(".vaultindex"))
    vault = Vault.open(dest)
    vault.sync()
    return vault


def corpus(name: str, tmp_path: Path) -> Path:
    """A copy of one of the real vaults in ../shared/corpora; skips when it is absent."""
    src = CORPORA / name
    if not src.is_dir():
        pytest.skip(f"../shared/corpora/{name} is not here")
    dest = tmp_path / name
    shutil.copytree(src, dest)
    return dest


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
