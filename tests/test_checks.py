"""CI checks types and lint after the tests, with the settings the README describes."""

from __future__ import annotations

import tomllib

from conftest import REPO


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_ci_runs_mypy_and_ruff_on_the_package_after_the_tests():
    lines = [ln.strip() for ln in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    tests = next(i for i, ln in enumerate(lines) if "python -m pytest" in ln)
    assert lines.index("python -m mypy vaultindex") > tests
    assert lines.index("python -m ruff check vaultindex bench docs tests") > tests
    assert "set -euo pipefail" in lines  # a failing check fails CI


def test_mypy_checks_untyped_code_and_ignores_only_named_untyped_libraries():
    mypy = _pyproject()["tool"]["mypy"]
    assert mypy["check_untyped_defs"] is True
    assert mypy["warn_unused_ignores"] is True
    assert mypy["no_implicit_optional"] is True
    assert "ignore_missing_imports" not in mypy  # only per module, below
    for override in mypy["overrides"]:
        assert override.get("ignore_missing_imports") is True
        assert "vaultindex" not in str(override["module"])


def test_the_test_extra_installs_the_checkers():
    extra = " ".join(_pyproject()["project"]["optional-dependencies"]["test"])
    for name in ("mypy>=", "ruff>=", "types-PyYAML>=", "types-networkx>="):
        assert name in extra
