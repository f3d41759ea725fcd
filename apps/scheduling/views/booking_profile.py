"""The client's booking record on the 360° page: block or allow bookings, always take a deposit
(``manage_clients``). Thin: parse the form, call one service, go back to the client."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.core.errors import ServiceError
from apps.core.permissions import acting_user, staff_permission_required
from apps.crm.models import Client
from apps.scheduling.services import booking


class BookingProfileForm(forms.Form):
    is_blocked = forms.BooleanField(label=gettext_lazy("Do not accept bookings"), required=False)
    blocked_reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)
    requires_deposit = forms.BooleanField(label=gettext_lazy("Always take a deposit"), required=False)


@require_POST
@staff_permission_required("manage_clients")
def client_booking_profile(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(Client, pk=pk, is_active=True)
    form = BookingProfileForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter a reason of at most 200 characters."))
        return redirect("crm:client_detail", pk=client.pk)
    try:
        booking.client_booking_profile_update(client=client, acting_user=acting_user(request), **form.cleaned_data)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The booking record was saved."))
    return redirect("crm:client_detail", pk=client.pk)
