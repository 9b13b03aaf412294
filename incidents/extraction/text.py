"""Report text: the article text of an HTML page, checks on what an editor pasted or uploaded, and sentences with
their character offsets (every piece of evidence points back into the text by offsets)."""

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from django.utils.translation import gettext as _

# A news report is a few thousand words; 200,000 characters is a long book chapter. Anything larger was not meant.
MAX_REPORT_CHARS = 200_000
MAX_UPLOAD_BYTES = 1_000_000


ARABIC_LETTER = re.compile("[\u0600-\u06ff]")
LATIN_LETTER = re.compile("[A-Za-z]")


def report_language(text):
    """ "ar" for a report written mostly in Arabic script, else "en": the language its drafts are written in."""
    return "ar" if len(ARABIC_LETTER.findall(text)) > len(LATIN_LETTER.findall(text)) else "en"


class ReportTextError(ValueError):
    """Input that is not a usable report; the message is meant for the editor."""


# Elements whose content is never article text.
DROPPED_ELEMENTS = {
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "svg",
    "iframe",
    "object",
    "button",
    "select",
    "head",
}
BLOCK_ELEMENTS = {
    "p",
    "div",
    "br",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "article",
    "section",
    "tr",
    "blockquote",
    "figcaption",
    "title",
    "main",
    "ul",
    "ol",
    "table",
    "hr",
}


class _ArticleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.article_parts, self.dropping, self.in_article = [], [], 0, 0
        self.dropped_scripts = 0

    def handle_starttag(self, tag, attrs):
        if tag in DROPPED_ELEMENTS:
            self.dropping += 1
            self.dropped_scripts += tag == "script"
        elif tag == "article":
            self.in_article += 1
        if tag in BLOCK_ELEMENTS:
            self._write("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in BLOCK_ELEMENTS:
            self._write("\n")

    def handle_endtag(self, tag):
        if tag in DROPPED_ELEMENTS:
            self.dropping = max(0, self.dropping - 1)
        elif tag == "article":
            self.in_article = max(0, self.in_article - 1)
        if tag in BLOCK_ELEMENTS:
            self._write("\n")

    def handle_data(self, data):
        if not self.dropping:
            self._write(data)

    def _write(self, text):
        self.parts.append(text)
        if self.in_article:
            self.article_parts.append(text)


def html_to_text(html):
    """(article text, number of scripts dropped): the <article> element's text when there is one, else the body's;
    scripts, styles, navigation, headers and footers never."""
    parser = _ArticleText()
    parser.feed(html)
    parser.close()
    parts = parser.article_parts if "".join(parser.article_parts).strip() else parser.parts
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, parser.dropped_scripts


def looks_like_html(text):
    return bool(re.search(r"<(?:html|body|article|p|div|script|head)\b", text[:5000], re.IGNORECASE))


def report_text_from_bytes(data, *, filename=""):
    """Text of an uploaded .txt or .html file, or ReportTextError saying why it cannot be read."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ReportTextError(
            _("The file is %(size)s bytes; a report file may be at most %(max)s bytes.")
            % {"size": f"{len(data):,}", "max": f"{MAX_UPLOAD_BYTES:,}"}
        )
    if not filename.lower().endswith((".txt", ".html", ".htm")):
        raise ReportTextError(_("Upload a .txt or .html file."))
    if b"\x00" in data:
        raise ReportTextError(_("The file is not text (it holds binary data). Upload a .txt or .html file."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReportTextError(_("The file is not UTF-8 text. Save it as UTF-8 and upload it again.")) from None
    return text


def report_text_clean(text):
    """(plain text, notes for the editor): HTML reduced to its article text, control characters refused.

    Raises ReportTextError for empty, over-long or binary input."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    notes = []
    if len(text) > MAX_REPORT_CHARS * 5:
        raise ReportTextError(
            _("The text has %(length)s characters; a report may have at most %(max)s.")
            % {"length": f"{len(text):,}", "max": f"{MAX_REPORT_CHARS:,}"}
        )
    controls = len(re.findall(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]", text))
    if controls > max(3, len(text) // 1000):
        raise ReportTextError(_("The text holds binary data, not a readable report."))
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)
    if looks_like_html(text):
        text, scripts = html_to_text(text)
        notes.append(_("The HTML was reduced to its article text."))
        if scripts:
            notes.append(_("%(count)d script(s) in the HTML were dropped.") % {"count": scripts})
    text = text.strip()
    if not text:
        raise ReportTextError(_("The report is empty: paste its text or upload a file."))
    if len(text) > MAX_REPORT_CHARS:
        raise ReportTextError(
            _("The text has %(length)s characters; a report may have at most %(max)s.")
            % {"length": f"{len(text):,}", "max": f"{MAX_REPORT_CHARS:,}"}
        )
    if not re.search(r"[A-Za-z\u0600-\u06ff]{2,}", text):
        raise ReportTextError(_("The text holds no words to read."))
    return text, notes


@dataclass(frozen=True)
class Sentence:
    index: int
    start: int  # offsets into the report text
    end: int
    text: str
    paragraph: int
    narrative: bool  # a full sentence of the story, not a headline, caption, link teaser or question


# Where a full stop does not end a sentence.
ABBREVIATIONS = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Gen|Col|Lt|Maj|Capt|Sgt|St|No|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|"
    r"Oct|Nov|Dec|vs|approx|U\.S|U\.K|U\.N)|\b[A-Z])\.$"
)
SENTENCE_END = re.compile(r"[.!?؟]+[\"'”’»)]*(?=\s+|$)")
TEASER = re.compile(r"^(?:Read more|Watch|Now live|Also read|اقرأ أيضا|اقرأ المزيد)\b", re.IGNORECASE)


def split_sentences(text):
    sentences, paragraph = [], 0
    for block in re.finditer(r"[^\n]+", text):
        line = block.group()
        if not line.strip():
            continue
        paragraph += 1
        start = 0
        for end_match in SENTENCE_END.finditer(line):
            piece = line[start : end_match.end()]
            if ABBREVIATIONS.search(piece.rstrip("\"'”’»)")):
                continue
            _add(sentences, text, block.start() + start, block.start() + end_match.end(), paragraph)
            start = end_match.end()
        if line[start:].strip():
            _add(sentences, text, block.start() + start, block.end(), paragraph)
    return sentences


def _add(sentences, text, start, end, paragraph):
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start == end:
        return
    piece = text[start:end]
    narrative = bool(re.search(r"[.!]['\"”’»)]*$", piece) and len(piece.split()) >= 4 and not TEASER.match(piece))
    sentences.append(Sentence(len(sentences), start, end, piece, paragraph, narrative))


# "BEIRUT, Dec 3 (Reuters) -", "IDLIB, Syria (AP) —", "Beirut:": where and when a report was filed, not its title.
DATELINE_PREFIX = re.compile(
    r"^\W*[A-Z][A-Za-z .'’/-]{2,40}(?:,\s*[A-Z][A-Za-z .]{1,30})?(?:,\s*[A-Za-z]{3,9}\.? \d{1,2}(?:,? \d{4})?)?"
    r"\s*(?:\([^)]{1,40}\))?\s*(?:--|[-–—:])\s+"
)
ATTRIBUTION_TAIL = re.compile(
    r",\s*(?:[\w'’-]+\s+){0,6}?(?:said|says|reported|announced|told [\w ]+)(?: on \w+)?\s*\.?$", re.IGNORECASE
)
TITLE_MAX = 120


def report_title(text):
    """The report's headline when its first line reads as one (short, no full stop); else its first sentence made
    into a title: the dateline and the "…, activists said" dropped, cut at a clause under 120 characters."""
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    if len(first) <= 200 and not first.endswith("."):
        return first
    sentences = split_sentences(first)
    title = sentences[0].text if sentences else first
    title = DATELINE_PREFIX.sub("", title, count=1)
    title = ATTRIBUTION_TAIL.sub("", title).rstrip(" .")
    if len(title) > TITLE_MAX:
        cut = title.rfind(", ", 0, TITLE_MAX)
        title = title[:cut] if cut > TITLE_MAX // 2 else title[: title.rfind(" ", 0, TITLE_MAX - 1)] + "…"
    return title[:1].upper() + title[1:]
