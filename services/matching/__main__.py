"""Run matching: `python -m services.matching` (settings from the environment)."""

from loketkit.entrypoint import serve
from services.matching.bootstrap import bootstrap
from services.matching.settings import MatchingSettings

if __name__ == "__main__":
    settings = MatchingSettings()
    serve(bootstrap(settings), settings)
