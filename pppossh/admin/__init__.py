"""Commands an admin runs around a tunnel: keys, host-key trust, diagnosis, server peers."""
