# Workstation image (x86_64 + NVIDIA GPU): reconstruction with the heavy backends and training on
# mjlab / MuJoCo Warp. Weights (SAM2, ViTPose, SMPL, MegaSaM outputs) are mounted from the host at
# /weights — never baked into the image. Run with `docker compose run workstation ...` (see compose.yaml).
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV DEBIAN_FRONTEND=noninteractive

# Python 3.11 (the ROS 2 Jazzy PyPI wheels are cp311) from the deadsnakes PPA.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends software-properties-common gpg-agent \
    && add-apt-repository -y ppa:deadsnakes/ppa \
    && apt-get update && apt-get install -y --no-install-recommends \
        python3.11 python3.11-venv python3.11-dev build-essential cmake git \
        libusb-1.0-0 libgl1 libegl1 libosmesa6 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/videomimic
COPY . /opt/videomimic
# Full profile: ROS 2 Jazzy core from PyPI wheels, torch (CUDA build on x86_64), mjlab, perception.
RUN VM_PYTHON=python3.11 bash scripts/setup.sh && rm -rf /root/.cache/pip

ENV VM_WEIGHTS=/weights \
    WARP_CACHE_PATH=/opt/videomimic/.cache/warp
VOLUME ["/weights", "/opt/videomimic/runs"]
COPY docker/entrypoint.sh /entrypoint.sh
ENTRYPOINT ["/entrypoint.sh"]
CMD ["./vm", "demo"]
