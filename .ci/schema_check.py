#!/usr/bin/env python3
"""Checks the JSON Schema of the rules file (schemas/rules.schema.json) as editors use it.

    schema_check.py [--binary PATH]

- The schema is valid JSON Schema draft-07 (the draft taplo and Even Better TOML read).
- config/rules.toml and every rules file under examples/ (not settings files, not `*.test.toml`
  cases files) validate, and each begins with a `#:schema` line that leads to the schema.
- Files that are wrong in one way each fail, at the place that is wrong: an unknown top-level
  key, an unknown key in a rule, a key of another instruction, a bad enum value, a `timeout` of
  0, a `[lists.NAME]` without `file`, and more.
- With --binary: `assignment-router schema` prints the committed file byte for byte, exit 0 and
  nothing on stderr; `assignment-router check --rules` takes every shipped file and refuses
  every wrong one, so the schema is never stricter than the service on these.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib

import jsonschema

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(REPO, "schemas", "rules.schema.json")
# Sections only a settings file has (config/default.toml); a rules file's `rules` is a list.
SETTINGS_SECTIONS = {"server", "callback", "twilio", "admin", "store", "decisions", "log"}

# A file that validates: each wrong file below is this with one thing changed.
GOOD = """\
[[rules]]
name = "vip"
when = 'task.from IN lists.vip_numbers'
instruction = "dequeue"
from = "+15005550006"
timeout = 30
status_callback_events = ["answered", "completed"]

[[rules]]
name = "crm"
instruction = "reject"
activity_sid = "WA0123456789abcdef0123456789abcdef"

[default]
instruction = "accept"

[lists.vip_numbers]
file = "vip_numbers.txt"
"""

# (what, the change, where the error must be, words of its message).
WRONG = [
    ("an unknown top-level key", ("", "colour = \"blue\"\n"), "", "'colour' was unexpected"),
    ("an unknown table", ("", "[settings]\nport = 1\n"), "", "'settings' was unexpected"),
    ("an unknown key in a rule", ("timeout = 30\n", "timeout = 30\ncolour = \"blue\"\n"),
     "rules/0", "'colour'"),
    ("a key of another instruction (`activity_sid` on `dequeue`)",
     ("timeout = 30\n", "timeout = 30\nactivity_sid = \"WA0123456789abcdef0123456789abcdef\"\n"),
     "rules/0", "'activity_sid' is not one of"),
    ("a bad enum value", ("\"answered\", \"completed\"", "\"answered\", \"hung-up\""),
     "rules/0/status_callback_events/1", "'hung-up' is not one of"),
    ("an unknown instruction", ("instruction = \"reject\"", "instruction = \"rejekt\""),
     "rules/1/instruction", "'rejekt' is not one of"),
    ("a timeout of 0", ("timeout = 30", "timeout = 0"), "rules/0/timeout", "less than the minimum of 1"),
    ("a timeout of 1000", ("timeout = 30", "timeout = 1000"), "rules/0/timeout",
     "greater than the maximum of 999"),
    ("an Activity SID of the wrong shape", ("\"WA0123456789abcdef0123456789abcdef\"", "\"WA0123\""),
     "rules/1/activity_sid", "is not valid under any of the given schemas"),
    ("a rule without a name", ("name = \"crm\"\n", ""), "rules/1", "'name' is a required property"),
    ("no [default]", ("[default]\ninstruction = \"accept\"\n", ""), "", "'default' is a required property"),
    ("[default] with a name", ("instruction = \"accept\"\n", "instruction = \"accept\"\nname = \"d\"\n"),
     "default", "False schema does not allow 'd'"),
    ("[lists.x] without file", ("file = \"vip_numbers.txt\"\n", ""), "lists/vip_numbers",
     "'file' is a required property"),
    ("[lists.x] with another key", ("file = \"vip_numbers.txt\"\n", "file = \"vip_numbers.txt\"\nsorted = true\n"),
     "lists/vip_numbers", "'sorted' was unexpected"),
    ("`conference` inline", ("instruction = \"reject\"\nactivity_sid = \"WA0123456789abcdef0123456789abcdef\"",
                             "instruction = \"conference\""), "rules/1", "'delivery' is a required property"),
    ("a schedule window of the wrong shape",
     ("", "[schedules.hours]\ntimezone = \"UTC\"\nopen = [\"mon 9-17\"]\n"), "schedules/hours/open/0",
     "does not match"),
]

problems = []


def problem(where, message):
    problems.append(f"{os.path.relpath(where, REPO)}: {message}")


def errors_of(validator, document):
    return [("/".join(str(part) for part in error.absolute_path), error.message)
            for error in validator.iter_errors(document)]


def rules_files():
    """config/rules.toml and the rules files under examples/."""
    found = [os.path.join(REPO, "config", "rules.toml")]
    for folder, _, names in sorted(os.walk(os.path.join(REPO, "examples"))):
        for name in sorted(names):
            if not name.endswith(".toml") or name.endswith(".test.toml"):
                continue
            path = os.path.join(folder, name)
            with open(path, "rb") as file:
                table = tomllib.load(file)
            if SETTINGS_SECTIONS & set(table) or isinstance(table.get("rules"), dict):
                continue
            found.append(path)
    return found


def check_shipped(validator, path):
    with open(path, "rb") as file:
        text = file.read().decode()
    first = text.split("\n", 1)[0]
    if not first.startswith("#:schema "):
        problem(path, "the first line must be `#:schema PATH`, the schema relative to this file")
    else:
        target = os.path.normpath(os.path.join(os.path.dirname(path), first[len("#:schema "):].strip()))
        if target != SCHEMA:
            problem(path, f"`{first}` leads to {os.path.relpath(target, REPO)}, not "
                          f"{os.path.relpath(SCHEMA, REPO)}")
    for where, message in errors_of(validator, tomllib.loads(text)):
        problem(path, f"{where or '(top)'}: {message}")


def check_wrong(validator):
    """Each wrong file fails, only where it is wrong; returns them (name -> text)."""
    if errors_of(validator, tomllib.loads(GOOD)):
        problem(SCHEMA, f"the good file of schema_check.py fails: {errors_of(validator, tomllib.loads(GOOD))}")
    wrong = {}
    for what, (old, new), where, words in WRONG:
        if old:
            if GOOD.count(old) != 1:
                sys.exit(f"schema_check: {what}: {old!r} is not in the good file exactly once")
            text = GOOD.replace(old, new)
        else:
            text = new + GOOD if not new.startswith("[") else GOOD + "\n" + new
        wrong[what] = text
        errors = errors_of(validator, tomllib.loads(text))
        if not errors:
            problem(SCHEMA, f"{what}: the schema takes it:\n{text}")
            continue
        outside = [f"{path or '(top)'}: {message}" for path, message in errors
                   if not (path == where or path.startswith(where + "/") or not where)]
        if outside:
            problem(SCHEMA, f"{what}: errors away from {where or '(top)'}: {outside}")
        if not any(words in message for path, message in errors):
            problem(SCHEMA, f"{what}: no error says {words!r}: {errors}")
    return wrong


def check_binary(binary, shipped, wrong):
    result = subprocess.run([binary, "schema"], capture_output=True, cwd=tempfile.gettempdir(),
                            env={"PATH": os.environ.get("PATH", "")})
    with open(SCHEMA, "rb") as file:
        committed = file.read()
    if result.returncode != 0 or result.stderr:
        problems.append(f"`assignment-router schema`: exit {result.returncode}, stderr "
                        f"{result.stderr.decode(errors='replace')!r}")
    elif result.stdout != committed:
        problems.append("`assignment-router schema` does not print schemas/rules.schema.json byte for "
                        "byte: rebuild the binary, or the file changed since")

    def check(path):
        return subprocess.run([binary, "check", "--rules", path], capture_output=True, text=True,
                              cwd=os.path.dirname(path), env={"PATH": os.environ.get("PATH", "")})

    for path in shipped:
        result = check(path)
        if result.returncode != 0:
            problem(path, f"`check` refuses it:\n{result.stdout}{result.stderr}")
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "vip_numbers.txt"), "w") as file:
            file.write("+15005550006\n")
        path = os.path.join(folder, "rules.toml")
        with open(path, "w") as file:
            file.write(GOOD)
        result = check(path)
        if result.returncode != 0:
            problem(SCHEMA, f"the good file of schema_check.py fails `check`:\n{result.stdout}")
        for what, text in wrong.items():
            with open(path, "w") as file:
                file.write(text)
            result = check(path)
            if result.returncode != 1:
                problem(SCHEMA, f"{what}: the schema refuses it but `check` exits {result.returncode}:\n"
                                f"{result.stdout}{result.stderr}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", help="the release binary: its `schema` and `check` are used too")
    arguments = parser.parse_args()
    started = time.monotonic()

    try:
        with open(SCHEMA) as file:
            schema = json.load(file)
    except ValueError as error:
        sys.exit(f"schema_check: {os.path.relpath(SCHEMA, REPO)} is not JSON: {error}")
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        sys.exit(f"schema_check: {os.path.relpath(SCHEMA, REPO)} is not a draft-07 schema: {error.message}")
    validator = jsonschema.Draft7Validator(schema)

    shipped = rules_files()
    if len(shipped) < 2:
        problem(os.path.join(REPO, "examples"), "no rules file found under examples/")
    for path in shipped:
        check_shipped(validator, path)
    print(f"{len(shipped)} shipped rules files against the schema: "
          f"{', '.join(os.path.relpath(path, REPO) for path in shipped)}")
    wrong = check_wrong(validator)
    print(f"{len(wrong)} wrong files, each to fail where it is wrong")
    if arguments.binary:
        check_binary(os.path.abspath(arguments.binary), shipped, wrong)
        print(f"`assignment-router schema` against the committed file; `check` on {len(shipped) + 1 + len(wrong)} files")

    print(f"schema checked in {time.monotonic() - started:.1f} s")
    if problems:
        print("\n".join(["", *dict.fromkeys(problems)]), file=sys.stderr)
        sys.exit(f"schema_check: {len(problems)} problem(s)")


if __name__ == "__main__":
    main()
