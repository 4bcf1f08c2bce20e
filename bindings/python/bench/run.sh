#!/usr/bin/env bash
# Reproduces the "Python" section of docs/BENCHMARKS.md.
#
# Builds the extension in release mode into its own venv (target/python-bench-venv), installs
# the PyPI peers at the versions measured (snowflake-id 1.0.2, sonyflake-py 1.3.0), then runs
# bench/compare.py: every case side by side in one process, interleaved rounds, 1 and 4
# threads. Results go to bench/results/python.json (git-ignored). Takes about two minutes after
# the build; run it on an otherwise idle machine. Arguments are passed to compare.py, e.g.
# `--rounds 9 --seconds 1`.
set -euo pipefail
cd "$(dirname "$0")/../../.."

target="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target" bench/results
target="$(cd "$target" && pwd)"
venv="$target/python-bench-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  'maturin>=1.9.4,<2' 'snowflake-id==1.0.2' 'sonyflake-py==1.3.0'
(cd bindings/python && VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" maturin develop --release --quiet)

echo "== machine"
date -u +"date: %Y-%m-%dT%H:%M:%SZ"
echo "nproc: $(nproc)"
lscpu | grep -E "Model name|^CPU\(s\)" || true
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$venv/bin/python" --version
"$venv/bin/python" bindings/python/bench/compare.py --json bench/results/python.json "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
