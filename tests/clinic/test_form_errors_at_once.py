"""Every error of a settings form on the first submit (issue 14): the
service's rules run on what the form parsed, even when a field failed."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from clinic.models import Professional
from tests.clinic.test_professionals import _form_data, en_dash
from tests.conftest import login


@pytest.mark.django_db
def test_professional_page_shows_a_blank_name_and_overlapping_hours_together(alice, tenant_a) -> None:
    response = login(alice).post(
        "/settings/professionals/new/",
        _form_data("", [(1, "08:00", "12:00"), (1, "10:00", "11:00")], color="#12345z"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "name": ["This field is required."],
        "color": ["Use a colour like #0f766e."],
    }
    assert response.context["hours_errors"] == [en_dash("Tuesday: 08:00-12:00 overlaps 10:00-11:00.")]
    with scopes_disabled():
        assert not Professional.objects.filter(organization=tenant_a.organization, color="#12345z").exists()
