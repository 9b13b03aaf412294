import pytest
from django.contrib.auth.models import User

from tests.factories import UserFactory


@pytest.fixture
def editor(db):
    return UserFactory(username="ed", group="Editors")


@pytest.fixture
def publisher(db):
    return UserFactory(username="pub", group="Publishers")


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.org", "pw")
