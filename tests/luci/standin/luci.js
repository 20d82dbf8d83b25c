/*
 * LuCI stand-in for the pppossh browser tests: the client runtime.
 *
 * Follows openwrt/luci modules/luci-base/htdocs/luci-static/resources/luci.js (LuCI.Class
 * with extend/singleton/instantiate/isSubclass/super, L.require and the way it compiles a
 * class file: the leading 'require name [as alias]'; strings are read, the dependencies
 * loaded, and the file body becomes the body of a factory function(window, document, L,
 * dep...) whose returned class is instantiated once; L.bind, L.toArray, L.isObject,
 * L.resolveDefault, L.raise, L.error, L.env, L.url/L.resource, LuCI.Request, LuCI.Poll
 * ('require poll'), LuCI.dom ('require dom') and LuCI.view ('require view'), plus the
 * globals E(), _(), N_() and String.prototype.format of luci.js/cbi.js.  LuCI.Request
 * queues POSTs of objects to the rpc base URL and sends what was queued in one animation
 * frame as one JSON array, as LuCI does (the batches of golden 43); every URL gets the time
 * as query string unless cache is set.  L.env comes from /luci-env.js (tests/luci/server.py),
 * as LuCI gets it from its page header: sessionid, ubuspath /ubus/, rpctimeout 20.
 *
 * Only what luci-app/.../protocol/pppossh.js and view/pppossh/peers.js (and the other
 * stand-in modules) use is implemented.  Written from LuCI's documented behaviour, not
 * copied.  Test hooks (not in LuCI): window.__luciErrors collects uncaught errors.
 */
(function(window, document) {
	'use strict';

	/* ---- String.prototype.format: the sprintf subset LuCI provides ------------------ */

	var htmlEscapes = { '&': '&#38;', '"': '&#34;', "'": '&#39;', '<': '&#60;', '>': '&#62;' };

	function escapeWith(value, chars) {
		if (typeof(value) != 'string' && !(value instanceof String))
			return '';
		return String(value).replace(chars, function(c) { return htmlEscapes[c]; });
	}

	/* %t as LuCI prints it: seconds as [Dd ]Hh Mm Ss */
	function interval(total) {
		var s = Math.floor(total), d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24,
		    m = Math.floor(s / 60) % 60;
		s = s % 60;
		return (d > 0 ? d + 'd ' : '') + h + 'h ' + m + 'm ' + s + 's';
	}

	String.prototype.format = function() {
		var fmt = String(this), out = '', argi = 0, args = arguments,
		    spec = /%(?:'(.)|(0| ))?(-)?(\d+)?(\.\d+)?([%bcdufosxXqhtm])/g,
		    last = 0, m;

		while ((m = spec.exec(fmt)) !== null) {
			var pad = (m[1] != null) ? m[1] : (m[2] != null ? m[2] : ' '),
			    left = (m[3] === '-'), width = m[4] ? +m[4] : 0,
			    prec = m[5] ? +m[5].substring(1) : -1, type = m[6], value;

			out += fmt.substring(last, m.index);
			last = spec.lastIndex;

			if (type == '%') {
				out += '%';
				continue;
			}

			if (argi >= args.length) {
				/* LuCI leaves specifiers without an argument in place */
				out += m[0];
				continue;
			}

			var arg = args[argi++];

			switch (type) {
			case 'b': value = (+arg || 0).toString(2); break;
			case 'c': value = String.fromCharCode(+arg || 0); break;
			case 'd': value = String(~~(+arg || 0)); break;
			case 'u': value = String(~~Math.abs(+arg || 0)); break;
			case 'f': value = (prec > -1) ? (+arg || 0).toFixed(prec) : String(+arg || 0); break;
			case 'o': value = (+arg || 0).toString(8); break;
			case 'x': value = (+arg || 0).toString(16).toLowerCase(); break;
			case 'X': value = (+arg || 0).toString(16).toUpperCase(); break;
			case 'h': value = escapeWith(arg, /[&"'<>]/g); break;
			case 'q': value = escapeWith(arg, /["']/g); break;
			case 't': value = interval(+arg || 0); break;
			case 'm': value = String(+arg || 0); break;
			default:  value = String(arg);
			}

			while (value.length < width)
				value = left ? value + ' ' : pad + value;

			out += value;
		}

		return out + fmt.substring(last);
	};

	String.format = function(fmt) {
		return String.prototype.format.apply(fmt, Array.prototype.slice.call(arguments, 1));
	};

	/* ---- LuCI.Class ----------------------------------------------------------------- */

	var classCounter = 0;

	function ownerOf(proto, key) {
		while (proto != null && !Object.prototype.hasOwnProperty.call(proto, key))
			proto = Object.getPrototypeOf(proto);
		return proto;
	}

	var Class = Object.assign(function() {}, {
		extend: function(properties) {
			var Parent = this,
			    descriptors = {
				__id__: { value: classCounter },
				__base__: { value: Parent.prototype },
				__name__: { value: properties.__name__ || 'anonymous' + classCounter++ }
			    };

			var Ctor = function() {
				if (!(this instanceof Ctor))
					throw new TypeError('Constructor must not be called without "new"');

				/* the nearest __init__ up the chain does the work */
				var owner = ownerOf(Object.getPrototypeOf(this), '__init__');
				if (owner && typeof(owner.__init__) == 'function')
					owner.__init__.apply(this, arguments);
			};

			for (var key in properties)
				if (!descriptors[key] && Object.prototype.hasOwnProperty.call(properties, key))
					descriptors[key] = { value: properties[key], writable: true };

			Ctor.prototype = Object.create(Parent.prototype, descriptors);
			Ctor.prototype.constructor = Ctor;
			Object.assign(Ctor, Parent);
			Ctor.displayName = descriptors.__name__.value;

			return Ctor;
		},

		singleton: function(properties) {
			return Class.extend(properties).instantiate(Array.prototype.slice.call(arguments, 1));
		},

		instantiate: function(args) {
			var Self = this;
			return new (Function.prototype.bind.apply(Self, [ null ].concat(Array.prototype.slice.call(args || []))))();
		},

		isSubclass: function(value) {
			return (typeof(value) == 'function' && value.prototype instanceof this);
		},

		prototype: {
			varargs: function(args, offset) {
				return Array.prototype.slice.call(arguments, 2)
					.concat(Array.prototype.slice.call(args, offset));
			},

			/* call or fetch the next implementation of `key` above the running one */
			super: function(key, callArgs) {
				if (key == null)
					return null;

				var stacks = this.__superstack__;
				if (!stacks) {
					stacks = {};
					Object.defineProperty(this, '__superstack__', { value: stacks });
				}

				var stack = stacks[key] || (stacks[key] = []),
				    current = ownerOf(stack.length ? stack[stack.length - 1] : Object.getPrototypeOf(this), key),
				    above = current ? ownerOf(Object.getPrototypeOf(current), key) : null;

				if (above == null)
					return null;

				if (arguments.length < 2)
					return above[key];

				if (typeof(above[key]) != 'function')
					throw new ReferenceError(key + ' is not a function in base class');

				if (typeof(callArgs) != 'object')
					callArgs = this.varargs(arguments, 1);

				stack.push(above);
				try {
					return above[key].apply(this, callArgs);
				}
				finally {
					stack.pop();
				}
			},

			toString: function() {
				return '[' + this.constructor.displayName + ']';
			}
		}
	});

	/* ---- LuCI.Request: XMLHttpRequest in a promise, rpc calls queued ------------------ */

	var Response = Class.extend({
		__name__: 'LuCI.Response',
		__init__: function(xhr, url, duration, content) {
			this.ok = (xhr.status >= 200 && xhr.status <= 299);
			this.status = xhr.status;
			this.statusText = xhr.statusText;
			this.duration = duration;
			this.url = url;
			this.xhr = xhr;
			this.responseJSON = (content != null && typeof(content) == 'object') ? content : null;
			this.responseText = (this.responseJSON != null) ? null : xhr.responseText;
		},
		clone: function(content) {
			return new Response(this.xhr, this.url, this.duration, content);
		},
		json: function() {
			if (this.responseJSON == null)
				this.responseJSON = JSON.parse(this.responseText);
			return this.responseJSON;
		},
		text: function() {
			return (this.responseText != null) ? this.responseText : JSON.stringify(this.responseJSON);
		}
	});

	/*
	 * As in LuCI: a POST of an object to the rpc base URL (no nobatch option) is not sent
	 * at once but queued; at the next animation frame everything queued goes out as ONE
	 * JSON array to the base URL (golden 43), and each caller gets its own element of the
	 * array in reply, or an Error when the reply is not an array long enough.
	 */
	var queued = [];

	function queueable(opt) {
		var rpc = classes.rpc;

		if (!rpc || typeof(rpc.getBaseURL) != 'function' || opt.nobatch === true)
			return false;

		if (opt.method != 'POST' || opt.content == null || typeof(opt.content) != 'object')
			return false;

		return opt.url.indexOf(Request.expandURL(rpc.getBaseURL())) == 0;
	}

	function flushQueue() {
		if (!queued.length)
			return;

		var batch = queued.splice(0, queued.length),
		    first = batch[0].opt,
		    opt = { method: 'POST', nobatch: true, timeout: first.timeout,
		            content: batch.map(function(q) { return q.opt.content; }) };

		Request.request(classes.rpc.getBaseURL(), opt).then(function(res) {
			var replies = null;
			try { replies = res.json(); } catch (e) { }

			batch.forEach(function(q) {
				if (Array.isArray(replies) && replies.length)
					q.resolve(res.clone(replies.shift()));
				else
					q.reject(new Error('No related RPC reply'));
			});
		}, function(err) {
			batch.forEach(function(q) { q.reject(err); });
		});
	}

	var Request = Class.singleton({
		__name__: 'LuCI.Request',

		expandURL: function(url) {
			return /^(?:[^/]+:)?\/\//.test(url) ? url : location.protocol + '//' + location.host + url;
		},

		request: function(target, options) {
			var opt = Object.assign({ method: 'GET' }, options),
			    started = Date.now();

			opt.method = String(opt.method).toUpperCase();
			opt.url = this.expandURL(target);

			return new Promise(function(resolveFn, rejectFn) {
				var xhr = new XMLHttpRequest(), body = null;

				if (opt.query != null) {
					var q = Object.keys(opt.query).map(function(k) {
						var v = opt.query[k];
						return encodeURIComponent(k) + '=' + encodeURIComponent(typeof(v) == 'object' ? JSON.stringify(v) : String(v));
					}).join('&');
					if (q)
						opt.url += (opt.url.indexOf('?') > -1 ? '&' : '?') + q;
				}

				/* LuCI keeps caches out with the time as query string */
				if (!opt.cache)
					opt.url += (opt.url.indexOf('?') > -1 ? '&' : '?') + Date.now();

				if (queueable(opt)) {
					queued.push({ opt: opt, resolve: resolveFn, reject: rejectFn });
					window.requestAnimationFrame(flushQueue);
					return;
				}

				xhr.open(opt.method, opt.url, true);
				xhr.responseType = 'text';

				if (opt.timeout != null)
					xhr.timeout = +opt.timeout;

				if (opt.content != null) {
					if (typeof(opt.content) == 'object') {
						body = JSON.stringify(opt.content);
						xhr.setRequestHeader('Content-Type', 'application/json');
					}
					else {
						body = String(opt.content);
					}
				}

				xhr.onreadystatechange = function() {
					if (xhr.readyState !== 4)
						return;

					var took = Date.now() - started;

					if (xhr.status === 0)
						rejectFn(new Error((opt.timeout && took >= opt.timeout)
							? 'XHR request timed out' : 'XHR request aborted by browser'));
					else
						resolveFn(new Response(xhr, xhr.responseURL || opt.url, took));
				};

				try {
					xhr.send(body);
				}
				catch (e) {
					rejectFn(e);
				}
			});
		},

		get: function(url, options) {
			return this.request(url, Object.assign({ method: 'GET' }, options));
		},

		post: function(url, data, options) {
			return this.request(url, Object.assign({ method: 'POST', content: data }, options));
		}
	});

	/* ---- LuCI.Poll: one 1 s timer running registered functions every n ticks -------- */

	var Poll = Class.singleton({
		__name__: 'LuCI.Poll',

		queue: [],

		add: function(fn, interval) {
			if (interval == null || interval <= 0)
				interval = window.L ? window.L.env.pollinterval : null;

			if (isNaN(interval) || typeof(fn) != 'function')
				throw new TypeError('Invalid argument to LuCI.Poll.add()');

			for (var i = 0; i < this.queue.length; i++)
				if (this.queue[i].fn === fn)
					return false;

			this.queue.push({ fn: fn, every: interval >>> 0, idle: true });

			/* once the page started polling, a late registration restarts the loop */
			if (this.tick != null && !this.active())
				this.start();

			return true;
		},

		remove: function(fn) {
			if (typeof(fn) != 'function')
				throw new TypeError('Invalid argument to LuCI.Poll.remove()');

			var before = this.queue.length;
			this.queue = this.queue.filter(function(e) { return e.fn !== fn; });

			if (!this.queue.length && this.stop())
				this.tick = 0;

			return this.queue.length != before;
		},

		start: function() {
			if (this.active())
				return false;

			this.tick = 0;

			if (this.queue.length) {
				this.timer = window.setInterval(this.step, 1000);
				this.step();
				document.dispatchEvent(new CustomEvent('poll-start'));
			}

			return true;
		},

		stop: function() {
			if (!this.active())
				return false;

			window.clearInterval(this.timer);
			delete this.timer;
			delete this.tick;
			document.dispatchEvent(new CustomEvent('poll-stop'));
			return true;
		},

		step: function() {
			Poll.queue.forEach(function(e) {
				if ((Poll.tick % e.every) != 0 || !e.idle)
					return;

				e.idle = false;
				Promise.resolve(e.fn()).finally(function() { e.idle = true; });
			});

			Poll.tick = (Poll.tick + 1) % 4294967296;
		},

		active: function() {
			return (this.timer != null);
		}
	});

	/* ---- LuCI.dom ------------------------------------------------------------------- */

	var domParser = null;

	var DOM = Class.singleton({
		__name__: 'LuCI.dom',

		registry: {},

		elem: function(e) {
			return (e != null && typeof(e) == 'object' && 'nodeType' in e);
		},

		parse: function(html) {
			domParser = domParser || new DOMParser();
			return domParser.parseFromString(html, 'text/html').body.firstChild || null;
		},

		matches: function(node, selector) {
			return this.elem(node) && typeof(node.matches) == 'function' ? node.matches(selector) : false;
		},

		parent: function(node, selector) {
			return (this.elem(node) && node.closest) ? node.closest(selector) : null;
		},

		/*
		 * LuCI's rules: an array adds each item (nodes as they are, anything else as a text
		 * node, null included), a function is called with the node, a node is appended, and
		 * any other value is assigned to innerHTML.
		 */
		append: function(node, children) {
			if (!this.elem(node))
				return null;

			if (Array.isArray(children)) {
				for (var i = 0; i < children.length; i++)
					node.appendChild(this.elem(children[i]) ? children[i] : document.createTextNode('' + children[i]));
				return node.lastChild;
			}

			if (typeof(children) == 'function')
				return this.append(node, children(node));

			if (this.elem(children))
				return node.appendChild(children);

			if (children != null) {
				node.innerHTML = '' + children;
				return node.lastChild;
			}

			return null;
		},

		content: function(node, children) {
			if (!this.elem(node))
				return null;

			var self = this;
			node.querySelectorAll('[data-idref]').forEach(function(n) {
				delete self.registry[n.getAttribute('data-idref')];
			});

			while (node.firstChild)
				node.removeChild(node.firstChild);

			return this.append(node, children);
		},

		attr: function(node, key, val) {
			if (!this.elem(node))
				return null;

			var attrs = {};
			if (typeof(key) == 'object' && key !== null)
				attrs = key;
			else if (typeof(key) == 'string')
				attrs[key] = val;

			Object.keys(attrs).forEach(function(k) {
				var v = attrs[k];
				if (v == null)
					return;
				if (typeof(v) == 'function')
					node.addEventListener(k, v);
				else if (typeof(v) == 'object')
					node.setAttribute(k, JSON.stringify(v));
				else
					node.setAttribute(k, v);
			});
		},

		create: function(html, attr, data) {
			var node;

			if (!(attr instanceof Object) || Array.isArray(attr)) {
				data = attr;
				attr = null;
			}

			if (Array.isArray(html)) {
				node = document.createDocumentFragment();
				for (var i = 0; i < html.length; i++)
					node.appendChild(this.create(html[i]));
			}
			else if (this.elem(html)) {
				node = html;
			}
			else if (html.charAt(0) == '<') {
				node = this.parse(html);
			}
			else {
				node = document.createElement(html);
			}

			if (!node)
				return null;

			this.attr(node, attr);
			this.append(node, data);

			return node;
		},

		data: function(node, key, val) {
			if (!node || !node.getAttribute)
				return null;

			var id = node.getAttribute('data-idref');

			if (arguments.length > 1 && key == null) {
				if (id == null)
					return null;
				node.removeAttribute('data-idref');
				val = this.registry[id];
				delete this.registry[id];
				return val;
			}

			if (arguments.length > 2) {
				if (val == null) {
					if (id == null || !this.registry[id])
						return null;
					val = this.registry[id][key];
					delete this.registry[id][key];
					return val;
				}

				if (id == null) {
					do { id = Math.floor(Math.random() * 0xffffffff).toString(16); }
					while (Object.prototype.hasOwnProperty.call(this.registry, id));
					node.setAttribute('data-idref', id);
					this.registry[id] = {};
				}

				return (this.registry[id][key] = val);
			}

			if (id == null || !this.registry[id])
				return null;

			return (arguments.length == 1) ? this.registry[id] : this.registry[id][key];
		},

		bindClassInstance: function(node, inst) {
			if (!(inst instanceof Class))
				L.error('TypeError', 'Argument must be a class instance');

			return this.data(node, '_class', inst);
		},

		findClassInstance: function(node) {
			var inst = null;

			while (node != null) {
				inst = this.data(node, '_class');
				if (inst instanceof Class)
					return inst;
				node = node.parentNode;
			}

			return inst;
		},

		callClassMethod: function(node, method) {
			var inst = this.findClassInstance(node);

			if (inst == null || typeof(inst[method]) != 'function')
				return null;

			return inst[method].apply(inst, Array.prototype.slice.call(arguments, 2));
		},

		isEmpty: function(node, ignoreFn) {
			for (var child = node.firstElementChild; child != null; child = child.nextElementSibling)
				if (!child.classList.contains('hidden') && (!ignoreFn || !ignoreFn(child)))
					return false;

			return true;
		}
	});

	/* ---- LuCI.view ------------------------------------------------------------------ */

	var View = Class.extend({
		__name__: 'LuCI.view',

		__init__: function() {
			var vp = document.getElementById('view');

			DOM.content(vp, E('div', { 'class': 'spinning' }, [ _('Loading view…') ]));

			/* as in LuCI the constructor does not wait: load, render, insert, add the footer */
			Promise.resolve(this.load())
				.then(L.bind(this.render, this))
				.then(L.bind(function(nodes) {
					var target = document.getElementById('view');
					DOM.content(target, nodes);
					DOM.append(target, this.addFooter());
				}, this))
				.catch(L.error);
		},

		load: function() {},
		render: function() {},

		handleSave: function(ev) {
			var tasks = [];
			document.getElementById('maincontent').querySelectorAll('.cbi-map').forEach(function(map) {
				tasks.push(DOM.callClassMethod(map, 'save'));
			});
			return Promise.all(tasks);
		},

		handleSaveApply: function(ev) {
			return this.handleSave(ev);
		},

		handleReset: function(ev) {
			var tasks = [];
			document.getElementById('maincontent').querySelectorAll('.cbi-map').forEach(function(map) {
				tasks.push(DOM.callClassMethod(map, 'reset'));
			});
			return Promise.all(tasks);
		},

		addFooter: function() {
			var footer = E([]);

			if (!this.handleSave && !this.handleSaveApply && !this.handleReset)
				return footer;

			footer.appendChild(E('div', { 'class': 'cbi-page-actions' }, [
				this.handleSaveApply ? E('button', { 'class': 'cbi-button cbi-button-apply',
					'click': L.ui.createHandlerFn(this, 'handleSaveApply') }, [ _('Save & Apply') ]) : '', ' ',
				this.handleSave ? E('button', { 'class': 'cbi-button cbi-button-save',
					'click': L.ui.createHandlerFn(this, 'handleSave') }, [ _('Save') ]) : '', ' ',
				this.handleReset ? E('button', { 'class': 'cbi-button cbi-button-reset',
					'click': L.ui.createHandlerFn(this, 'handleReset') }, [ _('Reset') ]) : ''
			]));

			return footer;
		}
	});

	/* ---- L -------------------------------------------------------------------------- */

	/* modules luci.js provides itself ('require baseclass', 'require dom', ...) */
	var classes = {
		baseclass: Class,
		dom: DOM,
		poll: Poll,
		request: Request,
		view: View
	};

	var LuCI = Class.extend({
		__name__: 'LuCI',

		__init__: function(env) {
			var script = document.querySelector('script[src$="/luci.js"]');

			this.env = Object.assign({
				base_url: script ? script.getAttribute('src').replace(/\/luci\.js$/, '') : '/luci-static/resources',
				resource: '/luci-static/resources',
				scriptname: '/cgi-bin/luci',
				pollinterval: 5,
				sessionid: '00000000000000000000000000000000',
				ubuspath: '/ubus/',
				rpctimeout: 20
			}, env);
		},

		Class: Class,
		Poll: Poll,
		Request: Request,
		dom: DOM,
		view: View,

		raise: function(type, fmt) {
			var message = fmt ? String.prototype.format.apply(fmt, this.varargs(arguments, 2)) : null,
			    err;

			if (type instanceof Error) {
				err = type;
				if (message)
					err.message = message + ': ' + err.message;
			}
			else {
				err = new (window[type || 'Error'] || Error)(message || 'Unspecified error');
				err.name = type || 'Error';
			}

			throw err;
		},

		error: function(type, fmt) {
			try {
				L.raise.apply(L, Array.prototype.slice.call(arguments));
			}
			catch (e) {
				if (!e.reported) {
					window.__luciErrors.push(String(e && e.message || e));

					if (L.ui)
						L.ui.addNotification(e.name || _('Runtime error'), E('pre', {}, [ e.message ]), 'danger');
					else
						DOM.content(document.querySelector('#maincontent') || document.body,
							E('pre', { 'class': 'alert-message error' }, [ e.message ]));

					e.reported = true;
				}

				throw e;
			}
		},

		bind: function(fn, self) {
			return Function.prototype.bind.apply(fn, this.varargs(arguments, 2, self));
		},

		isObject: function(val) {
			return (val != null && typeof(val) == 'object');
		},

		toArray: function(val) {
			if (val == null)
				return [];
			if (Array.isArray(val))
				return val;          /* the very same array, as in LuCI */
			if (typeof(val) == 'object')
				return [ val ];

			var s = String(val).trim();
			return (s == '') ? [] : s.split(/\s+/);
		},

		resolveDefault: function(value, defvalue) {
			return Promise.resolve(value).catch(function() { return defvalue; });
		},

		path: function(prefix, parts) {
			var url = [ prefix || '' ];

			for (var i = 0; i < parts.length; i++)
				if (/^(?:[a-zA-Z0-9_.%,;-]+\/)*[a-zA-Z0-9_.%,;-]+$/.test(parts[i]))
					url.push('/', parts[i]);

			if (url.length === 1)
				url.push('/');

			return url.join('');
		},

		url: function() {
			return this.path(this.env.scriptname, arguments);
		},

		resource: function() {
			return this.path(this.env.resource, arguments);
		},

		/*
		 * Load a class file once: read the leading string statements ('use strict',
		 * 'require name', 'require name as alias'), stopping at the first other string,
		 * load those dependencies, turn the source into the body of
		 * function(window, document, L, dep...) and instantiate the class it returns.
		 */
		require: function(name, from) {
			var self = this;

			from = from || [];

			if (classes[name] != null) {
				if (from.indexOf(name) != -1)
					self.raise('DependencyError', 'Circular dependency: class "%s" depends on "%s"',
						name, from.join('" which depends on "'));

				return Promise.resolve(classes[name]);
			}

			var url = '%s/%s.js'.format(self.env.base_url, name.replace(/\./g, '/'));

			from = [ name ].concat(from);

			classes[name] = Request.get(url).then(function(res) {
				if (!res.ok)
					self.raise('NetworkError', 'HTTP error %d while loading class file "%s"', res.status, url);

				var source = res.text(),
				    header = leadingStrings(source),
				    names = [],
				    deps = [];

				for (var i = 0; i < header.length; i++) {
					var req = /^require[ \t]+(\S+)(?:[ \t]+as[ \t]+([a-zA-Z_]\S*))?$/.exec(header[i]);

					if (req) {
						names.push(req[2] || req[1].replace(/[^a-zA-Z0-9_]/g, '_'));
						deps.push(self.require(req[1], from));
					}
					else if (!/^use[ \t]+strict$/.test(header[i])) {
						break;
					}
				}

				return Promise.all(deps).then(function(instances) {
					var factory, cls;

					try {
						/* direct eval, so the class body is compiled the way LuCI compiles it */
						factory = eval('(function(window, document, L' + names.map(function(n) { return ', ' + n; }).join('') +
							') { ' + source + '\n})\n//# sourceURL=' + url + '\n');
					}
					catch (e) {
						self.raise('SyntaxError', '%s\n  in %s', e.message, url);
					}

					cls = factory.apply(factory, [ window, document, self ].concat(instances));

					if (!Class.isSubclass(cls))
						self.error('TypeError', '"%s" factory yields invalid constructor', name);

					var instance = new cls();

					/* like LuCI: L.ui, L.uci, ... point at the loaded singletons */
					if (name.indexOf('.') == -1)
						Object.getPrototypeOf(self)[name] = instance;

					classes[name] = instance;
					return instance;
				});
			});

			return classes[name];
		}
	});

	/*
	 * The string literals a class file starts with, in order, as LuCI scans them: every
	 * quoted string from the top, whatever is between them, up to the first one that is
	 * neither 'use strict' nor a require (the caller stops there).
	 */
	function leadingStrings(source) {
		var found = [], quote = null, start = -1;

		for (var i = 0; i < source.length; i++) {
			var c = source.charAt(i);

			if (quote == null) {
				if (c == '"' || c == "'") {
					quote = c;
					start = i + 1;
				}
			}
			else if (c == '\\') {
				i++;
			}
			else if (c == quote) {
				var s = source.substring(start, i);
				found.push(s);
				quote = null;

				if (!/^require[ \t]+\S+/.test(s) && !/^use[ \t]+strict$/.test(s))
					break;
			}
		}

		return found;
	}

	window.__luciErrors = [];

	window.addEventListener('error', function(ev) {
		window.__luciErrors.push(String(ev.message));
	});

	window.addEventListener('unhandledrejection', function(ev) {
		var r = ev.reason;
		window.__luciErrors.push('unhandled rejection: ' + String(r && r.message || r));
	});

	var L = new LuCI(window.LUCI_ENV || {});

	window.L = L;
	window.LuCI = LuCI;

	window.E = function() {
		return DOM.create.apply(DOM, arguments);
	};

	/*
	 * No translations here: _() and N_(n, singular, plural) return the source string.  Test
	 * hook, not in LuCI: with L.env.pseudo_i18n every string they give is wrapped in
	 * U+27E6 .. U+27E7, so a test can tell text that went through them from text that did not.
	 */
	window._ = function(s) {
		return (L.env.pseudo_i18n && s != null) ? '\u27e6' + s + '\u27e7' : s;
	};
	window.N_ = function(n, s, p) { return window._((n == 1) ? s : p); };

	/* CustomEvent exists in every browser these tests run in */
})(window, document);
