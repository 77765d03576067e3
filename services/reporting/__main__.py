"""Run reporting: `python -m services.reporting` (settings from the environment)."""

from loketkit.entrypoint import serve
from services.reporting.bootstrap import bootstrap
from services.reporting.settings import ReportingSettings

if __name__ == "__main__":
    settings = ReportingSettings()
    serve(bootstrap(settings), settings)
