#!/bin/sh
# netifd protocol handler for proto 'sshtun': OpenSSH's tun device (ssh -w).
# Generated from pppossh/config/options.py by 'make generate'; edit the table, not this file.
# It declares its own options and shares the rest with pppossh.sh, next to it: the pppossh
# helper tells the two protocols apart by the "proto" of the configuration netifd passes.

[ -n "$INCLUDE_ONLY" ] || {
	. ../netifd-proto.sh
	init_proto "$@"
}

proto_sshtun_init_config() {
	proto_config_add_string server
	proto_config_add_int port
	proto_config_add_string sshuser
	proto_config_add_array 'identity:list(string)'
	proto_config_add_array 'hostkey:list(string)'
	proto_config_add_array 'jump:list(string)'
	proto_config_add_array 'jump_hostkey:list(string)'
	proto_config_add_string ipaddr
	proto_config_add_string peeraddr
	proto_config_add_string ssh_options
	proto_config_add_int ssh_keepalive
	proto_config_add_int connect_timeout
	proto_config_add_int use_hostdep
	proto_config_add_string mode
	proto_config_add_int remote_unit
	proto_config_add_int unit
	proto_config_add_string ip6addr
	proto_config_add_string peer6addr
	proto_config_add_string bridge
	proto_config_add_int mtu
	proto_config_add_boolean defaultroute
	proto_config_add_array 'dns:list(string)'
	proto_config_add_boolean system_dns
	proto_config_add_int metric
	proto_config_add_array 'route:list(string)'
	available=1
	no_device=1
}

# pppossh.sh's relay, setup and teardown, without its own registration
sshtun_include_only="$INCLUDE_ONLY"
INCLUDE_ONLY=1
. ./pppossh.sh
INCLUDE_ONLY="$sshtun_include_only"

proto_sshtun_setup() {
	proto_pppossh_setup "$@"
}

proto_sshtun_teardown() {
	proto_pppossh_teardown "$@"
}

[ -n "$INCLUDE_ONLY" ] || add_protocol sshtun
