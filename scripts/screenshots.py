"""Screenshot every tab of the running app in headless chromium, for the README.

Usage: python scripts/screenshots.py [--out docs/screenshots] [--dataset synthetic]
Starts the app on a free local port with a temporary cache, waits for the default results, then saves one
PNG per tab.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.layout import TAB_LABELS  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def browser(width: int, height: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=1800)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = dict(os.environ, PORT=str(port), RCT_CACHE_DIR=tempfile.mkdtemp(prefix="rct-shots-"),
               RCT_DEFAULT_DATASET=args.dataset)
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env)
    driver = browser(args.width, args.height)
    try:
        for _ in range(60):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        driver.get(f"http://127.0.0.1:{port}/")
        WebDriverWait(driver, 300).until(EC.text_to_be_present_in_element((By.ID, "dataset-summary"), "customers"))
        for tab_id, label in TAB_LABELS.items():
            driver.find_element(By.LINK_TEXT, label).click()
            time.sleep(4)  # let the tab's figures draw
            path = out / f"{tab_id}.png"
            driver.save_screenshot(str(path))
            print(f"saved {path}")
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
