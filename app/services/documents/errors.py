"""Errors of meeting documents: upload refusals, access refusals, conversion failures.

Conversion failures are not raised to the user; their code and message are stored on the version
(``status = failed``) for the organizer to see.
"""

from __future__ import annotations

from app.services.errors import DomainError


class DocumentError(DomainError):
    messages = {
        # Upload
        "file_empty": "上传的文件是空的",
        "file_too_large": "文件过大：不能超过 {limit_mb} MB",
        "type_unsupported": "不支持的文件类型{detail}：请上传 PDF、Word、PowerPoint、Excel 或图片（PNG/JPEG）",
        "file_encrypted": "文件设有打开密码，无法预览：请去掉密码后重新上传",
        "zip_bomb": "文件结构异常（解压后过大或压缩比异常），已拒绝",
        "file_corrupt": "文件已损坏，无法识别",
        "image_too_large": "图片尺寸过大，请缩小后再上传",
        "title_missing": "请填写文件标题",
        "number_taken": "文件编号“{number}”已被使用",
        "access_invalid": "请选择可查看的角色或分组",
        # Access
        "document_missing": "找不到该文件",
        "not_invited": "您不在本次会议的参会名单中，无法查看会议材料",
        "doc_forbidden": "您无权查看此文件",
        "recalled": "该文件已清退，不能再查看",
        "not_ready": "文件正在处理中，请稍后再看",
        "page_missing": "没有这一页",
        "download_disabled": "此文件不提供下载",
        "link_invalid": "链接无效或已过期，请从会议材料列表重新打开",
        "link_not_yours": "此链接属于其他参会人员，请从您自己的会议材料列表打开",
        # Conversion (stored on the version)
        "convert_timeout": "文件转换超时（超过 {seconds} 秒），请检查文件或转为 PDF 后重新上传",
        "convert_failed": "文件转换失败，请检查文件能否正常打开，或转为 PDF 后重新上传",
        "pdf_broken": "PDF 文件已损坏，无法打开",
        "pdf_encrypted": "PDF 文件设有密码，无法预览：请去掉密码后重新上传",
        "too_many_pages": "文件页数过多（{pages} 页），预览最多支持 {limit} 页",
        "pdf_empty": "文件没有任何页面",
        "render_failed": "第 {page} 页无法显示，请检查文件",
        "internal": "处理文件时出错，请重新上传",
    }
    statuses = {
        "file_too_large": 413,
        "type_unsupported": 415,
        "document_missing": 404,
        "page_missing": 404,
        "not_invited": 403,
        "doc_forbidden": 403,
        "recalled": 410,
        "not_ready": 409,
        "download_disabled": 403,
        "link_invalid": 403,
        "link_not_yours": 403,
        "number_taken": 409,
    }
