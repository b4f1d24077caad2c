#!/usr/bin/env bash
# Services the end-to-end tests talk to, run as local processes on loopback only.
#
#   .ci/services.sh start            install what is missing, start every service, print `export` lines
#   .ci/services.sh stop             stop what `start` recorded in .ci/state (and nothing else)
#   .ci/services.sh status           one line per service; exit 1 if any is not running
#   .ci/services.sh env              the `export` lines of the running services
#   .ci/services.sh run CMD [ARG..]  start, run CMD with the exports, then stop what this run started,
#                                    whatever way CMD ends; exits with CMD's status
#
# `start` is idempotent: a service already running from .ci/state is reused. Progress goes to stderr, so
# `eval "$(.ci/services.sh start)"` takes only the exports. LOGSHIP_SKIP_SERVICES=1 makes `run` run CMD alone.
#
# Services: rotel (OTLP receiver, LOGSHIP_TEST_OTLP_ENDPOINT, LOGSHIP_TEST_ROTEL_LOG), moto (AWS API
# emulator, LOGSHIP_TEST_MOTO_ENDPOINT) and lambda (cargo-lambda's Lambda runtime API emulator,
# LOGSHIP_TEST_LAMBDA_RUNTIME_API, LOGSHIP_TEST_LAMBDA_INVOKE_URL, LOGSHIP_TEST_LAMBDA_FUNCTIONS,
# LOGSHIP_TEST_LAMBDA_LOG). No AWS credentials are exported: moto takes any, and the tests set dummy ones on the
# clients and processes they start, so nothing real is ever picked up or shadowed.
#
# Adding a service: write NAME_start, NAME_stop, NAME_status and NAME_env below, reusing the helpers, and add
# NAME to SERVICES.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.ci/state"
SERVICES=(rotel moto lambda)

# Pinned: rotel is alpha, and the tests parse its debug output, whose layout may change between releases.
# Our settings are LOGSHIP_*: rotel itself reads every ROTEL_* variable as an option.
ROTEL_VERSION="${LOGSHIP_ROTEL_VERSION:-0.0.1a15}"
ROTEL_PORT="${LOGSHIP_ROTEL_PORT:-4318}"
# Pinned: moto's answers (error shapes, which calls are implemented) change between releases.
MOTO_VERSION="${LOGSHIP_MOTO_VERSION:-5.2.5}"
MOTO_PORT="${LOGSHIP_MOTO_PORT:-5000}"
# Pinned: the tests rely on the emulator's routes and answers (the function-name check, the fixed deadline header).
LAMBDA_VERSION="${LOGSHIP_CARGO_LAMBDA_VERSION:-1.9.2}"
LAMBDA_PORT="${LOGSHIP_LAMBDA_PORT:-9000}"
# Seconds the emulator holds an invocation no runtime picks up before answering 408, so a test whose bootstrap
# died gets an answer rather than a hang.
LAMBDA_INVOKE_TIMEOUT="${LOGSHIP_LAMBDA_INVOKE_TIMEOUT:-120}"
START_TIMEOUT="${LOGSHIP_SERVICES_START_TIMEOUT:-30}"

now_ms() { local t="${EPOCHREALTIME/[.,]/}"; echo $((t / 1000)); }
log() { printf 'services: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------------------
# Helpers shared by every service.

# Whether PID (from NAME.pid) is alive and still runs EXE: a bare `kill -0` would trust a recycled PID.
pid_is() {
  local pid="$1" exe="$2"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$exe"
}

# The PID recorded for NAME if that process is still the one we started, else nothing.
recorded_pid() {
  local name="$1" exe="$2" pid
  [[ -f "$STATE/$name.pid" ]] || return 1
  pid="$(<"$STATE/$name.pid")"
  pid_is "$pid" "$exe" && printf '%s\n' "$pid"
}

# PREFERRED if nothing holds it on 127.0.0.1, else a port the kernel hands out. Binding (not connecting)
# is the test, so a listener on 0.0.0.0 or one that does not answer still counts as busy; SO_REUSEADDR, as
# rotel sets it, so that connections of a previous run still in TIME_WAIT do not.
free_port() {
  python3 - "$1" <<'PY'
import socket, sys
def try_bind(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return s.getsockname()[1]
    except OSError:
        return None
    finally:
        s.close()
print(try_bind(int(sys.argv[1])) or try_bind(0))
PY
}

accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Whether GET PATH on 127.0.0.1:PORT answers 200 within a few seconds (no curl needed).
http_ok() {
  local port="$1" path="$2"
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$path" "$port" >&3
    IFS= read -r -t 5 status <&3 || exit 1
    status="${status%$'\r'}"
    [[ "$status" =~ ^HTTP/1\.[01]\ 200(\ |$) ]]
  ) 2>/dev/null
}

# Waits (bounded) until `PROBE PORT` succeeds (default: PORT accepts connections) while PID stays alive;
# on failure shows the log tail.
wait_until_ready() {
  local name="$1" pid="$2" port="$3" logfile="$4" probe="${5:-accepts}" deadline
  deadline=$(($(now_ms) + START_TIMEOUT * 1000))
  while ! "$probe" "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited during start-up; last lines of $logfile:"
      tail -n 30 "$logfile" >&2 || true
      return 1
    fi
    if (($(now_ms) >= deadline)); then
      log "$name was not ready ($probe) on 127.0.0.1:$port within ${START_TIMEOUT}s; last lines of $logfile:"
      tail -n 30 "$logfile" >&2 || true
      kill "$pid" 2>/dev/null || true
      return 1
    fi
    sleep 0.1
  done
}

# Starts CMD detached (its own session, so a Ctrl-C at the terminal is for the test run, not for it)
# with output to LOGFILE, and records its PID. The wrapper writes its own PID and then execs CMD, so the
# recorded PID is CMD's whether or not setsid had to fork. It closes every inherited descriptor past
# stderr: a service holding the caller's pipe open would keep `$(...)` or a CI runner waiting for ever.
spawn() {
  local name="$1" logfile="$2"
  shift 2
  rm -f "$STATE/$name.pid"
  : >"$logfile"
  # shellcheck disable=SC2016 # expanded by the inner bash, on purpose
  setsid bash -c '
    echo $$ >"$0"
    for fd in /proc/$$/fd/*; do fd=${fd##*/}; if ((fd > 2)); then eval "exec $fd>&-"; fi; done
    exec "$@"' "$STATE/$name.pid" "$@" >>"$logfile" 2>&1 </dev/null &
  local _
  for _ in $(seq 50); do
    [[ -s "$STATE/$name.pid" ]] && break
    sleep 0.02
  done
  [[ -s "$STATE/$name.pid" ]] || die "$name: no PID recorded"
}

# The process group of PID, from /proc (the command name in field 2 may hold spaces, so fields count from ')').
pgid_of() {
  local stat
  [[ -r "/proc/$1/stat" ]] && stat="$(<"/proc/$1/stat")" || return 1
  stat="${stat##*) }"
  # shellcheck disable=SC2086 # split on purpose: state ppid pgrp ...
  set -- $stat
  printf '%s\n' "$3"
}

# Stops the process recorded for NAME: TERM, then KILL after a few seconds. With SCOPE `group`, the signals go
# to the whole process group spawn() started it in (it leads one: setsid), so what the service started dies with
# it; only while the recorded PID still leads that group, so a recycled PID never costs anyone else a process.
stop_recorded() {
  local name="$1" exe="$2" scope="${3:-process}" pid target _
  if pid="$(recorded_pid "$name" "$exe")"; then
    target="$pid"
    if [[ "$scope" == group && "$(pgid_of "$pid")" == "$pid" ]]; then
      target="-$pid"
    fi
    kill -TERM -- "$target" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) ignored TERM; killing it"
      kill -KILL -- "$target" 2>/dev/null || true
    fi
    # A child that outlived its leader (still in the group) goes too.
    if [[ "$target" == "-$pid" ]] && kill -0 -- "$target" 2>/dev/null; then
      kill -KILL -- "$target" 2>/dev/null || true
    fi
    log "$name stopped (pid $pid)"
  else
    log "$name not running"
  fi
  # The log stays for a post-mortem of the run that just ended; the next start truncates it.
  rm -f "$STATE/$name.pid" "$STATE/$name.port"
}

# Installs the pip requirement SPEC (for service NAME) into the interpreter's own site-packages; where that is
# refused (a distribution's "externally managed" Python, a read-only prefix), into TARGET, a directory of its
# own under .ci/state, instead, which needs no PATH or user-site set-up. One TARGET per service: pip --target
# does not replace what a directory already holds, and a failed install wipes it.
pip_install() {
  local name="$1" spec="$2" target="$3" t0
  t0="$(now_ms)"
  command -v python3 >/dev/null || die "python3 is needed to install $name"
  python3 -m pip --version >/dev/null 2>&1 || die "pip is needed to install $name (apt-get install python3-pip)"
  log "installing $spec"
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
  if ! python3 -m pip install --quiet "$spec" 2>"$STATE/pip.err"; then
    log "pip install into the interpreter failed ($(head -n 1 "$STATE/pip.err")); installing into ${target#"$ROOT/"}"
    rm -rf "$target"
    python3 -m pip install --quiet --target "$target" "$spec" || die "could not install $spec with pip"
  fi
  rm -f "$STATE/pip.err"
  log "installed $name in $(($(now_ms) - t0)) ms"
}

# An executable a wheel ships, at its pinned version: in TARGET when pip_install had to use --target (at PATH
# there), else among the files of the distribution installed into the interpreter.
wheel_executable() {
  local dist="$1" version="$2" target="$3" path="$4"
  if [[ -x "$target/$path" && -d "$target/${dist//-/_}-$version.dist-info" ]]; then
    printf '%s\n' "$target/$path"
    return 0
  fi
  python3 - "$dist" "$version" "${path##*/}" <<'PY'
import importlib.metadata as md, os, sys
try:
    dist = md.distribution(sys.argv[1])
    if dist.version != sys.argv[2]:
        sys.exit(1)
    path = next(os.path.realpath(dist.locate_file(f)) for f in dist.files or [] if f.name == sys.argv[3])
except Exception:
    sys.exit(1)
if not os.access(path, os.X_OK):
    sys.exit(1)
print(path)
PY
}

# ---------------------------------------------------------------------------------------------------------
# rotel: the OTLP receiver. Its debug output (every span, metric and log record received, in a text layout
# that tests/it/rotel.rs parses) goes to .ci/state/rotel.log.

ROTEL_LOG="$STATE/rotel.log"

# The agent binary ships inside the Python package (no console script).
rotel_agent() {
  if [[ -n "${LOGSHIP_ROTEL_AGENT:-}" ]]; then
    printf '%s\n' "$LOGSHIP_ROTEL_AGENT"
  else
    wheel_executable rotel "$ROTEL_VERSION" "$STATE/python" rotel/rotel-agent
  fi
}

rotel_install() { pip_install rotel "rotel==$ROTEL_VERSION" "$STATE/python"; }

rotel_start() {
  local pid port agent
  if pid="$(recorded_pid rotel rotel-agent)"; then
    port="$(<"$STATE/rotel.port")"
    if accepts "$port"; then
      log "rotel already running (pid $pid, 127.0.0.1:$port)"
      return 0
    fi
    log "rotel (pid $pid) no longer accepts connections; restarting it"
    stop_recorded rotel rotel-agent
  fi
  rm -f "$STATE/rotel.pid" "$STATE/rotel.port"

  agent="$(rotel_agent)" || { rotel_install && agent="$(rotel_agent)"; } || die "rotel-agent not found after install"
  port="$(free_port "$ROTEL_PORT")"
  [[ "$port" == "$ROTEL_PORT" ]] || log "127.0.0.1:$ROTEL_PORT is busy; using $port"

  # The agent links libpython (for rotel's Python processors): the one of the interpreter that installed it
  # is found first, whether or not the system has a libpython of that version.
  local pylib t0
  pylib="$(python3 -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR") or "")')"
  # gRPC is not used, but rotel always opens it (default localhost:4317): port 0 keeps it on loopback and
  # out of the way of any other collector. NO_COLOR keeps ANSI escapes out of rotel's own log lines.
  t0="$(now_ms)"
  LD_LIBRARY_PATH="$pylib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" NO_COLOR=1 spawn rotel "$ROTEL_LOG" "$agent" start \
    --otlp-http-endpoint "127.0.0.1:$port" \
    --otlp-grpc-endpoint 127.0.0.1:0 \
    --exporter blackhole \
    --debug-log traces --debug-log metrics --debug-log logs \
    --debug-log-verbosity detailed
  pid="$(<"$STATE/rotel.pid")"
  if ! wait_until_ready rotel "$pid" "$port" "$ROTEL_LOG"; then
    rm -f "$STATE/rotel.pid"
    if grep -q 'libpython' "$ROTEL_LOG"; then
      local v
      v="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
      die "rotel did not start: it needs a shared libpython$v (on Debian: apt-get install libpython$v)"
    fi
    die "rotel did not start"
  fi
  printf '%s\n' "$port" >"$STATE/rotel.port"
  log "rotel started (pid $pid, 127.0.0.1:$port, ready in $(($(now_ms) - t0)) ms, log $ROTEL_LOG)"
}

rotel_stop() { stop_recorded rotel rotel-agent; }

rotel_status() {
  local pid
  if pid="$(recorded_pid rotel rotel-agent)"; then
    printf 'rotel: running, pid %s, http://127.0.0.1:%s, log %s\n' "$pid" "$(<"$STATE/rotel.port")" "$ROTEL_LOG"
  else
    printf 'rotel: stopped\n'
    return 1
  fi
}

rotel_env() {
  recorded_pid rotel rotel-agent >/dev/null || return 0
  printf 'export LOGSHIP_TEST_OTLP_ENDPOINT=%q\n' "http://127.0.0.1:$(<"$STATE/rotel.port")"
  printf 'export LOGSHIP_TEST_ROTEL_LOG=%q\n' "$ROTEL_LOG"
}

# ---------------------------------------------------------------------------------------------------------
# moto: the AWS API emulator (Secrets Manager, SSM, S3, ...), every service on one port, state in memory
# only. Its request log goes to .ci/state/moto.log.

MOTO_LOG="$STATE/moto.log"
MOTO_TARGET="$STATE/moto-python"
# What identifies the server in /proc/PID/cmdline: it is run as `python3 -m moto.server`.
MOTO_EXE=moto.server

# Whether python3, with the PYTHONPATH of the caller, finds moto==MOTO_VERSION with its server extra. Only
# looks (no import: importing moto takes about a second).
moto_check() {
  python3 - "$MOTO_VERSION" <<'PY'
import importlib.metadata as md, importlib.util, os, sys
try:
    if md.version("moto") != sys.argv[1]:
        sys.exit(1)
    spec = importlib.util.find_spec("moto")
    ok = os.path.isfile(os.path.join(os.path.dirname(spec.origin), "server.py")) \
        and all(importlib.util.find_spec(m) for m in ("flask", "flask_cors", "werkzeug"))
except Exception:
    sys.exit(1)
sys.exit(0 if ok else 1)
PY
}

# The directory to put first on PYTHONPATH for moto (nothing for the interpreter's own site-packages), or
# failure if moto==MOTO_VERSION is in neither. The console script `moto_server` is not used: installed with
# --target it is not on PATH, and its shebang names whichever interpreter pip ran under.
moto_pythonpath() {
  if [[ -d "$MOTO_TARGET/moto-$MOTO_VERSION.dist-info" ]] \
    && PYTHONPATH="$MOTO_TARGET${PYTHONPATH:+:$PYTHONPATH}" moto_check; then
    printf '%s\n' "$MOTO_TARGET"
  elif moto_check; then
    printf '\n'
  else
    return 1
  fi
}

moto_install() { pip_install moto "moto[server]==$MOTO_VERSION" "$MOTO_TARGET"; }

# Ready once its own API answers: that is served by the same dispatcher as the AWS calls, after every
# import at start-up is done. Backends load lazily, so the first call to a service is a little slower.
moto_ready() { http_ok "$1" /moto-api/; }

moto_start() {
  local pid port pypath t0
  if pid="$(recorded_pid moto "$MOTO_EXE")"; then
    port="$(<"$STATE/moto.port")"
    if moto_ready "$port"; then
      log "moto already running (pid $pid, 127.0.0.1:$port)"
      return 0
    fi
    log "moto (pid $pid) no longer answers; restarting it"
    stop_recorded moto "$MOTO_EXE"
  fi
  rm -f "$STATE/moto.pid" "$STATE/moto.port"

  pypath="$(moto_pythonpath)" || { moto_install && pypath="$(moto_pythonpath)"; } \
    || die "moto==$MOTO_VERSION not found after install"
  port="$(free_port "$MOTO_PORT")"
  [[ "$port" == "$MOTO_PORT" ]] || log "127.0.0.1:$MOTO_PORT is busy; using $port"

  t0="$(now_ms)"
  # MOTO_PORT is what moto puts in URLs it hands back (an SQS queue URL, a presigned S3 URL).
  PYTHONPATH="$pypath${PYTHONPATH:+${pypath:+:}$PYTHONPATH}" MOTO_PORT="$port" \
    spawn moto "$MOTO_LOG" python3 -m "$MOTO_EXE" -H 127.0.0.1 -p "$port"
  pid="$(<"$STATE/moto.pid")"
  if ! wait_until_ready moto "$pid" "$port" "$MOTO_LOG" moto_ready; then
    rm -f "$STATE/moto.pid"
    die "moto did not start"
  fi
  printf '%s\n' "$port" >"$STATE/moto.port"
  log "moto started (pid $pid, 127.0.0.1:$port, ready in $(($(now_ms) - t0)) ms, log $MOTO_LOG)"
}

moto_stop() { stop_recorded moto "$MOTO_EXE"; }

moto_status() {
  local pid
  if pid="$(recorded_pid moto "$MOTO_EXE")"; then
    printf 'moto: running, pid %s, http://127.0.0.1:%s, log %s\n' "$pid" "$(<"$STATE/moto.port")" "$MOTO_LOG"
  else
    printf 'moto: stopped\n'
    return 1
  fi
}

moto_env() {
  recorded_pid moto "$MOTO_EXE" >/dev/null || return 0
  printf 'export LOGSHIP_TEST_MOTO_ENDPOINT=%q\n' "http://127.0.0.1:$(<"$STATE/moto.port")"
}

# ---------------------------------------------------------------------------------------------------------
# lambda: cargo-lambda's Lambda emulator, started as `cargo-lambda lambda watch --only-lambda-apis` (the wheel
# ships the binary that `cargo lambda` runs; as a plain binary it takes the subcommand `lambda` first). It serves
# the Runtime API a bootstrap polls (under /.rt/FUNCTION) and the Invoke API (/2015-03-31/functions/FUNCTION/
# invocations), and starts, builds and watches nothing: the tests start the shipper themselves, pointed at it.
# Its log goes to .ci/state/lambda.log.
#
# It runs in a project of its own, .ci/state/lambda, never the repository: `watch` reads its directory's
# Cargo.toml with `cargo metadata` (which compiles nothing) and takes invocations only for functions that are
# binaries of that project. Binaries are found in src/bin/ afresh for every name it does not know, so a test
# declares a function of its own by writing src/bin/NAME.rs (LOGSHIP_TEST_LAMBDA_FUNCTIONS) and deletes it when
# done; unique names keep concurrent test runs sharing one emulator apart.

LAMBDA_LOG="$STATE/lambda.log"
LAMBDA_TARGET="$STATE/cargo-lambda-python"
LAMBDA_PROJECT="$STATE/lambda"
# What identifies the emulator in /proc/PID/cmdline (a `cargo-lambda lambda build` has the same binary name).
LAMBDA_EXE="lambda watch --only-lambda-apis"

lambda_binary() {
  if [[ -n "${LOGSHIP_CARGO_LAMBDA:-}" ]]; then
    printf '%s\n' "$LOGSHIP_CARGO_LAMBDA"
  else
    wheel_executable cargo-lambda "$LAMBDA_VERSION" "$LAMBDA_TARGET" bin/cargo-lambda
  fi
}

lambda_install() { pip_install lambda "cargo-lambda==$LAMBDA_VERSION" "$LAMBDA_TARGET"; }

# The emulator's project: a stub package, rewritten at every start. cargo-lambda refuses a project with no
# binary, hence the placeholder; declarations left by tests that never cleaned up go with the old emulator.
lambda_project() {
  mkdir -p "$LAMBDA_PROJECT/src/bin"
  find "$LAMBDA_PROJECT/src/bin" -mindepth 1 -delete
  cat >"$LAMBDA_PROJECT/Cargo.toml" <<'TOML'
# Written by .ci/services.sh: the project cargo-lambda's emulator reads; never built.
# Its binaries are the functions the emulator takes invocations for: tests add theirs in src/bin/.
[package]
name = "logship-lambda-emulator"
version = "0.0.0"
edition = "2021"
publish = false

# A workspace of its own, so that cargo never looks at the repository around it.
[workspace]
TOML
  printf '%s\n' '// cargo-lambda needs one binary to start; no invocation is ever sent here.' 'fn main() {}' \
    >"$LAMBDA_PROJECT/src/bin/logship-placeholder.rs"
}

# Ready once the Invoke API refuses a function it does not have: that answer comes after the emulator has read
# its project with `cargo metadata`, so it also proves cargo works for it. Reads a few seconds at most. Each probe
# leaves one `ERROR ... doesn't exist as a binary` line in the log: that is the refusal it asks for.
lambda_ready() {
  local port="$1"
  (
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
    printf 'POST /2015-03-31/functions/logship-not-declared/invocations HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' \
      "$port" >&3
    IFS= read -r -t 5 status <&3 || exit 1
    status="${status%$'\r'}"
    [[ "$status" =~ ^HTTP/1\.[01]\ 404(\ |$) ]] || exit 1
    while IFS= read -r -t 5 line <&3; do
      [[ "$line" == *'Missing function'* ]] && exit 0
    done
    # The last line of the body has no newline: `read` fails on it but still fills `line`.
    [[ "${line:-}" == *'Missing function'* ]]
  ) 2>/dev/null
}

lambda_start() {
  local pid port bin t0
  if pid="$(recorded_pid lambda "$LAMBDA_EXE")"; then
    port="$(<"$STATE/lambda.port")"
    if lambda_ready "$port"; then
      log "lambda emulator already running (pid $pid, 127.0.0.1:$port)"
      return 0
    fi
    log "lambda emulator (pid $pid) no longer answers; restarting it"
    lambda_stop
  fi
  rm -f "$STATE/lambda.pid" "$STATE/lambda.port"

  bin="$(lambda_binary)" || { lambda_install && bin="$(lambda_binary)"; } \
    || die "cargo-lambda==$LAMBDA_VERSION not found after install"
  command -v cargo >/dev/null || die "the lambda emulator needs cargo on PATH: it reads its project with cargo metadata"
  port="$(free_port "$LAMBDA_PORT")"
  [[ "$port" == "$LAMBDA_PORT" ]] || log "127.0.0.1:$LAMBDA_PORT is busy; using $port"
  lambda_project

  t0="$(now_ms)"
  # From the stub project's directory (a subshell, so the caller's directory stays as it was). --ignore-changes:
  # nothing to watch; --timeout: see LAMBDA_INVOKE_TIMEOUT.
  (cd "$LAMBDA_PROJECT" && spawn lambda "$LAMBDA_LOG" "$bin" lambda watch --only-lambda-apis --ignore-changes \
    --invoke-address 127.0.0.1 --invoke-port "$port" --timeout "$LAMBDA_INVOKE_TIMEOUT") || die "lambda: not started"
  pid="$(<"$STATE/lambda.pid")"
  if ! wait_until_ready lambda "$pid" "$port" "$LAMBDA_LOG" lambda_ready; then
    rm -f "$STATE/lambda.pid"
    die "the lambda emulator did not start"
  fi
  printf '%s\n' "$port" >"$STATE/lambda.port"
  log "lambda emulator started (pid $pid, 127.0.0.1:$port, ready in $(($(now_ms) - t0)) ms, log $LAMBDA_LOG)"
}

# The whole group: the emulator runs `cargo metadata` as a child on invocations.
lambda_stop() { stop_recorded lambda "$LAMBDA_EXE" group; }

lambda_status() {
  local pid
  if pid="$(recorded_pid lambda "$LAMBDA_EXE")"; then
    printf 'lambda: running, pid %s, http://127.0.0.1:%s, project %s, log %s\n' "$pid" "$(<"$STATE/lambda.port")" \
      "$LAMBDA_PROJECT" "$LAMBDA_LOG"
  else
    printf 'lambda: stopped\n'
    return 1
  fi
}

# RUNTIME_API is a base: function NAME's bootstrap gets AWS_LAMBDA_RUNTIME_API=$RUNTIME_API/NAME (with the scheme,
# as cargo-lambda gives it to the functions it starts; the Rust runtime takes it so). NAME is invoked with
# POST $INVOKE_URL/NAME/invocations once $FUNCTIONS/NAME.rs exists.
lambda_env() {
  recorded_pid lambda "$LAMBDA_EXE" >/dev/null || return 0
  local port
  port="$(<"$STATE/lambda.port")"
  printf 'export LOGSHIP_TEST_LAMBDA_RUNTIME_API=%q\n' "http://127.0.0.1:$port/.rt"
  printf 'export LOGSHIP_TEST_LAMBDA_INVOKE_URL=%q\n' "http://127.0.0.1:$port/2015-03-31/functions"
  printf 'export LOGSHIP_TEST_LAMBDA_FUNCTIONS=%q\n' "$LAMBDA_PROJECT/src/bin"
  printf 'export LOGSHIP_TEST_LAMBDA_LOG=%q\n' "$LAMBDA_LOG"
}

# ---------------------------------------------------------------------------------------------------------

each() {
  local verb="$1" s rc=0
  for s in "${SERVICES[@]}"; do
    "${s}_$verb" || rc=1
  done
  return $rc
}

# Two `start`s at once (parallel make, two terminals) would otherwise both see "not running".
lock() {
  mkdir -p "$STATE"
  if command -v flock >/dev/null; then
    exec 9>"$STATE/.lock"
    flock -w 120 9 || die "another services.sh holds $STATE/.lock"
  fi
}

cmd_run() {
  (($#)) || die "run: no command given"
  if [[ "${LOGSHIP_SKIP_SERVICES:-}" == 1 ]]; then
    "$@"
    return
  fi
  local s
  STARTED=()
  # Set before starting, so a service that fails to start does not leave the ones before it running.
  trap 'for s in "${STARTED[@]}"; do "${s}_stop"; done' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  lock
  for s in "${SERVICES[@]}"; do
    "${s}_status" >/dev/null 2>&1 || STARTED+=("$s")
    "${s}_start"
  done
  # Released before CMD runs, so that CMD may call services.sh itself.
  exec 9>&-
  eval "$(each env)"
  # In the foreground, so Ctrl-C reaches CMD as usual; bash runs the traps once CMD has ended.
  "$@"
}

case "${1:-}" in
  start)
    lock
    each start
    each env
    ;;
  stop)
    lock
    each stop
    ;;
  status)
    each status
    ;;
  env)
    each env
    ;;
  run)
    shift
    cmd_run "$@"
    ;;
  *)
    sed -n '2,/^set /{/^#/s/^# \{0,1\}//p}' "$0" >&2
    exit 2
    ;;
esac
