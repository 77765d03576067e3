"""Run capacity: `python -m services.capacity` (settings from the environment)."""

from loketkit.entrypoint import serve
from services.capacity.bootstrap import bootstrap
from services.capacity.settings import CapacitySettings

if __name__ == "__main__":
    settings = CapacitySettings()
    serve(bootstrap(settings), settings)
