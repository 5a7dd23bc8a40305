"""The one table of a bench run: read the JSON lines the benchmarks appended
to one results file and print absolute times and the ratios against targets.

Usage (scripts/bench does this): report.py RESULTS_FILE
"""

import json
import sys

# Width of the measure column.
LABEL = 68

TARGETS = {
    "ratio": 50,  # base_automation / planner, at least
    "growth": 1.2,  # planner at N x / planner at 1 x, at most
    "sms_rate": 1000,  # SMS/s per worker for SMSAPI at 20 ms, at least
    "screen": 0.3,  # seconds of server time, at most
    "dry_run": 2.0,  # seconds, at most
    "outcomes": 60.0,  # seconds to settle 1,000,000 messages (the daily job), at most
}


def row(label, value, target="", verdict=""):
    print(f"| {label:<{LABEL}} | {value:>18} | {target:>13} | {verdict:<4} |")


def ok(good):
    return "ok" if good else "MISS"


def main():
    with open(sys.argv[1]) as results:
        figures = [json.loads(line) for line in results if line.strip()]
    planner, replan = (
        {f["book"]: f for f in figures if f["kind"] == "planner" and f["contender"] == contender}
        for contender in ("planner", "replan")
    )
    automations = [f for f in figures if f["kind"] == "planner" and f["contender"] == "automations"]
    line = f"+{'-' * (LABEL + 2)}+{'-' * 20}+{'-' * 15}+{'-' * 6}+"
    print(line)
    row("measure", "result", "target", "")
    print(line)
    for book, figure in planner.items():
        row(
            f"planner, one day, book {book} ({figure['partners']:,} partners, "
            f"{figure['installments'] // 1000:,}k inst.)"[:LABEL],
            f"{figure['seconds']:.3f} s",
            "< 5 s" if book != "1x" else "",
            ok(figure["seconds"] < 5) if book != "1x" else "",
        )
        row(f"  queries / messages planned ({book})", f"{figure['queries']} / {figure['messages']}")
        again = replan.get(book)
        if again:
            row(f"  hourly re-plan ({book}): time; messages queued again",
                f"{again['seconds']:.3f} s; {again['messages']}")  # fmt: skip
    for runs, name in ((planner, "planner"), (replan, "re-plan")):
        for book, figure in runs.items():
            first = runs.get("1x")
            if first and book != "1x":
                growth = figure["seconds"] / first["seconds"]
                size = figure["installments"] / first["installments"]
                row(f"{name} growth {book} / 1x (book {size:.1f}x as large)", f"{growth:.2f}x",
                    f"<= {TARGETS['growth']}x", ok(growth <= TARGETS["growth"]))  # fmt: skip
    for figure in automations:
        row(f"base_automation, same day, book {figure['book']}", f"{figure['seconds']:.3f} s")
        mine = planner.get(figure["book"])
        if mine:
            ratio = figure["seconds"] / mine["seconds"]
            row("  ratio base_automation / planner", f"{ratio:.0f}",
                f">= {TARGETS['ratio']}", ok(ratio >= TARGETS["ratio"]))  # fmt: skip
    for figure in (f for f in figures if f["kind"] == "dispatch"):
        per_worker = figure["rate"] / figure["workers"]
        label = (
            f"dispatch {figure['provider']}, {figure['workers']} worker(s), "
            f"{figure['sent']}/{figure['messages']} sent"
        )
        target, verdict = "", ""
        if figure["provider"] == "smsapi":
            target = f">={TARGETS['sms_rate']}/worker"
            verdict = ok(per_worker >= TARGETS["sms_rate"])
        row(label, f"{figure['rate']:.0f} SMS/s", target, verdict)
        row("  requests; duplicates at the provider; queries/msg",
            f"{figure['requests']}; {figure['duplicates']}; {figure['queries_per_message']:.2f}",
            "0 dup.", ok(figure["duplicates"] == 0))  # fmt: skip
    for figure in (f for f in figures if f["kind"] == "dry_run"):
        good = figure["seconds"] < TARGETS["dry_run"]
        row(f"dry run of one day ({figure['lines']} lines, {figure['history'] // 1000:,}k msgs)",
            f"{figure['seconds']:.2f} s",
            f"< {TARGETS['dry_run']:.0f} s", ok(good))  # fmt: skip
    for figure in (f for f in figures if f["kind"] == "outcomes"):
        good = figure["seconds"] < TARGETS["outcomes"]
        row(f"outcomes settled and totals kept ({figure['messages']:,} messages)",
            f"{figure['seconds']:.1f} s", f"< {TARGETS['outcomes']:.0f} s", ok(good))  # fmt: skip
    for figure in (f for f in figures if f["kind"] == "screen"):
        size = figure.get("size") or f"{figure['history'] // 1000:,}k msgs"
        row(f"{figure['label']} ({size})"[:LABEL],
            f"{figure['seconds'] * 1000:.0f} ms", f"< {TARGETS['screen'] * 1000:.0f} ms",
            ok(figure["seconds"] < TARGETS["screen"]))  # fmt: skip
    print(line)


if __name__ == "__main__":
    main()
