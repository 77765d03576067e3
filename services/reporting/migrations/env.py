from loketkit.migrations import run_env

run_env()
