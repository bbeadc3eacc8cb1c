"""Screenshots of a finished report for docs/img (the pictures the README shows before anyone installs).

Usage: ``python scripts/report_screenshots.py [--run runs/main] [--out docs/img]`` inside
``. scripts/env.sh``, after ``./vm demo``. Opens ``<run>/report/index.html`` from file:// in headless
Chromium (the one setup installs), lets the 3D view's timeline play, seeks every video to a frame
with the robot in view, and writes one PNG per section: ``report_top.png`` (title and input video),
``report_3d_view.png``, ``report_human_vs_g1.png``, ``report_egoview.png``, ``report_deploy_run.png``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

#: file name -> the section heading it shows (matched as the start of an <h2>'s text)
SECTIONS = {
    "report_human_vs_g1.png": "Human vs G1",
    "report_egoview.png": "Ego view",
    "report_deploy_run.png": "Deployment in simulation",
}
VIEWPORT = {"width": 1200, "height": 900}


def _seek_videos(page, fraction: float) -> None:  # noqa: ANN001 - playwright page
    """Pause every video at ``fraction`` of its length and wait until that frame is shown."""
    page.wait_for_function("[...document.querySelectorAll('video')].every(v => v.readyState >= 2)", timeout=120_000)
    page.evaluate(
        """async (f) => { await Promise.all([...document.querySelectorAll('video')].map(v => new Promise(done => {
            v.pause(); v.addEventListener('seeked', done, {once: true}); v.currentTime = v.duration * f; }))); }""",
        fraction,
    )


def take(run: Path, out: Path, fraction: float = 0.4) -> list[Path]:
    """Write the screenshots of ``run``'s report into ``out``; returns their paths."""
    from playwright.sync_api import sync_playwright

    page_path = (run / "report" / "index.html").resolve()
    if not page_path.is_file():
        raise SystemExit(f"error: no report at {page_path}: run `./vm demo` (or vm_main_job) first")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("error: Chromium is not installed: run `bash scripts/setup.sh` (apt package chromium)")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--no-first-run"])
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(page_path.as_uri(), wait_until="load")
            _seek_videos(page, fraction)
            written.append(out / "report_top.png")
            page.screenshot(path=str(written[-1]))
            scene = page.locator("#scene3d")
            page.frame_locator("#scene3d").locator("input.mantine-NumberInput-input").wait_for(timeout=120_000)
            scene.scroll_into_view_if_needed(timeout=120_000)
            page.wait_for_timeout(4000)  # the timeline plays: the bodies are drawn mid-motion
            page.frame_locator("#scene3d").locator(".mantine-Notification-closeButton").evaluate_all(
                "bs => bs.forEach(b => b.click())"  # viser's 'software WebGL' notice covers the scene
            )
            page.wait_for_timeout(1000)
            written.append(out / "report_3d_view.png")
            page.screenshot(path=str(written[-1]), clip=scene.bounding_box(timeout=120_000), timeout=120_000)
            for name, heading in SECTIONS.items():
                section = page.locator("section", has=page.locator("h2", has_text=heading)).first
                section.scroll_into_view_if_needed(timeout=60_000)
                written.append(out / name)
                box = section.evaluate(  # page coordinates (a full-page clip), not the viewport's
                    "e => { const r = e.getBoundingClientRect();"
                    " return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; }"
                )
                box["height"] = min(box["height"], 1400)  # the deploy section's plots run on: its top is the point
                page.screenshot(path=str(written[-1]), clip=box, full_page=True, timeout=120_000)
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=Path, default=Path("runs/main"), help="a finished main-job output folder")
    ap.add_argument("--out", type=Path, default=Path("docs/img"), help="where the PNGs go")
    ap.add_argument("--at", type=float, default=0.4, help="where to pause each video, as a fraction of its length")
    ns = ap.parse_args(argv)
    for path in take(ns.run, ns.out, ns.at):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
