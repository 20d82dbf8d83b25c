"""The server role: peers in UCI, their forced-command keys, and the server's set-up."""
