"""Static files storage for production: hashed names, gzip copies, and JavaScript modules that import hashed names.

WhiteNoise's CompressedManifestStaticFilesStorage rewrites `url(...)` in CSS but,
like Django's, leaves `import … from "./x.js"` alone unless asked. Without the
rewrite `app.<hash>.js` would import the unhashed `./socket.js`, which browsers
may keep from an older deploy; with it every module is pinned to its own version.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ChatStaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
