"""SCH-1 staff profiles and staff groups: the services' rules."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.catalog import services as catalog_services
from apps.catalog.tests.helpers import haircut, level, not_an_image, png
from apps.core import services as core_services
from apps.core.errors import CoreError, ServiceError
from apps.core.models import AuditEntry, Location, User
from apps.scheduling import selectors, services
from apps.scheduling.errors import SchedulingError
from apps.scheduling.models import StaffGroup, StaffProfile
from tests.fixtures import make_staff, owner_of


def refused(call, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        call(**kwargs)
    return caught.value


@pytest.fixture
def team(in_alpha):
    owner = owner_of(in_alpha)
    tech = core_services.staff_create(name="Wang", role="technician", username="wang", acting_user=owner)
    return {"owner": owner, "tech": tech, "main": Location.objects.get()}


def test_first_update_creates_the_profile(team, settings, tmp_path):
    # given
    settings.MEDIA_ROOT = tmp_path
    owner, tech, main = team["owner"], team["tech"], team["main"]
    senior = level("Senior stylist", 30)
    colour = services.staff_group_create(name="Colour team", acting_user=owner)
    cut, perm = haircut(), haircut(name="Perm", price=38800)
    # when
    profile = services.staff_profile_update(
        user=tech,
        acting_user=owner,
        level=senior,
        group=colour,
        skills=[cut, perm],
        home_location=main,
        bio="  Ten years of colour work  ",
        photo=png("wang.png"),
    )
    # then
    stored = StaffProfile.objects.get(user=tech)
    assert stored.pk == profile.pk
    assert (stored.level, stored.group, stored.home_location, stored.bio) == (
        senior,
        colour,
        main,
        "Ten years of colour work",
    )
    assert sorted(stored.skills.values_list("name", flat=True)) == ["Perm", "Women's cut"]
    assert stored.photo.name.startswith(f"{connection.schema_name}/staff/photos/")
    assert (tmp_path / stored.photo.name).exists()
    entry = AuditEntry.objects.get(action="scheduling.staff_profile.created")
    assert entry.data == {"user": tech.pk, "changed": ["bio", "group", "home_location", "level", "photo", "skills"]}


def test_later_updates_change_only_what_is_given(team):
    owner, tech = team["owner"], team["tech"]
    cut = haircut()
    services.staff_profile_update(user=tech, acting_user=owner, skills=[cut], bio="Hi")
    stylist = level("Stylist", 10)
    services.staff_profile_update(user=tech, acting_user=owner, level=stylist)
    profile = StaffProfile.objects.get(user=tech)
    assert (profile.level, profile.bio, list(profile.skills.all())) == (stylist, "Hi", [cut])
    services.staff_profile_update(user=tech, acting_user=owner, level=None, skills=[])
    profile.refresh_from_db()
    assert (profile.level, list(profile.skills.all())) == (None, [])
    assert StaffProfile.objects.count() == 1
    assert AuditEntry.objects.filter(action="scheduling.staff_profile.updated").count() == 2


@pytest.mark.parametrize("problem", ["inactive_level", "inactive_service", "closed_location", "foreign_location"])
def test_new_choices_must_be_current_and_nothing_changes(team, problem):
    # given
    owner, tech, main = team["owner"], team["tech"], team["main"]
    old_level = level("Stylist", 10)
    services.staff_profile_update(user=tech, acting_user=owner, level=old_level, home_location=main)
    arguments: dict = {"bio": "changed"}
    if problem == "inactive_level":
        retired = level("Retired level", 99)
        core_services.staff_level_deactivate(level=retired, acting_user=owner)
        arguments["level"], expected = retired, (SchedulingError.INACTIVE_LEVEL, "level")
    elif problem == "inactive_service":
        dropped = haircut(name="Dropped")
        catalog_services.service_deactivate(service=dropped, acting_user=owner)
        arguments["skills"], expected = [dropped], (SchedulingError.INACTIVE_SERVICE, "services")
    elif problem == "closed_location":
        shop = core_services.location_create(name="Nanshan", acting_user=owner)
        core_services.location_update(location=shop, is_active=False, acting_user=owner)
        arguments["home_location"], expected = shop, (SchedulingError.INACTIVE_LOCATION, "home_location")
    else:
        shop = core_services.location_create(name="Futian", acting_user=owner)
        core_services.staff_update(user=tech, locations=[main], acting_user=owner)
        arguments["home_location"], expected = shop, (SchedulingError.HOME_OUTSIDE_LOCATIONS, "home_location")
    # when
    error = refused(services.staff_profile_update, user=tech, acting_user=owner, **arguments)
    # then
    assert (error.code, error.field) == expected
    assert error.errors == {expected[1]: [str(error.message)]}
    profile = StaffProfile.objects.get(user=tech)
    assert (profile.level, profile.home_location, profile.bio, profile.skills.count()) == (old_level, main, "", 0)


def test_a_deactivated_level_already_held_may_stay(team):
    owner, tech = team["owner"], team["tech"]
    stylist = level("Stylist", 10)
    services.staff_profile_update(user=tech, acting_user=owner, level=stylist)
    core_services.staff_level_deactivate(level=stylist, acting_user=owner)
    services.staff_profile_update(user=tech, acting_user=owner, level=stylist, bio="still here")
    assert StaffProfile.objects.get(user=tech).bio == "still here"


def test_photo_must_be_a_small_image(team, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.UPLOAD_IMAGE_MAX_BYTES = 1000
    owner, tech = team["owner"], team["tech"]
    for upload in (not_an_image("cv.png"), png(size=(600, 600))):
        error = refused(services.staff_profile_update, user=tech, acting_user=owner, photo=upload, bio="x")
        assert (error.code, error.field) == (SchedulingError.INVALID_PHOTO, "photo")
    assert not StaffProfile.objects.exists()
    assert not list(tmp_path.rglob("*"))


def test_photo_replaced_then_removed(team, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    owner, tech = team["owner"], team["tech"]
    services.staff_profile_update(user=tech, acting_user=owner, photo=png("a.png"))
    first = StaffProfile.objects.get(user=tech).photo.name
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_profile_update(user=tech, acting_user=owner, photo=png("b.png"))
    second = StaffProfile.objects.get(user=tech).photo.name
    assert not (tmp_path / first).exists() and (tmp_path / second).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_profile_update(user=tech, acting_user=owner, remove_photo=True)
    assert StaffProfile.objects.get(user=tech).photo.name == ""
    assert not (tmp_path / second).exists()


def test_staff_group_rules(team):
    owner, tech = team["owner"], team["tech"]
    colour = services.staff_group_create(name="Colour team", acting_user=owner)
    assert refused(services.staff_group_create, name="COLOUR TEAM").code == SchedulingError.DUPLICATE_GROUP
    assert refused(services.staff_group_create, name=" ").errors == {"name": ["Enter a name."]}
    assert refused(services.staff_group_create, name="x" * 51).field == "name"
    services.staff_group_create(name="Beauty team", acting_user=owner)
    assert refused(services.staff_group_update, group=colour, name="beauty TEAM", acting_user=owner).field == "name"
    services.staff_group_update(group=colour, name="Colour & perm", acting_user=owner)
    services.staff_profile_update(user=tech, acting_user=owner, group=colour)
    assert [(g.name, g.member_count) for g in selectors.staff_group_list()] == [
        ("Beauty team", 0),
        ("Colour & perm", 1),
    ]
    # when the group is deleted
    services.staff_group_delete(group=colour, acting_user=owner)
    # then its members stay, without a group
    assert StaffProfile.objects.get(user=tech).group is None
    assert list(StaffGroup.objects.values_list("name", flat=True)) == ["Beauty team"]
    assert AuditEntry.objects.get(action="scheduling.staff_group.deleted").data == {
        "name": "Colour & perm",
        "members": [tech.pk],
    }


def test_staff_member_create_with_profile_is_all_or_nothing(team):
    owner = team["owner"]
    retired = level("Retired", 5)
    core_services.staff_level_deactivate(level=retired, acting_user=owner)
    error = refused(
        services.staff_member_create,
        name="Zhao",
        role="technician",
        phone="13700009999",
        level=retired,
        acting_user=owner,
    )
    assert error.code == SchedulingError.INACTIVE_LEVEL
    assert not User.objects.filter(name="Zhao").exists()
    error = refused(services.staff_member_create, name="Zhao", role="wizard", acting_user=owner, bio="x")
    assert error.field == "role"
    user = services.staff_member_create(
        name="Zhao", role="technician", phone="13700009999", skills=[haircut()], acting_user=owner
    )
    assert list(user.staff_profile.skills.values_list("name", flat=True)) == ["Women's cut"]


def test_staff_member_update_is_all_or_nothing(team):
    owner, tech = team["owner"], team["tech"]
    dropped = haircut(name="Dropped")
    catalog_services.service_deactivate(service=dropped, acting_user=owner)
    error = refused(services.staff_member_update, user=tech, name="Renamed", skills=[dropped], acting_user=owner)
    assert error.code == SchedulingError.INACTIVE_SERVICE
    assert User.objects.get(pk=tech.pk).name == "Wang"
    error = refused(services.staff_member_update, user=tech, phone="123", bio="x", acting_user=owner)
    assert list(error.errors) == ["phone"]
    assert not StaffProfile.objects.filter(user=tech).exists()
    assert refused(services.staff_member_update, user=owner, role="manager", acting_user=owner).code == (
        CoreError.LAST_OWNER
    )


def test_profiles_stay_in_their_salon(alpha, beta):
    with schema_context(beta.schema):
        services.staff_group_create(name="Colour team")
    make_staff(alpha, role="technician", username="li")
    with schema_context(alpha.schema):
        assert list(selectors.staff_group_list()) == []
        li = User.objects.get(username="li")
        services.staff_profile_update(user=li, acting_user=None, group=services.staff_group_create(name="Colour team"))
        assert selectors.staff_profile_of(li).group.name == "Colour team"
    with schema_context(beta.schema):
        assert StaffProfile.objects.count() == 0
