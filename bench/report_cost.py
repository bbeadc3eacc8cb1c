"""What the ego view and the report add to the main job: wall and CPU seconds of those two steps.

Usage: ``flock /work/wt/heavy.lock python bench/report_cost.py [--run runs/main]`` inside
``. scripts/env.sh``, on a finished main-job folder (its ``main_job.json``). Prints one line per
figure, then a JSON object on the last line. Never asserts (issue 15's budget is <= 60 s wall).

Both steps run as the main job runs them (``mainjob.step_egoview``, ``mainjob.step_report``), in
this one fresh process, so every import they need is counted (in the main job some are already
loaded by earlier steps: these figures are an upper bound). Outputs go to a temporary folder; the
run folder is only read. CPU seconds are user + system of this process and its children; wall well
above CPU means the machine was busy (or the step waited on I/O). The report's parts are timed
too: the 3D view (viser's static export), the bag read, the deploy video and the plots.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


class _Timer:
    """Wall/CPU seconds per name; ``wrap`` times every call of a module attribute."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def wrap(self, module: Any, attr: str, name: str) -> None:  # noqa: ANN401 - any module
        fn: Callable[..., Any] = getattr(module, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
            w, c = time.perf_counter(), _cpu()
            try:
                return fn(*args, **kwargs)
            finally:
                self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - w
                self.cpu[name] = self.cpu.get(name, 0.0) + _cpu() - c

        setattr(module, attr, timed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=Path, default=Path("runs/main"), help="a finished main-job output folder")
    args = ap.parse_args()
    from videomimic_offline.contracts.report_inputs import FILE, read_report_inputs
    from videomimic_offline.viz import deploy_video, scene3d

    from videomimic_offline import mainjob, report

    rec = read_report_inputs(args.run / FILE)
    timer = _Timer()
    timer.wrap(scene3d, "build_scene_html", "report_3d_view")
    timer.wrap(report, "read_bag", "report_bag_read")
    timer.wrap(deploy_video, "render_deploy_video", "report_deploy_video")
    timer.wrap(report, "deploy_plots", "report_plots")
    timer.wrap(mainjob, "step_egoview", "egoview_step")
    timer.wrap(mainjob, "step_report", "report_step")
    with tempfile.TemporaryDirectory(prefix="report_cost_") as tmp:
        arts = {k: v for k, v in rec.artifacts.items() if k not in ("egoview", "report")}
        ctx = mainjob.Context(out=Path(tmp), video=None, height_m=None, deploy_seconds=0.0, train_iterations=0,
                              artifacts=arts, info=dict(rec.info), outcome=dict(rec.outcome))  # fmt: skip
        w0, c0 = time.perf_counter(), _cpu()
        mainjob.step_egoview(ctx)
        mainjob.step_report(ctx)
        total_wall, total_cpu = time.perf_counter() - w0, _cpu() - c0
    out: dict[str, Any] = {"run": str(args.run), "total_wall_s": round(total_wall, 1),
                           "total_cpu_s": round(total_cpu, 1)}  # fmt: skip
    for name in timer.wall:
        out[f"{name}_wall_s"] = round(timer.wall[name], 1)
        out[f"{name}_cpu_s"] = round(timer.cpu[name], 1)
    out["load_1min"] = round(os.getloadavg()[0], 2)
    out["cpus"] = os.cpu_count()
    for k, v in out.items():
        print(f"{k}: {v}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
