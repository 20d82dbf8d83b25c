'use strict';
'require baseclass';
'require rpc';

// What the pppossh pages say, in the admin's language.  The rpcd plugin answers with codes
// and values ({ error: CODE, values: {...} }, check steps { name, ok, code, values }); its
// English "message" is for the CLI and never shown here.  Every sentence goes through _(),
// so LuCI's i18n (po files made from these sources) translates it; values are inserted
// with String.format.  The code itself is shown next to an error, small, to search for.

function val(values, key) {
	var x = values ? values[key] : null;

	if (Array.isArray(x))
		return x.length ? x.join(', ') : '-';

	return (x == null || x === '') ? '?' : x;
}

function code(c) {
	return E('code', { 'class': 'pppossh-code' }, [ c ]);
}

// CODE -> function(values, context) giving the sentence; context holds what the page knows
// itself: iface, server, port, user, name.
var ERRORS = {
	// the plugin itself
	INVALID_ARGUMENT: function(v) { return _('The router refused the value of "%s".').format(val(v, 'argument')); },
	NO_METHOD: function() { return _('The pppossh backend on the router does not know this call: update the pppossh package.'); },
	INTERNAL_ERROR: function(v) { return _('The pppossh backend failed (%s); the system log of the router (logread) says more.').format(val(v, 'exception')); },
	TIMEOUT: function(v) { return _('The router did not finish within %d seconds.').format(val(v, 'seconds')); },
	NOT_INSTALLED: function() { return _('The pppossh package on the router is broken or half installed: reinstall it.'); },
	SERVER_NOT_INSTALLED: function() { return _('This router has no server role: install the package pppossh-server to accept peers.'); },

	// configuration
	UCI_ERROR: function() { return _('A configuration file on the router cannot be read; "uci show network" and "uci show pppossh" say where.'); },
	NO_INTERFACE: function(v, c) { return _('The interface %s is not saved yet: save it first.').format(c.iface); },
	WRONG_PROTO: function(v, c) { return _('The interface %s is not saved as a VPN over SSH interface yet: save it first.').format(c.iface); },
	INVALID_CONFIG: function(v, c) { return _('The saved settings of %s are not complete or not valid: correct and save them first.').format(c.iface); },
	INVALID_OPTIONS: function(v, c) { return _('The saved settings of %s are not valid: correct and save them first.').format(c.iface); },
	INVALID_SSH_OPTIONS: function() { return _('The SSH options are refused: they may not run commands or skip the host key check.'); },
	NOT_ROOT: function() { return _('pppossh must run as root on the router.'); },

	// keys
	KEY_EXISTS: function() { return _('This interface already has a key.'); },
	NO_KEYGEN: function() { return _('No key generator is installed for the chosen SSH client (dropbearkey for Dropbear, ssh-keygen for OpenSSH).'); },
	KEYGEN_FAILED: function() { return _('Making the key failed; the system log of the router says more.'); },
	NO_IDENTITY: function() { return _('No private key found: generate one.'); },
	INVALID_IDENTITY: function() { return _('A private key file is not usable by the chosen SSH client.'); },
	UNREADABLE_IDENTITY: function() { return _('A private key file cannot be read.'); },
	NO_SSH_CLIENT: function() { return _('No SSH client is installed: install dropbear or openssh-client.'); },
	NO_MULTIHOP: function() { return _('This router\'s dbclient was built without multi-hop, which jump hosts need.'); },
	// proto sshtun: the server's device and the router's
	TUNNEL_DISABLED: function() { return _('The server does not allow tunnels to this user (PermitTunnel).'); },
	TUNNEL_BUSY: function(v) { return _('The server\'s %s is held by another session.').format(val(v, 'device')); },
	TUNNEL_NO_DEVICE: function(v) { return _('The server has no %s.').format(val(v, 'device')); },
	TUNNEL_UNIT: function(v) { return _('The key opens the server\'s %s alone, not %s.').format(val(v, 'device'), val(v, 'wanted')); },
	TUNNEL_DEVICE: function() { return _('The server could not open its tun or tap device.'); },
	TUNNEL_REFUSED: function() { return _('The server refused the tunnel.'); },
	TUNNEL_NOT_READY: function() { return _('The tunnel ended before the server said its end was attached.'); },
	REMOTE_NOT_PPPOSSH: function(v) { return _('The server did not answer about its %s: the key runs something else than pppossh\'s session script.').format(val(v, 'device')); },
	NO_LOCAL_TUN: function() { return _('The router has no tun support.'); },
	TUN_DEVICE_DENIED: function(v) { return _('%s cannot be opened by pppossh.').format(val(v, 'device')); },

	// the server key
	HOSTKEY_FETCH_FAILED: function(v, c) { return _('%s port %d offered no host key; "Check connection" shows where it stops.').format(c.server || '?', c.port || 22); },
	HOSTKEY_FINGERPRINT_MISMATCH: function() { return _('The server now offers another key than the one shown: nothing was pinned. Fetch the key again.'); },
	HOSTKEY_MISMATCH: function(v) { return _('The server offers %s, but %s is pinned.').format(val(v, 'fingerprint'), val(v, 'pinned')); },
	HOSTKEY_UNKNOWN: function() { return _('The server key is not pinned.'); },
	NOT_PINNED: function(v) { return _('The server key is not pinned; the server offers %s %s.').format(val(v, 'type'), val(v, 'fingerprint')); },
	HOSTKEY_NONE: function() { return _('The server offered no host key.'); },
	JUMP_HOST_NOT_PINNED: function() { return _('The key of a jump host is not pinned: the server is reached through it only once it is.'); },

	// the connection (check steps and the last error of the status)
	RESOLVE_FAILED: function(v, c) { return _('The name %s could not be resolved.').format(v && v.server || c.server || '?'); },
	TCP_REFUSED: function(v) { return _('Port %d of %s refused the connection.').format(val(v, 'port'), val(v, 'server')); },
	TCP_NO_ROUTE: function(v) { return _('The router has no route to %s.').format(val(v, 'server')); },
	TCP_TIMEOUT: function(v) { return _('%s did not answer on port %d within %d seconds.').format(val(v, 'server'), val(v, 'port'), val(v, 'seconds')); },
	TCP_FAILED: function(v) { return _('Connecting to %s port %d failed (%s).').format(val(v, 'server'), val(v, 'port'), val(v, 'reason')); },
	CONNECT_REFUSED: function(v, c) { return _('The SSH server refused the connection.'); },
	CONNECT_TIMEOUT: function(v, c) { return _('The SSH server did not answer in time.'); },
	NO_ROUTE: function(v) { return (v && v.address) ? _('The router has no route to %s.').format(v.address) : _('The router has no route to the SSH server.'); },
	AUTH_FAILED: function(v, c) { return _('The server refused the key of user %s.').format(v && v.user || c.user || '?'); },
	LOGIN_TIMEOUT: function(v) { return _('No login within %d seconds.').format(val(v, 'seconds')); },
	SSH_FAILED: function() { return _('The SSH client failed.'); },
	REMOTE_SILENT: function(v) { return _('"%s" said nothing within %d seconds.').format(val(v, 'command'), val(v, 'seconds')); },
	REMOTE_NOT_PPPD: function(v) { return _('"%s" ended without speaking PPP.').format(val(v, 'command')); },
	TERMINAL_REFUSED: function() { return _('The server refuses a terminal to this key.'); },
	REMOTE_EXIT: function(v) { return _('The command of the server ended with status %s before PPP started.').format(val(v, 'status')); },
	REMOTE_PPPD_MISSING: function() { return _('pppd is not installed on the server.'); },
	REMOTE_NO_PPP: function() { return _('The kernel of the server has no PPP support.'); },
	REMOTE_SUDO_PASSWORD: function() { return _('sudo on the server asks for a password.'); },
	NO_PPP_ANSWER: function() { return _('The server did not start PPP.'); },
	PPPD_MISSING: function(v) { return _('pppd is not installed on the router (%s).').format(val(v, 'path')); },
	NO_KERNEL_PPP: function(v) { return _('%s does not open: the kernel of the router has no PPP support.').format(val(v, 'device')); },
	NO_KERNEL_SUPPORT: function() { return _('The kernel of the router has no PPP support.'); },
	RUNDIR_UNWRITABLE: function() { return _('The router could not write its run directory (/var/run full or read-only).'); },
	PPP_DEVICE_DENIED: function(v) { return _('%s cannot be opened (%s).').format(val(v, 'device'), val(v, 'reason')); },
	ROUTE_THROUGH_TUNNEL: function(v) { return _('%s is routed through %s, the tunnel itself.').format(val(v, 'address'), val(v, 'device')); },
	HOSTDEP_NEEDED: function() { return _('"Use default gateway" is on and "Pin route to server" is off.'); },
	PEER_DEAD: function() { return _('The server stopped answering LCP echoes.'); },
	NEGOTIATION_FAILED: function() { return _('PPP negotiation with the server failed.'); },
	PEER_AUTH_FAILED: function() { return _('The pppd of the server failed the PAP/CHAP check of the router.'); },
	AUTH_TOPEER_FAILED: function() { return _('The pppd of the server refused the PAP/CHAP user name or password.'); },
	CONNECTION_LOST: function() { return _('The connection to the server was lost.'); },
	ADDRESS_REFUSED: function() { return _('The server refused the tunnel addresses.'); },
	HANGUP: function() { return _('The link hung up.'); },

	// server peers
	INVALID_PEER_NAME: function() { return _('A peer name is letters, digits, ".", "_" and "-" (not first), at most 32 characters.'); },
	INVALID_PEER_KEY: function() { return _('This is not an SSH public key line (type, key, optional comment).'); },
	INVALID_PEER_IP: function() { return _('Addresses are two IPv4 addresses, server:peer, or empty for the next free ones.'); },
	PEER_EXISTS: function(v, c) { return _('A peer named %s exists already.').format(c.name || '?'); },
	NO_PEER: function(v, c) { return _('There is no peer %s.').format(c.name || '?'); },
	DUPLICATE_KEY: function() { return _('Another peer has this key already: every router needs its own key.'); },
	POOL_EXHAUSTED: function() { return _('No free address is left in the pool of the server.'); },
	ADDRESS_IN_USE: function() { return _('These addresses belong to another peer.'); },
	INVALID_ROUTE: function() { return _('Routes are networks behind the peer, like 192.168.10.0/24: not a default route, not inside the pool.'); },
	INVALID_PEER_MODE: function() { return _('A peer\'s mode is ppp (the router uses proto pppossh) or tun (proto sshtun).'); },
	INVALID_PEER_UNIT: function() { return _('The unit of a tun or tap peer is the number of its device on the server, 0 to 255 (tun0 to tun255, tap0 to tap255).'); },
	UNIT_IN_USE: function() { return _('Another tun or tap peer has this unit on the server: leave the unit empty to get a free one.'); },
	NO_FREE_UNIT: function() { return _('All tun and tap units of the server are taken: remove a tun or tap peer first.'); },
	INVALID_PEER_BRIDGE: function() { return _('A bridge is for tap peers alone: give the name of a bridge device of the server (e.g. br0), and leave the addresses and routes empty, the peer takes its address from that network.'); },
	TUN_NEEDS_OPENSSH: function() { return _('Tun peers need OpenSSH\'s sshd on the server (dropbear carries no tun devices): set sshd to openssh in /etc/config/pppossh, or make the peer a ppp peer.'); },
	INVALID_PEER: function() { return _('A peer in /etc/config/pppossh is not valid: "pppossh peer list" on the router says which.'); },
	INVALID_REMOTE_PPPD: function() { return _('remote_pppd in /etc/config/pppossh must be the absolute path of pppd, optionally after "sudo -n".'); },
	INVALID_FORCED_COMMAND: function() { return _('A peer\'s command line would not be plain pppd: check remote_pppd and the peers in /etc/config/pppossh.'); },
	INVALID_AUTHORIZED_KEYS: function() { return _('authorized_keys in /etc/config/pppossh may only be dropbear\'s, root\'s or the pppossh account\'s file.'); },
	UNSAFE_PATH: function() { return _('The authorized_keys file, or a directory above it, can be changed by another user: pppossh will not write there.'); },
	INVALID_POOL: function() { return _('The address pool in /etc/config/pppossh is not an IPv4 network with room for peers.'); },
	INVALID_DNS: function() { return _('A DNS server in /etc/config/pppossh is not an IP address.'); },
	INVALID_SSHD: function() { return _('The SSH server kind in /etc/config/pppossh must be auto, dropbear or openssh.'); }
};

// the one thing to do, for the failures of a check step
var FIXES = {
	RESOLVE_FAILED: function() { return _('Check the server name and the DNS of the router.'); },
	TCP_REFUSED: function() { return _('Check the SSH port and that the SSH server runs.'); },
	TCP_NO_ROUTE: function() { return _('Check the uplink and the default route of the router.'); },
	TCP_TIMEOUT: function() { return _('Check the server address and any firewall on the way.'); },
	TCP_FAILED: function() { return _('Check the server address and the network.'); },
	HOSTKEY_NONE: function() { return _('The SSH server did not finish the key exchange; look at its log.'); },
	NOT_PINNED: function() { return _('Fetch the server key above, compare its fingerprint with the one the admin of the server gives you, and pin it.'); },
	HOSTKEY_MISMATCH: function() { return _('If the server really got a new key, pin it; otherwise someone may be in the middle.'); },
	HOSTKEY_UNKNOWN: function() { return _('Fetch the server key above and pin it.'); },
	JUMP_HOST_NOT_PINNED: function() { return _('Run "pppossh trust" for this interface on the router, which asks for every jump host\'s key, or add each jump host\'s known_hosts line under "Pinned jump host keys".'); },
	LOGIN_TIMEOUT: function() { return _('The server did not finish the login; look at its log.'); },
	AUTH_FAILED: function() { return _('Add the public key above to the server: "pppossh peer add" on a pppossh server, else the authorized_keys file of the user.'); },
	INVALID_IDENTITY: function() { return _('Generate a key for this interface above.'); },
	NO_IDENTITY: function() { return _('Generate a key for this interface above.'); },
	REMOTE_SILENT: function() { return _('The remote command does not speak PPP; a forced command in the authorized_keys of the server may run something else.'); },
	REMOTE_NOT_PPPD: function() { return _('The server ran something that is not pppd: check the remote pppd command and any forced command for this key on the server.'); },
	TERMINAL_REFUSED: function() { return _('The next attempt starts pppd on the server without one; set "Remote pppd on a terminal" off to start that way.'); },
	REMOTE_EXIT: function() { return _('Run the connection check: it shows the message of the server (sudo asking for a password, pppd refusing an option, a forced command that is not pppd).'); },
	REMOTE_PPPD_MISSING: function() { return _('Install pppd on the server, or set the remote pppd command.'); },
	REMOTE_NO_PPP: function() { return _('Load PPP on the server: modprobe ppp_generic ppp_async.'); },
	REMOTE_SUDO_PASSWORD: function() { return _('Let the user run pppd through sudo without a password (NOPASSWD).'); },
	PPPD_MISSING: function() { return _('Install pppd: opkg install ppp.'); },
	NO_KERNEL_PPP: function() { return _('Install kmod-ppp (OpenWrt), or load ppp_generic and ppp_async.'); },
	PPP_DEVICE_DENIED: function() { return _('pppossh must run as root.'); },
	NO_ROUTE: function() { return _('Check the uplink of the router.'); },
	ROUTE_THROUGH_TUNNEL: function() { return _('Turn "Pin route to server" on, or add a route to the server through the uplink.'); },
	HOSTDEP_NEEDED: function() { return _('Turn "Pin route to server" on: once the tunnel takes the default route, the SSH connection would follow it.'); },
	SSH_FAILED: function(c) { return _('Run "pppossh check %s" on the router to read the message of the SSH client.').format(c.iface); },
	RUNDIR_UNWRITABLE: function() { return _('Free space in /var/run (System > Processes shows what runs; a reboot empties it), then start the interface again.'); },
	NO_SSH_CLIENT: function() { return _('Install dropbear or openssh-client.'); },
	NO_MULTIHOP: function() { return _('Install openssh-client and set the SSH client to OpenSSH or automatic.'); },
	TUNNEL_DISABLED: function() { return _('On the server: "pppossh server-setup --apply" allows tunnels to its account; set up by hand, PermitTunnel point-to-point (tun), ethernet (tap) or yes for this user.'); },
	TUNNEL_BUSY: function() { return _('Another router uses the same server unit, or the server has not yet noticed this router\'s last session (a pppossh server ends it within about 12 s); pppossh tries again.'); },
	TUNNEL_NO_DEVICE: function() { return _('On the server: run "pppossh server-setup --apply", which makes the devices now and at boot.'); },
	TUNNEL_UNIT: function() { return _('Set the server\'s device unit (and link) to the one the key opens: "pppossh peer list" on the server shows it.'); },
	TUNNEL_DEVICE: function() { return _('On the server, the device must belong to the login user, and /dev/net/tun be open to it.'); },
	REMOTE_NOT_PPPOSSH: function() { return _('Add this router as a tun or tap peer on the server ("pppossh peer add --mode tun"), or use a login with a POSIX shell.'); },
	NO_LOCAL_TUN: function() { return _('Install kmod-tun.'); },
	TUN_DEVICE_DENIED: function() { return _('Run pppossh as root.'); }
};

var STEPS = {
	config: function() { return _('Settings'); },
	resolve: function() { return _('Server name'); },
	tcp: function() { return _('TCP connection'); },
	hostkey: function() { return _('Server key'); },
	auth: function() { return _('SSH login'); },
	remote_pppd: function() { return _('pppd on the server'); },
	local_ppp: function() { return _('pppd and PPP on the router'); },
	remote_device: function() { return _('Device on the server'); },
	local_tun: function() { return _('tun on the router'); },
	route: function() { return _('Route to the server'); }
};

// what a passed step saw
var PASSED = {
	config: function(v) { return _('%s as user %s, key %s').format(val(v, 'client'), val(v, 'user'), val(v, 'keys')); },
	resolve: function(v) { return _('%s is %s').format(val(v, 'server'), val(v, 'addresses')); },
	tcp: function(v) { return _('%s port %d answered in %d ms').format(val(v, 'address'), val(v, 'port'), val(v, 'ms')); },
	hostkey: function(v) { return _('%s key %s is pinned').format(val(v, 'type'), val(v, 'fingerprint')); },
	auth: function(v) {
		return (v && v.forced)
			? _('%s logged in (%.1f s); the server runs its own command for this key').format(val(v, 'user'), val(v, 'seconds'))
			: _('%s logged in (%.1f s)').format(val(v, 'user'), val(v, 'seconds'));
	},
	remote_pppd: function(v) { return _('"%s" answered with PPP (%.1f s)').format(val(v, 'command'), val(v, 'seconds')); },
	local_ppp: function(v) { return _('pppd %s, %s opens').format(val(v, 'version'), val(v, 'device')); },
	remote_device: function(v) { return _('%s is there and free').format(val(v, 'device')); },
	local_tun: function(v) { return _('%s opens').format(val(v, 'device')); },
	route: function(v) {
		return (v && Array.isArray(v.routes) ? v.routes : []).map(function(r) {
			return _('%s goes through %s, not through the tunnel').format(r.address, r.device);
		}).join('; ');
	}
};

var PHASES = {
	down: function() { return _('down'); },
	starting: function() { return _('starting'); },
	connecting: function() { return _('connecting'); },
	up: function() { return _('up'); },
	backoff: function() { return _('waiting to try again'); },
	failed: function() { return _('failed'); }
};

function errorText(c, values, ctx) {
	var fn = ERRORS[c];
	return fn ? fn(values || {}, ctx || {}) : _('The router reported an error.');
}

function rpcErrorText(err) {
	var m = /failed with error (-?\d+)/.exec(err && err.message || ''),
	    status = /failed with ubus code (\d+)/.exec(err && err.message || '');

	if (m && m[1] == '-32002')
		return _('Access denied: this login may not use pppossh (the luci-app-pppossh permission).');
	if (m && m[1] == '-32000')
		return _('The pppossh backend is not on the router (no rpcd object "pppossh"): install the pppossh package and restart rpcd.');
	if (m)
		return _('The call was refused (JSON-RPC error %s).').format(m[1]);
	if (status)
		return ubusText(+status[1]);
	if (/timed out/.test(err && err.message || ''))
		return _('The router did not answer within %d seconds.').format(L.env.rpctimeout || 20);
	return _('The router could not be reached.');
}

// a bare ubus status in place of a reply: the plugin did not answer properly (golden 31-36)
function ubusText(status) {
	switch (status) {
	case 5: return _('The pppossh backend gave no answer: it failed, or took longer than rpcd allows (30 seconds). The system log of the router (logread) says more.');
	case 2: return _('The pppossh backend gave an answer that is not JSON. The system log of the router (logread) says more.');
	case 3: return _('The pppossh backend on the router does not know this call: update the pppossh package.');
	default: return _('The call failed: %s (ubus status %d).').format(rpc.getStatusText(status), status);
	}
}

return baseclass.extend({
	// true for anything but a proper reply: an Error, a bare ubus status, { error: ... }
	failed: function(res) {
		return (res instanceof Error) || res == null || typeof(res) != 'object' || !!res.error;
	},

	// the words for a failed call: an Error (rejected promise), a number or an error object
	describe: function(res, ctx) {
		if (res instanceof Error)
			return [ rpcErrorText(res) ];
		if (res == null || typeof(res) != 'object')
			return [ ubusText(+res) ];
		return [ errorText(res.error, res.values, ctx), ' ', code(res.error) ];
	},

	// an inline message in the dialog, next to the button that caused it
	note: function(level, content, id) {
		return E('div', {
			'class': 'alert-message pppossh-msg ' + (level || 'danger'),
			'id': id || null,
			'role': 'status',
			'style': 'margin:.5em 0'
		}, Array.isArray(content) ? content : [ content ]);
	},

	stepTitle: function(name) {
		return STEPS[name] ? STEPS[name]() : name;
	},

	// { text, fix } of one check step
	step: function(s, ctx) {
		if (s.ok === true)
			return { text: PASSED[s.name] ? PASSED[s.name](s.values || {}) : '', fix: '' };
		if (s.ok === false) {
			var fix = FIXES[s.code];
			return {
				text: [ errorText(s.code, s.values, ctx), ' ', code(s.code) ],
				fix: fix ? fix(ctx || {}) : _('Run "pppossh check %s" on the router for details.').format((ctx || {}).iface)
			};
		}
		return { text: _('not run'), fix: '' };
	},

	phase: function(name) {
		return PHASES[name] ? PHASES[name]() : name;
	},

	lastError: function(err, ctx) {
		return [ errorText(err.code, err.values, ctx), ' ', code(err.code) ];
	}
});
