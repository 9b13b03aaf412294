"""Public vocabularies list only what published incidents use: an actor named only by drafts is as unknown to the
documents and the validators as an id that does not exist."""

import pytest

from incidents.models import IncidentActor, Side
from tests.factories import ActorFactory, IncidentFactory

pytestmark = pytest.mark.django_db


def actor_enum(client, document="/api/openapi.json"):
    parameters = client.get(document).json()["paths"]["/api/incidents.geojson"]["get"]["parameters"]
    (actor,) = [parameter for parameter in parameters if parameter["name"] == "actor"]
    return actor["schema"]["items"]["enum"]


def test_an_actor_only_drafts_name_is_unknown_to_the_public(client, export_incidents):
    secret = ActorFactory(name="Unit not yet reported")
    IncidentActor.objects.create(incident=IncidentFactory(title="Draft naming the unit"), actor=secret, side=Side.A)
    named = IncidentActor.objects.filter(incident=export_incidents[0]).values_list("actor_id", flat=True)[0]

    assert named in actor_enum(client)
    assert secret.pk not in actor_enum(client)
    unknown = secret.pk + 1000
    for path in ("/api/incidents.geojson", "/map/list.json", "/ogcapi/collections/incidents/items"):
        assert client.get(path, {"actor": named}).status_code == 200
        leaked = client.get(path, {"actor": secret.pk})
        made_up = client.get(path, {"actor": unknown})
        assert leaked.status_code == made_up.status_code == 400
        assert leaked.content.replace(str(secret.pk).encode(), b"N") == made_up.content.replace(
            str(unknown).encode(), b"N"
        )
    # Once a published incident names it, it is public.
    IncidentActor.objects.create(incident=export_incidents[2], actor=secret, side=Side.B)
    assert secret.pk in actor_enum(client)
    assert client.get("/api/incidents.geojson", {"actor": secret.pk}).status_code == 200
