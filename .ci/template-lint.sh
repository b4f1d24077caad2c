#!/usr/bin/env bash
# Lints template.yaml, the SAM template that deploys logship: cfn-lint, then `sam validate --lint`. Any error,
# warning or informational finding of either fails the run.
#
#   .ci/template-lint.sh            install the pinned tools if they are missing, then lint
#   .ci/template-lint.sh install    install only
#
# Both tools come from PyPI, pinned (a new release adds rules, and a new rule would fail CI on an unchanged
# template). They are installed with `pip --target` into a directory of their own under .ci/state, not into the
# interpreter: aws-sam-cli pins exact versions of boto3, botocore and click, and installing it next to moto (which
# the tests run from the interpreter) or the aws CLI would replace theirs. If the interpreter already holds exactly
# the pinned versions, those are used and nothing is installed. Either way they run as `python3 -m` with PYTHONPATH,
# so no console script or PATH set-up is needed.
#
# Neither tool needs credentials, and neither is given any: the lint commands run with a scrubbed environment (no
# AWS_* variable of the caller, no ~/.aws), dummy keys, a fixed region (sam validate wants one) and SAM's telemetry
# off, so a developer's real profile is never read or used.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.ci/state"
TARGET="$STATE/template-lint-python"
LINT_HOME="$STATE/template-lint-home"
TEMPLATE="${LOGSHIP_TEMPLATE:-$ROOT/template.yaml}"

# aws-sam-cli pins the range of cfn-lint it works with (1.170.0: >=1.52.0,<1.59); keep the two in step.
SAM_VERSION="${LOGSHIP_SAM_VERSION:-1.170.0}"
CFN_LINT_VERSION="${LOGSHIP_CFN_LINT_VERSION:-1.58.0}"

now_ms() { local t="${EPOCHREALTIME/[.,]/}"; echo $((t / 1000)); }
log() { printf 'template-lint: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v python3 >/dev/null || die "python3 is needed (apt-get install python3)"
# The interpreter itself, not a shim: the lint commands run with a scrubbed environment.
PY="$(python3 -c 'import sys; print(sys.executable)')"

# Whether $PY, with PYTHONPATH=$1 (empty: the interpreter's own site-packages), has exactly the pinned versions.
# Only looks (no import).
tools_found() {
  PYTHONPATH="$1" "$PY" - "$SAM_VERSION" "$CFN_LINT_VERSION" <<'PY'
import importlib.metadata as md, importlib.util, sys
try:
    ok = md.version("aws-sam-cli") == sys.argv[1] and md.version("cfn-lint") == sys.argv[2] \
        and all(importlib.util.find_spec(m) for m in ("samcli", "cfnlint"))
except Exception:
    ok = False
sys.exit(0 if ok else 1)
PY
}

# The PYTHONPATH to run the tools with (empty for the interpreter's own), or failure if neither has them.
tools_pythonpath() {
  if [[ -d "$TARGET/aws_sam_cli-$SAM_VERSION.dist-info" && -d "$TARGET/cfn_lint-$CFN_LINT_VERSION.dist-info" ]] \
    && tools_found "$TARGET"; then
    printf '%s\n' "$TARGET"
  elif tools_found ""; then
    printf '\n'
  else
    return 1
  fi
}

install_tools() {
  local t0
  "$PY" -m pip --version >/dev/null 2>&1 || die "pip is needed (apt-get install python3-pip)"
  mkdir -p "$STATE"
  # Two runs at once (parallel make, two terminals) must not install into the same directory together.
  if command -v flock >/dev/null; then
    exec 8>"$STATE/.template-lint.lock"
    flock -w 600 8 || die "another template-lint.sh holds $STATE/.template-lint.lock"
    tools_pythonpath >/dev/null && return 0
  fi
  t0="$(now_ms)"
  log "installing aws-sam-cli==$SAM_VERSION and cfn-lint==$CFN_LINT_VERSION into ${TARGET#"$ROOT/"}"
  # pip --target does not replace what a directory already holds, and a failed install leaves it half-filled.
  rm -rf "$TARGET"
  # pip's stderr is shown only on failure: on success it holds only its note that the interpreter's own packages
  # (which this directory leaves alone) would conflict with these.
  if ! PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install --quiet --target "$TARGET" \
    "aws-sam-cli==$SAM_VERSION" "cfn-lint==$CFN_LINT_VERSION" 2>"$STATE/template-lint-pip.err"; then
    cat "$STATE/template-lint-pip.err" >&2
    rm -rf "$TARGET"
    die "could not install aws-sam-cli==$SAM_VERSION and cfn-lint==$CFN_LINT_VERSION with pip"
  fi
  rm -f "$STATE/template-lint-pip.err"
  log "installed in $(($(now_ms) - t0)) ms"
}

# Runs `$PY ARGS...` in ROOT with nothing of the caller's AWS set-up: every AWS_* variable and ~/.aws are out of
# reach, the keys are dummies, and SAM keeps its state in a scratch home under .ci/state.
run_scrubbed() {
  mkdir -p "$LINT_HOME"
  (
    cd "$ROOT"
    env -i \
      PATH="$PATH" HOME="$LINT_HOME" LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb \
      PYTHONPATH="$PYPATH" PYTHONDONTWRITEBYTECODE=1 \
      AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=logship-template-lint-dummy \
      AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
      AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
      SAM_CLI_TELEMETRY=0 \
      "$PY" "$@"
  )
}

PYPATH="$(tools_pythonpath)" || { install_tools && PYPATH="$(tools_pythonpath)"; } \
  || die "aws-sam-cli==$SAM_VERSION / cfn-lint==$CFN_LINT_VERSION not found after install"

[[ "${1:-}" == install ]] && exit 0
[[ -f "$TEMPLATE" ]] || die "no template at $TEMPLATE"

rc=0
log "cfn-lint $CFN_LINT_VERSION ${TEMPLATE#"$ROOT/"}"
# Informational rules too (--include-checks I); cfn-lint exits non-zero on any finding. Its package has no __main__:
# the console script's entry point is called instead.
run_scrubbed -c 'import sys; from cfnlint.runner import main; sys.argv[0] = "cfn-lint"; sys.exit(main())' \
  --include-checks I --format parseable -- "$TEMPLATE" || rc=1

# Every ARN takes its partition from AWS::Partition (cfn-lint does not check a literal one inside !Sub).
if grep -n 'arn:aws:' "$TEMPLATE" >&2; then
  log "a literal arn:aws: partition in ${TEMPLATE#"$ROOT/"}: use \${AWS::Partition}"
  rc=1
fi

log "sam validate --lint (aws-sam-cli $SAM_VERSION)"
# SAM asks PyPI for a newer release once a week and says so on stderr: a fresh check time keeps it quiet and offline.
mkdir -p "$LINT_HOME/.aws-sam"
printf '{"lastVersionCheck": %s}\n' "$(date +%s)" >"$LINT_HOME/.aws-sam/metadata.json"
out="$(run_scrubbed -m samcli validate --lint --template-file "$TEMPLATE")" || rc=1
printf '%s\n' "$out"
# Its findings go to stdout: anything there but its success line fails, whatever the exit status.
if grep -v -e '^$' -e 'is a valid SAM Template' <<<"$out" | grep -q .; then
  log "sam validate printed more than its success line"
  rc=1
fi

if ((rc == 0)); then
  log "template lint: 0 findings"
else
  log "template lint failed"
fi
exit $rc
