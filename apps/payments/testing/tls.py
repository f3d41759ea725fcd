"""Certificates for the fake WeChat Pay's TLS, made with ``cryptography`` for a test session.

Two authorities, as in production:

- a stand-in for the public CA that signed the server certificate of api.mch.weixin.qq.com: our client
  trusts it through ``WECHATPAY_CA_BUNDLE`` (in production that is the default bundle);
- a stand-in for WeChat Pay's own CA ("Tenpay.com Root CA"), which issues each merchant's API certificate
  (apiclient_cert.pem): the fake trusts only it for the client certificate the ``secapi/*`` calls need.

A certificate the merchant made themselves, or one of another CA, is refused by the fake at TLS.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALID_DAYS = 30


def _name(common_name: str, organisation: str = "") -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    return x509.Name(attributes)


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _builder(subject: x509.Name, issuer: x509.Name, public_key: object) -> x509.CertificateBuilder:
    now = datetime.datetime.now(tz=datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        # Valid from long before "now": a test clock moved ahead (SALON_TEST_CLOCK) makes certificates
        # OpenSSL, which keeps the real time, would otherwise find not yet valid.
        .not_valid_before(now - datetime.timedelta(days=_VALID_DAYS))
        .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
    )


@dataclass(frozen=True)
class Authority:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        return _pem(self.certificate)

    @classmethod
    def create(cls, common_name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name(common_name, "Salon platform tests")
        certificate = (
            _builder(name, name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    def issue(
        self, subject: x509.Name, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, *, server_ip: str = ""
    ) -> str:
        """A certificate for ``key``: a server's for ``server_ip``, or else a client's (TLS client auth)."""
        builder = _builder(subject, self.certificate.subject, key.public_key()).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
        )
        if server_ip:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(server_ip))]), critical=False
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        else:
            builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        return _pem(builder.sign(self.key, hashes.SHA256()))


def merchant_certificate(authority: Authority, *, mch_id: str = "1900000000") -> tuple[str, str]:
    """An API certificate as WeChat Pay issues it to a merchant: (apiclient_cert.pem, apiclient_key.pem),
    an RSA 2048 key in PKCS#8."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = _name(f"{mch_id} test merchant", "Tenpay.com")
    return authority.issue(subject, key), _key_pem(key)


@dataclass(frozen=True)
class WeChatPayTLS:
    """The files the fake WeChat Pay serves HTTPS with, and the CAs on either side."""

    server_ca: Authority  # signed the server's certificate: our client trusts it (WECHATPAY_CA_BUNDLE)
    merchant_ca: Authority  # issues merchants' API certificates: the fake trusts it for secapi/*
    server_cert_file: Path
    server_key_file: Path
    server_ca_file: Path  # the bundle our client verifies the fake with
    merchant_ca_file: Path

    @classmethod
    def create(cls, directory: Path) -> WeChatPayTLS:
        server_ca = Authority.create("Test public root CA")
        merchant_ca = Authority.create("Tenpay.com Root CA (test)")
        server_key = ec.generate_private_key(ec.SECP256R1())
        server_cert = server_ca.issue(_name("api.mch.weixin.qq.com"), server_key, server_ip="127.0.0.1")
        files = {
            "server_cert_file": server_cert,
            "server_key_file": _key_pem(server_key),
            "server_ca_file": server_ca.pem,
            "merchant_ca_file": merchant_ca.pem,
        }
        paths = {}
        for name, text in files.items():
            path = directory / f"wechatpay-{name.removesuffix('_file').replace('_', '-')}.pem"
            path.write_text(text)
            path.chmod(0o600)
            paths[name] = path
        return cls(server_ca=server_ca, merchant_ca=merchant_ca, **paths)
