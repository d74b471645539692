"""How the in-process CPU benchmarks start Django (bench/message_cpu.py, connect_cpu.py, page_cpu.py,
search_cpu.py): the production settings (DEBUG=0) against a bench database, warnings-only logs, the test
client's host allowed, and static files collected into a folder of the benchmark's own. What the environment
already sets wins, except where a benchmark names its database outright (`database_url_from`).
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TMP = ROOT / "bench" / "results" / "tmp"


def start(
    name: str,
    *,
    database_url: str,
    database_url_from: str | None = None,
    redis_prefix: str | None = None,
    static_dir: str = "static",
) -> None:
    """Configure the environment and `django.setup()`. `redis_prefix`: use Redis (REDIS_URL, default db 0) for
    the channel layer and cache under that prefix, and PostgreSQL's pool of 20."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    if database_url_from:
        os.environ["DATABASE_URL"] = os.environ.get(database_url_from, database_url)
    else:
        os.environ.setdefault("DATABASE_URL", database_url)
    if redis_prefix:
        os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
        os.environ.setdefault("CHANNEL_LAYER_PREFIX", redis_prefix)
        os.environ.setdefault("CACHE_KEY_PREFIX", redis_prefix)
        os.environ.setdefault("DB_POOL", "20")
    os.environ.setdefault("SECRET_KEY", f"{name}-bench")
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("STATIC_ROOT", str(TMP / static_dir))
    Path(os.environ["STATIC_ROOT"]).mkdir(parents=True, exist_ok=True)

    import django

    django.setup()


def cpu_figures(cpu: list[float]) -> dict:
    """Mean, median and 10th percentile, in milliseconds, of per-request CPU seconds."""
    return {
        "mean_ms": 1000 * statistics.fmean(cpu),
        "median_ms": 1000 * statistics.median(cpu),
        "p10_ms": 1000 * statistics.quantiles(cpu, n=10)[0],
    }
