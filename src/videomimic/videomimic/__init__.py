"""VideoMimic bringup: the deploy node graph declared once, and runners for it."""
