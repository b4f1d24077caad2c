#!/usr/bin/env bash
# Builds the fuzz targets on the stable toolchain and fuzzes each for a while; exits non-zero on any finding.
#
# Usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 60 s, every target)
# Env:   FUZZ_SANITIZER=none     (default; plain stable) or address (ASan via RUSTC_BOOTSTRAP=1, ~4-5x slower)
#        FUZZ_EVENTS=DIR         where the seed events are (default: fixtures/events and fixtures/bad)
#
# Steps: install cargo-fuzz if missing → seed corpora from the fixtures → build → replay fuzz/regressions/ →
# fuzz each target. Findings land in fuzz/artifacts/<target>/, each target's full log in fuzz/artifacts/<target>.log
# (not inside the target's folder: cargo-fuzz prints every file there as a failing input).
set -euo pipefail
cd "$(dirname "$0")"

secs=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(decode_parse parse_line awslogs_lines)
fi

sanitizer=${FUZZ_SANITIZER:-none}
if [ "$sanitizer" != none ]; then
  # -Zsanitizer is unstable; RUSTC_BOOTSTRAP lets the stable compiler accept it (its runtimes ship with rust-std).
  export RUSTC_BOOTSTRAP=1
  # libdeflate's C tables trip ASan's ODR check; a false positive outside logship.
  export ASAN_OPTIONS="detect_odr_violation=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz (about a minute)"
  cargo install cargo-fuzz --locked --version '^0.13'
fi

if command -v python3 >/dev/null; then
  python3 seed.py ${FUZZ_EVENTS:+"$FUZZ_EVENTS"}
else
  echo "fuzz: no python3, corpora not seeded" >&2
fi

cargo fuzz build --sanitizer "$sanitizer"

# The failure itself from a libFuzzer log, without cargo-fuzz's byte-array dump of the input.
report() {
  grep -a -m1 -A4 -E "panicked at|ERROR: libFuzzer|==[0-9]+==ERROR|ERROR: AddressSanitizer" "$1" >&2 ||
    tail -n 30 "$1" >&2
}

failed=()

# Saved findings first: each must pass once the library is fixed, and they take milliseconds.
for t in "${targets[@]}"; do
  shopt -s nullglob
  saved=(regressions/"$t"-*)
  shopt -u nullglob
  [ ${#saved[@]} -eq 0 ] && continue
  log=artifacts/$t.regressions.log
  mkdir -p artifacts
  if cargo fuzz run --sanitizer "$sanitizer" "$t" "${saved[@]}" -- -runs=1 >"$log" 2>&1; then
    echo "fuzz: $t: ${#saved[@]} saved regression input(s) pass"
  else
    echo "fuzz: $t: a saved regression input still fails (full log: fuzz/$log)" >&2
    report "$log"
    failed+=("$t (regressions)")
  fi
done

for t in "${targets[@]}"; do
  mkdir -p "artifacts/$t"
  log=artifacts/$t.log
  echo "fuzz: $t for ${secs}s (sanitizer $sanitizer)"
  # -timeout: one input taking 10 s is a hang worth reporting; -rss_limit_mb: a decoder bomb is a finding;
  # -max_len: room for a multi-line stack trace or a small batch, without slowing every exec down.
  if cargo fuzz run --sanitizer "$sanitizer" "$t" -- \
    -dict=lambda.dict -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1; then
    grep -E '^Done |stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added' "$log" |
      sed "s/^/fuzz: $t: /" || true
  else
    echo "fuzz: $t FOUND SOMETHING (full log: fuzz/$log)" >&2
    report "$log"
    # CI's clone is thrown away, so the input itself goes into the output: `base64 -d` gets it back.
    grep -a -o "Test unit written to .*" "$log" | sed 's/^Test unit written to //' | while read -r unit; do
      echo "fuzz: $t: saved fuzz/artifacts/$t/$(basename "$unit"); base64:" >&2
      head -c 16384 "$unit" | base64 -w0 >&2
      echo >&2
    done || true
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]}" >&2
  echo "fuzz: reproduce with: cargo fuzz run --sanitizer $sanitizer <target> <input>   (in fuzz/)" >&2
  exit 1
fi
echo "fuzz: no findings"
