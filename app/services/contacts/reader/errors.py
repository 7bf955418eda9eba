"""Stable codes and Chinese messages of the contacts reader, in one table.

Row codes describe one data row; file codes abort the whole file. ``phone_in_other_unit`` is
decided by the database import service, but its message lives here so that every row-level
message of a contacts import comes from the same place.
"""

from __future__ import annotations

from typing import ClassVar

from app.services.errors import DomainError

ROW_MESSAGES: dict[str, str] = {
    "name_missing": "缺少姓名",
    "name_garbled": "姓名“{name}”中有无法识别的字符（?），多为生僻字在另存为 GBK 编码的 CSV 时丢失；"
                    "请直接上传 Excel 文件，或另存为 UTF-8 编码的 CSV",
    "phone_missing": "缺少手机号",
    "phone_invalid": "手机号格式不正确：{detail}",
    "phone_duplicate_in_file": "与第 {first_row} 行手机号重复",
    "landline_not_allowed": "“{phone}”是座机号码，请填写手机号",
    "phone_damaged": "手机号已被表格软件改坏：{detail}。请将手机号这一列设置为文本格式，再重新输入完整的 11 位号码{hint}",
    "phone_in_other_unit": "该手机号已属于其他单位的人员",
    "unit_mismatch": "该行的单位是“{unit}”，不是本单位（{ours}），未导入；请删除该行，由该单位自行上传",
}

#: Rows that are skipped on purpose (never imported, never an error), said so in the report.
SKIP_MESSAGES: dict[str, str] = {
    "example_row": "模板中的示例行（张三 / 13800138000），已跳过",
}

FILE_MESSAGES: dict[str, str] = {
    "empty_file": "文件是空的，请检查后重新上传",
    "file_too_large": "文件过大（{size_mb:.1f} MB），请不要超过 {limit_mb:.0f} MB",
    "unsupported_format": "不支持该文件格式{detail}，请上传 Excel（xlsx、xls）或 CSV 文件",
    "not_a_spreadsheet": "文件内容不是表格，请确认上传的是通讯录 Excel 或 CSV 文件",
    "corrupt_file": "文件已损坏，无法读取，请用 Excel 打开后重新保存再上传",
    "zip_bomb": "文件解压后体积异常，已拒绝处理",
    "too_many_rows": "表格行数过多（超过 {limit} 行），请拆分后分批上传",
    "too_many_columns": "表格列数过多（超过 {limit} 列），请删除多余的列后重新上传",
    "encrypted_file": "文件设置了打开密码，请取消密码后重新上传",
    "encoding_unknown": "无法识别文件的文字编码，请另存为 UTF-8 或 GBK 编码的 CSV，或直接上传 Excel 文件",
    "no_header": "未找到表头：表格中需要有“姓名”和“手机号”两列",
}


def row_message(code: str, **params: object) -> str:
    return ROW_MESSAGES[code].format(**params)


def skip_message(code: str, **params: object) -> str:
    return SKIP_MESSAGES[code].format(**params)


class DirectoryFileError(DomainError):
    """The file as a whole cannot be read; nothing in it is imported."""

    messages: ClassVar[dict[str, str]] = FILE_MESSAGES
    statuses: ClassVar[dict[str, int]] = {"file_too_large": 413, "unsupported_format": 415}

    def __init__(self, code: str, **params: object) -> None:
        if code not in FILE_MESSAGES:
            raise ValueError(f"unknown contacts file error code: {code}")
        super().__init__(code, **params)
