from loketkit.db import with_delivery_tables
from loketkit.migrations import run_env
from services.reporting.adapters.orm import ReportingTable

run_env(with_delivery_tables(ReportingTable.metadata))
