"""WeChat's XML envelope: build callback bodies, read reply bodies (via defusedxml)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

# Fields WeChat writes as bare numbers; everything else goes in CDATA.
NUMERIC = {"CreateTime", "MsgId", "MsgID", "ArticleCount", "MenuId", "Latitude", "Longitude", "Precision"}


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(fields: Iterable[tuple[str, Any]]) -> str:
    parts = ["<xml>"]
    for name, value in fields:
        text = str(value)
        parts.append(f"<{name}>{text if name in NUMERIC else _cdata(text)}</{name}>")
    parts.append("</xml>")
    return "".join(parts)


def _element(el: Element) -> Any:
    children = list(el)
    if not children:
        return el.text or ""
    if el.tag == "Articles":
        return [_element(child) for child in children]
    return {child.tag: _element(child) for child in children}


def parse_xml(data: str | bytes) -> dict[str, Any]:
    """Top-level fields of an ``<xml>`` document; raises ValueError when it is not one."""
    try:
        root = ElementTree.fromstring(data)
    except Exception as exc:  # ParseError, DTDForbidden, EntitiesForbidden...
        raise ValueError(f"not XML: {exc}") from exc
    if root.tag != "xml":
        raise ValueError("root element is not <xml>")
    result = _element(root)
    return result if isinstance(result, dict) else {}
