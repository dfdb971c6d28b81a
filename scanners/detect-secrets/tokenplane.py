"""
detect-secrets plugin: tokenplane API token values.

    detect-secrets scan --plugin scanners/detect-secrets/tokenplane.py .

Finds secret (`tpt_`) and publishable (`tpp_`) token values and keeps only
those whose checksum holds, so look-alikes (typos, made-up examples, other
products' strings with the same prefix) are not reported. The format:

    <tpt|tpp>_<30 base62 characters><6 base62 characters of CRC-32(prefix_random)>

The checksum is the CRC-32 (the zlib / IEEE 802.3 one) of everything before
it, written as 6 base62 digits, most significant first, alphabet 0-9 A-Z a-z.
"""
import re
import zlib

from detect_secrets.plugins.base import RegexBasedDetector

ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
CHECKSUM_LENGTH = 6


def checksum(body: str) -> str:
    n = zlib.crc32(body.encode('ascii'))
    out = ''
    for _ in range(CHECKSUM_LENGTH):
        out = ALPHABET[n % 62] + out
        n //= 62
    return out


def is_tokenplane_value(value: str) -> bool:
    return checksum(value[:-CHECKSUM_LENGTH]) == value[-CHECKSUM_LENGTH:]


class TokenplaneTokenDetector(RegexBasedDetector):
    """Scans for tokenplane API token values (secret tpt_ and publishable tpp_) with a valid checksum."""

    secret_type = 'tokenplane API token'

    denylist = [
        re.compile(r'(?<![0-9A-Za-z_])(?:tpt|tpp)_[0-9A-Za-z]{36}(?![0-9A-Za-z_])'),
    ]

    def analyze_string(self, string: str):
        for match in super().analyze_string(string):
            if is_tokenplane_value(match):
                yield match
