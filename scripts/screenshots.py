"""Screenshots of the main screens, as a user of the demo database sees them.

Usage (a server of this checkout running on ODOO_PORT with the demo database)::

    .venv/bin/python scripts/screenshots.py --db insurance_notify_demo \
        --login anna --password anna --out insurance_notify/static/description

Logs in over HTTP, hands the session cookie to headless Chromium through the
DevTools protocol, opens each screen, and saves a PNG per screen.
"""

import argparse
import base64
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import requests
import websocket

DEBUG_PORT = 9333


def login(base, db, user, password):
    session = requests.Session()
    answer = session.post(
        f"{base}/web/session/authenticate",
        json={"jsonrpc": "2.0", "params": {"db": db, "login": user, "password": password}},
        timeout=60,
    )
    answer.raise_for_status()
    if answer.json().get("error"):
        raise SystemExit(answer.json()["error"])
    return session


def rpc(session, base, model, method, args, kwargs=None):
    answer = session.post(
        f"{base}/web/dataset/call_kw",
        json={
            "jsonrpc": "2.0",
            "params": {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        },
        timeout=60,
    )
    result = answer.json()
    if result.get("error"):
        raise SystemExit(json.dumps(result["error"], indent=1)[:2000])
    return result["result"]


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="insurance-shots-")
        self.process = subprocess.Popen(
            [
                "chromium",
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--remote-debugging-port={DEBUG_PORT}",
                f"--user-data-dir={self.profile}",
                "--window-size=1440,900",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _attempt in range(50):
            try:
                pages = requests.get(f"http://127.0.0.1:{DEBUG_PORT}/json", timeout=2).json()
                page = next(page for page in pages if page["type"] == "page")
                break
            except (requests.RequestException, StopIteration):
                time.sleep(0.2)
        else:
            raise SystemExit("Chromium did not start")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.counter = 0
        self.send("Page.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=1440,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )

    def send(self, method, **params):
        self.counter += 1
        self.ws.send(json.dumps({"id": self.counter, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.counter:
                if "error" in message:
                    raise SystemExit(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        return self.send("Runtime.evaluate", expression=expression, awaitPromise=True)

    def wait_for(self, selector, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.evaluate(f"!!document.querySelector({json.dumps(selector)})")
            if found.get("result", {}).get("value"):
                return
            time.sleep(0.3)
        raise SystemExit(f"not found: {selector}")

    def shoot(self, path):
        time.sleep(1.5)  # let the last animations settle
        data = self.send("Page.captureScreenshot", format="png")["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--port", default=os.environ.get("ODOO_PORT", "8069"))
    parser.add_argument("--only", nargs="*", help="names of the screens to shoot (default: all)")
    options = parser.parse_args()
    base = f"http://127.0.0.1:{options.port}"
    out = Path(options.out)
    session = login(base, options.db, options.login, options.password)

    policy = rpc(
        session,
        base,
        "insurance.policy",
        "search",
        [[("vehicle_plate", "!=", False), ("notify_message_ids", "!=", False)]],
        {"limit": 1},
    ) or rpc(session, base, "insurance.policy", "search", [[]], {"limit": 1})
    client = rpc(
        session,
        base,
        "res.partner",
        "search",
        [[("insurance_notify_message_ids", "!=", False), ("lang", "=", "pl_PL")]],
        {"limit": 1},
    )
    rule = rpc(session, base, "insurance.notify.rule", "search", [[]], {"limit": 1})
    template = rpc(
        session,
        base,
        "sms.template",
        "search",
        [[("model", "=", "insurance.policy.installment")]],
        {"limit": 1},
    )

    browser = Browser()
    try:
        browser.send(
            "Network.setCookie",
            name="session_id",
            value=session.cookies["session_id"],
            domain="127.0.0.1",
            path="/",
        )
        screens = [
            (
                "policy_form",
                f"/odoo/action-insurance_notify.action_insurance_policy/{policy[0]}",
                ".o_form_view",
                "a[name=reminders]",
            ),
            (
                "client_card",
                f"/odoo/action-insurance_notify.action_insurance_client/{client[0]}",
                ".o_form_view",
                "a[name=insurance]",
            ),
            (
                "rule_form",
                f"/odoo/action-insurance_notify.action_insurance_notify_rule/{rule[0]}",
                ".o_form_view",
                None,
            ),
            (
                "sms_template",
                f"/odoo/action-insurance_notify.action_insurance_sms_template/{template[0]}",
                ".o_form_view .o_field_widget[name=sms_sample_text]",
                None,
            ),
            (
                "history",
                "/odoo/action-insurance_notify.action_insurance_notify_message",
                ".o_list_view .o_data_row",
                None,
            ),
            (
                "effectiveness",
                "/odoo/action-insurance_notify.action_insurance_notify_effectiveness",
                ".o_pivot table .o_pivot_cell_value",
                None,
            ),
            (
                "dry_run",
                "/odoo/action-insurance_notify.action_insurance_notify_dry_run",
                ".o_form_view button[name=action_run]",
                "button[name=action_run]",
            ),
        ]
        for name, url, ready, click in screens:
            if options.only and name not in options.only:
                continue
            browser.send("Page.navigate", url=base + url)
            browser.wait_for(ready)
            if click:
                browser.evaluate(f"document.querySelector({json.dumps(click)}).click()")
                if name == "dry_run":
                    browser.wait_for(".o_field_widget[name=line_ids] .o_data_row", timeout=60)
            browser.shoot(out / f"screenshot_{name}.png")
            print("saved", out / f"screenshot_{name}.png")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
