"""Serve a service's app with uvicorn; SIGTERM and Ctrl-C run the lifespan shutdown."""

from __future__ import annotations

import logging

import uvicorn
from fastapi import FastAPI

from loketkit.settings import ServiceSettings


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format=f"%(asctime)s {settings.service_name} %(levelname)s %(name)s: %(message)s",
    )
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,  # URLs hold request ids only, but keep the log about the system
        timeout_graceful_shutdown=20,
    )
