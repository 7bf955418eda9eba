"""Front door for WeChat's servers: the official-account callback at /wechat/callback."""
