"""The apps form layers that point one way (README, "Layout"): each imports only the layers below it.

    chatsite (shared pieces) < audit < accounts < groups < messaging < people, search (features)

A lower app that needs something from above offers a registry the higher app fills
(accounts/registry.py, groups/registry.py). chatsite is also the project's root: its
URLs, settings and ASGI entry point put everything together, so only those may import
any app.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEVEL = {"chatsite": 0, "audit": 1, "accounts": 2, "groups": 3, "messaging": 4, "people": 5, "search": 5}
COMPOSITION_ROOTS = {"chatsite/urls.py", "chatsite/asgi.py", "chatsite/routing.py", "chatsite/settings.py"}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
    return found


def _violations(app: str) -> list[str]:
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        if "migrations" in path.parts or relative in COMPOSITION_ROOTS:
            continue
        for imported in _imports(path):
            if imported in LEVEL and imported != app and LEVEL[imported] >= LEVEL[app]:
                found.append(f"{relative} imports {imported}")
    return found


@pytest.mark.parametrize("app", sorted(LEVEL))
def test_each_app_imports_only_the_layers_below_it(app):
    assert (ROOT / app).is_dir()
    assert _violations(app) == []


def test_the_check_sees_imports():
    assert "django" in _imports(ROOT / "accounts" / "models.py")
    assert "accounts" in _imports(ROOT / "groups" / "services.py")
