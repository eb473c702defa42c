#!/usr/bin/env python3
"""Checks that Cargo.toml's `rust-version` is at least what every dependency built into the
service declares, so that a dependency update cannot silently raise the oldest toolchain that
builds it. (Only stable is installed on the build machines, so an older toolchain cannot be run
here; clippy's `incompatible_msrv` lint covers the standard-library APIs the code itself uses.)
"""

import json
import subprocess
import sys


def version(text):
    return tuple(int(part) for part in text.split("."))


def main():
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    packages = {package["id"]: package for package in metadata["packages"]}
    nodes = {node["id"]: node for node in metadata["resolve"]["nodes"]}
    root = metadata["resolve"]["root"]
    declared = packages[root].get("rust_version")
    if not declared:
        sys.exit("Cargo.toml declares no rust-version")
    # Normal (not dev or build) dependencies, transitively: what the service is built from.
    seen, stack = set(), [root]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for dep in nodes[current]["deps"]:
            if any(kind["kind"] is None for kind in dep["dep_kinds"]):
                stack.append(dep["pkg"])
    needs = [
        (version(packages[i]["rust_version"]), packages[i]["name"], packages[i]["version"])
        for i in seen
        if i != root and packages[i].get("rust_version")
    ]
    highest = max(needs)
    too_new = [need for need in needs if need[0] > version(declared)]
    if too_new:
        for need, name, crate_version in sorted(too_new, reverse=True):
            print(f"{name} {crate_version} needs Rust {'.'.join(map(str, need))}")
        sys.exit(f"rust-version = {declared} in Cargo.toml is older than its dependencies need")
    print(
        f"rust-version {declared}: every dependency builds with it "
        f"(the highest need: {highest[1]} {highest[2]}, Rust {'.'.join(map(str, highest[0]))})"
    )


if __name__ == "__main__":
    main()
