"""Forms of the scheduling pages: input shape only; rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Service
from apps.core.models import Location, StaffLevel
from apps.scheduling.models import StaffGroup, StaffProfile


class StaffGroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)


class StaffProfileForm(forms.Form):
    photo = forms.FileField(label=_("Photo"), required=False, widget=forms.FileInput(attrs={"accept": "image/*"}))
    remove_photo = forms.BooleanField(label=_("Remove the photo"), required=False)
    level = forms.ModelChoiceField(
        label=_("Level"), queryset=StaffLevel.objects.none(), required=False, empty_label=_("(none)")
    )
    group = forms.ModelChoiceField(
        label=_("Group"), queryset=StaffGroup.objects.none(), required=False, empty_label=_("(none)")
    )
    home_location = forms.ModelChoiceField(
        label=_("Home location"), queryset=Location.objects.none(), required=False, empty_label=_("(none)")
    )
    skills = forms.ModelMultipleChoiceField(
        label=_("Services performed"),
        queryset=Service.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    bio = forms.CharField(
        label=_("Introduction"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to clients when they choose a technician."),
    )

    def __init__(self, *args: Any, profile: StaffProfile | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Active choices, plus whatever the profile already holds (a level since retired stays visible).
        current_skills = list(profile.skills.values_list("pk", flat=True)) if profile else []
        self.fields["level"].queryset = StaffLevel.objects.filter(  # type: ignore[attr-defined]
            Q(is_active=True) | Q(pk=getattr(profile, "level_id", None))
        ).order_by("rank", "pk")
        self.fields["group"].queryset = StaffGroup.objects.order_by("name", "pk")  # type: ignore[attr-defined]
        self.fields["home_location"].queryset = Location.objects.filter(  # type: ignore[attr-defined]
            Q(is_active=True) | Q(pk=getattr(profile, "home_location_id", None))
        ).order_by("pk")
        self.fields["skills"].queryset = (  # type: ignore[attr-defined]
            Service.objects.filter(Q(is_active=True) | Q(pk__in=current_skills))
            .select_related("category")
            .order_by("category__sort_order", "sort_order", "name", "pk")
        )
        if profile is None or not profile.photo:
            del self.fields["remove_photo"]
