#!/usr/bin/env bash
# `colcon build` of the workspace in the current folder (environment already entered; extra arguments
# go to colcon), quiet unless it fails. A checkout updated over an older build can fail where a clean
# build works: e.g. a node executable that was a setuptools wrapper in install/ and is now a symlink
# to bin/ ("File exists: build/<pkg>/bin/sim_g1 -> install/<pkg>/..."). So a package that fails is
# cleared (its build/ and install/ only) and the build runs once more; a second failure is real.
set -uo pipefail
mkdir -p log
LOG=log/colcon-build.log # per workspace: the venv may be shared by several checkouts
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

build() {
  colcon build --symlink-install --cmake-args -DBUILD_TESTING=OFF -DPython3_EXECUTABLE="$(command -v python)" \
    --event-handlers console_cohesion- status- summary+ "$@" > "$LOG" 2>&1
}

if build "$@"; then
  tail -3 "$LOG"
  exit 0
fi
failed=$(sed -n 's/^Failed *<<< \([A-Za-z0-9_]*\).*/\1/p' "$LOG" | sort -u | tr '\n' ' ')
if [ -z "$failed" ]; then
  tail -40 "$LOG"
  exit 1
fi
cp "$LOG" log/colcon-build-first.log
say "colcon build failed for: ${failed}(log/colcon-build-first.log); clearing their build/ and install/ (left by an older checkout?) and building once more"
for pkg in $failed; do rm -rf "build/$pkg" "install/$pkg"; done
if build "$@"; then
  tail -3 "$LOG"
  exit 0
fi
tail -40 "$LOG"
exit 1
