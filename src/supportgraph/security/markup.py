"""Links, images and HTML in markdown, judged against a host allowlist.

Text from customers, articles and models is markdown that a browser will render. Rendered
as it is, an image (``![x](https://tracker.example/p.png)``) makes the reader's browser
fetch from that host, a link leads anywhere, and HTML can do both. Two uses, one parser:

- :func:`plain_links` rewrites a reply before it is shown or stored: a link or image to a
  host not on the allowlist (the brief's ``guard.allowed_hosts``; an entry allows its
  subdomains) becomes plain text naming the host, an e-mail address at an outside domain
  likewise, and HTML tags are dropped (their text kept).
- :func:`safe_markdown` prepares any text for ``st.markdown``: the same rewriting (bare
  ``https://`` and ``www.`` addresses included, which a renderer would turn into links),
  then raw HTML is escaped rather than dropped, control characters removed, and ``$``
  escaped so prices are not read as LaTeX. Code spans and fenced code blocks are left as
  they are: a renderer shows them literally.

Relative links (``../docs/x.md``, ``#steps``) point into the app itself and are kept;
anything with a scheme other than http(s) or mailto (``javascript:``, ``data:``) counts as
outside.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

_LINK = re.compile(  # inline link or image: [text](url "title"), ![alt](<url>)
    r"(?P<bang>!?)\[(?P<text>(?:[^\[\]\\]|\\.|\[[^\[\]]*\])*)\]\(\s*"
    r"(?P<url><[^<>\n]*>|[^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*)"
    r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^)\n]*\)))?\s*\)")
_DEFINITION = re.compile(  # reference definition: [id]: url "title"
    r"^(?P<indent> {0,3})\[(?P<label>[^\]\n]+)\]:[ \t]*(?P<url><[^<>\n]*>|\S+)"
    r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*$", re.MULTILINE)
_BARE_URL = re.compile(r"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>()\[\]`\"']+[^\s<>()\[\]`\"'.,;:!?]")
_EMAIL = re.compile(r"(?i)(?<![\w.+-])[\w.+-]+@(?P<host>[a-z0-9-]+(?:\.[a-z0-9-]+)+)\b")
# Real HTML: a known element, or any tag with attributes. "<token>" or "<amount>" in an article are placeholders.
_HTML_ELEMENTS = ("a|abbr|audio|b|base|blockquote|body|br|button|canvas|code|details|div|em|embed|font|form|frame|"
                  "h[1-6]|head|hr|html|i|iframe|img|input|link|marquee|meta|object|ol|option|p|picture|pre|q|"
                  "s|script|select|small|source|span|strong|style|sub|summary|sup|svg|table|tbody|td|textarea|"
                  "th|tr|track|u|ul|video")
_HTML_TAG = re.compile(rf"(?i)<!--.*?(?:-->|$)|</?(?:{_HTML_ELEMENTS})\b[^<>]*>|<[a-z][\w-]*\s+[\w-]+\s*=[^<>]*>",
                       re.DOTALL)
# Elements whose content is code, never text a reader sees: dropped whole (an unclosed one runs to the end,
# as in a browser), so "<script>alert(1)</script>" leaves nothing behind, not "alert(1)".
_HIDDEN_ELEMENT = re.compile(r"(?is)<(script|style|template|noscript|iframe|object)\b[^>]*>.*?(?:</\1\s*>|\Z)")
_CODE = re.compile(r"(?ms)^[ \t]*(```|~~~).*?(?:^[ \t]*\1[ \t]*$|\Z)|(`+)(?!`).+?(?<!`)\2(?!`)")


@dataclass(frozen=True)
class Link:
    kind: str       # link | image | definition | url | email
    url: str
    host: str       # lower case, no "www."; "" for a relative link
    text: str = ""  # a link's text or an image's alt text


def host_of(url: str) -> str | None:
    """The host a URL points at; "" for a relative link; None when the scheme is not web or mail."""
    url = url.strip().strip("<>")
    if url.lower().startswith("mailto:"):
        match = _EMAIL.search(url[7:])
        return match.group("host").lower() if match else None
    if url.lower().startswith("www."):
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme and parts.scheme.lower() not in ("http", "https", "ftp"):
        return None
    if not parts.scheme and not parts.netloc:
        return ""  # relative: stays inside the app
    host = (parts.hostname or "").lower().rstrip(".")
    return host.removeprefix("www.") if host else None


def allowed(host: str | None, hosts: Iterable[str]) -> bool:
    """Relative links, and hosts on the allowlist or below one of its entries."""
    if host is None:
        return False
    if host == "":
        return True
    return any(host == entry or host.endswith("." + entry) for entry in (h.lower().lstrip("*.") for h in hosts))


def find_links(text: str, code: bool = False) -> list[Link]:
    """Every link, image, reference definition, bare address and e-mail address (in code too when ``code``)."""
    found: list[Link] = []
    for segment, is_code in _segments(text):
        if is_code and not code:
            continue
        for m in _LINK.finditer(segment):
            found.append(Link("image" if m.group("bang") else "link", m.group("url").strip("<>"),
                              _shown_host(m.group("url")), m.group("text")))
            found += find_links(m.group("text"), code)  # an image inside a link's text
        for m in _DEFINITION.finditer(segment):
            found.append(Link("definition", m.group("url").strip("<>"), _shown_host(m.group("url")), m.group("label")))
        rest = _DEFINITION.sub("", _LINK.sub(" ", segment))
        found += [Link("url", m.group(0), _shown_host(m.group(0))) for m in _BARE_URL.finditer(rest)]
        found += [Link("email", m.group(0), m.group("host").lower()) for m in _EMAIL.finditer(rest)]
    return found


def outside_hosts(text: str, hosts: Iterable[str], code: bool = False) -> list[str]:
    """Hosts the text links to (or shows images from) that the allowlist does not allow, once each."""
    hosts = list(hosts)
    seen: list[str] = []
    for link in find_links(text, code):
        if not allowed(host_of(link.url) if link.kind != "email" else link.host, hosts):
            name = link.host or link.url.split(":", 1)[0]
            if name not in seen:
                seen.append(name)
    return seen


def html_tags(text: str) -> list[str]:
    """Raw HTML tags outside code (placeholders such as ``<token>`` are not HTML)."""
    return [m.group(0) for segment, is_code in _segments(text) if not is_code for m in _HTML_TAG.finditer(segment)]


def plain_links(text: str, hosts: Iterable[str], code: bool = True) -> str:
    """``text`` with outside links, images and e-mail addresses as plain text, and HTML tags dropped.

    A reply's code spans are rewritten too (``code``): an address in code can still be copied."""
    hosts = list(hosts)
    return "".join(seg if is_code and not code else _plain_segment(seg, hosts) for seg, is_code in _segments(text))


def readable(text: str) -> str:
    """What a person reads in ``text`` once rendered, as plain words: images and code-only elements gone,
    a link's text instead of the link, other HTML tags dropped (their text kept). For reading what a
    customer asks ("![x](...) <img ...> how do I export my data?" asks "how do I export my data?");
    the message itself is stored as it came. Code spans are kept as they are."""
    def segment(part: str) -> str:
        part = _HTML_TAG.sub(" ", _HIDDEN_ELEMENT.sub(" ", part))
        for _ in range(3):  # a link's text may hold an image: [![x](a.png)](b)
            part = _LINK.sub(lambda m: "" if m.group("bang") else f" {m.group('text')} ", part)
        return _DEFINITION.sub("", part)

    pieces = [part if is_code else segment(part) for part, is_code in _segments(text)]
    return " ".join("".join(pieces).split())


def safe_markdown(text: str, hosts: Iterable[str] = ()) -> str:
    """Markdown a browser can render without fetching from, or linking to, a host off the allowlist."""
    from supportgraph.security.text import printable

    hosts = list(hosts)
    out = []
    for segment, is_code in _segments(printable(text)):
        if is_code:
            out.append(segment)
            continue
        segment = _plain_segment(segment, hosts, keep_html=True)
        pieces, last = [], 0
        for m in _LINK.finditer(segment):  # links that survived are allowed: leave them whole
            pieces.append(_escape_plain(segment[last:m.start()]))
            pieces.append(m.group(0))
            last = m.end()
        pieces.append(_escape_plain(segment[last:]))
        out.append("".join(pieces))
    return "".join(out)


def _segments(text: str) -> list[tuple[str, bool]]:
    """``text`` split into (segment, is_code) pieces, in order."""
    parts, last = [], 0
    for m in _CODE.finditer(text):
        if m.start() > last:
            parts.append((text[last:m.start()], False))
        parts.append((m.group(0), True))
        last = m.end()
    if last < len(text):
        parts.append((text[last:], False))
    return parts


def _shown_host(url: str) -> str:
    host = host_of(url)
    return host if host else ""


def _removed(host: str, what: str = "link") -> str:
    if not host or "." not in host:  # javascript:, data: and the like
        return f"({what} removed)"
    return f"({what} to {host} removed)" if what == "link" else f"({what} from {host} removed)"


def _plain_segment(segment: str, hosts: list[str], keep_html: bool = False) -> str:
    def link(m: re.Match) -> str:
        host = host_of(m.group("url"))
        if allowed(host, hosts):  # kept, but what it wraps is checked too: [![x](outside)](allowed)
            whole, start = m.group(0), m.start()
            inner = _plain_segment(m.group("text"), hosts, keep_html)
            return whole[:m.start("text") - start] + inner + whole[m.end("text") - start:]
        text = " ".join(m.group("text").split()).strip()
        shown = host or m.group("url").strip("<>").split(":", 1)[0]
        if m.group("bang"):
            return f"{text} {_removed(shown, 'image')}".strip()
        return f"{text} {_removed(shown)}".strip()

    def definition(m: re.Match) -> str:
        host = host_of(m.group("url"))
        return m.group(0) if allowed(host, hosts) else f"{m.group('indent')}{_removed(host or 'an outside host')}"

    def bare(m: re.Match) -> str:
        host = host_of(m.group(0))
        return m.group(0) if allowed(host, hosts) else _removed(host or "an outside host")

    def email(m: re.Match) -> str:
        host = m.group("host").lower()
        return m.group(0) if allowed(host, hosts) else f"(e-mail address at {host} removed)"

    segment = _LINK.sub(link, segment)
    segment = _DEFINITION.sub(definition, segment)
    if not keep_html:
        segment = _HTML_TAG.sub("", _HIDDEN_ELEMENT.sub("", segment))
    pieces, last = [], 0
    for m in _LINK.finditer(segment):  # bare addresses and e-mails, outside the links kept above
        pieces.append(_EMAIL.sub(email, _BARE_URL.sub(bare, segment[last:m.start()])))
        pieces.append(m.group(0))
        last = m.end()
    pieces.append(_EMAIL.sub(email, _BARE_URL.sub(bare, segment[last:])))
    return "".join(pieces)


def _escape_plain(text: str) -> str:
    """Plain (non-link, non-code) markdown made inert: HTML escaped, `$` escaped (not LaTeX)."""
    text = text.replace("<", "&lt;")
    text = re.sub(r"(?<!\\)\$", r"\\$", text)
    return text
