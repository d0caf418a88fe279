"""The rollout report in a real browser (Debian's Chromium, driven by playwright), on a desktop and on a phone.

The report is rendered once per session (``acme_report`` in conftest.py). On each screen size: the page never
scrolls sideways (tables and charts scroll in their own box), chart text is at least 10 px, no machine path or
Python value shows in the text, every table header is in words, and the page runs no script and fetches nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import chromium_or_fail

SCREENS = {"desktop": (1440, 900), "phone": (390, 844)}
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: What the page reads off in one pass: sizes, chart text, headers, text.
_MEASURE = """() => {
  const texts = Array.from(document.querySelectorAll('figure.chart svg text'));
  const sizes = texts.filter(t => (t.textContent || '').trim()).map(t => {
    const px = parseFloat(getComputedStyle(t).fontSize);
    const m = t.getScreenCTM();
    return {text: t.textContent.trim().slice(0, 40), px: px * Math.hypot(m.a, m.b)};
  });
  return {
    viewport: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    bodyWidth: document.body.scrollWidth,
    charts: document.querySelectorAll('figure.chart svg').length,
    chartText: sizes,
    headers: Array.from(document.querySelectorAll('th')).map(th => th.textContent.trim()),
    text: document.body.innerText,
    scrollBoxes: Array.from(document.querySelectorAll('div.scroll')).filter(
      b => b.scrollWidth > b.clientWidth + 1).length,
    h2: Array.from(document.querySelectorAll('h2')).map(h => h.textContent),
  };
}"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_or_fail()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=ARGS)
        yield b
        b.close()


def _open(browser, html: Path, size: tuple[int, int], screenshot: Path | None = None) -> dict:
    problems: dict = {"console": [], "pageerror": [], "dialogs": [], "requests": []}
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.on("console", lambda m: m.type == "error" and problems["console"].append(m.text))
    page.on("pageerror", lambda e: problems["pageerror"].append(str(e)))
    page.on("dialog", lambda d: (problems["dialogs"].append(d.message), d.dismiss()))
    page.on("request", lambda r: not r.url.startswith(("file:", "data:")) and problems["requests"].append(r.url))
    page.goto(html.resolve().as_uri())
    page.wait_for_load_state("load")
    seen = page.evaluate(_MEASURE)
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=False)
    page.close()
    return {**problems, **seen}


@pytest.fixture(scope="module", params=list(SCREENS))
def seen(request, browser, acme_report: Path, tmp_path_factory) -> dict:
    shot = tmp_path_factory.mktemp("screens") / f"{request.param}.png"
    out = _open(browser, acme_report, SCREENS[request.param], shot)
    out["screen"], out["screenshot"] = request.param, shot
    return out


def test_the_page_runs_no_script_fetches_nothing_and_starts_with_the_decision(seen: dict) -> None:
    assert not seen["console"] and not seen["pageerror"] and not seen["requests"] and not seen["dialogs"], seen
    assert seen["h2"][:2] == ["The decision", "Executive summary"]
    assert seen["charts"] >= 5
    assert seen["screenshot"].stat().st_size > 10_000


def test_the_page_never_scrolls_sideways(seen: dict) -> None:
    assert seen["scrollWidth"] <= seen["viewport"], (seen["screen"], seen["scrollWidth"], seen["viewport"])
    assert seen["bodyWidth"] <= seen["viewport"]
    if seen["screen"] == "phone":
        assert seen["scrollBoxes"] > 0  # wide tables and charts scroll in their own box instead


def test_chart_text_is_at_least_10_px(seen: dict) -> None:
    assert len(seen["chartText"]) > 50
    small = [t for t in seen["chartText"] if t["px"] < 9.99]
    assert not small, (seen["screen"], small[:10])


#: The printable width of an A4 page between the report's margins (210 mm - 2 x 12 mm), in CSS pixels.
PRINT_WIDTH = round((210 - 24) / 25.4 * 96)


def test_nothing_is_wider_than_the_printed_page(browser, acme_report: Path) -> None:
    """In print, no element overflows the page's width: one that did would make Chromium shrink every page to fit
    it (a long unbreakable word in one table cell once printed the whole report at 96%)."""
    page = browser.new_page(viewport={"width": PRINT_WIDTH, "height": 1000})
    page.emulate_media(media="print")
    page.goto(acme_report.resolve().as_uri())
    page.wait_for_load_state("load")
    wide = page.evaluate(
        """(limit) => Array.from(document.querySelectorAll('main *'))
            .filter(e => e.getBoundingClientRect().right > limit + 1)
            .slice(0, 10).map(e => e.tagName + ': ' + (e.textContent || '').trim().slice(0, 60))""",
        PRINT_WIDTH,
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    page.close()
    assert width <= PRINT_WIDTH + 1 and not wide, (width, wide)


def test_chart_text_has_no_markup(seen: dict) -> None:
    """Tick labels and annotations are plain figures and words, never mathtext such as $\\mathdefault{10^{4}}$."""
    marked = [t["text"] for t in seen["chartText"] if "$" in t["text"] or "\\" in t["text"]]
    assert not marked, (seen["screen"], marked[:10])


#: A machine's path, or a Python value or container printed as is.
MACHINE = re.compile(
    r"(?:^|[\s(\"'])/(?:home|work|usr|tmp|opt|root|var|etc|srv)/"
    r"|site-packages|\b(?:True|False|None|NaN|nan|NaT)\b|\{'|\['|\bdtype\b|<bound |Timestamp\(|numpy\.|np\.float"
)


def test_no_machine_path_or_python_value_in_the_text(seen: dict) -> None:
    found = [m.group(0) for m in MACHINE.finditer(seen["text"])]
    assert not found, (seen["screen"], found[:10])


def test_every_table_header_is_in_words(seen: dict) -> None:
    headers = seen["headers"]
    assert len(headers) > 40
    for header in headers:
        assert header, "an empty header"
        assert not re.search(r"[a-z]_[a-z]", header), header  # no snake_case
        assert not re.fullmatch(r"[a-z_]+", header) or " " in header or header in _ONE_WORD, header


#: Headers of one plain word.
_ONE_WORD = {
    "risk",
    "control",
    "standing",
    "owner",
    "due",
    "plugin",
    "department",
    "rank",
    "users",
    "rule",
    "severity",
    "open",
    "accepted",
    "fix",
    "assumption",
    "meaning",
    "value",
    "source",
    "weight",
    "price",
    "what",
    "who",
    "figure",
    "changes",
}


@pytest.fixture(scope="module")
def xss_report(tmp_path_factory) -> Path:
    """The report of an inventory with a script in a team's name and in its organisation's name."""
    import datetime as dt
    import shutil

    from blastradius import report as R

    from conftest import ACME

    copy = shutil.copytree(ACME, tmp_path_factory.mktemp("xss") / "evil")
    teams = copy / "teams.yaml"
    teams.write_text(teams.read_text().replace("name: Accounts Payable", f'name: "{XSS}"', 1))
    (copy / "README.md").write_text(f"# Evil {XSS}</style><script>alert(2)</script> Corp — an inventory\n")
    return R.render_report(copy, out=copy.parent / "out", trials=50, seed=1, as_of=dt.date(2026, 11, 21))


XSS = "<script>alert(1)</script>"


def test_the_xss_report_runs_no_script_in_the_browser(browser, xss_report: Path) -> None:
    seen = _open(browser, xss_report, SCREENS["desktop"])
    assert not seen["dialogs"] and not seen["pageerror"], seen
    assert "<script>alert(1)</script>" in seen["text"]  # shown as text, never run
