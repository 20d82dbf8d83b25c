/*
 * LuCI stand-in for the pppossh browser tests: LuCI.rpc.
 *
 * Follows openwrt/luci modules/luci-base/htdocs/luci-static/resources/rpc.js:
 * rpc.declare({ object, method, params, expect, filter, reject }) returns a function whose
 * positional arguments become the named ubus arguments (extra ones go to the filter), that
 * POSTs a JSON-RPC 2.0 call frame [ sessionid, object, method, args ] and resolves with
 * the ubus reply: result [ 0, data ] gives data, a bare [ code ] gives the code (unless
 * reject is set), expect picks and type-checks one key of the reply.  Requests time out
 * after L.env.rpctimeout seconds (20 by default, as in LuCI), and a JSON-RPC error (such
 * as Access denied) rejects the promise, as in LuCI.
 *
 * Not here: batching of concurrent calls into one HTTP request, rpc.list(), interceptors.
 * The endpoint is L.env.rpcBaseURL (/rpc, served by tests/luci/server.py).
 *
 * No quote characters in this comment: the class loader scans quoted strings from the top.
 */
'use strict';
'require baseclass';
'require request';

var requestID = 1;

function replyValue(req, msg) {
	var ret = null;

	if (!L.isObject(msg) || msg.jsonrpc != '2.0')
		L.raise('RPCError', 'RPC call to %s/%s returned invalid message frame', req.object, req.method);

	if (L.isObject(msg.error) && msg.error.code && msg.error.message)
		L.raise('RPCError', 'RPC call to %s/%s failed with error %d: %s',
			req.object, req.method, msg.error.code, msg.error.message);

	if (Array.isArray(msg.result)) {
		if (req.raise && msg.result[0] !== 0)
			L.raise('RPCError', 'RPC call to %s/%s failed with ubus code %d: %s',
				req.object, req.method, msg.result[0], statusText(msg.result[0]));

		ret = (msg.result.length > 1) ? msg.result[1] : msg.result[0];
	}

	if (req.expect) {
		for (var key in req.expect) {
			if (ret != null && key != '')
				ret = ret[key];

			if (ret == null || Object.prototype.toString.call(ret) != Object.prototype.toString.call(req.expect[key]))
				ret = req.expect[key];

			break;
		}
	}

	if (typeof(req.filter) == 'function') {
		req.priv[0] = ret;
		req.priv[1] = req.params;
		ret = req.filter.apply(null, req.priv);
	}

	return ret;
}

function statusText(code) {
	return [ 'Command OK', 'Invalid command', 'Invalid argument', 'Method not found',
	         'Resource not found', 'No data received', 'Permission denied', 'Request timeout',
	         'Not supported', 'Unspecified error', 'Connection lost' ][code] || 'Unknown error code';
}

return baseclass.extend({
	declare: function(options) {
		return function() {
			var args = Array.prototype.slice.call(arguments),
			    params = {},
			    priv = [ undefined, undefined ],
			    n = 0;

			if (Array.isArray(options.params))
				for (n = 0; n < options.params.length; n++)
					params[options.params[n]] = args[n];

			for (; n < args.length; n++)
				priv.push(args[n]);

			var req = {
				object: options.object,
				method: options.method,
				expect: options.expect,
				filter: options.filter,
				raise: options.reject,
				params: params,
				priv: priv
			};

			var frame = {
				jsonrpc: '2.0',
				id: requestID++,
				method: 'call',
				params: [ L.env.sessionid, options.object, options.method, params ]
			};

			return request.post(L.env.rpcBaseURL, frame, {
				timeout: (L.env.rpctimeout || 20) * 1000
			}).then(function(res) {
				if (!res.ok)
					L.raise('RPCError', 'RPC call to %s/%s failed with HTTP error %d: %s',
						req.object, req.method, res.status, res.statusText || '?');

				return replyValue(req, res.json());
			});
		};
	},

	getStatusText: statusText,

	getSessionID: function() {
		return L.env.sessionid;
	},

	getBaseURL: function() {
		return L.env.rpcBaseURL;
	},

	setBaseURL: function(url) {
		L.env.rpcBaseURL = url;
	}
});
