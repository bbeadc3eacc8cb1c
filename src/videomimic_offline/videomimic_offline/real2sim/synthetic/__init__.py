"""Synthetic benchmark with ground truth: procedural scenes, a walking/sitting body, a phone
camera in one of the casual-video regimes, rendered to a clip folder (``video.mp4`` + ``gt.npz`` +
``meta.json``).

Entry points: :func:`videomimic_offline.real2sim.synthetic.clip.make_clip` and the console tool
``make_synthetic_clip``.
"""

#: Scene + motion kinds. ``bench``: walk up, turn, sit down (and stay seated); ``chair`` / ``ledge``:
#: walk up, turn, sit down, stay a moment, stand up again. New kinds go at the end (the index
#: seeds a clip's random streams).
SCENE_KINDS: tuple[str, ...] = ("stairs_up", "stairs_down", "curb", "bench", "chair", "ledge")

#: Kinds in which the person sits on a seat (ground truth carries the seat box and ``seat_contact``).
SIT_KINDS: tuple[str, ...] = ("bench", "chair", "ledge")

#: Camera regimes of casual phone video:
#: ``orbit`` the original benchmark camera (handheld, orbits the person by 15-35 degrees);
#: ``tripod`` fixed pose; ``pan_tilt`` rotates about a fixed centre to follow the person;
#: ``handheld_still`` a person standing still holding the phone (a few cm of drift plus shake,
#: following the person); ``follow_behind`` the camera operator walks behind the person.
CAMERA_REGIMES: tuple[str, ...] = ("orbit", "tripod", "pan_tilt", "handheld_still", "follow_behind")

#: What the camera does in each regime, in the camera stage's vocabulary (BOARD: static |
#: rotation | translating): the class a correct regime detection reports.
REGIME_MOTION: dict[str, str] = {
    "orbit": "translating",
    "tripod": "static",
    "pan_tilt": "rotation",
    "handheld_still": "translating",
    "follow_behind": "translating",
}

#: Bumped whenever the same (kind, seed, size) renders differently, so cached clips are redone.
GENERATOR_VERSION = 9
