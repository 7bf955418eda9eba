"""Channels to people: notices (会议通知) and their deliveries by WeChat and SMS."""
