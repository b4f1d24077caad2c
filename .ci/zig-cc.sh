#!/bin/sh
# The C compiler `make build` and `make deploy` give cargo-lambda's builds: zig's, called as cargo-lambda's own
# wrapper calls it, minus `-static`. ISA-L's autotools build (through isal-sys) links its configure probes with
# -static, which zig refuses for a glibc target; what it builds is an archive, so nothing else changes. Rust's
# target triple, which the cc crate passes as --target=, becomes zig's.
target=
for arg in "$@"; do
  shift
  case "$arg" in
    -static) ;;
    --target=*) target="$(printf '%s' "${arg#--target=}" | sed 's/-unknown-/-/')" ;;
    *) set -- "$@" "$arg" ;;
  esac
done
exec cargo-lambda zig cc -- -g -fno-sanitize=all ${target:+-target "$target"} "$@"
