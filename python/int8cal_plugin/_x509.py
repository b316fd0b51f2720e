"""A self-signed ECDSA P-256 certificate for go-plugin's automatic mutual TLS.

go-plugin's host (AutoMTLS) verifies the plugin's server certificate against
that very certificate, which the plugin prints on its handshake line, with
ServerName "localhost". Go plugins make it with crypto/x509; Python's
standard library cannot make certificates, and the SDK depends on grpcio,
protobuf and numpy only, so this module builds one by hand: P-256 arithmetic
for the key and the ECDSA signature, and the DER encoding of the
certificate. It mirrors go-plugin's generateCert: a CA certificate (it is its
own root) for "localhost", usable for server and client authentication.

The key lives only in the plugin's memory and protects a Unix socket in a
0700 directory for one run; the arithmetic is not constant-time, which is
acceptable for that use and would not be for a long-lived key.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
from dataclasses import dataclass

# The NIST P-256 curve (SEC 2, secp256r1): y² = x³ - 3x + b over GF(p), base
# point G of prime order n.
_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
_GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5

# Jacobian coordinates (X, Y, Z) stand for the affine point (X/Z², Y/Z³);
# Z = 0 is the point at infinity. They avoid a modular inversion per step.
_Jacobian = tuple[int, int, int]
_INFINITY: _Jacobian = (1, 1, 0)


def _double(pt: _Jacobian) -> _Jacobian:
    x, y, z = pt
    if z == 0 or y == 0:
        return _INFINITY
    # dbl-2001-b, for a = -3.
    delta = z * z % _P
    gamma = y * y % _P
    beta = x * gamma % _P
    alpha = 3 * (x - delta) * (x + delta) % _P
    x3 = (alpha * alpha - 8 * beta) % _P
    z3 = ((y + z) ** 2 - gamma - delta) % _P
    y3 = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % _P
    return x3, y3, z3


def _add(p1: _Jacobian, p2: _Jacobian) -> _Jacobian:
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    if z1 == 0:
        return p2
    if z2 == 0:
        return p1
    z1z1, z2z2 = z1 * z1 % _P, z2 * z2 % _P
    u1, u2 = x1 * z2z2 % _P, x2 * z1z1 % _P
    s1, s2 = y1 * z2 * z2z2 % _P, y2 * z1 * z1z1 % _P
    if u1 == u2:
        return _double(p1) if s1 == s2 else _INFINITY
    h = (u2 - u1) % _P
    r = (s2 - s1) % _P
    hh = h * h % _P
    hhh = h * hh % _P
    v = u1 * hh % _P
    x3 = (r * r - hhh - 2 * v) % _P
    y3 = (r * (v - x3) - s1 * hhh) % _P
    z3 = z1 * z2 * h % _P
    return x3, y3, z3


def _multiply(k: int, x: int, y: int) -> tuple[int, int]:
    """Returns k·(x, y) in affine coordinates (k in [1, n))."""
    ax, ay, az = _jacobian_multiply(k, (x, y, 1))
    if az == 0:
        raise ArithmeticError("P-256: scalar multiple is the point at infinity")
    zinv = pow(az, -1, _P)
    zinv2 = zinv * zinv % _P
    return ax * zinv2 % _P, ay * zinv2 * zinv % _P


def on_curve(x: int, y: int) -> bool:
    """Reports whether (x, y) lies on P-256 (for the tests)."""
    return (y * y - (x * x * x - 3 * x + _B)) % _P == 0


# DER (X.690) encoding of the few types a certificate needs.


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _seq(*parts: bytes) -> bytes:
    return _tlv(0x30, b"".join(parts))


def _set(*parts: bytes) -> bytes:
    return _tlv(0x31, b"".join(parts))


def _int(v: int) -> bytes:
    # Minimal two's complement: a leading zero byte keeps a positive value
    # whose top bit is set from reading as negative.
    return _tlv(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def _oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _bits(data: bytes, unused: int = 0) -> bytes:
    return _tlv(0x03, bytes([unused]) + data)


def _octets(data: bytes) -> bytes:
    return _tlv(0x04, data)


def _utf8(s: str) -> bytes:
    return _tlv(0x0C, s.encode())


def _time(t: datetime.datetime) -> bytes:
    # RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    if t.year < 2050:
        return _tlv(0x17, t.strftime("%y%m%d%H%M%SZ").encode())
    return _tlv(0x18, t.strftime("%Y%m%d%H%M%SZ").encode())


_TRUE = _tlv(0x01, b"\xff")
_ECDSA_SHA256 = _seq(_oid("1.2.840.10045.4.3.2"))
_EC_PUBLIC_KEY = _oid("1.2.840.10045.2.1")
_PRIME256V1 = _oid("1.2.840.10045.3.1.7")


def _extension(oid: str, critical: bool, value: bytes) -> bytes:
    return _seq(_oid(oid), _TRUE if critical else b"", _octets(value))


def _pem(kind: str, der: bytes) -> bytes:
    text = base64.encodebytes(der).decode().replace("\n", "")
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return ("-----BEGIN %s-----\n%s\n-----END %s-----\n" % (kind, "\n".join(lines), kind)).encode()


@dataclass(frozen=True)
class Certificate:
    """A certificate and its private key, as gRPC and go-plugin take them."""

    der: bytes
    """The certificate, DER: base64 of it ends the handshake line."""
    cert_pem: bytes
    key_pem: bytes
    """The private key, PEM (SEC 1 "EC PRIVATE KEY")."""

    def handshake_text(self) -> str:
        """The certificate as go-plugin's handshake line carries it:
        base64 of the DER without padding (Go's RawStdEncoding)."""
        return base64.b64encode(self.der).decode().rstrip("=")


def generate(host: str = "localhost", valid_for: datetime.timedelta = datetime.timedelta(days=3650)) -> Certificate:
    """Makes a self-signed certificate for host with a fresh P-256 key.

    As go-plugin's own: a CA (basic constraints, key usage digital signature,
    key encipherment and certificate signing), extended key usage server and
    client authentication, host as the common name and the only DNS name,
    valid from 30 seconds ago (clock skew) for valid_for.
    """
    d = secrets.randbelow(_N - 1) + 1
    qx, qy = _multiply(d, _GX, _GY)
    point = b"\x04" + qx.to_bytes(32, "big") + qy.to_bytes(32, "big")
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    name = _seq(
        _set(_seq(_oid("2.5.4.10"), _utf8("int8cal plugin"))),  # O
        _set(_seq(_oid("2.5.4.3"), _utf8(host))),  # CN
    )
    # keyUsage bits 0 (digitalSignature), 2 (keyEncipherment) and
    # 5 (keyCertSign): 0b10100100, the last two bits unused.
    extensions = _seq(
        _extension("2.5.29.15", True, _bits(b"\xa4", unused=2)),
        _extension("2.5.29.37", False, _seq(_oid("1.3.6.1.5.5.7.3.1"), _oid("1.3.6.1.5.5.7.3.2"))),
        _extension("2.5.29.19", True, _seq(_TRUE)),
        _extension("2.5.29.17", False, _seq(_tlv(0x82, host.encode()))),  # dNSName
    )
    tbs = _seq(
        _tlv(0xA0, _int(2)),  # version 3
        _int(secrets.randbits(127) | 1 << 126),  # positive, 16 bytes
        _ECDSA_SHA256,
        name,
        _seq(_time(now - datetime.timedelta(seconds=30)), _time(now + valid_for)),
        name,
        _seq(_seq(_EC_PUBLIC_KEY, _PRIME256V1), _bits(point)),
        _tlv(0xA3, extensions),
    )
    r, s = _sign(d, tbs)
    der = _seq(tbs, _ECDSA_SHA256, _bits(_seq(_int(r), _int(s))))
    key = _seq(_int(1), _octets(d.to_bytes(32, "big")), _tlv(0xA0, _PRIME256V1), _tlv(0xA1, _bits(point)))
    return Certificate(der=der, cert_pem=_pem("CERTIFICATE", der), key_pem=_pem("EC PRIVATE KEY", key))


def _sign(d: int, message: bytes) -> tuple[int, int]:
    """ECDSA over P-256 with SHA-256 (FIPS 186-4), a random nonce."""
    e = int.from_bytes(hashlib.sha256(message).digest(), "big")
    while True:
        k = secrets.randbelow(_N - 1) + 1
        r = _multiply(k, _GX, _GY)[0] % _N
        if r == 0:
            continue
        s = pow(k, -1, _N) * (e + r * d) % _N
        if s != 0:
            return r, s


def verify(x: int, y: int, message: bytes, r: int, s: int) -> bool:
    """Checks an ECDSA P-256/SHA-256 signature (for the tests)."""
    if not (0 < r < _N and 0 < s < _N):
        return False
    e = int.from_bytes(hashlib.sha256(message).digest(), "big")
    w = pow(s, -1, _N)
    u1, u2 = e * w % _N, r * w % _N
    a = _jacobian_multiply(u1, (_GX, _GY, 1))
    b = _jacobian_multiply(u2, (x, y, 1))
    px, _, pz = _add(a, b)
    if pz == 0:
        return False
    zinv = pow(pz, -1, _P)
    return px * zinv * zinv % _P % _N == r


def _jacobian_multiply(k: int, pt: _Jacobian) -> _Jacobian:
    acc = _INFINITY
    while k:
        if k & 1:
            acc = _add(acc, pt)
        pt = _double(pt)
        k >>= 1
    return acc
