# Copied into the environment's etc/ipython/ by make setup (any make target), where every IPython kernel of that
# environment reads it: with no AZURE_INFERENCE_* variable set, helpers.autostart starts the bundled replay server at
# kernel start, so that a notebook opened in any Jupyter (VS Code, Codespaces, a JupyterHub) runs offline from its
# first cell. With any variable set, or under make lab, make run and the tests, it does nothing.
c = get_config()  # noqa: F821 (IPython provides it)
c.InteractiveShellApp.extensions.append("helpers.autostart")
