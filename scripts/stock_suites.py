"""Run Odoo's own test suites with and without insurance_notify and compare.

Invariant 7 of DESIGN.md: installing the add-on changes no stock behaviour.
For each list of stock modules, the suites run twice on dedicated databases
of the same Odoo tree, the way Odoo's own CI runs them (install with
``--test-enable``: at-install tests after each module, post-install tests at
the end): once without the add-on (the baseline) and once with it, installed
and left as a fresh install leaves it. By default without demo data (nothing
configured); with ``--demo`` both runs install the demo data, as Odoo's
runbot and OCA's CI do, so the add-on's demo is held to the same rule: it
changes no stock behaviour. A failure that appears only with the add-on fails
the comparison.

The baseline depends only on the Odoo tree, so it is cached under
``var/stock-suites/`` by a fingerprint of the tree, its requirements, the
Python version and the module list: a second run costs only the run with
the add-on.

Usage: stock_suites.py NAME MODULE[,MODULE...] [--tags TAGS] [--demo]
Prints its log files' paths, the new failures if any, and as last line
``NAME: OK (...)`` or ``NAME: FAILED (...)``; exits 1 on new failures or
when a run did not finish.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
ODOO_PATH = Path(os.environ.get("ODOO_PATH", "/opt/odoo18"))
ADDON = "insurance_notify"
# Bump when the way the suites are run changes: old baselines are then stale.
RUNNER_VERSION = "1"
STOCK_PORT = int(os.environ.get("ODOO_STOCK_PORT") or int(os.environ.get("ODOO_PORT", 8069)) + 1000)

# "... ERROR db odoo.addons.sms.tests.test_x: FAIL: TestX.test_y" and
# "... ERROR db odoo.tests.suite: ERROR: setUpClass (odoo.addons....TestX)".
FAILURE = re.compile(
    r" (?:ERROR|CRITICAL) \S+ (?P<logger>[\w.]+): (?P<kind>FAIL|ERROR): (?P<what>.+?)\s*$"
)
TOTAL = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests")
STATS = re.compile(r"odoo\.tests\.stats: (\w+): (\d+) tests")
CRITICAL = re.compile(r" CRITICAL \S+ (?P<what>.+?)\s*$")


def tree_fingerprint(modules, tags, demo=False):
    """What the baseline depends on: the Odoo tree, its requirements, Python."""
    digest = hashlib.sha256()
    digest.update(f"{RUNNER_VERSION} {sys.version} {modules} {tags} demo={demo}\n".encode())
    head = subprocess.run(
        ["git", "-C", str(ODOO_PATH), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    if head.returncode == 0:
        digest.update(head.stdout.encode())
        status = subprocess.run(
            ["git", "-C", str(ODOO_PATH), "status", "--porcelain"],
            capture_output=True,
            text=True,
            check=False,
        )
        digest.update(status.stdout.encode())
    else:
        # Not a git checkout: the list of source files with sizes and times.
        for folder, dirs, files in os.walk(ODOO_PATH):
            dirs[:] = sorted(d for d in dirs if d not in (".git", "__pycache__", "node_modules"))
            for name in sorted(files):
                if name.endswith((".pyc", ".po", ".pot")):
                    continue
                path = Path(folder, name)
                stat = path.stat()
                digest.update(
                    f"{path.relative_to(ODOO_PATH)} {stat.st_size} {stat.st_mtime_ns}\n".encode()
                )
    for extra in (ODOO_PATH / "requirements.txt", VAR / "odoo-requirements.txt"):
        if extra.exists():
            digest.update(extra.read_bytes())
    return digest.hexdigest()[:16]


def psql_run(*args):
    subprocess.run(args, check=True, capture_output=True)


def run_suites(db, modules, tags, log, demo=False):
    """Install ``modules`` on a new database ``db`` with the tests enabled
    (and their demo data when ``demo``)."""
    psql_run("dropdb", "--if-exists", db)
    filestore = VAR / "data" / "filestore" / db
    subprocess.run(["rm", "-rf", str(filestore)], check=True)
    command = [
        str(ROOT / ".venv" / "bin" / "python"),
        str(ODOO_PATH / "odoo-bin"),
        "-c",
        str(VAR / "odoo.conf"),
        "-d",
        db,
        "-i",
        modules,
        *([] if demo else ["--without-demo=all"]),
        "--test-enable",
        "--test-tags",
        tags,
        "--stop-after-init",
        "--log-level=info",
        # Its own port: the add-on's suite may be serving ODOO_PORT meanwhile.
        f"--http-port={STOCK_PORT}",
    ]
    started = time.monotonic()
    with open(log, "w") as out:
        status = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - started
    psql_run("dropdb", "--if-exists", db)
    subprocess.run(["rm", "-rf", str(filestore)], check=True)
    return parse_log(log, status.returncode, elapsed)


def parse_log(log, returncode, elapsed):
    failures, totals, critical, per_module = set(), None, [], {}
    with open(log, errors="replace") as lines:
        for line in lines:
            match = FAILURE.search(line)
            if match:
                failures.add(f"{match['kind']}: {match['what']}")
                continue
            match = STATS.search(line)
            if match:
                per_module[match[1]] = int(match[2])
                continue
            match = TOTAL.search(line)
            if match:
                totals = [int(value) for value in match.groups()]
                continue
            match = CRITICAL.search(line)
            if match:
                critical.append(match["what"])
    return {
        "failures": sorted(failures),
        # The per-module statistics count every test method; the final line
        # counts a class whose setUpClass failed as one.
        "tests": sum(per_module.values()) or (totals[2] if totals else None),
        "per_module": per_module,
        "finished": totals is not None and not critical,
        "critical": critical,
        "returncode": returncode,
        "seconds": round(elapsed),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("modules")
    parser.add_argument("--tags", help="--test-tags; default: the modules' own tests")
    parser.add_argument("--db-prefix", default="insurance_notify_stock")
    parser.add_argument(
        "--demo", action="store_true", help="install the demo data in both runs (runbot, OCA CI)"
    )
    args = parser.parse_args()
    modules = args.modules
    tags = args.tags or ",".join(f"/{module}" for module in modules.split(","))
    folder = VAR / "stock-suites"
    folder.mkdir(parents=True, exist_ok=True)

    key = tree_fingerprint(modules, tags, args.demo)
    baseline_file = folder / f"baseline-{args.name}-{key}.json"
    if baseline_file.exists():
        baseline = json.loads(baseline_file.read_text())
        print(f"{args.name}: baseline without {ADDON} cached ({baseline_file.name})", flush=True)
    else:
        log = folder / f"{args.name}-without-addon.log"
        print(f"{args.name}: running the suites without {ADDON} (log: {log})", flush=True)
        baseline = run_suites(
            f"{args.db_prefix}_{args.name}_base", modules, tags, log, demo=args.demo
        )
        if baseline["finished"]:
            baseline_file.write_text(json.dumps(baseline, indent=1))

    log = folder / f"{args.name}-with-addon.log"
    print(f"{args.name}: running the suites with {ADDON} (log: {log})", flush=True)
    result = run_suites(
        f"{args.db_prefix}_{args.name}_addon", f"{modules},{ADDON}", tags, log, demo=args.demo
    )
    (folder / f"last-{args.name}.json").write_text(json.dumps(result, indent=1))

    new = sorted(set(result["failures"]) - set(baseline["failures"]))
    gone = sorted(set(baseline["failures"]) - set(result["failures"]))
    for failure in new:
        print(f"  only with {ADDON}: {failure}")
    for failure in gone:
        print(f"  only without {ADDON} (fixed or flaky): {failure}")
    problems = []
    if not baseline["finished"]:
        problems.append(f"the run without {ADDON} did not finish: {baseline['critical'][:1]}")
    if not result["finished"]:
        problems.append(f"the run with {ADDON} did not finish: {result['critical'][:1]}")
    if new:
        problems.append(f"{len(new)} failure(s) only with {ADDON}")
    # A suite that stopped early fails nothing: count what ran, module by module.
    fewer = [
        f"{module} {result.get('per_module', {}).get(module, 0)}/{count}"
        for module, count in baseline.get("per_module", {}).items()
        if result.get("per_module", {}).get(module, 0) < count
    ]
    if fewer:
        problems.append(f"fewer tests ran with {ADDON}: {', '.join(fewer)}")
    figures = (
        f"{result['tests']} stock tests of {modules}, "
        f"{len(result['failures'])} failing as without {ADDON}"
        if not new
        else f"{result['tests']} stock tests of {modules}"
    )
    timing = f"{result['seconds']}s with, baseline {baseline['seconds']}s"
    if problems:
        print(f"{args.name}: FAILED ({'; '.join(problems)}; {figures}; {timing})")
        return 1
    print(f"{args.name}: OK ({figures}; {timing})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
