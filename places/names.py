"""Place names as news reports spell them: pure functions, no database.

Two keys per name make "Dayr az Zawr", "Deir ez-Zor" and "دير الزور" meet: `name_key` folds case, diacritics,
punctuation and Arabic letter variants; `skeleton_key` also drops articles (al-, ez-, ال), vowels and doubled
letters, the parts transliterations disagree on.
"""

import re
import unicodedata
from functools import lru_cache

ARABIC_LETTER_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي"})
# Articles and particles that transliterations attach or drop at will ("ar-Raqqa", "Raqqa").
ARTICLES = set("al el il ul ar er ad ed as es az ez an en at et ash esh adh ath the".split())
NON_LATIN_KEPT = re.compile(r"[\u0600-\u06ff]")
LATIN_OR_ARABIC = re.compile(r"^[\sA-Za-z0-9'’ʿʾ`\-\.\u00c0-\u024f\u1e00-\u1eff\u0600-\u06ff]+$")


@lru_cache(maxsize=200_000)  # the gazetteer's keys call it some 900,000 times, on far fewer distinct strings
def name_key(text):
    """Lower case, no diacritics or punctuation, one space between words; Arabic letter variants unified."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.translate(ARABIC_LETTER_VARIANTS).replace("\u0640", "")  # tatweel
    text = re.sub(r"['’ʿʾ`‘]", "", text.lower())
    return " ".join(re.findall(r"\w+", text))


def _skeleton_word(word):
    if NON_LATIN_KEPT.search(word):
        return word[2:] if word.startswith("ال") and len(word) > 4 else word
    word = word.replace("ph", "f").replace("q", "k").replace("ou", "u")
    # Vowels and the semivowels y/w are where transliterations differ, except a leading Y/W (Yabroud, Wadi).
    word = word[:1] + re.sub(r"[aeiouyw]", "", word[1:]) if word[:1] in "yw" else re.sub(r"[aeiouyw]", "", word)
    return re.sub(r"(.)\1+", r"\1", word)


def skeleton_key(text):
    """The consonants of a name without articles: 'Dayr az Zawr' and 'Deir ez-Zor' both give 'dr zr'."""
    words = name_key(text).split()
    kept = [word for word in words if word not in ARTICLES] or words
    # "al" glued to the next word ("alraqqa") is a common ASCII spelling of the Arabic article.
    kept = [
        word[2:] if word.startswith("al") and len(word) > 5 and not word.startswith("all") else word for word in kept
    ]
    if kept and not NON_LATIN_KEPT.search(kept[-1]):
        kept[-1] = re.sub(r"(?<=[aeiou])h$", "", kept[-1])  # a name's final -ah is one letter: Raqqah, Raqqa
    return " ".join(filter(None, (_skeleton_word(word) for word in kept)))


def place_search_keys(names):
    """(name keys, skeleton keys) of a place's names, deduplicated, in a stable order."""
    name_keys = list(dict.fromkeys(key for key in map(name_key, names) if key))
    skeletons = [key for key in map(skeleton_key, name_keys) if key]
    # Also without spaces: "Salahuddin" and "Salah ad-Din", "Albukamal" and "Al Bu Kamal".
    skeleton_keys = list(dict.fromkeys([*skeletons, *(key.replace(" ", "") for key in skeletons)]))
    return name_keys, skeleton_keys


def useful_alternate_names(names):
    """Latin and Arabic spellings only; airport codes ('DEZ', 'PMS') would match stray acronyms."""
    return [name for name in names if LATIN_OR_ARABIC.match(name) and not (name.isupper() and len(name) <= 4)]


# Letters NFKD does not decompose, as GeoNames writes them in Turkish and transliterated Arabic names.
ASCII_FOLDS = str.maketrans({"ı": "i", "ʼ": "", "ʻ": "", "ʿ": "", "ʾ": "", "’": "", "‘": "", "'": "", "`": ""})
REGION_WORD = re.compile(r"\s+(?:governorate|province)$", re.IGNORECASE)


def admin1_clean(name):
    """GeoNames' admin1 label as the one spelling seeds, demo data, the map's region filter and the geocoder share.

    Plain ASCII ('Diyālá' → 'Diyala', 'Karbalāʼ' → 'Karbala'), no ' Governorate' tail, and a hyphen before a
    lower-case word that is not an article read as the space it stands for ('Rif-dimashq' → 'Rif Dimashq', while
    'Deir ez-Zor' and 'Ar-Raqqah' stay). The original spelling stays searchable as an alternate name of the region.
    """
    text = unicodedata.normalize("NFKD", (name or "").translate(ASCII_FOLDS))
    text = "".join(char for char in text if not unicodedata.combining(char)).encode("ascii", "ignore").decode()
    text = REGION_WORD.sub("", " ".join(text.split()))
    return re.sub(r"-([a-z]+)\b", lambda word: word[0] if word[1] in ARTICLES else f" {word[1].capitalize()}", text)


# "Eastern Ghariyeh" is how reports write the village the gazetteer calls "Al Ghariyah ash Sharqiyah": a leading
# direction stands for the Arabic adjective after the name, feminine (-iyah) or masculine (-i) by the noun.
DIRECTION_ADJECTIVES = {
    "eastern": ("sharqiyah", "sharqi"),
    "east": ("sharqiyah", "sharqi"),
    "western": ("gharbiyah", "gharbi"),
    "west": ("gharbiyah", "gharbi"),
    "northern": ("shamaliyah", "shamali"),
    "north": ("shamaliyah", "shamali"),
    "southern": ("janubiyah", "janubi"),
    "south": ("janubiyah", "janubi"),
    "upper": ("fawqani", "fawqa"),
    "lower": ("tahtani", "tahta"),
}
# Letter pairs transliterations use for one Arabic letter, in the order they must be replaced.
TRANSLITERATION_LETTERS = [
    ("kh", "h"),  # خ: Khirbet, Hirbet
    ("gh", "k"),  # غ: Ghariyeh, Gariyeh
    ("sh", "$"),  # ش: one letter of its own, so "Sham" never meets "Sam"
    ("ch", "$"),
    ("th", "t"),  # ث ت
    ("dh", "d"),  # ذ ض ظ are dh, z, d by turns
    ("ph", "f"),
    ("dj", "j"),
    ("z", "d"),
    ("q", "k"),  # ق is q, k or g in dialect
    ("g", "k"),
    ("c", "k"),
    ("x", "ks"),
]
LATIN_VOWELS = "aeiou"


@lru_cache(maxsize=100_000)  # the gazetteer's 35,000 places share most of their words
def _transliteration_word(word):
    if NON_LATIN_KEPT.search(word):
        return word[2:] if word.startswith("ال") and len(word) > 4 else word
    if len(word) > 2 and word[-2:] in ("ah", "eh"):
        word = word[:-1]  # -eh, -ah: the ta marbuta (before kh → h, so Sheikh keeps its last letter)
    word = re.sub(r"(?<=[^aeiou])i(?=[aou])", "y", word)  # Abiad is Abyad
    for letters, letter in TRANSLITERATION_LETTERS:
        word = word.replace(letters, letter)
    # Vowels are where spellings differ most, but not entirely: a/e/i (and y not before a vowel) are one sound,
    # o/u (and w not before a vowel) another. Kobani ≠ Kabani; Deir = Dayr; Zor = Zawr = Zour; Mayadin ≠ Maadan.
    out, cluster = [], ""
    for index, char in enumerate(word):
        next_char = word[index + 1] if index + 1 < len(word) else ""
        is_vowel = char in LATIN_VOWELS or (char in "yw" and index > 0 and next_char not in LATIN_VOWELS)
        if is_vowel:
            cluster += char
            continue
        if cluster:
            out.append("u" if set(cluster) & set("ouw") else "a")
            cluster = ""
        out.append(char)
    if cluster:
        out.append("u" if set(cluster) & set("ouw") else "a")
    return re.sub(r"(.)\1+", r"\1", "".join(out))


@lru_cache(maxsize=100_000)
def transliteration_keys(text):
    """Keys under which two spellings of one Arabic name meet, and names that merely share consonants do not.

    'Deir ez-Zor', 'Dayr az Zawr' and 'Deir al-Zour' share a key; so do 'Eastern Ghariyeh' and 'Al Ghariyah ash
    Sharqiyah', 'Tell Abyad' and 'Tal Abiad'. 'Nayrab' and 'Ayn al Arab' do not (their consonants do), nor
    'Maadan' and 'Mayadin', nor 'Kabani' and 'Kobani'. Each key comes spaced and joined ('Al Bu Kamal',
    'Albukamal'); a name that is only articles keeps them.
    """
    words = name_key(text).split()
    if not words or any(len(word) == 1 and not NON_LATIN_KEPT.search(word) for word in words):
        return ()  # "Deir e" is a name being typed, not a spelling: "dar a" would be Daraa
    variants = [words]
    if len(words) > 1 and words[0] in DIRECTION_ADJECTIVES:
        variants = [[*words[1:], adjective] for adjective in DIRECTION_ADJECTIVES[words[0]]]
    keys = []
    for variant in variants:
        kept = [word for word in variant if word not in ARTICLES] or variant
        spellings = [kept]
        if any(word.startswith("al") and len(word) > 4 for word in kept):  # "Alraqqa", but also "Alqosh"
            spellings.append([word[2:] if word.startswith("al") and len(word) > 4 else word for word in kept])
        for words in spellings:
            spaced = " ".join(filter(None, (_transliteration_word(word) for word in words)))
            keys += [spaced, spaced.replace(" ", "")]
    return tuple(dict.fromkeys(key for key in keys if key))


# Words that tell two halves of one village apart ("Baghuz Fawqani", upper; "Tahtani", lower): reports often name
# the village without them ("al-Baghuz").
VILLAGE_QUALIFIERS = {
    "fawqani", "fawqa", "tahtani", "tahta", "kabir", "kabirah", "saghir", "saghirah", "sharqi", "sharqiyah",
    "gharbi", "gharbiyah", "shamali", "shamaliyah", "janubi", "janubiyah",
}  # fmt: skip


# Words gazetteers and coders put before a village's own name: "Qaryat Sakranat" is the village Sakrana, "Nahiyat
# Khan Bani Sa'd" the seat of the sub-district of Khan Bani Sa'd.
PLACE_CLASS_WORDS = {"qaryat", "qaryah", "qarya", "qaria", "nahiyat", "nahiyah", "nahiya", "mazraat", "mazraah", "hayy"}


def query_transliteration_keys(text):
    """transliteration_keys of a query, and of it without a leading class word ("Qaryat Nimrud" is Nimrud)."""
    words = name_key(text).split()
    if len(words) > 1 and words[0] in PLACE_CLASS_WORDS:
        return tuple(dict.fromkeys([*transliteration_keys(text), *transliteration_keys(" ".join(words[1:]))]))
    return transliteration_keys(text)


def place_transliteration_keys(names):
    """A place's transliteration keys, plus each with its first short vowel dropped: coders write Muhaymidah
    as "Mhemideh" and Muhradah as "Mhardeh" (only the place side gets these, so a query never loses a vowel);
    and without a trailing qualifier ("Baghuz Fawqani" is also found as "Baghuz") or a leading class word
    ("Qaryat Saray" is also found as "Saray")."""
    keys = []
    for name in names:
        words = name_key(name).split()
        spellings = [name]
        if len(words) > 1 and words[-1] in VILLAGE_QUALIFIERS:
            spellings.append(" ".join(words[:-1]))
        if len(words) > 1 and words[0] in PLACE_CLASS_WORDS:
            spellings.append(" ".join(words[1:]))
        for key in (key for spelling in spellings for key in transliteration_keys(spelling)):
            keys.append(key)
            dropped = re.sub(r"^([^aeu\s])[aeu](?=[^aeu\s]{1}[aeu])", r"\1", key)
            if dropped != key and len(dropped) >= 5:
                keys.append(dropped)
    return list(dict.fromkeys(keys))


# A one-consonant key says nothing; two ("hj" for al-Hajjaj) are enough inside one area, where a second place with
# the key makes the answer ambiguous rather than a guess.
LOOSE_MIN_CONSONANTS = 2


@lru_cache(maxsize=200_000)
def loose_keys(text):
    """Consonant keys (skeleton_key) under which spellings by ear meet: vowels added, dropped or changed, articles
    fused or dropped ("Albu" / "al Bu" / "Bu"), doubled letters, a construct -at ("Sakranat" / "Sakrana"), a leading
    "Qaryat" / "Nahiyat". Far too loose for a whole country (Nayrab would meet Ayn al Arab): only ever compared
    within the one admin1 or admin2 a caller gives."""
    words = name_key(text).split()
    if not words or any(len(word) == 1 and not NON_LATIN_KEPT.search(word) for word in words):
        return ()
    spellings = [words]
    if len(words) > 1 and words[0] in PLACE_CLASS_WORDS:
        spellings.append(words[1:])
    for spelling in list(spellings):
        if spelling[-1].endswith("at") and len(spelling[-1]) > 4:
            spellings.append([*spelling[:-1], spelling[-1][:-1]])
        unglued = [word[2:] if word.startswith("al") and len(word) > 3 else word for word in spelling]
        if unglued != spelling:
            spellings.append(unglued)
    keys = []
    for spelling in spellings:
        skeleton = skeleton_key(" ".join(spelling))
        keys += [skeleton, skeleton.replace(" ", "")]
        # The same with the letters transliterations swap folded (g/k/q, kh/h, dh/d/z, th/t): "Gōgjalī", "Kukjali".
        for folded in transliteration_keys(" ".join(spelling)):
            keys.append(re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiou]", "", folded)))
    return tuple(dict.fromkeys(key for key in keys if len(key.replace(" ", "")) >= LOOSE_MIN_CONSONANTS))


def loose_head_keys(name):
    """loose_keys of a many-word name's first word (after a class word): the village coders call by its head alone
    ("Sakrana" for "Qaryat Sakran an Namudhajiyah", "Sakran the model village"). Compared only within one area,
    and only when no place there shares the whole name's loose key. A head of fewer than 3 consonants ("Tall",
    "Abu", "Ayn") says nothing and gives none."""
    words = name_key(name).split()
    if len(words) > 1 and words[0] in PLACE_CLASS_WORDS:
        words = words[1:]
    if len(words) < 2 or words[0] in ARTICLES:
        return ()
    return tuple(key for key in loose_keys(words[0]) if len(key) >= 3)


# Letters Kurdish (and Persian) spellings write for Arabic ones: p for b (Paynjuwayn, Baynjiwayn), ch for j
# (Halabcha, Halabja; transliteration_keys has already made ch the letter of sh).
WRITTEN_LETTER_CLASSES = str.maketrans({"p": "b", "$": "j"})


def _written_consonants(key):
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[aeiou ]", "", key).translate(WRITTEN_LETTER_CLASSES))


def _in_order(letters, word):
    remaining = iter(word)
    return all(letter in remaining for letter in letters)


def loose_agrees(query, names):
    """Whether a consonant look-alike (loose_keys) keeps every consonant the query writes, w and y included where
    they are pronounced, in order, in one of the names: a coder drops letters by ear ("Seneia" for "as Siniyah"),
    but a letter the coder wrote and the place's name lacks says it is another name ("Huwaysah" is not "Hasa")."""
    spellings = set()
    for key in query_transliteration_keys(query):
        consonants = _written_consonants(key)
        spellings.add(consonants)
        if consonants.endswith("t"):  # the construct -at: "Sakranat" is Sakrana
            spellings.add(consonants[:-1])
    names_consonants = [_written_consonants(key) for name in names for key in place_transliteration_keys([name])]
    return any(_in_order(spelling, name) for spelling in spellings for name in names_consonants)
