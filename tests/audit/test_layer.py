"""audit is the bottom layer: every app may record events, and it imports none of them."""

import ast
from pathlib import Path

AUDIT = Path(__file__).resolve().parents[2] / "audit"
APPS = {"accounts", "groups", "messaging", "chatsite"}


def test_audit_imports_no_other_app():
    imported = set()
    for path in AUDIT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
    assert "django" in imported  # the walk finds the imports
    assert imported & APPS == set()
