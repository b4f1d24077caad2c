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
# Services: rotel (OTLP receiver, LOGSHIP_TEST_OTLP_ENDPOINT, LOGSHIP_TEST_ROTEL_LOG) and moto (AWS API
# emulator, LOGSHIP_TEST_MOTO_ENDPOINT). No AWS credentials are exported: moto takes any, and the tests set
# dummy ones on the clients they build, so nothing real is ever picked up or shadowed.
#
# Adding a service (a cargo-lambda emulator): write NAME_start, NAME_stop, NAME_status and NAME_env below,
# reusing the helpers, and add NAME to SERVICES.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.ci/state"
SERVICES=(rotel moto)

# Pinned: rotel is alpha, and the tests parse its debug output, whose layout may change between releases.
# Our settings are LOGSHIP_*: rotel itself reads every ROTEL_* variable as an option.
ROTEL_VERSION="${LOGSHIP_ROTEL_VERSION:-0.0.1a15}"
ROTEL_PORT="${LOGSHIP_ROTEL_PORT:-4318}"
# Pinned: moto's answers (error shapes, which calls are implemented) change between releases.
MOTO_VERSION="${LOGSHIP_MOTO_VERSION:-5.2.5}"
MOTO_PORT="${LOGSHIP_MOTO_PORT:-5000}"
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

# Stops the process recorded for NAME: TERM, then KILL after a few seconds.
stop_recorded() {
  local name="$1" exe="$2" pid _
  if pid="$(recorded_pid "$name" "$exe")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) ignored TERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
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

# ---------------------------------------------------------------------------------------------------------
# rotel: the OTLP receiver. Its debug output (every span, metric and log record received, in a text layout
# that tests/it/rotel.rs parses) goes to .ci/state/rotel.log.

ROTEL_LOG="$STATE/rotel.log"

# The agent binary ships inside the Python package (no console script), so it is found through the package.
rotel_agent() {
  if [[ -n "${LOGSHIP_ROTEL_AGENT:-}" ]]; then
    printf '%s\n' "$LOGSHIP_ROTEL_AGENT"
  elif [[ -x "$STATE/python/rotel/rotel-agent" && -d "$STATE/python/rotel-$ROTEL_VERSION.dist-info" ]]; then
    printf '%s\n' "$STATE/python/rotel/rotel-agent"
  else
    python3 - "$ROTEL_VERSION" <<'PY'
import importlib.metadata as md, importlib.util, os, sys
try:
    if md.version("rotel") != sys.argv[1]:
        sys.exit(1)
    spec = importlib.util.find_spec("rotel")
except Exception:
    sys.exit(1)
path = os.path.join(os.path.dirname(spec.origin), "rotel-agent")
if not os.access(path, os.X_OK):
    sys.exit(1)
print(path)
PY
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
