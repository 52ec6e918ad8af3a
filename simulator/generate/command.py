"""The `generate` subcommand's arguments and what it prints."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timezone
from pathlib import Path

from simulator.clock import Clock
from simulator.generate import Options, generate, writers
from simulator.generate.engine import DAY_MS
from simulator.generate.scenarios import SCENARIOS, describe
from simulator.settings import BUCKET

MIN_DAYS, MAX_DAYS, MAX_TEAMS = 1 / 24, 3660, 500


def add_parser(sub) -> None:
    p = sub.add_parser("generate", help="write a synthetic CTS trace dataset: an organisation's "
                       "week of real calls, with labelled scenarios")
    p.add_argument("--days", type=float, default=7, help="how long a window (default 7)")
    p.add_argument("--teams", type=int, default=3, help="how many teams (default 3)")
    p.add_argument("--seed", type=int, default=0, help="same seed, same bytes (default 0)")
    p.add_argument("--start", help="the window's first instant, UTC: 2026-11-01 or "
                   "2026-11-01T08:00:00 (default: --days before today's 00:00 UTC, or before "
                   "the clock of the simulator given with --into)")
    p.add_argument("--scenario", default="all", metavar="NAME[,NAME...]",
                   help="scenarios to mix in: names, 'all' (default) or 'none'")
    p.add_argument("--out", help="folder for the traces, labels.jsonl, scenarios.jsonl, "
                   "organisation.json and summary.json")
    p.add_argument("--format", dest="fmt", default="jsonl", choices=writers.FORMATS,
                   help="jsonl (default), json, csv, or obs (CloudTraces/... trace files)")
    p.add_argument("--traces", type=int, help="about this many traces (the CI robots' pace "
                   "is set to reach it)")
    p.add_argument("--into", metavar="URL", help="also load the traces (and the "
                   "organisation's accounts) into the simulator running at URL")
    p.add_argument("--into-bucket", dest="into_bucket", metavar="BUCKET",
                   help="with --into: write trace files into this bucket of its OBS")
    p.add_argument("--region", default="cn-north-4", help="region (default cn-north-4)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    p.add_argument("--list-scenarios", action="store_true", help="describe the scenarios")


def _scenarios(text: str) -> list[str]:
    if text == "all":
        return list(SCENARIOS)
    if text in ("none", ""):
        return []
    names = [name.strip() for name in text.split(",") if name.strip()]
    return list(dict.fromkeys(names))  # each once: labels name a scenario, not an instance


def parse_start(text: str) -> int:
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"):
        try:
            when = datetime.strptime(text.rstrip("Z"), fmt)
        except ValueError:
            continue
        at = int(when.replace(tzinfo=timezone.utc).timestamp() * 1000)
        if at < EARLIEST_START_MS:
            raise ValueError("--start %r is before 2001-09-09 (CTS times have 13 digits)" % text)
        return at
    raise ValueError("--start %r is not a date (2026-11-01) or a UTC time "
                     "(2026-11-01T08:00:00)" % text)


def _default_start(args) -> int:
    if args.into:
        from simulator.generate.remote import Remote
        end = Remote(args.into).clock_ms() // 60_000 * 60_000
    else:
        end = Clock().now_ms() // DAY_MS * DAY_MS
    return end - int(args.days * DAY_MS)


REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
EARLIEST_START_MS = 1_000_000_000_000  # 2001-09-09: CTS times are 13-digit milliseconds


def _check(args) -> str | None:
    if not (MIN_DAYS <= args.days <= MAX_DAYS):  # also refuses nan and inf
        return "--days must be between %g and %d" % (MIN_DAYS, MAX_DAYS)
    if not 1 <= args.teams <= MAX_TEAMS:
        return "--teams must be between 1 and %d" % MAX_TEAMS
    if args.traces is not None and args.traces < 1:
        return "--traces must be positive"
    if not REGION.match(args.region):
        return "--region %r is not a region name such as cn-north-4" % args.region
    if args.into_bucket is not None:
        if args.into is None:
            return "--into-bucket needs --into URL (the simulator that has the bucket)"
        if not BUCKET.match(args.into_bucket) or ".." in args.into_bucket:
            return "--into-bucket %r is not a bucket name" % args.into_bucket
    if args.out is None and args.into is None:
        return "say where the traces go: --out DIR, or --into URL"
    return None


def command(args) -> int:
    if args.list_scenarios:
        sys.stdout.write(describe())
        return 0
    problem = _check(args)
    if problem:
        print("modelarts-sim generate: %s" % problem, file=sys.stderr)
        return 2
    from simulator.generate.remote import RemoteError
    try:
        opts = Options(days=args.days, teams=args.teams, seed=args.seed,
                       scenarios=_scenarios(args.scenario),
                       out=Path(args.out) if args.out else None, fmt=args.fmt,
                       traces=args.traces, into=args.into, into_bucket=args.into_bucket,
                       region=args.region, progress=not args.quiet and sys.stderr.isatty(),
                       start_ms=parse_start(args.start) if args.start else _default_start(args))
        result = generate(opts)
    except (ValueError, RemoteError) as exc:
        print("modelarts-sim generate: %s" % exc, file=sys.stderr)
        return 2
    if not args.quiet:
        sys.stdout.write(result.summary.table())
        if opts.out is not None:
            print("\nwritten to %s: %s" % (opts.out, ", ".join(
                str(p.relative_to(opts.out)) for p in result.files)))
            if result.trace_files:
                print("%d trace files under %s/CloudTraces" % (result.trace_files, opts.out)
                      if opts.fmt == "obs" else "%d trace files" % result.trace_files)
        if opts.into:
            print("loaded into %s: %d traces stored, %d older than its retention skipped" % (
                opts.into, result.stored, result.expired))
    return 0
