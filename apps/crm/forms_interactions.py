"""Forms of the timeline, complaint and follow-up pages: they parse input; the rules are in
``apps.crm.services.interactions``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.models import User
from apps.crm.models import Channel, ComplaintStatus, InteractionKind
from apps.crm.selectors_interactions import assignable_staff

RATING_CHOICES = [("", _("No rating")), *[(str(n), str(n)) for n in range(1, 6)]]


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name or obj.username)


class InteractionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=InteractionKind.choices, initial=InteractionKind.COMMUNICATION)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.IN_PERSON)
    summary = forms.CharField(label=_("Summary"), max_length=200)
    body = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    rating = forms.TypedChoiceField(
        label=_("Rating (1–5)"),
        choices=RATING_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("For feedback and complaints."),
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )


class TimelineFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All kinds")), *InteractionKind.choices], required=False)


class ComplaintTransitionForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ComplaintStatus.choices)
    owner = StaffChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    resolution = forms.CharField(label=_("Resolution"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_staff()  # type: ignore[attr-defined]


class ComplaintAssignForm(forms.Form):
    owner = StaffChoiceField(label=_("New owner"), queryset=User.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = assignable_staff()  # type: ignore[attr-defined]


class ComplaintFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Open and being handled")), *ComplaintStatus.choices], required=False
    )
    owner = StaffChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("Anyone"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.order_by("-is_active", "name", "pk")  # type: ignore[attr-defined]


class FollowUpForm(forms.Form):
    assigned_to = StaffChoiceField(label=_("Assigned to"), queryset=User.objects.none())
    due_date = forms.DateField(label=_("Due date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    purpose = forms.CharField(label=_("Purpose"), max_length=200)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)

    def __init__(self, *args: Any, staff: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = staff if staff is not None else assignable_staff()  # type: ignore[attr-defined]


class FollowUpCompleteForm(forms.Form):
    outcome = forms.CharField(label=_("Outcome"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    record_interaction = forms.BooleanField(
        label=_("Also add it to the client's timeline"), required=False, initial=True
    )


class FollowUpCancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), required=False, max_length=500)


class TasksFilterForm(forms.Form):
    staff = forms.ChoiceField(label=_("Whose tasks"), required=False)

    def __init__(self, *args: Any, me: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [  # type: ignore[attr-defined]
            ("", _("Mine")),
            ("all", _("Everyone")),
            *[(str(member.pk), member.name or member.username) for member in assignable_staff() if member.pk != me.pk],
        ]
