"""The HTTP API (FastAPI): health now; read models, commands and replay as they come."""
