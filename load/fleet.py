#!/usr/bin/env python3
"""Fleet check: two replicas and one PostgreSQL under the faults a fleet meets, counting
every update that reaches a stand-in Twilio. Nothing may be lost or sent twice.

    python3 load/fleet.py [--binary target/release/assignment-router]

Builds the release binary (unless given one; `.ci/run` passes its own), starts a throwaway PostgreSQL (as load/store.py does), a stand-in
for Twilio's API in this process (it counts each Reservation's updates, can answer 503 for a
while, and answers the `GET` a takeover makes first with the Reservation's status: `pending`
until an update has landed), and two replicas on it with the REST rules of load/run.py.
Then, in order:

1. duplicates: every callback sent to both replicas at once;
2. `kill -9` mid-delivery: Twilio answering 503, one replica given callbacks and killed
   once they are claimed; the other must land them (after their lease) before their
   deadline;
3. the store stopped: callbacks are still answered, at once, and delivered from memory;
   then each is sent again to the other replica (TaskRouter's retry), which checks with
   Twilio and sends nothing;
4. the store restarted: the updates sent from memory are written to it (so a late retry
   of each finds it claimed), and new decisions are claimed in it again (duplicates across
   replicas send once), with no replica restarted;
5. a replica stalled past its lease (`SIGSTOP`, as a starved or frozen process is) while
   Twilio fails: the other takes its updates over meanwhile, and once it runs again it must
   stop sending them, so that each is sent by one replica only;
6. one replica alone, killed with `-9` while holding updates and started again: they land
   after the restart;
7. the tally: every Reservation sent has exactly one update that Twilio answered 2xx, and
   every callback was answered 200 within TaskRouter's 5 seconds.

Exits 1 on any Reservation whose update was lost or landed twice, or any callback not
answered 200 in time. About two minutes after the build. Loopback only; every process it
starts is stopped at the end, and PostgreSQL's folder removed.
"""

import argparse
import collections
import concurrent.futures
import http.client
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as harness  # noqa: E402  (rules, signing, process handling)
import store  # noqa: E402  (the throwaway PostgreSQL, metrics scraping)

REPLICAS = [(18080, 19090), (18083, 19091)]
TWILIO_PORT = 18082
LEASE_SECS = 4
TASKROUTER_WINDOW = 5.0


class Twilio(http.server.ThreadingHTTPServer):
    """The stand-in: what it was sent, Reservation by Reservation."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", TWILIO_PORT), TwilioHandler)
        self.lock = threading.Lock()
        self.landed = collections.Counter()  # 2xx answers to updates
        self.refused = collections.Counter()  # 503 answers to updates
        self.fetched = collections.Counter()  # GETs (checks before sending: takeovers, and updates sent while the store is away)
        self.failing_until = 0.0

    def fail_for(self, seconds):
        self.failing_until = time.monotonic() + seconds

    def handle_error(self, request, client_address):
        # A replica killed with -9 resets its connections to the stand-in: that is the test,
        # not a fault of the stand-in's, so it is not printed as one.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class TwilioHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_arguments):
        pass

    def answer(self, status, sid, reservation_status):
        body = json.dumps({"sid": sid, "reservation_status": reservation_status}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's name)
        sid = self.path.rsplit("/", 1)[-1]
        with self.server.lock:
            self.server.fetched[sid] += 1
            status = "accepted" if self.server.landed[sid] else "pending"
        self.answer(200, sid, status)

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        sid = self.path.rsplit("/", 1)[-1]
        with self.server.lock:
            if time.monotonic() < self.server.failing_until:
                self.server.refused[sid] += 1
                failing = True
            else:
                self.server.landed[sid] += 1
                failing = False
        if failing:
            self.answer(503, sid, "pending")
        else:
            self.answer(200, sid, "accepted")


class Fleet:
    def __init__(self, binary, work, postgres):
        self.binary, self.work, self.postgres = binary, work, postgres
        self.rules = os.path.join(work, "rules.toml")
        with open(self.rules, "w") as out:
            out.write(harness.rules(10, "rest"))
        self.processes = [None, None]
        self.next_reservation = 0
        self.sent = []  # every Reservation a callback was sent for
        self.slow = []  # (replica, sid, status, seconds) answers not 200 or not in time
        self.starts = 0

    def start(self, n):
        port, admin = REPLICAS[n]
        self.starts += 1
        log = open(os.path.join(self.work, f"replica-{n + 1}.{self.starts}.log"), "w")
        environment = dict(
            os.environ, TWILIO_AUTH_TOKEN=harness.TOKEN, APP_RULES__PATH=self.rules,
            RUST_LOG="info", APP_STORE__URL=self.postgres.url,
            APP_STORE__LEASE_SECS=str(LEASE_SECS), APP_SERVER__PORT=str(port),
            APP_ADMIN__PORT=str(admin), APP_LOG__FORMAT="json")
        process = subprocess.Popen(
            [self.binary, "serve", "--config", os.path.join(harness.ROOT, "load", "settings.toml")],
            env=environment, stdout=log, stderr=subprocess.STDOUT)
        store.STARTED.append(process)
        self.processes[n] = process
        harness.wait_for(f"http://127.0.0.1:{admin}/ready")

    def kill(self, n):
        self.processes[n].send_signal(signal.SIGKILL)
        self.processes[n].wait()

    def terminate(self, n):
        harness.stop(self.processes[n])

    def callbacks(self, count):
        """`count` signed callbacks for Reservations not used before: (sid, signature, body)."""
        path = os.path.join(self.work, f"bodies-{self.next_reservation}.tsv")
        harness.signed_bodies(path, count, "q5", self.next_reservation)
        self.next_reservation += count
        made = []
        with open(path) as lines:
            for line in lines:
                signature, body = line.rstrip("\n").split("\t", 1)
                sid = next(part.split("=", 1)[1] for part in body.split("&")
                           if part.startswith("ReservationSid="))
                made.append((sid, signature, body))
        os.remove(path)
        self.sent.extend(sid for sid, _, _ in made)
        return made

    def send(self, n, callback):
        sid, signature, body = callback
        started = time.monotonic()
        status = None
        try:
            connection = http.client.HTTPConnection("127.0.0.1", REPLICAS[n][0], timeout=10)
            connection.request("POST", "/assignment", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature})
            response = connection.getresponse()
            response.read()
            status = response.status
            connection.close()
        except OSError as error:
            status = f"{type(error).__name__}"
        took = time.monotonic() - started
        if status != 200 or took > TASKROUTER_WINDOW:
            self.slow.append((n + 1, sid, status, took))
        return took

    def send_all(self, pairs):
        """Sends every (replica, callback) at once, 32 at a time; the answers' seconds."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
            return list(pool.map(lambda pair: self.send(*pair), pairs))

    def metric(self, n, name, **labels):
        return store.total(store.scrape(REPLICAS[n][1]), name, **labels)


def wait_until(what, condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    print(f"  FAILED: {what} within {timeout:.0f} s")
    return False


def step(text):
    print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)


def rows(postgres, sids, state=None):
    """How many of these Reservations have a row in the outbox (in `state`, when given)."""
    listed = ",".join(f"'{sid}'" for sid in sids)
    where = f"reservation_sid in ({listed})" + (f" and state = '{state}'" if state else "")
    return int(postgres.query(f"select count(*) from assignment_router_updates where {where}"))


def main():
    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, lambda number, _frame: sys.exit(128 + number))
    for variable in ("DATABASE_URL", "APP_STORE__URL"):
        os.environ.pop(variable, None)
    for port in [TWILIO_PORT] + [p for pair in REPLICAS for p in pair]:
        if not harness.port_free(port):
            sys.exit(f"port {port} is in use: stop whatever holds it first")
    parser = argparse.ArgumentParser(description="Two replicas and one PostgreSQL under faults.")
    parser.add_argument("--binary", help="the service binary to run, as built already (CI's "
                        "release build); without it, the checkout's release build is made")
    arguments = parser.parse_args()
    if arguments.binary:
        binary = os.path.abspath(arguments.binary)
    else:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "assignment-router"],
                       cwd=harness.ROOT, check=True)
        binary = os.path.join(harness.ROOT, "target", "release", "assignment-router")
    work = tempfile.mkdtemp(prefix="assignment-router-fleet-")
    twilio = Twilio()
    threading.Thread(target=twilio.serve_forever, daemon=True).start()
    postgres = store.Postgres()
    failures = []
    try:
        postgres.start()
        fleet = Fleet(binary, work, postgres)
        fleet.start(0)
        fleet.start(1)

        step("1. duplicates: 300 callbacks, each to both replicas at once")
        batch = fleet.callbacks(300)
        fleet.send_all([(n, callback) for callback in batch for n in (0, 1)])
        if not wait_until("300 updates landed", lambda: all(twilio.landed[s] for s, _, _ in batch), 20):
            failures.append("duplicates: updates missing")
        won = sum(fleet.metric(n, "assignment_router_store_claims_total", result="won") for n in (0, 1))
        lost = sum(fleet.metric(n, "assignment_router_store_claims_total", result="lost") for n in (0, 1))
        print(f"  claims won {won:.0f}, lost {lost:.0f}")

        step(f"2. kill -9 mid-delivery: Twilio answers 503 for 6 s; 50 callbacks to replica 1, "
             f"killed once they are claimed; lease {LEASE_SECS} s")
        twilio.fail_for(6)
        batch = fleet.callbacks(50)
        sids = [s for s, _, _ in batch]
        fleet.send_all([(0, callback) for callback in batch])
        if not wait_until("50 claims pending in the store", lambda: rows(postgres, sids, 'pending') == 50, 5):
            failures.append("kill -9: claims not in the store")
        refused_before = sum(twilio.refused[s] for s in sids)
        fleet.kill(0)
        killed_at = time.monotonic()
        print(f"  replica 1 killed with {rows(postgres, sids, 'pending')} pending, "
              f"{refused_before} attempts refused so far")
        if not wait_until("50 updates landed", lambda: all(twilio.landed[s] for s in sids), 60):
            failures.append("kill -9: updates lost")
        print(f"  all landed {time.monotonic() - killed_at:.1f} s after the kill; takeovers at "
              f"replica 2: {fleet.metric(1, 'assignment_router_outbox_takeovers_total'):.0f}; "
              f"GETs before sending: {sum(twilio.fetched[s] for s in sids)}")
        fleet.start(0)

        step("3. the store stopped: 100 callbacks, half to each replica, then each to the other")
        postgres.halt()
        batch = fleet.callbacks(100)
        took = fleet.send_all([(i % 2, callback) for i, callback in enumerate(batch)])
        print(f"  answered: slowest {max(took) * 1000:.0f} ms, median "
              f"{sorted(took)[len(took) // 2] * 1000:.1f} ms; store unavailable: "
              f"{sum(fleet.metric(n, 'assignment_router_store_unavailable_total') for n in (0, 1)):.0f}")
        if not wait_until("100 updates landed from memory",
                          lambda: all(twilio.landed[s] for s, _, _ in batch), 20):
            failures.append("store stopped: updates lost")
        # TaskRouter's retry (or the fallback URL) of each, at the other replica: with no
        # store to ask, it checks with Twilio and sends nothing (the tally counts a second).
        fleet.send_all([(1 - i % 2, callback) for i, callback in enumerate(batch)])
        if not wait_until("the retries checked with Twilio",
                          lambda: all(twilio.fetched[s] >= 2 for s, _, _ in batch), 20):
            failures.append("store stopped: a retry at the other replica was not checked")

        step("4. the store restarted: the updates sent from memory written to it, and 200 "
             "callbacks, each to both replicas at once")
        postgres.serve()
        if not wait_until("both replicas see the store", lambda: all(
                fleet.metric(n, "assignment_router_store_up") == 1 for n in (0, 1)), 30):
            failures.append("store restarted: a replica's store_up stayed 0")
        from_memory = [s for s, _, _ in batch]
        if not wait_until("the updates sent from memory in the store", lambda: rows(
                postgres, from_memory, "sent_from_memory") == len(from_memory), 20):
            failures.append("store restarted: updates sent from memory not written to it")
        # A late retry of each, now at the replica that did not send it: claimed already.
        fleet.send_all([(i % 2 ^ 1, callback) for i, callback in enumerate(batch)])
        def claims():
            """(from memory, won, lost) over both replicas."""
            return [sum(fleet.metric(n, name, **labels) for n in (0, 1)) for name, labels in (
                ("assignment_router_store_unavailable_total", {}),
                ("assignment_router_store_claims_total", {"result": "won"}),
                ("assignment_router_store_claims_total", {"result": "lost"}))]
        before = claims()
        batch = fleet.callbacks(200)
        fleet.send_all([(n, callback) for callback in batch for n in (0, 1)])
        unavailable, won, lost = (a - b for a, b in zip(claims(), before))
        print(f"  claims won {won:.0f}, lost {lost:.0f}, sent from memory (store unavailable) "
              f"{unavailable:.0f}")
        if not wait_until("200 updates landed", lambda: all(twilio.landed[s] for s, _, _ in batch), 20):
            failures.append("store restarted: updates missing")
        stored = rows(postgres, [s for s, _, _ in batch])
        print(f"  claimed in the store again: {stored} of 200")
        if stored != 200:
            failures.append(f"store restarted: {200 - stored} decisions not durable")

        stalled = LEASE_SECS + 3
        step(f"5. a replica stalled past its lease: Twilio answers 503 for {stalled + 8} s; 30 "
             f"callbacks to replica 1, stopped (SIGSTOP) for {stalled} s, then let run again")
        twilio.fail_for(stalled + 8)
        batch = fleet.callbacks(30)
        sids = [s for s, _, _ in batch]
        takeovers_before = fleet.metric(1, "assignment_router_outbox_takeovers_total")
        fleet.send_all([(0, callback) for callback in batch])
        wait_until("30 claims pending", lambda: rows(postgres, sids, 'pending') == 30, 5)
        fleet.processes[0].send_signal(signal.SIGSTOP)
        time.sleep(stalled)
        attempts = "assignment_router_rest_update_attempts_total"
        fleet.processes[0].send_signal(signal.SIGCONT)
        resumed = fleet.metric(0, attempts)
        if not wait_until("30 updates landed", lambda: all(twilio.landed[s] for s in sids), 40):
            failures.append("stalled replica: updates lost")
        time.sleep(1)
        # Once it runs again, the stalled replica must leave the updates taken over to their
        # new holder: every further request of its own is a second sender of an update.
        again = fleet.metric(0, attempts) - resumed
        if again > 10:  # none is expected; a store error read as "still mine" could make a few
            failures.append(f"stalled replica: {again:.0f} requests for updates another replica "
                            f"had taken over")
        print(f"  taken over by replica 2: "
              f"{fleet.metric(1, 'assignment_router_outbox_takeovers_total') - takeovers_before:.0f}"
              f"; requests by replica 1 once it ran again: {again:.0f}; POSTs answered 2xx: "
              f"{sum(twilio.landed[s] for s in sids)}")

        step("6. one replica alone: replica 1 stopped (SIGTERM); Twilio answers 503 for 5 s; "
             "30 callbacks to replica 2, killed with -9 and started again")
        fleet.terminate(0)
        twilio.fail_for(5)
        batch = fleet.callbacks(30)
        sids = [s for s, _, _ in batch]
        fleet.send_all([(1, callback) for callback in batch])
        wait_until("30 claims pending", lambda: rows(postgres, sids, 'pending') == 30, 5)
        fleet.kill(1)
        fleet.start(1)
        restarted_at = time.monotonic()
        if not wait_until("30 updates landed after the restart",
                          lambda: all(twilio.landed[s] for s in sids), 60):
            failures.append("restart: updates lost")
        print(f"  all landed {time.monotonic() - restarted_at:.1f} s after the restart")

        step("7. the tally, after 3 s for anything still on its way")
        time.sleep(3)
        lost_sids = [s for s in fleet.sent if twilio.landed[s] == 0]
        twice = [s for s in fleet.sent if twilio.landed[s] > 1]
        print(f"  Reservations {len(fleet.sent)}: landed once "
              f"{sum(1 for s in fleet.sent if twilio.landed[s] == 1)}, lost {len(lost_sids)}, "
              f"landed more than once {len(twice)}; 503s answered "
              f"{sum(twilio.refused.values())}; callbacks not 200 within "
              f"{TASKROUTER_WINDOW:.0f} s: {len(fleet.slow)}")
        if lost_sids:
            failures.append(f"lost: {lost_sids[:5]}")
        if twice:
            failures.append(f"landed twice: {twice[:5]}")
        if fleet.slow:
            failures.append(f"callbacks not answered 200 in time: {fleet.slow[:5]}")
    finally:
        for process in reversed(store.STARTED):
            if process is not postgres.process:
                harness.stop(process)
        postgres.stop()
        twilio.shutdown()
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        print(f"replica logs kept in {work}")
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("passed: nothing lost, nothing sent twice")


if __name__ == "__main__":
    main()
