"""Requests the site makes to addresses other people chose (webhook receivers, archived sources): the address check
that keeps them off the site's own network, and connections made only to the addresses that check returned.

A name is resolved once, every address it resolves to must be public (unless the caller's setting allows private
ones), and the connection goes to one of those addresses, never to a second answer of the resolver: a name that
resolves elsewhere a moment later (DNS rebinding) changes nothing. TLS still checks the URL's host name.
"""

import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

import urllib3
from django.utils.translation import gettext as _


class AddressRefused(Exception):
    """The URL may not be reached: not http(s), its host does not resolve, or it resolves to a non-public address."""


def public_addresses(url, *, allow_private):
    """The addresses `url`'s host resolves to, in the resolver's order, without repeats; AddressRefused unless every
    one is public (or `allow_private`)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused(_("Only http and https addresses can be reached."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = [info[4][0] for info in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)]
    except (OSError, ValueError) as error:
        raise AddressRefused(
            _("%(host)s cannot be resolved: %(error)s") % {"host": parts.hostname, "error": error}
        ) from None
    if not allow_private:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global:
                raise AddressRefused(
                    _(
                        "%(host)s is a private, loopback or reserved address (%(address)s): only public addresses "
                        "are reached."
                    )
                    % {"host": parts.hostname, "address": ip}
                )
    return list(dict.fromkeys(addresses))


def connection_pool(*, url, address, timeout, ca_file=None):
    """A urllib3 pool for `url`'s scheme and port that connects to the checked `address` (TLS verified against the
    URL's host name and the system's CAs, or `ca_file`), with no retries of its own."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            address,
            parts.port or 443,
            timeout=timeout,
            retries=False,
            server_hostname=parts.hostname,
            assert_hostname=parts.hostname,
            ssl_context=ssl.create_default_context(cafile=ca_file),
        )
    return urllib3.HTTPConnectionPool(address, parts.port or 80, timeout=timeout, retries=False)


def request_target(url):
    """The path and query to ask for, and the Host header to send, for `url`."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), parts.netloc.rsplit("@", 1)[-1]


def first_listening(addresses, attempt):
    """attempt(address) for each checked address in turn until one accepts the connection, as a browser would: a
    name such as "localhost" resolves to ::1 and 127.0.0.1, and a server may listen on only one of them."""
    for address in addresses[:-1]:
        try:
            return attempt(address)
        except urllib3.exceptions.NewConnectionError:
            continue
    return attempt(addresses[-1])
