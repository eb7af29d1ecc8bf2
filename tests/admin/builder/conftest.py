"""What the builder's tests share: a facilitator signed in."""

from __future__ import annotations

import pytest

from survey.models import Role
from tests.factories import make_user, sign_in

FAC = "fac@example.org"


@pytest.fixture
def staff(app):
    """A facilitator's signed-in client."""
    make_user(FAC, roles=(Role.FACILITATOR,))
    client = app.test_client()
    sign_in(client, FAC)
    return client
