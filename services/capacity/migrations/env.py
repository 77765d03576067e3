from loketkit.db import with_delivery_tables
from loketkit.migrations import run_env
from services.capacity.adapters.orm import CapacityTable

run_env(with_delivery_tables(CapacityTable.metadata))
