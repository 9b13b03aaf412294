"""Place names in a sentence: every gazetteer name (Latin or Arabic script), the precision its wording gives, and
whether it is where something happened or only context ("a fighter from Aleppo", "the UK-based Observatory")."""

import re
from dataclasses import dataclass

from ..models import LocationPrecision
from . import gazetteer

TOKEN = re.compile(r"[^\W_]+(?:['’ʿ][^\W_]+)*")
ARABIC = re.compile(r"[\u0600-\u06ff]")
# Arabic prepositions and conjunctions written as part of the next word: بدمشق "in Damascus", وحلب "and Aleppo".
ARABIC_PREFIXES = ("وب", "ول", "ب", "و", "ل", "ف")
ARABIC_PREFIX_LETTERS = "وبلف"

# Capitalised English words that GeoNames also knows as some village's name; in running text they are words.
# Countries are not gazetteer places either, but GeoNames knows villages called "Germany" or "America".
COMMON_WORDS = set(
    """
    the a an and but in on at as of by for to from with after read now live news state islamic army forces group
    military government president minister observatory human rights war peace reconstruction meanwhile last this
    syrian iraqi turkish kurdish russian arab union tuesday monday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december al el abu bin ibn umm
    sheikh according several who what his her their its it they he she we one two three security local residents
    sources rebels city town village province governorate district region north south east west central new old
    free national democratic popular mobilization coalition ministry defence defense interior health council front
    division brigade police people civilians ankara moscow iran israel syria iraq turkey lebanon
    jordan russia germany france eastern western northern southern kurdistan britain america egypt saudi qatar kuwait china europe uk us usa un
    elsewhere counter opposition activists rescue white helmets civil emergency monitor agency press media health
    directorate command operations joint media cell mohammed muhammad mohammad ahmed ahmad ali hassan hussein husain ibrahim omar umar khalid
    abdullah mahmoud mahmood mustafa yusuf youssef salim saleh
    """.split()
)

# Words around a name that make it part of an organisation's or a person's name ("Liwa Hama", "Aleppo Military
# Council", "Abu Hama"): such a name is not a location.
NAME_BEFORE = re.compile(
    r"(?:\b(?:Liwa|Liwaa|Jaish|Ahrar|Jabhat|Harakat|Kataib|Saraya|Fawj|Abu|Umm|Bin|Ibn|Sheikh|Mr|Mrs|General|Gen|"
    r"Colonel|Col|Commander|President|Minister|chief|spokesman|leader)|لواء|جيش|أحرار|احرار|جبهة|حركة|كتائب|سرايا|فوج|أبو|ابو|أم|بن)\s+$"
)
NAME_AFTER = re.compile(
    r"^\s+(?:Brigades?|Battalions?|Division|Military Council|Council|Front|Falcons|Regiment|Corps|Army|Shield|"
    r"Martyrs|Revolutionaries|Operations Room|Hawks|Lions|Tigers|Battalion|Group|University|Club|FC|Workers|Party|"
    r"Regional Government|Democratic|Liberation|Movement|Ghouta)\b"
    r"|^\s+(?:al|el)-[A-Z]"  # "Bashar al-Assad": a given name before a family name
)
CONTEXT_BEFORE = re.compile(
    r"(?:\b(?:from|native of|born in|residents? of|fled to|fled from|displaced from|returned to|based in|"
    r"headquartered in|moved to|evacuated to|transferred to|taken to|relocated to)|(?<!بالقرب )\bمن|أهالي|ابن|نازح(?:ون|ين)? من)"
    r"\s+(?:the\s+)?(?:(?:city|town|village) of\s+)?$",
    re.IGNORECASE,
)
DATELINE_AFTER = re.compile(
    r"^(?:,\s*[A-Za-z]{3,9}\.? \d{1,2}\b|,\s*\d{1,2} [A-Za-z]{3,9}\b|,?\s*\((?:Reuters|AFP|AP|dpa|Xinhua|SANA|Anadolu)\)|"
    r"\s*[-–—]\s|,\s*[\u0660-\u0669\d]{1,2} |،|:\s|"
    # "ERBIL, Kurdistan Region –", "SULAIMANI (ESTA) —", "BEIRUT, LEBANON (8:30 P.M.) –", "IDLIB, Syria (AP) —"
    r"(?:,\s*[A-Z][A-Za-z ]{1,30})?(?:,\s*[A-Za-z]{3,9}\.? \d{1,2})?(?:\s*\([^)]{1,30}\))?\s*(?:--|[-–—])\s)"
)
CONTEXT_AFTER = re.compile(r"^(?:-based|[-\s]born|\s+native)\b", re.IGNORECASE)
REGION_BEFORE = re.compile(
    r"(?:\b(?:province|governorate|region) of|محافظة|محافظه|ولاية)\s+(?:the\s+)?$", re.IGNORECASE
)
REGION_AFTER = re.compile(r"^\s+(?:province|governorate|region)\b", re.IGNORECASE)
# "Daraa al-Balad", "Deir al-Zour": a name after another name's "al-" is part of it, not a place of its own.
COMPOUND_BEFORE = re.compile(r"[A-Z][\w'’]*[\s-]+(?:al|el|ad|ar|as|ash|at|az|an)-$")
NEAR_BEFORE = re.compile(
    r"(?:\b(?:near|nearby|outside|outskirts of|(?:north|south|east|west|northeast|northwest|southeast|southwest)"
    r"(?:ern)? of|countryside of|desert of|desert near|vicinity of|around|close to|on the road to|road to|"
    r"(?:northern|southern|eastern|western|rural)|(?:\d+|a few) (?:km|kilometres|kilometers|miles) "
    r"(?:\w+ )?(?:of|from)(?: the provincial capital| the capital)?|(?:sub-?)?district of|ناحية|قضاء|منطقة)|قرب|بالقرب من|قريب من|بالقرب|شمال|جنوب|شرق|غرب|شمالي|جنوبي|شرقي|غربي|ريف|أطراف|اطراف|بادية|"
    r"صحراء|محيط|ضواحي|بلدة قريبة من)"
    r"\s+(?:the\s+)?(?:(?:ancient\s+)?(?:city|town|village) of\s+|(?:مدينة|بلدة|قرية)\s+)?$",
    re.IGNORECASE,
)
NEAR_AFTER = re.compile(
    r"^\s+(?:countryside|outskirts|desert|suburbs?|environs|area|plain|basin|district|sub-?district)\b", re.IGNORECASE
)


PERSON_NAME = re.compile(r"(?:Abu|Umm|Bin|Ibn|Abd|Abdel|Abdul|Sheikh|أبو|ابو|أم|بن|عبد)\b", re.IGNORECASE)
LOCATED_BEFORE = re.compile(
    r"(?:\b(?:in|at|of|near|on|outside|around|into|to|toward|towards)|(?:في|قرب|بلدة|قرية|مدينة|بمدينة|ببلدة|بقرية|"
    r"ريف|بادية|محافظة|شمال|جنوب|شرق|غرب|أطراف|اطراف|محيط|ضواحي))\s+(?:the\s+)?$",
    re.IGNORECASE,
)
# Arabic words GeoNames or Who's On First also list as some hamlet's name.
ARABIC_WORDS = set(
    """
    على علي في من الى إلى عن مع بعد قبل بين حول عند خلال يوم اليوم امس أمس قوات النظام الجيش تنظيم هجوم مقتل قتل
    بشار الرئيس عناصر عنصرا مدينه مدينة بلده بلدة قريه قرية منطقه منطقة ريف محافظه محافظة شمال جنوب شرق غرب الشرق
    الغرب الشمال الجنوب وسط المرصد السوري حقوق الانسان مصادر محليه دوريه نقطه تفتيش سوق مسجد مستشفى مدرسه
    سهل معسكر حاجز طريق جبل مطار سجن معبر حقل حقول جسر تلة
    """.split()
)


@dataclass
class PlaceMention:
    start: int  # offsets within the sentence
    end: int
    text: str
    precision: int
    context: bool  # only context (origin, base), not where the event happened
    region: bool  # the name is a governorate / province
    key: str  # the gazetteer key the name matched, to tell the same place mentioned twice

    @property
    def phrase(self):
        """The wording handed to the geocoder."""
        return f"{self.text} province" if self.precision == LocationPrecision.REGION and self.region else self.text


def _tokens(text):
    return [(match.group(), match.start(), match.end()) for match in TOKEN.finditer(text)]


def _lookup(index, text):
    """(key, gazetteer names, exact?) a piece of text can be: exact spelling first, then transliteration skeleton."""
    key = gazetteer.name_key(text)
    if not key:
        return key, [], False
    names = index[True].get(key)
    if names:
        return key, names, True
    if ARABIC.search(text):
        for prefix in ARABIC_PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix) + 2:
                names = index[True].get(key[len(prefix) :])
                if names:
                    return key[len(prefix) :], names, True
        return key, [], False
    if len(key) >= 5:
        skeleton = gazetteer.skeleton_key(key)
        names = index[False].get(skeleton) or index[False].get(skeleton.replace(" ", ""))
        if names:
            return skeleton, names, False
    return key, [], False


def place_mentions(sentence_text, *, blocked=(), index=None):
    """PlaceMentions in one sentence, longest names first where they overlap. `blocked` are (start, end) spans
    already read as something else (an actor's name)."""
    index = gazetteer.name_index() if index is None else index
    tokens = _tokens(sentence_text)
    mentions, taken = [], set()
    for i, (word, start, _end) in enumerate(tokens):
        if i in taken:
            continue
        arabic = bool(ARABIC.search(word))
        if not arabic and not word[:1].isupper():
            continue
        for size in range(min(4, len(tokens) - i), 0, -1):
            span = tokens[i : i + size]
            words = [token[0] for token in span]
            if not arabic and ((words[0].lower() in COMMON_WORDS and size == 1) or not words[-1][:1].isupper()):
                continue
            end = span[-1][2]
            name = sentence_text[start:end]
            if re.search(r"['’]s$", name):  # "Syria's": the possessive is not part of the name
                name, end = name[:-2], end - 2
            if not arabic and size == 1 and name.lower() in COMMON_WORDS:
                continue
            if any(s < end and start < e for s, e in blocked):
                continue
            key, names, exact = _lookup(index, name)
            if not names:
                continue
            if arabic and not name.startswith(key[:1]) and key and key[:1] in name:
                # "بمحافظة إدلب" read as "محافظة إدلب": the prefix "in" is not part of the name the geocoder gets
                cut = len(name) - len(name.lstrip(ARABIC_PREFIX_LETTERS))
                cut = min(cut, len(name) - len(name.lstrip("وبلف")))
                start, name = start + cut, name[cut:]
            mention = _mention(sentence_text, start, end, name, key, names, exact=exact, arabic=arabic, first=i == 0)
            if mention is not None:
                mentions.append(mention)
            taken.update(range(i, i + size))
            break
    return sorted(mentions + _cued_mentions(sentence_text, mentions, blocked), key=lambda mention: mention.start)


# Wording that says the next words name a place ("the village of Kafr Nouran", "قرية الفطيرة", "قريتي العمقية
# وقسطون", "بناحية الرياض"): a name the text index does not hold is then worth a geocoder look-up, whose
# transliteration keys read spellings ("Ibleen" for Iblin) the exact index cannot.
CUE_EN = re.compile(
    r"\b(?:village|town|hamlet|area|district|sub-?district|neighbo(?:u)?rhood|camp|city) of (?:the )?"
    r"(?P<n>[A-Z][\w'’-]*(?:[ -](?:al-|el-)?[A-Z][\w'’-]*){0,2})|"
    r"\b(?P<m>[A-Z][\w'’-]*(?:[ -][A-Z][\w'’-]*){0,2}),? (?:a|the) (?:\w+ )?(?:village|town|hamlet)\b|"
    r"\b(?P<o>[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)?) (?:village|town|area|district|sub-?district)\b"
)
CUE_AR = re.compile(
    r"(?<![\u0600-\u06ff])(?:[بو]?(?:قرية|قريتي|بلدة|بلدتي|مدينة|منطقة|ناحية|قضاء|حي|مخيم))\s+[\"“«]?"
    r"(?P<n>[\u0600-\u06ff]+(?:\s+[\u0600-\u06ff]+)?)"
)
CUE_STOP = re.compile(r"^(?:[بول]?(?:ريف|شمال|جنوب|شرق|غرب|في|قرب|محافظة|منطقة|مدينة)|بين|على|من)$")


def _cued_mentions(sentence_text, found, blocked):
    mentions = []
    spans = [(m.start, m.end) for m in found] + list(blocked)
    for match in [*CUE_EN.finditer(sentence_text), *CUE_AR.finditer(sentence_text)]:
        group = next(name for name in ("n", "m", "o") if match.groupdict().get(name))
        start = match.start(group)
        if FOREIGN_BEFORE.search(sentence_text[max(0, start - 40) : start]):
            continue  # "the Russian city of Sochi": abroad, whatever namesake a village here has
        words = match.group(group).split()
        if ARABIC.search(words[0]):
            words = words[:1] + [word for word in words[1:2] if not CUE_STOP.match(word)]
        for size in range(len(words), 0, -1):
            name = " ".join(words[:size]).strip('"”»')
            stop = start + len(name)
            if any(s < stop and start < e for s, e in spans) or name.lower() in COMMON_WORDS or len(name) < 3:
                continue
            if ARABIC.search(name) and gazetteer.name_key(name) in ARABIC_WORDS:
                continue
            names = []
            for part in re.split(r"\s+و", name) if ARABIC.search(name) else [name]:
                coded = gazetteer.geocode(part, countries=CUE_COUNTRIES)
                if coded is not None and coded["match"] != "fuzzy" and coded["location_precision"] != 3:
                    names.append((part, coded))
            if not names:
                continue
            for part, _coded in names:
                offset = sentence_text.find(part, start)
                mention = _mention(
                    sentence_text,
                    offset,
                    offset + len(part),
                    part,
                    "cue:" + gazetteer.name_key(part),
                    [],
                    exact=True,
                    arabic=bool(ARABIC.search(part)),
                    first=False,
                    cued=True,
                )
                if mention is not None:
                    mentions.append(mention)
                    spans.append((offset, offset + len(part)))
            break
    return mentions


FOREIGN_BEFORE = re.compile(
    r"\b(?:Russian|Turkish|Iranian|Lebanese|Jordanian|Saudi|Egyptian|Kazakh|Swiss|Qatari|Emirati|Israeli|American|"
    r"European|French|German|British)\s+(?:capital|city|town|resort|village)\s+of\s+$"
)
# The countries the assistant's reports are about; a cue never reads a name as a village abroad.
CUE_COUNTRIES = ["SY", "IQ"]


def _mention(sentence, start, end, name, key, names, *, exact, arabic, first, cued=False):
    before, after = sentence[max(0, start - 60) : start], sentence[end : end + 40]
    if NAME_BEFORE.search(before) or NAME_AFTER.match(after) or (not arabic and COMPOUND_BEFORE.search(before)):
        return None
    if cued:
        context = bool(CONTEXT_BEFORE.search(before) or CONTEXT_AFTER.match(after))
        near = NEAR_BEFORE.search(before) or NEAR_AFTER.match(after)
        precision = LocationPrecision.NEAR if near else LocationPrecision.EXACT
        return PlaceMention(start, end, name, precision, context, False, key)
    populated = any(name_.kind != "admin1" for name_ in names)
    located = bool(LOCATED_BEFORE.search(before))
    known = any(name_.kind == "admin1" or name_.population >= 5000 for name_ in names)
    if not located and PERSON_NAME.match(name):
        return None  # "Abu Hama was killed": a person (kunya), though villages carry such names too
    if not known:
        # A hamlet's name is also a word ("على" on, "مدينة" city) or part of a person's name ("Abdel Rahman"):
        # only wording that introduces a place ("in", "the village of", "قرب") makes it one.
        if arabic and key in ARABIC_WORDS:
            return None
        if not located and " " not in key:
            return None
        if not arabic and not first and re.search(r"\b[A-Z][\w'’-]*\s+$", before) and not located:
            return None
    # A one-word consonant look-alike of a small place, with no "in"/"near" before it, is more likely a word or a
    # surname; two words that agree ("Tal Tamr" / "Tall Tamr") or a town's wording are not chance.
    if not arabic and first and not located and not populated:
        return None
    region_only = gazetteer.is_region(names) and not populated
    if not exact and len(key.replace(" ", "")) < 4 and not located:
        return None  # "Ayn Issa" and "Ain Issa" share only "n s": enough after "the town of", not on its own
    # "BEIRUT, Nov 23 (Reuters) -": a dateline says where the report was filed, not where the event happened.
    dateline = first and DATELINE_AFTER.match(after)
    context = bool(CONTEXT_BEFORE.search(before) or CONTEXT_AFTER.match(after) or dateline)
    if REGION_BEFORE.search(before) or REGION_AFTER.match(after) or region_only or re.match(r"محافظ[ةه] ", name):
        precision = LocationPrecision.REGION
    elif NEAR_BEFORE.search(before) or NEAR_AFTER.match(after):
        precision = LocationPrecision.NEAR
        # "Diyala province northeast of Baghdad": the direction places the province, not the event.
        context = context or bool(re.search(r"\b(?:province|governorate)\s+\w+\s+of\s+$", before))
    else:
        precision = LocationPrecision.EXACT
    return PlaceMention(start, end, name, precision, context, gazetteer.is_region(names), key)
