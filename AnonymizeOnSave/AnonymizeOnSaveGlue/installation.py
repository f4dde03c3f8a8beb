"""The one installation of the module in this application.

Slicer's "Reload" (developer mode) re-executes the module file: its classes are new and their class attributes
start fresh, but this package stays imported. The installation that is live is kept here, so that a new one
replaces it instead of adding a second checkbox, menu action, save hook and saveScene wrapper.
"""

current = None
settingsPanel = None  # the settings dialog has no way to remove a panel: one for the session


def replace(installation):
    """Make installation the live one, uninstalling any other first."""
    global current
    previous, current = current, installation
    if previous is not None and previous is not installation:
        previous.uninstall()


def release(installation):
    global current
    if current is installation:
        current = None


settingsPanel = None  # the settings dialog has no way to remove a panel: one for the session
