#!/usr/bin/env bash
# Build the retargeting peers' environment for bench/retarget.py, outside the repository.
#
#   bash bench/peer_env.sh VENV_DIR GMR_CHECKOUT
#
# VENV_DIR      where the separate venv goes (e.g. /tmp/peer/venv); it is created if missing.
# GMR_CHECKOUT  a checkout of github.com/YanjieZe/GMR (MIT; not on PyPI), obtained by you; it is
#               installed in editable mode (its G1 model lives beside the package, in assets/).
#
# Why a separate venv: holosoma-retargeting 0.1.0 pins numpy==2.3.5 (ours needs numpy<2) and pulls
# in viser/cvxpy/libigl. Everything comes from PyPI at setup; nothing downloads when the bench runs.
# torch (imported by both peers' packages, used by neither solver) is taken from our own venv via
# a .pth placed last on the path, instead of a second multi-GB copy. MuJoCo and mink are pinned to
# the versions in our requirements/constraints.txt, so every solver uses the same MuJoCo.
set -euo pipefail
venv=${1:?usage: bash bench/peer_env.sh VENV_DIR GMR_CHECKOUT}
gmr=${2:?usage: bash bench/peer_env.sh VENV_DIR GMR_CHECKOUT}
repo=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$gmr/setup.py" ] && [ -d "$gmr/general_motion_retargeting" ] \
  || { echo "peer_env: $gmr is not a GMR checkout (no setup.py / general_motion_retargeting/)" >&2; exit 1; }
pin() { grep -E "^$1==" "$repo/requirements/constraints.txt" | head -1; }
python3.11 -m venv "$venv"
"$venv/bin/pip" install -q numpy==2.3.5 tqdm scipy matplotlib trimesh jinja2 viser yourdfpy cvxpy libigl tyro \
  "$(pin mujoco)" "$(pin mink)" "qpsolvers[daqp]" loop_rate_limiters rich natsort psutil imageio
"$venv/bin/pip" install -q --no-deps smplx holosoma-retargeting==0.1.0
"$venv/bin/pip" install -q --no-deps -e "$gmr"
ours=$("$repo/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$ours" > "$site/zz_videomimic_torch.pth"
"$venv/bin/python" -c 'import holosoma_retargeting, general_motion_retargeting, torch, numpy, mujoco
print("peer env ready: numpy", numpy.__version__, "mujoco", mujoco.__version__)'
echo "run: python bench/retarget.py --peer-python $venv/bin/python"
