"""``flask contacts …``: bulk directory imports for unit offices' files."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.services.contacts import importer as svc

contacts_cli = AppGroup("contacts", help="通讯录")

#: Exit status when the file was read but no row could be imported (a file-level error exits 1).
EXIT_NOTHING_IMPORTED = 2


def _human(result: dict) -> str:
    lines = [f"{'试运行（未写入）' if result['dry_run'] else '已导入'}：可导入 {result['ok']} 行，"
             f"新增 {result['added']}，更新 {result['updated']}，停用 {result['deactivated']}，"
             f"未变 {result['unchanged']}，有问题 {len(result['rejected'])} 行"]
    if result.get("message"):
        lines.append(result["message"])
    lines += [f"  第 {r['row']} 行：{r['message']}" for r in result["rejected"]]  # codes are in --json
    lines += [f"  第 {r['row']} 行：{r['message']}" for r in result.get("skipped", [])]
    return "\n".join(lines)


@contacts_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", "unit_code", required=True, help="单位代码")
@click.option("--dry-run", is_flag=True, help="只检查，不写入")
@click.option("--mode", type=click.Choice(["replace", "upsert"]), default="replace", show_default=True,
              help="replace：全量替换（停用不在文件里的人员）；upsert：新增和更新，不停用任何人")
@json_option
def import_(file: Path, unit_code: str, dry_run: bool, as_json: bool, mode: str):
    """Import a directory file (xlsx, xls, csv) into a unit's contacts.

    Exit status: 0 imported (or checked), 1 the file or unit could not be used, 2 no valid row.
    """
    data = file.read_bytes()
    # The import is a few coarse phases; a bar over them is honest about where the time goes.
    show_bar = not as_json and sys.stdout.isatty()
    bar = click.progressbar(length=2, label="导入通讯录", file=sys.stderr) if show_bar else nullcontext()
    outcome: dict = {}

    def action():
        with bar as progress:
            record = svc.import_file(unit_code, data, file.name, actor="cli", dry_run=dry_run, mode=mode,
                                     on_phase=(lambda _phase: progress.update(1)) if progress else None)
        result = svc.summary(record)
        del result["status"]
        result["dry_run"] = dry_run
        outcome.update(result)
        return result

    run(action, as_json, _human)
    if not outcome.get("ok"):
        sys.exit(EXIT_NOTHING_IMPORTED)
