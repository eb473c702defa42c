#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, with a corpus seeded from the
# project's own examples, and prints libFuzzer's final stats (executions, coverage).
#   bash fuzz/run.sh [SECONDS] [TARGET...]
# The toolchain here is stable; RUSTC_BOOTSTRAP lets cargo-fuzz use the flags it needs.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(expression rules_file callback template answer)
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1

seed() { # seed TARGET NAME CONTENT
  mkdir -p "corpus/$1"
  printf '%s' "$3" > "corpus/$1/seed-$2"
}
seed expression simple 'task.language == "es" AND worker.skills HAS "billing"'
seed expression nested 'NOT (task.a.b[0] IN [1, "x", null] OR TaskAge >= 300) and schedule.open'
seed expression operators "task.x contains 'y' OR task.y not in ['a'] OR task.z != null"
seed rules_file shipped "$(cat ../config/rules.toml)"
seed template holes 'https://example.com/{{ task.call_sid }}?w={{worker.contact_uri}}&t={{TaskSid}}'
seed callback body 'TaskSid=WT1&WorkerSid=WK1&ReservationSid=WR1&WorkspaceSid=WS1&TaskAttributes=%7B%22language%22%3A%22es%22%7D'

for target in "${targets[@]}"; do
  echo "==> $target, ${seconds}s"
  mkdir -p "corpus/$target"
  cargo fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 2>&1 \
    | grep -E '^(stat::|#[0-9]+[[:space:]]+DONE|==[0-9]+== ERROR|SUMMARY|Done|Error|error)' || true
done
