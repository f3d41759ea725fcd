"""Error codes of the payment gateways, each mapped once to an HTTP status, a translated message and a field.

A refusal of bad input writes nothing. A gateway that does not answer (network error, timeout, an answer
whose signature does not verify) is ``GATEWAY_UNAVAILABLE``: the outcome is unknown, so a payment that
may have moved money is kept pending and asked about again, never reported as failed."""

from __future__ import annotations

from enum import Enum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ServiceError


class PaymentsError(Enum):
    INVALID_PROVIDER = "invalid_provider"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_OUT_TRADE_NO = "invalid_out_trade_no"
    INVALID_OUT_REFUND_NO = "invalid_out_refund_no"
    INVALID_AUTH_CODE = "invalid_auth_code"
    INVALID_NOTIFY_URL = "invalid_notify_url"
    TEXT_TOO_LONG = "text_too_long"
    DESCRIPTION_REQUIRED = "description_required"
    ACCOUNT_NOT_READY = "account_not_ready"
    OUT_TRADE_NO_REUSED = "out_trade_no_reused"
    OUT_REFUND_NO_REUSED = "out_refund_no_reused"
    NOT_PENDING = "not_pending"
    NOT_REFUNDABLE = "not_refundable"
    REFUND_TOO_LARGE = "refund_too_large"
    CERTIFICATE_REQUIRED = "certificate_required"
    CERTIFICATE_REJECTED = "certificate_rejected"
    CANCEL_REFUSED = "cancel_refused"
    GATEWAY_UNAVAILABLE = "gateway_unavailable"
    SIGNATURE_INVALID = "signature_invalid"
    NOTIFICATION_INVALID = "notification_invalid"
    UNKNOWN_PAYMENT = "unknown_payment"
    UNKNOWN_REFUND = "unknown_refund"
    AMOUNT_MISMATCH = "amount_mismatch"
    # Merchant credentials
    INVALID_APP_ID = "invalid_app_id"
    INVALID_MCH_ID = "invalid_mch_id"
    INVALID_SUB_MCH_ID = "invalid_sub_mch_id"
    INVALID_API_KEY = "invalid_api_key"
    INVALID_PRIVATE_KEY = "invalid_private_key"
    INVALID_PUBLIC_KEY = "invalid_public_key"
    INVALID_CERTIFICATE = "invalid_certificate"
    INVALID_CERTIFICATE_KEY = "invalid_certificate_key"
    CREDENTIALS_INCOMPLETE = "credentials_incomplete"
    PERMISSION_DENIED = "permission_denied"


MESSAGES: dict[PaymentsError, Promise] = {
    PaymentsError.INVALID_PROVIDER: _("Choose WeChat Pay or Alipay."),
    PaymentsError.INVALID_AMOUNT: _("Enter an amount of more than ¥0.00."),
    PaymentsError.INVALID_OUT_TRADE_NO: _("A payment number has 6 to 32 letters, digits, underscores or dashes."),
    PaymentsError.INVALID_OUT_REFUND_NO: _("A refund number has 6 to 32 letters, digits, underscores or dashes."),
    PaymentsError.INVALID_AUTH_CODE: _(
        "This is not a payment code of this provider: WeChat Pay codes have 18 digits starting with 10 to 15, "
        "Alipay codes 16 to 24 digits starting with 25 to 30. Scan the code on the client's phone again."
    ),
    PaymentsError.INVALID_NOTIFY_URL: _("The notification address must be an http or https address."),
    PaymentsError.TEXT_TOO_LONG: _("This text is too long."),
    PaymentsError.DESCRIPTION_REQUIRED: _("Enter what the payment is for."),
    PaymentsError.ACCOUNT_NOT_READY: _(
        "This payment method is not set up or is switched off: an owner can set it up under Settings, Payments."
    ),
    PaymentsError.OUT_TRADE_NO_REUSED: _("This payment number was already used for a different payment."),
    PaymentsError.OUT_REFUND_NO_REUSED: _("This refund number was already used for a different refund."),
    PaymentsError.NOT_PENDING: _("This payment is no longer waiting, so it cannot be cancelled."),
    PaymentsError.NOT_REFUNDABLE: _("Only a payment that went through can be refunded."),
    PaymentsError.REFUND_TOO_LARGE: _("This is more than is left to refund of this payment."),
    PaymentsError.CERTIFICATE_REQUIRED: _(
        "WeChat Pay needs the merchant's API certificate for refunds and cancellations: "
        "add it under Settings, Payments."
    ),
    PaymentsError.CERTIFICATE_REJECTED: _(
        "WeChat Pay refused the merchant's API certificate, so nothing was done: an owner can enter the "
        "current certificate (apiclient_cert.pem and apiclient_key.pem) under Settings, Payments."
    ),
    PaymentsError.CANCEL_REFUSED: _("The provider refused to cancel this payment."),
    PaymentsError.GATEWAY_UNAVAILABLE: _(
        "The payment provider did not answer. Nothing is lost: the payment is checked again automatically."
    ),
    PaymentsError.SIGNATURE_INVALID: _("The notification's signature does not verify."),
    PaymentsError.NOTIFICATION_INVALID: _("The notification cannot be read."),
    PaymentsError.UNKNOWN_PAYMENT: _("No payment with this number exists."),
    PaymentsError.UNKNOWN_REFUND: _("No refund with this number exists."),
    PaymentsError.AMOUNT_MISMATCH: _("The amount the provider reports differs from the payment's amount."),
    PaymentsError.INVALID_APP_ID: _("Enter the app ID as shown by the provider (letters and digits)."),
    PaymentsError.INVALID_MCH_ID: _("Enter the merchant number (digits only)."),
    PaymentsError.INVALID_SUB_MCH_ID: _("Enter the sub-merchant number (digits only), or leave it empty."),
    PaymentsError.INVALID_API_KEY: _("The WeChat Pay API key has exactly 32 letters and digits."),
    PaymentsError.INVALID_PRIVATE_KEY: _("This is not an RSA private key (PEM or the text the key tool shows)."),
    PaymentsError.INVALID_PUBLIC_KEY: _("This is not an RSA public key (PEM or the text Alipay shows)."),
    PaymentsError.INVALID_CERTIFICATE: _("This is not a PEM certificate (apiclient_cert.pem)."),
    PaymentsError.INVALID_CERTIFICATE_KEY: _(
        "This is not the private key of the certificate (apiclient_key.pem), or it does not match it."
    ),
    PaymentsError.CREDENTIALS_INCOMPLETE: _("Enter every required credential before switching this on."),
    PaymentsError.PERMISSION_DENIED: _("You do not have permission to do this."),
}

FIELDS: dict[PaymentsError, str] = {
    PaymentsError.INVALID_PROVIDER: "provider",
    PaymentsError.INVALID_AMOUNT: "amount",
    PaymentsError.REFUND_TOO_LARGE: "amount",
    PaymentsError.INVALID_OUT_TRADE_NO: "out_trade_no",
    PaymentsError.INVALID_OUT_REFUND_NO: "out_refund_no",
    PaymentsError.INVALID_AUTH_CODE: "auth_code",
    PaymentsError.INVALID_NOTIFY_URL: "notify_url",
    PaymentsError.DESCRIPTION_REQUIRED: "description",
    PaymentsError.INVALID_APP_ID: "app_id",
    PaymentsError.INVALID_MCH_ID: "mch_id",
    PaymentsError.INVALID_SUB_MCH_ID: "sub_mch_id",
    PaymentsError.INVALID_API_KEY: "api_key",
    PaymentsError.INVALID_PRIVATE_KEY: "app_private_key",
    PaymentsError.INVALID_PUBLIC_KEY: "alipay_public_key",
    PaymentsError.INVALID_CERTIFICATE: "cert_pem",
    PaymentsError.INVALID_CERTIFICATE_KEY: "cert_key_pem",
    PaymentsError.CREDENTIALS_INCOMPLETE: "is_enabled",
}

STATUS: dict[PaymentsError, int] = {
    PaymentsError.PERMISSION_DENIED: 403,
    PaymentsError.UNKNOWN_PAYMENT: 404,
    PaymentsError.UNKNOWN_REFUND: 404,
    PaymentsError.ACCOUNT_NOT_READY: 409,
    PaymentsError.OUT_TRADE_NO_REUSED: 409,
    PaymentsError.OUT_REFUND_NO_REUSED: 409,
    PaymentsError.NOT_PENDING: 409,
    PaymentsError.NOT_REFUNDABLE: 409,
    PaymentsError.CERTIFICATE_REQUIRED: 409,
    PaymentsError.CERTIFICATE_REJECTED: 409,
    PaymentsError.CANCEL_REFUSED: 409,
    PaymentsError.AMOUNT_MISMATCH: 409,
    PaymentsError.GATEWAY_UNAVAILABLE: 503,
}


def payments_error(
    code: PaymentsError, *, field: str | None = None, detail: str = "", extra: dict[str, object] | None = None
) -> ServiceError:
    """The ServiceError for ``code``; ``detail`` (the provider's own code and words) follows the message."""
    message = str(MESSAGES[code])
    if detail:
        message = f"{message} ({detail})"
    return ServiceError(code, message, status=STATUS.get(code, 400), field=field or FIELDS.get(code), extra=extra)
