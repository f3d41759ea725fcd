from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication

from apps.core.models import User
from apps.core.validators import normalize_phone


class StaffBackend(ModelBackend):
    """Sign in with username, e-mail or phone, in the schema of the salon being visited.

    Users live in each salon's own schema, so staff of one salon simply do not
    exist on another salon's domain.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if not username or password is None:
            return None
        identifier = username.strip()
        query = Q(username__iexact=identifier) | Q(email__iexact=identifier)
        with contextlib.suppress(ValidationError):  # not a phone number: match username or e-mail only
            query |= Q(phone=normalize_phone(identifier))
        candidates = list(User.objects.filter(query)[:2])
        if len(candidates) != 1:
            User().set_password(password)  # same work whether or not the user exists (timing)
            return None
        user = candidates[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        """The user's own and their roles' permissions in one query (Django's backend takes two), cached
        on the user object for the request as Django does."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                permissions = permissions.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.values_list("content_type__app_label", "codename").distinct()
            }
        return user_obj._perm_cache  # type: ignore[no-any-return]


class BearerTokenAuthentication(TokenAuthentication):
    """``Authorization: Bearer <token>`` (SPEC §4). Tokens live in the salon's schema.

    A token's staff member is known only here (after the middleware chose a language), so their
    language is switched on here, unless the call asked for one with ``Accept-Language``."""

    keyword = "Bearer"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        """DRF's check, with the staff member's permissions read in the same statement (an array
        subquery) and left where ``StaffBackend.get_all_permissions`` looks for them: every API call
        checks a permission, and this spares each one a query."""
        from django.contrib.postgres.expressions import ArraySubquery
        from django.db.models import OuterRef, Value
        from django.db.models.functions import Concat
        from rest_framework import exceptions
        from rest_framework.authtoken.models import Token

        names = (
            Permission.objects.filter(Q(user=OuterRef("user_id")) | Q(group__user=OuterRef("user_id")))
            .annotate(full_name=Concat("content_type__app_label", Value("."), "codename"))
            .values("full_name")
        )
        token = Token.objects.select_related("user").annotate(permission_names=ArraySubquery(names)).filter(key=key)
        found = token.first()
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not found.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if not found.user.is_superuser:
            found.user._perm_cache = set(found.permission_names)
        return (found.user, found)

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None and "HTTP_ACCEPT_LANGUAGE" not in request.META:
            language = getattr(result[0], "language", "")
            if language in dict(settings.LANGUAGES):
                translation.activate(language)
        return result
