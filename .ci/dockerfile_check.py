#!/usr/bin/env python3
"""Proves both stages of the Dockerfile on a machine with no container engine.

    dockerfile_check.py build          the builder stage: its COPYs, then its RUN
    dockerfile_check.py run BINARY     the runtime stage: its files, ENV, USER, WORKDIR,
                                       ENTRYPOINT, CMD and HEALTHCHECK

`build` copies into an empty folder exactly what the builder stage COPYs from the build
context (after .dockerignore), and runs the stage's `cargo` command there. A file the build
needs that the Dockerfile forgets to COPY (a new top-level folder, a file read by
`include_str!`) then fails here as it would fail `docker build`. CARGO_TARGET_DIR is the
repository's own target/ (or CARGO_TARGET_DIR when set), so the dependencies already built
are reused and target/release/assignment-router is the binary built from that folder.

`run` assembles a root folder holding only what the runtime stage holds: the files its COPYs
bring, and the C libraries and dynamic loader the binary links (what the distroless base must
provide). No shell, no /proc, no /dev, every folder owned by root and not writable by the
service. It starts the stage's ENTRYPOINT + CMD in that root as the stage's USER, with the
stage's ENV, the example rules where deploy/ mounts them, and a token; then checks from inside
the root that the HEALTHCHECK command passes (and fails when nothing answers), that a callback
signed by the binary's own `sign` gets 200 and the instruction the example rules choose, that
an unsigned one gets 403, and that SIGTERM stops the service with exit 0. Needs root, for
`unshare --root` and `--setuid` (util-linux).
"""

import glob
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKERFILE = os.path.join(REPO, "Dockerfile")

# The same stand-ins the deploy kit uses (deploy/compose.yaml, deploy/kubernetes/).
PUBLIC_URL = "https://router.example.com/assignment"
RULES_MOUNT = "/etc/assignment-router"
EXAMPLE = os.path.join(REPO, "examples", "small-contact-center")
# The rules file and the list and map files it names: what deploy/ mounts as one folder.
EXAMPLE_MOUNTED = ("rules.toml", "vip_numbers.txt", "account_managers.csv")
TOKEN = "dockerfile-check-token"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
# Docker's PATH when the base image sets none; distroless sets this one.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def fail(message):
    sys.exit(f"dockerfile_check: {message}")


# --- Reading the Dockerfile ---------------------------------------------------------------


def instructions(text):
    """(KEYWORD, arguments) for each instruction, continuation lines joined, comments dropped."""
    result, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction is dropped, as BuildKit does
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, arguments = line.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    if pending:
        fail("the Dockerfile ends inside a continued line")
    return result


def stages(text):
    found = []
    for keyword, arguments in instructions(text):
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(found))
            found.append({"name": name, "image": words[0], "steps": []})
        elif found:
            found[-1]["steps"].append((keyword, arguments))
    if len(found) != 2:
        fail(f"expected two stages (builder, runtime), found {len(found)}: teach this check the new ones")
    return found


def exec_form(arguments, what):
    try:
        argv = json.loads(arguments)
    except json.JSONDecodeError:
        fail(f"{what} is in shell form ({arguments!r}); the runtime image has no shell, use the JSON form")
    if not (isinstance(argv, list) and all(isinstance(word, str) for word in argv)):
        fail(f"{what} is not a JSON list of strings: {arguments!r}")
    return argv


def parse_copy(arguments):
    """(flags, sources, destination) of a COPY, in either form."""
    words = shlex.split(arguments)
    flags = {}
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        flags[key] = value
    rest = " ".join(words)
    if rest.startswith("["):
        words = exec_form(rest, "COPY")
    if len(words) < 2:
        fail(f"COPY needs a source and a destination: {arguments!r}")
    return flags, words[:-1], words[-1]


def parse_env(arguments):
    """ENV key=value pairs (quotes as the shell reads them), or the old `ENV key value`."""
    words = shlex.split(arguments)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words)


def workdir_of(steps):
    workdir = "/"
    for keyword, arguments in steps:
        if keyword == "WORKDIR":
            workdir = os.path.normpath(os.path.join(workdir, arguments))
    return workdir


# --- The build context ----------------------------------------------------------------------


def ignore_patterns():
    path = os.path.join(REPO, ".dockerignore")
    patterns = []
    if os.path.exists(path):
        with open(path) as file:
            for line in file:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                negate = line.startswith("!")
                pattern = os.path.normpath(line.lstrip("!").strip("/"))
                patterns.append((negate, pattern))
    return patterns


def pattern_regex(pattern):
    # Docker's matcher: `*` and `?` stay within one path segment, `**` spans any number.
    regex = ""
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            regex += "(?:.*/)?"
            index += 3
        elif pattern.startswith("**", index):
            regex += ".*"
            index += 2
        elif pattern[index] == "*":
            regex += "[^/]*"
            index += 1
        elif pattern[index] == "?":
            regex += "[^/]"
            index += 1
        else:
            regex += re.escape(pattern[index])
            index += 1
    return re.compile(regex + r"\Z")


def ignored(relative, patterns):
    """Whether .dockerignore leaves this context path out: the last pattern that matches the
    path or one of its parent folders decides."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: count + 1]) for count in range(len(parts))]
    verdict = False
    for negate, pattern in patterns:
        regex = pattern_regex(pattern)
        if any(regex.match(prefix) for prefix in prefixes):
            verdict = not negate
    return verdict


def context_files(source, patterns):
    """Context-relative files a COPY source brings (a folder: every file under it)."""
    matches = sorted(glob.glob(source, root_dir=REPO)) if glob.has_magic(source) else [source]
    if not matches or not all(os.path.lexists(os.path.join(REPO, match)) for match in matches):
        fail(f"COPY source {source!r} is not in the build context")
    files = []
    for match in matches:
        match = os.path.normpath(match)
        if os.path.isdir(os.path.join(REPO, match)):
            for folder, _, names in os.walk(os.path.join(REPO, match)):
                for name in names:
                    relative = os.path.relpath(os.path.join(folder, name), REPO)
                    if not ignored(relative, patterns):
                        files.append((match, relative))
        elif not ignored(match, patterns):
            files.append((match, match))
    if not files:
        fail(f"COPY source {source!r} is entirely left out by .dockerignore")
    return files


def copy_destinations(sources, destination, workdir, patterns):
    """(context file, absolute image path) for each file of one COPY from the context."""
    target = os.path.normpath(os.path.join(workdir, destination))
    into_folder = destination.endswith("/") or len(sources) > 1
    result = []
    for source in sources:
        for top, relative in context_files(source, patterns):
            if os.path.isdir(os.path.join(REPO, top)):
                # A folder's contents land in the destination folder.
                result.append((relative, os.path.join(target, os.path.relpath(relative, top))))
            elif into_folder or glob.has_magic(source):
                result.append((relative, os.path.join(target, os.path.basename(relative))))
            else:
                result.append((relative, target))
    return result


def place(source, root, image_path, mode=None):
    """Copies one file to image_path under root, folders root-owned 0755 as an image's are."""
    destination = os.path.join(root, image_path.lstrip("/"))
    folder = os.path.dirname(destination)
    os.makedirs(folder, exist_ok=True)
    while os.path.realpath(folder) != os.path.realpath(root):
        os.chmod(folder, 0o755)
        folder = os.path.dirname(folder)
    shutil.copy2(source, destination)
    if mode is not None:
        os.chmod(destination, mode)
    return destination


# --- build ----------------------------------------------------------------------------------


def build():
    builder, runtime = stages(open(DOCKERFILE).read())
    workdir = workdir_of(builder["steps"])
    patterns = ignore_patterns()
    target_dir = os.path.abspath(os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target"))
    runs = [arguments for keyword, arguments in builder["steps"] if keyword == "RUN"]
    if not runs:
        fail("the builder stage has no RUN")
    for command in runs:
        # Only cargo commands are run on this machine: anything else (apt-get, curl) belongs
        # to the image's base and would change the CI machine itself.
        if not command.startswith("cargo "):
            fail(f"the builder stage runs {command!r}; this check only knows how to run cargo")
    # What the runtime stage takes from the builder, as paths under our target directory.
    wanted = set()
    for keyword, arguments in runtime["steps"]:
        if keyword == "COPY":
            flags, sources, _ = parse_copy(arguments)
            for source in sources if "from" in flags else []:
                relative = os.path.relpath(source, workdir)
                if not relative.startswith("target/"):
                    fail(f"COPY --from {source!r}: this check only knows files under {workdir}/target")
                wanted.add(os.path.join(target_dir, relative[len("target/"):]))
    with tempfile.TemporaryDirectory(prefix="dockerfile-build-") as stage_dir:
        copied = 0
        for keyword, arguments in builder["steps"]:
            if keyword not in ("COPY", "ADD"):
                continue
            flags, sources, destination = parse_copy(arguments)
            if keyword == "ADD" or "from" in flags:
                fail(f"{keyword} {arguments!r}: this check copies only plain COPYs from the context")
            for relative, image_path in copy_destinations(sources, destination, workdir, patterns):
                if os.path.commonpath([image_path, workdir]) != workdir:
                    fail(f"COPY to {image_path}, outside WORKDIR {workdir}: teach this check where it goes")
                place(os.path.join(REPO, relative), stage_dir, os.path.relpath(image_path, workdir))
                copied += 1
        print(f"staged {copied} files that the builder stage COPYs into {workdir}; "
              f"CARGO_TARGET_DIR={target_dir}")
        environment = dict(os.environ, CARGO_TARGET_DIR=target_dir)
        built = set()
        for command in runs:
            print(f"$ {command}", flush=True)
            argv = shlex.split(command)
            if argv[:2] == ["cargo", "build"]:
                # Cargo's messages name each artifact and the manifest it came from, fresh or
                # not: the proof that the binary the runtime stage copies was built from this
                # folder, not left in target/ by an earlier build elsewhere.
                argv.append("--message-format=json-render-diagnostics")
            started = time.monotonic()
            process = subprocess.Popen(argv, cwd=stage_dir, env=environment, stdout=subprocess.PIPE, text=True)
            for line in process.stdout:
                try:
                    message = json.loads(line)
                except ValueError:
                    print(line, end="")
                    continue
                if message.get("reason") == "compiler-artifact" and message.get("executable") and \
                        os.path.commonpath([message["manifest_path"], stage_dir]) == stage_dir:
                    built.add(message["executable"])
            code = process.wait()
            if code != 0:
                fail(f"`{command}` failed (exit {code}) in a folder holding only what the "
                     "builder stage COPYs: does the Dockerfile COPY everything the build reads?")
            print(f"built in {time.monotonic() - started:.0f} s")
        for path in sorted(wanted - built):
            fail(f"the runtime stage copies {path}, which `{' '.join(runs)}` did not build from "
                 "the staged folder (does the builder stage COPY src?)")
        print(f"built from the staged folder: {', '.join(sorted(wanted))}")


# --- run ------------------------------------------------------------------------------------


def linked_libraries(binary):
    """Absolute paths of the shared libraries and loader the binary needs, as ldd names them."""
    output = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if output.returncode != 0 and "not a dynamic executable" in output.stdout + output.stderr:
        return []
    if output.returncode != 0:
        fail(f"ldd {binary} failed: {output.stderr.strip()}")
    paths = []
    for line in output.stdout.splitlines():
        line = line.strip()
        if "=>" in line:
            name, _, rest = line.partition("=>")
            path = rest.strip().split(" ")[0]
            if path == "not":
                fail(f"{binary} needs {name.strip()}, which this machine lacks")
            if path.startswith("/"):
                paths.append(path)
        elif line.startswith("/"):
            paths.append(line.split(" ")[0])  # the dynamic loader
    return paths


def assemble_root(runtime, builder_workdir, binary, root):
    steps = runtime["steps"]
    workdir = workdir_of(steps)
    patterns = ignore_patterns()
    binaries = []
    for keyword, arguments in steps:
        if keyword not in ("COPY", "ADD"):
            continue
        flags, sources, destination = parse_copy(arguments)
        if keyword == "ADD":
            fail(f"ADD {arguments!r}: this check knows only COPY")
        if flags.get("chown", "root:root") not in ("root:root", "0:0"):
            # Files owned by the service's user could be rewritten by it; the check copies
            # everything as root and would then not show what the image really does.
            fail(f"COPY {arguments!r}: this check knows only files owned by root")
        mode = int(flags["chmod"], 8) if "chmod" in flags else None
        if "from" in flags:
            for source in sources:
                # What the builder made: its target/ is our CARGO_TARGET_DIR, the rest is the
                # context it copied.
                relative = os.path.relpath(source, builder_workdir)
                if relative != "target/release/assignment-router":
                    fail(f"COPY --from {source!r}: this check only knows the release binary")
                image_path = os.path.normpath(os.path.join(workdir, destination))
                if destination.endswith("/"):
                    image_path = os.path.join(image_path, os.path.basename(source))
                binaries.append(place(binary, root, image_path, mode))
        else:
            for relative, image_path in copy_destinations(sources, destination, workdir, patterns):
                place(os.path.join(REPO, relative), root, image_path, mode)
    if not binaries:
        fail("the runtime stage copies nothing from the builder")
    libraries = sorted({path for placed in binaries for path in linked_libraries(placed)})
    for library in libraries:
        place(os.path.realpath(library), root, library)
    # Where deploy/compose.yaml and deploy/kubernetes/ mount the rules (read-only).
    for name in EXAMPLE_MOUNTED:
        place(os.path.join(EXAMPLE, name), root, os.path.join(RULES_MOUNT, name), 0o644)
    os.chmod(root, 0o755)
    return workdir, libraries


def runtime_settings(steps):
    environment = {"PATH": DEFAULT_PATH}
    user, entrypoint, command, healthcheck = None, [], [], None
    for keyword, arguments in steps:
        if keyword == "ENV":
            environment.update(parse_env(arguments))
        elif keyword == "USER":
            user = arguments
        elif keyword == "ENTRYPOINT":
            entrypoint = exec_form(arguments, "ENTRYPOINT")
        elif keyword == "CMD":
            command = exec_form(arguments, "CMD")
        elif keyword == "HEALTHCHECK":
            _, _, form = arguments.partition(" CMD ")
            healthcheck = exec_form(form.strip(), "HEALTHCHECK CMD")
    if not user or not re.fullmatch(r"\d+:\d+", user):
        fail(f"the runtime stage's USER is {user!r}; a numeric uid:gid lets Kubernetes' "
             "runAsNonRoot verify it")
    if user.split(":")[0] == "0":
        fail("the runtime stage runs as root")
    if not healthcheck:
        fail("the runtime stage has no HEALTHCHECK CMD")
    return environment, user, entrypoint + command, healthcheck


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(binary):
    if os.geteuid() != 0:
        fail("needs root: unshare --root and --setuid (CI runs as root)")
    builder, runtime = stages(open(DOCKERFILE).read())
    environment, user, entrypoint, healthcheck = runtime_settings(runtime["steps"])
    uid, gid = user.split(":")
    port, admin_port = free_port(), free_port()
    environment.update({
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "APP_CALLBACK__PUBLIC_URL": PUBLIC_URL,
        "APP_RULES__PATH": f"{RULES_MOUNT}/rules.toml",
        # Fixed free ports rather than the image's 8080/9090, which this machine may be using.
        "APP_SERVER__PORT": str(port),
        "APP_ADMIN__PORT": str(admin_port),
    })
    failures = []

    def check(ok, what, detail=""):
        print(("ok   " if ok else "FAIL ") + what + ("" if ok or not detail else f": {detail}"), flush=True)
        if not ok:
            failures.append(what)

    # The root and the service's log, side by side in one folder removed at the end.
    work = tempfile.mkdtemp(prefix="dockerfile-check-")
    root = os.path.join(work, "root")
    os.mkdir(root)
    service = None
    # SIGTERM from the CI runner takes the same way out as a failure: the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("dockerfile_check: terminated"))
    try:
        workdir, libraries = assemble_root(runtime, workdir_of(builder["steps"]), binary, root)
        print(f"root {root}: {len(libraries)} libraries from ldd: {', '.join(libraries)}")

        def jailed(argv):
            # no_new_privs, as Kubernetes' allowPrivilegeEscalation: false sets it; a mount
            # namespace so that the root change leaks nowhere; the stage's USER and WORKDIR.
            return ["setpriv", "--no-new-privs", "unshare", "--mount", f"--root={root}",
                    f"--wd={workdir}", f"--setuid={uid}", f"--setgid={gid}", "--", *argv]

        def inside(argv, changes=None, stdin=None):
            """One command in the root; `changes` sets (or, with None, removes) variables."""
            merged = {**environment, **(changes or {})}
            return subprocess.run(jailed(argv), input=stdin, capture_output=True, text=True, timeout=15,
                                  env={key: value for key, value in merged.items() if value is not None})

        log = open(os.path.join(work, "service.log"), "w+")
        service = subprocess.Popen(jailed(entrypoint), env=environment, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        listening = False
        while time.monotonic() < deadline and service.poll() is None and not listening:
            time.sleep(0.1)
            log.seek(0)
            listening = any('"listening"' in line for line in log)
        log.seek(0)
        started_log = log.read()
        check(listening, f"{' '.join(entrypoint)} starts in the runtime root as {user} "
                         f"(JSON log line `listening`)")
        if not listening:
            print(started_log)
            return failures

        result = inside(healthcheck)
        check(result.returncode == 0, f"HEALTHCHECK {' '.join(healthcheck)} exits 0", result.stderr)
        # Both ports moved: whichever listener the probe asks, nothing answers there.
        result = inside(healthcheck, {"APP_SERVER__PORT": str(free_port()), "APP_ADMIN__PORT": str(free_port())})
        check(result.returncode != 0, "the HEALTHCHECK fails when nothing answers")
        result = inside(["/app/assignment-router", "check"], {"APP_RULES__PATH": None})
        check(result.returncode == 0,
              "`check` loads the image's own config/ (default.toml and rules.toml) from WORKDIR",
              result.stdout + result.stderr)

        sids = {
            "AccountSid": ACCOUNT_SID,
            "WorkspaceSid": "WS0123456789abcdef0123456789abcdef",
            "WorkflowSid": "WW0123456789abcdef0123456789abcdef",
            "TaskQueueSid": "WQ0123456789abcdef0123456789abcdef",
            "WorkerSid": "WK0123456789abcdef0123456789abcdef",
            "TaskSid": "WT0123456789abcdef0123456789abcdef",
            "TaskAge": "12",
            "TaskPriority": "1",
        }
        cases = [
            # The example rules' `spanish` rule. Each case its own Reservation: the same one
            # twice would get the first answer again.
            ({"language": "es", "to": "+15005550006"},
             {"languages": ["es"], "contact_uri": "client:alice"},
             {"instruction": "dequeue", "to": "client:alice", "from": "+15005550006",
              "post_work_activity_sid": "WA0123456789abcdef0123456789abcdef", "timeout": 30,
              "status_callback_events": "answered,completed"}),
            # No rule matches: the default.
            ({"language": "en"}, {}, {"instruction": "accept"}),
        ]
        for number, (task, worker, expected) in enumerate(cases):
            fields = dict(sids, ReservationSid=f"WR{number:032x}",
                          TaskAttributes=json.dumps(task), WorkerAttributes=json.dumps(worker))
            body = urllib.parse.urlencode(fields)
            signed = inside(["/app/assignment-router", "sign", "--url", PUBLIC_URL], stdin=body)
            signature = signed.stdout.strip()
            check(signed.returncode == 0 and signature, "`sign` prints a signature in the root", signed.stderr)
            status, content_type, answer = post(port, body, signature)
            try:
                answer = json.loads(answer)
            except ValueError:
                pass
            check(status == 200 and content_type == "application/json" and answer == expected,
                  f"a signed callback gets 200 and {json.dumps(expected)}",
                  f"got {status} {content_type} {answer}")
        status, _, answer = post(port, body, None)
        check(status == 403 and not answer, "an unsigned callback gets 403, empty", f"got {status} {answer!r}")
        status, _, _ = get(admin_port, "/ready")
        check(status == 200, "GET /ready on the admin listener: 200", f"got {status}")

        service.send_signal(signal.SIGTERM)
        try:
            code = service.wait(timeout=40)
        except subprocess.TimeoutExpired:
            code = None
        check(code == 0, "SIGTERM stops the service with exit 0", f"got {code}")
        if failures:
            log.seek(0)
            print(log.read())
        return failures
    finally:
        if service is not None and service.poll() is None:
            service.kill()
            service.wait()
        shutil.rmtree(work, ignore_errors=True)


def post(port, body, signature):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/assignment", data=body.encode(), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    if signature:
        request.add_header("X-Twilio-Signature", signature)
    return fetch(request)


def get(port, path):
    return fetch(urllib.request.Request(f"http://127.0.0.1:{port}{path}"))


def fetch(request):
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read()
    except OSError as error:
        return None, None, str(error).encode()


def main():
    if sys.argv[1:] == ["build"]:
        build()
    elif len(sys.argv) == 3 and sys.argv[1] == "run":
        started = time.monotonic()
        failures = run(os.path.abspath(sys.argv[2]))
        print(f"runtime stage checked in {time.monotonic() - started:.1f} s")
        if failures:
            fail(f"{len(failures)} runtime-stage check(s) failed")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
