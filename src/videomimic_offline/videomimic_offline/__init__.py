"""VideoMimic offline core: a plain Python library that never imports ROS.

Areas: ``robot`` (G1 constants, the single source of truth), ``real2sim`` (video to metric
human + scene), ``retarget`` (human to G1), ``training`` (four-stage policy learning, export).
"""

__version__ = "0.1.0"
