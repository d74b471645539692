"""Search sits above the apps it reads: accounts, groups and messaging never import it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_lower_apps_do_not_import_search():
    offenders = []
    for app in ("accounts", "groups", "messaging", "chatsite"):
        for path in (ROOT / app).rglob("*.py"):
            if re.search(r"^\s*(from search\b|import search\b)", path.read_text(), re.MULTILINE):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
