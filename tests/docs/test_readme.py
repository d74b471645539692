"""The README is the operator's reference: every environment variable the settings read is listed there."""

import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
ENV_READ = re.compile(r'env(?:\.[a-z_]+)?\(\s*"([A-Z][A-Z0-9_]*)"')


def _readme_rows() -> dict[str, str]:
    """`variable` → its default column, from the README's configuration table."""
    rows = {}
    for line in (BASE_DIR / "README.md").read_text().splitlines():
        match = re.match(r"\| `([A-Z][A-Z0-9_]*)` \| ([^|]+) \|", line)
        if match:
            rows[match.group(1)] = match.group(2).strip()
    return rows


def test_every_environment_variable_in_settings_has_a_readme_row_with_a_default():
    read = set(ENV_READ.findall((BASE_DIR / "chatsite" / "settings.py").read_text()))
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= read  # the pattern finds the reads
    rows = _readme_rows()
    assert sorted(read - set(rows)) == []
    assert all(rows[name] for name in read)


def test_readme_commands_are_makefile_targets():
    makefile = (BASE_DIR / "Makefile").read_text()
    readme = (BASE_DIR / "README.md").read_text()
    for target in ("run", "test", "seed", "screenshots"):
        assert f"make {target}" in readme
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target
