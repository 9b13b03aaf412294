"""Dates in a sentence, absolute or relative to the report's publication date, resolved by dateparser.

The patterns here only *find* date wording and say what kind it is (the event's day, a span, the day a monitor
reported, a background "since"); turning the words into a calendar date is dateparser's job.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import dateparser

from ..models import DatePrecision
from .numbers import ARABIC_DIGITS, number_value

EN_MONTHS = (
    r"January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)
# dateparser reads the Egyptian month names (يناير…); the Levantine ones (كانون الثاني…) are given their equivalents.
LEVANTINE_MONTHS = {
    "كانون الثاني": "يناير",
    "شباط": "فبراير",
    "آذار": "مارس",
    "اذار": "مارس",
    "نيسان": "أبريل",
    "أيار": "مايو",
    "ايار": "مايو",
    "حزيران": "يونيو",
    "تموز": "يوليو",
    "آب": "أغسطس",
    "اب": "أغسطس",
    "أيلول": "سبتمبر",
    "ايلول": "سبتمبر",
    "تشرين الأول": "أكتوبر",
    "تشرين الاول": "أكتوبر",
    "تشرين الثاني": "نوفمبر",
    "كانون الأول": "ديسمبر",
    "كانون الاول": "ديسمبر",
}
AR_MONTHS = "|".join(
    sorted(
        [
            *LEVANTINE_MONTHS,
            "يناير",
            "فبراير",
            "مارس",
            "أبريل",
            "ابريل",
            "مايو",
            "يونيو",
            "يوليو",
            "أغسطس",
            "اغسطس",
            "سبتمبر",
            "أكتوبر",
            "اكتوبر",
            "نوفمبر",
            "ديسمبر",
        ],
        key=len,
        reverse=True,
    )
)
EN_WEEKDAYS = r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
AR_WEEKDAYS = r"الاثنين|الإثنين|الثلاثاء|الأربعاء|الاربعاء|الخميس|الجمعة|السبت|الأحد|الاحد"
DIGITS = r"[0-9\u0660-\u0669]"
NUMBER_WORD = r"two|three|four|five|six|seven|eight|nine|ten|\d+|يومين|ثلاثة|أربعة|اربعة|خمسة|ستة|سبعة"

PATTERNS = [
    # (kind, regex); kind says how the match is turned into dates
    (
        "span_from",
        re.compile(
            rf"\bover (?P<n>{NUMBER_WORD}) days,? (?:starting|beginning) (?:on |from )?(?P<d>(?:{EN_WEEKDAYS})|\d{{1,2}} "
            rf"(?:{EN_MONTHS})|(?:{EN_MONTHS}) \d{{1,2}})",
            re.IGNORECASE,
        ),
    ),
    ("span_past", re.compile(rf"\b(?:over|in|during) the (?:past|last) (?P<n>{NUMBER_WORD}) days\b", re.IGNORECASE)),
    ("span_past", re.compile(r"(?:خلال|على مدى) (?:ال)?(?P<n>يومين|ثلاثة|أربعة|اربعة) (?:أيام )?(?:الماضية|الماضيين)")),
    (
        "began",
        re.compile(
            rf"\b(?:began|started|begun|launched) (?:on |late on |early on )?(?P<d>{EN_WEEKDAYS})\b", re.IGNORECASE
        ),
    ),
    (
        "day",
        re.compile(rf"\b{DIGITS}{{1,2}}(?:st|nd|rd|th)? (?:of )?(?:{EN_MONTHS})\.?,? {DIGITS}{{4}}\b", re.IGNORECASE),
    ),
    ("day", re.compile(rf"\b(?:{EN_MONTHS})\.? {DIGITS}{{1,2}}(?:st|nd|rd|th)?,? {DIGITS}{{4}}\b", re.IGNORECASE)),
    ("day", re.compile(rf"\b{DIGITS}{{4}}-{DIGITS}{{2}}-{DIGITS}{{2}}\b")),
    ("day", re.compile(rf"(?<!\w){DIGITS}{{1,2}} (?:من )?(?:شهر )?(?:{AR_MONTHS})(?: (?:عام |سنة )?{DIGITS}{{4}})?")),
    ("day", re.compile(rf"\b{DIGITS}{{1,2}}(?:st|nd|rd|th)? (?:of )?(?:{EN_MONTHS})\b(?!\.? ?\d)", re.IGNORECASE)),
    ("day", re.compile(rf"\b(?:{EN_MONTHS})\.? {DIGITS}{{1,2}}(?:st|nd|rd|th)?\b(?!,? ?\d)", re.IGNORECASE)),
    ("month", re.compile(rf"\b(?:{EN_MONTHS}) {DIGITS}{{4}}\b", re.IGNORECASE)),
    ("month", re.compile(rf"(?:شهر )?(?:{AR_MONTHS}) (?:الماضي|{DIGITS}{{4}})")),
    (
        "weekday",
        re.compile(
            rf"\b(?:(?:late|early) on |on |last )?(?P<d>{EN_WEEKDAYS})(?:'s)?(?: (?:night|morning|evening|afternoon))?\b",
            re.IGNORECASE,
        ),
    ),
    ("weekday", re.compile(rf"(?:(?:يوم|ليل|ليلة|مساء|صباح|فجر|ظهر) )?(?:(?:يوم) )?(?P<d>{AR_WEEKDAYS})")),
    (
        "relative",
        re.compile(
            r"\b(?:the day before yesterday|yesterday|last night|(?:at dawn |early |earlier )?today|"
            r"this (?:morning|afternoon|evening)|tonight|(?:two|three|four|five|\d+) days ago)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "relative",
        re.compile(r"(?:أول من أمس|أمس|البارحة|(?:فجر |صباح |مساء |ظهر )?(?:اليوم|هذا اليوم)|الليلة الماضية)"),
    ),
    # Times of day with no day named: the report's own day ("at dawn", "فجراً"), or the night before it.
    ("overnight", re.compile(r"\b(?:overnight|at midnight|late at night)\b|منتصف الليل|ليلاً|ليلا", re.IGNORECASE)),
    (
        "report_day",
        re.compile(r"\b(?:(?:at|before) dawn|at daybreak|(?:early )?this morning|at noon)\b|فجراً|فجرا|صباحاً", re.I),
    ),
    (
        "week",
        re.compile(
            r"\b(?:last week|earlier this week|this week|the past week)\b|الأسبوع (?:الماضي|الجاري|الحالي)|"
            r"الاسبوع (?:الماضي|الجاري|الحالي)|مطلع (?:الأسبوع|الاسبوع)(?: الجاري| الحالي)?",
            re.IGNORECASE,
        ),
    ),
    (
        "month_rel",
        re.compile(
            r"\b(?:last month|earlier this month|this month|late last month)\b|الشهر (?:الماضي|الجاري|الحالي)|"
            r"(?:مطلع|بداية|أوائل|اوائل) (?:الشهر|هذا الشهر)(?: الجاري| الحالي)?",
            re.IGNORECASE,
        ),
    ),
]
REPORTING_BEFORE = re.compile(
    r"(?:\b(?:said|says|reported|announced|told \w+|stated|added|confirmed|claimed|wrote|tweeted)"
    r"(?: responsibility)?(?: for)?(?: the (?:attack|bombing|assault|blast|killing|strike))?(?: on)?|"
    r"(?:أفاد|أفادت|قال|قالت|أعلن|أعلنت|ذكر|ذكرت|أكد|أكدت)(?: يوم)?)\s+$",
    re.IGNORECASE,
)
BACKGROUND_BEFORE = re.compile(
    r"(?:\b(?:since|as of|so far in|until)|منذ)\s+(?:the\s+)?(?:start of\s+)?$", re.IGNORECASE
)
NIGHT = re.compile(r"night|ليل|ليلة", re.IGNORECASE)
# "BEIRUT, Dec 3 (Reuters) -", "TIKRIT, Iraq, Dec. 31 (Xinhua) --": the day the report was filed, never the event's.
DATELINE_BEFORE = re.compile(r"^\W*[A-Z][A-Za-z .'’/-]*(?:,\s*[A-Z][A-Za-z .]*)?,\s*$")
DATELINE_AFTER = re.compile(r"^\.?,?\s*(?:\d{4}\s*)?(?:\(\s*[\w .-]{2,30}\)\s*)?(?:--|[-–—:])")


@dataclass
class DateMention:
    start: int  # offsets within the sentence
    end: int
    text: str
    first: date
    last: date
    precision: int
    role: str  # "event", "reporting" (the day a monitor spoke), "background" ("since March 2019") or "dateline"


def _arabic_to_western(text):
    text = text.translate(ARABIC_DIGITS)
    for levantine, egyptian in LEVANTINE_MONTHS.items():
        text = re.sub(rf"(?<!\w){levantine}(?!\w)", egyptian, text)
    return text


@lru_cache(maxsize=2048)
def _parse(text, base, language):
    settings = {
        "RELATIVE_BASE": datetime.combine(base, time(12)),
        "PREFER_DATES_FROM": "past",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DAY_OF_MONTH": "first",
    }
    parsed = dateparser.parse(text, languages=[language], settings=settings)
    return parsed.date() if parsed else None


def _language(text):
    return "ar" if re.search(r"[\u0600-\u06ff]", text) else "en"


def _weekday(name, published):
    # "On Saturday" in a report published on a Saturday is that day, not a week earlier: resolve against the day
    # after publication, preferring the past.
    return _parse(name, published + timedelta(days=1), _language(name))


def _count(word):
    return number_value(word) or {"يومين": 2}.get(word)


def _resolve(kind, match, published):
    """(first, last, precision) or None."""
    text = match.group()
    if kind == "span_from":
        first, days = _weekday(match.group("d"), published), _count(match.group("n"))
        if first is None or first > published:
            first = _parse(match.group("d"), published, "en")
        if first and days:
            return first, first + timedelta(days=days - 1), DatePrecision.DAY
        return None
    if kind == "span_past":
        days = _count(match.group("n"))
        return (published - timedelta(days=days - 1), published, DatePrecision.DAY) if days else None
    if kind == "began":
        first = _weekday(match.group("d"), published)
        return (first, published, DatePrecision.DAY) if first else None
    if kind == "weekday":
        day = _weekday(match.group("d"), published)
        return (day, day, DatePrecision.DAY) if day else None
    if kind == "relative":
        clean = re.sub(r"^(?:at dawn|early|earlier)\s+|^(?:فجر|صباح|مساء|ظهر)\s+", "", text.strip(), flags=re.I)
        clean = {"last night": "yesterday", "tonight": "today", "الليلة الماضية": "أمس", "هذا اليوم": "اليوم"}.get(
            clean.lower(), clean
        )
        if clean.lower().startswith("this "):
            clean = "today"
        day = _parse(clean, published, _language(clean))
        return (day, day, DatePrecision.DAY) if day else None
    if kind == "overnight":
        return published - timedelta(days=1), published, DatePrecision.DAY
    if kind == "report_day":
        return published, published, DatePrecision.DAY
    if kind == "week":
        if re.search(r"this week|past week|الجاري|الحالي|مطلع", text, re.IGNORECASE):
            monday = published - timedelta(days=published.weekday())
            first = monday if re.search(r"this week|الجاري|الحالي|مطلع", text) else published - timedelta(days=6)
            return first, published, DatePrecision.WEEK
        day = _parse("last week" if _language(text) == "en" else "الأسبوع الماضي", published, _language(text))
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6), DatePrecision.WEEK
    if kind == "month_rel":
        if re.search(r"earlier|this month|الجاري|الحالي|مطلع|بداية|أوائل|اوائل", text):
            return published.replace(day=1), published, DatePrecision.MONTH
        last = published.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last, DatePrecision.MONTH
    western = _arabic_to_western(text)
    if kind == "month":
        western = re.sub(r"^شهر |\s*الماضي$", "", western)
        day = _parse(f"1 {western}" if _language(western) == "en" else western, published, _language(western))
        if day is None:
            return None
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, min(following - timedelta(days=1), max(published, first)), DatePrecision.MONTH
    day = _parse(
        re.sub(r"(?<=\d)(?:st|nd|rd|th)|من |شهر |عام |سنة |\.", "", western).replace(",", ""),
        published,
        _language(western),
    )
    return (day, day, DatePrecision.DAY) if day else None


def date_mentions(sentence_text, *, published):
    mentions, taken = [], []
    for kind, pattern in PATTERNS:
        for match in pattern.finditer(sentence_text):
            start, end = match.span()
            if any(s < end and start < e for s, e in taken):
                continue
            resolved = _resolve(kind, match, published)
            if resolved is None:
                continue
            first, last, precision = resolved
            before = sentence_text[max(0, start - 40) : start]
            role = "event"
            if DATELINE_BEFORE.match(sentence_text[:start]) and DATELINE_AFTER.match(sentence_text[end:]):
                role = "dateline"
            elif BACKGROUND_BEFORE.search(before):
                role = "background"
            elif REPORTING_BEFORE.search(before) and kind in ("weekday", "relative", "day"):
                role = "reporting"
            taken.append((start, end))
            mentions.append(DateMention(start, end, match.group(), first, last, precision, role))
    return sorted(mentions, key=lambda mention: mention.start)


DATELINE_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})[./](\d{1,2})[./](\d{4})(?!\d)")


def publication_date_in(text):
    """The date a report's dateline or byline gives ("DAMASCUS, April 20, 2019 (AFP) –", "Published 20.04.2019"),
    read from its first lines only; None when there is none. A day without a year is not a dateline."""
    head = "\n".join(text.strip().split("\n")[:4])[:400]
    numeric = DATELINE_NUMERIC.search(head)
    if numeric:
        day, month, year = (int(part) for part in numeric.groups())
        try:
            return date(year, month, day)
        except ValueError:
            return None
    for kind, pattern in PATTERNS:
        if kind != "day":
            continue
        for match in pattern.finditer(head):
            if re.search(rf"{DIGITS}{{4}}", match.group()):
                resolved = _resolve(kind, match, date.today())
                if resolved:
                    return resolved[0]
    return None


DATELINE_HEAD = re.compile(
    rf"^\W*[A-Z][A-Za-z .'’/-]*(?:,\s*[A-Z][A-Za-z .]*)?,\s*(?P<d>(?:{EN_MONTHS})\.? \d{{1,2}}|\d{{1,2}} (?:{EN_MONTHS})\.?)"
    rf"(?:,? \d{{4}})?\s*(?:\(\s*[\w .-]{{2,30}}\)\s*)?(?:--|[-–—:])",
    re.IGNORECASE,
)


def dateline_date(text, *, published):
    """The day a dateline gives ("DAMASCUS, Jul 26 (NNN-SANA) –"), read against the publication date, or None.
    It is when the report was filed: what the report tells of the days before it is counted from there."""
    for line in text.strip().split("\n")[:6]:
        match = DATELINE_HEAD.match(line.strip())
        if match:
            day = _parse(re.sub(r"\.", "", match.group("d")), published + timedelta(days=1), "en")
            if day is not None and timedelta(0) <= published - day <= timedelta(days=7):
                return day
    return None


DAY_OFFSET = re.compile(
    r"\b(?P<came>came |comes )?(?P<n>a|one|two|three|four|five) days? (?P<dir>after|before|earlier|later)\b|"
    r"\bthe (?P<prev>previous|next|following) day\b|\bthe day (?P<dir2>before|after)\b",
    re.IGNORECASE,
)


def day_offset(sentence_text):
    """Days from the previous sentence's date to this sentence's event: "The strikes came a day after artillery
    shelled …" → -1 (the shelling was the day before), "the next day" → +1; 0 when the sentence says nothing."""
    match = DAY_OFFSET.search(sentence_text)
    if match is None:
        return 0
    if match.group("prev") or match.group("dir2"):
        later = (match.group("prev") or match.group("dir2")).lower() in ("next", "following", "after")
        return 1 if later else -1
    days = number_value(match.group("n")) or 1
    direction = match.group("dir").lower()
    if direction in ("before", "earlier") or (direction == "after" and match.group("came")):
        return -days
    return days
