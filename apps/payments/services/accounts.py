"""The salon's merchant accounts: credentials entered by an owner, checked, stored encrypted."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import transaction

from apps.core.models import User
from apps.core.services import audit_record
from apps.payments.errors import PaymentsError, payments_error
from apps.payments.models import CREDENTIAL_FIELDS, SECRET_FIELDS, MerchantAccount, Provider
from apps.payments.services._common import check_provider

_APP_ID: dict[str, re.Pattern[str]] = {
    Provider.WECHAT: re.compile(r"^wx[0-9A-Za-z]{16}$"),
    Provider.ALIPAY: re.compile(r"^\d{16}$"),
}
_MCH_ID = re.compile(r"^\d{8,12}$")
_API_KEY = re.compile(r"^[A-Za-z0-9]{32}$")
_OPTIONAL = frozenset({"sub_mch_id", "cert_pem", "cert_key_pem"})


def _der(text: str) -> bytes | None:
    """The bytes of a key pasted without PEM markers (the form Alipay's key tool and console show)."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _rsa_private_key(text: str) -> str:
    """Any RSA private key (PKCS#1 or PKCS#8, PEM or bare base64) as PKCS#1 PEM, the form the Alipay SDK
    signs with."""
    key: Any = None
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        elif (der := _der(text)) is not None:
            key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise payments_error(PaymentsError.INVALID_PRIVATE_KEY)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


def _rsa_public_key(text: str) -> str:
    """An RSA public key (PEM or bare base64) as SubjectPublicKeyInfo PEM, the form the SDK verifies with."""
    key: Any = None
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_public_key(text.encode())
        elif (der := _der(text)) is not None:
            key = serialization.load_der_public_key(der)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise payments_error(PaymentsError.INVALID_PUBLIC_KEY)
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _certificate_pair(cert_pem: str, key_pem: str) -> tuple[str, str]:
    if bool(cert_pem) != bool(key_pem):  # one without the other is of no use
        missing = PaymentsError.INVALID_CERTIFICATE if not cert_pem else PaymentsError.INVALID_CERTIFICATE_KEY
        raise payments_error(missing)
    if not cert_pem:
        return "", ""
    try:
        certificate = x509.load_pem_x509_certificate(cert_pem.encode())
    except ValueError:
        raise payments_error(PaymentsError.INVALID_CERTIFICATE)
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError):
        raise payments_error(PaymentsError.INVALID_CERTIFICATE_KEY)
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, public) != certificate.public_key().public_bytes(
        serialization.Encoding.DER, public
    ):
        raise payments_error(PaymentsError.INVALID_CERTIFICATE_KEY)
    return cert_pem.strip() + "\n", key_pem.strip() + "\n"


def _clean(provider: str, values: dict[str, str]) -> dict[str, str]:
    if values["app_id"] and not _APP_ID[provider].match(values["app_id"]):
        raise payments_error(PaymentsError.INVALID_APP_ID)
    if provider == Provider.WECHAT:
        if values["mch_id"] and not _MCH_ID.match(values["mch_id"]):
            raise payments_error(PaymentsError.INVALID_MCH_ID)
        if values["sub_mch_id"] and not _MCH_ID.match(values["sub_mch_id"]):
            raise payments_error(PaymentsError.INVALID_SUB_MCH_ID)
        if values["api_key"] and not _API_KEY.match(values["api_key"]):
            raise payments_error(PaymentsError.INVALID_API_KEY)
        values["cert_pem"], values["cert_key_pem"] = _certificate_pair(values["cert_pem"], values["cert_key_pem"])
    else:
        if values["app_private_key"]:
            values["app_private_key"] = _rsa_private_key(values["app_private_key"])
        if values["alipay_public_key"]:
            values["alipay_public_key"] = _rsa_public_key(values["alipay_public_key"])
    return values


def merchant_account_update(
    *,
    provider: str,
    acting_user: User | None,
    credentials: Mapping[str, str] | None = None,
    clear: Iterable[str] = (),
    is_enabled: bool | None = None,
) -> MerchantAccount:
    """Set the salon's credentials for ``provider`` and switch it on or off. Rule: a secret left empty keeps
    the one stored (secrets are never shown back, so a form cannot send them again), ``clear`` removes an
    optional one (the WeChat certificate, the sub-merchant number); every value is checked (formats, keys
    that load, a certificate that matches its key) and keys are stored in the one form the SDK reads; an
    account is switched on only with every required credential; the audit log names the fields changed,
    never their values."""
    check_provider(provider)
    names = CREDENTIAL_FIELDS[provider]
    given = {k: (v or "").strip() for k, v in (credentials or {}).items() if k in names}
    to_clear = {name for name in clear if name in _OPTIONAL and name in names}
    with transaction.atomic():
        account, _created = MerchantAccount.objects.select_for_update().get_or_create(provider=provider)
        current = account.values
        merged = dict(current)
        for name, value in given.items():
            if value or name not in SECRET_FIELDS:
                merged[name] = value
        for name in to_clear:
            merged[name] = ""
        merged = _clean(provider, merged)
        account.set_values(merged)
        if is_enabled is not None:
            account.is_enabled = is_enabled
        if account.is_enabled and not account.is_complete:
            raise payments_error(PaymentsError.CREDENTIALS_INCOMPLETE)
        account.save()
        changed = sorted(name for name in names if merged[name] != current[name])
        audit_record(
            action="payments.account_update",
            actor=acting_user,
            target=account,
            data={"provider": provider, "changed": changed, "is_enabled": account.is_enabled},
        )
    return account
