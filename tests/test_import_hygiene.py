"""The engine and the backend stay reachable without the terminal UI (ARCHITECTURE: arrows)."""

from __future__ import annotations

import json
import subprocess
import sys


def _modules_after(import_stmt: str) -> set[str]:
    code = f"import sys, json\n{import_stmt}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {m.split(".")[0] for m in json.loads(out.stdout)}


def test_engine_imports_no_ui_io_or_storage():
    mods = _modules_after("import carecli.engine, carecli.engine.plan, carecli.engine.policy")
    for forbidden in ("textual", "rich", "httpx", "sqlite3"):
        assert forbidden not in mods, f"carecli.engine pulled in {forbidden}"


def test_engine_modules_import_nothing_of_carecli_outside_engine():
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1] / "src" / "carecli" / "engine"
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                assert not node.module.startswith("carecli.") or node.module.startswith("carecli.engine"), (
                    f"{path.name} imports {node.module}")
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] not in {"textual", "rich", "httpx", "sqlite3", "time",
                                                            "random", "uuid"}, f"{path.name} imports {alias.name}"


def test_backend_imports_no_ui():
    mods = _modules_after("import carecli.backend.contract, carecli.backend.sqlite.store, carecli.cli")
    assert "textual" not in mods, "the backend (or the CLI's sub-commands) pulled in textual"


def test_http_client_needs_no_server_and_server_needs_no_ui():
    mods = _modules_after("import carecli.backend.http, carecli.credentials")
    for forbidden in ("textual", "starlette", "uvicorn", "fastapi"):
        assert forbidden not in mods, f"the HTTP client pulled in {forbidden}"
    mods = _modules_after("import carecli.server.app, carecli.server.openapi, carecli.server.runner")
    assert "textual" not in mods, "the server pulled in textual"
