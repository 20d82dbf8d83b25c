#!/bin/sh
# netifd protocol handler for proto 'pppossh': VPN over SSH.
# Generated from pppossh/config/options.py by 'make generate'; edit the table, not this file.
# The pppossh helper does the work and talks to netifd itself; this file declares the options
# and hands over, and reports an error itself only when the helper could not run at all.

[ -n "$INCLUDE_ONLY" ] || {
	. ../netifd-proto.sh
	init_proto "$@"
}

proto_pppossh_init_config() {
	proto_config_add_string server
	proto_config_add_int port
	proto_config_add_string sshuser
	proto_config_add_array 'identity:list(string)'
	proto_config_add_array 'hostkey:list(string)'
	proto_config_add_string ipaddr
	proto_config_add_string peeraddr
	proto_config_add_string ssh_client
	proto_config_add_string ssh_options
	proto_config_add_int ssh_keepalive
	proto_config_add_int connect_timeout
	proto_config_add_string remote_pppd
	proto_config_add_string peer_pppd_options
	proto_config_add_int use_hostdep
	proto_config_add_string keepalive
	proto_config_add_int mtu
	proto_config_add_boolean ipv6
	proto_config_add_string pppd_options
	proto_config_add_boolean persist
	proto_config_add_int maxfail
	proto_config_add_int holdoff
	proto_config_add_string username
	proto_config_add_string password
	proto_config_add_boolean defaultroute
	proto_config_add_boolean peerdns
	proto_config_add_array 'dns:list(string)'
	proto_config_add_int metric
	proto_config_add_array 'route:list(string)'
	available=1
	no_device=1
}

proto_pppossh_setup() {
	local config="$1" helper

	# netifd aborts a setup by killing this shell: take the helper (which may be resolving
	# the server name) along, or it would talk to netifd after the setup is gone
	pppossh netifd setup "$config" "$data" &
	helper=$!
	trap 'kill "$helper" 2>/dev/null; exit 0' TERM
	wait "$helper" || {
		proto_notify_error "$config" HELPER_FAILED
		proto_block_restart "$config"
	}
	trap - TERM
}

proto_pppossh_teardown() {
	local config="$1"

	pppossh netifd teardown "$config" "$data" || proto_kill_command "$config"
}

[ -n "$INCLUDE_ONLY" ] || add_protocol pppossh
