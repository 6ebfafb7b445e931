"""Load for the web benchmark: a signed-in customer's dashboard, bill page and bill PDF, and a
guest's quick-pay look-up.

BENCH_THINK="low,high" is each user's pause between pages in seconds: "1,3" for people reading
pages, "0,0" to find the most the server can answer.
"""

import os
import re

from locust import FastHttpUser, between, task

ACCOUNT = os.environ["BENCH_ACCOUNT"]
BILL = os.environ["BENCH_BILL"]
THINK = [float(x) for x in os.environ.get("BENCH_THINK", "1,3").split(",")]


def csrf(client, path: str) -> str:
    page = client.get(path, name="(sign-in page)")
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text or "")
    return match.group(1) if match else ""


class Customer(FastHttpUser):
    wait_time = between(*THINK)

    def on_start(self):
        token = csrf(self.client, "/auth/login/")
        self.client.post(
            "/auth/login/",
            data={
                "login": "bench-web@example.com",
                "password": "Bench-Pass-1!",
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": self.host + "/auth/login/"},
            name="(sign in)",
        )

    @task(4)
    def dashboard(self):
        self.client.get("/dashboard/", name="dashboard")

    @task(4)
    def bill_page(self):
        self.client.get(f"/service-accounts/{ACCOUNT}/bills/{BILL}/", name="bill page")

    @task(1)
    def bill_pdf(self):
        self.client.get(f"/service-accounts/{ACCOUNT}/bills/{BILL}/pdf/", name="bill PDF")

    @task(2)
    def quick_pay_lookup(self):
        token = csrf(self.client, "/quick-pay/")
        self.client.post(
            "/quick-pay/",
            data={
                "account_number": os.environ["BENCH_ACCOUNT_NUMBER"],
                "service_zip": os.environ["BENCH_ZIP"],
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": self.host + "/quick-pay/"},
            name="quick-pay lookup",
        )
