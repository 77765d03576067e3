"""Run intake: `python -m services.intake` (settings from the environment)."""

from loketkit.entrypoint import serve
from services.intake.bootstrap import bootstrap
from services.intake.settings import IntakeSettings

if __name__ == "__main__":
    settings = IntakeSettings()
    serve(bootstrap(settings), settings)
