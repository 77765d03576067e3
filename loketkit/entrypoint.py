"""Serve a service's app with uvicorn; SIGTERM and Ctrl-C run the lifespan shutdown."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from loketkit.logs import configure_logging
from loketkit.settings import ServiceSettings


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    # One handler for every logger, rendering exceptions without their messages (they can
    # quote personal data); uvicorn's and FastStream's loggers go through it too.
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # uvicorn's own config would give its loggers unsafe handlers
        log_level=settings.log_level.lower(),
        access_log=False,  # URLs hold request ids only, but keep the log about the system
        timeout_graceful_shutdown=20,
    )
