from loketkit.db import with_delivery_tables
from loketkit.migrations import run_env
from services.matching.adapters.orm import MatchingTable

run_env(with_delivery_tables(MatchingTable.metadata))
