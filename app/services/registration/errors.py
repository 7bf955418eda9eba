"""The registration services' error codes and their Chinese messages."""

from __future__ import annotations

from app.services.errors import DomainError


class RegistrationError(DomainError):
    messages = {
        "form_not_found": "找不到该报名表",
        "form_closed": "该报名表尚未开放或已关闭",
        "form_title_missing": "请填写报名表名称",
        "form_title_too_long": "报名表名称不能超过 64 个字",
        "form_title_taken": "本次会议已有同名的报名表",
        "form_role_invalid": "参会身份不正确",
        "form_access_invalid": "报名方式只能是 邀请人员、邀请码或公开报名",
        "form_code_invalid": "邀请码须为 4–16 位字母或数字",
        "form_code_taken": "本次会议已有报名表使用该邀请码",
        "form_fields_invalid": "报名字段设置有误：{detail}",
        "form_cap_invalid": "人数上限须为 1–100000 的整数",
        "form_deadline_invalid": "截止时间格式不正确",
        "meeting_closed": "会议已结束，不能再报名",
        "deadline_passed": "报名已截止",
        "cap_reached": "报名人数已满（上限 {cap} 人，剩余 {left} 个名额）",
        "not_invitee": "本报名表仅限受邀人员填写，请先绑定身份或联系会务组",
        "invite_code_invalid": "邀请码或单位编号不正确，请核对邀请函",
        "batch_empty": "请至少填写一位报名人员",
        "batch_too_large": "一次最多报名 {max} 人",
        "batch_invalid": "报名信息有误，请按提示修改后重新提交（共 {count} 处）",
        "phone_registered": "手机号 {phone} 已报名本次会议",
        "rate_limited": "提交过于频繁，请稍后再试",
        "registration_not_found": "找不到该报名记录",
        "nothing_selected": "请先选择报名记录",
        "refuse_reason_missing": "请填写不通过的原因",
        "refuse_reason_too_long": "原因不能超过 200 个字",
        "refuse_reason_invalid": "原因不能包含 < > 或不可见的控制字符",
        "tag_invalid": "标签须为 1–16 个字，不含特殊字符",
        "group_invalid": "代表团/分组名称不能超过 64 个字，不含特殊字符",
        "rank_invalid": "排序须为 0–9999 的整数（越小越靠前）",
        "status_invalid": "状态筛选不正确",
        "filter_invalid": "筛选条件不正确：{detail}",
        "id_not_yours": "只有本人可以查看完整的身份证号",
        "file_missing": "找不到上传的文件，请重新上传",
        "output_invalid": "无法写入输出文件：{path}",
        "file_not_found": "找不到该文件",
    }
    statuses = {"form_not_found": 404, "file_not_found": 404, "registration_not_found": 404, "not_invitee": 403,
                "invite_code_invalid": 403, "cap_reached": 409, "phone_registered": 409,
                "form_title_taken": 409, "form_code_taken": 409, "rate_limited": 429,
                "id_not_yours": 403, "form_closed": 403, "deadline_passed": 403, "meeting_closed": 403}

    #: Per-person problems of a refused batch: [{"index", "field", "code", "message"}].
    errors: list[dict] = []


class FieldError(DomainError):
    """One value refused: raised by the field checks, collected per person by the submission."""

    messages = {
        "required": "{label}为必填项",
        "text_too_long": "{label}不能超过 {max} 个字",
        "text_control_chars": "{label}含有不可见的控制字符",
        "text_markup": "{label}不能包含 < 或 > 等标记字符",
        "phone_invalid": "{label}格式不正确，请填写 11 位手机号",
        "choice_invalid": "{label}的选项不正确",
        "date_invalid": "{label}须为日期，如 2026-12-03",
        "date_out_of_range": "{label}须在会议前后 60 天内",
        "dates_reversed": "离会日期不能早于报到日期",
        "bool_invalid": "{label}只能选择是或否",
        "id_invalid": "{label}不是有效的居民身份证号（18 位，末位校验码须正确）",
        "id_registered": "该身份证号已报名本次会议",
        "plate_invalid": "{label}格式不正确，如 京A12345",
        "file_empty": "{label}的文件是空的",
        "file_too_large": "{label}的文件不能超过 {max_mb} MB",
        "file_type_invalid": "{label}只接受 {kinds} 文件",
        "file_extension_mismatch": "{label}的文件扩展名与内容不符（内容是 {actual}）",
        "file_corrupt": "{label}的文件已损坏，无法读取",
        "file_missing": "{label}的文件找不到了，请重新上传",
        "file_not_expected": "{label}不接受上传文件，请直接填写",
        "phone_duplicate": "同一批报名中手机号 {phone} 出现了两次",
        "phone_registered": "手机号 {phone} 已报名本次会议",
        "unknown_field": "报名表中没有字段 {key}",
    }
    statuses = {}

    def __init__(self, code: str, /, **params):
        super().__init__(code, **params)  # 400: a value breaking the form's rules, as binding's are
