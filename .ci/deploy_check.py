#!/usr/bin/env python3
"""Checks the deploy kit in deploy/ offline, without Docker, Kubernetes, Prometheus or Grafana.

    deploy_check.py [--binary PATH] [--promtool PATH]

- compose.yaml: interpolated as Compose would (with stand-ins for the required variables),
  then validated against the Compose Specification's JSON Schema (deploy/schemas/); every
  secret must be a required `${NAME:?…}` variable; the replicas depend on a healthy
  PostgreSQL, use the binary's `healthcheck`, mount the example rules read-only, and each
  publishes its own host ports.
- kubernetes/: every manifest validated strictly (unknown fields fail) against Kubernetes
  1.30's schemas, the oldest release whose preStop `sleep` handler is on by default; the
  ConfigMap holds the example rules word for word; the grace period outlasts the pause plus
  server.shutdown_grace_secs; probes and Services use the right listeners.
- grafana/assignment-router.json and prometheus/alerts.yaml: well formed; every metric, label
  and fixed label value their expressions name is one the service exports. With --binary, the
  service is started and its /metrics scrape is the reference as well as the list below; with
  --promtool, Prometheus' own parser checks every expression.
- With --binary, `assignment-router check` also runs with the environment each deployment
  sets, so a misspelt APP_ variable fails here rather than being warned about at start.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request

import jsonschema
import kubernetes_validate
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOY = os.path.join(REPO, "deploy")
EXAMPLE = os.path.join(REPO, "examples", "small-contact-center")
# What of the example the deployments mount where the rules are: the rules file and the list
# and map files it names (not its settings file or its test cases).
EXAMPLE_MOUNTED = ("rules.toml", "vip_numbers.txt", "account_managers.csv")
KUBERNETES_VERSION = "1.30.0"
PREFIX = "assignment_router_"
# Labels Prometheus adds to every scraped series, and the bucket label of histograms.
TARGET_LABELS = {"job", "instance"}
SECRETS = {"TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET", "TWILIO_ACCOUNT_SID", "DATABASE_URL",
           "APP_STORE__URL", "POSTGRES_PASSWORD", "APP_ADMIN__BEARER_TOKEN"}

# The service's metrics (names without the prefix, as exposed), their labels, and the fixed
# value sets of those labels that have one (None: values come from the rules file).
OPERATIONS = {"migrate", "claim", "confirm", "take", "renew", "attempt", "end", "release",
              "sweep", "record", "outcome", "look_up", "check"}
REFUSALS = {"forbidden", "bad_request", "unsupported_media_type", "payload_too_large",
            "request_timeout"}
RESERVATION_OUTCOMES = {"accepted", "rejected", "timeout", "canceled", "rescinded", "wrapup",
                        "completed"}
CATALOGUE = {
    "callbacks_total": ("counter", {
        "rule": None, "instruction": None, "delivery": None,
        "outcome": {"answered", "duplicate"} | REFUSALS}),
    "callback_duration_seconds": ("histogram", {}),
    "signature_failures_total": ("counter", {
        "reason": {"missing", "malformed", "mismatch", "repeated", "body_hash_mismatch"}}),
    "rest_updates_total": ("counter", {
        "outcome": {"landed", "final_error", "moved_on", "expired", "dropped", "redirected"}}),
    "rest_update_attempts_total": ("counter", {}),
    "rest_update_duration_seconds": ("histogram", {}),
    "rest_updates_in_flight": ("gauge", {}),
    "rest_updates_pending": ("gauge", {}),
    "rules_loaded": ("gauge", {}),
    "rule_reloads_total": ("counter", {"outcome": {"success", "failure"}}),
    "rules_skipped_total": ("counter", {
        "rule": None, "reason": {"no_value", "not_text", "invalid_value"}}),
    "log_lines_dropped_total": ("counter", {}),
    "store_claims_total": ("counter", {"result": {"won", "lost"}}),
    "store_unavailable_total": ("counter", {}),
    "store_claims_restored_total": ("counter", {}),
    "rest_callbacks_held_total": ("counter", {"outcome": {"room", "full"}}),
    "outbox_deferrals_total": ("counter", {}),
    "store_errors_total": ("counter", {"operation": OPERATIONS}),
    "store_up": ("gauge", {}),
    "outbox_updates": ("gauge", {"state": {"due", "leased"}}),
    "outbox_takeovers_total": ("counter", {}),
    "store_latency_seconds": ("histogram", {"operation": OPERATIONS}),
    "events_total": ("counter", {
        "type": {"reservation.created", "reservation.accepted", "reservation.rejected",
                 "reservation.timeout", "reservation.canceled", "reservation.rescinded",
                 "reservation.wrapup", "reservation.completed", "reservation.failed",
                 "task.canceled", "task.completed", "task.deleted", "task.system-deleted",
                 "other", "unknown"}}),
    "event_refusals_total": ("counter", {"outcome": REFUSALS}),
    "events_unmatched_total": ("counter", {"reason": {"not_decided", "duplicate"}}),
    "reservation_outcomes_total": ("counter", {"rule": None, "outcome": RESERVATION_OUTCOMES}),
    "reservation_outcome_seconds": ("histogram", {"outcome": RESERVATION_OUTCOMES}),
    "decision_records_dropped_total": ("counter", {}),
}

problems = []


def problem(where, message):
    problems.append(f"{os.path.relpath(where, REPO)}: {message}")


def load_yaml_documents(path):
    with open(path) as file:
        return [document for document in yaml.safe_load_all(file) if document is not None]


def shutdown_grace_secs():
    with open(os.path.join(REPO, "config", "default.toml"), "rb") as file:
        return tomllib.load(file)["server"]["shutdown_grace_secs"]


def seconds(duration):
    """Seconds in a Compose or Prometheus duration such as 1m30s."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    if not parts or "".join(number + unit for number, unit in parts) != duration:
        raise ValueError(f"not a duration: {duration!r}")
    return sum(float(number) * units[unit] for number, unit in parts)


# --- compose.yaml ---------------------------------------------------------------------------

VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


class Unset(Exception):
    pass


def interpolate(value, environment, required):
    """Compose's interpolation of one string; records each `${NAME:?…}` in `required`."""

    def replace(match):
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["plain"]
        op, arg = match["op"], match["arg"] or ""
        present = name in environment and (environment[name] != "" or not (op or "").startswith(":"))
        if op in (":?", "?"):
            required[name] = arg
            if not present:
                raise Unset(f"{name}: {arg}")
        if op in (":-", "-"):
            return environment[name] if present else arg
        if op in (":+", "+"):
            return arg if present else ""
        return environment.get(name, "")

    return VARIABLE.sub(replace, value)


def interpolated(node, environment, required):
    if isinstance(node, dict):
        return {key: interpolated(value, environment, required) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolated(value, environment, required) for value in node]
    if isinstance(node, str):
        return interpolate(node, environment, required)
    return node


def raw_environment(service):
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(entry.split("=", 1) for entry in environment)
    return environment


def check_compose():
    path = os.path.join(DEPLOY, "compose.yaml")
    with open(path) as file:
        raw = yaml.safe_load(file)  # merge keys (<<: *router) resolved, as Compose does
    # With no variable set, Compose must stop: the secrets are required variables.
    required = {}
    try:
        interpolated(raw, {}, required)
        problem(path, "interpolates with no variable set: the secrets must be required (${NAME:?…})")
    except Unset:
        pass
    # Then as an operator runs it: every required variable set, the rest at their defaults.
    names = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?", open(path).read()))
    model = interpolated(raw, {name: f"stand-in-{name.lower()}" for name in names}, required)
    with open(os.path.join(DEPLOY, "schemas", "compose-spec.json")) as file:
        schema = json.load(file)
    for error in sorted(jsonschema.Draft7Validator(schema).iter_errors(model), key=str):
        where = "/".join(str(part) for part in error.absolute_path) or "(top)"
        problem(path, f"Compose Specification: {where}: {error.message}")

    services = model.get("services", {})
    databases = [name for name, service in services.items()
                 if str(service.get("image", "")).startswith("postgres:")]
    routers = [name for name, service in services.items() if name not in databases]
    if databases != ["postgres"] or not str(services["postgres"]["image"]).startswith("postgres:15"):
        problem(path, "expected one `postgres` service on the official postgres:15 image")
        return []
    database = services["postgres"]
    if "pg_isready" not in " ".join(database.get("healthcheck", {}).get("test", [])):
        problem(path, "postgres: the healthcheck must run pg_isready")
    volumes = [volume.split(":")[0] for volume in database.get("volumes", []) if isinstance(volume, str)]
    if not any(volume in model.get("volumes", {}) for volume in volumes):
        problem(path, "postgres: its data must be on a named volume declared under `volumes:`")
    if len(routers) < 2:
        problem(path, f"expected two replicas of the service, found {routers}")
    host_ports = {}
    environments = []
    for name in services:
        raw_env = raw_environment(raw["services"][name])
        for key in SECRETS & set(raw_env):
            if not re.search(r"\$\{[A-Z_]+:\?", str(raw_env[key])):
                problem(path, f"{name}: {key} must come from a required variable (${{NAME:?…}}), "
                              "never a value in the file")
    for name in routers:
        service = services[name]
        if service.get("depends_on", {}).get("postgres", {}).get("condition") != "service_healthy":
            problem(path, f"{name}: must depend on postgres with condition service_healthy")
        if service.get("healthcheck", {}).get("test") != ["CMD", "/app/assignment-router", "healthcheck"]:
            problem(path, f"{name}: the healthcheck must run the binary's own `healthcheck`")
        grace = service.get("stop_grace_period")
        if grace is None or seconds(grace) <= shutdown_grace_secs():
            problem(path, f"{name}: stop_grace_period must exceed server.shutdown_grace_secs "
                          f"({shutdown_grace_secs()} s)")
        environment = {key: str(value) for key, value in raw_environment(service).items()}
        url = environment.get("DATABASE_URL") or environment.get("APP_STORE__URL") or ""
        if not re.match(r"postgres(ql)?://[^@]+@postgres:5432/", url):
            problem(path, f"{name}: the store URL must point at the postgres service")
        mounts = {}
        for volume in service.get("volumes", []):
            if isinstance(volume, dict) and volume.get("type") == "bind":
                source = os.path.normpath(os.path.join(DEPLOY, volume["source"]))
                if not volume.get("read_only"):
                    problem(path, f"{name}: the rules mount must be read-only")
                if source != EXAMPLE:
                    problem(path, f"{name}: mounts {volume['source']}, not the example rules' folder")
                mounts[volume["target"]] = source
        rules = environment.get("APP_RULES__PATH", "")
        local = next((os.path.join(source, os.path.relpath(rules, target))
                      for target, source in mounts.items() if rules.startswith(target + "/")), None)
        if not local or not os.path.isfile(local):
            problem(path, f"{name}: APP_RULES__PATH ({rules}) is not a file in a mounted folder")
        for port in service.get("ports", []):
            published = str(port).rsplit(":", 1)[0]
            host_ports.setdefault(published, []).append(name)
        environments.append((f"compose {name}", environment, mounts))
    for published, owners in host_ports.items():
        if len(owners) > 1:
            problem(path, f"host port {published} is published by {', '.join(owners)}")
    context = os.path.join(DEPLOY, services[routers[0]].get("build", {}).get("context", "."))
    if not os.path.isfile(os.path.join(context, "Dockerfile")):
        problem(path, "the build context holds no Dockerfile")
    return environments


# --- kubernetes/ ----------------------------------------------------------------------------


def check_kubernetes():
    folder = os.path.join(DEPLOY, "kubernetes")
    resources = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not name.endswith(".yaml") or name == "kustomization.yaml":
            continue
        for document in load_yaml_documents(path):
            try:
                kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as error:
                where = "/".join(str(part) for part in error.absolute_path) or "(top)"
                problem(path, f"{document.get('kind')} {where}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError as error:
                problem(path, error.message)
            resources[(document["kind"], document["metadata"]["name"])] = (path, document)

    kustomization = yaml.safe_load(open(os.path.join(folder, "kustomization.yaml")))
    listed = set(kustomization.get("resources", []))
    manifests = {os.path.basename(path) for path, _ in resources.values()}
    if listed != manifests - {"secret.example.yaml"}:
        problem(os.path.join(folder, "kustomization.yaml"),
                f"resources should be every manifest but the Secret example: {sorted(listed)}")

    def need(kind, name):
        if (kind, name) not in resources:
            problem(folder, f"no {kind} {name}")
            return None
        return resources[(kind, name)][1]

    deployment = need("Deployment", "assignment-router")
    config_map = need("ConfigMap", "assignment-router-rules")
    secret = need("Secret", "assignment-router")
    if not (deployment and config_map and secret):
        return []
    where = resources[("Deployment", "assignment-router")][0]
    # The rules and the list and map files they name: the folder the pods mount.
    for name in EXAMPLE_MOUNTED:
        with open(os.path.join(EXAMPLE, name)) as file:
            if config_map.get("data", {}).get(name) != file.read():
                problem(resources[("ConfigMap", "assignment-router-rules")][0],
                        f"{name} differs from examples/small-contact-center/{name}")
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    if spec.get("replicas") != 2:
        problem(where, "expected 2 replicas")
    container = pod["containers"][0]
    pause = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds")
    if not pause:
        problem(where, "no preStop sleep pause")
    elif pod.get("terminationGracePeriodSeconds", 30) <= pause + shutdown_grace_secs():
        problem(where, f"terminationGracePeriodSeconds must exceed the preStop pause ({pause} s) "
                       f"+ server.shutdown_grace_secs ({shutdown_grace_secs()} s)")
    context = pod.get("securityContext", {})
    if not (context.get("runAsNonRoot") and context.get("runAsUser") == 65532):
        problem(where, "the pod must run as non-root uid 65532")
    own = container.get("securityContext", {})
    if own.get("readOnlyRootFilesystem") is not True or own.get("allowPrivilegeEscalation") is not False:
        problem(where, "the container needs readOnlyRootFilesystem and no privilege escalation")
    if not container.get("resources", {}).get("requests"):
        problem(where, "the container has no resource requests")
    ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
    for probe, path in (("readinessProbe", "/ready"), ("livenessProbe", "/health")):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or ports.get(get.get("port"), get.get("port")) != 9090:
            problem(where, f"{probe} must be GET {path} on the admin port 9090")
    for (kind, name), (path, document) in resources.items():
        selector = document.get("spec", {}).get("selector", {})
        selector = selector.get("matchLabels", selector) if kind != "Deployment" else None
        if selector and not all(labels.get(key) == value for key, value in selector.items()):
            problem(path, f"{kind} {name} selects no pod of the Deployment")
        if kind == "Service":
            targets = {port.get("targetPort") for port in document["spec"]["ports"]}
            if name == "assignment-router" and ({"admin", 9090} & targets or targets != {"callback"}):
                problem(path, "the callback Service must expose the callback port only")
    budget = need("PodDisruptionBudget", "assignment-router")
    if budget and budget["spec"].get("minAvailable") != 1:
        problem(where, "the PodDisruptionBudget needs minAvailable: 1")
    environment = {}
    for entry in container.get("env", []):
        reference = entry.get("valueFrom", {}).get("secretKeyRef")
        if reference:
            if reference["name"] != "assignment-router" or reference["key"] not in secret.get("stringData", {}):
                problem(where, f"{entry['name']} names a Secret key the example Secret lacks")
            environment[entry["name"]] = f"stand-in-{entry['name'].lower()}"
        elif entry["name"] in SECRETS:
            problem(where, f"{entry['name']} must come from the Secret")
        else:
            environment[entry["name"]] = entry.get("value", "")
    mounts = {}
    for mount in container.get("volumeMounts", []):
        volume = next(volume for volume in pod["volumes"] if volume["name"] == mount["name"])
        if volume.get("configMap", {}).get("name") == "assignment-router-rules":
            mounts[mount["mountPath"]] = EXAMPLE  # its rules.toml is the example's, checked above
    return [("kubernetes Deployment", environment, mounts)]


# --- Expressions: dashboard and alerts --------------------------------------------------------


def dashboard_expressions():
    path = os.path.join(DEPLOY, "grafana", "assignment-router.json")
    try:
        with open(path) as file:
            dashboard = json.load(file)
    except ValueError as error:
        problem(path, f"not JSON: {error}")
        return []
    for key in ("title", "uid", "panels", "schemaVersion"):
        if key not in dashboard:
            problem(path, f"no `{key}`")
    variables = {variable["name"] for variable in dashboard.get("templating", {}).get("list", [])}
    expressions, ids = [], set()
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if variable.get("type") == "query" and query:
            expressions.append((f"{path}: variable {variable['name']}", query))
    for panel in dashboard.get("panels", []):
        title = panel.get("title", "?")
        if panel.get("id") in ids:
            problem(path, f"panel id {panel.get('id')} used twice")
        ids.add(panel.get("id"))
        grid = panel.get("gridPos", {})
        if not all(isinstance(grid.get(key), int) for key in "hwxy") or grid["x"] + grid["w"] > 24:
            problem(path, f"panel {title!r}: gridPos must be h, w, x, y within 24 columns")
        if panel.get("type") == "row":
            continue
        targets = panel.get("targets", [])
        if not targets:
            problem(path, f"panel {title!r} has no query")
        references = [target.get("refId") for target in targets]
        if len(set(references)) != len(references):
            problem(path, f"panel {title!r}: refId repeated")
        for target in targets:
            if not target.get("expr"):
                problem(path, f"panel {title!r}: a target without `expr`")
                continue
            expressions.append((f"{path}: panel {title!r}", target["expr"]))
        for text in re.findall(r"\$\{?(\w+)", json.dumps(panel)):
            if not text.startswith("__") and text not in variables:
                problem(path, f"panel {title!r} uses ${text}, which no variable defines")
    return expressions


ALLOWED_GROUP_KEYS = {"name", "interval", "limit", "query_offset", "rules"}
ALLOWED_ALERT_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
SEVERITIES = {"critical", "warning", "info"}


def alert_expressions():
    path = os.path.join(DEPLOY, "prometheus", "alerts.yaml")
    with open(path) as file:
        document = yaml.safe_load(file)
    if not isinstance(document, dict) or set(document) != {"groups"} or not document["groups"]:
        problem(path, "must be a mapping with one key, `groups`, a non-empty list")
        return []
    expressions, names, groups = [], set(), set()
    for group in document["groups"]:
        if not isinstance(group, dict) or not group.get("name") or not group.get("rules"):
            problem(path, "each group needs `name` and a non-empty `rules`")
            continue
        if set(group) - ALLOWED_GROUP_KEYS:
            problem(path, f"group {group['name']}: unknown keys {sorted(set(group) - ALLOWED_GROUP_KEYS)}")
        if group["name"] in groups:
            problem(path, f"group {group['name']} defined twice")
        groups.add(group["name"])
        for rule in group["rules"]:
            name = rule.get("alert") if isinstance(rule, dict) else None
            if not name or not re.fullmatch(r"[A-Z][A-Za-z0-9]+", name):
                problem(path, f"group {group['name']}: each rule needs an `alert` name in CamelCase: {rule}")
                continue
            if name in names:
                problem(path, f"{name} defined twice")
            names.add(name)
            if set(rule) - ALLOWED_ALERT_KEYS:
                problem(path, f"{name}: unknown keys {sorted(set(rule) - ALLOWED_ALERT_KEYS)}")
            expr = rule.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                problem(path, f"{name}: no `expr`")
                continue
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    try:
                        seconds(str(rule[key]))
                    except ValueError:
                        problem(path, f"{name}: `{key}` is not a duration: {rule[key]!r}")
            labels, annotations = rule.get("labels", {}), rule.get("annotations", {})
            if not isinstance(labels, dict) or labels.get("severity") not in SEVERITIES:
                problem(path, f"{name}: labels.severity must be one of {sorted(SEVERITIES)}")
            if not isinstance(annotations, dict) or not all(
                    isinstance(annotations.get(key), str) and annotations[key] for key in ("summary", "description")):
                problem(path, f"{name}: annotations need a summary and a description")
                continue
            # After `sum by (job)` only `job` is left: an annotation naming another label
            # would render empty.
            kept = set()
            for clause in re.findall(r"\bby\s*\(([^)]*)\)", expr):
                kept |= {label.strip() for label in clause.split(",") if label.strip()}
            for text in annotations.values():
                for label in re.findall(r"\$labels\.(\w+)", text):
                    if kept and label not in kept:
                        problem(path, f"{name}: the annotations use $labels.{label}, which the "
                                      f"expression drops (it keeps {sorted(kept)})")
            expressions.append((f"{path}: {name}", expr))
    return expressions


def catalogue_names():
    """Sample name -> label values (fixed set or None) from the list above."""
    names = {}
    for name, (kind, labels) in CATALOGUE.items():
        if kind == "histogram":
            names[PREFIX + name + "_bucket"] = dict(labels, le=None)
            names[PREFIX + name + "_sum"] = dict(labels)
            names[PREFIX + name + "_count"] = dict(labels)
        else:
            names[PREFIX + name] = dict(labels)
    return names


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+")
LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape_names(text):
    """Sample name -> {label: values seen} from an OpenMetrics or Prometheus text scrape."""
    names = {}
    for line in text.splitlines():
        kind = re.match(r"# TYPE (\S+) (\S+)", line)
        if kind:
            family, sort = kind.groups()
            suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"],
                        "summary": ["", "_sum", "_count"], "gauge": [""]}.get(sort, [""])
            for suffix in suffixes:
                names.setdefault(family + suffix, {})
            continue
        sample = SAMPLE.match(line)
        if sample and not line.startswith("#"):
            labels = names.setdefault(sample.group(1), {})
            for label, value in LABEL_PAIR.findall(sample.group(2) or ""):
                labels.setdefault(label, set()).add(value)
    return names


SELECTOR = re.compile(r"\b(" + PREFIX + r"[a-zA-Z0-9_]*)\s*(\{[^}]*\})?")
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


def check_expressions(expressions, references):
    """Every metric, label and fixed label value named must exist in each reference."""
    for where, expr in expressions:
        used_labels = set()
        for metric, matchers in SELECTOR.findall(expr):
            for source, names in references:
                if metric not in names:
                    problems.append(f"{os.path.relpath(where, REPO)}: {metric} is not a metric "
                                    f"the service exports ({source})")
                    continue
                labels = names[metric]
                used_labels |= set(labels)
                for label, op, value in MATCHER.findall(matchers or ""):
                    if label in TARGET_LABELS:
                        continue
                    if label not in labels:
                        problems.append(f"{os.path.relpath(where, REPO)}: {metric} has no label "
                                        f"`{label}` ({source})")
                        continue
                    known = labels[label]
                    if known and op in ("=", "=~") and "$" not in value:
                        # Only plain alternatives (a|b) are checked; other regexes are left be.
                        wanted = value.split("|") if op == "=~" else [value]
                        if all(re.fullmatch(r"[\w-]*", part) for part in wanted):
                            for part in wanted:
                                if part not in known:
                                    problems.append(
                                        f"{os.path.relpath(where, REPO)}: {metric}{{{label}=\"{part}\"}}: "
                                        f"no such value; known: {', '.join(sorted(known))} ({source})")
        for clause in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
            for label in (part.strip() for part in clause.split(",")):
                if label and label not in used_labels | TARGET_LABELS | {"le"}:
                    problems.append(f"{os.path.relpath(where, REPO)}: groups by `{label}`, a label "
                                    "none of its metrics has")


def check_with_promtool(promtool, expressions):
    """Prometheus' own parser over the alert rules, and over each dashboard query written as a
    recording rule (Grafana's variables replaced by what they stand for)."""
    result = subprocess.run([promtool, "check", "rules", os.path.join(DEPLOY, "prometheus", "alerts.yaml")],
                            capture_output=True, text=True)
    if result.returncode != 0:
        problems.append(f"promtool check rules alerts.yaml:\n{result.stdout}{result.stderr}")
    rules = []
    for number, (where, expr) in enumerate(expressions):
        if "/grafana/" not in where or expr.startswith("label_values("):
            continue
        expr = expr.replace("$__rate_interval", "5m").replace("$job", ".+").replace("$instance", ".+")
        rules.append({"record": f"dashboard:query_{number}", "expr": expr})
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, file)
        file.flush()
        result = subprocess.run([promtool, "check", "rules", file.name], capture_output=True, text=True)
    if result.returncode != 0:
        problems.append(f"promtool: a dashboard query does not parse:\n{result.stdout}{result.stderr}")
    return len(rules)


# --- The binary -----------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scrape(binary):
    port, admin_port = free_port(), free_port()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "TWILIO_AUTH_TOKEN": "deploy-check-token",
        "TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
        "APP_RULES__PATH": os.path.join(EXAMPLE, "rules.toml"),
        "APP_SERVER__PORT": str(port),
        "APP_ADMIN__PORT": str(admin_port),
        "APP_LOG__FORMAT": "json",
    }
    with tempfile.TemporaryFile("w+") as log:
        service = subprocess.Popen([binary], cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and service.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/ready", timeout=2):
                        break
                except OSError:
                    time.sleep(0.1)
            else:
                log.seek(0)
                sys.exit(f"deploy_check: the service did not become ready:\n{log.read()}")
            with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=5) as response:
                return response.read().decode()
        finally:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(timeout=40)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()


def check_settings(binary, environments):
    """`check` with each deployment's environment: a misspelt APP_ variable is only a warning
    to `serve`, so it is caught here."""
    for name, environment, mounts in environments:
        environment = dict(environment)
        # The store URL is validated above; `check` never needs a database.
        environment.pop("DATABASE_URL", None)
        rules = environment.get("APP_RULES__PATH", "")
        for target, source in mounts.items():
            if rules.startswith(target + "/"):
                environment["APP_RULES__PATH"] = os.path.join(source, os.path.relpath(rules, target))
        environment["PATH"] = os.environ.get("PATH", "")
        result = subprocess.run([binary, "check"], cwd=REPO, env=environment, capture_output=True, text=True)
        output = result.stdout + result.stderr
        if result.returncode != 0 or "names no setting" in output:
            problems.append(f"{name}: `assignment-router check` with its environment:\n{output}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", help="the release binary: its /metrics and `check` are used too")
    parser.add_argument("--promtool", help="Prometheus' promtool, to parse every expression")
    arguments = parser.parse_args()
    started = time.monotonic()

    environments = check_compose()
    print(f"compose.yaml: Compose Specification schema and deployment checks, "
          f"{len(environments)} replicas")
    environments += check_kubernetes()
    print(f"kubernetes/: strict schemas of Kubernetes {KUBERNETES_VERSION} and deployment checks")
    expressions = dashboard_expressions()
    panels = len(expressions)
    expressions += alert_expressions()
    print(f"grafana: {panels} queries; prometheus: {len(expressions) - panels} alert rules")

    references = [("the list in .ci/deploy_check.py", catalogue_names())]
    if arguments.binary:
        scraped = scrape(os.path.abspath(arguments.binary))
        names = {name: labels for name, labels in scrape_names(scraped).items() if name.startswith(PREFIX)}
        references.append(("a scrape of the release binary's /metrics", names))
        missing = sorted(set(references[0][1]) - set(names))
        if missing:
            print("note: in the list but not in the scrape (the check fails only where the "
                  f"kit uses one): {', '.join(missing)}")
        check_settings(os.path.abspath(arguments.binary), environments)
        print(f"`assignment-router check` with the environment of {len(environments)} deployments")
    check_expressions(expressions, references)
    used = {metric for _, expr in expressions for metric, _ in SELECTOR.findall(expr)}
    print(f"{len(used)} metric names in the expressions, checked against "
          f"{' and '.join(source for source, _ in references)}")
    if arguments.promtool:
        count = check_with_promtool(arguments.promtool, expressions)
        print(f"promtool check rules: alerts.yaml and {count} dashboard queries")

    print(f"deploy kit checked in {time.monotonic() - started:.1f} s")
    if problems:
        print("\n".join(["", *dict.fromkeys(problems)]), file=sys.stderr)
        sys.exit(f"deploy_check: {len(problems)} problem(s)")


if __name__ == "__main__":
    main()
