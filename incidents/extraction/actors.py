"""Actors (from the Actor table's names and aliases) and their sides, and the ACLED event type the verbs suggest.

Side A is who acted (the subject of "attacked", the agent after "by"), side B who was acted upon (the object,
or an actor after "on" / "against"). An alias ending in a head noun also matches the report's other head nouns for
the same thing: "government forces" matches "government soldiers", "Russian government" matches "Russian envoys".
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from ..models import Actor, SubEventType

# What a force is named by in reports, its weapons included: "Turkish drones struck", "Russian warplanes".
FORCE_NOUNS = (
    r"(?:forces|soldiers|troops|fighters|army|units|personnel|militiamen|positions|(?:drone|air) ?strikes?|drones?|"
    r"warplanes?|jets|aircraft|artillery|helicopters?|air force)"
)
GOVERNMENT_NOUNS = (
    r"(?:government|president|prime minister|deputy prime minister|foreign minister|defen[cs]e minister|minister|"
    r"envoys?|officials?|delegation|authorities|diplomats?)"
)

# (regex, sub-event type slug, strength): the strongest trigger in a candidate decides its type.
TRIGGERS = [
    (
        r"\bchemical (?:attack|weapons?)|\bchlorine|\bsarin|هجوم كيماوي|هجوم كيميائي",
        "explosions-remote-violence-chemical-weapon",
        5,
    ),
    (r"\bsuicide (?:bomb(?:er|ing)?|attack|car bomb)|انتحاري", "explosions-remote-violence-suicide-bomb", 5),
    (
        r"\b(?:air ?strikes?|air raids?|drone strikes?|warplanes?|(?:fighter )?jets? (?:struck|bombed|hit)|bombed from the air|"
        r"helicopter gunships?|barrel bombs?|(?:drones?|warplanes?|aircraft|jets?) (?:struck|hit|bombed|targeted)|(?:drone|aerial|air) attacks?|by an? (?:\w+ )?(?:drone|warplane|UAV))\b|غارة|قصف جوي|براميل متفجرة|الطيران المروحي|غارات|الطيران الحربي|طائرة مسيرة|طائرات مسيرة",
        "explosions-remote-violence-air-drone-strike",
        4,
    ),
    (
        r"\b(?:shell(?:ed|ing|s)?|artillery|mortars?|rockets?|missiles?)\b|قصف|قذائف|صواريخ|صاروخ",
        "explosions-remote-violence-shelling-artillery-missile-attack",
        4,
    ),
    (
        r"\b(?:IEDs?|roadside bombs?|landmines?|car bombs?|explosive devices?|bomb (?:exploded|went off)|explosions?|"
        r"blasts?|bombings?)\b|عبوة ناسفة|سيارة مفخخة|انفجار|لغم",
        "explosions-remote-violence-remote-explosive-landmine-ied",
        4,
    ),
    (r"\bgrenades?\b|قنبلة يدوية", "explosions-remote-violence-grenade", 4),
    (
        r"\b(?:abduct(?:ed|s|ion)|kidnap(?:ped|ping|s)?)\b|خطف|اختطاف",
        "violence-against-civilians-abduction-forced-disappearance",
        4,
    ),
    (r"\b(?:recaptured|regained|retook|recapture)\b|استعاد|استعادت", "battles-government-regains-territory", 4),
    (r"\b(?:captured|seized|took control of|overran)\b|سيطر|سيطرت", "battles-non-state-actor-overtakes-territory", 3),
    (
        r"\b(?:clash(?:es|ed)?|fighting(?! force)|battles?|ambush(?:ed)?|fought)\b|اشتباكات|اشتباك|معارك|كمين",
        "battles-armed-clash",
        3,
    ),
    (
        r"\b(?:attack(?:ed|s|ing)?|assaults?|offensive|raid(?:ed|s)?|stormed|targeted)\b|هجوم|هاجم|هاجمت|استهدف|استهدفت",
        "battles-armed-clash",
        2,
    ),
    (r"\b(?:executed|massacred?|shot dead)\b|أعدم|مجزرة", "violence-against-civilians-attack", 3),
    (r"\b(?:killed|killing|kills)\b|مقتل|قتل|استشهاد|استشهد|مصرع", "battles-armed-clash", 1),
    (
        r"\b(?:protest(?:ed|ers|s)?|demonstrat(?:ed|ion|ions|ors)|rall(?:y|ies|ied))\b|مظاهرة|مظاهرات|احتجاج|احتجاجات|تظاهر",
        "protests-peaceful-protest",
        3,
    ),
    (r"\b(?:riot(?:s|ers|ed)?)\b|أعمال شغب", "riots-violent-demonstration", 4),
    (
        r"\b(?:arrest(?:ed|s|ing)?|detain(?:ed|s|ing)?|rounded up|apprehended|took into custody)\b|اعتقال|اعتقل|اعتقلت|"
        r"القبض على|قبضت على|ألقت القبض|القت القبض|احتجاز|احتجز",
        "strategic-developments-arrests",
        3,
    ),
    (
        r"\b(?:loot(?:ed|ing)|plunder(?:ed|ing)|ransack(?:ed|ing)|(?:set fire to|torched|burned|burnt|demolished|"
        r"bulldozed) (?:\w+ )?(?:homes?|houses?|shops?|farms?|crops|fields|property|properties|vehicles))\b|"
        r"نهب|سرقة|سرقت|أحرق(?:ت|وا)? (?:منازل|المنازل|محاصيل)|هدم(?:ت)? (?:منازل|المنازل)|تجريف",
        "strategic-developments-looting-property-destruction",
        3,
    ),
    (
        r"\b(?:defused|dismantled (?:an? |the )?(?:IED|bomb|explosive)|intercepted|shot down|foiled)\b|تفكيك|فكك|"
        r"أسقط(?:ت)? (?:طائرة|مسيرة)|اعتراض|إحباط|احباط",
        "strategic-developments-disrupted-weapons-use",
        5,  # "defused a roadside bomb": the bomb word is what was disrupted, not what happened
    ),
    (
        r"\b(?:(?:set up|established|built|opened) (?:a |an |new |three |two |several )*(?:military )?(?:base|bases|"
        r"headquarters|outpost|positions?|checkpoints?|observation posts?|posts?|points?))\b|"
        r"(?:أنشأ|انشأ|أقام|اقام|أنشأت|أقامت)(?:ت)? (?:قاعدة|مقرا|مقراً|نقطة|نقاط|حاجزا|حاجزاً)",
        "strategic-developments-headquarters-or-base-established",
        3,
    ),
    (
        r"\b(?:handed over (?:control|the (?:town|city|village|area|positions?))|withdrew from|pulled out of|"
        r"entered (?:rebel-held|the town|the city|the village)|raised? (?:the|their) (?:national )?flag|"
        r"handover of|took over)\b|انسحب(?:ت)? من|تسلم(?:ت)?|سلم(?:ت)? (?:المنطقة|البلدة|المدينة|مواقع)|"
        r"رفع(?:ت)? العلم|دخلت",
        "strategic-developments-non-violent-transfer-of-territory",
        3,
    ),
    (
        r"\b(?:agreement|agreed|ceasefire|cease-fire|truce|deal|signed|reconciliation|settlement|"
        r"hand(?:ing|ed)? over (?:their |its )?(?:\w+ )*?weapons)\b|اتفاق|هدنة|وقف إطلاق النار|تسوية|مصالحة",
        "strategic-developments-agreement",
        3,
    ),
    (
        r"\b(?:reinforcements?|redeploy(?:ed|ment)|deployed|(?:military )?convoys?|troop movements?|"
        r"moved (?:troops|forces|units)|sent troops|patrols? (?:was|were)? ?turned back|build-?up)\b|تعزيزات|"
        r"أرسل(?:ت)? (?:قوات|رتلا|رتلاً)|رتل عسكري|أرتال|انتشار|دورية",
        "strategic-developments-other",
        2,
    ),
    (
        r"\b(?:met|meet(?:s|ing|ings)?|held talks|talks with|visited|received)\b|التقى|لقاء|اجتماع|استقبل|اجتمع",
        "strategic-developments-other",
        2,
    ),
]
TRIGGERS = [(re.compile(pattern, re.IGNORECASE), slug, strength) for pattern, slug, strength in TRIGGERS]
VIOLENT = re.compile(r"^(?:battles|explosions|violence)")
CIVILIANS = re.compile(
    r"\b(?:civilians?|children|women|residents|villagers|families|farmers|shepherds|worshippers|"
    r"passers-by)\b|مدنيين|مدنيون|أطفال|نساء|أهالي",
    re.IGNORECASE,
)
BY_BEFORE = re.compile(
    r"(?:\bby|\bperpetrated by|\bclaimed by|على يد|من قبل|شنته|شنها|نفذه|نفذها|تبناه|تبنته)\s+(?:the\s+)?(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)
# "13 عنصراً من قوات النظام": members of a force counted among the dead are the target.
MEMBERS_BEFORE = re.compile(r"(?:عنصر\S*|عناصر|مقاتل\S*|جندي\S*|جنود)\s+(?:من\s+|لـ?\s*)?$")
TARGET_BEFORE = re.compile(
    r"(?:\b(?:on|against|targeting|at|with)\s+(?:the\s+)?(?:(?:\w+\s+)?(?:positions|posts|checkpoints?|bases?) of\s+)?|"
    r"(?:ضد|على|مواقع|مواقع ل|استهدف|استهدفت)\s+(?:\S+\s+){0,2})$",
    re.IGNORECASE,
)
# "the SDF said": the actor is the source of the report, on no side of the event.
ATTRIBUTION_AFTER = re.compile(r"^\s+(?:said|says|reported|announced|told|stated)\b", re.IGNORECASE)
# What may stand between an actor and its verb: "Hay'at Tahrir al-Sham fighters attacked".
SUBJECT_GAP = re.compile(r"^\s*(?:(?:fighters|militants|members|forces|troops|units|cells|reportedly|also)\s+){0,2}$")


@dataclass
class ActorMention:
    start: int
    end: int
    text: str
    actor_id: int
    name: str
    kind: str
    side: str | None = None  # "A" / "B" / None (named, but no verb says which side)


@dataclass
class Trigger:
    start: int
    end: int
    text: str
    slug: str
    strength: int


def _alias_pattern(alias):
    words = re.escape(alias).replace(r"\ ", r"[\s-]+")
    head = alias.split()[-1].lower() if alias.split() else ""
    if head == "forces" and len(alias.split()) > 1:
        words = re.escape(" ".join(alias.split()[:-1])).replace(r"\ ", r"[\s-]+") + r"[\s-]+" + FORCE_NOUNS
    elif head == "army" and len(alias.split()) > 1:
        words += r"(?:\s+(?:soldiers|troops|units|positions))?"
    elif head == "government" and len(alias.split()) == 2:
        words = re.escape(alias.split()[0]) + r"\s+" + GOVERNMENT_NOUNS
    # Short upper-case aliases ("IS", "SDF") are acronyms only in capitals: "is" is a verb.
    flags = 0 if alias.isupper() and len(alias) <= 4 else re.IGNORECASE
    arabic = re.search(r"[\u0600-\u06ff]", alias)
    if arabic:
        return re.compile(rf"(?<![\u0600-\u06ff])(?:[وبل]|ل?ل)?{words}(?![\u0600-\u06ff])")
    return re.compile(rf"(?<![\w-]){words}(?![\w-])", flags)


@lru_cache(maxsize=1)
def _actor_patterns(stamp):
    patterns = []
    for actor in Actor.objects.all():
        for alias in [actor.name, *actor.aliases]:
            if alias.strip():
                patterns.append((_alias_pattern(alias.strip()), actor.pk, actor.name, actor.kind, alias))
    return patterns


def _actors_stamp():
    latest = Actor.history.order_by("-history_date").values_list("history_date", flat=True).first()
    return (Actor.objects.count(), latest)


def actor_patterns():
    return _actor_patterns(_actors_stamp())


def trigger_mentions(sentence_text):
    found = []
    for pattern, slug, strength in TRIGGERS:
        for match in pattern.finditer(sentence_text):
            if not any(t.start < match.end() and match.start() < t.end for t in found):
                found.append(Trigger(match.start(), match.end(), match.group(), slug, strength))
    return sorted(found, key=lambda trigger: trigger.start)


def actor_mentions(sentence_text, *, triggers, patterns=None):
    """ActorMentions, with sides read from their position around the main verb."""
    found = []
    for pattern, pk, name, kind, _alias in actor_patterns() if patterns is None else patterns:
        for match in pattern.finditer(sentence_text):
            # "in Damascus" is a place; "Damascus said" is the government. Only one-word aliases are also places.
            if " " not in match.group().strip() and re.search(
                r"\b(?:in|at|near|to|from)\s+$|(?:في|إلى|الى|من)\s+$", sentence_text[: match.start()][-8:]
            ):
                continue
            found.append(ActorMention(match.start(), match.end(), match.group(), pk, name, kind))
    # Longest reading wins where aliases overlap: "Syrian government soldiers" is the army, not the government.
    found.sort(key=lambda mention: -(mention.end - mention.start))
    kept = []
    for mention in found:
        if not any(k.start < mention.end and mention.start < k.end for k in kept):
            kept.append(mention)
    kept.sort(key=lambda mention: mention.start)
    verb = _main_verb(triggers)
    arabic = bool(re.search(r"[\u0600-\u06ff]", sentence_text))
    if verb is not None:
        # "Regime forces were attacked by Daesh": the subject of a passive verb is the target.
        passive = bool(re.search(r"\b(?:was|were|been|being|is|are)\s+(?:\w+ly\s+)?$", sentence_text[: verb.start]))
        # "clashes between the SDF and IS": the first named is side A.
        between = re.search(r"\bbetween\b|بين", sentence_text[verb.end :])
        first_after = next((m for m in kept if m.start >= verb.end), None)
        for position, mention in enumerate(kept):
            before = sentence_text[max(0, mention.start - 40) : mention.start]
            if ATTRIBUTION_AFTER.match(sentence_text[mention.end :]):
                mention.side = None
                continue
            own_verb = any(
                trigger.start > mention.end and SUBJECT_GAP.match(sentence_text[mention.end : trigger.start])
                for trigger in triggers
            )
            if BY_BEFORE.search(before):
                mention.side = "A"
            elif MEMBERS_BEFORE.search(before):
                mention.side = "B"
            elif between and mention is first_after and mention.start > verb.end + between.start():
                mention.side = "A"
            elif TARGET_BEFORE.search(before):
                mention.side = "B"
            elif arabic:
                # Arabic puts the verb first: its subject is the first actor named after it.
                mention.side = "A" if position == 0 or mention.start < verb.start else "B"
            elif own_verb and not passive:
                mention.side = "A"  # the subject of its own clause: "… when HTS fighters attacked"
            else:
                mention.side = "A" if (mention.start < verb.start) != passive else "B"
            if kind_is_victim(mention.kind):
                mention.side = "B"
    return kept


def kind_is_victim(kind):
    return kind in ("civilians",)


def _main_verb(triggers):
    # The first event word: in "IS killed 35 soldiers in attacks", "killed" divides the sides, not "attacks".
    return min(triggers, key=lambda trigger: trigger.start) if triggers else None


@lru_cache(maxsize=1)
def _sub_types(stamp):
    return {
        sub.slug: (sub.pk, sub.name, sub.event_type_id, sub.event_type.name)
        for sub in SubEventType.objects.select_related("event_type")
    }


def sub_event_types():
    """{slug: (sub-type id, sub-type name, type id, type name)}, from the taxonomy tables."""
    return _sub_types(SubEventType.objects.count())


def sub_event_type(slug):
    return sub_event_types().get(slug)


def civilians_targeted(sentence_text):
    return bool(CIVILIANS.search(sentence_text))


# Who the dead or hurt are when they are named as non-combatants: "killing seven civilians", "a teacher and four
# students", "the dead included an elderly woman", "مقتل طفلة".
VICTIMS = re.compile(
    r"\b(?:civilians?|children|child|kids|boys?|girls?|women|woman|journalists?|reporters?|aid workers?|"
    r"humanitarian workers?|doctors?|nurses?|medics?|paramedics?|teachers?|students|pupils|villagers|residents|"
    r"farmers?|shepherds?|worshippers|passers-by|families|family members|mukhtar|chieftains?|olive pickers)\b|"
    r"(?<![\u0600-\u06ff])(?:مدني(?:ين|ون|ا|اً)?|المدنيين|أطفال|الأطفال|طفل(?:ة|ا|اً|ين|تين)?|نساء|امرأة|سيدة|صحفي(?:ين|ون|ا|اً)?|"
    r"مسعف(?:ين|ون)?|أطباء|طبيب|عمال إغاثة|أهالي|مواطن(?:ين|ون|ا|اً)?|رعاة|مزارع(?:ين|ون)?)(?![\u0600-\u06ff])",
    re.IGNORECASE,
)
HARMED = re.compile(
    r"\b(?:kill\w*|dead|died|death|slain|wounded|injured|hurt|massacre|attack\w*|target\w*|shot|hit|struck)\b|"
    r"مقتل|قتل|مصرع|حتف|استشهاد|استشهد|جرح|إصابة|اصابة|أصيب|مجزرة|استهدف",
    re.IGNORECASE,
)


def victim_mentions(sentence_text):
    """ActorMention-like spans of civilian victims in a sentence that tells of deaths, wounds or an attack."""
    if not HARMED.search(sentence_text):
        return []
    return [
        ActorMention(match.start(), match.end(), match.group(), 0, "", "civilians", "B")
        for match in VICTIMS.finditer(sentence_text)
        if not ATTRIBUTION_AFTER.match(sentence_text[match.end() :])  # "residents said": a source, not a victim
    ]


@lru_cache(maxsize=1)
def _civilians_actors(stamp):
    return {
        actor.country.code if hasattr(actor.country, "code") else str(actor.country or ""): (actor.pk, actor.name)
        for actor in Actor.objects.filter(kind="civilians")
    }


def civilians_actors():
    """{country code: (id, name)} of the Civilians actors."""
    return _civilians_actors(_actors_stamp())


def civilians_actor(country, found=None):
    """(id, name) of the Civilians actor of a country ("Civilians (Syria)"), or None where the table has none."""
    found = civilians_actors() if found is None else found
    if country and str(country) in found:
        return found[str(country)]
    return next(iter(found.values())) if len(found) == 1 else None
