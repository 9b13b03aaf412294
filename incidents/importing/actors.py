"""The actors a file names, matched to the actors we have: by a Publisher's mapping, by name or alias (in any case,
with or without diacritics), then without ACLED's period ("Military Forces of Turkey (2016-)") or country
("Islamic State (Syria)") in brackets. Only what matches nothing becomes a new actor."""

import re
import unicodedata
from dataclasses import dataclass, field

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from ..models import Actor, ActorNameMapping, Dataset

# ACLED's period of a state's forces or police, "(2016-)" or "(2000-2024)", wherever it stands in the name:
# "Military Forces of Iraq (2014-) Popular Mobilization Forces".
PERIOD = re.compile(r"\s*\((\d{4})\s*[-–]\s*(\d{4})?\)")
# A bracketed qualifier at the end: ACLED's country ("Islamic State (Syria)", "Rioters (Iraq)").
QUALIFIER = re.compile(r"\s*\([^()]*\)\s*$")


def actor_name_key(name):
    """One key for one name however it is cased, accented or punctuated: "Hay'at Tahrir al-Sham", "hayat tahrir al
    sham" and "Ḥay’at Taḥrīr al-Shām" meet. Not places.names.name_key: these keys are stored (ActorNameMapping) and
    must not move when the geocoder's folding of place names does."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    return " ".join(re.findall(r"\w+", re.sub(r"['’ʿʾ`‘]", "", text)))


def actor_period(name):
    """(the name without its period, the period as "2014–" or "2000–2024", or "" when the name has none)."""
    found = PERIOD.search(name)
    if not found:
        return " ".join(name.split()), ""
    return " ".join(PERIOD.sub(" ", name).split()), f"{found[1]}–{found[2] or ''}"


def _candidate_keys(name):
    """The keys a file's name is looked up under, most specific first."""
    bare, _period = actor_period(name)
    keys = [actor_name_key(name), actor_name_key(bare), actor_name_key(QUALIFIER.sub("", bare))]
    return list(dict.fromkeys(key for key in keys if key))


def _known_actor_keys():
    """Actor id by the key of each name and alias (and each without its period); a name wins over an alias."""
    known = {}

    def add(actor_id, label):
        for key in (actor_name_key(label), actor_name_key(actor_period(label)[0])):
            if key:
                known.setdefault(key, actor_id)

    actors = list(Actor.objects.order_by("id").values_list("id", "name", "aliases"))
    for actor_id, name, _aliases in actors:
        add(actor_id, name)
    for actor_id, _name, aliases in actors:
        for alias in aliases:
            add(actor_id, alias)
    return known


@dataclass
class ActorMatches:
    # file name → actor id, for the names that match an actor we have
    matched: dict = field(default_factory=dict)
    # file name → (kind, name the new actor gets, period) for those that match none
    new: dict = field(default_factory=dict)


def actor_matches(actor_kinds, *, dataset):
    """Which of a file's actor names (name → kind from the file's codes) are actors we have, and which are new."""
    mapped = dict(ActorNameMapping.objects.filter(dataset=dataset).values_list("name_key", "actor_id"))
    known = _known_actor_keys()
    matches = ActorMatches()
    for name, kind in actor_kinds.items():
        key = actor_name_key(name)
        actor_id = mapped.get(key) or next(
            (known[candidate] for candidate in _candidate_keys(name) if candidate in known), None
        )
        if actor_id:
            matches.matched[name] = actor_id
        else:
            bare, period = actor_period(name)
            matches.new[name] = (kind, bare or name, period)
    return matches


def actors_for_names(actor_kinds, *, dataset, user, reason):
    """Actor id for each name of the file: the actor it matches, else a new actor under the name without its
    period (which goes into the description: it is when the force existed, not what it is called)."""
    matches = actor_matches(actor_kinds, dataset=dataset)
    resolved, new_actors = dict(matches.matched), {}
    label = Dataset(dataset).label
    for name, (kind, bare, period) in matches.new.items():
        description = f"{label} writes “{name}”: active {period}." if period else ""
        new_actors.setdefault(actor_name_key(bare), Actor(name=bare[:200], kind=kind, description=description))
    if new_actors:
        created = bulk_create_with_history(
            list(new_actors.values()), Actor, default_user=user, default_change_reason=reason
        )
        by_key = {actor_name_key(actor.name): actor.pk for actor in created}
        for name, (_kind, bare, _period) in matches.new.items():
            resolved[name] = by_key[actor_name_key(bare[:200])]
    return resolved


def new_actors_report(cursor, *, table, actor_kinds, dataset):
    """The actors an import would create, each with the number of rows that name it, most rows first."""
    new = actor_matches(actor_kinds, dataset=dataset).new
    if not new:
        return []
    cursor.execute(
        f"""SELECT name, count(DISTINCT s.line) FROM {table} s,
                   unnest(s.side_a || s.side_a_associated || s.side_b || s.side_b_associated) AS name
             WHERE name = ANY(%s) GROUP BY name""",
        [list(new)],
    )
    rows = dict(cursor.fetchall())
    return [
        {"name": name, "kind": kind, "creates": bare, "period": period, "rows": rows.get(name, 0)}
        for name, (kind, bare, period) in sorted(
            new.items(), key=lambda item: (-rows.get(item[0], 0), item[0].casefold())
        )
    ]


@transaction.atomic
def actor_name_mappings_save(*, dataset, choices, user):
    """Keep a Publisher's choices (file name → actor) for every later import of the dataset."""
    for name, actor in choices:
        ActorNameMapping.objects.update_or_create(
            dataset=dataset,
            name_key=actor_name_key(name),
            defaults={"name": name[:300], "actor": actor, "created_by": user},
        )
