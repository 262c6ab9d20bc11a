pytest_plugins = ["helpers.pytest_plugin"]
