"""vaultindex: keep a vault of Markdown paper notes searchable and connected.

    from vaultindex import Vault
    vault = Vault.open("example_vault")
    vault.sync()
    for hit in vault.search("data pruning").hits:
        print(hit.path, hit.title)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public names and the module that defines each; imported on first use so that
# `vaultindex --help` does not pay for YAML, Whoosh or networkx.
_EXPORTS = {
    "Vault": "vault",
    "SearchResult": "hits",
    "VaultIndexError": "errors",
    "Citation": "models",
    "Diagnostic": "models",
    "Heading": "models",
    "Link": "models",
    "Note": "models",
    "Paper": "models",
    "SearchHit": "models",
    "Section": "models",
    "SyncStats": "models",
}

__all__ = [*_EXPORTS, "__version__"]  # noqa: PLE0604 - the keys of _EXPORTS are strings


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'vaultindex' has no attribute {name!r}")
