#!/usr/bin/python3
"""Renders HTML reports in headless Chromium and checks them.

For every report given: the page loads nothing from the network (every request the page makes,
read from Chromium's net log, is a file: or data: URL), the console stays silent (no errors or
warnings: the report has no script, so any message is a rendering problem), and the screenshot
is not blank (enough non-background pixels, and the figures' colours are present).

    check_report_render.py results/quickstart/report.html results/robustness-study/report.html

`--self-test` first checks that a page with a remote image and a console error is rejected,
so the checks themselves can fail.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from PIL import Image

FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-breakpad", "--enable-logging=stderr", "--log-level=0",
    "--window-size=1280,4000",
]
# Okabe-Ito blue and orange: the first coloured series and bars of the figures.
FIGURE_COLOURS = [(0x00, 0x72, 0xB2), (0xE6, 0x9F, 0x00), (0x56, 0xB4, 0xE9)]


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("check_report_render: no chromium on PATH (Debian: apt-get install chromium)")


def render(page, workdir):
    """Screenshot, console messages and the page's network requests of one HTML file."""
    shot = os.path.join(workdir, "shot.png")
    netlog = os.path.join(workdir, "net.json")
    url = "file://" + os.path.abspath(page)
    result = subprocess.run([chromium(), *FLAGS, f"--log-net-log={netlog}", f"--screenshot={shot}", url],
                            capture_output=True, text=True, timeout=180)
    if not os.path.exists(shot):
        return None, [f"chromium wrote no screenshot (exit {result.returncode}): {result.stderr[-2000:]}"], []
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    with open(netlog) as handle:
        log = json.load(handle)
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    requests = []
    for event in log["events"]:
        params = event.get("params", {})
        # Requests of the page carry its site (file://) in their isolation key; the browser's
        # own background requests (updates, accounts) do not.
        if event["type"] == start and "file://" in params.get("network_isolation_key", ""):
            if not params.get("url", "").startswith(("file:", "data:")):
                requests.append(params["url"])
    return Image.open(shot).convert("RGB"), console, requests


def problems(page, workdir, expect_figures=True):
    image, console, requests = render(page, workdir)
    found = [f"console: {line}" for line in console] + [f"network request: {url}" for url in requests]
    if image is None:
        return found
    pixels = list(image.getdata())
    background = pixels[0]
    ink = sum(1 for p in pixels if p != background) / len(pixels)
    if ink < 0.01:
        found.append(f"screenshot is blank ({ink:.2%} of pixels differ from the background)")
    if expect_figures:
        present = set(pixels)
        if not any(colour in present for colour in FIGURE_COLOURS):
            found.append("no figure colour in the screenshot: the inline SVG figures did not render")
    return found


def self_test(workdir):
    bad = os.path.join(workdir, "bad.html")
    with open(bad, "w") as handle:
        handle.write('<!DOCTYPE html><html><body><p>x</p><img src="http://example.invalid/x.png">'
                     '<script>console.error("broken")</script></body></html>')
    found = problems(bad, workdir)
    kinds = {p.split(":")[0] for p in found}
    if not {"console", "network request"} <= kinds or not any("no figure colour" in p for p in found):
        sys.exit(f"check_report_render: the self-test page was not rejected as expected: {found}")
    print("check_report_render: self-test page rejected (console error, network request, no figures)")


def main(arguments):
    if not arguments or arguments == ["--self-test"]:
        sys.exit(__doc__)
    failed = False
    with tempfile.TemporaryDirectory() as workdir:
        if arguments[0] == "--self-test":
            self_test(workdir)
            arguments = arguments[1:]
        for page in arguments:
            if not os.path.exists(page):
                print(f"{page}: missing")
                failed = True
                continue
            found = problems(page, workdir)
            for problem in found:
                print(f"{page}: {problem}")
            failed |= bool(found)
            if not found:
                print(f"{page}: renders, silent console, no network requests")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
