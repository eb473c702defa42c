#!/usr/bin/env python3
"""Soak: the release binary under a steady mix of valid, forged and malformed callbacks,
with REST rules against a local stand-in for Twilio, for a fixed time at a fixed rate.

    python3 load/soak.py [--seconds 600] [--rate 200]

Prints requests and errors by kind, REST updates landed, and the service's RSS every 30
seconds, after a warm-up and at the end. The warm-up is a tenth of the run, but at least
until the service's bounded memory is full: decided Reservations are remembered for
`twilio.update_deadline_secs` (120 by default), so that table grows for the first two
minutes and is steady after. Exits 1 on any unexpected answer or error, or if RSS grew by
more than 10% after the warm-up. Loopback only; bounded in time.
"""

import argparse
import collections
import http.client
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the load harness: builds, rules, signing, process handling)

EXPECTED = {"valid": 200, "forged": 403, "malformed": 400}
# twilio.update_deadline_secs as the soak runs it (the default): how long a decided
# Reservation is remembered, so how long until that table stops growing.
REMEMBERED_SECS = 120


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def bodies(path):
    """Valid callbacks (each its own Reservation), plus forged and malformed variants."""
    valid = []
    with open(path) as lines:
        for line in lines:
            signature, body = line.rstrip("\n").split("\t", 1)
            valid.append((signature, body))
    return valid


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--rate", type=int, default=200, help="requests per second")
    arguments = parser.parse_args()

    for port in (run.SERVICE_PORT, run.MOCK_PORT, run.ADMIN_PORT):
        if not run.port_free(port):
            sys.exit(f"port {port} is in use: stop whatever holds it first")
    subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "assignment-router",
                    "--example", "mock_twilio"], cwd=run.ROOT, check=True)
    target = os.path.join(run.ROOT, "target", "release")
    work = tempfile.mkdtemp(prefix="assignment-router-soak-")
    total = arguments.seconds * arguments.rate
    signed = os.path.join(work, "bodies.tsv")
    run.signed_bodies(signed, int(total * 0.8) + 1000, "q5")
    valid = bodies(signed)
    rules_path = os.path.join(work, "rules.toml")
    with open(rules_path, "w") as out:
        out.write(run.rules(10, "rest"))

    mock = subprocess.Popen([os.path.join(target, "examples", "mock_twilio"),
                             str(run.MOCK_PORT), "50"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = os.path.join(work, "service.log")
    service = run.service(os.path.join(target, "assignment-router"), rules_path, log)
    counts = collections.Counter()
    unexpected = collections.Counter()
    lock = threading.Lock()
    jobs = queue.Queue(maxsize=arguments.rate * 2)

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", run.SERVICE_PORT, timeout=10)
        while True:
            job = jobs.get()
            if job is None:
                return
            kind, signature, body = job
            try:
                connection.request("POST", "/assignment", body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": signature,
                })
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", run.SERVICE_PORT, timeout=10)
            with lock:
                counts[kind] += 1
                if status != EXPECTED[kind]:
                    unexpected[(kind, status)] += 1

    try:
        run.wait_for_port(run.MOCK_PORT)
        run.wait_for(f"http://127.0.0.1:{run.ADMIN_PORT}/ready")
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(8)]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        warm_up = max(arguments.seconds / 10, REMEMBERED_SECS + 10)
        warm_rss = None
        samples = []
        next_valid = 0
        sent = 0
        while time.monotonic() - started < arguments.seconds:
            elapsed = time.monotonic() - started
            if warm_rss is None and elapsed >= warm_up:
                warm_rss = rss_mb(service.pid)
            if elapsed >= 30 * len(samples):
                samples.append((int(elapsed), rss_mb(service.pid)))
            draw = random.random()
            if draw < 0.7:
                signature, body = valid[next_valid % len(valid)]
                next_valid += 1
                jobs.put(("valid", signature, body))
            elif draw < 0.85:
                signature, body = valid[random.randrange(len(valid))]
                tampered = body.replace("TaskAge=42", "TaskAge=43")
                jobs.put(("forged", signature, tampered))
            else:
                broken = "TaskSid=%zz&ReservationSid=" + urllib.parse.quote("WR" + "0" * 32)
                jobs.put(("malformed", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", broken))
            sent += 1
            # Hold the rate: sleep until this request's slot.
            delay = started + sent / arguments.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        for _ in threads:
            jobs.put(None)
        for thread in threads:
            thread.join(timeout=30)
        time.sleep(1)
        end_rss = rss_mb(service.pid)
        landed = run.metric('assignment_router_rest_updates_total{outcome="landed"}')
        pending_dropped = run.metric('assignment_router_rest_updates_total{outcome="dropped"}')
    finally:
        run.stop(service)
        run.stop(mock)

    growth = (end_rss - warm_rss) / warm_rss * 100 if warm_rss else float("nan")
    print(f"{arguments.seconds}s at {arguments.rate}/s: {sum(counts.values())} requests")
    for kind in EXPECTED:
        print(f"  {kind:<10} {counts[kind]:>8}  expected {EXPECTED[kind]}")
    print(f"REST updates landed: {landed:.0f} (valid callbacks: {counts['valid']}), "
          f"dropped: {pending_dropped:.0f}")
    print("RSS (s: MB): " + ", ".join(f"{at}: {mb:.1f}" for at, mb in samples))
    if warm_rss is None:
        print(f"RSS growth not measured: the run is shorter than the {warm_up:.0f} s warm-up")
    else:
        print(f"RSS after the {warm_up:.0f} s warm-up {warm_rss:.1f} MB, at end {end_rss:.1f} MB "
              f"({growth:+.1f}%)")
    if unexpected:
        print("unexpected answers:")
        for (kind, status), count in sorted(unexpected.items(), key=str):
            print(f"  {kind}: {status} x{count}")
    failed = bool(unexpected) or (warm_rss is not None and not growth < 10) \
        or landed < counts["valid"]
    print("FAILED" if failed else "ok: no unexpected answer, RSS growth under 10%")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
