"""`modelarts-sim ctl`: drive a running simulator's /_sim controls from a shell or a CI step.

    modelarts-sim ctl [--url URL] clock                      print the simulation clock
    modelarts-sim ctl advance SECONDS                        move it on
    modelarts-sim ctl advance-resource KIND ID               a resource's next status, now
    modelarts-sim ctl fail KIND ID [--reason R]              a resource fails, now
    modelarts-sim ctl reset                                  everything back to the fixtures
    modelarts-sim ctl snapshot FILE | restore FILE           save or load the whole state
    modelarts-sim ctl faults                                 the fault rules in force

--url defaults to $MODELARTS_SIM_URL, else http://127.0.0.1:9550. Exit status 2 when the
simulator does not answer or refuses (the reason on standard error).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from simulator.clock import iso_utc

DEFAULT_URL = "http://127.0.0.1:9550"


def add_parser(subparsers):
    p = subparsers.add_parser("ctl", help="drive a running simulator: clock, lifecycles, reset, "
                              "snapshots, faults",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default=None,
                   help="the simulator's URL (default $MODELARTS_SIM_URL, else %s)" % DEFAULT_URL)
    sub = p.add_subparsers(dest="ctl_command", required=True, metavar="COMMAND")
    clock = sub.add_parser("clock", help="print the simulation clock")
    clock.add_argument("--json", action="store_true", help="as JSON")
    adv = sub.add_parser("advance", help="move the simulation clock on by SECONDS")
    adv.add_argument("seconds", type=float, metavar="SECONDS")
    res = sub.add_parser("advance-resource", help="move a resource to its next status now")
    res.add_argument("kind", metavar="KIND", help="dataset, dataset-import, training-job-v2, "
                     "service, notebook, ... (the simulator lists them when one is unknown)")
    res.add_argument("id", metavar="ID")
    fail = sub.add_parser("fail", help="make a resource fail now")
    fail.add_argument("kind", metavar="KIND")
    fail.add_argument("id", metavar="ID")
    fail.add_argument("--reason", default=None, help="the failure reason it reports")
    sub.add_parser("reset", help="everything back to the fixtures (resources, traces, OBS)")
    snap = sub.add_parser("snapshot", help="save the whole state to FILE")
    snap.add_argument("file", metavar="FILE")
    rest = sub.add_parser("restore", help="load the state saved in FILE")
    rest.add_argument("file", metavar="FILE")
    faults = sub.add_parser("faults", help="list the fault rules in force")
    faults.add_argument("--json", action="store_true", help="as JSON")
    return p


def command(args) -> int:
    from simulator.testing.client import HttpTransport, ModelArtsSim, SimulatorError
    from simulator.identity.accounts import Directory

    url = args.url or os.environ.get("MODELARTS_SIM_URL") or DEFAULT_URL
    # the controls need no identity; a helper over the default accounts carries them
    transport = HttpTransport(url, timeout=60)
    try:
        helper = ModelArtsSim(transport, Directory.load(), "cn-north-4")
        return _run(helper, args)
    except SimulatorError as exc:
        print("modelarts-sim ctl: %s" % exc, file=sys.stderr)
        return 2
    except OSError as exc:  # a snapshot file that cannot be read or written
        print("modelarts-sim ctl: %s" % exc, file=sys.stderr)
        return 2
    finally:
        transport.close()


def _run(helper, args) -> int:
    cmd = args.ctl_command
    if cmd == "clock":
        state = helper.clock()
        if args.json:
            print(json.dumps(state))
        else:
            print("%s  (%d ms)%s" % (iso_utc(state["now"]), state["now"],
                                     "  frozen" if state["frozen"] else ""))
    elif cmd == "advance":
        if args.seconds < 0:
            print("modelarts-sim ctl: the clock only moves forward", file=sys.stderr)
            return 2
        state = helper.advance(args.seconds)
        print("clock advanced %gs: now %s%s" % (args.seconds, iso_utc(state["now"]),
                                                 " (frozen)" if state["frozen"] else ""))
    elif cmd in ("advance-resource", "fail"):
        if cmd == "fail":
            out = helper.fail_resource(args.kind, args.id, args.reason)
        else:
            out = helper.advance_resource(args.kind, args.id)
        print("%s %s: %s%s" % (out["kind"], out["id"], out["status"],
                               "" if out.get("changed", True) else " (unchanged)"))
    elif cmd == "reset":
        helper.reset()
        print("reset: fixtures only")
    elif cmd == "snapshot":
        data = helper.snapshot()
        with open(args.file, "wb") as fh:
            fh.write(data)
        print("saved %d bytes to %s" % (len(data), args.file))
    elif cmd == "restore":
        with open(args.file, "rb") as fh:
            data = fh.read()
        helper.restore(data)
        print("restored %s" % args.file)
    elif cmd == "faults":
        rules = helper.faults()
        if args.json:
            print(json.dumps(rules, indent=2))
        elif not rules:
            print("no fault rules")
        for rule in rules if not args.json else ():
            rest = ", ".join("%s=%s" % (k, v) for k, v in rule.items() if k != "id")
            print("%s  %s" % (rule.get("id", "?"), rest))
    return 0


def main(argv=None) -> int:
    """For running this module alone: python -m simulator.testing.ctl ..."""
    parser = argparse.ArgumentParser(prog="modelarts-sim")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
