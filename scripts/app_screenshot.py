"""Screenshot the web app with poses in its gallery (the README's docs/images/app.png).

    .venv/bin/python scripts/app_screenshot.py --checkpoint runs/demo --out docs/images/app.png

Starts ``python -m posegraph.app --checkpoint CHECKPOINT`` on a free local port, opens it in headless
Chromium (``apt-get install chromium chromium-driver``), types the prompt, generates the poses (the first one
is picked, so its downloads show) and saves the whole page as a PNG.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from posegraph.app.browser import AppPage, open_chromium, serve_app  # noqa: E402


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a trained run, checkpoint or saved pipeline")
    parser.add_argument("--out", type=Path, default=Path("docs/images/app.png"), help="where to write the PNG")
    parser.add_argument("--prompt", default="a woman waving her left hand")
    parser.add_argument("--poses", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=1400, help="browser window width in pixels")
    args = parser.parse_args(argv)

    with serve_app(args.checkpoint, timeout=600) as url, open_chromium(width=args.width) as driver:
        page = AppPage(driver, url, timeout=600)
        page.generate(args.prompt, args.poses, seed=args.seed)  # the first pose is picked: its files show
        page.wait_for(lambda d: not page.find_all("[data-testid='status-tracker']:not(.hide)"), "the page to settle")
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(args.width, height + 20)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(args.out))
    print(f"wrote {args.out}")
    return args.out


if __name__ == "__main__":
    main()
