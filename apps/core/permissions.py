from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.core.models import User
from apps.core.roles import perm


def acting_user(request: HttpRequest | Any) -> User:
    """The signed-in staff member of a view that requires sign-in (typed for services)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def staff_permission_required(codename: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Page decorator: signed in, and the role grants ``codename`` (403 page otherwise)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(perm(codename)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class HasRolePermission(BasePermission):
    """API permission: writes need the view's ``required_permission``; reads need
    ``read_permission`` when the view names one, else only a signed-in user."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            codename = getattr(view, "read_permission", None)
        else:
            codename = getattr(view, "required_permission", None)
        return codename is None or bool(request.user.has_perm(perm(codename)))
