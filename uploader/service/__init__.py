"""`watch` as a user service: started at login, restarted when it fails, at a low
priority. A systemd user unit on Linux, a launchd agent on macOS.

`units` writes the files as text; `manage` installs, removes and reports on them through
the platform's own tools (systemctl, journalctl, launchctl).

May import: core.
"""

from uploader.service.manage import (
    PLATFORMS as PLATFORMS,
    Manager as Manager,
    Status as Status,
    install as install,
    logs as logs,
    manager as manager,
    status as status,
    uninstall as uninstall,
)

__all__ = ["PLATFORMS", "Manager", "Status", "install", "logs", "manager", "status", "uninstall"]
