"""Serve a service's app with uvicorn; SIGTERM and Ctrl-C run the lifespan shutdown."""

from __future__ import annotations

import logging
import sys

import uvicorn
from fastapi import FastAPI

from loketkit.logs import configure_logging
from loketkit.settings import InsecureSettings, ServiceSettings

log = logging.getLogger(__name__)


# EX_CONFIG: the configuration is wrong; a supervisor should not just restart it.
EXIT_BAD_CONFIGURATION = 78


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    # One handler for every logger, rendering exceptions without their messages (they can
    # quote personal data); uvicorn's and FastStream's loggers go through it too.
    configure_logging(settings.service_name, settings.log_level)
    try:
        settings.require_secure()
    except InsecureSettings as refused:
        log.critical("%s: %s", settings.service_name, refused)
        sys.exit(EXIT_BAD_CONFIGURATION)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # uvicorn's own config would give its loggers unsafe handlers
        log_level=settings.log_level.lower(),
        # libuv's event loop and a C HTTP parser: the services are CPU-bound, and these
        # take a good share of the per-request and per-message cost off Python.
        loop="uvloop",
        http="httptools",
        access_log=False,  # URLs hold request ids only, but keep the log about the system
        timeout_graceful_shutdown=20,
    )
