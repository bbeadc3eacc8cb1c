"""The README's main job (`./vm demo`) end to end on the embedded default, at CPU scale:
generated video → reconstruction → retargeting → four training stages → export → deploy graph in
simulation (scripted gamepad) with a rosbag → HTML report. A re-run reuses every finished step."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _main_job(out: Path, *args: str) -> tuple[dict, float]:
    from videomimic.ament import find_executable

    t0 = time.perf_counter()
    res = subprocess.run([str(find_executable("videomimic_offline", "vm_main_job")), "--out", str(out), *args],
                         capture_output=True, text=True, timeout=2400)  # fmt: skip
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads((out / "main_job.json").read_text()), time.perf_counter() - t0


def test_main_job_end_to_end_and_resume(tmp_path: Path) -> None:
    from videomimic_offline.report import read_bag

    out = tmp_path / "main"
    summary, first_s = _main_job(out, "--deploy-seconds", "14")
    assert all(v.startswith("done") for v in summary["outcome"].values()), summary["outcome"]
    arts = {k: Path(v) for k, v in summary["artifacts"].items()}
    for key in ("video", "recon", "robot_motion", "policy", "bag", "report"):
        assert arts[key].exists(), key
    assert (out / "robot" / "retarget.mp4").is_file() and (out / "train" / "training_curves.png").is_file()

    msgs = read_bag(arts["bag"])
    states = [m.data for _, m in msgs["/vm/bridge_state"]]
    assert "stand" in states and "policy" in states, states  # the scripted gamepad drove the bridge
    armed = [m for _, m in msgs["/lowcmd"] if m.motor_cmd[0].kp > 0]
    assert armed, "no armed LowCmd in the bag"
    assert len(msgs["/vm/heightmap"]) > 50 and len(msgs["/vm/cloud"]) > 20

    html = arts["report"].read_text()
    for section in ("Input video and reconstruction", "Human vs G1", "Training curves", "Deployment in simulation"):
        assert section in html
    assert "not produced in this run" not in html

    # Re-run: the finished offline steps are reused (reconstruction and training are not redone).
    recon_mark = (out / "recon" / "stages" / "optimize" / "stage.json").stat().st_mtime_ns
    ckpt = max((out / "train" / "finetune").glob("model_*.pt")).stat().st_mtime_ns
    summary2, second_s = _main_job(out, "--deploy-seconds", "3")
    assert (out / "recon" / "stages" / "optimize" / "stage.json").stat().st_mtime_ns == recon_mark
    assert max((out / "train" / "finetune").glob("model_*.pt")).stat().st_mtime_ns == ckpt
    assert second_s < first_s
    print(f"main job: first run {first_s:.0f} s, re-run {second_s:.0f} s")
