"""The secrets the simulator knows, found by value in a text: passwords of the accounts, secret
keys and security tokens (permanent and temporary), and the IAM tokens it issued. A trace
hides each of them wherever it stands in a recorded request or response, whatever the key
around it (a secret key sent as the content of an AK/SK file, a token inside a URL)."""

from __future__ import annotations

import re

from simulator.cts.record import MASK
# what a secret key (40 letters and digits) and an IAM or security token ("MII" and 160 or 240
# more) look like: a text without such a run holds none of them
_KEY_RUN = re.compile(r"[A-Za-z0-9]{40,}")
_TOKEN_RUN = re.compile(r"MII[A-Za-z0-9+/=_-]{20,}")
SK_LENGTH = 40
TOKEN_LENGTHS = (163, 243)  # ids.token(160) and (240): an IAM token, a security token
MIN_PASSWORD = 6  # shorter passwords are not searched for: they would hide ordinary words


FEW = 64  # up to this many secret keys, each is looked for; past it, what looks like one
# letters and digits -> "a", anything else -> " ": a text holds a run of 40 of them when its
# translation holds "a" * 40 (two C loops; a regular expression for the run costs ten times more)
_ALNUM = bytes.maketrans(bytes(range(256)), bytes(
    ord("a") if chr(i).isascii() and chr(i).isalnum() else ord(" ") for i in range(256)))
_KEY_SHAPE = b"a" * SK_LENGTH


class KnownSecrets:
    def __init__(self, sim):
        self._sim = sim  # its directory and token store change on reset and restore

    def found_in(self, text: str, domain_id: str) -> bool:
        """Whether the text may hold a known secret: cheap, and never wrong when it says no.
        Passwords are the account's own (domain_id: whose trace it is)."""
        directory = self._sim.directory
        for password in directory.passwords(domain_id):
            if password in text:
                return True
        if "MII" in text:  # an IAM or security token, maybe
            return True
        secrets = directory.secret_values()
        if len(secrets) <= FEW:
            for secret in secrets:
                if secret in text:
                    return True
            return False
        return _KEY_SHAPE in text.encode().translate(_ALNUM)

    def hide(self, text: str, domain_id: str) -> str:
        directory = self._sim.directory
        for password in directory.passwords(domain_id):
            if password in text:
                text = text.replace(password, MASK)
        secrets = directory.secret_values()
        if "MII" in text:
            tokens = self._sim.tokens
            for run in set(_TOKEN_RUN.findall(text)):
                start = run.find("MII")
                while start != -1:  # a token may stand anywhere in a run, even after another
                    for n in TOKEN_LENGTHS:
                        candidate = run[start:start + n]
                        if len(candidate) == n and (candidate in secrets
                                                    or tokens.find(candidate) is not None):
                            text = text.replace(candidate, MASK)
                    start = run.find("MII", start + 1)
        for run in set(_KEY_RUN.findall(text)):
            for i in range(len(run) - SK_LENGTH + 1):  # a key may stand inside a longer run
                window = run[i:i + SK_LENGTH]
                if window in secrets:
                    text = text.replace(window, MASK)
        return text
