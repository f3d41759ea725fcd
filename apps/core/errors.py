"""Error codes of the core app, each mapped once to an HTTP status and a translated message."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    """A business rule refused an action. Carries a code, an HTTP status and field errors.

    Views and the API turn it into a form error or a JSON body; nothing was written.
    """

    def __init__(
        self,
        code: Enum,
        message: str | Promise,
        *,
        status: int = 400,
        field: str | None = None,
        errors: dict[str, list[str]] | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(str(message))
        # Machine-readable details added to an API body without field errors (e.g. the booking a 409
        # collided with).
        self.extra = extra or {}
        self.code = code
        self.message = str(message)
        self.status = status
        self.field = field
        self.errors = errors if errors is not None else ({field: [str(message)]} if field else {})

    def as_dict(self) -> dict[str, object]:
        if self.errors:
            return {k: list(v) for k, v in self.errors.items()}
        return {"detail": self.message, "code": self.code.value, **self.extra}


class CoreError(Enum):
    INVALID = "invalid"
    DUPLICATE_USERNAME = "duplicate_username"
    DUPLICATE_EMAIL = "duplicate_email"
    DUPLICATE_PHONE = "duplicate_phone"
    ROLE_NOT_ASSIGNABLE = "role_not_assignable"
    LAST_OWNER = "last_owner"
    SELF_DEACTIVATION = "self_deactivation"
    DUPLICATE_LOCATION = "duplicate_location"
    LAST_LOCATION = "last_location"
    PERMISSION_DENIED = "permission_denied"
    DUPLICATE_STAFF_LEVEL = "duplicate_staff_level"
    DUPLICATE_STAFF_LEVEL_RANK = "duplicate_staff_level_rank"
    INVALID_STAFF_LEVEL_RANK = "invalid_staff_level_rank"


MESSAGES: dict[CoreError, Promise] = {
    CoreError.DUPLICATE_USERNAME: _("This username is already used by another staff member."),
    CoreError.DUPLICATE_EMAIL: _("This e-mail is already used by another staff member."),
    CoreError.DUPLICATE_PHONE: _("This phone number is already used by another staff member."),
    CoreError.ROLE_NOT_ASSIGNABLE: _("You cannot give this role."),
    CoreError.LAST_OWNER: _("The salon must keep at least one active owner."),
    CoreError.SELF_DEACTIVATION: _("You cannot deactivate your own account."),
    CoreError.DUPLICATE_LOCATION: _("A location with this name already exists."),
    CoreError.LAST_LOCATION: _("The salon must keep at least one active location."),
    CoreError.PERMISSION_DENIED: _("You do not have permission to do this."),
    CoreError.DUPLICATE_STAFF_LEVEL: _("A staff level with this name already exists."),
    CoreError.DUPLICATE_STAFF_LEVEL_RANK: _("Another staff level already has this rank."),
    CoreError.INVALID_STAFF_LEVEL_RANK: _("The rank must be a whole number from 0 to 1000."),
}

FIELDS: dict[CoreError, str] = {
    CoreError.DUPLICATE_USERNAME: "username",
    CoreError.DUPLICATE_EMAIL: "email",
    CoreError.DUPLICATE_PHONE: "phone",
    CoreError.ROLE_NOT_ASSIGNABLE: "role",
    CoreError.DUPLICATE_LOCATION: "name",
    CoreError.DUPLICATE_STAFF_LEVEL: "name",
    CoreError.DUPLICATE_STAFF_LEVEL_RANK: "rank",
    CoreError.INVALID_STAFF_LEVEL_RANK: "rank",
}

STATUS: dict[CoreError, int] = {CoreError.PERMISSION_DENIED: 403}


def core_error(code: CoreError) -> ServiceError:
    return ServiceError(code, MESSAGES[code], status=STATUS.get(code, 400), field=FIELDS.get(code))
