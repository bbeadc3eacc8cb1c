# Source this file to enter the workspace environment (the `vm` script does it for you).
# Uses a sourced ROS 2 Jazzy when there is one; otherwise the project venv that holds ROS 2
# Jazzy core from PyPI wheels. Idempotent.
VM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VM_ROOT
# shellcheck disable=SC1091
. "$VM_ROOT/.venv/bin/activate"
if [ -z "${VM_SYSTEM_ROS:-}" ] && [ "${ROS_DISTRO:-}" != "jazzy" ]; then
  # The venv is the ament prefix: it holds share/, lib/*.so and include/ of the ROS wheels.
  case ":${AMENT_PREFIX_PATH:-}:" in *":$VIRTUAL_ENV:"*) ;; *) export AMENT_PREFIX_PATH="$VIRTUAL_ENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}";; esac
  case ":${CMAKE_PREFIX_PATH:-}:" in *":$VIRTUAL_ENV:"*) ;; *) export CMAKE_PREFIX_PATH="$VIRTUAL_ENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}";; esac
  export LD_LIBRARY_PATH="$VIRTUAL_ENV/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
if [ -f "$VM_ROOT/install/setup.bash" ]; then
  # shellcheck disable=SC1091
  . "$VM_ROOT/install/setup.bash"
fi
# The workspace commands (vm_launch, vm_run) and the offline tools (reconstruct, retarget, train_mpt, ...)
# on PATH without ros2cli, as the docs call them. (Nodes stay behind `./vm run` / `ros2 run`.)
for _vm_bin in "$VM_ROOT/install/videomimic/lib/videomimic" "$VM_ROOT/install/videomimic_offline/lib/videomimic_offline"; do
  case ":$PATH:" in *":$_vm_bin:"*) ;; *) export PATH="$_vm_bin:$PATH";; esac
done
unset _vm_bin
# Keep DDS on this machine unless the user says otherwise (docs/real_robot.md for the robot): LOCALHOST's
# reach, over UDP without Fast DDS's shared memory, whose interprocess lock stalled the real-time nodes
# behind busy normal-priority processes (config/fastdds_local.xml says how). Every process that sources
# this file gets the same, so all of them can talk to each other.
if [ -z "${ROS_AUTOMATIC_DISCOVERY_RANGE:-}" ] && [ -z "${FASTRTPS_DEFAULT_PROFILES_FILE:-}" ]; then
  export ROS_AUTOMATIC_DISCOVERY_RANGE=SYSTEM_DEFAULT
  export FASTRTPS_DEFAULT_PROFILES_FILE="$VM_ROOT/config/fastdds_local.xml"
fi
export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
export MUJOCO_GL="${MUJOCO_GL:-egl}"
export WANDB_MODE="${WANDB_MODE:-disabled}"
export WARP_CACHE_PATH="${WARP_CACHE_PATH:-$VM_ROOT/.cache/warp}"
export PYTHONUNBUFFERED=1
