#!/usr/bin/env bash
# Container entrypoint: enter the ROS 2 environment(s) that exist, then run the command.
set -e
set +u
[ -f /opt/ros/jazzy/setup.bash ] && . /opt/ros/jazzy/setup.bash
[ -f /opt/vendor_ws/install/setup.bash ] && . /opt/vendor_ws/install/setup.bash
. /opt/videomimic/scripts/env.sh
if [ -n "${VM_NETWORK_INTERFACE:-}" ] && [ -z "${CYCLONEDDS_URI:-}" ] && [ "${RMW_IMPLEMENTATION:-}" = rmw_cyclonedds_cpp ]; then
  # Bind CycloneDDS to the robot's network interface (as unitree_ros2 requires).
  export CYCLONEDDS_URI="<CycloneDDS><Domain><General><Interfaces><NetworkInterface name=\"${VM_NETWORK_INTERFACE}\" priority=\"default\" multicast=\"default\"/></Interfaces></General></Domain></CycloneDDS>"
fi
exec "$@"
