"""Numbers as reports write them: digits (Western or Arabic-Indic, with thousands separators) and words."""

import re

ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩٬", "0123456789,")

EN_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "a dozen": 12,
    "dozen": 12,
    "two dozen": 24,
    "a hundred": 100,
    "one hundred": 100,
    "a couple of": 2,
    "a pair of": 2,
}
AR_WORDS = {
    "واحد": 1,
    "اثنان": 2,
    "اثنين": 2,
    "اثنا": 2,
    "ثلاثة": 3,
    "ثلاث": 3,
    "أربعة": 4,
    "اربعة": 4,
    "أربع": 4,
    "خمسة": 5,
    "خمس": 5,
    "ستة": 6,
    "ست": 6,
    "سبعة": 7,
    "سبع": 7,
    "ثمانية": 8,
    "ثماني": 8,
    "تسعة": 9,
    "تسع": 9,
    "عشرة": 10,
    "عشر": 10,
    "أحد عشر": 11,
    "اثنا عشر": 12,
    "ثلاثة عشر": 13,
    "أربعة عشر": 14,
    "خمسة عشر": 15,
    "عشرون": 20,
    "عشرين": 20,
    "ثلاثون": 30,
    "ثلاثين": 30,
    "أربعون": 40,
    "أربعين": 40,
    "خمسون": 50,
    "خمسين": 50,
    "مئة": 100,
    "مائة": 100,
    "عشرات": None,
    "قتيلين": 2,
    "قتيلان": 2,
}
# Longest first, so that "a dozen" wins over "dozen" and "أحد عشر" over "عشر".
_WORDS = sorted([*EN_WORDS, *AR_WORDS], key=len, reverse=True)
EN_NUMBER = (
    r"(?:\d{1,3}(?:,\d{3})+|\d+|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[- ](?:one|two|three|four|"
    r"five|six|seven|eight|nine)|" + "|".join(re.escape(word) for word in _WORDS if word in EN_WORDS) + r")"
)
AR_UNITS = r"(?:واحد|اثنين|اثنان|ثلاثة|ثلاث|أربعة|اربعة|أربع|خمسة|خمس|ستة|ست|سبعة|سبع|ثمانية|ثماني|تسعة|تسع)"
AR_TENS = (
    r"(?:عشرين|عشرون|ثلاثين|ثلاثون|أربعين|أربعون|اربعين|خمسين|خمسون|ستين|ستون|سبعين|سبعون|ثمانين|ثمانون|تسعين|تسعون)"
)
AR_NUMBER = (
    rf"(?:{AR_UNITS} و{AR_TENS}|[0-9\u0660-\u0669]+(?:[,٬][0-9\u0660-\u0669]{{3}})*|"
    + "|".join(re.escape(word) for word in _WORDS if AR_WORDS.get(word))
    + ")"
)


def number_value(text):
    """The integer a number word or numeral stands for, or None."""
    text = (text or "").strip().lower().translate(ARABIC_DIGITS)
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d+", text):
        return int(text.replace(",", ""))
    compound = re.fullmatch(r"(twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)[- ](\w+)", text)
    if compound and compound.group(2) in EN_WORDS:
        return EN_WORDS[compound.group(1)] + EN_WORDS[compound.group(2)]
    arabic = re.fullmatch(r"(\S+) و(\S+)", text)  # "ثلاثة وعشرين": three and twenty
    if arabic and AR_WORDS.get(arabic.group(1)) and AR_TENS_VALUES.get(arabic.group(2)):
        return AR_WORDS[arabic.group(1)] + AR_TENS_VALUES[arabic.group(2)]
    return EN_WORDS.get(text) or AR_WORDS.get(text)


AR_TENS_VALUES = {
    word: value
    for value, words in {
        20: ("عشرين", "عشرون"),
        30: ("ثلاثين", "ثلاثون"),
        40: ("أربعين", "أربعون", "اربعين"),
        50: ("خمسين", "خمسون"),
        60: ("ستين", "ستون"),
        70: ("سبعين", "سبعون"),
        80: ("ثمانين", "ثمانون"),
        90: ("تسعين", "تسعون"),
    }.items()
    for word in words
}
