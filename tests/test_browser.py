"""The sliders in a real browser: JupyterLab on 127.0.0.1 with a token, headless Chromium (Debian's
``chromium``, driven by Playwright), notebooks 06 and 07 run in quick mode, one slider moved with the
keyboard, and the displayed image must change.

Playwright is installed by the test if missing (``pip install playwright``); it never downloads a
browser: it drives ``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` installs it) or
``$DRNET_CHROMIUM``. The test is skipped, saying why, only when Chromium cannot start. On a failure a
screenshot is saved under ``outputs/browser/`` and its path is printed.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("DRNET_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "outputs" / "browser"
RUN_TIMEOUT_S = 600  # quick mode runs a notebook in well under a minute on an idle machine; CI machines are shared

#: notebook, which slider of the widget (0-based, in the order of ``box.sliders``), what it shows after
#: "run all" (a number, or ``"max"``: a later cell moves it to the end), the key pressed twice and the
#: change of the slider's value it makes
CASES = [("06_swap.ipynb", 2, "12", "ArrowRight", 2),    # time; a later cell sets it to 12 from the kernel
         ("07_prediction.ipynb", 0, "max", "ArrowLeft", -2)]  # the rollout's time step, moved to its last


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except Exception:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "playwright"], check=False)
        try:
            from playwright.sync_api import sync_playwright
        except Exception as exc:
            pytest.skip(f"Playwright could not be installed ({exc}); pip install playwright")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium context with a fresh profile (skips, saying why, if Chromium cannot start)."""
    sync_playwright = _playwright()
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (or set DRNET_CHROMIUM)")
    profile = tempfile.mkdtemp(prefix="drnet-chromium-")
    with sync_playwright() as p:
        try:
            context = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                           args=FLAGS, viewport={"width": 1400, "height": 1000})
        except Exception as exc:
            pytest.skip(f"Chromium at {CHROMIUM} cannot start here: {str(exc).splitlines()[0]}")
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a random token, serving copies of the notebooks (quick mode)."""
    folder = tmp_path_factory.mktemp("lab")
    for name, *_ in CASES:
        shutil.copy(ROOT / "notebooks" / name, folder / name)  # the kernel's autosave never touches the repository
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "DRNET_QUICK": "1", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "JUPYTER_CONFIG_DIR": str(folder / ".jupyter"), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    env.pop("MPLBACKEND", None)  # the notebooks draw inline, as for a student
    log = open(folder / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}", "--LabApp.expose_app_in_browser=True",
         "--ServerApp.open_browser=False", "--LabApp.extension_manager=readonly"]
        + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
            break
        except Exception:
            if server.poll() is not None or time.time() > deadline:
                server.kill()
                raise RuntimeError(f"JupyterLab did not start: {(folder / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
    yield base, token
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


# JavaScript run in the page: the notebook panel and its cells through JupyterLab's own application object.
CELLS_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext.session) return null;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  const errors = [];
  for (const c of cells) for (const o of c.model.outputs.toJSON())
    if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue);
  return {status: panel.sessionContext.session.kernel.status, count: cells.length,
          done: cells.filter(c => c.model.executionCount !== null).length, errors};
}"""


def _run_notebook(page, base: str, token: str, name: str) -> None:
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                           "window.jupyterapp.shell.currentWidget.sessionContext && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel && "
                           "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
                           timeout=120_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.time() + RUN_TIMEOUT_S
    while True:
        state = page.evaluate(CELLS_STATE)
        if state and state["errors"]:
            raise AssertionError(f"{name}: a cell failed in the browser: {state['errors'][0]}")
        if state and state["done"] == state["count"] and state["status"] == "idle":
            return
        if time.time() > deadline:
            raise AssertionError(f"{name}: cells still running after {RUN_TIMEOUT_S} s: {state}")
        time.sleep(1)


@pytest.mark.parametrize("name, slider_index, start, key, change", CASES)
def test_a_slider_moved_with_the_keyboard_redraws_the_image(browser, lab, name, slider_index, start, key, change):
    base, token = lab
    page = browser.new_page()
    started = time.perf_counter()
    try:
        _run_notebook(page, base, token, name)
        widget = page.locator(".jupyter-widgets.widget-vbox").first
        widget.scroll_into_view_if_needed()
        slider = widget.locator(".widget-slider").nth(slider_index)
        readout = slider.locator(".widget-readout")
        image = widget.locator("img").first
        image.wait_for(state="visible", timeout=60_000)
        # The kernel's last move of the slider reaches the page after the cell has finished: wait for it.
        handle = slider.locator(".noUi-handle").first
        expected = handle.get_attribute("aria-valuemax") if start == "max" else start
        expected = str(int(float(expected)))
        try:
            page.wait_for_function("([el, want]) => el.innerText.trim() === want",
                                   arg=[readout.element_handle(), expected], timeout=60_000)
        except Exception:
            raise AssertionError(f"the kernel set the slider to {expected}, the page shows "
                                 f"{readout.inner_text().strip()}") from None
        before_value = readout.inner_text().strip()
        before = image.screenshot()  # and the image the kernel drew for that value has settled
        for _ in range(40):
            time.sleep(0.5)
            now = image.screenshot()
            if now == before:
                break
            before = now
        handle.focus()
        page.keyboard.press(key)
        page.keyboard.press(key)
        # a number other than the old one: while the widget redraws, its readout can be empty for a moment
        moved = page.wait_for_function(
            "([el, old]) => { const t = el.innerText.trim(); return /^-?[0-9]+$/.test(t) && t !== old ? t : false; }",
            arg=[readout.element_handle(), before_value], timeout=30_000)
        after_value = moved.json_value()
        assert int(after_value) == int(before_value) + change, (before_value, after_value)
        deadline = time.time() + 60
        while image.screenshot() == before:  # the kernel redraws the panel: one decoder pass
            assert time.time() < deadline, "the slider moved but the displayed image did not change"
            time.sleep(0.25)
        print(f"{name}: slider {before_value} -> {after_value}, image redrawn; "
              f"{time.perf_counter() - started:.1f} s in the browser")
    except BaseException:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"{Path(name).stem}-failure.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failure: {shot}")
        except Exception as exc:
            print(f"no screenshot: {exc}")
        raise
    finally:
        page.evaluate("() => window.jupyterapp && window.jupyterapp.commands.execute('kernelmenu:shutdown')")
        page.close()
