"""How fast the core counts SMS parts: the dispatcher analyzes every body it sends.

Prints messages per second for plain GSM-7, Polish text as UCS-2, and Polish
text transliterated to GSM-7, over bodies of reminder length (1-3 parts).
"""

import sys
import time
import tracemalloc
from pathlib import Path

# The core ships inside the add-on; it imports nothing from Odoo.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "insurance_notify" / "lib"))
from notify_engine import sms  # noqa: E402

BODIES = {
    "gsm7": "Hello Jan, your policy PL/OC/2026/0007 (Toyota Corolla WA 12345) ends on 29/11/2026. "
    "To renew it, contact Anna Nowak, +48 600 123 456. Reply STOP to opt out.",
    "ucs2": "Dzień dobry Pani Małgorzato, polisa OC/AC nr PL/OC/2026/0007 na pojazd WA 12345 "
    "kończy się 29.11.2026. Prosimy o kontakt w sprawie wznowienia: Żaneta Łęcka, 600 123 456.",
}
ROUNDS = 20_000


def measure(label, body, transliterate):
    start = time.perf_counter()
    for _ in range(ROUNDS):
        result = sms.analyze(body, transliterate=transliterate)
    elapsed = time.perf_counter() - start
    print(
        f"{label:<28} {ROUNDS / elapsed:>10,.0f} messages/s   "
        f"({result.encoding}, {result.units} units, {result.parts} parts)"
    )


def main():
    tracemalloc.start()
    measure("GSM-7", BODIES["gsm7"], False)
    measure("UCS-2 (Polish)", BODIES["ucs2"], False)
    measure("Polish, transliterated", BODIES["ucs2"], True)
    _, peak = tracemalloc.get_traced_memory()
    print(f"peak memory: {peak / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
