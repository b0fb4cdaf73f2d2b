"""The phone providers' side of a voice webhook: Twilio's signature and the answer's stream."""

from __future__ import annotations

import base64
import hashlib
import hmac
import xml.etree.ElementTree as ET


def twilio_signature(url: str, params: dict[str, str], *, token: str) -> str:
    """Twilio's documented algorithm: URL, then each parameter's name and value by name."""
    data = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def stream_of(xml: str) -> ET.Element:
    """The ``<Stream>`` of a ``<Response><Connect><Stream/></Connect></Response>`` answer."""
    root = ET.fromstring(xml)  # noqa: S314 - the app's own answer
    assert root.tag == "Response"
    connect = root.find("Connect")
    assert connect is not None
    stream = connect.find("Stream")
    assert stream is not None
    return stream
