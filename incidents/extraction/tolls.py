"""Death tolls: "at least 35 killed" → low 35, best 35; "killed 13 regime fighters" → 13. Counts of the killed *or
wounded*, the wounded alone, a subset ("four officers among the dead") and background totals ("since March 2019 at
least 1,383 have been killed") are not an incident's toll."""

import re
from dataclasses import dataclass

from .numbers import AR_NUMBER, EN_NUMBER, number_value

QUALIFIER = r"(?P<q>at least|more than|over|some|about|around|nearly|almost|up to|as many as|roughly|approximately)"
AR_QUALIFIER = r"(?P<q>ما لا يقل عن|لا يقل عن|أكثر من|اكثر من|نحو|حوالي|قرابة|ما يزيد عن|ما يقارب|زهاء)"
KILLED = r"(?:killed|dead|died|slain|lost their lives|deaths|fatalities|were killed|have been killed|were left dead)"
EN_PATTERNS = [
    # "two soldiers and five militants were killed": both count
    re.compile(
        rf"(?P<n>\b{EN_NUMBER})\s+(?:[\w-]+\s+){{1,2}}and\s+(?P<m>{EN_NUMBER})\s+(?:[\w-]+\s+){{1,2}}"
        rf"(?:(?:were|have been|had been)\s+)?{KILLED}\b(?P<tail>(?:\s+[\w'-]+){{0,3}})",
        re.IGNORECASE,
    ),
    # "killed at least 35 Syrian government soldiers", "killing seven civilians"
    re.compile(
        rf"\b(?:killed|killing|kills|kill|left|leaving)\s+(?:{QUALIFIER}\s+)?(?P<n>{EN_NUMBER})\b"
        r"(?P<tail>(?:\s+[\w'-]+){0,5})",
        re.IGNORECASE,
    ),
    # "at least 35 people were killed", "13 pro-government fighters killed", "seven dead"
    re.compile(
        rf"(?:{QUALIFIER}\s+)?(?P<n>\b{EN_NUMBER})\b(?P<mid>(?:\s+[\w'-]+){{0,4}}?)\s+(?:(?:were|have been|"
        rf"had been|was|are)\s+)?(?:reportedly\s+)?{KILLED}\b(?P<tail>(?:\s+[\w'-]+){{0,3}})",
        re.IGNORECASE,
    ),
    # "the death toll rose to 20", "a toll of 12 dead"
    re.compile(
        rf"\b(?:death toll|toll)\s+(?:rose to|climbed to|reached|stood at|stands at|of|was|is|at)\s+"
        rf"(?:{QUALIFIER}\s+)?(?P<n>{EN_NUMBER})\b(?P<tail>(?:\s+[\w'-]+){{0,3}})",
        re.IGNORECASE,
    ),
]
# "killing a soldier", "killed one civilian": one death.
PERSON = (
    r"(?:soldier|civilian|child|man|woman|boy|girl|fighter|official|commander|officer|policeman|member|militant|"
    r"journalist|doctor|teacher|farmer|shepherd|resident|person|leader|guard|worker|driver)"
)
ONE_DEATH = re.compile(
    rf"\b(?:killed|killing|kills|kill)\s+(?P<n>an?|one)\s+(?:[\w-]+\s+){{0,2}}?{PERSON}\b(?P<tail>(?:\s+[\w'-]+){{0,3}})",
    re.IGNORECASE,
)
EN_PATTERNS.append(ONE_DEATH)
AR_KILLED = r"(?:قتلى|قتيلا|قتيلاً|قتيل|قتلوا|لقوا حتفهم|لقي حتفهم|حتفهم|مقتلهم|مصرعهم|شهداء|شهيدا|شهيداً|استشهدوا)"
AR_PATTERNS = [
    re.compile(
        rf"(?:مقتل|قتل|أسفر عن مقتل|اسفر عن مقتل|أدى إلى مقتل|ادى الى مقتل|أودى بحياة|اودى بحياة|استشهاد)\s+"
        rf"(?:{AR_QUALIFIER}\s+)?(?P<n>{AR_NUMBER})(?P<tail>(?:\s+\S+){{0,3}})"
    ),
    re.compile(
        rf"(?:{AR_QUALIFIER}\s+)?(?P<n>{AR_NUMBER})\s+(?P<mid>(?:\S+\s+){{0,4}}?){AR_KILLED}(?P<tail>(?:\s+\S+){{0,3}})"
    ),
]
NOT_DEATHS = re.compile(
    r"^\s*(?:or|and/or)\s+(?:\w+\s+)?(?:wounded|injured|hurt)|\b(?:wounded|injured|hurt)\s+or\b|^\s+among\b|"
    r"^\s*(?:و|أو |او )?(?:جرحى|جريح|مصاب|إصابة)|بين قتيل وجريح",
    re.IGNORECASE,
)
BACKGROUND = re.compile(
    r"\bsince\s+(?:the\s+)?(?:start|beginning|outbreak|\w+\s+\d{4}|\d{4})|\bso far (?:this|in)\b|\bthis year\b|"
    r"\bin total\b|\boverall\b|\bsince 20\d\d\b|\bcumulative\b|\bthroughout the (?:war|conflict)\b|منذ (?:بداية|مطلع|عام|\d)",
    re.IGNORECASE,
)


@dataclass
class TollMention:
    start: int
    end: int
    text: str
    low: int | None
    best: int | None
    high: int | None


def _values(number, qualifier):
    qualifier = (qualifier or "").lower()
    if qualifier in ("at least", "more than", "over", "ما لا يقل عن", "لا يقل عن", "أكثر من", "اكثر من", "ما يزيد عن"):
        return number, number, None
    if qualifier in ("up to", "as many as"):
        return None, number, number
    if qualifier:  # about, around, nearly, some …: a best estimate without bounds
        return None, number, None
    return number, number, number


def toll_mentions(sentence_text):
    """TollMentions of the sentence's incident; [] for a background total."""
    if BACKGROUND.search(sentence_text):
        return []
    arabic = bool(re.search(r"[\u0600-\u06ff]", sentence_text))
    mentions = []
    for pattern in AR_PATTERNS if arabic else EN_PATTERNS:
        for match in pattern.finditer(sentence_text):
            start, end = match.start("n"), match.end()
            if any(m.start < end and start < m.end for m in mentions):
                continue
            tail = match.groupdict().get("tail") or ""
            mid = match.groupdict().get("mid") or ""
            if (
                NOT_DEATHS.search(tail)
                or NOT_DEATHS.search(mid)
                or re.search(r"\bamong the dead\b", sentence_text[end : end + 30])
            ):
                continue
            if re.search(r"\s+among\b", sentence_text[match.end("n") : end][:12]) or re.search(
                r"\bamong the (?:dead|killed)", match.group()
            ):
                continue
            number = 1 if match.re is ONE_DEATH else number_value(match.group("n"))
            if number is not None and match.groupdict().get("m"):
                other = number_value(match.group("m"))
                number = number + other if other is not None else None
            if number is None or number > 100_000:
                continue
            if re.fullmatch(r"(?:19|20)\d\d", match.group("n")):
                continue  # a year, not a count
            low, best, high = _values(number, match.groupdict().get("q"))
            mention_start = match.start("q") if match.groupdict().get("q") else start
            mention_end = match.end("m") if match.groupdict().get("m") else match.end("n")
            mentions.append(
                TollMention(mention_start, mention_end, sentence_text[mention_start:mention_end], low, best, high)
            )
    return mentions
