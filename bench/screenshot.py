"""Screenshot a report (or any local HTML page) in headless Chromium, as a partner would see it.

Usage::

    python bench/screenshot.py outputs/ondaine-forez/rapport.html [-o shot.png] [--height 4000]
        [--width 1280] [--max-kb 500] [--wait-ms 10000]

Needs Debian's ``chromium`` (``apt-get update && apt-get install -y chromium``). The browser runs
with an empty profile and without background networking, so a page that needs the network shows
it (blank maps). With ``--max-kb`` the PNG is re-encoded as an 8-bit palette image (Pillow, shipped
with matplotlib) until it fits. Prints the PNG path and size.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--disable-extensions", "--mute-audio"]


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("No Chromium found. Fix: apt-get update && apt-get install -y chromium")


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 4000,
               wait_ms: int = 10000, timeout: float = 120.0) -> Path:
    """Take a PNG screenshot of ``page`` with headless Chromium; return ``out``."""
    page = page.resolve()
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cpts-chromium-") as profile:
        cmd = [find_chromium(), *FLAGS, f"--user-data-dir={profile}", f"--screenshot={out}",
               f"--window-size={width},{height}", f"--virtual-time-budget={wait_ms}",
               page.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if not out.exists():
        raise SystemExit(f"Chromium made no screenshot (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return out


def shrink_png(path: Path, max_kb: int) -> None:
    """Re-encode ``path`` as a palette PNG (and scale it down if needed) until ≤ ``max_kb``."""
    from PIL import Image

    if path.stat().st_size <= max_kb * 1024:
        return
    img = Image.open(path).convert("RGB")
    scale = 1.0
    for _ in range(8):
        im = img if scale == 1.0 else img.resize((int(img.width * scale), int(img.height * scale)),
                                                 Image.LANCZOS)
        im.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
        if path.stat().st_size <= max_kb * 1024:
            return
        scale *= 0.85


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("page", type=Path)
    ap.add_argument("-o", "--out", type=Path, default=None, help="PNG path (default: <page>.png)")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=4000)
    ap.add_argument("--wait-ms", type=int, default=10000, help="virtual time given to scripts")
    ap.add_argument("--max-kb", type=int, default=None, help="shrink the PNG to this size")
    a = ap.parse_args(argv)
    if not a.page.exists():
        print(f"{a.page} does not exist", file=sys.stderr)
        return 1
    out = a.out or a.page.with_suffix(".png")
    screenshot(a.page, out, a.width, a.height, a.wait_ms)
    if a.max_kb:
        shrink_png(out, a.max_kb)
    print(f"{out} {out.stat().st_size / 1024:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
