# Robot image: runs `ros2 launch videomimic deploy.launch.py` on the G1's Jetson Orin (arm64) or any
# Ubuntu 24.04 machine. Build on the Orin, or cross-build:
#   docker buildx build --platform linux/arm64 -f docker/robot.Dockerfile -t videomimic-robot .
# Vendor sources are pinned by ref; nothing is downloaded when the container runs.
FROM ros:jazzy-ros-base

ARG LIVOX_SDK2_REF=v1.2.5
ARG LIVOX_DRIVER_REF=1.2.4
ARG UNITREE_ROS2_REF=9f8c8128aef82b12fb508e09f908870fa04fd5f2

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV DEBIAN_FRONTEND=noninteractive

# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends \
        build-essential cmake git python3-venv python3-pip \
        ros-jazzy-rmw-cyclonedds-cpp ros-jazzy-joy ros-jazzy-pcl-conversions libpcl-dev libapr1-dev \
        libusb-1.0-0 libgl1 libegl1 libosmesa6 \
    && rm -rf /var/lib/apt/lists/*

# Livox-SDK2 (C++ SDK for the MID-360), then the vendor ROS 2 packages into an underlay.
WORKDIR /opt/src
RUN git clone --depth 1 --branch "${LIVOX_SDK2_REF}" https://github.com/Livox-SDK/Livox-SDK2.git \
    && cmake -S Livox-SDK2 -B Livox-SDK2/build -DCMAKE_BUILD_TYPE=Release \
    && cmake --build Livox-SDK2/build -j"$(nproc)" && cmake --install Livox-SDK2/build \
    && rm -rf Livox-SDK2

WORKDIR /opt/vendor_ws/src
RUN git clone --depth 1 --branch "${LIVOX_DRIVER_REF}" https://github.com/Livox-SDK/livox_ros_driver2.git \
    && cp livox_ros_driver2/package_ROS2.xml livox_ros_driver2/package.xml \
    && git clone https://github.com/unitreerobotics/unitree_ros2.git /opt/src/unitree_ros2 \
    && git -C /opt/src/unitree_ros2 checkout "${UNITREE_ROS2_REF}" \
    && cp -r /opt/src/unitree_ros2/cyclonedds_ws/src/unitree/unitree_hg /opt/src/unitree_ros2/cyclonedds_ws/src/unitree/unitree_go \
             /opt/src/unitree_ros2/cyclonedds_ws/src/unitree/unitree_api . \
    && rm -rf /opt/src/unitree_ros2
WORKDIR /opt/vendor_ws
RUN . /opt/ros/jazzy/setup.bash \
    && colcon build --cmake-args -DCMAKE_BUILD_TYPE=Release -DROS_EDITION=ROS2 -DHUMBLE_ROS=jazzy -DBUILD_TESTING=OFF \
    && rm -rf build log

# Our workspace: setup uses the sourced ROS 2 and skips our message copies (the real ones exist).
WORKDIR /opt/videomimic
COPY . /opt/videomimic
RUN . /opt/ros/jazzy/setup.bash && . /opt/vendor_ws/install/setup.bash \
    && VM_PROFILE=robot bash scripts/setup.sh \
    && rm -rf build log /root/.cache/pip

COPY docker/entrypoint.sh /entrypoint.sh
ENV RMW_IMPLEMENTATION=rmw_cyclonedds_cpp \
    VM_NETWORK_INTERFACE=eth0
ENTRYPOINT ["/entrypoint.sh"]
CMD ["ros2", "launch", "videomimic", "deploy.launch.py"]
