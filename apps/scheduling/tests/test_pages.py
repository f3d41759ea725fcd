"""Staff profile page (linked from the staff list and edit pages) and staff groups page."""

from __future__ import annotations

from django_tenants.utils import schema_context

from apps.catalog.tests.helpers import haircut, level, not_an_image, png
from apps.core.models import Location
from apps.scheduling import services
from apps.scheduling.models import StaffGroup, StaffProfile
from tests.fixtures import logged_in_client, make_staff


def english_owner(info):
    client = logged_in_client(info, info.owner_username)
    client.post("/account/language/", {"language": "en"})
    return client


def test_staff_pages_link_to_the_profile(alpha):
    tech = make_staff(alpha, role="technician", username="tech")
    owner = english_owner(alpha)
    assert f'href="/settings/staff/{tech.pk}/profile/"' in owner.get("/settings/staff/").content.decode()
    assert f'href="/settings/staff/{tech.pk}/profile/"' in owner.get(f"/settings/staff/{tech.pk}/").content.decode()


def test_profile_page_saves_photo_level_group_skills_and_home(alpha, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path
    tech = make_staff(alpha, role="technician", username="tech")
    with schema_context(alpha.schema):
        cut, colour = haircut(), haircut(name="Colour", price=38800)
        senior = level("Senior stylist", 30)
        group = services.staff_group_create(name="Colour team")
        main = Location.objects.get()
    owner = english_owner(alpha)
    page = owner.get(f"/settings/staff/{tech.pk}/profile/").content.decode()
    for label in ("Photo", "Level", "Group", "Home location", "Services performed", "Introduction"):
        assert f">{label}<" in page
    # when
    response = owner.post(
        f"/settings/staff/{tech.pk}/profile/",
        {
            "photo": png("tech.png"),
            "level": senior.pk,
            "group": group.pk,
            "home_location": main.pk,
            "skills": [cut.pk, colour.pk],
            "bio": "Colour specialist",
        },
    )
    # then
    assert response.status_code == 302 and response["Location"] == "/settings/staff/"
    with schema_context(alpha.schema):
        profile = StaffProfile.objects.get(user=tech)
        assert (profile.level, profile.group, profile.home_location, profile.bio) == (
            senior,
            group,
            main,
            "Colour specialist",
        )
        assert sorted(profile.skills.values_list("pk", flat=True)) == sorted([cut.pk, colour.pk])
        assert (tmp_path / profile.photo.name).exists()
    again = owner.get(f"/settings/staff/{tech.pk}/profile/").content.decode()
    assert "Remove the photo" in again and 'class="profile-photo"' in again


def test_profile_page_shows_errors_and_saves_nothing(alpha, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    tech = make_staff(alpha, role="technician", username="tech")
    owner = english_owner(alpha)
    response = owner.post(f"/settings/staff/{tech.pk}/profile/", {"photo": not_an_image(), "bio": "x"})
    assert response.status_code == 200
    assert "This file is not an image." in response.content.decode()
    bad_choice = owner.post(f"/settings/staff/{tech.pk}/profile/", {"level": 999999})
    assert bad_choice.status_code == 200 and 'class="error"' in bad_choice.content.decode()
    with schema_context(alpha.schema):
        assert not StaffProfile.objects.exists()


def test_technician_cannot_edit_profiles_or_groups(alpha):
    tech = make_staff(alpha, role="technician", username="tech")
    client = logged_in_client(alpha, "tech")
    assert client.get(f"/settings/staff/{tech.pk}/profile/").status_code == 403
    assert client.post(f"/settings/staff/{tech.pk}/profile/", {"bio": "boss"}).status_code == 403
    assert client.post("/settings/catalog/staff-groups/", {"name": "G"}).status_code == 403
    with schema_context(alpha.schema):
        assert not StaffProfile.objects.exists() and not StaffGroup.objects.exists()


def test_groups_page_renames_and_removes(alpha, beta):
    owner = english_owner(alpha)
    assert owner.post("/settings/catalog/staff-groups/", {"name": "Colour team"}).status_code == 302
    with schema_context(alpha.schema):
        group = StaffGroup.objects.get()
    assert owner.post(f"/settings/catalog/staff-groups/{group.pk}/", {"name": "Colour"}).status_code == 302
    with schema_context(alpha.schema):
        assert StaffGroup.objects.get().name == "Colour"
    assert owner.post(f"/settings/catalog/staff-groups/{group.pk}/delete/").status_code == 302
    with schema_context(alpha.schema):
        assert not StaffGroup.objects.exists()
    # beta's owner on beta's domain sees only beta's (none)
    assert "Colour" not in english_owner(beta).get("/settings/catalog/staff-groups/").content.decode()
