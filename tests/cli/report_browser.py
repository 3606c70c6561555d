"""Loads pages in headless chromium through the DevTools protocol (over
--remote-debugging-pipe: no port, no websocket library) and checks each:
no console error, no uncaught exception, no failed load, every image
loaded (complete, naturalWidth > 0), no horizontal overflow at the given
viewport width (document.documentElement.scrollWidth <= width).
Optionally saves a screenshot (the full page).

usage: report_browser.py CHROMIUM PROFILE_DIR PAGE...
PAGE: NAME,FILE,WIDTH,HEIGHT,MIN_IMAGES[,SCREENSHOT.png]
Prints one line per page; exit 1 on the first failed check."""
import base64
import json
import os
import subprocess
import sys
import time


class Browser:
    def __init__(self, chromium, profile):
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # The child reads commands on fd 3 and writes replies on fd 4.
        # (via fresh copies: a pipe end may already be fd 3 or 4, and
        # dup2 onto itself would leave it close-on-exec)
        def fds():
            r, w = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(r, 3)
            os.dup2(w, 4)
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions",
                "--hide-scrollbars", "--user-data-dir=" + profile,
                "--remote-debugging-pipe", "about:blank"]
        # preexec_fn runs before close_fds would close 3 and 4: keep them.
        self.proc = subprocess.Popen(args, preexec_fn=fds, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed its pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method, session, timeout=30):
        deadline = time.time() + timeout
        for i, e in enumerate(self.events):
            if e.get("method") == method and e.get("sessionId") == session:
                return self.events.pop(i)
        while True:
            e = self._read_message(deadline)
            if e.get("method") == method and e.get("sessionId") == session:
                return e
            self.events.append(e)

    def close(self):
        try:
            self.call("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def problems_of(events, session):
    found = []
    for e in events:
        if e.get("sessionId") != session:
            continue
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            found.append("exception: " + p["exceptionDetails"].get("text", "?"))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            found.append(f"console.{p['type']}: "
                         + " ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
        elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
            found.append(f"log {p['entry']['level']}: {p['entry']['text']}")
    return found


CHECK = """JSON.stringify({
  images: document.images.length,
  loaded: Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length,
  scroll_width: document.documentElement.scrollWidth,
  height: document.documentElement.scrollHeight})"""


def check_page(b, name, file, width, height, min_images, shot):
    target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    s = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        b.call(domain + ".enable", session=s)
    b.call("Emulation.setDeviceMetricsOverride",
           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500},
           session=s)
    b.call("Page.navigate", {"url": "file://" + os.path.abspath(file)}, session=s)
    b.wait_event("Page.loadEventFired", s)
    r = json.loads(b.call("Runtime.evaluate", {"expression": CHECK, "returnByValue": True},
                          session=s)["result"]["value"])
    fails = problems_of(b.events, s)
    if r["images"] < min_images:
        fails.append(f"{r['images']} images, expected at least {min_images}")
    if r["loaded"] != r["images"]:
        fails.append(f"only {r['loaded']} of {r['images']} images loaded")
    if r["scroll_width"] > width:
        fails.append(f"{r['scroll_width']} px wide in a {width}-px viewport")
    if shot:
        full = {"x": 0, "y": 0, "width": width, "height": min(r["height"], 6000), "scale": 1}
        png = b.call("Page.captureScreenshot",
                     {"format": "png", "captureBeyondViewport": True, "clip": full},
                     session=s)["data"]
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png))
    b.call("Target.closeTarget", {"targetId": target})
    print(f"{name}: {r['loaded']}/{r['images']} images, {r['scroll_width']} px wide at {width}"
          + (f", screenshot {os.path.basename(shot)}" if shot else ""))
    for f in fails:
        print(f"FAIL: {name}: {f}")
    return not fails


def main():
    chromium, profile, pages = sys.argv[1], sys.argv[2], sys.argv[3:]
    b = Browser(chromium, profile)
    ok = True
    try:
        for page in pages:
            name, file, width, height, min_images, *shot = page.split(",")
            ok = check_page(b, name, file, int(width), int(height), int(min_images),
                            shot[0] if shot else None) and ok
    finally:
        b.close()
    sys.exit(0 if ok else 1)


main()
