"""Respondents as a browser would be one: full flows through the proxy over TLS.

Each flow is a new person: a new connection (kept alive for the flow) from an
address of its own in 127.0.0.0/8, so nginx's per-address connection limit and
the app's per-address rate limits see many people, as in production, rather
than one machine. A flow reads the landing page and its stylesheet and script,
starts, and then follows wherever the server sends it: a content warning is
passed (now and then skipped, as a person may), each section's form is filled
from what the page shows (choices, scales, numbers, texts, "Other", "prefer not
to say", quote consent), a page that shows new questions after an answer is
filled again, then the review, the submit, the receipt (its code read off the
page), "I have saved it" and the thanks page. Every form carries the page's
CSRF token and the one session cookie.

Every long text carries the flow's marker (`marker_of`), so that the check
afterwards can tell which stored response came from which flow without asking
the app anything it wouldn't tell an analyst.

A failed request (no answer, a reset connection, a 5xx from nginx or the app) is
tried again, as a person refreshes, for up to `RETRY_SECONDS`; a submit tried
again is what a double click or a refresh is, and must store nothing twice. Some
people whose submit failed leave instead (`SUBMIT_GIVE_UP_SHARE`): theirs are the
submits cut by a fault, which may or may not have been stored.
"""

from __future__ import annotations

import html
import http.client
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from bench.loadtest.stack import SERVER_NAME, unverified_tls

RETRY_SECONDS = 45.0
# The share of people who leave when their submit fails, rather than press it again.
SUBMIT_GIVE_UP_SHARE = 0.3
GAVE_UP = "gave up after a failed submit"
REQUEST_TIMEOUT = 30.0
USER_AGENT = "Mozilla/5.0 (chorus load test)"
SAMPLE_TEXT = (
    "the app showed my child to adults it suggested as friends and nobody answered my "
    "report messages vanished before I could save them safer defaults would help reporting "
    "should be one tap and someone should reply evidence matters"
)
WORDS = re.findall(r"\w+", SAMPLE_TEXT)

MARKER_RE = re.compile(r"LT([0-9a-f]{8})F(\d{6})")


def marker_of(run_id: str, flow_id: int) -> str:
    return f"LT{run_id}F{flow_id:06d}"


# --- what happened, request by request ------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One request: what it was, when, and how it went (`outcome` "ok" or an error kind)."""

    label: str
    started: float
    ended: float
    status: int | None
    outcome: str
    final_round: bool = False


class Recorder:
    """Every request's sample, from every thread (list.append is atomic)."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.final_round = False

    def add(self, label: str, started: float, status: int | None, outcome: str) -> None:
        self.samples.append(
            Sample(label, started, time.monotonic(), status, outcome, self.final_round)
        )


# --- one browser ----------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str:
        target = urlsplit(self.headers.get("location", ""))
        return target.path + (f"?{target.query}" if target.query else "")


class RequestFailed(Exception):
    """No usable answer: `kind` says what went wrong (it is also recorded)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def is_chorus_page(reply: Reply) -> bool:
    """Chorus's own page, error pages included: an HTML page with the app's headers.
    gunicorn's bare 500 and nginx's own error pages have none of them."""
    headers = reply.headers
    return (
        "content-security-policy" in headers
        and headers.get("x-content-type-options") == "nosniff"
        and "no-store" in headers.get("cache-control", "")
        and "<html" in reply.body[:500].lower()
    )


def error_kind(reply: Reply) -> str:
    if is_chorus_page(reply):
        return f"{reply.status} Chorus page"
    if reply.status == 500:
        return "500 bare (no Chorus page or headers)"
    server = reply.headers.get("server", "")
    if reply.status in (502, 503, 504) and "nginx" in (server + reply.body[:1000]).lower():
        return f"{reply.status} from nginx"
    return f"{reply.status} bare (no Chorus page or headers)"


class Browser:
    """One person's browser: a kept-alive TLS connection from its own address, and
    the session cookie."""

    def __init__(self, port: int, source_ip: str, recorder: Recorder):
        self.port = port
        self.source_ip = source_ip
        self.recorder = recorder
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPSConnection | None = None
        self.tls = unverified_tls()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _connect(self) -> http.client.HTTPSConnection:
        if self.connection is None:
            self.connection = http.client.HTTPSConnection(
                "127.0.0.1",
                self.port,
                timeout=REQUEST_TIMEOUT,
                context=self.tls,
                source_address=(self.source_ip, 0),
            )
        return self.connection

    def _headers(self, method: str) -> dict[str, str]:
        headers = {
            "Host": SERVER_NAME,
            "User-Agent": USER_AGENT,
            "Accept": "text/html,*/*;q=0.8",
            "Accept-Language": "en",
            "Sec-Fetch-Site": "same-origin",
        }
        if method == "POST":
            headers["Origin"] = f"https://{SERVER_NAME}"
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def _keep_cookies(self, set_cookies: list[str]) -> None:
        for line in set_cookies:
            name, _, rest = line.partition("=")
            value, _, attributes = rest.partition(";")
            lowered = attributes.lower()
            expired = "max-age=0" in lowered.replace(" ", "") or "expires=thu, 01 jan 1970" in (
                lowered
            )
            if expired or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()

    def request(
        self,
        method: str,
        path: str,
        label: str,
        expect: tuple[int, ...],
        form: list[tuple[str, str]] | None = None,
    ) -> Reply:
        """One request, recorded as "ok" when its status is one of `expect` and as
        its error's kind otherwise; RequestFailed when no answer came."""
        body = urlencode(form).encode() if form is not None else None
        started = time.monotonic()
        try:
            connection = self._connect()
            connection.request(method, path, body=body, headers=self._headers(method))
            response = connection.getresponse()
            data = response.read()
            headers = {k.lower(): v for k, v in response.getheaders()}
            self._keep_cookies(response.msg.get_all("Set-Cookie") or [])
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException, ssl.SSLError) as error:
            self.close()
            kind = f"connection: {type(error).__name__}"
            self.recorder.add(label, started, None, kind)
            raise RequestFailed(kind) from None
        reply = Reply(response.status, headers, data.decode("utf-8", "replace"))
        outcome = "ok" if reply.status in expect else error_kind(reply)
        self.recorder.add(label, started, reply.status, outcome)
        return reply


# --- pages and forms ------------------------------------------------------------------------------

FORM_RE = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
FIELD_RE = re.compile(r"<(input|textarea|button)\b([^>]*)>", re.I)
ATTR_RE = re.compile(r'([\w:-]+)(?:="([^"]*)")?')
# A code on the page breaks only between its groups (<wbr> after each hyphen).
CODE_RE = re.compile(r'class="code-box__code"[^>]*>((?:[0-9A-Z]{4}-(?:<wbr>)?){3}[0-9A-Z]{4})<')
ERROR_SUMMARY_RE = re.compile(r'<li><a href="#[^"]*">([^<]*)</a></li>')
ASSET_RE = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def attributes(text: str) -> dict[str, str]:
    return {name.lower(): html.unescape(value or "") for name, value in ATTR_RE.findall(text)}


@dataclass
class Field:
    tag: str
    attrs: dict[str, str]

    @property
    def name(self) -> str:
        return self.attrs.get("name", "")

    @property
    def kind(self) -> str:
        return self.attrs.get("type", "text") if self.tag == "input" else self.tag


@dataclass
class Form:
    action: str
    fields: list[Field] = field(default_factory=list)

    def value_of(self, name: str) -> str | None:
        for each in self.fields:
            if each.name == name:
                return each.attrs.get("value")
        return None


def forms_of(page: str) -> list[Form]:
    forms = []
    for form_attrs, inner in FORM_RE.findall(page):
        form = Form(attributes(form_attrs).get("action", ""))
        form.fields = [
            Field(tag.lower(), attributes(attrs)) for tag, attrs in FIELD_RE.findall(inner)
        ]
        forms.append(form)
    return forms


def form_posting_to(page: str, ending: str) -> Form | None:
    return next((f for f in forms_of(page) if f.action.endswith(ending)), None)


def words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def fill_section(form: Form, rng: random.Random, marker: str) -> list[tuple[str, str]]:
    """Answers for every question on a section's form, as a person might give them:
    most answered, some skipped, a few "prefer not to say". What the page already
    shows as answered (a page that revealed new questions) is kept."""
    data = [("csrf_token", form.value_of("csrf_token") or "")]
    groups: dict[str, list[Field]] = {}
    for each in form.fields:
        if each.kind in ("radio", "checkbox"):
            groups.setdefault(each.name, []).append(each)
    chosen_other: set[str] = set()
    # Long texts always carry the flow's marker, so they are never declined.
    long_texts = {each.name for each in form.fields if each.kind == "textarea"}
    for name, options in groups.items():
        kept = [o.attrs.get("value", "") for o in options if "checked" in o.attrs]
        if name.endswith("-pnts"):
            declinable = name.removesuffix("-pnts") not in long_texts
            picked = ["1"] if declinable and rng.random() < 0.03 else []
        elif kept:
            picked = kept
        elif name.endswith("-quote"):
            picked = [rng.choice(["yes", "no"])]
        else:
            values = [o.attrs.get("value", "") for o in options]
            plain = [v for v in values if not v.startswith("_")]
            roll = rng.random()
            if roll < 0.07:
                picked = []  # skipped
            elif roll < 0.12 and "_prefer_not_to_say" in values:
                picked = ["_prefer_not_to_say"]
            elif options[0].kind == "radio":
                picked = [rng.choice(plain + (["_other"] if "_other" in values else []))]
            else:
                picked = rng.sample(plain, rng.randint(1, min(2, len(plain))))
                if "_other" in values and rng.random() < 0.2:
                    picked = [*picked[:1], "_other"]
        if "_other" in picked:
            chosen_other.add(name)
        data += [(name, value) for value in picked]
    declined = {name.removesuffix("-pnts") for name, value in data if name.endswith("-pnts")}
    for each in form.fields:
        name = each.name
        if name in declined:
            continue  # "prefer not to say" instead of an answer
        if each.kind == "textarea":
            data.append((name, f"{marker} {words(rng, 4, 30)}"))
        elif each.kind == "text" and name.endswith("-other"):
            if name.removesuffix("-other") in chosen_other:
                data.append((name, words(rng, 1, 4)))
        elif each.kind == "text":
            if each.attrs.get("value"):
                data.append((name, each.attrs["value"]))
            elif each.attrs.get("inputmode") in ("decimal", "numeric"):
                data.append((name, str(rng.randint(0, 12)) if rng.random() < 0.9 else ""))
            else:
                data.append((name, words(rng, 1, 6) if rng.random() < 0.8 else ""))
    data.append(("action", "next"))
    return data


# --- a whole flow ---------------------------------------------------------------------------------


class FlowAbandoned(Exception):
    """The flow stopped before its end: the run ended, or a request kept failing."""


@dataclass
class Flow:
    """One respondent's flow and what it learned."""

    flow_id: int
    marker: str
    submit_sent: bool = False  # at least one submit request went out
    receipt: str | None = None  # read off the receipt page: acknowledged
    finished: bool = False  # through to the thanks page
    failure: str | None = None  # why it was abandoned


class FlowRunner:
    """Drives one flow with `browser`; `stopping()` says the run is over."""

    def __init__(
        self,
        browser: Browser,
        slug: str,
        flow: Flow,
        rng: random.Random,
        stopping: Callable[[], bool],
    ):
        self.browser = browser
        self.slug = slug
        self.flow = flow
        self.rng = rng
        self.stopping = stopping

    def attempt(
        self,
        method: str,
        path: str,
        label: str,
        expect: tuple[int, ...],
        form: list[tuple[str, str]] | None = None,
        give_up_share: float = 0.0,
    ) -> Reply:
        """The request until it gets an expected status; failures tried again with a
        growing pause for up to RETRY_SECONDS (a person refreshing). After a failure,
        `give_up_share` of people leave instead (GAVE_UP)."""
        deadline = time.monotonic() + RETRY_SECONDS
        pause = 0.25
        while True:
            if self.stopping() and not self.flow.submit_sent:
                raise FlowAbandoned("the run ended")
            try:
                reply = self.browser.request(method, path, label, expect, form)
            except RequestFailed as failed:
                problem = failed.kind
            else:
                if reply.status in expect:
                    return reply
                problem = error_kind(reply)
                if reply.status < 500:
                    said = ERROR_SUMMARY_RE.findall(reply.body)
                    detail = f" ({'; '.join(html.unescape(x) for x in said)})" if said else ""
                    raise FlowAbandoned(f"{label}: {problem}{detail}")
            if self.rng.random() < give_up_share:
                raise FlowAbandoned(GAVE_UP)
            if time.monotonic() + pause > deadline:
                raise FlowAbandoned(f"{label}: still failing after {RETRY_SECONDS:.0f} s")
            time.sleep(pause)
            pause = min(pause * 2, 4.0)

    def run(self) -> None:
        try:
            self._walk()
        except FlowAbandoned as abandoned:
            self.flow.failure = str(abandoned)
        finally:
            self.browser.close()

    def _walk(self) -> None:
        slug = self.slug
        landing = self.attempt("GET", f"/s/{slug}", "GET landing", (200,))
        for asset in sorted(set(ASSET_RE.findall(landing.body))):
            self.attempt("GET", html.unescape(asset), "GET static", (200,))
        started = self.attempt("POST", f"/s/{slug}/start", "POST start", (302,), [("lang", "en")])
        location = started.location
        for _ in range(40):
            page = self.attempt("GET", location, "GET section", (200,))
            if "/review" in location:
                break
            warning = form_posting_to(page.body, "/warning")
            if warning is not None:
                choice = "skip" if self.rng.random() < 0.1 else "continue"
                answer = [("csrf_token", warning.value_of("csrf_token") or ""), ("action", choice)]
                location = self.attempt(
                    "POST", warning.action, "POST warning", (302,), answer
                ).location
                continue
            location = self._answer_section(page)
        else:
            raise FlowAbandoned("more than 40 pages before the review")
        review = form_posting_to(page.body, "/submit")
        if review is None:
            raise FlowAbandoned("the review page has no submit form")
        token = [("csrf_token", review.value_of("csrf_token") or "")]
        self.flow.submit_sent = True
        # Some people whose submit fails don't try again: whether their answers were
        # stored is unknown to them, and the check allows either, once at most.
        submitted = self.attempt(
            "POST", review.action, "POST submit", (302,), token, SUBMIT_GIVE_UP_SHARE
        )
        if not submitted.location.endswith("/receipt"):
            raise FlowAbandoned(f"submit went to {submitted.location}, not the receipt")
        receipt = self.attempt("GET", submitted.location, "GET receipt", (200,))
        code = CODE_RE.search(receipt.body)
        if code is None:
            raise FlowAbandoned("no receipt code on the receipt page")
        self.flow.receipt = html.unescape(code.group(1)).replace("<wbr>", "").strip()
        saved = form_posting_to(receipt.body, "/receipt")
        if saved is None:
            raise FlowAbandoned("the receipt page has no form")
        confirm = [("csrf_token", saved.value_of("csrf_token") or ""), ("saved", "1")]
        thanks = self.attempt("POST", saved.action, "POST receipt saved", (302,), confirm)
        self.attempt("GET", thanks.location, "GET thanks", (200,))
        self.flow.finished = True

    def _answer_section(self, page: Reply) -> str:
        """Answer the section on `page` (again if answers reveal more questions);
        return where the server sends the person next."""
        for _ in range(5):
            form = next((f for f in forms_of(page.body) if "/section/" in f.action), None)
            if form is None:
                raise FlowAbandoned("a section page without its form")
            answers = fill_section(form, self.rng, self.flow.marker)
            page = self.attempt("POST", form.action, "POST section", (200, 302), answers)
            if page.status == 302:
                return page.location
        raise FlowAbandoned("a section kept showing new questions")


# --- many flows at once ---------------------------------------------------------------------------


def source_addresses(rng: random.Random) -> Iterator[str]:
    """Distinct loopback addresses (127.0.0.0/8 is all this machine's): one per person."""
    seen: set[str] = set()
    while True:
        address = f"127.{rng.randint(1, 254)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        if address not in seen:
            seen.add(address)
            yield address


class Load:
    """`clients` threads, each running flow after flow until the deadline."""

    def __init__(self, port: int, slug: str, run_id: str, recorder: Recorder, seed: int):
        self.port = port
        self.slug = slug
        self.run_id = run_id
        self.recorder = recorder
        self.flows: list[Flow] = []
        self.rng = random.Random(seed)
        self.addresses = source_addresses(self.rng)
        self.lock = threading.Lock()
        self.deadline = 0.0
        self.aborted = threading.Event()

    def new_flow(self) -> tuple[Flow, Browser, random.Random]:
        with self.lock:
            flow = Flow(len(self.flows) + 1, marker_of(self.run_id, len(self.flows) + 1))
            self.flows.append(flow)
            browser = Browser(self.port, next(self.addresses), self.recorder)
            rng = random.Random(self.rng.random())
        return flow, browser, rng

    def stopping(self) -> bool:
        return self.aborted.is_set() or time.monotonic() >= self.deadline

    def client(self, flows_each: int | None) -> None:
        done = 0
        while not self.stopping() and (flows_each is None or done < flows_each):
            flow, browser, rng = self.new_flow()
            FlowRunner(browser, self.slug, flow, rng, self.stopping).run()
            done += 1

    def run(self, clients: int, seconds: float, flows_each: int | None = None) -> list[Flow]:
        """Run for `seconds` (or until each client has done `flows_each` flows);
        returns this round's flows."""
        first = len(self.flows)
        self.deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=self.client, args=(flows_each,), daemon=True)
            for _ in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
        return self.flows[first:]


def open_slow_connection(port: int, source_ip: str) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(source_ip, 0))
    return unverified_tls().wrap_socket(raw, server_hostname=SERVER_NAME)
