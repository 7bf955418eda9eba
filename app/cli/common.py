"""What every command shares: one unit of work, JSON or human output, clean failure."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from app.services.errors import DomainError
from app.tx import unit_of_work

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


def emit(data: dict[str, Any], as_json: bool, human: str) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        click.echo(human)


def run(action: Callable[[], dict[str, Any]], as_json: bool, human: Callable[[dict[str, Any]], str]) -> None:
    """Run ``action`` in one transaction; a domain error prints its code and message and exits 1
    with nothing written."""
    try:
        with unit_of_work():
            result = action()
    except DomainError as exc:
        if as_json:
            click.echo(json.dumps(exc.to_dict(), ensure_ascii=False))
        click.echo(f"错误（{exc.code}）：{exc.message}", err=True)
        sys.exit(1)
    emit(result, as_json, human(result))
