"""/api/v1/staff/ with profiles (SPEC §4 ``name, services``) and /api/v1/staff-groups/."""

from __future__ import annotations

from django.test import Client
from django_tenants.utils import schema_context

from apps.catalog.tests.helpers import haircut, level
from apps.core import services as core_services
from apps.core.models import Location, User
from apps.scheduling import services
from apps.scheduling.models import StaffGroup, StaffProfile
from tests.fixtures import api_token, make_staff, owner_of


def api(info, username: str) -> Client:
    return Client(HTTP_HOST=info.host, HTTP_AUTHORIZATION=f"Bearer {api_token(info, username)}")


def test_owner_creates_and_edits_staff_with_profile(alpha):
    # given
    owner_api = api(alpha, alpha.owner_username)
    with schema_context(alpha.schema):
        cut, colour = haircut(), haircut(name="Colour", price=38800)
        senior = level("Senior stylist", 30)
        group = services.staff_group_create(name="Colour team")
        main = Location.objects.get()
    # when
    created = owner_api.post(
        "/api/v1/staff/",
        {
            "name": "Chen",
            "role": "technician",
            "phone": "13700001111",
            "password": "Chen-pass-1",
            "services": [cut.pk, colour.pk],
            "level": senior.pk,
            "group": group.pk,
            "home_location": main.pk,
        },
        content_type="application/json",
    )
    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["phone"], sorted(body["services"]), body["level"], body["group"]) == (
        "Chen",
        "+8613700001111",
        sorted([cut.pk, colour.pk]),
        senior.pk,
        group.pk,
    )
    assert (body["home_location"], body["bio"], body["photo"]) == (main.pk, "", None)
    patched = owner_api.patch(
        f"/api/v1/staff/{body['id']}/",
        {"services": [cut.pk], "level": None, "name": "Chen Jing"},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content
    assert (patched.json()["name"], patched.json()["services"], patched.json()["level"]) == (
        "Chen Jing",
        [cut.pk],
        None,
    )
    with schema_context(alpha.schema):
        profile = StaffProfile.objects.get(user_id=body["id"])
        assert (profile.level, list(profile.skills.all()), profile.group) == (None, [cut], group)


def test_staff_without_profile_lists_empty_skills(alpha):
    owner_api = api(alpha, alpha.owner_username)
    body = owner_api.get("/api/v1/staff/").json()
    assert body["count"] == 1
    me = body["results"][0]
    assert (me["services"], me["level"], me["group"], me["home_location"], me["bio"]) == ([], None, None, None, None)


def test_any_signed_in_staff_reads_the_list_without_contacts(alpha):
    # given
    tech = make_staff(alpha, role="technician", username="tech", phone="+8613700002222", email="t@alpha.test")
    with schema_context(alpha.schema):
        cut = haircut()
        services.staff_profile_update(user=tech, acting_user=None, skills=[cut])
    tech_api = api(alpha, "tech")
    # when
    listing = tech_api.get("/api/v1/staff/")
    detail = tech_api.get(f"/api/v1/staff/{tech.pk}/")
    # then
    assert listing.status_code == 200 and detail.status_code == 200
    for member in [*listing.json()["results"], detail.json()]:
        assert not {"email", "phone", "username"} & set(member)
    assert detail.json()["services"] == [cut.pk]
    assert api(alpha, alpha.owner_username).get(f"/api/v1/staff/{tech.pk}/").json()["email"] == "t@alpha.test"
    # and filtering by service gives who performs it
    assert [m["name"] for m in tech_api.get(f"/api/v1/staff/?service={cut.pk}").json()["results"]] == ["Tech"]


def test_technician_cannot_write_staff_or_groups(alpha):
    tech = make_staff(alpha, role="technician", username="tech")
    tech_api = api(alpha, "tech")
    responses = [
        tech_api.post(
            "/api/v1/staff/", {"name": "Z", "role": "owner", "phone": "13700003333"}, content_type="application/json"
        ),
        tech_api.patch(f"/api/v1/staff/{tech.pk}/", {"role": "owner", "bio": "boss"}, content_type="application/json"),
        tech_api.post("/api/v1/staff-groups/", {"name": "G"}, content_type="application/json"),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403]
    with schema_context(alpha.schema):
        assert User.objects.get(pk=tech.pk).role == "technician"
        assert not User.objects.filter(name="Z").exists()
        assert not StaffProfile.objects.exists() and not StaffGroup.objects.exists()


def test_bad_profile_input_is_a_field_error_and_nothing_is_written(alpha):
    owner_api = api(alpha, alpha.owner_username)
    with schema_context(alpha.schema):
        retired = level("Retired", 5)
        core_services.staff_level_deactivate(level=retired, acting_user=owner_of(alpha))
    response = owner_api.post(
        "/api/v1/staff/",
        {"name": "Zhou", "role": "technician", "phone": "13700004444", "level": retired.pk},
        content_type="application/json",
    )
    assert response.status_code == 400 and list(response.json()) == ["level"]
    unknown = owner_api.post(
        "/api/v1/staff/",
        {"name": "Zhou", "role": "technician", "phone": "13700004444", "services": [999999]},
        content_type="application/json",
    )
    assert unknown.status_code == 400 and list(unknown.json()) == ["services"]
    with schema_context(alpha.schema):
        assert not User.objects.filter(name="Zhou").exists()


def test_staff_groups_api(alpha):
    owner_api = api(alpha, alpha.owner_username)
    made = owner_api.post("/api/v1/staff-groups/", {"name": "Colour team"}, content_type="application/json")
    assert made.status_code == 201 and made.json() == {
        "id": made.json()["id"],
        "name": "Colour team",
        "member_count": 0,
    }
    assert (
        owner_api.post("/api/v1/staff-groups/", {"name": "colour TEAM"}, content_type="application/json").status_code
        == 400
    )
    renamed = owner_api.patch(
        f"/api/v1/staff-groups/{made.json()['id']}/", {"name": "Colour"}, content_type="application/json"
    )
    assert renamed.json()["name"] == "Colour"
    assert owner_api.delete(f"/api/v1/staff-groups/{made.json()['id']}/").status_code == 204
    assert owner_api.get("/api/v1/staff-groups/").json()["count"] == 0


def test_staff_list_query_count_does_not_grow(alpha, django_assert_max_num_queries):
    owner_api = api(alpha, alpha.owner_username)
    with schema_context(alpha.schema):
        cut = haircut()
        stylist = level("Stylist", 10)
        group = services.staff_group_create(name="Team")
    for i in range(12):
        member = make_staff(alpha, role="technician", username=f"t{i}")
        with schema_context(alpha.schema):
            services.staff_profile_update(user=member, acting_user=None, skills=[cut], level=stylist, group=group)
    # 7 statements (token, count, staff, locations, skills, two permission reads), each after
    # django-tenants' SET search_path: the same for 1 or 50 staff.
    with django_assert_max_num_queries(14):
        response = owner_api.get("/api/v1/staff/")
    assert response.json()["count"] == 13


def test_beta_cannot_see_alpha_staff(alpha, beta):
    make_staff(alpha, role="technician", username="alphatech")
    beta_names = [m["name"] for m in api(beta, beta.owner_username).get("/api/v1/staff/").json()["results"]]
    assert beta_names == ["Beta Salon owner"]
