"""Drive the web app in headless Chromium: for its browser test, its latency benchmark and its screenshot.

    with serve_app("runs/demo") as url, open_chromium(download_dir) as browser:
        page = AppPage(browser, url)
        page.generate("a woman waving her left hand", num_poses=8)   # types, clicks, waits for the gallery
        page.gallery_images()                                         # the gallery's <img> elements

:func:`serve_app` starts ``python -m posegraph.app`` on a free local port in its own process and stops it
afterwards; :func:`open_chromium` starts Debian's ``chromium`` through Selenium and ``chromedriver``
(``apt-get install chromium chromium-driver``; ``pip install selenium``). :func:`find_chromium` says what is
missing instead of letting Selenium try to download a browser. Set ``POSEGRAPH_CHROMIUM`` /
``POSEGRAPH_CHROMEDRIVER`` to use other binaries.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["BROWSER_HINT", "find_chromium", "free_port", "serve_app", "open_chromium", "AppPage"]

BROWSER_HINT = ("headless Chromium, chromedriver and Selenium are needed: apt-get install chromium chromium-driver "
                "&& pip install selenium (or set POSEGRAPH_CHROMIUM and POSEGRAPH_CHROMEDRIVER)")


def find_chromium() -> tuple[str, str]:
    """The paths of the Chromium binary and of chromedriver.

    Raises:
        RuntimeError: one of them, or Selenium, is missing; the message says how to get it.
    """
    try:
        import selenium  # noqa: F401
    except ImportError as error:
        raise RuntimeError(f"Selenium is not installed; {BROWSER_HINT}") from error
    browser = os.environ.get("POSEGRAPH_CHROMIUM") or next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome", "chrome"))), None)
    driver = os.environ.get("POSEGRAPH_CHROMEDRIVER") or shutil.which("chromedriver")
    if not browser or not driver:
        missing = " and ".join(name for name, path in (("Chromium", browser), ("chromedriver", driver)) if not path)
        raise RuntimeError(f"{missing} not found; {BROWSER_HINT}")
    return browser, driver


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_app(checkpoint=None, *args: str, port: int | None = None, timeout: float = 180.0, log=None,
              env: dict | None = None):
    """Run ``python -m posegraph.app --checkpoint CHECKPOINT ARGS`` on a free port; yields its URL.

    Args:
        checkpoint: what ``--checkpoint`` gets (``None``: no checkpoint).
        args: more command-line arguments.
        port: the port (default: a free one).
        timeout: seconds to wait for the page to answer.
        log: a file the server's output goes to (default: discarded).
        env: extra environment variables for the server.

    Raises:
        RuntimeError: the server exited or did not answer in time.
    """
    port = port or free_port()
    command = [sys.executable, "-m", "posegraph.app", "--port", str(port), *args]
    if checkpoint is not None:
        command += ["--checkpoint", str(checkpoint)]
    environment = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", **(env or {})}
    output = open(log, "w") if log is not None else subprocess.DEVNULL  # noqa: SIM115 - closed below
    server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=environment)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"{' '.join(command)} exited with status {server.returncode} before serving"
                                   + (f"; its output is in {log}" if log else ""))
            try:
                with urllib.request.urlopen(url, timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{' '.join(command)} did not answer at {url} within {timeout:.0f} s") from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if log is not None:
            output.close()


@contextlib.contextmanager
def open_chromium(download_dir=None, width: int = 1400, height: int = 1000):
    """A headless Chromium WebDriver (Selenium) that saves downloads into ``download_dir``; quit afterwards."""
    browser, driver = find_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--disable-extensions", "--no-first-run", f"--window-size={width},{height}"):
        options.add_argument(argument)
    if download_dir is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(Path(download_dir).resolve()),
                                                  "download.prompt_for_download": False})
    session = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield session
    finally:
        session.quit()


class AppPage:
    """The app's page in a Selenium WebDriver, by the element ids :func:`posegraph.app.build_app` gives."""

    def __init__(self, driver, url: str, timeout: float = 60.0):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.url, self.timeout = driver, url, timeout
        self._by, self._wait = By, WebDriverWait
        driver.get(url)
        self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "#generate"), "the page to load")

    def wait_for(self, condition, what: str, timeout: float | None = None, poll: float = 0.05):
        """Wait until ``condition(driver)`` is truthy; its value, or a TimeoutError naming ``what``.

        An element that the page re-renders while ``condition`` reads it (stale) counts as not yet.
        """
        from selenium.common.exceptions import StaleElementReferenceException, TimeoutException

        try:
            return self._wait(self.driver, timeout or self.timeout, poll_frequency=poll,
                              ignored_exceptions=[StaleElementReferenceException]).until(condition)
        except TimeoutException:
            raise TimeoutError(f"timed out waiting for {what}; the page says: {self.status()!r}") from None

    def find(self, css: str):
        return self.driver.find_element(self._by.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list:
        return self.driver.find_elements(self._by.CSS_SELECTOR, css)

    def fill(self, element_id: str, value) -> None:
        """Replace the text of the textbox or number field ``#element_id``."""
        from selenium.webdriver.common.keys import Keys

        field = self.find(f"#{element_id} textarea, #{element_id} input")
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(Keys.DELETE)
        field.send_keys(str(value))

    def status(self) -> str:
        """The status line: what the last request gave (poses or a message)."""
        found = self.find_all("#status .prose")
        return found[0].text if found else ""

    def answers(self) -> int:
        """How many requests this page has had answered."""
        value = self.driver.execute_script("const e = document.querySelector('#answers input'); return e && e.value")
        return int(float(value or 0))

    def notice(self) -> str:
        found = self.find_all("#notice")
        return found[0].text if found else ""

    def gallery_images(self) -> list:
        """The gallery's thumbnails (``<img>`` elements), one per pose."""
        return self.find_all("#gallery .thumbnail-item img")

    def loaded_images(self) -> int:
        """How many gallery images the browser has finished loading."""
        return sum(bool(self.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0",
                                                   image)) for image in self.gallery_images())

    def submit(self, prompt: str, num_poses=None, **fields) -> tuple[str, float]:
        """Fill the prompt (``num_poses``, and any field by element id: ``seed=3``, ``steps=20``), click
        generate and wait for the status line to change; returns it and the seconds since the click."""
        self.fill("prompt", prompt)
        if num_poses is not None:
            self.fill("num-poses", num_poses)
        for name, value in fields.items():
            self.fill(name.replace("_", "-"), value)
        before = self.answers()
        button = self.find("#generate")
        started = time.perf_counter()
        button.click()
        self.wait_for(lambda d: self.answers() > before, "an answer")
        return self.status(), time.perf_counter() - started

    def generate(self, prompt: str, num_poses: int = 8, **fields) -> dict[str, float]:
        """Type a prompt, click generate and wait until the gallery shows ``num_poses`` images.

        Returns:
            ``{"answer": seconds from the click to the page's answer, "shown": seconds from the click until
            every image is loaded}``.

        Raises:
            RuntimeError: the page answered with a message instead of poses.
        """
        status, answer = self.submit(prompt, num_poses, **fields)
        started = time.perf_counter() - answer
        if status.startswith("⚠"):
            raise RuntimeError(f"the app answered with a message: {status}")
        self.wait_for(lambda d: self.loaded_images() == num_poses == len(self.gallery_images()),
                      f"{num_poses} images in the gallery")
        return {"answer": answer, "shown": time.perf_counter() - started}

    def download_links(self, element_id: str = "downloads") -> dict[str, object]:
        """The download links of the file list ``#element_id``, by file name."""
        return {link.get_attribute("download"): link for link in self.find_all(f"#{element_id} a[download]")}
