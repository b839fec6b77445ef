from pollflow.cli import entry_point

entry_point()
