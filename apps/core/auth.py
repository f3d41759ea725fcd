from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest
from django.utils import translation
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


class BearerTokenAuthentication(TokenAuthentication):
    """``Authorization: Bearer <token>`` (SPEC §4). Tokens live in the salon's schema.

    A token's staff member is known only here (after the middleware chose a language), so their
    language is switched on here, unless the call asked for one with ``Accept-Language``."""

    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None and "HTTP_ACCEPT_LANGUAGE" not in request.META:
            language = getattr(result[0], "language", "")
            if language in dict(settings.LANGUAGES):
                translation.activate(language)
        return result
