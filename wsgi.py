"""WSGI entry point: ``flask --app wsgi …`` and ``gunicorn wsgi:app``."""

from dotenv import load_dotenv

load_dotenv()  # a .env file is a development convenience; real deployments set the environment

from app.factory import create_app  # noqa: E402

app = create_app()
