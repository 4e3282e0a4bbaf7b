"""Screenshot the dashboard of a run in headless Chromium (Playwright): the full page, and the opened node of the
best program (or NODE): its code, diff, metrics, tuning and lineage.

    python reports/dashboard/screenshot.py RUN_DIR OUT_PREFIX [--node NODE]

writes OUT_PREFIX-full.png and OUT_PREFIX-node.png, and prints any console error the page logged.
"""
from __future__ import annotations

import argparse
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from factorengine.dashboard.server import open_dashboard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("out_prefix")
    parser.add_argument("--node", type=int, help="the node to open (default: the first of the top programs)")
    args = parser.parse_args()
    server = open_dashboard(args.run_dir.resolve())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    errors: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda message: message.type == "error" and errors.append(message.text))
            page.goto(server.url)
            page.wait_for_selector("#top-table table")
            page.screenshot(path=f"{args.out_prefix}-full.png", full_page=True)
            link = f"a[data-node='{args.node}']" if args.node is not None else "#top-table a.node-link"
            page.locator(link).first.click()
            page.wait_for_selector("#node pre.code")
            page.locator("#node").screenshot(path=f"{args.out_prefix}-node.png")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    print("console errors:", errors or "none")


if __name__ == "__main__":
    main()
