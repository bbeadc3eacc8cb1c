"""Every training checkpoint is a true restart point: a stage interrupted anywhere (Ctrl-C, a kill, a
used-up ``--max-minutes`` chunk) and re-run ends with the same weights, bit for bit, as a run that
was never interrupted (on the same machine and library versions).

What a rollout depends on, and how each part is carried across a restart:

- **weights, optimiser, normalisers, iteration, PPO's adaptive learning rate** (in the optimiser's
  state): rsl_rl's own checkpoint dict;
- **random number generators**: torch (CPU, and every CUDA device once CUDA is in use), numpy and
  Python's ``random`` (mjlab, the command, the observation noise and rsl_rl draw from these global
  generators; MuJoCo Warp steps without random numbers): saved by :func:`capture`, restored by
  :func:`restore`;
- **state that lives across episodes**: the env's step counters and the motion command's per-clip
  success statistics (they weight which clip the next episode tracks): the same two functions;
- **the simulation and every per-episode buffer** (robot state, solver warm start, observation
  history and heightmap delay lines, action and PD-delay buffers, push timers, randomised PD gains,
  reference clip and frame): not saved. Instead the rule is that **all envs are reset after every
  checkpoint**, in an uninterrupted run as in a resumed one (:func:`restart_all`). mjlab's full reset
  rewrites all of that state (``mujoco_warp.reset_data`` zeroes the warm start too) from the
  generators alone, so after it the two runs hold the same state.

The cost of the rule: every ``--save-interval`` iterations each episode is cut short, as a time-out
would cut it (the returns bootstrap from the critic; a cut episode counts as neither a success nor a
failure of its clip). With the defaults (100 iterations of 24 steps = 48 s of simulated time per
interval, episodes of at most 20 s) that truncates about one episode in three.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

#: Key of the restart state in a checkpoint dict.
RESUME_KEY = "resume_state"


def _command(env):
    return env.unwrapped.command_manager.get_term("motion")


def capture(env) -> dict[str, Any]:
    """The generators' states and the state that lives across episodes, as plain tensors and lists."""
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    unwrapped = env.unwrapped
    return {
        "torch": torch.get_rng_state(),
        "cuda": cuda,
        "numpy": [kind, torch.from_numpy(np.asarray(keys, dtype=np.int64)), int(pos), int(has_gauss), float(gauss)],
        "python": random.getstate(),
        "env": {
            "common_step_counter": int(unwrapped.common_step_counter),
            "sim_step_counter": int(unwrapped._sim_step_counter),
        },
        "command": _command(env).training_state(),
    }


def restore(env, state: dict[str, Any]) -> None:
    """Put back what :func:`capture` saved (the env must be built with the same settings)."""
    torch.set_rng_state(state["torch"])
    if state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    random.setstate(state["python"])
    unwrapped = env.unwrapped
    unwrapped.common_step_counter = state["env"]["common_step_counter"]
    unwrapped._sim_step_counter = state["env"]["sim_step_counter"]
    _command(env).load_training_state(state["command"])


def restart_all(env) -> None:
    """Reset every env (the rule that follows each checkpoint): the episodes running now end
    without an outcome, so a resumed run, whose envs have just been built, sees the same."""
    # Under inference mode, as rsl_rl's rollouts: mjlab's buffers (PD delay lines...) are inference
    # tensors once a rollout has touched them, and those may only be changed in place in that mode.
    with torch.inference_mode():
        _command(env).steps_in_episode.zero_()
        env.reset()
