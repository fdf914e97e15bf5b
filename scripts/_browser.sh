# Sourced by scripts/test and .ci/run: Debian's Chromium for the browser tests (Playwright drives
# /usr/bin/chromium; it never downloads a browser of its own), installed when missing and this
# machine can (root with apt-get). Where it cannot, tests/test_demo_browser.py says why it skips.
_missing=()
[ -x /usr/bin/chromium ] || _missing+=(chromium)
# Colour emoji in the page's screenshots (the bot's ✅ 🆕 ⭐); the tests do not depend on it.
[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || _missing+=(fonts-noto-color-emoji)
# And nginx, for tests/test_deploy_files.py's `nginx -t` on deploy/nginx.conf (it skips without).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || _missing+=(nginx-light)
command -v openssl >/dev/null 2>&1 || _missing+=(openssl)
if [ ${#_missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${_missing[*]} (Debian packages) for the browser and deploy tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${_missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "${_missing[@]}" >/dev/null 2>&1; } \
    || echo "could not install ${_missing[*]}; the browser tests will say so" >&2
fi
unset _missing
