"""CPU per message of rendering a body (messaging.rendering.render), measured in-process.

    .venv/bin/python bench/render_cpu.py [-n 2000]

Rendering runs once per stored or edited message (in `message_send` / `message_edit`),
so this is what formatting adds to the server CPU per message sent that `make bench`
measures. Not a test: timings vary by machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
os.environ.setdefault("SECRET_KEY", "render-cpu-bench")

BODIES = {
    # What bench/loadgen.py sends: "<nonce>:<k>:<sender>:<monotonic_ns>".
    "loadgen": "3f9a1c2e:417:12:93847561234567",
    "typical": "Sounds good, I'll push the fix after lunch and ping you when it's deployed.",
    "two lines": "Morning all!\nStand-up moved to 10:30 today.",
    "formatted": "**Heads up:** `make test` is *red* on main since ~~yesterday~~ this morning.",
    "link": "Notes are here: https://example.com/wiki/release-notes?page=2 (see the last section)",
    "mention": "@alice could you review this before 3?",
    "code block": "```python\ndef total(items):\n    return sum(i.price for i in items)\n```",
    "4,000 characters": "lorem ipsum dolor sit amet " * 148,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="renders per body and round (default 2000)")
    args = parser.parse_args()
    import django

    django.setup()
    from messaging.rendering import render

    mentions = {"alice": 1}
    print(f"{'body':18} {'chars':>6} {'ms per render (median of 5 rounds)':>36}")
    for name, body in BODIES.items():
        n = args.n if len(body) < 500 else max(args.n // 20, 10)
        for _ in range(50):
            render(body, mentions=mentions)  # warm up (lexer lookups, caches)
        rounds = []
        for _ in range(5):
            start = time.process_time()
            for _ in range(n):
                render(body, mentions=mentions)
            rounds.append((time.process_time() - start) / n * 1000)
        print(f"{name:18} {len(body):>6} {statistics.median(rounds):>36.3f}")


if __name__ == "__main__":
    main()
