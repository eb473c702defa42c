#!/usr/bin/env python3
"""Load harness for the shared PostgreSQL store, in one run, on this machine.

    python3 load/store.py [--seconds N] [--rounds R] [--paced-rounds P] [--store-options O]

Builds what load/run.py builds, starts a throwaway PostgreSQL server of its own (the programs
of `pg_config --bindir` or /usr/lib/postgresql/N/bin, run as the `postgres` system user, on a
free loopback port, default durability: fsync and synchronous_commit left on), and measures:

a. inline throughput flat out (wrk -t2 -c10, 10 inline rules, signature checked,
   RUST_LOG=warn) with the memory store and with the PostgreSQL store configured, and their
   ratio: inline answers never touch the store, so it should cost them nothing (their
   decision records go to it, off the answer path: the CPU seconds of the service, of its
   recorder thread, and of PostgreSQL are shown for each run);
b. callback latency paced at about 1,000 a second (RUST_LOG at the shipped level, info, as
   run.py's paced runs; each of wrk's 10 connections waits 10 ms after each answer, so slower
   answers also lower the rate): inline rules with the store configured, REST rules with the memory
   store, REST rules with the PostgreSQL store (each REST callback waits for its claim to
   commit), with Twilio's stand-in answering at once; the claim's latency from the
   service's own histogram; and, after each REST round with the store, the disk alone for
   3 s (an 8 kB write and fdatasync, a WAL flush's work, about every millisecond in
   PostgreSQL's folder), since a claim's commit waits for one;
c. two replicas (two service processes on their own ports, one PostgreSQL) driven flat out by
   one wrk each, RUST_LOG=warn, with Twilio's stand-in answering at once: REST updates landed
   per second while the load runs, claims won and lost, and the outbox's pending updates at
   the end and after it has had a few seconds to settle (from the replicas' gauges and
   straight from SQL), with how long the backlog took to drain;
d. each replica's peak RSS (VmHWM) after run c.

Every REST callback names a Reservation not used before anywhere in the run, so every one of
them is claimed in the store (a repeat would be answered from the service's memory, and a
Reservation already in the table would be a lost claim). Runs a and c alternate over R rounds
(default 3) and b over P rounds (default R + 2), variants in turn, and the medians are
compared, as in run.py. About 7 minutes at the defaults, plus the build.

Targets: throughput with the store configured ≥ 0.95× without; REST p99 with the store ≤
inline p99 + 2 ms; ≥ 1,000 updates landed a second with two replicas, with no growth of the
outbox after the load stops. A missed target is printed as MISSED; the exit status is 0
unless the harness itself could not run.

Only loopback addresses are used, every run is bounded in time, and every process started is
stopped at the end (SIGTERM, then SIGKILL); the PostgreSQL server is stopped and its data
folder removed whatever happens.
"""

import argparse
import collections
import concurrent.futures
import json
import math
import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as harness  # noqa: E402  (load/run.py: its helpers, and the same ports and token)

# The second replica listens here; its public URL stays the first one's, as two replicas
# behind one load balancer share one Assignment Callback URL (and so one signature).
SECOND_PORT, SECOND_ADMIN_PORT = 18083, 19091
MOCK_PORT = harness.MOCK_PORT
TARGETS = {
    "inline throughput, PostgreSQL store / memory store": (">=", 0.95, "×"),
    "REST p99 with the store − inline p99": ("<=", 2.0, " ms"),
    "REST updates landed per second, two replicas": (">=", 1000.0, "/s"),
    "pending updates: growth after settling": ("<=", 0.0, ""),
    # No target of its own: run.py's 40 MB is for inline callbacks, and flat out with REST
    # rules a replica also holds up to max_pending_updates updates and max_in_flight requests.
    "peak RSS per replica (largest)": (None, None, " MB"),
}
# The replicas' outbox gauges are refreshed every 5 s: waiting longer than that after the load
# stops gives a reading taken after it.
SETTLE_SECONDS = 6.0
# A first guess at how many REST callbacks a second one replica answers flat out, to size the
# pool of distinct Reservations for the first round of run c; later rounds size it from what
# the previous round reached.
FLAT_REST_GUESS = 4000
# Every process this harness starts, so that whatever happens all are stopped at the end.
STARTED = []


def launch(command, **kwargs):
    process = subprocess.Popen(command, **kwargs)
    STARTED.append(process)
    return process


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_programs():
    """The folder of PostgreSQL's `initdb` and `postgres`, looked for as the store tests look:
    `pg_config --bindir`, then Debian's /usr/lib/postgresql/N/bin, newest first. Debian's
    pg_config comes with libpq-dev, not with the server, so a machine may have one without the
    other. Exits saying so when there is none."""
    candidates = []
    try:
        done = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                              timeout=30)
        if done.returncode == 0:
            candidates.append(done.stdout.strip())
    except OSError:
        pass
    majors = []
    for name in os.listdir("/usr/lib/postgresql") if os.path.isdir("/usr/lib/postgresql") else []:
        if name.isdigit():
            majors.append(int(name))
    candidates += [f"/usr/lib/postgresql/{major}/bin" for major in sorted(majors, reverse=True)]
    for folder in candidates:
        if all(os.access(os.path.join(folder, program), os.X_OK)
               for program in ("initdb", "postgres", "psql")):
            return folder
    sys.exit("no PostgreSQL server programs (initdb, postgres and psql under `pg_config "
             "--bindir` or /usr/lib/postgresql/*/bin): install Debian's `postgresql` package")


class Postgres:
    """A throwaway PostgreSQL server: its own folder, its own port, gone at the end."""

    def __init__(self, settings=(), url_options=""):
        self.settings = [part for setting in settings for part in ("-c", setting)]
        self.bindir = server_programs()
        self.folder = tempfile.mkdtemp(prefix="assignment-router-pg-")
        # PostgreSQL refuses to run as root: the server and initdb run as `postgres`, which
        # must own the folder.
        user = pwd.getpwnam("postgres")
        os.chown(self.folder, user.pw_uid, user.pw_gid)
        self.data = os.path.join(self.folder, "data")
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        # What the replicas connect with: psql (the harness's own queries) keeps the plain URL.
        self.service_url = self.url
        if url_options:
            self.service_url += "?options=" + urllib.parse.quote(url_options, safe="")
        self.log = os.path.join(self.folder, "postgres.log")
        self.process = None

    def as_postgres(self, program, *arguments):
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--",
                os.path.join(self.bindir, program), *arguments]

    def start(self):
        initdb = subprocess.run(
            self.as_postgres("initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                             "-E", "UTF8"),
            cwd=self.folder, capture_output=True, text=True, timeout=180)
        if initdb.returncode != 0:
            sys.exit(f"initdb failed:\n{initdb.stdout}{initdb.stderr}")
        self.serve()

    def serve(self):
        """Starts the server on the folder made by `start` (again, after `halt`), and returns
        once it answers."""
        # Durability as shipped (fsync, synchronous_commit and full_page_writes on): a claim
        # must reach the disk before its `{}` is answered, and the figures have to pay for it.
        # The socket goes in the server's own folder, not /var/run/postgresql, which another
        # server may use.
        self.process = launch(
            self.as_postgres("postgres", "-D", self.data, "-p", str(self.port),
                             "-c", "listen_addresses=127.0.0.1",
                             "-c", f"unix_socket_directories={self.folder}",
                             # Times the WAL's flushes (pg_stat_wal), to tell the disk's part
                             # in a claim's latency; it changes nothing about durability.
                             "-c", "track_wal_io_timing=on", *self.settings),
            cwd=self.folder, stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"postgres stopped at start:\n{self.log_text()}")
            if self.query("select 1", check=False) == "1":
                return
            time.sleep(0.2)
        sys.exit(f"postgres did not answer within 30 s:\n{self.log_text()}")

    def query(self, sql, check=True):
        done = subprocess.run(
            [os.path.join(self.bindir, "psql"), "-X", "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", "-d", "postgres", "-Atc", sql],
            capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            if check:
                sys.exit(f"psql failed on {sql!r}: {done.stderr.strip()}")
            return None
        return done.stdout.strip()

    def states(self):
        """The outbox's rows by state, straight from the table."""
        text = self.query("select state, count(*) from assignment_router_updates group by 1",
                          check=False)
        if text is None:
            return {}
        return {state: int(count) for state, count in
                (line.split("|") for line in text.splitlines() if line)}

    def cpu_seconds(self):
        """CPU time so far of this server: its postmaster and every process it started
        (backends, WAL writer, checkpointer), while they live."""
        if self.process is None:
            return 0.0
        postmaster = self.process.pid  # setpriv execs postgres: the same process
        pids = [postmaster]
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if parent == postmaster:
                pids.append(int(entry))
        return sum(cpu_seconds(pid) for pid in pids)

    def wal_syncs(self):
        """WAL flushes to disk so far, and the milliseconds they took in all."""
        text = self.query("select wal_sync, wal_sync_time from pg_stat_wal", check=False)
        if not text:
            return (0.0, 0.0)
        syncs, took = text.split("|")
        return (float(syncs), float(took))

    def log_text(self):
        try:
            with open(self.log) as log:
                return log.read()[-4000:]
        except OSError:
            return ""

    def halt(self):
        """Stops the server and keeps its data, for `serve` to start it again."""
        # SIGINT is PostgreSQL's fast shutdown: clients are disconnected, nothing is waited for.
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stop(self):
        self.halt()
        shutil.rmtree(self.folder, ignore_errors=True)


def scrape(admin_port):
    """Every sample on a replica's /metrics, as (name, labels, value)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, value = line.rsplit(" ", 1)
        labels = {}
        if "{" in head:
            head, inside = head[:-1].split("{", 1)
            for pair in inside.split(","):
                if pair:
                    key, quoted = pair.split("=", 1)
                    labels[key] = quoted.strip('"')
        samples.append((head, labels, float(value)))
    return samples


def total(samples, name, **labels):
    return sum(v for n, l, v in samples
               if n == name and all(l.get(k) == want for k, want in labels.items()))


def quantile_ms(samples, name, q, **labels):
    """A quantile from a histogram's buckets, interpolated inside its bucket (the buckets of
    store_latency_seconds double from 0.5 ms, so this is a coarse figure)."""
    buckets = sorted(
        (float(l["le"]), v) for n, l, v in samples
        if n == name + "_bucket" and all(l.get(k) == want for k, want in labels.items()))
    if not buckets or buckets[-1][1] == 0:
        return float("nan")
    rank = q * buckets[-1][1]
    low, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return low * 1000
            return (low + (bound - low) * (rank - below) / max(count - below, 1e-9)) * 1000
        low, below = bound, count
    return float("nan")


def mean_ms(samples, name, **labels):
    count = total(samples, name + "_count", **labels)
    return total(samples, name + "_sum", **labels) / count * 1000 if count else float("nan")


class Harness:
    def __init__(self, seconds, work, binary, mock_binary, postgres):
        self.seconds = seconds
        self.work = work
        self.binary = binary
        self.mock_binary = mock_binary
        self.postgres = postgres
        self.next_reservation = 0
        self.run_number = 0
        # Warnings and errors the services logged, by run and message.
        self.log_problems = collections.Counter()

    def distinct_bodies(self, per_thread, name):
        """Two files (one per wrk thread) of callbacks for Reservations never used before in
        this run; returns the prefix post_once.lua takes."""
        prefix = os.path.join(self.work, f"bodies-{name}")
        jobs = []
        with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
            for thread in range(2):
                jobs.append(pool.submit(harness.signed_bodies, f"{prefix}.{thread}", per_thread,
                                        "q5", self.next_reservation))
                self.next_reservation += per_thread
            for job in jobs:
                job.result()
        return prefix

    def drop_bodies(self, prefix):
        for thread in range(2):
            try:
                os.remove(f"{prefix}.{thread}")
            except OSError:
                pass

    def service(self, rules_path, name, log_level, store, second=False):
        """A replica; returns once it is ready (and, with the store, once it has the schema)."""
        extra = {}
        if store:
            extra["APP_STORE__URL"] = self.postgres.service_url
        port, admin = harness.SERVICE_PORT, harness.ADMIN_PORT
        if second:
            port, admin = SECOND_PORT, SECOND_ADMIN_PORT
            extra.update(APP_SERVER__PORT=str(port), APP_ADMIN__PORT=str(admin))
        self.run_number += 1
        log = os.path.join(self.work, f"{self.run_number:03d}-{name.replace(' ', '-')}.log")
        process = harness.service(self.binary, rules_path, log, log_level=log_level,
                                  extra_env=extra)
        STARTED.append(process)
        process.log_path, process.label, process.admin = log, name, admin
        harness.wait_for(f"http://127.0.0.1:{admin}/ready")
        if store and total(scrape(admin), "assignment_router_store_up") != 1:
            print(f"  note: {name}: the store is not up after start; its claims go to memory")
        return process

    def stop_service(self, process):
        harness.stop(process)
        self.scan_log(process.log_path, process.label)
        os.remove(process.log_path)

    def scan_log(self, path, label):
        with open(path, errors="replace") as log:
            for line in log:
                if '"level":"WARN"' not in line and '"level":"ERROR"' not in line:
                    continue
                try:
                    entry = json.loads(line)
                    message = f"{entry['level']} {entry['fields'].get('message', '')}"
                except (ValueError, KeyError, AttributeError):
                    message = line.strip()
                self.log_problems[(label, message[:200])] += 1

    def mock(self):
        # At the lowest CPU priority, as in run.py: the real Twilio does not share the
        # service's two cores.
        process = launch(["nice", "-n", "19", self.mock_binary, str(MOCK_PORT), "0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        harness.wait_for_port(MOCK_PORT)
        return process


def disk_flushes(folder, seconds):
    """The disk alone, as a claim's commit meets it: an 8 kB write and its fdatasync (the WAL's
    flush, PostgreSQL's default `wal_sync_method`) about every millisecond for `seconds`, in
    `folder` (PostgreSQL's own, so the same filesystem), with nothing else of the harness's
    running. Their (p50, p99) in ms."""
    path = os.path.join(folder, "flush-probe")
    took = []
    block = os.urandom(8192)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        stop = time.monotonic() + seconds
        offset = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            os.pwrite(descriptor, block, offset)
            os.fdatasync(descriptor)
            took.append((time.perf_counter() - started) * 1000)
            # Round a 16 MB file, as the WAL's segments are.
            offset = (offset + len(block)) % (16 << 20)
            time.sleep(0.001)
    finally:
        os.close(descriptor)
        os.remove(path)
    took.sort()
    return (took[len(took) // 2], took[min(len(took) - 1, int(len(took) * 0.99))])


def cpu_seconds(pid, thread_name=None):
    """CPU time (user and system) of process `pid` so far, or of its threads named
    `thread_name` (Linux truncates names to 15 characters)."""
    tick = os.sysconf("SC_CLK_TCK")
    tasks = [str(pid)] if thread_name is None else os.listdir(f"/proc/{pid}/task")
    seconds = 0.0
    for task in tasks:
        base = f"/proc/{pid}" if thread_name is None else f"/proc/{pid}/task/{task}"
        try:
            if thread_name is not None:
                with open(f"{base}/comm") as comm:
                    if comm.read().strip() != thread_name[:15]:
                        continue
            with open(f"{base}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            seconds += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return seconds


def progress(what):
    # The load average says whether something else was busy on the machine meanwhile.
    print(f"{time.strftime('%H:%M:%S')} {what} (load average {os.getloadavg()[0]:.2f})")


def wal_delta(before, after):
    """WAL flushes between two readings, and their mean time in ms."""
    syncs = after[0] - before[0]
    return (syncs, (after[1] - before[1]) / syncs if syncs else float("nan"))


def rotate(items, by):
    by %= len(items)
    return items[by:] + items[:by]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of the flat-out runs (a and c)")
    parser.add_argument("--paced-rounds", type=int, default=None,
                        help="rounds of the paced runs (b); default rounds + 2, since a paced "
                             "p99 rests on about a hundred samples")
    parser.add_argument("--postgres-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a server setting for the throwaway PostgreSQL (`-c NAME=VALUE`), "
                             "to see what one costs, e.g. synchronous_commit=off; the shipped "
                             "figures use none")
    parser.add_argument("--store-options", default="", metavar="OPTIONS",
                        help="the `options` parameter of the replicas' store URL, as libpq "
                             "reads it (settings for their sessions only), e.g. "
                             "'-c synchronous_commit=off'; the shipped figures use none")
    arguments = parser.parse_args()
    seconds, rounds = arguments.seconds, max(arguments.rounds, 1)
    paced_rounds = max(arguments.paced_rounds or rounds + 2, 1)

    # Line by line, so that progress shows when the output goes to a file.
    sys.stdout.reconfigure(line_buffering=True)
    # A SIGTERM ends the harness through its `finally` blocks, like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda number, _frame: sys.exit(128 + number))
    # The memory-store runs must not pick up a store from the caller's environment.
    for variable in ("DATABASE_URL", "APP_STORE__URL"):
        os.environ.pop(variable, None)

    if shutil.which("wrk") is None:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    ports = (harness.SERVICE_PORT, harness.ADMIN_PORT, MOCK_PORT, SECOND_PORT, SECOND_ADMIN_PORT)
    for port in ports:
        if not harness.port_free(port):
            sys.exit(f"port {port} is in use: stop whatever holds it first")
    subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "assignment-router",
                    "--example", "bare", "--example", "mock_twilio"], cwd=harness.ROOT,
                   check=True)
    target = os.path.join(harness.ROOT, "target", "release")

    work = tempfile.mkdtemp(prefix="assignment-router-store-load-")
    postgres = None
    try:
        postgres = Postgres(arguments.postgres_setting, arguments.store_options)
        postgres.start()
        measure(seconds, rounds, paced_rounds, work, target, postgres)
    finally:
        for process in reversed(STARTED):
            if process is not (postgres and postgres.process):
                harness.stop(process)
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(work, ignore_errors=True)


def measure(seconds, rounds, paced_rounds, work, target, postgres):
    h = Harness(seconds, work, os.path.join(target, "assignment-router"),
                os.path.join(target, "examples", "mock_twilio"), postgres)
    paths = {}
    for name, text in (("inline", harness.rules(10)), ("rest", harness.rules(10, "rest"))):
        paths[name] = os.path.join(work, f"rules-{name}.toml")
        with open(paths[name], "w") as out:
            out.write(text)
    # Run a cycles through these, as run.py's flat-out runs do: inline answers are the same
    # work for a Reservation seen before.
    cycled = os.path.join(work, "bodies-cycled.tsv")
    harness.signed_bodies(cycled, 20000, "q5")
    h.next_reservation = 20000

    version = postgres.query("show server_version")
    settings = postgres.query(
        "select string_agg(name || '=' || setting, ' ' order by name) from pg_settings where "
        "name in ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', "
        "'shared_buffers', 'track_wal_io_timing')")
    filesystem = subprocess.run(["findmnt", "-no", "FSTYPE", "-T", postgres.folder],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start; "
          f"wrk -t2 -c10 -d{seconds}s on loopback; work in {work}")
    print(f"PostgreSQL {version} on 127.0.0.1:{postgres.port}, data on {filesystem}; {settings}")
    if postgres.service_url != postgres.url:
        print(f"  the replicas' sessions: {postgres.service_url.split('?', 1)[1]}")
    if filesystem in ("tmpfs", "ramfs"):
        print("  note: the data folder is in memory: fsync costs nothing here and the store's "
              "figures flatter it")

    # a. Inline, flat out, memory store against the PostgreSQL store configured. The order
    # flips every round, so that neither always runs second.
    flat = {"inline flat out, memory store": [], "inline flat out, PostgreSQL store": []}
    progress(f"a. inline flat out, {rounds} rounds")
    for round_number in range(rounds):
        for name in rotate(list(flat), round_number):
            process = h.service(paths["inline"], name, "warn", store="PostgreSQL" in name)
            try:
                # Where the CPU went: the service, its decision recorder (a thread of it, at
                # the lowest priority), and PostgreSQL (the records it is sent).
                cpu_before = (cpu_seconds(process.pid),
                              cpu_seconds(process.pid, "decision-records"),
                              postgres.cpu_seconds())
                run = harness.wrk(harness.PUBLIC_URL, cycled, seconds)
                cpu_after = (cpu_seconds(process.pid),
                             cpu_seconds(process.pid, "decision-records"),
                             postgres.cpu_seconds())
                run["cpu"] = tuple(a - b for a, b in zip(cpu_after, cpu_before))
                run["rss_mb"] = harness.peak_rss_mb(process.pid)
                flat[name].append(run)
            finally:
                h.stop_service(process)

    # b. Paced, about 1,000 callbacks a second. Each REST run gets Reservations of its own,
    # with some to spare (wrk's pacing gives somewhat under 1,000 a second).
    paced = {"paced inline, PostgreSQL store": [], "paced REST, memory store": [],
             "paced REST, PostgreSQL store": []}
    per_thread = int(seconds * 500 * 1.3) + 200
    progress(f"b. paced, {paced_rounds} rounds")
    for round_number in range(paced_rounds):
        for name in rotate(list(paced), round_number):
            rest = "REST" in name
            store = "PostgreSQL" in name
            prefix = h.distinct_bodies(per_thread, f"paced-{round_number}") if rest else None
            mock = h.mock() if rest else None
            process = h.service(paths["rest" if rest else "inline"], name, "info", store=store)
            try:
                wal_before = postgres.wal_syncs()
                if rest:
                    run = harness.wrk(harness.PUBLIC_URL, prefix, seconds, delay_ms=10,
                                      script="post_once.lua")
                    # Long enough for the last updates to land at Twilio's stand-in.
                    time.sleep(1.5)
                    samples = scrape(harness.ADMIN_PORT)
                    run["landed"] = total(samples, "assignment_router_rest_updates_total",
                                          outcome="landed")
                    run["won"] = total(samples, "assignment_router_store_claims_total",
                                       result="won")
                    run["lost"] = total(samples, "assignment_router_store_claims_total",
                                        result="lost")
                    run["unavailable"] = total(samples, "assignment_router_store_unavailable_total")
                    run["claim_p50_ms"] = quantile_ms(
                        samples, "assignment_router_store_latency_seconds", 0.5, operation="claim")
                    run["claim_p99_ms"] = quantile_ms(
                        samples, "assignment_router_store_latency_seconds", 0.99,
                        operation="claim")
                    run["claim_mean_ms"] = mean_ms(
                        samples, "assignment_router_store_latency_seconds", operation="claim")
                else:
                    run = harness.wrk(harness.PUBLIC_URL, cycled, seconds, delay_ms=10)
                run["rss_mb"] = harness.peak_rss_mb(process.pid)
                run["wal"] = wal_delta(wal_before, postgres.wal_syncs())
                paced[name].append(run)
            finally:
                h.stop_service(process)
                if mock is not None:
                    harness.stop(mock)
                if prefix is not None:
                    h.drop_bodies(prefix)
            if rest and store:
                # The disk alone, just after: what one WAL flush costs in these seconds.
                paced[name][-1]["disk"] = disk_flushes(postgres.folder, 3)

    # c and d. Two replicas on one PostgreSQL, flat out, one wrk each, REST rules, Twilio's
    # stand-in answering at once.
    replicated = []
    per_thread = int(FLAT_REST_GUESS / 2 * seconds * 1.5) + 500
    progress(f"c. two replicas flat out, {rounds} rounds")
    for round_number in range(rounds):
        prefixes = [h.distinct_bodies(per_thread, f"replica-{round_number}-{n}") for n in (1, 2)]
        mock = h.mock()
        replicas = []
        try:
            for n in range(2):
                replicas.append(h.service(paths["rest"], f"replica {n + 1}", "warn", store=True,
                                          second=n == 1))
            urls = [harness.PUBLIC_URL, f"http://127.0.0.1:{SECOND_PORT}/assignment"]
            before = [scrape(r.admin) for r in replicas]
            wal_before = postgres.wal_syncs()
            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                jobs = [pool.submit(harness.wrk, url, prefix, seconds, 0, "post_once.lua")
                        for url, prefix in zip(urls, prefixes)]
                runs = [job.result() for job in jobs]
            elapsed = time.monotonic() - started
            end = [scrape(r.admin) for r in replicas]
            pending_end = postgres.states().get("pending", 0)
            # How long the backlog takes to drain once the load stops, to a quarter second.
            stopped = time.monotonic()
            drained = None
            while time.monotonic() - stopped < SETTLE_SECONDS:
                if postgres.states().get("pending", 0) == 0:
                    drained = time.monotonic() - stopped
                    break
                time.sleep(0.25)
            time.sleep(max(0.0, SETTLE_SECONDS - (time.monotonic() - stopped)))
            settled = [scrape(r.admin) for r in replicas]
            pending_settled = postgres.states().get("pending", 0)
            wal = wal_delta(wal_before, postgres.wal_syncs())

            def delta(after, name, **labels):
                return sum(total(a, name, **labels) - total(b, name, **labels)
                           for a, b in zip(after, before))

            def gauge(samples, state):
                # Fleet-wide figures: every replica reads the same table; the first one's is
                # shown.
                return total(samples[0], "assignment_router_outbox_updates", state=state)

            landed = delta(end, "assignment_router_rest_updates_total", outcome="landed")
            replicated.append({
                "callbacks/s": [r["rps"] for r in runs],
                "p99_us": [r["p99_us"] for r in runs],
                "errors": sum(r["errors"] for r in runs),
                "non2xx": sum(r["non2xx"] for r in runs),
                "wraps": sum(r.get("wraps", 0) for r in runs),
                "seconds": elapsed,
                "landed": landed,
                "landed/s": landed / elapsed,
                "drained in": drained,
                "landed after settling": delta(settled, "assignment_router_rest_updates_total",
                                               outcome="landed"),
                "other outcomes": delta(settled, "assignment_router_rest_updates_total")
                - delta(settled, "assignment_router_rest_updates_total", outcome="landed"),
                "won": delta(end, "assignment_router_store_claims_total", result="won"),
                "won after settling": delta(settled, "assignment_router_store_claims_total",
                                            result="won"),
                "lost": delta(settled, "assignment_router_store_claims_total", result="lost"),
                "unavailable": delta(settled, "assignment_router_store_unavailable_total"),
                "takeovers": delta(settled, "assignment_router_outbox_takeovers_total"),
                "claim_p50_ms": statistics.median(quantile_ms(
                    s, "assignment_router_store_latency_seconds", 0.5, operation="claim")
                    for s in end),
                "due/leased at end": (gauge(end, "due"), gauge(end, "leased")),
                "due/leased settled": (gauge(settled, "due"), gauge(settled, "leased")),
                "pending at end": pending_end,
                "pending settled": pending_settled,
                "rss_mb": [harness.peak_rss_mb(r.pid) for r in replicas],
                "wal": wal,
            })
        finally:
            for process in replicas:
                h.stop_service(process)
            harness.stop(mock)
            for prefix in prefixes:
                h.drop_bodies(prefix)
        # The next round's pool: half as much again as the faster replica reached in this one.
        reached = max(replicated[-1]["callbacks/s"])
        per_thread = max(per_thread, int(reached / 2 * seconds * 1.5) + 500)
    states = postgres.states()
    progress("done")
    # The server's own complaints (a checkpoint that came too soon, a client that vanished).
    try:
        with open(postgres.log, errors="replace") as log:
            for line in log:
                for level in ("WARNING:", "ERROR:", "FATAL:", "PANIC:"):
                    if level in line:
                        h.log_problems[("PostgreSQL", line.split(level, 1)[1].strip()[:200])] += 1
    except OSError:
        pass

    report(h, flat, paced, replicated, states, seconds)


def report(h, flat, paced, replicated, states, seconds):
    results = {name: harness.median_run(runs) for name, runs in {**flat, **paced}.items()}
    print()
    print(f"{'run (median round)':<40}{'req/s':>10}{'p50 µs':>9}{'p99 µs':>9}{'errors':>8}"
          f"{'non-2xx':>9}{'peak RSS MB':>13}")
    for name, r in results.items():
        # Errors and RSS over every round, not only the median one.
        runs = {**flat, **paced}[name]
        print(f"{name:<40}{r['rps']:>10.0f}{r['p50_us']:>9.0f}{r['p99_us']:>9.0f}"
              f"{sum(x['errors'] for x in runs):>8.0f}{sum(x['non2xx'] for x in runs):>9.0f}"
              f"{max(x['rss_mb'] for x in runs):>13.1f}")
    print()
    print("each round (the medians are shown above):")
    for name, runs in {**flat, **paced}.items():
        rounds = "  ".join(f"{r['rps']:.0f} req/s p99 {r['p99_us']:.0f} µs" for r in runs)
        print(f"  {name:<38}{rounds}")
    print("  CPU seconds of the flat-out runs (service, of it the decision recorder; "
          "PostgreSQL), round by round:")
    for name, runs in flat.items():
        print(f"    {name:<36}" + "  ".join(
            f"{r['cpu'][0]:.1f} ({r['cpu'][1]:.1f}); {r['cpu'][2]:.1f}" for r in runs))
    memory, stored = flat["inline flat out, memory store"], flat["inline flat out, PostgreSQL store"]
    print("  inline throughput, PostgreSQL / memory, round by round: "
          + ", ".join(f"{s['rps'] / m['rps']:.2f}×" for m, s in zip(memory, stored)))

    print()
    print("paced REST runs, round by round:")
    for name in ("paced REST, memory store", "paced REST, PostgreSQL store"):
        for r in paced[name]:
            line = (f"  {name:<30} {r['requests']:.0f} callbacks, {r['landed']:.0f} landed, "
                    f"wraps {r['wraps']:.0f}")
            if "PostgreSQL" in name:
                line += (f"; claims won {r['won']:.0f}, lost {r['lost']:.0f}, store unavailable "
                         f"{r['unavailable']:.0f}; claim p50 {r['claim_p50_ms']:.2f} ms, "
                         f"p99 {r['claim_p99_ms']:.2f} ms, mean {r['claim_mean_ms']:.2f} ms; "
                         f"WAL flushes {r['wal'][0]:.0f}, mean {r['wal'][1]:.2f} ms; the disk "
                         f"alone just after: 8 kB fdatasync p50 {r['disk'][0]:.2f} ms, p99 "
                         f"{r['disk'][1]:.2f} ms")
            print(line)
    stored_paced = paced["paced REST, PostgreSQL store"]
    claim_p50 = statistics.median(r["claim_p50_ms"] for r in stored_paced)
    print(f"  claim latency, median of the rounds' medians (from the histogram): "
          f"{claim_p50:.2f} ms")
    disk_p99 = statistics.median(r["disk"][1] for r in stored_paced)
    print(f"  the disk alone, median of the rounds' fdatasync p99: {disk_p99:.2f} ms (each "
          f"claim's commit waits for one such flush)")

    print()
    print(f"two replicas flat out, REST rules, PostgreSQL store, {seconds} s a round:")
    for n, r in enumerate(replicated):
        print(f"  round {n + 1}: callbacks/s {r['callbacks/s'][0]:.0f} + {r['callbacks/s'][1]:.0f}"
              f" (p99 {r['p99_us'][0]:.0f} and {r['p99_us'][1]:.0f} µs, errors {r['errors']:.0f},"
              f" non-2xx {r['non2xx']:.0f}, wraps {r['wraps']:.0f}); claims won {r['won']:.0f}"
              f" ({r['won after settling']:.0f} after settling), lost {r['lost']:.0f}, store "
              f"unavailable {r['unavailable']:.0f}; landed {r['landed']:.0f} in "
              f"{r['seconds']:.1f} s = {r['landed/s']:.0f}/s ({r['landed after settling']:.0f} "
              f"after settling; other outcomes {r['other outcomes']:.0f}); takeovers "
              f"{r['takeovers']:.0f}; claim p50 {r['claim_p50_ms']:.2f} ms; WAL flushes "
              f"{r['wal'][0] / (r['seconds'] + SETTLE_SECONDS):.0f}/s, mean {r['wal'][1]:.2f} ms")
        drain = ("drained " + (f"{r['drained in']:.2f} s after the load stopped, so "
                               f"{r['landed after settling'] / (r['seconds'] + r['drained in']):.0f}"
                               " landed/s over run and drain")
                 if r["drained in"] is not None
                 else f"not drained within {SETTLE_SECONDS:.0f} s")
        print(f"           {drain}")
        print(f"           outbox due/leased (gauges, refreshed every 5 s) at end {r['due/leased at end'][0]:.0f}/"
              f"{r['due/leased at end'][1]:.0f}, {SETTLE_SECONDS:.0f} s later "
              f"{r['due/leased settled'][0]:.0f}/{r['due/leased settled'][1]:.0f}; pending rows "
              f"(SQL) at end {r['pending at end']}, {SETTLE_SECONDS:.0f} s later "
              f"{r['pending settled']}; peak RSS {r['rss_mb'][0]:.1f} and {r['rss_mb'][1]:.1f} MB")
    print("  rows by state at the end of the run (SQL, every run together): "
          + ", ".join(f"{state} {count}" for state, count in sorted(states.items())))
    if any(r["wraps"] for r in replicated) or any(r["wraps"] for r in stored_paced):
        print("  note: a wrk thread ran out of distinct Reservations and sent some again: those "
              "repeats were answered from memory, without a claim")

    print()
    if h.log_problems:
        print("warnings and errors in the services' and PostgreSQL's logs:")
        for (label, message), count in sorted(h.log_problems.items()):
            print(f"  {label}: {count}× {message}")
    else:
        print("no warnings or errors in the services' or PostgreSQL's logs")

    inline_p99 = results["paced inline, PostgreSQL store"]["p99_us"]
    rest_p99 = results["paced REST, PostgreSQL store"]["p99_us"]
    figures = {
        "inline throughput, PostgreSQL store / memory store":
            results["inline flat out, PostgreSQL store"]["rps"]
            / results["inline flat out, memory store"]["rps"],
        "REST p99 with the store − inline p99": (rest_p99 - inline_p99) / 1000,
        "REST updates landed per second, two replicas":
            statistics.median(r["landed/s"] for r in replicated),
        "pending updates: growth after settling":
            max(max(r["pending settled"] - r["pending at end"], 0) for r in replicated),
        "peak RSS per replica (largest)": max(max(r["rss_mb"]) for r in replicated),
    }
    notes = {
        "REST p99 with the store − inline p99": f"{rest_p99 / 1000:.2f} − {inline_p99 / 1000:.2f} ms",
        "REST updates landed per second, two replicas": "median round",
        "pending updates: growth after settling": "pending rows, end → settled: " + ", ".join(
            f"{r['pending at end']} → {r['pending settled']}" for r in replicated),
        "peak RSS per replica (largest)": "after run c; run.py's 40 MB is for inline load",
    }
    print()
    for name, value in figures.items():
        op, limit, unit = TARGETS[name]
        if op is None:
            print(f"{name:<52}{value:>10.2f}{unit:<4} {'no target':<27}{notes.get(name, '')}")
            continue
        met = value >= limit if op == ">=" else value <= limit
        print(f"{name:<52}{value:>10.2f}{unit:<4} target {op} {limit:g}{unit:<4} "
              f"{'met' if met else 'MISSED':<7}{notes.get(name, '')}")


if __name__ == "__main__":
    main()
