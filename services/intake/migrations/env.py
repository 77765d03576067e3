from loketkit.db import with_delivery_tables
from loketkit.migrations import run_env
from services.intake.adapters.orm import IntakeTable

run_env(with_delivery_tables(IntakeTable.metadata))
