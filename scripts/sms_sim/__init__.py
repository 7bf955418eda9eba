"""A local simulator of Tencent Cloud SMS (API 3.0): the provider's API as its SDK calls it, checked
as the provider checks it (TC3-HMAC-SHA256 signature and timestamp, SdkAppId, signature, template and
its parameters, per-number frequency limits), the messages as the phone shows them, receipts by pull
(PullSmsSendStatus) and by push to a callback URL, and a page listing what was sent (短信模拟器).

    from scripts.sms_sim import SmsSimConfig, SmsSimulator
    sim = SmsSimulator(SmsSimConfig(templates={"2001": "会议提醒：{1}，{2}开始"}, callback_url=url),
                       transport=WsgiTransport(flask_app))
    # point the app's SMS_ENDPOINT at it (tests: mount WsgiAdapter(sim.app) on the seam's session)
"""

from scripts.sms_sim.config import SmsSimConfig
from scripts.sms_sim.signing import signature
from scripts.sms_sim.simulator import SmsSimulator, TencentApiRoute

__all__ = ["SmsSimConfig", "SmsSimulator", "TencentApiRoute", "signature"]
