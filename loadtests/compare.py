"""``make compare BASE=<rev>``: this checkout against another commit, in one run.

A shared machine drifts by ±20% between runs, so "no slower than before" needs both
versions in the same run, interleaved. This checks ``BASE`` out into
``.lumetrix-compare/<rev>`` (a git worktree with a virtualenv of its own, made once),
starts one ``lumetrix serve`` worker of each on the same embedded database and Redis
(``REDIS_URL``, else the local one on DB 14; each under its own key prefix), and loads
each scenario on the two in turn, ``--rounds`` times: the cached page of a student with
1,500 reads, my-progress, mark-read and the leaderboard. It prints each round and, per scenario, the
medians and the median of the per-round ratios (this / base). Figures go to
``loadtests/results/compare.json``.

    python -m loadtests.compare --base dabe066 [--rounds 3] [--seconds 8]
    python -m loadtests.compare --base HEAD --base-env LEAN_PATH=false --scenario my-progress

``--base-env`` sets a variable for the base server only (one setting on and off, same
code); ``--scenario`` (repeatable) picks scenarios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

from app.embedded import EmbeddedMongo, free_port
from app.settings import DEV_JWT_SECRET
from loadtests.bench import RESULTS, _env, prepare, scenarios, server
from loadtests.loadgen import run_load

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".lumetrix-compare"
SCENARIOS = ("samples cached (1500 reads)", "my-progress", "mark-read", "leaderboard")


def checkout(rev: str) -> Path:
    """A worktree of ``rev`` with its own installed virtualenv; its Python."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    tree = WORK / sha
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), sha], cwd=ROOT, check=True)
    python = tree / ".venv" / "bin" / "python"
    if not python.exists():
        subprocess.run(["make", "install"], cwd=tree, check=True)
    return python


def serving(python: Path, cwd: Path, env: dict[str, str]) -> AbstractContextManager[str]:
    """One ``lumetrix serve`` worker of the checkout at ``cwd`` (its own directory first on
    the import path, so it runs its own code)."""
    port = free_port()
    argv = [str(python), "-c", "from app.cli import main; main()", "serve", "--port", str(port)]
    return server(argv, env, port, cwd=cwd)


def main(argv: list[str] | None = None) -> int:
    """Start both, alternate, report."""
    parser = argparse.ArgumentParser(description="this checkout against another commit")
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--base-env", action="append", default=[], metavar="NAME=VALUE", help="base only"
    )
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="default: all")
    args = parser.parse_args(argv)
    chosen = args.scenario or list(SCENARIOS)
    base_env = dict(item.split("=", 1) for item in args.base_env)
    RESULTS.mkdir(parents=True, exist_ok=True)
    base_python = checkout(args.base)
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"
    secret = DEV_JWT_SECRET
    rows: dict[str, dict[str, list[float]]] = {n: {"this": [], "base": []} for n in chosen}
    with ExitStack() as stack:
        embedded = EmbeddedMongo(WORK / "data")
        mongo_url = embedded.start()
        stack.callback(embedded.stop)
        sample_ids = asyncio.run(prepare(mongo_url, "lumetrix_compare", 1500))
        common = {"MONGODB_URL": mongo_url, "MONGODB_DB": "lumetrix_compare"}
        bases = {
            "this": stack.enter_context(
                serving(
                    Path(sys.executable),
                    ROOT,
                    _env(
                        **common,
                        REDIS_URL=redis_url,
                        REDIS_PREFIX="lmxcmp:this:",
                        MARK_READ_RATE="0",
                    ),
                )
            ),
            "base": stack.enter_context(
                serving(
                    base_python,
                    base_python.parent.parent.parent,
                    _env(
                        **common,
                        REDIS_URL=redis_url,
                        REDIS_PREFIX="lmxcmp:base:",
                        MARK_READ_RATE="0",
                        **base_env,
                    ),
                )
            ),
        }
        plan = scenarios(secret, sample_ids)
        for round_ in range(args.rounds):
            for name in chosen:
                _, requests = plan[name]
                # Alternate which goes first, so neither always meets the other's leftovers.
                order = ("this", "base") if round_ % 2 == 0 else ("base", "this")
                for which in order:
                    run_load(bases[which], requests, connections=args.concurrency, seconds=1)
                    result = run_load(
                        bases[which], requests, connections=args.concurrency, seconds=args.seconds
                    )
                    rows[name][which].append(result.rps)
                    print(
                        f"round {round_ + 1} {name} {which}: {result.rps:,.0f} req/s, "
                        f"p99 {result.p99_ms:.1f} ms",
                        flush=True,
                    )
    summary: dict[str, dict[str, object]] = {}
    label = " ".join([args.base, *args.base_env])
    print(
        f"\n| scenario | this req/s (median) | {label} req/s (median) "
        "| this / base (median of rounds) |"
    )
    print("|---|---|---|---|")
    for name, got in rows.items():
        ratios = [a / b for a, b in zip(got["this"], got["base"], strict=True) if b]
        summary[name] = {**got, "ratio_median": statistics.median(ratios)}
        print(
            f"| {name} | {statistics.median(got['this']):,.0f} | "
            f"{statistics.median(got['base']):,.0f} | {statistics.median(ratios):.2f} |"
        )
    (RESULTS / "compare.json").write_text(json.dumps({"base": label, **summary}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
