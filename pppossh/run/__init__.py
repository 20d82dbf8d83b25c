"""Running a plan: under netifd (proto task + ubus), or standalone (own supervisor)."""
