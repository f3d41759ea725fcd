from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

SECRET_HELP = _("Stored encrypted and never shown again. Leave empty to keep the one stored.")


def _secret(label: str | _StrPromise, *, multiline: bool = False) -> forms.CharField:
    widget: forms.Widget = (
        forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"})
        if multiline
        else forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
    )
    return forms.CharField(label=label, required=False, widget=widget, help_text=SECRET_HELP)


class WeChatAccountForm(forms.Form):
    app_id = forms.CharField(label=_("AppID (公众号 or 小程序)"), max_length=32, required=False)
    mch_id = forms.CharField(label=_("Merchant number (商户号)"), max_length=16, required=False)
    sub_mch_id = forms.CharField(
        label=_("Sub-merchant number (子商户号)"),
        max_length=16,
        required=False,
        help_text=_("Only when the salon is a sub-merchant of a service provider."),
    )
    api_key = _secret(_("API key (APIv2 密钥)"))
    cert_pem = _secret(_("API certificate (apiclient_cert.pem)"), multiline=True)
    cert_key_pem = _secret(_("API certificate key (apiclient_key.pem)"), multiline=True)
    clear_certificate = forms.BooleanField(label=_("Remove the stored API certificate"), required=False)
    is_enabled = forms.BooleanField(label=_("Take WeChat Pay at the till"), required=False)


class AlipayAccountForm(forms.Form):
    app_id = forms.CharField(label=_("App ID (APPID)"), max_length=32, required=False)
    app_private_key = _secret(_("App private key (应用私钥)"), multiline=True)
    alipay_public_key = _secret(_("Alipay public key (支付宝公钥)"), multiline=True)
    is_enabled = forms.BooleanField(label=_("Take Alipay at the till"), required=False)
