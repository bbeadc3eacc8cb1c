"""Synthetic benchmark with ground truth: procedural scenes, a walking/sitting body, a handheld
camera, rendered to a clip folder (``video.mp4`` + ``gt.npz`` + ``meta.json``).

Entry points: :func:`videomimic_offline.real2sim.synthetic.clip.make_clip` and the console tool
``make_synthetic_clip``.
"""

SCENE_KINDS: tuple[str, ...] = ("stairs_up", "stairs_down", "curb", "bench")

#: Bumped whenever the same (kind, seed, size) renders differently, so cached clips are redone.
GENERATOR_VERSION = 7
